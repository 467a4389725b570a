/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sprintf in the kernel: one printf conversion per SFMT/SFMTS instruction, appended to a
 * string slot, as stap's runtime/vsprintf.c formats it (src/output/format.ts is the same in
 * TypeScript). The conversion is the instruction's immediate (src/isa/sprintf.ts). Output
 * goes through st->res, cut at MAXSTRINGLEN-1 bytes like stap's _stp_snprintf into a string.
 * Padding runs are bpf_loop callbacks; counters live in st->sx (see vm/strings.h).
 */
#ifndef TAPVM_FORMAT_H
#define TAPVM_FORMAT_H

enum { FC_D, FC_I, FC_U, FC_O, FC_X, FC_XX, FC_P, FC_C, FC_S };
#define FF_MINUS (1 << 4)
#define FF_PLUS (1 << 5)
#define FF_SPACE (1 << 6)
#define FF_HASH (1 << 7)
#define FF_ZERO (1 << 8)
#define FF_WIDTH_SHIFT 9	/* width + 1 in 10 bits, 0 when none */
#define FF_PREC_SHIFT 19	/* precision + 1 in 10 bits, 0 when none */
#define FF_WIDTH_STAR (1 << 29)
#define FF_PREC_STAR (1 << 30)
/* 1022 pads past the widest result (511 bytes) before any digit or prefix, as stap's 8 KiB */
#define FF_FIELD_MAX 1022

static __always_inline void f_put(struct vm_state *st, char c)
{
	__u32 o = st->sx.o;

	if (o < SMAX) {
		st->res[IDX(o)] = c;
		st->sx.o = o + 1;
	}
}

struct fmt_cb_ctx {
	struct vm_state *st;
};

/* stap: clamp_t(int, arg, 0, STP_BUFFER_SIZE); FF_FIELD_MAX gives the same cut result */
static __always_inline __s32 f_field(__s64 v)
{
	__s32 x = (__s32)v;

	return x < 0 ? 0 : x > FF_FIELD_MAX ? FF_FIELD_MAX : x;
}

/* digits of st->fm.num in st->fm.base, least significant first */
static long digit_cb(__u64 index, void *arg)
{
	struct vm_state *st = ((struct fmt_cb_ctx *)arg)->st;
	__u64 num = st->fm.num;
	__u32 base = st->fm.base, k = st->fm.nbody, dgt;

	if (base < 2 || k >= 24)
		return 1;
	dgt = num % base;
	st->dig[k & 31] = dgt < 10 ? '0' + dgt : (st->fm.large ? 'A' : 'a') + dgt - 10;
	st->fm.nbody = k + 1;
	st->fm.num = num / base;
	return st->fm.num ? 0 : 1;
}

/* one byte of the field per call, phase by phase: spaces, sign/prefix or escape, zeros,
 * precision zeros, digits or string bytes, spaces, %0s's NUL. The plan is in st->fm (map
 * memory the verifier does not track), so this is verified once for every conversion. */
static long emit_cb(__u64 index, void *arg)
{
	struct vm_state *st = ((struct fmt_cb_ctx *)arg)->st;
	__u32 k = st->fm.k;

	if (st->sx.o >= SMAX)
		return 1;
	switch (st->fm.phase) {
	case 0:
	case 2:
	case 3:
	case 5:
		if (st->fm.n[st->fm.phase & 7] > 0) {
			st->fm.n[st->fm.phase & 7]--;
			f_put(st, st->fm.phase == 0 || st->fm.phase == 5 ? ' ' : '0');
			return 0;
		}
		break;
	case 1:
		if (k < st->fm.npre) {
			f_put(st, st->fm.pre[k & 3]);
			st->fm.k = k + 1;
			return 0;
		}
		break;
	case 4:
		if (k < st->fm.nbody) {
			if (st->fm.body_str)
				f_put(st, SLOT(st, st->fm.slot)[IDX(k)]);
			else
				f_put(st, st->dig[(st->fm.nbody - 1 - k) & 31]);
			st->fm.k = k + 1;
			return 0;
		}
		break;
	default:
		if (st->fm.tail)
			f_put(st, 0);
		return 1;
	}
	st->fm.phase++;
	st->fm.k = 0;
	return 0;
}

