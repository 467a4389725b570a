/* SPDX-License-Identifier: GPL-2.0 */
/*
 * `=~` / `!~` for the in-kernel interpreter: REMATCH runs a DFA table that the compiler built
 * from the ERE (src/regex/ere.ts documents the layout; runTable there is the same loop in
 * TypeScript). The symbols are BOS, the string's bytes, EOS; state 0 (no match possible) and
 * state 1 (matched) absorb, so the byte loop stops at either. The byte loop is a bpf_loop
 * callback, verified once whatever the string; every data index is masked into the data area.
 * Included by tapvm.bpf.c after vm/strings.h (s_len, SLOT, IDX).
 */
#ifndef TAPVM_REGEX_H
#define TAPVM_REGEX_H

#define RE_CLASSES 8			/* u8 class[256] after the 8-byte header */
#define RE_NEXT (RE_CLASSES + 256)	/* u16 next[nstates][nclasses] */

struct re_ctx {
	struct vm_state *st;
	struct code_blob *code;
	__u32 slot, tab, ncls, q;
};

static __always_inline __u32 re_u16(struct code_blob *code, __u32 off)
{
	return *(__u16 *)&code->data[off & (DATA_BYTES - 2)];
}

static __always_inline __u32 re_u8(struct code_blob *code, __u32 off)
{
	return (__u8)code->data[off & (DATA_BYTES - 1)];
}

static __always_inline void re_step(struct re_ctx *r, __u32 cls)
{
	r->q = re_u16(r->code, r->tab + RE_NEXT + 2 * (r->q * r->ncls + cls));
}

/* one byte of the string */
static long re_cb(__u64 i, void *arg)
{
	struct re_ctx *r = arg;
	__u8 c = (__u8)SLOT(r->st, r->slot)[IDX(i)];

	re_step(r, re_u8(r->code, r->tab + RE_CLASSES + c));
	return r->q <= 1;
}

/* 1 when string slot `slot` matches the table at data[tab] anywhere */
static __always_inline __s64 re_match(struct vm_state *st, struct code_blob *code, __u32 slot, __u32 tab)
{
	struct re_ctx r = { .st = st, .code = code, .slot = slot, .tab = tab };
	__u32 len = s_len(st, slot);

	r.ncls = re_u16(code, tab);
	r.q = re_u16(code, tab + 4);
	re_step(&r, re_u8(code, tab + 6));	/* BOS */
	if (r.q > 1 && len > 0)
		bpf_loop(len, re_cb, &r, 0);
	if (r.q > 1)
		re_step(&r, re_u8(code, tab + 7));	/* EOS */
	return r.q == 1;
}

#endif
