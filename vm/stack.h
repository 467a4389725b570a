/* SPDX-License-Identifier: GPL-2.0 */
/*
 * print_backtrace(): the probe context's kernel stack as a STACK record (header + u64 return
 * addresses); user space symbolizes it through /proc/kallsyms. Included by tapvm.bpf.c.
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

#endif /* TAPVM_STACK_H */
