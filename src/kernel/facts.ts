// Kernel facts: everything the compiler learns about the kernel it compiles for goes through
// this one interface, so `-r host.facts` can substitute a snapshot taken on another machine and
// a module (`-p4 -m NAME`) can record exactly the facts its bytecode relies on.
//
// Rule for compiler code: never read tracefs, /proc, BTF or headers directly; call
// kernelFacts().X(...). A new kind of fact needs (1) a method here, (2) its host reader,
// (3) its field in FactsSnapshot (`tapvm kernel-facts`), (4) a note in UsedFacts when the
// compiler uses it, and (5) a comparison in src/module/check.ts.
import * as fs from 'fs';
import * as os from 'os';
import * as zlib from 'zlib';
import { readTracepoint, listEvents, listSystems, tracefsRoot, type TracepointField, type TracepointFormat } from './tracefs';
import { readHostConfig } from './config';
import { X86_64_SYSCALLS } from './syscall-table';
import { Btf, hostBtf, hostBtfBytes } from './btf';

export interface KernelFacts {
  /** where the facts come from: "this host" or the snapshot file's name */
  readonly origin: string;
  /** `uname -r` */
  release(): string;
  /** `uname -m` */
  machine(): string;
  /** CONFIG_X's value as written in .config ("y", "m", "\"str\""), "" when unset */
  config(name: string): string;
  /** a tracepoint's record layout, or null when the kernel has none of that name */
  tracepoint(system: string, event: string): TracepointFormat | null;
  /** tracepoint systems (the directories of tracefs events/) */
  systems(): string[];
  /** event names of a tracepoint system (suggestions, wildcards) */
  events(system: string): string[];
  /** whether the kernel has kprobes (tracefs kprobe_events) */
  hasKprobes(): boolean;
  /** a system call's number on this architecture, undefined when unknown */
  syscallNumber(name: string): number | undefined;
  /**
   * the kernel's BTF (types, function prototypes), null when it has none. What the compiler
   * takes from it is noted through noteKernelType (src/kernel/ktypes.ts), not here.
   */
  btf(): Btf | null;
}

/** The facts one compilation relied on: what a module records and checks before it runs. */
export interface UsedFacts {
  release: string;
  machine: string;
  /** "system:event" -> fields read by the script: name -> [offset, size, signed], or null: absent */
  tracepoints: Record<string, Record<string, [number, number, boolean]> | null>;
  syscalls: Record<string, number | null>;
  config: Record<string, string>;
  /**
   * BTF facts (src/kernel/ktypes.ts kernelTypeFact): "member struct task_struct->tgid" ->
   * "bit 2464 int", "type task_struct" -> spelling and size, "func vfs_read" -> prototype;
   * null: the kernel had none. Absent in modules made before BTF support.
   */
  types?: Record<string, string | null>;
}

// ---- the running host ----

/** x86_64's name -> number map, made once per process (a warm worker's commands share it). */
let x64Syscalls: Map<string, number> | undefined;

function hostSyscalls(): Map<string, number> {
  // x86_64: the ABI table tapvm carries (headers may be absent or older than the kernel); a
  // constant, so built once: `syscall.*` asks for every number, through a fresh hostKernelFacts()
  // per command
  if (os.arch() === 'x64') {
    if (!x64Syscalls) {
      x64Syscalls = new Map();
      X86_64_SYSCALLS.forEach((name, nr) => {
        if (name) x64Syscalls!.set(name, nr);
      });
    }
    return x64Syscalls;
  }
  const map = new Map<string, number>();
  const arch = os.arch() === 'x64' ? 'x86_64-linux-gnu' : os.arch() === 'arm64' ? 'aarch64-linux-gnu' : '';
  for (const file of [`/usr/include/${arch}/asm/unistd_64.h`, '/usr/include/asm/unistd_64.h', '/usr/include/asm-generic/unistd.h']) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'latin1');
    } catch {
      continue;
    }
    for (const m of text.matchAll(/^#define __NR_([a-z0-9_]+)\s+(\d+)\s*$/gm)) map.set(m[1], Number(m[2]));
    if (map.size) break;
  }
  return map;
}

export function hostKernelFacts(): KernelFacts {
  let config: Map<string, string> | undefined;
  let syscalls: Map<string, number> | undefined;
  return {
    origin: 'this host',
    release: () => os.release(),
    machine: () => os.machine(),
    config: (name) => (config ??= readHostConfig(os.release())).get(name) ?? '',
    tracepoint: readTracepoint,
    systems: listSystems,
    events: listEvents,
    hasKprobes: () => fs.existsSync(`${tracefsRoot()}/kprobe_events`),
    syscallNumber: (name) => (syscalls ??= hostSyscalls()).get(name),
    btf: hostBtf,
  };
}

// ---- a snapshot (`tapvm kernel-facts > host.facts`, `tapvm -r host.facts`) ----

export interface FactsSnapshot {
  format: 'tapvm-kernel-facts';
  version: 1;
  release: string;
  machine: string;
  kprobes: boolean;
  config: Record<string, string>;
  syscalls: Record<string, number>;
  /** "system:event" -> [id, fields as [name, ctype, offset, size, signed]] */
  tracepoints: Record<string, [number, [string, string, number, number, boolean][]]>;
  /** the raw BTF of /sys/kernel/btf/vmlinux, gzip then base64 (~2.3 MB for 5.4 MB; absent: none) */
  btf?: string;
}

