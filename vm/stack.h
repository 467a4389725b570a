/* SPDX-License-Identifier: GPL-2.0 */
/*
 * print_backtrace(): the probe context's kernel stack as a STACK record (header + u64 return
 * addresses); user space symbolizes it through /proc/kallsyms. backtrace(): the same stack as
 * a string of hex addresses, formatted here. Included by tapvm.bpf.c.
 */
#ifndef TAPVM_STACK_H
#define TAPVM_STACK_H

/*
 * print_backtrace() (user 0) and print_ubacktrace[_brief]() (user 1, 2): the user stack of the
 * current task (its saved user registers in a tracepoint, the probed ones in a uprobe) goes
 * after the tgid, so that user space names the addresses through that process's maps. One
 * call site for both: the verifier walks it once.
 */
static __always_inline void stack_record(struct loop_ctx *lc, __u32 pc, __u32 user)
{
	struct vm_state *st = lc->st;
	struct rec_hdr *h = (struct rec_hdr *)st->out;
	__u32 pre = user ? 8 : 0;
	long n = bpf_get_stack(lc->tpctx, st->out + sizeof(*h) + pre, MAXSTACK * 8, user ? BPF_F_USER_STACK : 0);

	if (n < 0)
		n = 0;
	n &= 2 * MAXSTACK * 8 - 1;
	if (n > MAXSTACK * 8)
		n = MAXSTACK * 8;
	if (user)
		*(__u64 *)(st->out + sizeof(*h)) = bpf_get_current_pid_tgid() >> 32;
	h->type = user == 2 ? REC_USTACK_BRIEF : user ? REC_USTACK : REC_STACK;
	h->id = n / 8;
	h->pc = pc;
	h->len = sizeof(*h) + pre + n;
	emit(lc->slot, st->out, sizeof(*h) + pre + n, 0);
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

/*
 * backtrace() (flags 0), ubacktrace() and ucallers(n) (BPF_F_USER_STACK): the stack as a
 * string of hex addresses, levels 0..last (all for a negative last), as many whole ones as
 * fit MAXSTRINGLEN.
 */
static __always_inline void stack_string(struct loop_ctx *lc, char *buf, __u64 flags, __s64 last)
{
	struct vm_state *st = lc->st;
	struct btstr_ctx bc = { .addrs = (__u64 *)st->out, .buf = buf };
	long n = bpf_get_stack(lc->tpctx, st->out, MAXSTACK * 8, flags);

	bc.n = n > 0 ? (__u64)n / 8 : 0;
	/* out here, not in the callback: a branch there is verified every iteration */
	if (last >= 0 && last < bc.n)
		bc.n = last + 1;
	bpf_loop(MAXSTACK, btstr_one, &bc, 0);
	buf[bc.pos & (MAXSTRINGLEN - 1)] = 0;
}

struct uenc_ctx {
	__u64 *addrs;
	char *buf;
	__u32 n;
	__u32 pos;
};

static long uenc_one(__u64 i, void *arg)
{
	struct uenc_ctx *uc = arg;

	if (i >= uc->n)
		return 1;
	uc->pos = sc_put_varint(uc->buf, uc->pos, uc->addrs[i & (MAXSTACK - 1)]);
	return 0;
}

/*
 * usymname(a) (kind 0), usymdata(a) (kind 1), sprint_ubacktrace() (kind 2): the kernel has no
 * user symbol table, so the string holds 0x01 'U' kind, the tgid and the address(es) as
 * SCARGS's varints, ended by 0x02; user space names them wherever output shows the string
 * (src/kernel/usyms.ts). A stack keeps the addresses that fit (stap truncates the text too).
 */
static __always_inline void usym_encode(struct loop_ctx *lc, char *buf, __u64 addr, __u32 kind)
{
	struct vm_state *st = lc->st;
	struct uenc_ctx uc = { .addrs = (__u64 *)st->out, .buf = buf };
	long n;

	buf[0] = 1;
	buf[1] = 'U';
	buf[2] = '0' + (kind & 3);
	uc.pos = sc_put_varint(buf, 3, bpf_get_current_pid_tgid() >> 32);
	if (kind == 2) {
		n = bpf_get_stack(lc->tpctx, st->out, MAXSTACK * 8, BPF_F_USER_STACK);
		uc.n = n > 0 ? (__u64)n / 8 : 0;
		bpf_loop(MAXSTACK, uenc_one, &uc, 0);
	} else {
		uc.pos = sc_put_varint(buf, uc.pos, addr);
	}
	buf[uc.pos & (MAXSTRINGLEN - 1)] = 2;
	buf[(uc.pos + 1) & (MAXSTRINGLEN - 1)] = 0;
}

/* uaddr(): the user address the current task was at (the first entry of its user stack), 0 without one. */
static __always_inline __s64 user_pc(struct loop_ctx *lc)
{
	__u64 ip = 0;

	if (bpf_get_stack(lc->tpctx, &ip, 8, BPF_F_USER_STACK) <= 0)
		return 0;
	return ip;
}

#endif /* TAPVM_STACK_H */
