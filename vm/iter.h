/* SPDX-License-Identifier: GPL-2.0 */
/*
 * foreach and `delete arr` in the kernel (ITBEGIN, ITSORT, ITNEXT, ACLR); src/vm/interp.ts is
 * the reference. BPF programs cannot walk a map with get_next_key, so ITBEGIN snapshots the
 * keys with bpf_for_each_map_elem into this CPU's key slots (the same snapshot semantics as
 * user space: the body may delete or add elements). Slots are handed out as a stack: an
 * iterator's keys are slots [base, base + n), and ord[base + i] is the slot of its i-th key
 * (the sorted order after ITSORT). Re-running an ITBEGIN at the same pc and call depth means
 * that loop was left (or ended), and so was every loop whose iterator came later: they are
 * freed (st->nit, st->ittop), which bounds the slots a nested loop needs to its largest
 * arrays, not to how often it ran.
 *
 * ITSORT is a bottom-up merge sort (stable, as stap's _stp_map_sort) driven by bpf_loop, one
 * output element per callback, with its state in the map value (the verifier does not track
 * map contents, so the callback is verified once). Numbers (long columns, long values, a
 * statistic's aggregate) are fetched once per key into the slot's `val`; strings are compared
 * in place (an index column in the slot's key, a string value through a lookup).
 *
 * Slices (`foreach (k in a[1, *])`, `[1, *] in a`, `delete a[1, *]`): KMASK names a mask in
 * the data area, the slice instruction copies it and the key buffer (the pattern, fixed
 * indices in place) into the state, and one matcher, iter_match, compares a key with the
 * pattern in the bytes the mask keeps. ITSLICE's fill callback keeps only matching keys;
 * ASLIN and ASLDEL walk the map with the clear callback, which then stops at the first match or
 * deletes each matching element (a hash map's callback may delete the element it is given).
 */
#ifndef TAPVM_ITER_H
#define TAPVM_ITER_H

struct iter_slot {
	__u8 key[KEYMAX];
	__s64 val;		/* the number ITSORT sorts by */
};

/* This CPU's key slots (ITERKEYS * 280 bytes per possible CPU). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ITERKEYS);
	__type(key, __u32);
	__type(value, struct iter_slot);
} iter_slots SEC(".maps");

struct iter_state {
	struct {
		__u32 pc, depth;	/* the ITBEGIN that made it and its call depth */
		__u32 base, n, pos;	/* slots [base, base + n); the next key is ord[base + pos] */
		__u32 where;		/* STAT_WHERE(class, outer map index) of the array */
	} it[MAXITERS];
	__u16 ord[ITERKEYS];
	__u16 tmp[ITERKEYS];	/* the merge sort's other buffer */
	char sa[MAXSTRINGLEN], sb[MAXSTRINGLEN];	/* two string values being compared */
	struct {		/* bpf_for_each_map_elem's and the merge sort's state */
		__u32 base, n, cap, ksz, full;
		__u32 lo, mid, hi, i, j, k, width, from;
		__u32 off, how, desc, where, width_s;
		__u32 match, found;	/* a slice: keep only matching keys; one matched */
	} w;
	__u32 maskoff;		/* KMASK's data offset */
	__u8 pat[KEYMAX] __attribute__((aligned(8)));	/* a slice: the key buffer */
	__u8 mask[KEYMAX] __attribute__((aligned(8)));	/* 0xff: compared, 0: `*` */
	struct iter_slot cand;	/* the element ASLIN and ASLDEL are matching */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct iter_state);
} iter_states SEC(".maps");

/* ITSORT's comparisons */
enum { ITS_NUM = 0, ITS_KEYSTR = 1, ITS_VALSTR = 2 };

/* what iter_each does with each element: snapshot it, delete it, delete it if it matches the
 * slice, or stop at the first that matches */
enum { IT_FILL = 0, IT_CLEAR = 1, IT_DEL = 2, IT_IN = 3 };

static __always_inline struct iter_state *iter_st(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&iter_states, &zero);
}

static __always_inline struct iter_slot *iter_slot(__u32 i)
{
	i &= ITERKEYS - 1;
	return bpf_map_lookup_elem(&iter_slots, &i);
}

#define ITER_KSZ_CASE(NAME, IDX, KSZ, VSZ) case IDX: return KSZ;

