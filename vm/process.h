/* SPDX-License-Identifier: GPL-2.0 */
/* process("PATH").begin/.end and user-space @var: which file the current task runs and where, read through CO-RE. */
#ifndef TAPVM_PROCESS_H
#define TAPVM_PROCESS_H

/* Local definitions of the few fields read; the ___exe suffix keeps them apart from
 * tapvm.bpf.c's task_struct, CO-RE matches them by the name before it. */
struct super_block___exe {
	__u32 s_dev;
} __attribute__((preserve_access_index));

struct inode___exe {
	unsigned long i_ino;
	struct super_block___exe *i_sb;
} __attribute__((preserve_access_index));

struct file___exe {
	struct inode___exe *f_inode;
} __attribute__((preserve_access_index));

struct mm_struct___exe {
	struct file___exe *exe_file;
	unsigned long start_code;
} __attribute__((preserve_access_index));

struct task_struct___exe {
	struct mm_struct___exe *mm;
} __attribute__((preserve_access_index));

/* The inode number (dev = 0) or the kernel dev_t (dev = 1) of the current task's executable;
 * 0 for a task without one (a kernel thread). */
static __always_inline __s64 current_exe(int dev)
{
	struct task_struct___exe *t = (struct task_struct___exe *)bpf_get_current_task();

	if (dev)
		return BPF_CORE_READ(t, mm, exe_file, f_inode, i_sb, s_dev);
	return BPF_CORE_READ(t, mm, exe_file, f_inode, i_ino);
}

/* The current task's mm->start_code: binfmt_elf sets it to the load bias plus the lowest
 * virtual address of the executable's PF_X segments, so a user-space @var finds the bias
 * (the address of a global = start_code - that lowest address + the symbol's value). 0 for
 * a kernel thread. */
static __always_inline __s64 current_start_code(void)
{
	struct task_struct___exe *t = (struct task_struct___exe *)bpf_get_current_task();

	return BPF_CORE_READ(t, mm, start_code);
}

#endif /* TAPVM_PROCESS_H */
