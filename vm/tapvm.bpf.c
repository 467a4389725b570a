// SPDX-License-Identifier: GPL-2.0
/*
 * tapvm's in-kernel interpreter: one generic program per attach family runs every script.
 * A script is bytecode in the `code` map; the attach cookie says which session's code and
 * which handler pc to run. The dispatch loop is a bpf_loop callback, so the verifier checks
 * one step once, whatever MAXACTION is. src/vm/interp.ts is the same interpreter in
 * TypeScript: keep the cases in the same order.
 */
#include <linux/bpf.h>
#include <linux/errno.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "tapvm.h"
#include "uprobe.h"
#include "stats.h"
#include "process.h"
#include "regex_state.h"

char LICENSE[] SEC("license") = "GPL";

/* Only the fields ppid() needs; CO-RE relocates them against the running kernel's BTF. */
struct task_struct {
	int tgid;
	struct task_struct *real_parent;
} __attribute__((preserve_access_index));

struct vm_state {
	/*
	 * The control block comes first: with the first registers it is all that a short handler
	 * touches of this state (two cache lines, not three as when it was at the end).
	 */
	__u32 busy;
	__u32 pc, probe;
	__u32 status, next;	/* next: index of the next handler of this firing to run */
	__u32 errcode;
	__s32 ngroups;		/* regex: groups of the last match, group 0 included; -1: failed or none */
	/*
	 * The handlers this firing runs: a system call's list at data[list] (n of them), else
	 * `single`. Here rather than in loop_ctx: bpf_loop's callback is verified once per distinct
	 * caller state, and these are exact on some paths (1, 0, the cookie's) and ranges on others;
	 * read from map memory in vm_loop they are unknown on every path, so it is walked once.
	 */
	__u32 n, list, single;
	union {	/* reset for each handler (next_handler) with four 8-byte stores */
		struct {
			__u32 fp, sfp, depth, ntry, outlen;
			__u32 steps;		/* statements ACT charged to the running handler */
			__u32 nit, ittop;	/* live foreach iterators and their first free key slot (vm/iter.h) */
		};
		__u64 hz[4];
	};
	__s64 r[NREGS];
	char s[NSTRS][MAXSTRINGLEN];
	char tmp[2 * MAXSTRINGLEN];	/* concatenation buffer: offset + size both bounded by MAXSTRINGLEN */
	__u8 key[KEYMAX];
	__u8 wkey[KEYMAX];	/* AWRAP: the oldest key of a full wrap-around array (vm/wrap.h) */
	__u8 out[OUTMAX + MAXSTRINGLEN + 16];
	__u8 zero_stat[sizeof(struct stat_val)];	/* never written: a new statistic's first copy */
	__s64 stat_out;					/* stat_read()'s result */
	char res[2 * MAXSTRINGLEN];	/* string function results (vm/strings.h) */
	char tok[MAXSTRINGLEN];		/* tokenize's state: the string, where strsep goes on */
	__u32 tokpos, toklen, tokon;
	__u64 toktag;			/* the session whose tokenize state this is (tok_tag()) */
	char dig[32];			/* sprintf's digits, least significant first */
	struct {	/* one sprintf conversion's plan (vm/format.h) */
		__u64 num;
		__s32 n[8];		/* padding counts by phase: 0 spaces, 2 zeros, 3 zeros, 5 spaces */
		__u32 base, k, phase, npre, nbody, slot, large, body_str, tail;
		char pre[4];
	} fm;
	struct {	/* string loops' state: in the map value, so the verifier does not track it */
		__u32 i, o, f;
		__s32 inlen, outlen, c;
		__u64 v;
	} sx;
	struct {
		__u32 ret_pc;
		__u16 fp;
		__u16 sfp;
	} frames[MAXNESTING];
	struct {
		__u32 pc;
		__u16 depth;
		__u16 fp;
		__u16 sfp;
	} handlers[MAXTRY];		/* pending try blocks (vm/trycatch.h) */
	char errmsg[MAXSTRINGLEN];	/* the caught error()'s message, for CATCH */
	struct re_state re;		/* the tagged regex matcher (vm/regex.h) */
};

enum { ST_RUNNING = 0, ST_HALTED = 1, ST_ERROR = 2 };

#include "strings.h"
#include "regex.h"
#include "format.h"

/* ---- maps shared by every session (pinned with the programs) ---- */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NSESSIONS);
	__type(key, __u32);
	__type(value, struct code_blob);
} code SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NSESSIONS);
	__type(key, __u32);
	__type(value, struct session);
} sessions SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NSESSIONS);
	__type(key, __u32);
	__type(value, struct globals_blob);
} globals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NSESSIONS);
	__type(key, __u32);
	__type(value, struct gstr_blob);
} gstrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NSESSIONS);
	__type(key, __u32);
	__type(value, struct counters);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vm_state);
} scratch SEC(".maps");

/* Each session's ring buffer, created by user space and stored at its slot. */
struct ring_tmpl {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, NSESSIONS);
	__type(key, __u32);
	__array(values, struct ring_tmpl);
} rings SEC(".maps");

/* Script arrays: one inner hash map per array, at index slot * 64 + array id of the outer
 * array-of-maps of the array's key/value size class (an array lookup the verifier inlines). */
#define ARRAY_CLASS(NAME, IDX, KSZ, VSZ)  					\
	struct inner_##NAME {						\
		__uint(type, BPF_MAP_TYPE_HASH);			\
		__uint(max_entries, 1);					\
		__uint(key_size, KSZ);					\
		__uint(value_size, VSZ);				\
	};								\
	struct {							\
		__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);		\
		__uint(max_entries, NSESSIONS * 64);			\
		__type(key, __u32);					\
		__array(values, struct inner_##NAME);			\
	} arrays_##NAME SEC(".maps");

FOR_EACH_ACLASS(ARRAY_CLASS)

/* Statistics: the same, with per-CPU hash maps of struct stat_val, allocated on first use. */
#define STAT_CLASS(NAME, IDX, KSZ, VSZ)  					\
	struct inner_##NAME {						\
		__uint(type, BPF_MAP_TYPE_PERCPU_HASH);			\
		__uint(max_entries, 1);					\
		__uint(map_flags, BPF_F_NO_PREALLOC);			\
		__uint(key_size, KSZ);					\
		__uint(value_size, VSZ);				\
	};								\
	struct {							\
		__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);		\
		__uint(max_entries, NSESSIONS * 64);			\
		__type(key, __u32);					\
		__array(values, struct inner_##NAME);			\
	} arrays_##NAME SEC(".maps");

FOR_EACH_SCLASS(STAT_CLASS)

struct loop_ctx {
	struct vm_state *st;
	struct code_blob *code;
	struct globals_blob *g;
	struct session *ss;
	void *tpctx;
	__u32 slot;
};

#include "trycatch.h"
#include "syscalls.h"