/** Everything a compilation could ask about this host, as JSON-able data. */
export function snapshotHost(): FactsSnapshot {
  const root = tracefsRoot();
  const tracepoints: FactsSnapshot['tracepoints'] = {};
  for (const system of fs.readdirSync(`${root}/events`)) {
    if (!fs.statSync(`${root}/events/${system}`).isDirectory()) continue;
    for (const event of listEvents(system)) {
      let fmt: TracepointFormat | null = null;
      try {
        fmt = readTracepoint(system, event);
      } catch {
        continue; // not a tracepoint directory
      }
      if (fmt) tracepoints[`${system}:${event}`] = [fmt.id, fmt.fields.map((f) => [f.name, f.ctype, f.offset, f.size, f.signed])];
    }
  }
  return {
    format: 'tapvm-kernel-facts',
    version: 1,
    release: os.release(),
    machine: os.machine(),
    kprobes: fs.existsSync(`${root}/kprobe_events`),
    config: Object.fromEntries(readHostConfig(os.release())),
    syscalls: Object.fromEntries(hostSyscalls()),
    tracepoints,
    btf: gzipBase64(hostBtfBytes()),
  };
}

function gzipBase64(b: Buffer | null): string | undefined {
  return b ? zlib.gzipSync(b).toString('base64') : undefined;
}

export function factsFromSnapshot(s: FactsSnapshot, origin: string): KernelFacts {
  if (s?.format !== 'tapvm-kernel-facts' || s.version !== 1) throw new Error(`${origin} is not a tapvm kernel-facts file (make one with 'tapvm kernel-facts > FILE')`);
  let btf: Btf | null | undefined;
  const classify = (ctype: string, size: number): TracepointField['kind'] => {
    if (/^__data_loc\b.*char\s*\[\]$/.test(ctype)) return 'dataloc_string';
    if (/\bchar\s*\[\d+\]$/.test(ctype)) return 'char_array';
    if (/\[/.test(ctype) || /^__data_loc/.test(ctype)) return 'other';
    return size === 1 || size === 2 || size === 4 || size === 8 ? 'int' : 'other';
  };
  return {
    origin,
    release: () => s.release,
    machine: () => s.machine,
    config: (name) => s.config[name] ?? '',
    tracepoint(system, event) {
      const t = s.tracepoints[`${system}:${event}`];
      if (!t) return null;
      const fields = t[1].map(([name, ctype, offset, size, signed]) => ({ name, ctype, offset, size, signed, kind: classify(ctype, size) }));
      return { system, event, id: t[0], fields };
    },
    systems: () => [...new Set(Object.keys(s.tracepoints).map((k) => k.slice(0, k.indexOf(':'))))],
    events: (system) =>
      Object.keys(s.tracepoints)
        .filter((k) => k.startsWith(`${system}:`))
        .map((k) => k.slice(system.length + 1)),
    hasKprobes: () => s.kprobes,
    syscallNumber: (name) => s.syscalls[name],
    btf: () => (btf === undefined ? (btf = s.btf ? new Btf(zlib.gunzipSync(Buffer.from(s.btf, 'base64'))) : null) : btf),
  };
}

// ---- the facts in use, and what the compiler took from them ----

let active: KernelFacts | undefined;
let used: UsedFacts | undefined;

/**
 * The facts the compiler consults (the host's unless withKernelFacts says otherwise). Lookups
 * through it are recorded as facts the compilation relies on; a tracepoint's fields are
 * recorded one by one when the compiled code reads them (src/probes/tracepoint.ts FieldMap).
 */
export function kernelFacts(): KernelFacts {
  const f = (active ??= hostKernelFacts());
  if (!used) return f;
  return {
    ...f,
    config(name) {
      const v = f.config(name);
      noteConfig(name, v);
      return v;
    },
    tracepoint(system, event) {
      const t = f.tracepoint(system, event);
      noteTracepoint(`${system}:${event}`, t !== null);
      return t;
    },
    syscallNumber(name) {
      const nr = f.syscallNumber(name);
      noteSyscall(name, nr);
      return nr;
    },
  };
}

function freshUsed(f: KernelFacts): UsedFacts {
  return { release: f.release(), machine: f.machine(), tracepoints: {}, syscalls: {}, config: {}, types: {} };
}

/** Runs fn (a compilation) against `facts`, recording the facts it relied on. */
export function withKernelFacts<T>(facts: KernelFacts, fn: () => T): { result: T; used: UsedFacts } {
  const prevActive = active;
  const prevUsed = used;
  active = facts;
  const mine = (used = freshUsed(facts));
  try {
    return { result: fn(), used: mine };
  } finally {
    active = prevActive;
    used = prevUsed;
  }
}

/** Notes that the compiled code reads `field` of a tracepoint's record. */
export function noteTracepointField(tp: string, f: TracepointField): void {
  if (!used) return;
  const fields = (used.tracepoints[tp] ??= {});
  fields[f.name] = [f.offset, f.size, f.signed];
}

/** Notes that the compilation depends on a tracepoint (absent: null, e.g. an optional probe). */
function noteTracepoint(tp: string, present: boolean): void {
  if (!used) return;
  if (!present) used.tracepoints[tp] = null;
  else used.tracepoints[tp] ??= {};
}

/** Notes a BTF fact the compiled code relies on (key and value as kernelTypeFact computes them). */
export function noteKernelType(key: string, value: string | null): void {
  if (used) (used.types ??= {})[key] = value;
}

function noteSyscall(name: string, nr: number | undefined): void {
  if (used) used.syscalls[name] = nr ?? null;
}

function noteConfig(name: string, value: string): void {
  if (used) used.config[name] = value;
}
