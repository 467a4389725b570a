// Kernel symbols from /proc/kallsyms: read once, on first use, into sorted parallel arrays;
// an address is found by binary search. Sizes are the distance to the next symbol (kallsyms
// has none), as stap's own table gives for symbols without DWARF.
import * as fs from 'fs';

export interface KernelSymbol {
  name: string;
  addr: bigint;
  size: bigint;
  /** "kernel" or the module's name */
  module: string;
}

interface Table {
  addrs: BigUint64Array;
  names: string[];
  modules: string[];
}

let table: Table | undefined;
/** every kernel (not module) symbol by name, data included: for @var, built on first use */
let byName: Map<string, { addr: bigint; type: string }> | undefined;
/** setKallsyms()'s text (tests); otherwise /proc/kallsyms is read for each table, not kept */
let kallsymsText: string | undefined;

function text(): string {
  if (kallsymsText !== undefined) return kallsymsText;
  try {
    return fs.readFileSync('/proc/kallsyms', 'latin1');
  } catch {
    return '';
  }
}

function load(text: string): Table {
  const rows: { addr: bigint; name: string; module: string }[] = [];
  for (const line of text.split('\n')) {
    // "ffffffff81000000 T _stext" or "ffffffffc0a01000 t foo\t[mod]"
    const m = /^([0-9a-f]+) ([a-zA-Z]) (\S+)(?:\s+\[(\S+)\])?/.exec(line);
    if (!m || !'tTwW'.includes(m[2])) continue;
    const addr = BigInt('0x' + m[1]);
    if (addr === 0n) continue;
    rows.push({ addr, name: m[3], module: m[4] ?? 'kernel' });
  }
  rows.sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
  return { addrs: BigUint64Array.from(rows.map((r) => r.addr)), names: rows.map((r) => r.name), modules: rows.map((r) => r.module) };
}

/** Uses `text` instead of /proc/kallsyms (tests). */
export function setKallsyms(t: string | undefined) {
  kallsymsText = t;
  table = t === undefined ? undefined : load(t);
  byName = undefined;
}

/**
 * The address and kallsyms type letter of a kernel symbol by name (`D jiffies`), or undefined.
 * Data symbols are listed only with CONFIG_KALLSYMS_ALL; see hasDataSymbols().
 */
export function kernelSymbolByName(name: string): { addr: bigint; type: string } | undefined {
  if (!byName) {
    byName = new Map();
    for (const line of text().split('\n')) {
      const m = /^([0-9a-f]+) ([a-zA-Z]) (\S+)$/.exec(line);
      if (!m || byName.has(m[3])) continue;
      const addr = BigInt('0x' + m[1]);
      if (addr !== 0n) byName.set(m[3], { addr, type: m[2] });
    }
  }
  return byName.get(name);
}

/** Whether /proc/kallsyms lists ordinary data symbols (CONFIG_KALLSYMS_ALL); `jiffies` is one. */
export function hasDataSymbols(): boolean {
  return kernelSymbolByName('jiffies') !== undefined || kernelSymbolByName('init_task') !== undefined;
}

/** The text symbol containing addr, or undefined (user addresses, holes, nothing readable). */
export function kernelSymbol(addr: bigint): KernelSymbol | undefined {
  table ??= load(text());
  const a = BigInt.asUintN(64, addr);
  const { addrs } = table;
  let lo = 0;
  let hi = addrs.length - 1;
  if (hi < 0 || a < addrs[0]) return undefined;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (addrs[mid] <= a) lo = mid;
    else hi = mid - 1;
  }
  // several names may share an address (aliases): the first one sorted, stable
  while (lo > 0 && addrs[lo - 1] === addrs[lo]) lo--;
  let next = lo + 1;
  while (next < addrs.length && addrs[next] === addrs[lo]) next++;
  const size = next < addrs.length ? addrs[next] - addrs[lo] : 0n;
  if (size > 0n && a >= addrs[lo] + size) return undefined;
  return { name: table.names[lo], addr: addrs[lo], size, module: table.modules[lo] };
}

const hex = (v: bigint) => '0x' + v.toString(16);

/** symname(): the name, or the address in hex as stap gives when it has none. */
export function symname(addr: bigint): string {
  return kernelSymbol(addr)?.name ?? hex(BigInt.asUintN(64, addr));
}

/** symdata(): "name+0xoff/0xsize [module]" */
export function symdata(addr: bigint): string {
  const a = BigInt.asUintN(64, addr);
  const s = kernelSymbol(a);
  if (!s) return hex(a);
  return `${s.name}+${hex(a - s.addr)}/${hex(s.size)} [${s.module}]`;
}

/** print_backtrace()'s lines: " 0x%016x : name+0xoff/0xsize [module]" */
export function backtraceText(frames: bigint[]): string {
  return frames
    .map((f) => {
      const a = BigInt.asUintN(64, f);
      const addr = '0x' + a.toString(16).padStart(16, '0');
      return kernelSymbol(a) ? ` ${addr} : ${symdata(a)}\n` : ` ${addr}\n`;
    })
    .join('');
}