static __always_inline __u32 class_key_size(__u32 cls)
{
	switch (cls) {
	FOR_EACH_ACLASS(ITER_KSZ_CASE)
	FOR_EACH_SCLASS(ITER_KSZ_CASE)
	}
	return KEYMAX;
}

/*
 * Whether sl's key equals the slice pattern in every byte the mask keeps: the one matcher of
 * ITSLICE, ASLIN and ASLDEL. Key sizes are multiples of 8: 8 bytes at a time.
 */
__noinline int iter_match(struct iter_slot *sl)
{
	struct iter_state *is = iter_st();

	if (!is || !sl)
		return 0;
	for (__u32 o = 0; o < KEYMAX; o += 8) {
		if (o >= is->w.ksz)
			break;
		if ((*(__u64 *)&sl->key[o] ^ *(__u64 *)&is->pat[o]) & *(__u64 *)&is->mask[o])
			return 0;
	}
	return 1;
}

/*
 * A slice's pattern into the state: the key buffer and the KMASK mask (after its u16 length in
 * the session's code blob, slot where / 64 of `code`), the array class's key size each.
 */
__noinline long iter_pattern(struct vm_state *st, __u32 where)
{
	struct iter_state *is = iter_st();
	struct code_blob *cb;
	__u32 slot = (where & 0xffff) / 64, ksz, off;

	if (!st || !is)
		return -1;
	cb = bpf_map_lookup_elem(&code, &slot);
	if (!cb)
		return -1;
	ksz = class_key_size(where >> 16);
	if (ksz > KEYMAX)
		ksz = KEYMAX;
	off = is->maskoff & (DATA_BYTES - 1);
	if (off > DATA_BYTES - 2 - ksz)
		off = DATA_BYTES - 2 - ksz;
	bpf_probe_read_kernel(is->mask, ksz, &cb->data[off + 2]);
	bpf_probe_read_kernel(is->pat, ksz, st->key);
	is->w.ksz = ksz;
	return 0;
}

/* bpf_for_each_map_elem callback of ITBEGIN and ITSLICE: the key into the next slot. */
static long iter_fill_cb(void *map, const void *key, void *val, void *ctx)
{
	struct iter_state *is = iter_st();
	struct iter_slot *sl;
	__u32 s;

	if (!is)
		return 1;
	if (is->w.n >= is->w.cap) {
		is->w.full = 1;
		return 1;
	}
	s = (is->w.base + is->w.n) & (ITERKEYS - 1);
	sl = iter_slot(s);
	if (!sl)
		return 1;
	KEY_ZERO(sl->key);
	bpf_probe_read_kernel(sl->key, is->w.ksz <= KEYMAX ? is->w.ksz : KEYMAX, key);
	if (is->w.match && !iter_match(sl))
		return 0;
	is->ord[s] = s;
	is->w.n++;
	return 0;
}

/* ACLR's, ASLDEL's and ASLIN's callback (ctx: the IT_ mode); a hash map's callback may delete
 * the element it is given. */
static long iter_clear_cb(void *map, const void *key, void *val, void *ctx)
{
	struct iter_state *is;
	__u64 mode = *(__u64 *)ctx;

	if (mode != IT_CLEAR) {
		is = iter_st();
		if (!is)
			return 1;
		bpf_probe_read_kernel(is->cand.key, is->w.ksz <= KEYMAX ? is->w.ksz : KEYMAX, key);
		if (!iter_match(&is->cand))
			return 0;
		if (mode == IT_IN) {
			is->w.found = 1;
			return 1;
		}
	}
	bpf_map_delete_elem(map, key);
	return 0;
}

