/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The tagged regex matcher's per-CPU state (a member of struct vm_state; vm/regex.h runs it):
 * the registers of a running match, and the handler's last match that matched(),
 * ngroups() and matched_str() read until the next RETMATCH (its group count is the VM
 * state's `ngroups`, in the control block that next_handler() resets).
 */
#ifndef TAPVM_REGEX_STATE_H
#define TAPVM_REGEX_STATE_H

#define RE_UNSET 0xffff	/* an unset tag: above every position */

struct re_state {
	__u16 regs[256];		/* tag registers: thread i, tag t in i * ntags + t (positions up to 511) */
	__u16 rec[256];			/* the recorded match's tags (RE_UNSET: unset) */
	char str[MAXSTRINGLEN];		/* the matched string, as stap keeps it */
	__u32 tab, slot, len, ncls, q, ntags, acc_off, acc, ops, found, pos;
};

#endif
