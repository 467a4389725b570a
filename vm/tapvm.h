/* SPDX-License-Identifier: GPL-2.0 */
/* Structures that cross the kernel/user boundary. src/runtime/layout.ts mirrors them. */
#ifndef TAPVM_H
#define TAPVM_H

#include "isa.h"

/* One script's code and constants: an element of the `code` array map, indexed by slot. */
struct code_blob {
	__u64 insn[CODE_INSNS];
	/* data[0 .. NPROBES*4) holds the pp() string offset of each probe index */
	char data[DATA_BYTES];
};

#ifdef __bpf__
/*
 * The data area's u16/u32 tables are aligned by the compiler (src/compile); a plain
 * `*(__u32 *)&data[off]` is compiled as four byte loads (clang cannot see the alignment of a
 * char array element), which the dispatch path paid on every system call.
 */
static __always_inline __u32 data_u32(const struct code_blob *code, __u32 off)
{
	return *(const __u32 *)__builtin_assume_aligned(&code->data[off & (DATA_BYTES - 4)], 4);
}

static __always_inline __u16 data_u16(const struct code_blob *code, __u32 off)
{
	return *(const __u16 *)__builtin_assume_aligned(&code->data[off & (DATA_BYTES - 2)], 2);
}
#endif

struct globals_blob {
	__s64 num[NGLOBALS];
};

struct gstr_blob {
	char s[NGSTRS][MAXSTRINGLEN];
};

/* Per-session control block: element of the `sessions` array map. */
struct session {
	__u32 active;		/* kernel probes run only while non-zero */
	__u32 maxaction;	/* MAXACTION: statements per handler, as ACT charges them */
	__s64 realtime_off;	/* CLOCK_REALTIME - CLOCK_MONOTONIC, ns */
	__u64 owner_pid;
	__u64 owner_start;	/* owner's start time (jiffies since boot) from /proc/PID/stat */
	__s64 target;		/* target(): the -c command's or the -x process's pid, else 0 */
	__u32 maxskipped;	/* -D MAXSKIPPED: more skipped firings end the session */
	__u32 skipped;		/* skipped firings, all CPUs (the per-CPU counters are for the report) */
	__u32 maxerrors;	/* -D MAXERRORS: more errors stop the kernel probes at once */
	__u32 errors;		/* errors of kernel handlers, all CPUs */
};

/* Per-session, per-CPU counters: element of the `counters` per-CPU array. */
struct counters {
	__u64 lost;		/* output records dropped on a full ring buffer */
	__u64 skipped;		/* firings dropped because the CPU's VM state was busy */
	__u64 errors;
	__u64 runs;
};

/* Header of every record in a session's ring buffer. */
struct rec_hdr {
	__u32 type;	/* REC_* */
	__u32 id;	/* format id (PRINT) or error code (ERROR) */
	__u32 len;	/* whole record, header included */
	__u32 pc;	/* instruction that produced it */
};

/* One CPU's copy of a statistic (an element of a per-CPU hash map; vm/stats.h). */
struct stat_val {
	__s64 count, sum, min, max;
	__s64 avg_s;		/* running mean << shift (Welford) */
	__s64 m2;		/* sum of squared deviations << 2 * shift */
	__s64 var_s;		/* m2 / (count - 1), -1 below two values */
	__s64 pad;
	__s64 hist[STAT_BUCKETS];
};

/* How a statistic accumulates: data[NPROBES * 4 + id * 16] of its script's code blob. */
struct stat_desc {
	__u8 hist;		/* HIST_NONE, HIST_LOG, HIST_LINEAR */
	__u8 variance;		/* @variance is used: keep the Welford terms */
	__u8 shift;		/* @variance(x, shift) */
	__u8 pad;
	__s32 start;		/* @hist_linear(x, start, stop, interval) */
	__s32 interval;
	__s32 buckets;		/* linear: (stop - start) / interval + 3 (under- and overflow) */
};

#define STAT_DESC_OFF (NPROBES * 4)
#define STAT_LOG_BUCKET0 64

#endif /* TAPVM_H */
