// The data-area tables of system call probes (their layout is vm/syscalls.h's): per number a
// u16, NSYSCALLS of them, pointing at a name, an argument description or a handler list.
import { LIMITS } from '../isa/opcodes';
import type { ProbeInfo } from '../image/image';
import { kernelFacts } from '../kernel/facts';
import { syscallByNr, syscallArgs, isUserString, type SyscallDesc } from '../kernel/syscalls';

/** Appends bytes at an aligned offset of the data area and returns the offset. */
export type DataAlloc = (bytes: number[], align: number) => number;

/** u16 per number: argument count (bits 0-2) | user-string arguments (bit 3 + i). */
export function argInfo(sc: SyscallDesc): number {
  const args = syscallArgs(sc).slice(0, 6);
  let info = sc.event ? args.length : 6;
  args.forEach((f, i) => {
    if (isUserString(f.name, f.ctype)) info |= 8 << i;
  });
  return info;
}

export function u16Table(entries: Map<number, number>): number[] {
  const bytes: number[] = Array(LIMITS.NSYSCALLS * 2).fill(0);
  for (const [nr, v] of entries) {
    bytes[nr * 2] = v & 0xff;
    bytes[nr * 2 + 1] = (v >> 8) & 0xff;
  }
  return bytes;
}

const u32 = (v: number) => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff];

/** Raw syscalls fire for every call on the host: name a handful of calls through their own events. */
const MAX_OWN_EVENTS = 8;

/**
 * Per direction, nr -> the list { u32 n; u32 probe << 16 | pc ... } of the probes that want it,
 * in script order, and the tracepoints the table is attached to.
 */
export function dispatchTables(probes: ProbeInfo[], alloc: DataAlloc): { table: number; tracepoints: { system: string; event: string }[] }[] {
  const out: { table: number; tracepoints: { system: string; event: string }[] }[] = [];
  for (const exit of [false, true]) {
    const byNr = new Map<number, number[]>();
    for (const p of probes) {
      if (p.attach.family !== 'syscall' || p.attach.exit !== exit) continue;
      for (const nr of p.attach.nrs) byNr.set(nr, [...(byNr.get(nr) ?? []), (p.index << 16) | p.pc]);
    }
    if (!byNr.size) continue;
    const lists = new Map<string, number>();
    const table = new Map<number, number>();
    for (const [nr, entries] of byNr) {
      const key = entries.join(',');
      let off = lists.get(key);
      if (off === undefined) {
        off = alloc([...u32(Math.min(entries.length, LIMITS.MAXDISPATCH)), ...entries.slice(0, LIMITS.MAXDISPATCH).flatMap(u32)], 4);
        lists.set(key, off);
      }
      table.set(nr, off);
    }
    const covered = [...byNr.keys()].map((nr) => syscallByNr(nr)!);
    // a module relies on these numbers: record them as kernel facts (one kernelFacts(): each
    // call makes a recording wrapper)
    const facts = kernelFacts();
    for (const s of covered) facts.syscallNumber(s.name);
    const own = covered.map((s) => s.event);
    const dir = exit ? 'exit' : 'enter';
    const tracepoints =
      own.length <= MAX_OWN_EVENTS && own.every((e) => e !== undefined)
        ? own.map((e) => ({ system: 'syscalls', event: `sys_${dir}_${e}` }))
        : [{ system: 'raw_syscalls', event: `sys_${dir}` }];
    out.push({ table: alloc(u16Table(table), 2), tracepoints });
  }
  return out;
}
