/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stap's string tapset for the in-kernel interpreter: the STRLEN..ISDIGIT opcodes.
 * src/vm/strfuncs.ts is the same in TypeScript. Loops over a string's bytes run as bpf_loop
 * callbacks (verified once each, whatever the string) or as loops bounded by MAXSTRINGLEN.
 * Every result is built in st->res and then copied, so a destination may alias a source.
 * Slot arguments are absolute string slot numbers (already frame-adjusted, masked here).
 */
#ifndef TAPVM_STRINGS_H
#define TAPVM_STRINGS_H

#define SMAX (MAXSTRINGLEN - 1)
#define SLOT(st, i) ((st)->s[(i) & (NSTRS - 1)])
/* An index into a string, masked behind a compiler barrier: without it clang turns res[o & 127]
 * in a loop into a pointer it increments, whose bound the verifier cannot see. */
#define IDX(x) ({ __u32 __i = (__u32)(x) & (MAXSTRINGLEN - 1); asm volatile("" : "+r"(__i)); __i; })

/* The letter of C's backslash escape for c (\n -> 'n'), with quote (' or ") escaped as itself;
 * 0 when c has none and is written as an octal escape. Shared by text_str/string_quoted
 * and sprintf's %#c. */
static __always_inline char c_escape(__u8 c, char quote)
{
	switch (c) {
	case '\a': return 'a';
	case '\b': return 'b';
	case '\f': return 'f';
	case '\n': return 'n';
	case '\r': return 'r';
	case '\t': return 't';
	case '\v': return 'v';
	case '\\': return '\\';
	}
	return c == (__u8)quote ? quote : 0;
}

static __always_inline __u32 s_len(struct vm_state *st, __u32 slot)
{
	long n = bpf_probe_read_kernel_str(st->tmp, MAXSTRINGLEN, SLOT(st, slot));

	return n < 1 ? 0 : (n - 1) & (MAXSTRINGLEN - 1);
}

/* res -> slot d */
static __always_inline void s_put(struct vm_state *st, __u32 d)
{
	bpf_probe_read_kernel_str(SLOT(st, d), MAXSTRINGLEN, st->res);
}

/*
 * Whether the lb bytes at offset i of slot a equal slot b's first lb: 8 bytes per step
 * (unaligned loads inside the map value; bytes past lb masked off), in a global function: the
 * verifier walks it once, not once per callback pass (byte loops here and in is_delim, inside
 * the callbacks, put the 512-byte build over the 1M-instruction limit).
 */
__noinline int s_eq_at(struct vm_state *st, __u32 a, __u32 i, __u32 b, __u32 lb)
{
	const char *h, *n;

	if (!st)
		return 0;
	h = SLOT(st, a);
	n = SLOT(st, b);
#pragma clang loop unroll(disable)
	for (__u32 j = 0; j < MAXSTRINGLEN; j += 8) {
		__u64 x, y, rem;

		if (j >= lb)
			break;
		x = *(__u64 *)&h[IDX(i + j)];
		y = *(__u64 *)&n[IDX(j)];
		rem = lb - j;
		if (rem < 8) {
			x &= (1ULL << (rem * 8)) - 1;
			y &= (1ULL << (rem * 8)) - 1;
		}
		if (x != y)
			return 0;
	}
	return 1;
}

/* ---- strstr ---- */

struct find_ctx {
	struct vm_state *st;
	__u32 a, b, la, lb;
	__s64 found;
};

/* whether needle b occurs at offset i of a */
static long find_cb(__u64 i, void *arg)
{
	struct find_ctx *f = arg;
	struct vm_state *st = f->st;
	__u32 lb = f->lb;

	if (i + lb > f->la)
		return 1;
	if (!s_eq_at(st, f->a, i, f->b, lb))
		return 0;
	f->found = i;
	return 1;
}