#define ARRAY_INNER_CASE(NAME, IDX, KSZ, VSZ)			\
	case IDX:							\
		return bpf_map_lookup_elem(&arrays_##NAME, &okey);

/* Array classes differ in key and value size, so each has its own outer map (and path). */
static __always_inline void *array_inner(__u32 cls, __u32 okey)
{
	switch (cls) {
	FOR_EACH_ACLASS(ARRAY_INNER_CASE)
	}
	return NULL;
}

/* A statistic's per-CPU hash map (classes of their own: their values are struct stat_val). */
static __always_inline void *stat_inner(__u32 cls, __u32 okey)
{
	switch (cls) {
	FOR_EACH_SCLASS(ARRAY_INNER_CASE)
	}
	return NULL;
}

/* AIN and ADEL serve both kinds of array. */
static __always_inline void *any_inner(__u32 cls, __u32 okey)
{
	return cls >= ACLASS_K16_STAT ? stat_inner(cls, okey) : array_inner(cls, okey);
}

#include "wrap.h"

static __always_inline void count(__u32 slot, int which)
{
	struct counters *c = bpf_map_lookup_elem(&counters, &slot);

	if (!c)
		return;
	if (which == 0)
		c->lost++;
	else if (which == 1)
		c->skipped++;
	else
		c->errors++;
}

/* Unread bytes at which a print record wakes the consumer; below it user space drains the
 * ring on a timer. A wake-up per record costs more than the record itself on this kind of
 * machine (bench/RESULTS.md). */
#define WAKE_BYTES (64 << 10)

static __always_inline void emit(__u32 slot, void *data, __u64 len, int urgent)
{
	void *rb = bpf_map_lookup_elem(&rings, &slot);
	__u64 flags = BPF_RB_FORCE_WAKEUP, avail;

	if (!rb) {
		count(slot, 0);
		return;
	}
	if (!urgent) {
		/* wake only when this record crosses the threshold: forcing whenever the ring is
		 * above it would wake on every record exactly when the consumer lags */
		avail = bpf_ringbuf_query(rb, BPF_RB_AVAIL_DATA);
		flags = (avail < WAKE_BYTES && avail + len + 8 >= WAKE_BYTES) ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
	}
	if (bpf_ringbuf_output(rb, data, len, flags))
		count(slot, 0);
}

/* Counts an uncaught error; past MAXERRORS the session's kernel probes stop at once, as stap's
 * session state turns to ERROR in the handler's epilogue (user space then runs error probes). */
static __always_inline void handler_error(struct session *ss, __u32 slot)
{
	count(slot, 2);
	if (__sync_fetch_and_add(&ss->errors, 1) + 1 > ss->maxerrors)
		ss->active = 0;
}

/* Ends the handler with an error record: header + optional message (string slot). */
static __always_inline long raise(struct loop_ctx *lc, __u32 code, __u32 pc, const char *msg)
{
	struct vm_state *st = lc->st;
	struct rec_hdr *h = (struct rec_hdr *)st->out;
	long n = 1;

	if (try_catch(st, code, msg))
		return 0;
	h->type = REC_ERROR;
	h->id = code;
	h->pc = pc;
	st->out[sizeof(*h)] = 0;
	if (msg) {
		n = bpf_probe_read_kernel_str(st->out + sizeof(*h), MAXSTRINGLEN, msg);
		if (n < 1)
			n = 1;
	}
	n &= 2 * MAXSTRINGLEN - 1;
	h->len = sizeof(*h) + n;
	emit(lc->slot, st->out, sizeof(*h) + n, 1);
	handler_error(lc->ss, lc->slot);
	st->status = ST_ERROR;
	return 1;
}

static __always_inline int str_cmp(const char *x, const char *y)
{
#pragma clang loop unroll(disable)
	for (int i = 0; i < MAXSTRINGLEN; i++) {
		unsigned char cx = x[i], cy = y[i];

		if (cx != cy)
			return cx < cy ? -1 : 1;
		if (!cx)
			return 0;
	}
	return 0;
}

/* The stat descriptor of array id (struct stat_desc in the data area). */
static __always_inline struct stat_desc *stat_desc_of(struct loop_ctx *lc, __s32 imm)
{
	return (struct stat_desc *)&lc->code->data[STAT_DESC_OFF + ((__u32)imm & 63) * sizeof(struct stat_desc)];
}

/* BPF functions take five arguments: the stat class and outer map index travel in one */
#define STAT_WHERE(cls, okey) ((cls) << 16 | ((okey) & 0xffff))

/*
 * Adds up every CPU's copy of an element with bpf_map_lookup_percpu_elem, as bpf_loop
 * callbacks over the CPUs (a bounded loop cost ~75k processed insns). Each callback finds the
 * map itself, so the verifier sees one caller state, not one per stat map type.
 */
static long stat_collect_cpu(__u64 cpu, void *arg)
{
	struct stat_sum *a = arg;
	void *inner = stat_inner(a->where >> 16, a->where & 0xffff);
	struct stat_val *sv;

	if (!inner)
		return 1;
	sv = bpf_map_lookup_percpu_elem(inner, a->key, (__u32)cpu);
	if (!sv)
		return 1;
	if (!sv->count)
		return 0;
	if (a->count == 0 || sv->min < a->min)
		a->min = sv->min;
	if (a->count == 0 || sv->max > a->max)
		a->max = sv->max;
	a->count += sv->count;
	a->sum += sv->sum;
	a->hist += sv->hist[a->bucket & (STAT_BUCKETS - 1)];
	return 0;
}

/* _stp_stat_get's variance: the per-CPU Welford results combined by the total variance. */
static long stat_variance_cpu(__u64 cpu, void *arg)
{
	struct stat_sum *a = arg;
	void *inner = stat_inner(a->where >> 16, a->where & 0xffff);
	struct stat_val *sv;
	__s64 d;

	if (!inner)
		return 1;
	sv = bpf_map_lookup_percpu_elem(inner, a->key, (__u32)cpu);
	if (!sv)
		return 1;
	if (!sv->count)
		return 0;
	d = sv->avg_s - a->avg_s;
	a->s1 += sv->count * d * d;
	a->s2 += (sv->count - 1) * sv->var_s;
	return 0;
}

/*
 * STADD's and STGET's work are global functions: the verifier checks each once on its own,
 * instead of once per stat map type along the dispatch switch (15k -> 7k processed insns).
 * Their pointer arguments may be NULL to the verifier, hence the checks.
 */

/* STADD: this CPU's copy of the element (key), created zeroed on first use; 1 = array full. */
__noinline long stat_update(struct vm_state *st, const struct stat_desc *dsc, __u32 where, __s64 val)
{
	__u32 cls = where >> 16, okey = where & 0xffff;
	struct stat_val *sv;
	void *inner;
	long n;

	if (!st || !dsc)
		return 1;
	inner = stat_inner(cls, okey);
	if (!inner)
		return 1;
	sv = bpf_map_lookup_elem(inner, st->key);
	if (!sv) {
		/* another CPU may insert first: EEXIST is fine, its element has a copy for us */
		n = bpf_map_update_elem(inner, st->key, st->zero_stat, BPF_NOEXIST);
		if (n && n != -EEXIST)
			return 1;
		sv = bpf_map_lookup_elem(inner, st->key);
		if (!sv)
			return 1;
	}
	stat_add(sv, dsc, val);
	return 0;
}

/* STGET (bucket < 0) and STHIST: the aggregate over every CPU's copy into st->stat_out;
 * 0, or STAT_EMPTY / STAT_RANGE for stap's two run-time errors. */
__noinline long stat_read(struct vm_state *st, const struct stat_desc *dsc, __u32 where, __u32 agg, __s64 bucket)
{
	struct stat_sum sum = {}, *a = &sum;	/* bpf_loop's context must be on the stack */
	__s32 nb;

	if (!st || !dsc)
		return STAT_EMPTY;
	nb = dsc->hist == HIST_LOG ? STAT_BUCKETS : dsc->buckets;
	if (bucket >= 0 && bucket >= nb)
		return STAT_RANGE;
	a->where = where;
	a->key = st->key;
	a->bucket = bucket < 0 ? 0 : (__u32)bucket;
	a->shift = dsc->shift;
	bpf_loop(MAXCPUS, stat_collect_cpu, a, 0);
	if (bucket >= 0) {
		if (!a->count)
			return STAT_EMPTY;
		st->stat_out = a->hist;
		return 0;
	}
	if (agg == AGG_COUNT || agg == AGG_SUM) {
		st->stat_out = agg == AGG_COUNT ? a->count : a->sum;
		return 0;
	}
	if (!a->count)
		return STAT_EMPTY;
	if (agg == AGG_MIN)
		st->stat_out = a->min;
	else if (agg == AGG_MAX)
		st->stat_out = a->max;
	else if (agg == AGG_AVG)
		st->stat_out = sdiv64(a->sum, a->count);
	else {
		a->avg_s = sdiv64((__s64)((__u64)a->sum << (a->shift & 63)), a->count);
		bpf_loop(MAXCPUS, stat_variance_cpu, a, 0);
		st->stat_out = sdiv64(a->s1 + a->s2, a->count - 1) >> ((2 * a->shift) & 63);
	}
	return 0;
}

/* The stap error text of a stat_read() failure, built in tmp (no .rodata map needed). */
static __always_inline long raise_stat(struct loop_ctx *lc, __u32 pc, long why)
{
	if (why == STAT_RANGE)
		__builtin_memcpy(lc->st->tmp, "histogram index out of range", 29);
	else
		__builtin_memcpy(lc->st->tmp, "empty aggregate", 16);
	return raise(lc, ERR_USER, pc, lc->st->tmp);
}

/* Zeroing and copying KEYMAX bytes: clang inlines memset/memcpy of 272 bytes, not of the
 * 512-byte build's 1040, which go through the helper (from a zero area for KEY_ZERO). */
#if KEYMAX <= 272
#define KEY_ZERO(p) __builtin_memset((p), 0, KEYMAX)
#define KEY_COPY(d, s) __builtin_memcpy((d), (s), KEYMAX)
#else
const volatile __u8 zero_key[KEYMAX];
#define KEY_ZERO(p) bpf_probe_read_kernel((p), KEYMAX, (const void *)zero_key)
#define KEY_COPY(d, s) bpf_probe_read_kernel((d), KEYMAX, (s))
#endif

#include "context.h"
#include "stack.h"
#include "iter.h"

/* A string constant compared in place: the compiler fuses only offsets up to
 * DATA_BYTES - MAXSTRINGLEN, so str_cmp's MAXSTRINGLEN bytes stay inside the data area. */
static __always_inline const char *data_str(struct loop_ctx *lc, __s32 imm)
{
	__u32 off = (__u32)imm & (DATA_BYTES - 1);

	if (off > DATA_BYTES - MAXSTRINGLEN)
		off = DATA_BYTES - MAXSTRINGLEN;
	return &lc->code->data[off];
}

/* a key offset: below 256 with 128-byte strings (longs come first), below 2048 in the wide build */
#define KEYOFF(imm) ((__u32)(imm) & (KEYMAX <= 272 ? 255 : 2047))
#define R(x) st->r[(fp + (x)) & (NREGS - 1)]
#define S(x) st->s[(sfp + (x)) & (NSTRS - 1)]

/* Clears a key wider than 16 bytes up to its class's size (KCLR, KINT): 32, 64 or KEYMAX. */
static __always_inline void key_clear_wide(struct vm_state *st, __s32 size)
{
	if (size <= 32)
		__builtin_memset(st->key, 0, 32);
	else if (size <= 64)
		__builtin_memset(st->key, 0, 64);
	else
		KEY_ZERO(st->key);
}

/* Runs the instruction at *pcp and advances it; non-zero ends the handler. pcp is &st->pc:
 * a caught error (raise -> try_catch) moves st->pc to the catch block. */
static __always_inline long exec1(struct loop_ctx *lc, struct vm_state *st, __u32 *pcp)
{
	__u32 pc = *pcp;
	__u64 insn = lc->code->insn[pc & (CODE_INSNS - 1)];
	__u32 op = insn & 0xff, d = (insn >> 8) & 0xff, a = (insn >> 16) & 0xff, b = (insn >> 24) & 0xff;
	__s32 imm = (__s32)(insn >> 32);
	__u32 fp = st->fp, sfp = st->sfp;
	__u32 okey = lc->slot * 64 + ((__u32)imm & 63);
	void *inner, *vp;
	__s64 x, y;
	long n;

	*pcp = pc + 1;
	switch (op) {
	case OP_HALT:
		st->status = ST_HALTED;
		return 1;
	case OP_MOVI:
		R(d) = imm;
		break;
	case OP_MOVHI:
		R(d) = (__s64)(((__u64)R(d) & 0xffffffffULL) | ((__u64)(__u32)imm << 32));
		break;
	case OP_MOV:
		R(d) = R(a);
		break;
	case OP_ADD:
		R(d) = R(a) + R(b);
		break;
	case OP_SUB:
		R(d) = R(a) - R(b);
		break;
	case OP_MUL:
		R(d) = R(a) * R(b);
		break;
	case OP_DIV:
	case OP_MOD:
	case OP_DIVI:
	case OP_MODI: {
		/* BPF before cpu v4 divides unsigned only: divide magnitudes, then fix the sign */
		__u64 ux, uy, q;

		x = R(a);
		y = op >= OP_DIVI ? imm : R(b);
		if (y == 0)
			return raise(lc, ERR_DIV0, pc, NULL);
		ux = x < 0 ? -(__u64)x : (__u64)x;
		uy = y < 0 ? -(__u64)y : (__u64)y;
		if (op == OP_DIV || op == OP_DIVI) {
			q = ux / uy;
			R(d) = ((x < 0) != (y < 0)) ? -(__s64)q : (__s64)q;
		} else {
			q = ux % uy;
			R(d) = x < 0 ? -(__s64)q : (__s64)q;
		}
		break;
	}
	case OP_AND:
		R(d) = R(a) & R(b);
		break;
	case OP_OR:
		R(d) = R(a) | R(b);
		break;
	case OP_XOR:
		R(d) = R(a) ^ R(b);
		break;
	case OP_SHL:
		R(d) = (__s64)((__u64)R(a) << (R(b) & 63));
		break;
	case OP_SHR:
		R(d) = R(a) >> (R(b) & 63);
		break;
	case OP_ADDI:
		R(d) = R(a) + imm;
		break;
	case OP_NEG:
		R(d) = -R(a);
		break;
	case OP_BNOT:
		R(d) = ~R(a);
		break;
	case OP_LNOT:
		R(d) = !R(a);
		break;
	case OP_EQ:
		R(d) = R(a) == R(b);
		break;
	case OP_NE:
		R(d) = R(a) != R(b);
		break;
	case OP_LT:
		R(d) = R(a) < R(b);
		break;
	case OP_LE:
		R(d) = R(a) <= R(b);
		break;
	case OP_GT:
		R(d) = R(a) > R(b);
		break;
	case OP_GE:
		R(d) = R(a) >= R(b);
		break;
	case OP_JMP:
		*pcp = imm;
		break;
	case OP_JZ:
		if (!R(a))
			*pcp = imm;
		break;
	case OP_JNZ:
		if (R(a))
			*pcp = imm;
		break;
	case OP_CALL: {
		__u32 dep = st->depth;

		if (dep >= MAXNESTING - 1 || fp + a > NREGS - 64 || sfp + b > NSTRS - 8)
			return raise(lc, ERR_NESTING, pc, NULL);
		st->frames[dep & (MAXNESTING - 1)].ret_pc = pc + 1;
		st->frames[dep & (MAXNESTING - 1)].fp = fp;
		st->frames[dep & (MAXNESTING - 1)].sfp = sfp;
		st->depth = dep + 1;
		st->fp = fp + a;
		st->sfp = sfp + b;
		*pcp = imm;
		break;
	}
	case OP_RET: {
		__u32 dep = st->depth;

		if (dep == 0) {
			st->status = ST_HALTED;
			return 1;
		}
		dep--;
		st->depth = dep;
		*pcp = st->frames[dep & (MAXNESTING - 1)].ret_pc;
		st->fp = st->frames[dep & (MAXNESTING - 1)].fp;
		st->sfp = st->frames[dep & (MAXNESTING - 1)].sfp;
		break;
	}
	case OP_SCONST:
		bpf_probe_read_kernel_str(S(d), MAXSTRINGLEN, &lc->code->data[(__u32)imm & (DATA_BYTES - 1)]);
		break;
	case OP_SMOV:
		if (d != a)
			bpf_probe_read_kernel_str(S(d), MAXSTRINGLEN, S(a));
		break;
	case OP_SCAT:
		n = bpf_probe_read_kernel_str(st->tmp, MAXSTRINGLEN, S(a));
		n = (n < 1 ? 0 : n - 1) & (MAXSTRINGLEN - 1);
		bpf_probe_read_kernel_str(st->tmp + n, MAXSTRINGLEN - n, S(b));
		bpf_probe_read_kernel_str(S(d), MAXSTRINGLEN, st->tmp);
		break;
	case OP_SCMP: {
		int c = str_cmp(S(a), S(b));

		switch (imm) {
		case SCMP_EQ: R(d) = c == 0; break;
		case SCMP_NE: R(d) = c != 0; break;
		case SCMP_LT: R(d) = c < 0; break;
		case SCMP_LE: R(d) = c <= 0; break;
		case SCMP_GT: R(d) = c > 0; break;
		default: R(d) = c >= 0; break;
		}
		break;
	}
	case OP_SCLR:
		S(d)[0] = 0;
		break;
	case OP_GLD:
		R(d) = lc->g->num[(__u32)imm & (NGLOBALS - 1)];
		break;
	case OP_GST:
		lc->g->num[(__u32)imm & (NGLOBALS - 1)] = R(a);
		break;
	case OP_GADD:
		x = R(a);
		R(d) = __sync_fetch_and_add(&lc->g->num[(__u32)imm & (NGLOBALS - 1)], x) + x;
		break;
	case OP_GLDS:
	case OP_GSTS: {
		__u32 slot = lc->slot;
		struct gstr_blob *gs = bpf_map_lookup_elem(&gstrs, &slot);

		if (!gs)
			return raise(lc, ERR_FAULT, pc, NULL);
		if (op == OP_GLDS)
			bpf_probe_read_kernel_str(S(d), MAXSTRINGLEN, gs->s[(__u32)imm & (NGSTRS - 1)]);
		else
			bpf_probe_read_kernel_str(gs->s[(__u32)imm & (NGSTRS - 1)], MAXSTRINGLEN, S(a));
		break;
	}
	case OP_KCLR:
		/* only the class's key size: hashing and clearing 272 bytes for a 16-byte key is waste */
		if (imm <= 16)
			__builtin_memset(st->key, 0, 16);
		else
			key_clear_wide(st, imm);
		break;
	case OP_KPUTI:
		*(__s64 *)&st->key[KEYOFF(imm)] = R(a);
		break;
	case OP_KINT:	/* a key wider than 16 bytes (exec_fast does the 16-byte class) */
		x = R(a);
		key_clear_wide(st, imm);
		*(__s64 *)st->key = x;
		break;
	case OP_KPUTS: {
		__u32 w = b;

		if (w == 0 || w > MAXSTRINGLEN)
			w = MAXSTRINGLEN;
		bpf_probe_read_kernel_str(&st->key[KEYOFF(imm)], w, S(a));
		break;
	}
	case OP_KGETI:
		R(d) = *(__s64 *)&st->key[KEYOFF(imm)];
		break;
	case OP_KGETS:
		bpf_probe_read_kernel_str(S(d), MAXSTRINGLEN, &st->key[KEYOFF(imm)]);
		break;
	case OP_AGET:
	case OP_AGETS:
	case OP_AIN:
		/* class bit 0 = string values: AGET sees only long-valued classes, AGETS string ones */
		inner = op == OP_AIN ? any_inner(b, okey) : array_inner(op == OP_AGET ? b & ~1U : b | 1, okey);
		vp = inner ? bpf_map_lookup_elem(inner, st->key) : NULL;
		if (op == OP_AIN)
			R(d) = vp != NULL;
		else if (op == OP_AGET)
			R(d) = vp ? *(__s64 *)vp : 0;
		else if (vp)
			bpf_probe_read_kernel_str(S(d), MAXSTRINGLEN, vp);
		else
			S(d)[0] = 0;
		break;
	case OP_ASET:
	case OP_ASETS:
		inner = array_inner(op == OP_ASET ? b & ~1U : b | 1, okey);
		if (!inner)
			return raise(lc, ERR_OVERFLOW, pc, NULL);
		/*
		 * A number whose key is there is stored in place, as AADD adds in place: a lookup is
		 * much cheaper than an update, which locks the bucket and swaps in a new element
		 * (`s[tid()] = t` of a latency finds its key every time but the first). A string
		 * value is updated whole, so that no reader sees half of it.
		 */
		if (op == OP_ASET && (vp = bpf_map_lookup_elem(inner, st->key))) {
			*(__s64 *)vp = R(a);
			break;
		}
		if (bpf_map_update_elem(inner, st->key, op == OP_ASET ? (void *)&R(a) : (void *)S(a), BPF_ANY))
			return raise(lc, ERR_OVERFLOW, pc, NULL);
		break;
	case OP_AADD:
		inner = array_inner(b & ~1U, okey);
		if (!inner)
			return raise(lc, ERR_OVERFLOW, pc, NULL);
		vp = bpf_map_lookup_elem(inner, st->key);
		if (!vp) {
			__s64 zero = 0;

			/* another CPU may insert first: EEXIST is fine, then add to its element */
			n = bpf_map_update_elem(inner, st->key, &zero, BPF_NOEXIST);
			if (n && n != -EEXIST)
				return raise(lc, ERR_OVERFLOW, pc, NULL);
			vp = bpf_map_lookup_elem(inner, st->key);
			if (!vp)
				return raise(lc, ERR_OVERFLOW, pc, NULL);
		}
		x = R(a);
		R(d) = __sync_fetch_and_add((__s64 *)vp, x) + x;
		break;
	case OP_AWRAP:
		/* stap's map->wrap: a key already there keeps its place; a new one is numbered */
		inner = any_inner(b, okey);
		if (inner && bpf_map_lookup_elem(inner, st->key))
			break;
		x = __sync_fetch_and_add(&lc->g->num[a & (NGLOBALS - 1)], 1);
		if (wrap_insert(st, b << 16 | okey, lc->slot * 64 + (d & 63), x))
			return raise(lc, ERR_OVERFLOW, pc, NULL);
		break;
	case OP_ADEL:
		inner = any_inner(b, okey);
		if (inner)
			bpf_map_delete_elem(inner, st->key);
		break;
	/* ---- foreach, delete of a whole array and slices (vm/iter.h) ---- */
	case OP_ACLR:
		iter_each(STAT_WHERE(b, okey), IT_CLEAR);
		break;
	case OP_KMASK:
		iter_mask(imm);
		break;
	case OP_ASLIN:
		R(d) = iter_slice(st, STAT_WHERE(b, okey), IT_IN);
		break;
	case OP_ASLDEL:
		iter_slice(st, STAT_WHERE(b, okey), IT_DEL);
		break;
	case OP_ITBEGIN:
	case OP_ITSLICE:
		n = iter_begin(st, pc, STAT_WHERE(b, okey), op == OP_ITSLICE);
		if (n < 0)
			return raise(lc, -n, pc, NULL);
		R(d) = n;
		break;
	case OP_ITNEXT:
		n = iter_next(st, R(a));
		if (n < 0)
			return raise(lc, ERR_FAULT, pc, NULL);
		if (!n)
			*pcp = imm;
		break;
	case OP_ITSORT:
		if (iter_sort(st, R(a), imm))
			return raise(lc, ERR_FAULT, pc, NULL);
		break;
	case OP_ITEND:
		iter_end(st, R(a));
		break;
	case OP_CTX:
		switch (imm) {
		case CTX_PID:
			R(d) = bpf_get_current_pid_tgid() >> 32;
			break;
		case CTX_TID:
			R(d) = (__u32)bpf_get_current_pid_tgid();
			break;
		case CTX_PPID: {
			struct task_struct *t = (struct task_struct *)bpf_get_current_task();

			R(d) = BPF_CORE_READ(t, real_parent, tgid);
			break;
		}
		case CTX_UID:
			R(d) = (__u32)bpf_get_current_uid_gid();
			break;
		case CTX_GID:
			R(d) = bpf_get_current_uid_gid() >> 32;
			break;
		case CTX_CPU:
			R(d) = bpf_get_smp_processor_id();
			break;
		case CTX_REALTIME_NS:
			R(d) = bpf_ktime_get_ns() + lc->ss->realtime_off;
			break;
		case CTX_TARGET:
			R(d) = lc->ss->target;
			break;
		case CTX_EXE_INO:
		case CTX_EXE_DEV:
			R(d) = current_exe(imm == CTX_EXE_DEV);
			break;
		case CTX_EXE_START_CODE:
			R(d) = current_start_code();
			break;
		case CTX_EUID:
		case CTX_EGID:
			R(d) = ctx_cred(imm == CTX_EGID);
			break;
		case CTX_TASK_CURRENT:
			R(d) = (__s64)bpf_get_current_task();
			break;
		case CTX_LOCAL_CLOCK_NS:
			R(d) = bpf_ktime_get_ns();
			break;
		case CTX_JIFFIES:
			R(d) = bpf_jiffies64();
			break;
		case CTX_UADDR:
			R(d) = user_pc(lc);
			break;
		default:
			return raise(lc, ERR_OPCODE, pc, NULL);
		}
		break;
	case OP_CTXS:
		if (imm == CTX_EXECNAME) {
			bpf_get_current_comm(S(d), 16);
		} else if (imm == CTX_PP) {
			__u32 off = data_u32(lc->code, (st->probe & (NPROBES - 1)) * 4);

			bpf_probe_read_kernel_str(S(d), MAXSTRINGLEN, &lc->code->data[off & (DATA_BYTES - 1)]);
		} else if (imm == CTX_PEXECNAME) {
			ctx_pexecname(S(d));
		} else {
			return raise(lc, ERR_OPCODE, pc, NULL);
		}
		break;
	case OP_TPLD: {
		void *p = lc->tpctx + (__u32)imm;
		__u64 v = 0;

		switch (b & 0xf) {
		case 1: { __u8 t = 0; bpf_probe_read_kernel(&t, 1, p); v = (b & 0x80) ? (__u64)(__s64)(__s8)t : t; break; }
		case 2: { __u16 t = 0; bpf_probe_read_kernel(&t, 2, p); v = (b & 0x80) ? (__u64)(__s64)(__s16)t : t; break; }
		case 4: { __u32 t = 0; bpf_probe_read_kernel(&t, 4, p); v = (b & 0x80) ? (__u64)(__s64)(__s32)t : t; break; }
		default: bpf_probe_read_kernel(&v, 8, p); break;
		}
		R(d) = (__s64)v;
		break;
	}
	case OP_TPSTR: {
		__u32 loc = (__u32)imm;

		if (!b) {
			bpf_probe_read_kernel(&loc, 4, lc->tpctx + (__u32)imm);
			loc &= 0xffff;
		}
		if (bpf_probe_read_kernel_str(S(d), MAXSTRINGLEN, lc->tpctx + loc) < 0)
			S(d)[0] = 0;
		break;
	}
	case OP_USTR:
		/* through tmp: a faulting read zeroes its destination, and b = 1 keeps sd's default */
		if (bpf_probe_read_user_str(st->tmp, MAXSTRINGLEN, (void *)R(a)) < 0) {
			if (b)
				break;
			S(d)[0] = 0;
			return raise(lc, ERR_FAULT, pc, NULL);
		}
		bpf_probe_read_kernel_str(S(d), MAXSTRINGLEN, st->tmp);
		break;
	case OP_OBEGIN: {
		struct rec_hdr *h = (struct rec_hdr *)st->out;

		h->type = REC_PRINT;
		h->id = imm;
		h->pc = pc;
		st->outlen = sizeof(*h);
		break;
	}
	case OP_OINT: {
		__u32 off = st->outlen;

		if (off > OUTMAX - 8)
			return raise(lc, ERR_OUTPUT, pc, NULL);
		*(__s64 *)&st->out[off & (OUTMAX - 1)] = R(a);
		st->outlen = off + 8;
		break;
	}
	case OP_OSTR: {
		__u32 off = st->outlen;

		if (off > OUTMAX - MAXSTRINGLEN - 2)
			return raise(lc, ERR_OUTPUT, pc, NULL);
		off &= OUTMAX - 1;
		n = bpf_probe_read_kernel_str(&st->out[off + 2], MAXSTRINGLEN, S(a));
		n = n < 1 ? 0 : n - 1;
		*(__u16 *)&st->out[off] = n;
		st->outlen = off + 2 + n;
		break;
	}
	case OP_OMEM: {
		/* %m/%M: the bytes are read now, in the probe, as stap's kread does; user space
		 * formats them like a string argument */
		__u32 off = st->outlen, n;
		__s64 want = R(b);
		__u64 arg[1];

		if (want > MAXSTRINGLEN) {
			static const char big[] = "%lld is too many bytes for a memory dump";

			arg[0] = want;
			bpf_snprintf(st->tmp, MAXSTRINGLEN, big, arg, sizeof(arg));
			return raise(lc, ERR_USER, pc, st->tmp);
		}
		if (off > OUTMAX - MAXSTRINGLEN - 2)
			return raise(lc, ERR_OUTPUT, pc, NULL);
		off &= OUTMAX - 1;
		n = want < 1 ? 1 : (__u32)want;
		n &= 2 * MAXSTRINGLEN - 1;
		if (n > MAXSTRINGLEN)
			n = MAXSTRINGLEN;
		if (bpf_probe_read_kernel(&st->out[off + 2], n, (void *)R(a))) {
			static const char fault[] = "kernel read fault at 0x%016lx (addr)";

			arg[0] = R(a);
			bpf_snprintf(st->tmp, MAXSTRINGLEN, fault, arg, sizeof(arg));
			return raise(lc, ERR_USER, pc, st->tmp);
		}
		*(__u16 *)&st->out[off] = n;
		st->outlen = off + 2 + n;
		break;
	}
	case OP_OEND: {
		__u32 len = st->outlen;

		if (len > OUTMAX)
			return raise(lc, ERR_OUTPUT, pc, NULL);
		((struct rec_hdr *)st->out)->len = len;
		emit(lc->slot, st->out, len, 0);
		break;
	}
	case OP_EXIT: {
		struct rec_hdr h = { .type = REC_EXIT, .len = sizeof(h), .pc = pc };

		lc->ss->active = 0;
		emit(lc->slot, &h, sizeof(h), 1);
		break;
	}
	case OP_ERROR:
		return raise(lc, ERR_USER, pc, S(a));
	case OP_UARG:
		if (uprobe_arg(lc->tpctx, R(a), b, &R(d)))
			return raise(lc, ERR_ARGNUM, pc, NULL);
		break;
	case OP_STADD:
		if (stat_update(st, stat_desc_of(lc, imm), STAT_WHERE(b, okey), R(a)))
			return raise(lc, ERR_OVERFLOW, pc, NULL);
		break;
	case OP_STGET:
	case OP_STHIST:
		x = op == OP_STHIST ? R(a) : -1;
		if (op == OP_STHIST && x < 0)
			x = 0x7fffffff;	/* out of every histogram's range */
		n = stat_read(st, stat_desc_of(lc, imm), STAT_WHERE(b, okey), a, x);
		if (n)
			return raise_stat(lc, pc, n);
		R(d) = st->stat_out;
		break;
	case OP_STPRINT: {
		/* the key only: user space adds up the CPUs' copies and formats the histogram */
		struct rec_hdr *h = (struct rec_hdr *)st->out;

		h->type = REC_HIST;
		h->id = ((__u32)imm & 63) | b << 8;
		h->pc = pc;
		h->len = sizeof(*h) + KEYMAX;
		bpf_probe_read_kernel(st->out + sizeof(*h), KEYMAX, st->key);
		emit(lc->slot, st->out, sizeof(*h) + KEYMAX, 0);
		break;
	}
	case OP_TRY:
		if (try_push(st, imm))
			return raise(lc, ERR_NESTING, pc, NULL);
		break;
	case OP_TRYEND:
		try_pop(st, imm);
		break;
	case OP_CATCH:
		catch_message(st, lc->code, S(d), imm);
		break;
	/* ---- string tapset (vm/strings.h) ---- */
	case OP_STRLEN:
		R(d) = s_len(st, sfp + a);
		break;
	case OP_SUBSTR:
		s_substr(st, sfp + d, sfp + a, R(b), R(b + 1));
		break;
	case OP_STRAT:
		x = R(b);
		if (x < 0 || x >= s_len(st, sfp + a))
			return raise(lc, ERR_POSITION, pc, NULL);
		R(d) = (__s8)S(a)[x & (MAXSTRINGLEN - 1)];
		break;
	case OP_STRPOS:
		R(d) = s_find(st, sfp + a, sfp + b);
		break;
	case OP_STRREPL:
		s_replace(st, sfp + d, sfp + a, sfp + b);
		break;
	case OP_TOKEN:
		/* stap's state is per module and CPU: another session's chain on this CPU is not ours */
		s_tokenize(st, sfp + d, sfp + a, sfp + b, lc->slot ^ (lc->ss->owner_pid << 8) ^ (lc->ss->owner_start << 32));
		break;
	case OP_TEXTSTR:
		s_text(st, sfp + d, sfp + a, R(b), R(b + 1));
		break;
	case OP_STRTOL:
		R(d) = s_strtol(st, sfp + a, R(b));
		break;
	case OP_REMATCH:
		R(d) = re_match(st, lc->code, sfp + a, imm);
		break;
	case OP_RETMATCH:
		R(d) = tre_match(st, lc->code, sfp + a, imm);
		break;
	case OP_RENGROUPS:
		R(d) = st->ngroups;
		break;
	case OP_RESUBEXPR:
		tre_subexpr(st, sfp + d, R(a));
		break;
	case OP_ISDIGIT:
		R(d) = S(a)[0] >= '0' && S(a)[0] <= '9';
		break;
	case OP_KREAD:
	case OP_UREAD:
		if (mem_read(st->tmp, R(a), b, op == OP_UREAD, &R(d)) && op == OP_KREAD)
			return raise(lc, ERR_USER, pc, st->tmp);
		break;
	case OP_KSTR:
	case OP_USTRN:
		if (str_read(S(d), st->tmp, R(a), R(b), op == OP_USTRN))
			return op == OP_KSTR ? raise(lc, ERR_USER, pc, st->tmp) : raise(lc, ERR_FAULT, pc, NULL);
		break;
	case OP_ERRNOSTR:
		errno_str(lc->code, S(d), R(a), imm);
		break;
	case OP_CTIME:
		ctime_str(S(d), R(a));
		break;
	case OP_TASKF:
		R(d) = task_field(R(a), imm);
		break;
	case OP_SCNAME:
		sc_name(lc, S(d), R(a), (__u32)imm);
		break;
	case OP_SCARGS:
		sc_argstr(lc, S(d), (__u32)imm);
		break;
	case OP_SCRET:
		sc_retstr(lc, S(d));
		break;
	case OP_FLAGSTR:
		flag_str(st, lc->code, sfp + d, R(a), imm);
		break;
	case OP_KSTACK:
	case OP_USTACK:
		stack_record(lc, pc, op == OP_USTACK ? 1 + (imm & 1) : 0);
		break;
	case OP_KBTSTR:
	case OP_UBTSTR:
		/* operands, not branches: a branch here costs the verifier 10,000 insns */
		stack_string(lc, S(d), imm & BPF_F_USER_STACK, R(a));
		break;
	case OP_USYMENC:
		usym_encode(lc, S(d), R(a), imm);
		break;
	case OP_SFMT:
	case OP_SFMTS:
		f_conv(st, ((sfp + d) & 0xff) | ((sfp + a) & 0xff) << 8, R(a), imm,
		       f_field(R(b)) | f_field(R(b + 1)) << 16);
		break;
	/* superinstructions (src/compile/optimize.ts fuses the shapes the code generator emits) */
	case OP_MULI:
		R(d) = R(a) * imm;
		break;
	case OP_ANDI:
		R(d) = R(a) & imm;
		break;
	case OP_ORI:
		R(d) = R(a) | imm;
		break;
	case OP_XORI:
		R(d) = R(a) ^ imm;
		break;
	case OP_SHLI:
		R(d) = (__s64)((__u64)R(a) << (imm & 63));
		break;
	case OP_SHRI:
		R(d) = R(a) >> (imm & 63);
		break;
	case OP_JEQ:
		if (R(a) == R(b))
			*pcp = imm;
		break;
	case OP_JNE:
		if (R(a) != R(b))
			*pcp = imm;
		break;
	case OP_JLT:
		if (R(a) < R(b))
			*pcp = imm;
		break;
	case OP_JLE:
		if (R(a) <= R(b))
			*pcp = imm;
		break;
	case OP_JGT:
		if (R(a) > R(b))
			*pcp = imm;
		break;
	case OP_JGE:
		if (R(a) >= R(b))
			*pcp = imm;
		break;
	case OP_SEQC:
	case OP_SNEC:
		R(d) = (str_cmp(S(a), data_str(lc, imm)) == 0) == (op == OP_SEQC);
		break;
	default:
		return raise(lc, ERR_OPCODE, pc, NULL);
	}
	return 0;
}

/* Past MAXSKIPPED skipped firings the session ends in error, as stap's does (once: the first
 * CPU to clear `active` reports it). The VM state is busy here: the record is built on the stack. */
static __always_inline void skipped(struct session *ss, __u32 slot)
{
	struct rec_hdr h = { .type = REC_ERROR, .id = ERR_SKIPPED, .len = sizeof(h) };

	if (__sync_fetch_and_add(&ss->skipped, 1) + 1 <= ss->maxskipped)
		return;
	if (__sync_val_compare_and_swap(&ss->active, 1, 0) == 1)
		emit(slot, &h, sizeof(h), 1);
}

/* Sets the state up for handler i of this firing, entry e (probe index << 16 | pc). */
static __always_inline void start_handler(struct vm_state *st, __u32 i, __u32 e)
{
	st->next = i + 1;
	st->pc = e & 0xffff;
	st->probe = e >> 16;
	st->status = ST_RUNNING;
	st->ngroups = -1;	/* matched() sees only this handler's matches */
	/* fp, sfp, depth, ntry, outlen, steps, nit, ittop */
	st->hz[0] = 0;
	st->hz[1] = 0;
	st->hz[2] = 0;
	st->hz[3] = 0;
}

/* The entry of handler i of this firing: a system call's list (vm/syscalls.h), else `single`. */
static __always_inline __u32 handler_entry(struct code_blob *code, __u32 list, __u32 single, __u32 i)
{
	return list ? data_u32(code, list + 4 + i * 4) : single;
}

/* Starts the next handler of this firing; 1 when none is left. */
static __always_inline long next_handler(struct loop_ctx *lc)
{
	struct vm_state *st = lc->st;
	__u32 i = st->next;

	/* past MAXERRORS the kernel cleared `active`: the rest of the firing does not run */
	if (i >= st->n || !lc->ss->active)
		return 1;
	start_handler(st, i, handler_entry(lc->code, st->list, st->single, i));
	return 0;
}

/* Instructions per bpf_loop iteration: the callback's call and set-up cost is paid once for
 * STEP_INSNS instructions (bench/RESULTS.md). */
#define STEP_INSNS 8

/*
 * The inner loop's instructions: register arithmetic, branches, scalar globals, pid/tid. They
 * cannot fail, so they stay small; the verifier walks them STEP_INSNS times. Returns 0 to go
 * on, 1 when the handler ended, FAST_NO (pc untouched) for any other opcode, which exec1()
 * then runs once, after the loop, so its big cases are verified once.
 */
#define FAST_NO 2
#define FAST_MAXACTION 3

static __always_inline long exec_fast(struct loop_ctx *lc, struct vm_state *st, __u32 *pcp)
{
	__u32 pc = *pcp;
	__u64 insn = lc->code->insn[pc & (CODE_INSNS - 1)];
	__u32 op = insn & 0xff, d = (insn >> 8) & 0xff, a = (insn >> 16) & 0xff, b = (insn >> 24) & 0xff;
	__s32 imm = (__s32)(insn >> 32);
	__u32 fp = st->fp;
	__s64 x;

	switch (op) {
	case OP_HALT:
		st->status = ST_HALTED;
		return 1;
	case OP_ACT:
		/* stap's `c->actionremaining -= n`: MAXACTION counts statements, charged per basic
		 * block by the compiler; the error's pc is this ACT (pc not advanced) */
		st->steps += imm;
		if (st->steps >= lc->ss->maxaction)
			return FAST_MAXACTION;
		break;
	case OP_ACTH:	/* ACT imm; HALT: a handler's last statements, one dispatch */
		st->steps += imm;
		if (st->steps >= lc->ss->maxaction)
			return FAST_MAXACTION;
		st->status = ST_HALTED;
		return 1;
	case OP_MOVI: R(d) = imm; break;
	case OP_MOV: R(d) = R(a); break;
	case OP_ADD: R(d) = R(a) + R(b); break;
	case OP_SUB: R(d) = R(a) - R(b); break;
	case OP_MUL: R(d) = R(a) * R(b); break;
	case OP_AND: R(d) = R(a) & R(b); break;
	case OP_OR: R(d) = R(a) | R(b); break;
	case OP_XOR: R(d) = R(a) ^ R(b); break;
	case OP_SHL: R(d) = (__s64)((__u64)R(a) << (R(b) & 63)); break;
	case OP_SHR: R(d) = R(a) >> (R(b) & 63); break;
	case OP_ADDI: R(d) = R(a) + imm; break;
	case OP_NEG: R(d) = -R(a); break;
	case OP_EQ: R(d) = R(a) == R(b); break;
	case OP_NE: R(d) = R(a) != R(b); break;
	case OP_LT: R(d) = R(a) < R(b); break;
	case OP_LE: R(d) = R(a) <= R(b); break;
	case OP_GT: R(d) = R(a) > R(b); break;
	case OP_GE: R(d) = R(a) >= R(b); break;
	case OP_MULI: R(d) = R(a) * imm; break;
	case OP_ANDI: R(d) = R(a) & imm; break;
	case OP_XORI: R(d) = R(a) ^ imm; break;
	case OP_SHLI: R(d) = (__s64)((__u64)R(a) << (imm & 63)); break;
	case OP_SHRI: R(d) = R(a) >> (imm & 63); break;
	case OP_JMP: *pcp = imm; return 0;
	case OP_JZ: *pcp = R(a) ? pc + 1 : (__u32)imm; return 0;
	case OP_JNZ: *pcp = R(a) ? (__u32)imm : pc + 1; return 0;
	case OP_JEQ: *pcp = R(a) == R(b) ? (__u32)imm : pc + 1; return 0;
	case OP_JNE: *pcp = R(a) != R(b) ? (__u32)imm : pc + 1; return 0;
	case OP_JLT: *pcp = R(a) < R(b) ? (__u32)imm : pc + 1; return 0;
	case OP_JLE: *pcp = R(a) <= R(b) ? (__u32)imm : pc + 1; return 0;
	case OP_JGT: *pcp = R(a) > R(b) ? (__u32)imm : pc + 1; return 0;
	case OP_JGE: *pcp = R(a) >= R(b) ? (__u32)imm : pc + 1; return 0;
	case OP_GLD: R(d) = lc->g->num[(__u32)imm & (NGLOBALS - 1)]; break;
	case OP_GST: lc->g->num[(__u32)imm & (NGLOBALS - 1)] = R(a); break;
	case OP_GADD:
		x = R(a);
		R(d) = __sync_fetch_and_add(&lc->g->num[(__u32)imm & (NGLOBALS - 1)], x) + x;
		break;
	case OP_KINT:
		/*
		 * a key that starts with an integer, of the 16- or 32-byte class (tid() latencies,
		 * pid() counts, c[pid(), execname()]): stores here instead of KCLR and KPUTI through
		 * exec1. 32 bytes for a 16-byte key too: past the class's size no map reads them, and
		 * a branch on the size cost the verifier 4k insns (800 without).
		 */
		if (imm > 32)
			return FAST_NO;
		*(__s64 *)st->key = R(a);
		*(__s64 *)&st->key[8] = 0;
		*(__s64 *)&st->key[16] = 0;
		*(__s64 *)&st->key[24] = 0;
		break;
	case OP_KCOMM:
		/* execname() into a key (c[execname()]): one helper call here, where CTXS and KPUTS
		 * were an exec1 iteration each (vm_fast-only, as ACT: vm_loop never gives it to exec1) */
		bpf_get_current_comm(&st->key[KEYOFF(imm)], 16);
		break;
	case OP_KCLR:
		/* a 16- or 32-byte key cleared (a scalar statistic's `h <<< v`, c[execname()]): four
		 * stores, no exec1 (as KINT) */
		if (imm > 32)
			return FAST_NO;
		*(__s64 *)st->key = 0;
		*(__s64 *)&st->key[8] = 0;
		*(__s64 *)&st->key[16] = 0;
		*(__s64 *)&st->key[24] = 0;
		break;
	case OP_CTX:
		if (imm == CTX_PID)
			R(d) = bpf_get_current_pid_tgid() >> 32;
		else if (imm == CTX_TID)
			R(d) = (__u32)bpf_get_current_pid_tgid();
		else if (imm == CTX_REALTIME_NS)	/* gettimeofday_ns(): latencies read it twice */
			R(d) = bpf_ktime_get_ns() + lc->ss->realtime_off;
		else
			return FAST_NO;
		break;
	default:
		return FAST_NO;
	}
	*pcp = pc + 1;
	return 0;
}

/* MAXACTION: this handler's ACTs charged maxaction statements (st->pc is that ACT). */
static __always_inline long maxaction_hit(struct loop_ctx *lc)
{
	struct vm_state *st = lc->st;
	struct rec_hdr h = { .type = REC_ERROR, .id = ERR_MAXACTION, .len = sizeof(h), .pc = st->pc };

	emit(lc->slot, &h, sizeof(h), 1);
	handler_error(lc->ss, lc->slot);
	st->status = ST_ERROR;
	return next_handler(lc);
}

/*
 * Up to STEP_INSNS fast instructions of the current handler with pc in a register. Returns 0
 * to go on (also when the next handler started), 1 when the firing is over, FAST_NO when the
 * instruction at st->pc needs exec1(). Instructions are not counted here: MAXACTION is the
 * compiler's ACTs (every loop iteration runs one).
 */
static __always_inline long vm_fast(struct loop_ctx *lc, struct vm_state *st)
{
	__u32 pc = st->pc;
	long r = 0;

	for (int k = 0; k < STEP_INSNS; k++) {
		r = exec_fast(lc, st, &pc);
		if (r == FAST_NO)
			break;
		if (r) {
			st->pc = pc;
			return r == FAST_MAXACTION ? maxaction_hit(lc) : next_handler(lc);
		}
	}
	st->pc = pc;
	return r;
}

/*
 * The bpf_loop callback: vm_fast(), or one other instruction through exec1(); when the
 * handler ended (or an ACT reached MAXACTION), the next handler of the firing. Several
 * handlers share one loop, so the verifier walks the interpreter once whatever the number of
 * probes on a system call.
 */
static long vm_loop(__u64 index, void *arg)
{
	struct loop_ctx *lc = arg;
	struct vm_state *st = lc->st;
	long r;

	/*
	 * exec1 works on st->pc itself: a caught error moves it to the catch block. The loop was
	 * entered because vm_fast() stopped at a slow instruction (or after STEP_INSNS fast ones).
	 */
	__u8 op = lc->code->insn[st->pc & (CODE_INSNS - 1)];

	/*
	 * ACT, ACTH and KCOMM are vm_fast()'s alone (the loop may stop at one after STEP_INSNS
	 * fast instructions): a case for them in exec1 cost the verifier +30-45k insns each.
	 */
	if (op != OP_ACT && op != OP_ACTH && op != OP_KCOMM && exec1(lc, st, &st->pc) && next_handler(lc))
		return 1;
	/*
	 * Pointers reloaded: exec1's hundreds of paths then reach vm_fast() with states the
	 * verifier finds equal (kept in registers, they made it walk vm_fast once per path:
	 * 258k processed insns instead of 166k).
	 */
	asm volatile("" ::: "memory");
	lc = arg;
	st = lc->st;
	r = vm_fast(lc, st);
	return r == FAST_NO ? 0 : r;
}

/* 1 when this CPU's state was busy, else marks it busy (not atomic: see run()). */
static __always_inline __u32 busy_plain(struct vm_state *st)
{
	if (st->busy)
		return 1;
	st->busy = 1;
	return 0;
}

/*
 * Entry shared by every attach family: the cookie is slot << 48 | probe << 32 | handler pc,
 * or slot << 48 | DISPATCH_PROBE << 32 | data offset of a system call dispatch table.
 */
static __always_inline int run(void *ctx, __u64 cookie, int tracepoint)
{
	__u32 slot = (cookie >> 48) & (NSESSIONS - 1);
	__u32 probe = (cookie >> 32) & 0xffff;
	__u32 zero = 0, list = 0, n = 1, single, e;
	struct loop_ctx lc;	/* every field is set below: no zeroing stores on the entry path */
	struct vm_state *st;
	struct session *ss;

	ss = bpf_map_lookup_elem(&sessions, &slot);
	if (!ss || !ss->active)
		return 0;
	lc.code = bpf_map_lookup_elem(&code, &slot);
	lc.g = bpf_map_lookup_elem(&globals, &slot);
	if (!lc.code || !lc.g)
		return 0;
	/* most system calls match no probe: answer before taking the CPU's state */
	if (probe == DISPATCH_PROBE) {
		/* a tracepoint program reads its record directly, without a helper call */
		list = sc_dispatch_list(lc.code, tracepoint ? *(__s32 *)(ctx + SC_NR_OFF) : sc_nr(ctx), (__u32)cookie);
		if (!list)
			return 0;
		n = data_u32(lc.code, list);
		n = n < MAXDISPATCH ? n : MAXDISPATCH;
	}
	single = probe << 16 | ((__u32)cookie & 0xffff);
	e = handler_entry(lc.code, list, single, 0);
	/*
	 * An empty handler (its first instruction is HALT) ends here, before the CPU's state is
	 * taken and set up: about half of an empty firing's cost (docs/ARCHITECTURE.md, Performance).
	 */
	if (((n ^ 1) | (__u8)lc.code->insn[e & 0xffff & (CODE_INSNS - 1)]) == OP_HALT)
		return 0;
	st = bpf_map_lookup_elem(&scratch, &zero);
	if (!st)
		return 0;
	/*
	 * A firing that interrupts (or preempts) a handler on this CPU would clobber its state.
	 * A tracepoint program cannot be preempted (trace_call_bpf asserts cant_sleep(); the
	 * system call tracepoints disable preemption for perf and BPF) and only an interrupt's
	 * handler can run between its load and store, which ends before they resume: a plain
	 * test and set is enough, and spares the locked exchange (~6 ns a firing). The others
	 * (uprobes may run preemptible) exchange atomically.
	 */
	if (tracepoint ? busy_plain(st) : __sync_lock_test_and_set(&st->busy, 1)) {
		count(slot, 1);
		skipped(ss, slot);
		return 0;
	}
	lc.st = st;
	lc.ss = ss;
	lc.tpctx = ctx;
	lc.slot = slot;
	st->n = n;
	st->list = list;
	st->single = single;
	/* the session is active (checked above): the first handler starts without next_handler()'s tests */
	start_handler(st, 0, e);
	/*
	 * A short handler of fast instructions (empty, n++, a global test) ends here, without
	 * bpf_loop's set-up and callback; the rest goes on in the loop. Each handler stops itself
	 * at MAXACTION statements (every loop iteration runs an ACT); bpf_loop's own bound (it
	 * refuses more than 1 << 23) only guards against a runaway.
	 */
	if (vm_fast(&lc, st) != 1)
		bpf_loop(1 << 23, vm_loop, &lc, 0);
	if (st->status == ST_RUNNING) {
		struct rec_hdr h = { .type = REC_ERROR, .id = ERR_MAXACTION, .len = sizeof(h), .pc = st->pc };

		emit(slot, &h, sizeof(h), 1);
		handler_error(ss, slot);
	}
	st->busy = 0;
	return 0;
}

SEC("tracepoint")
int tapvm_tp(void *ctx)
{
	return run(ctx, bpf_get_attach_cookie(ctx), 1);
}

SEC("perf_event")
int tapvm_perf(void *ctx)
{
	return run(ctx, bpf_get_attach_cookie(ctx), 0);
}

/* Raw tracepoints (kernel.trace probes that read TP_PROTO arguments: ctx is u64 args[]); the
 * cookie comes from BPF_RAW_TRACEPOINT_OPEN (Linux 6.10). Each open is its own link: no stubs. */
SEC("raw_tp")
int tapvm_raw_tp(void *ctx)
{
	return run(ctx, bpf_get_attach_cookie(ctx), 0);
}

/* Uprobes and uretprobes (same program type): each uprobe perf event has its own trace event
 * and program array, so one program takes any number of links at one address; no stubs. */
SEC("uprobe")
int tapvm_uprobe(void *ctx)
{
	return run(ctx, bpf_get_attach_cookie(ctx), 0);
}

/* The same for BPF_TRACE_UPROBE_MULTI links (many offsets of one file, one link): detaching
 * them waits for one uprobe grace period instead of one per probe. libbpf 1.1 knows no
 * "uprobe.multi" section; the addon sets this section's expected attach type. */
SEC("uprobe/multi")
int tapvm_uprobe_multi(void *ctx)
{
	return run(ctx, bpf_get_attach_cookie(ctx), 0);
}

/*
 * A tracepoint refuses a second link of the same program (EEXIST), yet many probes and many
 * sessions may want one tracepoint. So tracepoints are attached through NSTUBS tiny entry
 * programs, each verified in microseconds, that tail-call the one interpreter; the attach
 * cookie survives the tail call.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} tp_interp SEC(".maps");

#define TP_STUB(N)						\
	SEC("tracepoint")					\
	int tapvm_tp_stub##N(void *ctx)				\
	{							\
		bpf_tail_call(ctx, &tp_interp, 0);		\
		return 0;					\
	}

#define TP_STUB8(N) TP_STUB(N##0) TP_STUB(N##1) TP_STUB(N##2) TP_STUB(N##3) \
		    TP_STUB(N##4) TP_STUB(N##5) TP_STUB(N##6) TP_STUB(N##7)
TP_STUB8(0) TP_STUB8(1) TP_STUB8(2) TP_STUB8(3)
