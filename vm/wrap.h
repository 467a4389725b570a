/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Wrap-around arrays (`global a%`, `global a%[N]`): stap's map->wrap. When the array is full, a
 * new element takes the place of the oldest one (the first created: updating an element does
 * not move it). A BPF hash map keeps no creation order, so each wrap-around array has an
 * order array of its own key size, key -> creation number (a hidden global counts them); a
 * full order array is scanned with bpf_for_each_map_elem for the smallest number, whose key
 * is deleted from both. The scan costs one callback per element, paid only by an insertion
 * into a full array. src/vm/interp.ts wrapInsert() is the same in user space.
 */
#ifndef TAPVM_WRAP_H
#define TAPVM_WRAP_H

struct wrap_scan {
	__s64 min;
	__u32 found;
};

/* Keeps the key with the smallest creation number in the CPU's wkey (the key pointer is only
 * valid inside the callback). One callback per key size: the verifier types the key by it. */
#define WRAP_OLDEST(KSZ)								\
	static long wrap_oldest_##KSZ(void *map, const void *key, __s64 *seq, struct wrap_scan *w) \
	{										\
		__u32 zero = 0;								\
		struct vm_state *st;							\
											\
		if (w->found && *seq >= w->min)						\
			return 0;							\
		st = bpf_map_lookup_elem(&scratch, &zero);				\
		if (!st)								\
			return 1;							\
		w->min = *seq;								\
		w->found = 1;								\
		bpf_probe_read_kernel(st->wkey, KSZ, key);				\
		return 0;								\
	}
WRAP_OLDEST(16)
WRAP_OLDEST(32)
WRAP_OLDEST(64)
WRAP_OLDEST(KEYMAX)	/* 272, or 1040 in the 512-byte build */

/* The order array's class: the long-valued class of the array's key size. */
static __always_inline __u32 wrap_order_class(__u32 cls)
{
	return cls >= ACLASS_K16_STAT ? (cls - ACLASS_K16_STAT) * 2 : cls & ~1U;
}

#define WRAP_SCAN(NAME, KSZ)								\
	do {										\
		order = bpf_map_lookup_elem(&arrays_##NAME, &okey_order);		\
		if (order)								\
			bpf_for_each_map_elem(order, wrap_oldest_##KSZ, &w, 0);		\
	} while (0)

/*
 * A new key (st->key) of the wrap-around array where = class << 16 | outer key: numbered seq
 * in the order array at okey_order; when that is full, the oldest element leaves both first.
 * 0, or 1 when there is still no room (the write then fails as OVERFLOW).
 */
__noinline long wrap_insert(struct vm_state *st, __u32 where, __u32 okey_order, __s64 seq)
{
	__u32 cls = where >> 16, okey = where & 0xffff, ocls = wrap_order_class(cls);
	struct wrap_scan w = {};
	void *order, *inner;
	long n;

	if (!st)
		return 1;
	order = array_inner(ocls, okey_order);
	if (!order)
		return 1;
	/* EEXIST: another CPU numbered the same new key first */
	n = bpf_map_update_elem(order, st->key, &seq, BPF_NOEXIST);
	if (n != -E2BIG)
		return n && n != -EEXIST;
	switch (ocls) {
	case ACLASS_K16_V8: WRAP_SCAN(k16_v8, 16); break;
	case ACLASS_K32_V8: WRAP_SCAN(k32_v8, 32); break;
	case ACLASS_K64_V8: WRAP_SCAN(k64_v8, 64); break;
	default: WRAP_SCAN(k272_v8, KEYMAX); break;
	}
	if (!w.found)
		return 1;
	inner = any_inner(cls, okey);
	if (inner)
		bpf_map_delete_elem(inner, st->wkey);
	order = array_inner(ocls, okey_order);
	if (!order)
		return 1;
	bpf_map_delete_elem(order, st->wkey);
	n = bpf_map_update_elem(order, st->key, &seq, BPF_NOEXIST);
	return n && n != -EEXIST;
}

#endif
