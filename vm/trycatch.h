/* SPDX-License-Identifier: GPL-2.0 */
/*
 * try/catch: a stack of pending error handlers in the per-CPU VM state. TRY pushes the catch
 * pc with the frame it belongs to; a catchable error pops the top handler, unwinds the call
 * frames to it and jumps there instead of ending the handler. Included by tapvm.bpf.c after
 * struct vm_state and struct loop_ctx.
 */
#ifndef TAPVM_TRYCATCH_H
#define TAPVM_TRYCATCH_H

static __always_inline long try_push(struct vm_state *st, __u32 catch_pc)
{
	__u32 n = st->ntry;

	if (n >= MAXTRY)
		return -1;
	st->handlers[n & (MAXTRY - 1)].pc = catch_pc;
	st->handlers[n & (MAXTRY - 1)].depth = st->depth;
	st->handlers[n & (MAXTRY - 1)].fp = st->fp;
	st->handlers[n & (MAXTRY - 1)].sfp = st->sfp;
	st->ntry = n + 1;
	return 0;
}

static __always_inline void try_pop(struct vm_state *st, __u32 count)
{
	st->ntry = count >= st->ntry ? 0 : st->ntry - count;
}

/* Whether the error was caught: then the VM goes on at the catch block (status unchanged). */
static __always_inline int try_catch(struct vm_state *st, __u32 code, const char *msg)
{
	__u32 n = st->ntry;

	if (!n || code == ERR_MAXACTION)
		return 0;
	n = (n - 1) & (MAXTRY - 1);
	st->ntry = n;
	st->pc = st->handlers[n].pc;
	st->depth = st->handlers[n].depth;
	st->fp = st->handlers[n].fp;
	st->sfp = st->handlers[n].sfp;
	st->errcode = code;
	st->errmsg[0] = 0;
	if (msg)
		bpf_probe_read_kernel_str(st->errmsg, MAXSTRINGLEN, msg);
	return 1;
}

/* CATCH: error()'s own text, else the compiler's message table entry for the code. */
static __always_inline void catch_message(struct vm_state *st, struct code_blob *code, char *dst, __u32 table)
{
	__u32 off;

	if (st->errcode == ERR_USER) {
		bpf_probe_read_kernel_str(dst, MAXSTRINGLEN, st->errmsg);
		return;
	}
	off = data_u32(code, table + 4 * (st->errcode & 63));
	bpf_probe_read_kernel_str(dst, MAXSTRINGLEN, &code->data[off & (DATA_BYTES - 1)]);
}

#endif /* TAPVM_TRYCATCH_H */
