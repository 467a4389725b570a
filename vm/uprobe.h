/* SPDX-License-Identifier: GPL-2.0 */
/* User-space probes: function arguments from the probed task's registers (x86_64 pt_regs). */
#ifndef TAPVM_UPROBE_H
#define TAPVM_UPROBE_H

/* Byte offsets in x86_64's struct pt_regs (arch/x86/include/asm/ptrace.h). */
#define PT_R9 64
#define PT_R8 72
#define PT_CX 88
#define PT_DX 96
#define PT_SI 104
#define PT_DI 112
#define PT_SP 152

/*
 * Argument n (1-based) of the probed function by the SysV x86_64 ABI, as stap's dwarfless
 * _stp_arg: rdi rsi rdx rcx r8 r9, then the stack above the return address at entry.
 * `wb` is TPLD's width | 0x80-when-signed. Returns -1 for n < 1.
 */
static __always_inline int uprobe_arg(void *regs, __s64 n, __u32 wb, __s64 *out)
{
	__u64 v = 0, sp = 0;
	__u32 off;

	if (n < 1)
		return -1;
	if (n <= 6) {
		switch (n) {
		case 1: off = PT_DI; break;
		case 2: off = PT_SI; break;
		case 3: off = PT_DX; break;
		case 4: off = PT_CX; break;
		case 5: off = PT_R8; break;
		default: off = PT_R9; break;
		}
		bpf_probe_read_kernel(&v, 8, regs + off);
	} else {
		bpf_probe_read_kernel(&sp, 8, regs + PT_SP);
		if (bpf_probe_read_user(&v, 8, (void *)(sp + 8 * (__u64)(n - 6))))
			v = 0;
	}
	if ((wb & 0xf) == 4)
		v = (wb & 0x80) ? (__u64)(__s64)(__s32)v : (__u32)v;
	*out = (__s64)v;
	return 0;
}

#endif /* TAPVM_UPROBE_H */