#define ITER_EACH_CASE(NAME, IDX, KSZ, VSZ)					\
	case IDX:							\
		inner = bpf_map_lookup_elem(&arrays_##NAME, &okey);	\
		if (inner && mode != IT_FILL)				\
			bpf_for_each_map_elem(inner, iter_clear_cb, &ctx, 0); \
		else if (inner)						\
			bpf_for_each_map_elem(inner, iter_fill_cb, &ctx, 0); \
		return inner != NULL;

/*
 * Every element of the array at `where` (STAT_WHERE) through the fill (ITBEGIN, ITSLICE) or
 * the clear (ACLR, ASLDEL, ASLIN) callback, as `mode` says. A global function: the verifier
 * walks the twelve classes' calls once, not along each path of the dispatch switch. 0 when the
 * array does not exist (no keys).
 */
__noinline long iter_each(__u32 where, __u32 mode)
{
	__u32 cls = where >> 16, okey = where & 0xffff;
	__u64 ctx = mode;
	void *inner;

	switch (cls) {
	FOR_EACH_ACLASS(ITER_EACH_CASE)
	FOR_EACH_SCLASS(ITER_EACH_CASE)
	}
	return 0;
}

/*
 * ITBEGIN: a new iterator over the keys of the array at `where`, at index st->nit (ITSLICE,
 * `match`: only the keys matching the slice); its index, or -ERR_ITERS / -ERR_ITERKEYS.
 */
__noinline long iter_begin(struct vm_state *st, __u32 pc, __u32 where, __u32 match)
{
	struct iter_state *is = iter_st();
	__u32 nit, top, idx;

	if (!st || !is)
		return -ERR_FAULT;
	nit = st->nit;
	/* the same loop again: it and every later iterator are dead */
	for (int i = 0; i < MAXITERS; i++) {
		if (i >= nit)
			break;
		if (is->it[i].pc == pc && is->it[i].depth == st->depth) {
			nit = i;
			st->ittop = is->it[i].base;
			break;
		}
	}
	st->nit = nit;
	if (nit >= MAXITERS)
		return -ERR_ITERS;
	top = st->ittop;
	if (top > ITERKEYS)
		top = ITERKEYS;
	is->w.base = top;
	is->w.n = 0;
	is->w.cap = ITERKEYS - top;
	is->w.ksz = class_key_size(where >> 16);
	is->w.full = 0;
	is->w.match = match;
	if (match && iter_pattern(st, where))
		return -ERR_FAULT;
	iter_each(where, IT_FILL);
	/* the callbacks ran on this CPU with the VM busy: nothing else touched the state */
	if (is->w.full)
		return -ERR_ITERKEYS;
	idx = nit & (MAXITERS - 1);
	is->it[idx].pc = pc;
	is->it[idx].depth = st->depth;
	is->it[idx].base = top;
	is->it[idx].n = is->w.n;
	is->it[idx].pos = 0;
	is->it[idx].where = where;
	st->ittop = top + is->w.n;
	st->nit = nit + 1;
	return idx;
}

/* KMASK: the mask the next slice instruction compares under. */
static __always_inline void iter_mask(__s32 imm)
{
	struct iter_state *is = iter_st();

	if (is)
		is->maskoff = imm;
}

/* ASLIN (1 when some element matches the slice) and ASLDEL (IT_DEL): the pattern, one walk. */
__noinline long iter_slice(struct vm_state *st, __u32 where, __u32 mode)
{
	struct iter_state *is = iter_st();

	if (!is || iter_pattern(st, where))
		return 0;
	is->w.found = 0;
	iter_each(where, mode);
	return is->w.found;
}

/* ITNEXT: 1 with the next key in st->key, 0 when done, -1 for a bad iterator. */
static __always_inline long iter_next(struct vm_state *st, __s64 x)
{
	struct iter_state *is = iter_st();
	struct iter_slot *sl;
	__u32 i, pos;

	if (!is || x < 0 || x >= st->nit)
		return -1;
	i = x & (MAXITERS - 1);
	pos = is->it[i].pos;
	if (pos >= is->it[i].n)
		return 0;
	is->it[i].pos = pos + 1;
	sl = iter_slot(is->ord[(is->it[i].base + pos) & (ITERKEYS - 1)]);
	if (!sl)
		return -1;
	KEY_COPY(st->key, sl->key);
	return 1;
}

/* ITEND: the loop of iterator x was left; loops that began inside it were left before. */
static __always_inline void iter_end(struct vm_state *st, __s64 x)
{
	struct iter_state *is = iter_st();

	if (!is || x < 0 || x >= st->nit)
		return;
	st->nit = x;
	st->ittop = is->it[x & (MAXITERS - 1)].base;
}

/*
 * The sort's number of key i. Callbacks only call global functions like this one: the
 * verifier walks a bpf_loop callback again for every state it is called in, a global
 * function once (a string compare loop inline in the merge callback cost 250k insns).
 */
__noinline long iter_val(__u32 i)
{
	struct iter_state *is = iter_st();
	struct code_blob *cb;
	struct vm_state *st;
	struct iter_slot *sl;
	__u32 zero = 0, where, slot;
	void *inner, *vp;

	if (!is)
		return 1;
	sl = iter_slot(is->w.base + i);
	if (!sl)
		return 1;
	where = is->w.where;
	if (is->w.how == 0) {
		/* a long index column */
		sl->val = *(__s64 *)&sl->key[is->w.off & 255];
	} else if (is->w.how == 1) {
		/* a long value: absent (deleted since the snapshot) sorts as 0, as user space */
		inner = array_inner((where >> 16) & ~1U, where & 0xffff);
		vp = inner ? bpf_map_lookup_elem(inner, sl->key) : NULL;
		sl->val = vp ? *(__s64 *)vp : 0;
	} else {
		/* a statistic's aggregate over every CPU */
		slot = (where & 0xffff) / 64;
		st = bpf_map_lookup_elem(&scratch, &zero);
		cb = bpf_map_lookup_elem(&code, &slot);
		if (!st || !cb)
			return 1;
		KEY_COPY(st->key, sl->key);
		sl->val = stat_read(st, (struct stat_desc *)&cb->data[STAT_DESC_OFF + (where & 63) * sizeof(struct stat_desc)],
				    where, is->w.off, -1) ? 0 : st->stat_out;
	}
	return 0;
}

/*
 * strcmp of two keys' string columns at off, width bytes wide. Past its NUL a column is zeros
 * (KCLR, then KPUTS), so comparing 8 bytes at a time as big-endian numbers is strcmp's order:
 * 16 steps for the verifier to walk instead of 128.
 */
static __always_inline int iter_keystr_cmp(struct iter_slot *x, struct iter_slot *y, __u32 off, __u32 width)
{
	/* widths above 255 are ordered by their first 255 bytes (ITSORT's 8-bit width) */
	for (__u32 w = 0; w < (MAXSTRINGLEN < 256 ? MAXSTRINGLEN : 256); w += 8) {
		__u32 o = off + w;
		__u64 a, b, rem;

		if (w >= width || o > KEYMAX - 8)
			return 0;
		/* the bound hidden from clang, which would otherwise add the offset before the check */
		o &= KEYMAX <= 272 ? 511 : 2047;
		asm volatile("" : "+r"(o));
		if (o > KEYMAX - 8)
			return 0;
		a = *(__u64 *)&x->key[o];
		b = *(__u64 *)&y->key[o];
		rem = width - w;
		if (rem < 8) {
			a &= (1ULL << (rem * 8)) - 1;
			b &= (1ULL << (rem * 8)) - 1;
		}
		if (a != b)
			return __builtin_bswap64(a) < __builtin_bswap64(b) ? -1 : 1;
	}
	return 0;
}

/*
 * A string value, looked up per comparison (no slot room for 128 bytes per key); absent
 * (deleted since the snapshot) is "", as in user space. Both are copied into the state first,
 * so the verifier walks str_cmp once, not once per array class.
 */
__noinline int iter_valstr_cmp(struct iter_slot *x, struct iter_slot *y)
{
	struct iter_state *is = iter_st();
	void *inner, *v;
	__u32 where;

	if (!is || !x || !y)
		return 0;
	where = is->w.where;
	inner = array_inner((where >> 16) | 1, where & 0xffff);
	if (!inner)
		return 0;
	is->sa[0] = 0;
	is->sb[0] = 0;
	v = bpf_map_lookup_elem(inner, x->key);
	if (v)
		bpf_probe_read_kernel_str(is->sa, MAXSTRINGLEN, v);
	v = bpf_map_lookup_elem(inner, y->key);
	if (v)
		bpf_probe_read_kernel_str(is->sb, MAXSTRINGLEN, v);
	return str_cmp(is->sa, is->sb);
}

/* Orders slots a and b by the sort column, ascending (<0, 0, >0). */
static __always_inline int iter_cmp(struct iter_state *is, __u32 a, __u32 b)
{
	struct iter_slot *x = iter_slot(a), *y = iter_slot(b);

	if (!x || !y)
		return 0;
	if (is->w.how <= 2)
		return x->val < y->val ? -1 : x->val > y->val;
	if (is->w.how == 3)
		return iter_keystr_cmp(x, y, is->w.off, is->w.width_s);
	return iter_valstr_cmp(x, y);
}

/* One merge sort step: the next output element of the current merge (ord <-> tmp). */
__noinline long iter_step(void)
{
	struct iter_state *is = iter_st();
	__u32 base, n, w, i, j, k, s, take_left;
	__u16 *src, *dst;
	int c;

	if (!is)
		return 1;
	base = is->w.base;
	n = is->w.n;
	if (is->w.k >= is->w.hi) {
		/* this merge is done: the next pair of runs, or the next pass */
		is->w.lo = is->w.hi;
		if (is->w.lo >= n) {
			is->w.width *= 2;
			is->w.from ^= 1;
			is->w.lo = 0;
			if (is->w.width >= n)
				return 1;
		}
		w = is->w.width;
		is->w.mid = is->w.lo + w < n ? is->w.lo + w : n;
		is->w.hi = is->w.lo + 2 * w < n ? is->w.lo + 2 * w : n;
		is->w.i = is->w.lo;
		is->w.j = is->w.mid;
		is->w.k = is->w.lo;
	}
	src = is->w.from ? is->tmp : is->ord;
	dst = is->w.from ? is->ord : is->tmp;
	i = is->w.i;
	j = is->w.j;
	k = is->w.k;
	take_left = j >= is->w.hi;
	if (!take_left && i < is->w.mid) {
		c = iter_cmp(is, src[(base + i) & (ITERKEYS - 1)], src[(base + j) & (ITERKEYS - 1)]);
		/* ties take the left run: stable in both directions */
		take_left = is->w.desc ? c >= 0 : c <= 0;
	}
	if (take_left) {
		s = src[(base + i) & (ITERKEYS - 1)];
		is->w.i = i + 1;
	} else {
		s = src[(base + j) & (ITERKEYS - 1)];
		is->w.j = j + 1;
	}
	dst[(base + k) & (ITERKEYS - 1)] = s;
	is->w.k = k + 1;
	return 0;
}

static long iter_val_cb(__u64 i, void *ctx)
{
	return iter_val(i) ? 1 : 0;
}

static long iter_sort_cb(__u64 i, void *ctx)
{
	return iter_step() ? 1 : 0;
}

static long iter_copy_back_cb(__u64 i, void *ctx)
{
	struct iter_state *is = iter_st();
	__u32 s;

	if (!is)
		return 1;
	s = (is->w.base + (__u32)i) & (ITERKEYS - 1);
	is->ord[s] = is->tmp[s];
	return 0;
}

/*
 * ITSORT x, spec: the column (spec & 0xff; 0 = the value), descending (spec & 0x100), a
 * statistic's aggregate (spec >> 9 & 7), an index column's key offset (spec >> 12 & 511) and
 * whether it is a string (spec & 0x200000). 0, or -1 for a bad iterator.
 */
__noinline long iter_sort(struct vm_state *st, __s64 x, __u32 spec)
{
	struct iter_state *is = iter_st();
	__u32 i, n, cls, column = spec & 0xff;

	if (!st || !is || x < 0 || x >= st->nit)
		return -1;
	i = x & (MAXITERS - 1);
	n = is->it[i].n;
	if (n < 2)
		return 0;
	is->w.base = is->it[i].base;
	is->w.n = n;
	is->w.where = is->it[i].where;
	is->w.desc = (spec & 0x100) != 0;
	cls = is->w.where >> 16;
	if (column == 0 && cls >= ACLASS_K16_STAT) {
		is->w.how = 2;
		is->w.off = (spec >> 9) & 7;	/* STGET's aggregate number */
	} else if (column == 0) {
		is->w.how = cls & 1 ? 4 : 1;
	} else {
		is->w.how = spec & 0x200000 ? 3 : 0;
		is->w.off = (spec >> 12) & 511;
		is->w.width_s = (spec >> 22) & 255;
	}
	if (is->w.how <= 2)
		bpf_loop(n, iter_val_cb, NULL, 0);
	is->w.width = 1;
	is->w.from = 0;
	is->w.lo = 0;
	is->w.hi = 0;
	is->w.k = 0;
	/* n * ceil(log2 n) outputs plus one callback per pass that only ends it */
	bpf_loop(ITERKEYS * 13, iter_sort_cb, NULL, 0);
	if (is->w.from)
		bpf_loop(n, iter_copy_back_cb, NULL, 0);
	return 0;
}

#endif /* TAPVM_ITER_H */