/* offset of the first b in a, -1 when absent; an empty b is found at 0 (strstr) */
static __always_inline __s64 s_find(struct vm_state *st, __u32 a, __u32 b)
{
	struct find_ctx f = { .st = st, .a = a, .b = b, .found = -1 };

	f.la = s_len(st, a);
	f.lb = s_len(st, b);
	if (f.lb == 0)
		return 0;
	if (f.lb > f.la)
		return -1;
	bpf_loop(f.la - f.lb + 1, find_cb, &f, 0);
	return f.found;
}

/* ---- substr ---- */

static __always_inline void s_substr(struct vm_state *st, __u32 d, __u32 a, __s64 start, __s64 length)
{
	__u32 la = s_len(st, a);
	/* stap: clamp_t(int64_t, length + 1, 0, MAXSTRINGLEN); the addition wraps */
	__s64 size = (__s64)((__u64)length + 1);
	__u32 n;

	st->res[0] = 0;
	if (size > MAXSTRINGLEN)
		size = MAXSTRINGLEN;
	n = size < 0 ? 0 : (__u32)size;
	if (start >= 0 && start < la && n > 0)
		bpf_probe_read_kernel_str(st->res, n & (2 * MAXSTRINGLEN - 1), &SLOT(st, a)[IDX(start)]);
	s_put(st, d);
}

/* ---- str_replace ---- */

struct repl_ctx {
	struct vm_state *st;
	__u32 a, b, c, la, lb, lc;
};

static long repl_cb(__u64 index, void *arg)
{
	struct repl_ctx *r = arg;
	struct vm_state *st = r->st;
	const char *h = SLOT(st, r->a), *c = SLOT(st, r->c);
	__u32 i = st->sx.i, o = st->sx.o, k, lb = r->lb, lc = r->lc;
	int match = i + lb <= r->la;

	if (i >= r->la)
		return 1;
	if (match)
		match = s_eq_at(st, r->a, i, r->b, lb);
	if (match) {
		/* as much of c as fits below SMAX, in one copy */
		k = o >= SMAX ? 0 : lc < SMAX - o ? lc : SMAX - o;
		bpf_probe_read_kernel(&st->res[IDX(o)], k & (MAXSTRINGLEN - 1), c);
		o += k;
		i += lb;
	} else {
		if (o < SMAX) {
			st->res[IDX(o)] = h[IDX(i)];
			o++;
		}
		i++;
	}
	st->sx.i = i;
	st->sx.o = o;
	return 0;
}

/* d = a with every b replaced by c (c = the slot after b) */
static __always_inline void s_replace(struct vm_state *st, __u32 d, __u32 a, __u32 b)
{
	struct repl_ctx r = { .st = st, .a = a, .b = b, .c = b + 1 };

	r.la = s_len(st, a);
	r.lb = s_len(st, b);
	r.lc = s_len(st, b + 1);
	if (r.lb == 0) {
		bpf_probe_read_kernel_str(st->res, MAXSTRINGLEN, SLOT(st, a));
	} else {
		st->sx.i = 0;
		st->sx.o = 0;
		bpf_loop(r.la, repl_cb, &r, 0);
		st->res[IDX(st->sx.o)] = 0;
	}
	s_put(st, d);
}

/* ---- tokenize ---- */

struct tok_ctx {
	struct vm_state *st;
	__u32 delim, ld;
};

/* whether ch is one of the ld delimiter bytes: 8 at a time (a zero byte of x = a match; the
 * bytes past ld are made non-zero) */
__noinline int is_delim(struct vm_state *st, __u32 slot, __u32 ld, __u32 ch)
{
	const char *dl;
	__u64 pat = 0x0101010101010101ULL * (__u8)ch;

	if (!st)
		return 0;
	dl = SLOT(st, slot);
#pragma clang loop unroll(disable)
	for (__u32 j = 0; j < MAXSTRINGLEN; j += 8) {
		__u64 x, rem;

		if (j >= ld)
			break;
		x = *(__u64 *)&dl[IDX(j)] ^ pat;
		rem = ld - j;
		if (rem < 8)
			x |= ~((1ULL << (rem * 8)) - 1);
		if ((x - 0x0101010101010101ULL) & ~x & 0x8080808080808080ULL)
			return 1;
	}
	return 0;
}

