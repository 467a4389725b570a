/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Context functions beyond the core CTX set: credentials and tasks (CO-RE reads of the
 * current task), kernel and user memory reads, ctime() and errno_str(). Included by
 * tapvm.bpf.c after struct vm_state; fault messages are formatted into st->tmp.
 */
#ifndef TAPVM_CONTEXT_H
#define TAPVM_CONTEXT_H

typedef struct {
	unsigned int val;
} kuid_t;
typedef struct {
	unsigned int val;
} kgid_t;

struct cred {
	kuid_t euid;
	kgid_t egid;
} __attribute__((preserve_access_index));

/* the fields of struct task_struct read here (CO-RE relocates them against the kernel) */
struct task_struct___ctx {
	int pid;
	int tgid;
	struct task_struct___ctx *real_parent;
	const struct cred *cred;
	char comm[16];
} __attribute__((preserve_access_index));

static __always_inline __s64 ctx_cred(int egid)
{
	struct task_struct___ctx *t = (struct task_struct___ctx *)bpf_get_current_task();

	return egid ? BPF_CORE_READ(t, cred, egid.val) : BPF_CORE_READ(t, cred, euid.val);
}

static __always_inline void ctx_pexecname(char *dst)
{
	struct task_struct___ctx *t = (struct task_struct___ctx *)bpf_get_current_task();
	struct task_struct___ctx *p = BPF_CORE_READ(t, real_parent);

	if (bpf_probe_read_kernel_str(dst, 16, &p->comm) < 0)
		dst[0] = 0;
}

/* task_pid(t), task_tgid(t), task_parent(t) of any task pointer; a bad pointer gives 0 */
static __always_inline __s64 task_field(__u64 task, __u32 field)
{
	struct task_struct___ctx *t = (struct task_struct___ctx *)task;

	if (field == 0)
		return BPF_CORE_READ(t, pid);
	if (field == 1)
		return BPF_CORE_READ(t, tgid);
	return (__s64)BPF_CORE_READ(t, real_parent);
}

/* kernel_long/int/short/char: 0 on success, else st->tmp holds stap's fault message */
static __always_inline long mem_read(char *msg, __u64 addr, __u32 wb, int user, __s64 *out)
{
	__u64 v = 0, a[1] = { addr };
	long err;

	switch (wb & 0xf) {
	case 1: { __u8 t = 0; err = user ? bpf_probe_read_user(&t, 1, (void *)addr) : bpf_probe_read_kernel(&t, 1, (void *)addr); v = (wb & 0x80) ? (__u64)(__s64)(__s8)t : t; break; }
	case 2: { __u16 t = 0; err = user ? bpf_probe_read_user(&t, 2, (void *)addr) : bpf_probe_read_kernel(&t, 2, (void *)addr); v = (wb & 0x80) ? (__u64)(__s64)(__s16)t : t; break; }
	case 4: { __u32 t = 0; err = user ? bpf_probe_read_user(&t, 4, (void *)addr) : bpf_probe_read_kernel(&t, 4, (void *)addr); v = (wb & 0x80) ? (__u64)(__s64)(__s32)t : t; break; }
	default: err = user ? bpf_probe_read_user(&v, 8, (void *)addr) : bpf_probe_read_kernel(&v, 8, (void *)addr); break;
	}
	*out = err ? 0 : (__s64)v;
	if (err && !user) {
		static const char fmt[] = "kernel read fault at 0x%016lx (addr)";

		bpf_snprintf(msg, MAXSTRINGLEN, fmt, a, sizeof(a));
	}
	return err;
}

/* kernel_string_n / user_string_n: at most n bytes; the kernel's fault message into msg */
static __always_inline long str_read(char *dst, char *msg, __u64 addr, __s64 n, int user)
{
	__u64 a[1] = { addr };
	__u32 size = n < 0 ? 1 : n >= MAXSTRINGLEN - 1 ? MAXSTRINGLEN : (__u32)n + 1;
	long r;

	size &= 2 * MAXSTRINGLEN - 1;
	if (size > MAXSTRINGLEN)
		size = MAXSTRINGLEN;
	if (size < 1)
		size = 1;
	r = user ? bpf_probe_read_user_str(msg, size, (void *)addr) : bpf_probe_read_kernel_str(msg, size, (void *)addr);
	if (r < 0) {
		dst[0] = 0;
		if (!user) {
			static const char fmt[] = "kernel string copy fault at 0x%016lx [man error::fault]";

			bpf_snprintf(msg, MAXSTRINGLEN, fmt, a, sizeof(a));
		}
		return r;
	}
	bpf_probe_read_kernel_str(dst, MAXSTRINGLEN, msg);
	return 0;
}

/* errno_str(n): the table at data[table] is a u32 count, then u32 string offsets */
static __always_inline void errno_str(struct code_blob *code, char *dst, __s64 e, __u32 table)
{
	__u32 cnt = data_u32(code, table), off;
	__u64 a[1];

	if (e < 0)
		e = -e;
	if (e > 0 && e < cnt) {
		off = data_u32(code, table + 4 + 4 * (__u32)e);
		/* numbers Linux leaves unnamed (41, 58) have an empty entry */
		if (code->data[off & (DATA_BYTES - 1)]) {
			bpf_probe_read_kernel_str(dst, MAXSTRINGLEN, &code->data[off & (DATA_BYTES - 1)]);
			return;
		}
	}
	{
		static const char fmt[] = "E#%ld";

		a[0] = e;
		bpf_snprintf(dst, MAXSTRINGLEN, fmt, a, sizeof(a));
	}
}

static const char day_names[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char mon_names[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* ctime(): civil date from days since 1970 without loops (Howard Hinnant's days_to_civil) */
static __always_inline void ctime_str(char *dst, __s64 t)
{
	__u64 days, rem, z, era, doe, yoe, doy, mp, d, m, y, a[8];
	__u32 wd, mi;

	if (t < 0) {
		static const char past[] = "a long, long time ago...";

		bpf_probe_read_kernel_str(dst, MAXSTRINGLEN, past);
		return;
	}
	if (t > 2147483647LL) {
		static const char future[] = "far far in the future...";

		bpf_probe_read_kernel_str(dst, MAXSTRINGLEN, future);
		return;
	}
	days = (__u64)t / 86400;
	rem = (__u64)t % 86400;
	z = days + 719468;
	era = z / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	if (m <= 2)
		y++;
	{
		static const char fmt[] = "%s %s%3d %02d:%02d:%02d %d";

		/* the verifier does not bound a modulo: mask and clamp the table indices */
		wd = (days + 4) % 7;
		mi = m - 1;
		asm volatile("" : "+r"(wd), "+r"(mi));
		if (wd > 6)
			wd = 6;
		if (mi > 11)
			mi = 11;
		a[0] = (__u64)day_names[wd];
		a[1] = (__u64)mon_names[mi];
		a[2] = d;
		a[3] = rem / 3600;
		a[4] = rem % 3600 / 60;
		a[5] = rem % 60;
		a[6] = y;
		bpf_snprintf(dst, MAXSTRINGLEN, fmt, a, 7 * sizeof(__u64));
	}
}

#endif /* TAPVM_CONTEXT_H */
