// User-space symbols for print_ubacktrace(), sprint_ubacktrace(), usymname() and usymdata().
// The kernel sends the process's tgid with the addresses (vm/stack.h); here an address is
// found in that process's /proc/PID/maps, turned into a virtual address of the mapped file
// through its PT_LOAD segments, and named from the file's ELF symbol tables (src/kernel/elf.ts).
// Maps are read once per process (again when an address falls outside them: a later mmap or
// dlopen) and kept after the process exits, so a record printed after its process ended is
// still named when that process was seen before; one never seen gives hex, as stap without
// symbols. ELF files are read once per (dev, inode).
import * as fs from 'fs';
import * as path from 'path';
import { readElf, type ElfFile } from './elf';

interface Mapping {
  start: bigint;
  end: bigint;
  offset: bigint;
  /** "dev:inode" of the mapped file */
  key: string;
  path: string;
}

export interface UserSymbol {
  name: string;
  /** address - the symbol's start */
  offset: bigint;
  size: bigint;
  /** the mapped file's path, stap's module name for user code */
  module: string;
}

const maps = new Map<number, Mapping[]>();
const elves = new Map<string, ElfFile | null>();
let mapsRoot = '/proc';

/** Reads maps from `root`/PID/maps instead of /proc (tests); clears the caches. */
export function setUserSymbolsRoot(root: string) {
  mapsRoot = root;
  maps.clear();
  elves.clear();
}

function readMaps(pid: number): Mapping[] | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(mapsRoot, String(pid), 'maps'), 'latin1');
  } catch {
    return undefined;
  }
  const out: Mapping[] = [];
  for (const line of text.split('\n')) {
    // 55d0c0a00000-55d0c0a01000 r-xp 00001000 fd:01 1234567   /usr/bin/x
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ ([0-9a-f]+) ([0-9a-f]+:[0-9a-f]+) (\d+)\s+(\/.*)$/.exec(line);
    if (!m || m[5] === '0') continue;
    out.push({ start: BigInt('0x' + m[1]), end: BigInt('0x' + m[2]), offset: BigInt('0x' + m[3]), key: `${m[4]}:${m[5]}`, path: m[6].replace(/ \(deleted\)$/, '') });
  }
  return out;
}

function mappingOf(pid: number, addr: bigint): Mapping | undefined {
  const find = (ms: Mapping[] | undefined) => ms?.find((m) => addr >= m.start && addr < m.end);
  let hit = find(maps.get(pid));
  if (hit) return hit;
  const fresh = readMaps(pid);
  if (!fresh) return undefined;
  maps.set(pid, fresh);
  hit = find(fresh);
  return hit;
}

function elfOf(m: Mapping): ElfFile | undefined {
  let e = elves.get(m.key);
  if (e === undefined) {
    try {
      e = readElf(m.path);
    } catch {
      e = null;
    }
    elves.set(m.key, e);
  }
  return e ?? undefined;
}

/** The function containing `addr` in process `pid`, or undefined (no mapping, no symbol). */
export function userSymbol(pid: number, addr: bigint): UserSymbol | undefined {
  const a = BigInt.asUintN(64, addr);
  const m = mappingOf(pid, a);
  if (!m) return undefined;
  const elf = elfOf(m);
  if (!elf) return undefined;
  const fileOff = a - m.start + m.offset;
  const seg = elf.segments.find((s) => fileOff >= s.offset && fileOff < s.offset + s.memsz);
  if (!seg) return undefined;
  const vaddr = fileOff - seg.offset + seg.vaddr;
  const fns = elf.functions;
  let lo = 0;
  let hi = fns.length - 1;
  if (hi < 0 || vaddr < fns[0].addr) return undefined;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (fns[mid].addr <= vaddr) lo = mid;
    else hi = mid - 1;
  }
  // names sharing an address: the first one sorted (elf.ts sorts by address, then name)
  while (lo > 0 && fns[lo - 1].addr === fns[lo].addr) lo--;
  const f = fns[lo];
  let size = f.size;
  if (size === 0n) {
    // no st_size (hand-written code): up to the next symbol, as kallsyms sizes
    let next = lo + 1;
    while (next < fns.length && fns[next].addr === f.addr) next++;
    size = next < fns.length ? fns[next].addr - f.addr : 0n;
  }
  if (size > 0n && vaddr >= f.addr + size) return undefined;
  return { name: f.name, offset: vaddr - f.addr, size, module: m.path };
}

const hex = (v: bigint) => '0x' + v.toString(16);
const hex16 = (v: bigint) => '0x' + BigInt.asUintN(64, v).toString(16).padStart(16, '0');

/** usymname(): the name, or the address in hex (as symname()). */
export function usymname(pid: number, addr: bigint): string {
  return userSymbol(pid, addr)?.name ?? hex(BigInt.asUintN(64, addr));
}

/** usymdata(): "name+0xoff/0xsize [module]" (stap's _STP_SYM_DATA), or hex. */
export function usymdata(pid: number, addr: bigint): string {
  const s = userSymbol(pid, addr);
  return s ? `${s.name}+${hex(s.offset)}/${hex(s.size)} [${s.module}]` : hex(BigInt.asUintN(64, addr));
}

/** The layouts of stap's _stp_snprint_addr that user stacks are printed in. */
export type UstackLayout = 'full' | 'brief' | 'simple';

/**
 * One line per address: print_ubacktrace() (full: " 0x%016x : name+0xoff/0xsize [module]"),
 * print_ubacktrace_brief() ("name+0xoff"), sprint_ubacktrace() (simple: "name+0xoff [base]");
 * an address without a symbol is its hex (" 0x%016x" in full).
 */
export function ubacktraceText(pid: number, frames: bigint[], layout: UstackLayout): string {
  return frames
    .map((f) => {
      const s = userSymbol(pid, f);
      if (layout === 'full') return s ? ` ${hex16(f)} : ${s.name}+${hex(s.offset)}/${hex(s.size)} [${s.module}]\n` : ` ${hex16(f)}\n`;
      if (!s) return `${hex16(f)}\n`;
      return layout === 'brief' ? `${s.name}+${hex(s.offset)}\n` : `${s.name}+${hex(s.offset)} [${path.basename(s.module)}]\n`;
    })
    .join('');
}

/**
 * The text of a kernel-encoded user symbol lookup (vm/stack.h usym_encode): `kind` '0'
 * usymname, '1' usymdata, '2' sprint_ubacktrace (cut at `maxLen` bytes as stap cuts the
 * string), then the tgid and the address(es).
 */
export function usymText(kind: string, values: bigint[], maxLen: number): string {
  const [pid, ...addrs] = values;
  if (pid === undefined) return '';
  if (kind === '2') return ubacktraceText(Number(pid), addrs, 'simple').slice(0, maxLen);
  if (!addrs.length) return '';
  return kind === '1' ? usymdata(Number(pid), addrs[0]) : usymname(Number(pid), addrs[0]);
}