/* one strsep step: skip delimiters (empty tokens), then copy the token up to a delimiter */
static long tok_cb(__u64 index, void *arg)
{
	struct tok_ctx *t = arg;
	struct vm_state *st = t->st;
	__u32 pos = st->tokpos;
	char ch;

	if (pos >= st->toklen) {
		st->tokon = 0;
		return 1;
	}
	ch = st->tok[IDX(pos)];
	st->tokpos = pos + 1;
	if (is_delim(st, t->delim, t->ld, ch))
		return st->sx.f ? 1 : 0;
	st->sx.f = 1;
	st->res[IDX(st->sx.o)] = ch;
	st->sx.o++;
	return 0;
}

static __always_inline void s_tokenize(struct vm_state *st, __u32 d, __u32 a, __u32 delim, __u64 tag)
{
	struct tok_ctx t = { .st = st, .delim = delim };

	if (SLOT(st, a)[0]) {
		st->toklen = s_len(st, a);
		bpf_probe_read_kernel_str(st->tok, MAXSTRINGLEN, SLOT(st, a));
		st->tokpos = 0;
		st->tokon = 1;
		st->toktag = tag;
	} else if (st->toktag != tag) {
		st->tokon = 0;	/* the CPU's state is another session's: this one has none */
	}
	t.ld = s_len(st, delim);
	st->sx.o = 0;
	st->sx.f = 0;
	if (st->tokon)
		bpf_loop(MAXSTRINGLEN, tok_cb, &t, 0);
	st->res[IDX(st->sx.o)] = 0;
	s_put(st, d);
}

/* ---- text_str / text_strn / string_quoted: _stp_text_str ---- */

struct text_ctx {
	struct vm_state *st;
	__u32 a;
};

static __always_inline char hexdig(__u32 v)
{
	v &= 0xf;
	return v < 10 ? '0' + v : 'a' + v - 10;
}

static __always_inline __u8 s_byte(struct vm_state *st, __u32 a, __u32 i)
{
	return i < MAXSTRINGLEN ? (__u8)SLOT(st, a)[IDX(i)] : 0;
}

static long text_cb(__u64 index, void *arg)
{
	struct text_ctx *t = arg;
	struct vm_state *st = t->st;
	__u32 i = st->sx.i, o = st->sx.o, n = 1, k, num = 1;
	__u8 b = s_byte(st, t->a, i), b2;
	__s32 c = b, size = st->sx.inlen - 1;

	if (st->sx.inlen <= 0)
		return 1;
	/* _stp_decode_utf8 */
	if ((b & 0xe0) == 0xc0 && size >= 1) {
		n = 2;
		c = b & 0x1f;
	} else if ((b & 0xf0) == 0xe0 && size >= 2) {
		n = 3;
		c = b & 0xf;
	} else if ((b & 0xf8) == 0xf0 && size >= 3) {
		n = 4;
		c = b & 0x7;
	}
	if (n > 1) {
#pragma clang loop unroll(disable)
		for (k = 1; k < 4; k++) {
			if (k >= n)
				break;
			b2 = s_byte(st, t->a, i + k);
			if ((b2 & 0xc0) != 0x80) {
				n = 0;
				break;
			}
			c = (c << 6) | (b2 & 0x3f);
		}
		if (n == 0 || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff || c < 0x80 ||
		    (n == 3 && c < 0x800) || (n == 4 && c < 0x10000)) {
			n = 1;
			c = b;
		}
	}
	st->sx.c = c;
	if (c == 0 || st->sx.outlen <= 0)
		return 1;
	st->sx.i = i + n;
	st->sx.inlen -= n;
	if (n > 1) {
		num = c <= 0xffff ? 6 : 10;
		if (st->sx.outlen < (__s32)num)
			return 1;
		st->res[IDX(o++)] = '\\';
		st->res[IDX(o++)] = c <= 0xffff ? 'u' : 'U';
#pragma clang loop unroll(disable)
		for (k = 8; k > 0; k--) {
			if (k > num - 2)
				continue;
			st->res[IDX(o++)] = hexdig(c >> ((k - 1) * 4));
		}
	} else if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
		st->res[IDX(o++)] = c;
	} else {
		char e = c_escape(c, '"');

		num = e ? 2 : 4;
		if (st->sx.outlen < (__s32)num)
			return 1;
		st->res[IDX(o++)] = '\\';
		if (e) {
			st->res[IDX(o++)] = e;
		} else {
			st->res[IDX(o++)] = '0' + ((c >> 6) & 3);
			st->res[IDX(o++)] = '0' + ((c >> 3) & 7);
			st->res[IDX(o++)] = '0' + (c & 7);
		}
	}
	st->sx.o = o;
	st->sx.outlen -= num;
	return 0;
}

