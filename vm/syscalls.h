/* SPDX-License-Identifier: GPL-2.0 */
/*
 * System call probes. syscall.* attaches once to raw_syscalls:sys_enter/exit (or, for a few
 * system calls, to their syscalls:sys_enter_NAME tracepoints: same record layout, the number
 * at offset 8 and the arguments or the return value from offset 16). The attach cookie names
 * a dispatch table in the script's data area instead of one handler: table[nr] is the data
 * offset of a list { u32 n; u32 entry[n] } with entry = probe index << 16 | handler pc.
 * argstr and retstr are not formatted here: the raw values are encoded into the string slot
 * and user space formats them as stap does (src/probes/syscall-format.ts).
 */
#ifndef TAPVM_SYSCALLS_H
#define TAPVM_SYSCALLS_H

#define SC_NR_OFF 8
#define SC_ARG_OFF 16

static __always_inline __s32 sc_nr(void *tpctx)
{
	__s32 nr = -1;

	bpf_probe_read_kernel(&nr, 4, tpctx + SC_NR_OFF);
	return nr;
}

/* The data offset of the handler list for system call nr, 0 when no probe of the table wants it. */
static __always_inline __u32 sc_dispatch_list(struct code_blob *code, __s32 nr, __u32 table)
{
	__u16 off;

	if (nr < 0 || nr >= NSYSCALLS)
		return 0;
	off = data_u16(code, table + nr * 2);
	return off;
}

/* 6 bits a byte, low bits first: 0x80 | bits while more follow, 0xc0 | bits for the last. */
static __always_inline __u32 sc_put_varint(char *buf, __u32 pos, __u64 v)
{
#pragma clang loop unroll(disable)
	for (int k = 0; k < 11; k++) {
		__u8 bits = v & 63;

		if (pos >= MAXSTRINGLEN - 2)
			return pos;
		v >>= 6;
		buf[pos & (MAXSTRINGLEN - 1)] = v ? (0x80 | bits) : (0xc0 | bits);
		pos++;
		if (!v)
			break;
	}
	return pos;
}

struct argstr_ctx {
	struct loop_ctx *lc;
	char *buf;
	__u32 info;
	__u32 pos;
};

/* One argument (a bpf_loop callback, so the verifier checks it once, not six times). */
static long sc_argstr_one(__u64 i, void *arg)
{
	struct argstr_ctx *ac = arg;
	char *buf = ac->buf;
	__u32 pos = ac->pos;
	__u64 v = 0;
	long n;

	bpf_probe_read_kernel(&v, 8, ac->lc->tpctx + SC_ARG_OFF + (i & 7) * 8);
	if (!(ac->info & (8 << (i & 7)))) {
		ac->pos = sc_put_varint(buf, pos, v);
		return 0;
	}
	/* a user string, ended by 0x03; a fault gives 0x04 and the pointer instead */
	if (pos >= MAXSTRINGLEN - 3)
		return 1;
	n = bpf_probe_read_user_str(buf + pos, MAXSTRINGLEN - 2 - pos, (void *)v);
	if (n > 0) {
		pos += n - 1;
	} else {
		buf[pos & (MAXSTRINGLEN - 1)] = 4;
		pos = sc_put_varint(buf, pos + 1, v);
	}
	if (pos < MAXSTRINGLEN - 2)
		buf[pos++ & (MAXSTRINGLEN - 1)] = 3;
	ac->pos = pos;
	return 0;
}

static __always_inline void sc_argstr(struct loop_ctx *lc, char *buf, __u32 table)
{
	__s32 nr = sc_nr(lc->tpctx);
	struct argstr_ctx ac = { .lc = lc, .buf = buf };
	__u16 info = 0;

	buf[0] = 1;
	buf[1] = 'A';
	if (nr >= 0 && nr < NSYSCALLS)
		info = data_u16(lc->code, table + nr * 2);
	ac.info = info;
	ac.pos = sc_put_varint(buf, 2, (__u32)nr);
	bpf_loop(info & 7, sc_argstr_one, &ac, 0);
	buf[ac.pos & (MAXSTRINGLEN - 1)] = 2;
	buf[(ac.pos + 1) & (MAXSTRINGLEN - 1)] = 0;
}