/*
 * SFMT / SFMTS: d .= the value formatted by spec (src/isa/sprintf.ts). x is the long value
 * (SFMT), a the string slot (SFMTS); `slots` is d | a << 8, `stars` the '*' width and
 * precision already clamped by f_field(), width | prec << 16. The layout is
 * runtime/vsprintf.c's number(), _stp_vsprint_char() and the %s case. A global function (at
 * most five arguments, hence the packing): the verifier checks it once on its own instead of
 * inside the dispatch callback's passes (122k -> 104k processed insns per entry program).
 */
__noinline long f_conv(struct vm_state *st, __u32 slots, __s64 x, __u32 spec, __u32 stars)
{
	struct fmt_cb_ctx c = { .st = st };
	__s32 width = -1, prec = -1, size;
	__u32 conv = spec & 0xf, np = 0, d = slots & 0xff, a = (slots >> 8) & 0xff;
	int left = !!(spec & FF_MINUS);

	if (!st)
		return 0;
	if (spec & FF_WIDTH_STAR)
		width = stars & 0xffff;
	else
		width = (__s32)((spec >> FF_WIDTH_SHIFT) & 0x3ff) - 1;
	if (spec & FF_PREC_STAR)
		prec = stars >> 16;
	else
		prec = (__s32)((spec >> FF_PREC_SHIFT) & 0x3ff) - 1;
	bpf_probe_read_kernel_str(st->res, MAXSTRINGLEN, SLOT(st, d));
	st->sx.o = s_len(st, d);
	__builtin_memset(&st->fm, 0, sizeof(st->fm));
	if (conv == FC_S) {
		size = s_len(st, a);
		if (prec >= 0 && prec < size)
			size = prec;
		st->fm.body_str = 1;
		st->fm.slot = a;
		st->fm.nbody = size;
		if (left)
			st->fm.n[5] = width - size;
		else
			st->fm.n[0] = width - size;
		st->fm.tail = !!(spec & FF_ZERO);
	} else if (conv == FC_C) {
		__u8 ch = x;
		char e = 0;

		if ((spec & FF_HASH) && (ch < 0x20 || ch > 0x7e || ch == '\'' || ch == '\\')) {
			e = c_escape(ch, '\'');
			st->fm.pre[0] = '\\';
			if (e) {
				st->fm.pre[1] = e;
				np = 2;
			} else {
				st->fm.pre[1] = '0' + ((ch >> 6) & 3);
				st->fm.pre[2] = '0' + ((ch >> 3) & 7);
				st->fm.pre[3] = '0' + (ch & 7);
				np = 4;
			}
		} else {
			st->fm.pre[0] = ch;
			np = 1;
		}
		st->fm.npre = np;
		if (left)
			st->fm.n[5] = width - (__s32)np;
		else
			st->fm.n[0] = width - (__s32)np;
	} else {
		/* number(): sign, then the prefix, then digits; size counts down the padding */
		__u64 num = x;
		__u32 base = conv == FC_O ? 8 : (conv == FC_X || conv == FC_XX || conv == FC_P) ? 16 : 10;
		int zero = (spec & FF_ZERO) && !left, special = (spec & FF_HASH) || conv == FC_P;
		char sign = 0;

		size = width;
		if (conv == FC_D || conv == FC_I) {
			if (x < 0) {
				sign = '-';
				num = -(__u64)x;
			} else if (spec & FF_PLUS) {
				sign = '+';
			} else if (spec & FF_SPACE) {
				sign = ' ';
			}
		}
		if (sign) {
			st->fm.pre[0] = sign;
			np = 1;
			size--;
		}
		if (special && base == 16) {
			st->fm.pre[np & 3] = '0';
			st->fm.pre[(np + 1) & 3] = conv == FC_XX ? 'X' : 'x';
			np += 2;
			size -= 2;
		} else if (special && base == 8) {
			st->fm.pre[np & 3] = '0';
			np += 1;
			size--;
		}
		st->fm.npre = np;
		st->fm.num = num;
		st->fm.base = base;
		st->fm.large = conv == FC_XX;
		bpf_loop(24, digit_cb, &c, 0);
		if ((__s32)st->fm.nbody > prec)
			prec = st->fm.nbody;
		size -= prec;
		if (!zero && !left && size > 0) {
			st->fm.n[0] = size;
			size = 0;
		}
		if (!left && size > 0) {
			st->fm.n[2] = size;
			size = 0;
		}
		st->fm.n[3] = prec - (__s32)st->fm.nbody;
		st->fm.n[5] = size;
	}
	bpf_loop(2048, emit_cb, &c, 0);
	st->res[IDX(st->sx.o)] = 0;
	s_put(st, d);
	return 0;
}

#endif /* TAPVM_FORMAT_H */