static __always_inline void s_text(struct vm_state *st, __u32 d, __u32 a, __s64 len, __s64 quoted)
{
	struct text_ctx t = { .st = st, .a = a };
	__s32 outlen = SMAX;
	__u32 o = 0;

	if (len > 0 && len <= SMAX)
		outlen = len;
	if (quoted) {
		outlen = (outlen > 5 ? outlen : 5) - 2;
		st->res[0] = '"';
		o = 1;
	}
	st->sx.i = 0;
	st->sx.o = o;
	st->sx.c = 0;
	st->sx.inlen = SMAX;
	st->sx.outlen = outlen;
	bpf_loop(MAXSTRINGLEN, text_cb, &t, 0);
	o = st->sx.o;
	if (quoted) {
		if (st->sx.c && st->sx.inlen > 0) {
			o = o - 3 + st->sx.outlen;
			st->res[IDX(o++)] = '"';
			st->res[IDX(o++)] = '.';
			st->res[IDX(o++)] = '.';
			st->res[IDX(o++)] = '.';
		} else {
			st->res[IDX(o++)] = '"';
		}
	}
	st->res[IDX(o)] = 0;
	s_put(st, d);
}

/* ---- strtol: the Linux kernel's simple_strtol(cp, NULL, base) ---- */

struct strtol_ctx {
	struct vm_state *st;
	__u32 a, base;
};

static long strtol_cb(__u64 index, void *arg)
{
	struct strtol_ctx *p = arg;
	struct vm_state *st = p->st;
	__u8 ch = s_byte(st, p->a, st->sx.i), lc = ch | 0x20;
	__u32 dgt;

	if (ch >= '0' && ch <= '9')
		dgt = ch - '0';
	else if (lc >= 'a' && lc <= 'f')
		dgt = lc - 'a' + 10;
	else
		return 1;
	if (dgt >= p->base)
		return 1;
	st->sx.v = st->sx.v * p->base + dgt;
	st->sx.i++;
	return 0;
}

static __always_inline __s64 s_strtol(struct vm_state *st, __u32 a, __s64 base)
{
	struct strtol_ctx p = { .st = st, .a = a, .base = (__u32)base };
	int neg = s_byte(st, a, 0) == '-';
	__u32 i = neg;
	__u8 c0 = s_byte(st, a, i), c1 = s_byte(st, a, i + 1) | 0x20, c2 = s_byte(st, a, i + 2);

	if (p.base == 0) {
		if (c0 == '0')
			p.base = c1 == 'x' && ((c2 >= '0' && c2 <= '9') || ((c2 | 0x20) >= 'a' && (c2 | 0x20) <= 'f')) ? 16 : 8;
		else
			p.base = 10;
	}
	if (p.base == 16 && c0 == '0' && c1 == 'x')
		i += 2;
	st->sx.i = i;
	st->sx.v = 0;
	bpf_loop(MAXSTRINGLEN, strtol_cb, &p, 0);
	return neg ? -(__s64)st->sx.v : (__s64)st->sx.v;
}

#endif /* TAPVM_STRINGS_H */