static __always_inline void sc_retstr(struct loop_ctx *lc, char *buf)
{
	__u64 v = 0;
	__u32 pos;

	buf[0] = 1;
	buf[1] = 'R';
	pos = sc_put_varint(buf, 2, (__u32)sc_nr(lc->tpctx));
	bpf_probe_read_kernel(&v, 8, lc->tpctx + SC_ARG_OFF);
	pos = sc_put_varint(buf, pos, v);
	buf[pos & (MAXSTRINGLEN - 1)] = 2;
	buf[(pos + 1) & (MAXSTRINGLEN - 1)] = 0;
}

static __always_inline void sc_name(struct loop_ctx *lc, char *buf, __s64 nr, __u32 table)
{
	__u16 off = 0;

	if (nr >= 0 && nr < NSYSCALLS)
		off = data_u16(lc->code, table + nr * 2);
	if (!off) {
		buf[0] = 0;
		return;
	}
	bpf_probe_read_kernel_str(buf, MAXSTRINGLEN, &lc->code->data[off & (DATA_BYTES - 1)]);
}

struct flags_ctx {
	struct code_blob *code;
	char *buf;
	__u32 table;
	__u32 rest;
	__u32 pos;
	__u32 named;
};

/* One table entry (a bpf_loop callback: the verifier walks it once). */
static long flag_one(__u64 i, void *arg)
{
	struct flags_ctx *fc = arg;
	__u32 at = (fc->table + 16 + (__u32)i * 16) & (DATA_BYTES - 16);
	__u32 *e = (__u32 *)&fc->code->data[at];
	__u32 pos = fc->pos;
	long n;

	if ((fc->rest & e[0]) != e[1])
		return 0;
	fc->rest &= ~e[0];
	/* '|' before every name but the first: overwritten by the name when none came yet */
	fc->buf[pos] = '|';
	pos = (pos + fc->named) & (MAXSTRINGLEN / 2 - 1);
	n = bpf_probe_read_kernel_str(fc->buf + pos, MAXSTRINGLEN / 2, &fc->code->data[e[2] & (DATA_BYTES - 1)]);
	fc->pos = (pos + (n > 0 ? n - 1 : 0)) & (MAXSTRINGLEN / 2 - 1);
	fc->named = 1;
	return 0;
}

/*
 * argstr's flag arguments formatted in the kernel, for a handler that compares or measures
 * argstr: string slot `slot` = the names of a (mask, value, name) table in the script's data
 * area, in table order, then what no entry named in hex (src/probes/syscall-format.ts
 * flagBits). The names take at most 63 bytes (positions masked to MAXSTRINGLEN / 2: with
 * the callback's writes bounded that way the verifier walks it once, ~1,000 processed insns
 * instead of 41,000).
 */
__noinline long flag_str(struct vm_state *st, struct code_blob *code, __u32 slot, __u32 flags, __u32 table)
{
	struct flags_ctx fc = { .code = code, .table = table, .rest = flags };
	__u32 count;
	char *buf;
	long n;
	__u32 pos;

	if (!st || !code)
		return 0;
	buf = st->s[slot & (NSTRS - 1)];
	fc.buf = buf;
	count = *(__u32 *)&code->data[table & (DATA_BYTES - 4)];

	bpf_loop(count & 63, flag_one, &fc, 0);
	pos = fc.pos;
	if (fc.rest || !fc.named) {
		static const char fmt[] = "0x%llx";
		__u64 args[1] = { fc.rest };

		if (fc.named && pos < MAXSTRINGLEN - 1)
			buf[pos++ & (MAXSTRINGLEN - 1)] = '|';
		pos &= MAXSTRINGLEN - 1;
		n = bpf_snprintf(buf + pos, MAXSTRINGLEN - pos, fmt, args, sizeof(args));
		if (n > 0)
			pos += n - 1;
	}
	buf[pos & (MAXSTRINGLEN - 1)] = 0;
	return 0;
}

#endif /* TAPVM_SYSCALLS_H */
