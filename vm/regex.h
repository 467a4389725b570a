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
	return data_u16(code, off);
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

/*
 * The tagged DFA (RETMATCH; src/regex/tdfa.ts documents the table and runTdfa is the same
 * loop in TypeScript). Per symbol: the transition's next state and op list; the ops copy
 * registers of st->re in place, in the order the compiler made safe (a nested bpf_loop, at
 * most 255 ops, as the compiler checks); then, when the state holds the accepting thread, its registers are
 * recorded if no match was yet or its start is not later (leftmost-longest). All state lives
 * in the map value, so the callbacks verify once whatever the table.
 */
#define TRE_HDR 12
#define TRE_TRANS (TRE_HDR + 256)

struct tre_ctx {
	struct vm_state *st;
	struct code_blob *code;
};

static long tre_op_cb(__u64 i, void *arg)
{
	struct tre_ctx *r = arg;
	struct re_state *re = &r->st->re;
	__u32 o = re->tab + re->ops + 2 + 2 * (__u32)i;
	__u32 dst = re_u8(r->code, o), src = re_u8(r->code, o + 1);
	__u16 v = src == 255 ? re->pos : src == 254 ? RE_UNSET : re->regs[src & 255];

	re->regs[dst & 255] = v;
	return 0;
}

static long tre_rec_cb(__u64 i, void *arg)
{
	struct re_state *re = &((struct tre_ctx *)arg)->st->re;

	re->rec[i & 255] = re->regs[(re->acc + (__u32)i) & 255];
	return 0;
}

/* runs the op list at table offset `ops` with position pos */
static __always_inline void tre_apply(struct tre_ctx *r, __u32 ops)
{
	struct re_state *re = &r->st->re;

	re->ops = ops;
	bpf_loop(re_u16(r->code, re->tab + ops) & 255, tre_op_cb, r, 0);
}

static __always_inline void tre_accept(struct tre_ctx *r)
{
	struct re_state *re = &r->st->re;
	__u32 a = re_u8(r->code, re->tab + re->acc_off + re->q);

	if (a == 255)
		return;
	re->acc = a * re->ntags;
	if (re->found && re->regs[re->acc & 255] > re->rec[0])
		return;
	re->found = 1;
	bpf_loop(re->ntags & 255, tre_rec_cb, r, 0);
}

static __always_inline void tre_step(struct tre_ctx *r, __u32 cls)
{
	struct re_state *re = &r->st->re;
	__u32 tr = re->tab + TRE_TRANS + 4 * (re->q * re->ncls + cls);

	re->q = re_u16(r->code, tr);
	tre_apply(r, re_u16(r->code, tr + 2));
	tre_accept(r);
}

/* symbol i: BOS, the string's bytes, EOS (one callback, so the step is verified once) */
static long tre_cb(__u64 i, void *arg)
{
	struct tre_ctx *r = arg;
	struct re_state *re = &r->st->re;
	__u32 off = re->tab + TRE_HDR + (__u8)SLOT(r->st, re->slot)[IDX(i - 1)];

	if (i == 0)
		off = re->tab + 6;
	else if (i > re->len)
		off = re->tab + 7;
	re->pos = i == 0 ? 0 : i > re->len ? re->len : i;
	tre_step(r, re_u8(r->code, off));
	return re->q == 0;
}

/* 1 when string slot `slot` matches the tagged table at data[tab]; records the match in st->re */
static __always_inline __s64 tre_match(struct vm_state *st, struct code_blob *code, __u32 slot, __u32 tab)
{
	struct tre_ctx r = { .st = st, .code = code };
	struct re_state *re = &st->re;
	__u32 nstates;

	re->len = s_len(st, slot);
	re->tab = tab;
	re->slot = slot;
	re->ncls = re_u16(code, tab);
	nstates = re_u16(code, tab + 2);
	re->q = re_u16(code, tab + 4);
	re->ntags = re_u8(code, tab + 8);
	re->acc_off = TRE_TRANS + 4 * nstates * re->ncls;
	re->found = 0;
	re->pos = 0;
	tre_apply(&r, re_u16(code, tab + 10));
	tre_accept(&r);
	bpf_loop(re->len + 2, tre_cb, &r, 0);
	if (!re->found) {
		st->ngroups = -1;
		return 0;
	}
	st->ngroups = re->ntags / 2;
	bpf_probe_read_kernel_str(re->str, MAXSTRINGLEN, SLOT(st, slot));
	return 1;
}

/* string slot d = subexpression n of the last match ("" where it took no part) */
static __always_inline void tre_subexpr(struct vm_state *st, __u32 d, __s64 n)
{
	struct re_state *re = &st->re;
	__u32 s, e, sz;

	SLOT(st, d)[0] = 0;
	if (n < 0 || n >= st->ngroups)
		return;
	s = re->rec[(2 * n) & 255];
	e = re->rec[(2 * n + 1) & 255];
	if (s >= MAXSTRINGLEN || e >= MAXSTRINGLEN || e <= s)
		return;
	sz = e - s + 1;
	if (sz > MAXSTRINGLEN)
		sz = MAXSTRINGLEN;
	bpf_probe_read_kernel_str(SLOT(st, d), sz, &re->str[IDX(s)]);
}

#endif
