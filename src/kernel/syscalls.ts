// The system calls this host can trace: numbers from the x86_64 table (the ABI; tracefs names
// the syscalls:sys_enter_NAME events but not their numbers), named arguments from each event's
// format file. Every system call in the table can be traced through raw_syscalls, with or
// without a syscalls:sys_enter_NAME event of its own.
import { X86_64_SYSCALLS } from './syscall-table';
import type { TracepointField } from './tracefs';
import { kernelFacts } from './facts';

export interface SyscallDesc {
  nr: number;
  /** stap's name (the <asm/unistd.h> one): stat, not newstat */
  name: string;
  /** syscalls:sys_enter_EVENT / sys_exit_EVENT, when the kernel has them */
  event?: string;
}

/** __NR names whose trace events are spelled otherwise (SYSCALL_DEFINE names). */
const EVENT_NAME: Record<string, string> = {
  stat: 'newstat',
  fstat: 'newfstat',
  lstat: 'newlstat',
  uname: 'newuname',
  sendfile: 'sendfile64',
  umount2: 'umount',
};

/** Width and signedness of a syscall argument's C type (the event stores every one in 8 bytes). */
export function argWidth(ctype: string): { size: number; signed: boolean } {
  const t = ctype.replace(/\b(const|volatile|__user)\b/g, '').replace(/\s+/g, ' ').trim();
  if (t.includes('*')) return { size: 8, signed: false };
  if (/^(int|pid_t|key_t|mqd_t|timer_t|clockid_t|key_serial_t|rwf_t|__s32|s32)$/.test(t)) return { size: 4, signed: true };
  if (/^(unsigned int|unsigned|uid_t|gid_t|qid_t|u32|__u32|old_uid_t|old_gid_t)$/.test(t)) return { size: 4, signed: false };
  if (/^(umode_t|unsigned short|u16)$/.test(t)) return { size: 2, signed: false };
  if (/^(short)$/.test(t)) return { size: 2, signed: true };
  if (/^(long|loff_t|off_t|ssize_t|long long|__kernel_old_time_t|time_t)$/.test(t)) return { size: 8, signed: true };
  return { size: 8, signed: false };
}

const catalogs = new Map<string, SyscallDesc[]>();

/**
 * Every system call of the table, with its event name when the kernel has one (one readdir).
 * The numbers are the x86_64 ABI, not a kernel fact; the events and their formats are.
 */
export function syscallCatalog(): SyscallDesc[] {
  const facts = kernelFacts();
  let catalog = catalogs.get(facts.origin);
  if (catalog) return catalog;
  if (facts.machine() !== 'x86_64') throw new Error(`system call numbers are known only for x86_64, not ${facts.machine()}`);
  const events = new Set(facts.events('syscalls'));
  catalog = [];
  X86_64_SYSCALLS.forEach((name, nr) => {
    if (!name) return;
    const event = EVENT_NAME[name] ?? name;
    catalog!.push({ nr, name, event: events.has(`sys_enter_${event}`) ? event : undefined });
  });
  catalogs.set(facts.origin, catalog);
  return catalog;
}

const argCache = new Map<string, TracepointField[]>();

/** Named arguments in order (offset 16 + 8 * i), read at their C type's width; [] without an event. */
export function syscallArgs(sc: SyscallDesc): TracepointField[] {
  const facts = kernelFacts();
  const key = `${facts.origin}:${sc.nr}`;
  let args = argCache.get(key);
  if (!args) {
    const fmt = sc.event ? facts.tracepoint('syscalls', `sys_enter_${sc.event}`) : null;
    args = (fmt?.fields ?? [])
      .filter((f) => !f.name.startsWith('common_') && f.name !== '__syscall_nr')
      .map((f) => ({ ...f, ...argWidth(f.ctype), kind: 'int' as const }));
    argCache.set(key, args);
  }
  return args;
}

const byNr = new WeakMap<SyscallDesc[], SyscallDesc[]>();

/** The catalog's entry for a number (an index per catalog: `syscall.*` asks for every number). */
export function syscallByNr(nr: number): SyscallDesc | undefined {
  const catalog = syscallCatalog();
  let index = byNr.get(catalog);
  if (!index) {
    index = [];
    for (const s of catalog) index[s.nr] = s;
    byNr.set(catalog, index);
  }
  return index[nr];
}

/** raw_syscalls and syscalls:* records: the number at 8, arguments or the return value at 16. */
export const NR_FIELD: TracepointField = { name: 'syscall_nr', ctype: 'int', offset: 8, size: 4, signed: true, kind: 'int' };
export const RET_FIELD: TracepointField = { name: 'return', ctype: 'long', offset: 16, size: 8, signed: true, kind: 'int' };

/** A system call's argument that SCARGS copies as a user string: `const char *`, not a buffer. */
export function isUserString(name: string, ctype: string): boolean {
  return /^const char \*$/.test(ctype.trim()) && name !== 'buf';
}
