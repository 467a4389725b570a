/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Statistics (`x <<< v`, @count ... @variance, @hist_log, @hist_linear) for vm/tapvm.bpf.c.
 * Each statistic is an element of a per-CPU hash map: a handler updates its own CPU's copy
 * without atomics, and readers add the copies up, as stap's _stp_stat_add/_stp_stat_get do
 * (runtime/stat-common.c, runtime/stat.c; the variance is their integer Welford per CPU,
 * combined across CPUs with the total-variance formula). src/vm/stats.ts is the same in
 * TypeScript.
 */
#ifndef TAPVM_STATS_H
#define TAPVM_STATS_H

#include "tapvm.h"

enum { HIST_NONE = 0, HIST_LOG = 1, HIST_LINEAR = 2 };
enum { STAT_EMPTY = 1, STAT_RANGE = 2 };	/* stat_read()'s failures */
enum { AGG_COUNT = 0, AGG_SUM = 1, AGG_MIN = 2, AGG_MAX = 3, AGG_AVG = 4, AGG_VARIANCE = 5 };

/* A signed 64-bit division as stap's _stp_div64: 0 for a zero divisor. BPF divides unsigned. */
static __always_inline __s64 sdiv64(__s64 x, __s64 y)
{
	__u64 ux, uy, q;

	if (y == 0)
		return 0;
	ux = x < 0 ? -(__u64)x : (__u64)x;
	uy = y < 0 ? -(__u64)y : (__u64)y;
	q = ux / uy;
	return ((x < 0) != (y < 0)) ? -(__s64)q : (__s64)q;
}

/* stap's _stp_val_to_bucket: 64 + bit length of |v| for v > 0, mirrored below 64 for v < 0. */
static __always_inline __u32 log_bucket(__s64 v)
{
	__u64 u, t;
	__u32 n = 0;

	if (v == 0)
		return STAT_LOG_BUCKET0;
	u = v < 0 ? -(__u64)v : (__u64)v;
	/* a binary search without branches (each one doubled the verifier's paths):
	 * t = (x + 2^k - 1) >> k is 1 when x = u >> k is non-zero (x < 2^k, no overflow) */
	t = ((u >> 32) + 0xffffffffULL) >> 32 << 5; n += t; u >>= t;
	t = ((u >> 16) + 0xffffULL) >> 16 << 4; n += t; u >>= t;
	t = ((u >> 8) + 0xffULL) >> 8 << 3; n += t; u >>= t;
	t = ((u >> 4) + 0xfULL) >> 4 << 2; n += t; u >>= t;
	t = ((u >> 2) + 0x3ULL) >> 2 << 1; n += t; u >>= t;
	t = ((u >> 1) + 0x1ULL) >> 1; n += t; u >>= t;
	n += u;	/* u is 1 here */
	return v < 0 ? STAT_BUCKETS - (STAT_LOG_BUCKET0 + n) : STAT_LOG_BUCKET0 + n;
}

/*
 * __stp_stat_add on one CPU's copy. Inlined into stat_update(), a global function that the
 * verifier checks once on its own (inlined along the dispatch switch, its log2 branches
 * multiplied the interpreter's processed instructions by four); a global function of its own
 * cost each `<<<` one more call (paired runs of the latency pair: -1.3 ns per firing, +2k insns).
 */
static __always_inline long stat_add(struct stat_val *sv, const struct stat_desc *dsc, __s64 val)
{
	__u32 shift;
	__s64 n;

	if (!sv || !dsc)
		return 0;
	shift = dsc->shift & 63;
	if (sv->count == 0) {
		sv->count = 1;
		sv->sum = sv->min = sv->max = val;
		sv->avg_s = (__s64)((__u64)val << shift);
		sv->m2 = 0;
	} else {
		sv->count++;
		sv->sum += val;
		if (val > sv->max)
			sv->max = val;
		if (val < sv->min)
			sv->min = val;
		if (dsc->variance) {
			/* stap keeps delta in an int: the truncation is part of its results */
			int delta = (int)((__s64)((__u64)val << shift) - sv->avg_s);

			sv->avg_s += sdiv64(delta, sv->count);
			sv->m2 += (__s64)delta * ((__s64)((__u64)val << shift) - sv->avg_s);
			sv->var_s = sv->count < 2 ? -1 : sdiv64(sv->m2, sv->count - 1);
		}
	}
	if (dsc->hist == HIST_LOG) {
		n = log_bucket(val);
	} else if (dsc->hist == HIST_LINEAR) {
		n = val - dsc->start;
		if (n < 0)
			n = 0;
		else
			n = (__s64)((__u64)n / (__u32)(dsc->interval > 0 ? dsc->interval : 1)) + 1;
		if (n >= dsc->buckets - 1)
			n = dsc->buckets - 1;
	} else {
		return 0;
	}
	sv->hist[n & (STAT_BUCKETS - 1)]++;
	return 0;
}

/* stat_read()'s sums over the CPUs: the context of its bpf_loop callbacks (vm/tapvm.bpf.c). */
struct stat_sum {
	void *key;
	__u32 where;	/* STAT_WHERE(class, outer index): each callback looks the map up itself */
	__u32 bucket;
	__u32 shift;
	__u32 pad;
	__s64 count, sum, min, max, hist;
	__s64 avg_s, s1, s2;	/* the variance pass */
};

#endif /* TAPVM_STATS_H */
