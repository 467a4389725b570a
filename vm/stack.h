/* SPDX-License-Identifier: GPL-2.0 */
/*
 * print_backtrace(): the probe context's kernel stack as a STACK record (header + u64 return
 * addresses); user space symbolizes it through /proc/kallsyms. backtrace(): the same stack as
 * a string of hex addresses, formatted here. Included by tapvm.bpf.c.
 */
#ifndef TAPVM_STACK_H
#define TAPVM_STACK_H

static __always_inline void stack_record(struct loop_ctx *lc, __u32 pc)
{
	struct vm_state *st = lc->st;
	struct rec_hdr *h = (struct rec_hdr *)st->out;
	long n = bpf_get_stack(lc->tpctx, st->out + sizeof(*h), MAXSTACK * 8, 0);

	if (n < 0)
		n = 0;
	n &= 2 * MAXSTACK * 8 - 1;
	if (n > MAXSTACK * 8)
		n = MAXSTACK * 8;
	h->type = REC_STACK;
	h->id = n / 8;
	h->pc = pc;
	h->len = sizeof(*h) + n;
	emit(lc->slot, st->out, sizeof(*h) + n, 0);
}

struct btstr_ctx {
	__u64 *addrs;
	char *buf;
	__u32 n;
	__u32 pos;
};

/* One address as stap's backtrace() spells it: " 0x" and 16 hex digits (a bpf_loop callback). */
static long btstr_one(__u64 i, void *arg)
{
	struct btstr_ctx *bc = arg;
	__u32 pos = bc->pos;
	__u64 a;

	/* whole addresses only: a cut one would name another place */
	if (i >= bc->n || pos + 20 > MAXSTRINGLEN)
		return 1;
	a = bc->addrs[i & (MAXSTACK - 1)];
	if (i)
		bc->buf[pos++ & (MAXSTRINGLEN - 1)] = ' ';
	bc->buf[pos++ & (MAXSTRINGLEN - 1)] = '0';
	bc->buf[pos++ & (MAXSTRINGLEN - 1)] = 'x';
#pragma clang loop unroll(disable)
	for (int k = 60; k >= 0; k -= 4) {
		__u8 d = (a >> k) & 15;

		bc->buf[pos++ & (MAXSTRINGLEN - 1)] = d < 10 ? '0' + d : 'a' + d - 10;
	}
	bc->pos = pos;
	return 0;
}

/* backtrace(): the kernel stack as a string of hex addresses, as many as fit MAXSTRINGLEN. */
static __always_inline void stack_string(struct loop_ctx *lc, char *buf)
{
	struct vm_state *st = lc->st;
	struct btstr_ctx bc = { .addrs = (__u64 *)st->out, .buf = buf };
	long n = bpf_get_stack(lc->tpctx, st->out, MAXSTACK * 8, 0);

	bc.n = n > 0 ? (__u64)n / 8 : 0;
	bpf_loop(MAXSTACK, btstr_one, &bc, 0);
	buf[bc.pos & (MAXSTRINGLEN - 1)] = 0;
}

#endif /* TAPVM_STACK_H */
