// process("PATH").function("SYM")[.return], process("PATH").statement(ADDR) and
// process(PID).function(...): uprobes at file offsets found in the ELF symbol tables, run in
// the kernel by the uprobe entry program. A wildcard SYM gives one probe point per symbol.
// process[("PATH")|(PID)].begin/.end: the sched exec/exit tracepoints, guarded by the
// executable's inode and device (or the pid).
import * as fs from 'fs';
import * as path from 'path';
import type { ProbeProvider, ResolvedPoint, Mismatch, Guard } from './provider';
import { pointText } from './provider';
import { resolveTracepoint } from './tracepoint';
import { CTX } from '../isa/opcodes';
import type { TracepointField } from '../kernel/tracefs';
import { readElf, fileOffset, globMatcher, ElfError, type ElfFile } from '../kernel/elf';
import { syscallCatalog, RET_FIELD } from '../kernel/syscalls';

/** x86_64 struct pt_regs: where $return (rax) is. */
const PT_REGS_AX = 80;

const RETURN_VAR: TracepointField = { name: 'return', ctype: 'long', offset: PT_REGS_AX, size: 8, signed: true, kind: 'int' };

/** stap's two-part error: "while resolving probe point: identifier 'process'", then why. */
const noMatch = (why: string): Mismatch => ({ error: why, resolving: true });

/** A bare name is looked up in PATH as stap does for executables; the result is the real path. */
export function resolveExecutable(name: string): string | undefined {
  const candidates = name.includes('/')
    ? [name]
    : (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':').filter(Boolean).map((d) => path.join(d, name));
  for (const c of candidates) {
    try {
      if (fs.statSync(c).isFile()) return fs.realpathSync(c);
    } catch {
      /* next candidate */
    }
  }
  return undefined;
}

const elfCache = new Map<string, ElfFile>();
/** The file's ELF, read once per compilation process (throws ElfError). */
export function elfOf(file: string): ElfFile {
  let elf = elfCache.get(file);
  if (!elf) elfCache.set(file, (elf = readElf(file)));
  return elf;
}

function pointFor(file: string, pid: number | undefined, rest: string, offset: bigint, retprobe: boolean, func: string | undefined): ResolvedPoint {
  const buildId = elfCache.get(file)?.buildId;
  const contextVars = new Map<string, TracepointField>();
  if (retprobe) contextVars.set('return', RETURN_VAR);
  // $$return on a uretprobe; $$parms has no names without DWARF (no `pretty` on entry points)
  return {
    pp: `process(${JSON.stringify(file)}).${rest}`,
    target: 'kernel',
    attach: { family: 'uprobe', path: file, offset: Number(offset), retprobe, ...(pid !== undefined ? { pid } : {}), ...(buildId ? { buildId } : {}) },
    contextVars,
    module: file,
    ...(retprobe ? { pretty: { locals: [], ret: RETURN_VAR } } : {}),
    ...(func !== undefined ? { func } : {}),
  };
}

export const uprobeProvider: ProbeProvider = {
  names: ['process'],
  resolve(point) {
    const [proc, what, ret, ...more] = point.components;
    if (!what || more.length || (ret && (ret.name !== 'return' || ret.arg || what.name !== 'function')))
      return { error: 'expected process("PATH").function("SYM")[.return], process("PATH").statement(ADDR) or process(PID).function("SYM")' };
    if (what.name === 'begin' || what.name === 'end') return lifecycle(point, proc, what.name, ret !== undefined || what.arg !== undefined);

    let file: string | undefined;
    let pid: number | undefined;
    if (!proc.arg) return { error: `process.${what.name} needs a process: process("PATH").${what.name}(...) or process(PID)` };
    if (proc.arg.kind === 'number') {
      pid = Number(proc.arg.value);
      try {
        file = fs.realpathSync(`/proc/${pid}/exe`);
      } catch {
        return noMatch(`cannot find process ${pid}'s executable (no /proc/${pid}/exe)`);
      }
    } else {
      file = resolveExecutable(proc.arg.value);
      if (!file) return noMatch(`cannot find executable '${proc.arg.value}'`);
    }

    let elf: ElfFile;
    try {
      elf = elfOf(file);
    } catch (e) {
      if (e instanceof ElfError) return noMatch(e.message);
      throw e;
    }

    if (what.name === 'statement') {
      if (!what.arg || what.arg.kind !== 'number') return { error: 'process("PATH").statement takes an address: statement(0x401136)' };
      const addr = what.arg.value;
      const off = fileOffset(elf, addr);
      if (off === undefined) return noMatch(`no executable segment of ${file} holds address 0x${addr.toString(16)}`);
      const sym = elf.functions.find((f) => addr >= f.addr && addr < f.addr + (f.size || 1n));
      return pointFor(file, pid, `statement(0x${addr.toString(16)})`, off, false, sym?.name);
    }
    if (what.name !== 'function' || !what.arg || what.arg.kind !== 'string')
      return { error: 'expected process("PATH").function("SYM")[.return] or process("PATH").statement(ADDR)' };

    const match = globMatcher(what.arg.value);
    // a wildcard that matches several names of one address (getpid and __getpid) probes it
    // once, under the name with the fewest leading underscores
    const byAddr = new Map<bigint, string>();
    const underscores = (n: string) => /^_*/.exec(n)![0].length;
    for (const f of elf.functions) {
      if (!match(f.name)) continue;
      const cur = byAddr.get(f.addr);
      if (cur === undefined || underscores(f.name) < underscores(cur)) byAddr.set(f.addr, f.name);
    }
    const points: ResolvedPoint[] = [];
    for (const [addr, name] of byAddr) {
      const off = fileOffset(elf, addr);
      if (off === undefined) continue;
      points.push(pointFor(file, pid, `function(${JSON.stringify(name)})${ret ? '.return' : ''}`, off, !!ret, name));
    }
    if (!points.length) return noMatch(`no match`);
    return points.length === 1 ? points[0] : points;
  },
};

/** The kernel's dev_t (major << 20 | minor) of a stat() st_dev (glibc's encoding). */
export function kernelDev(dev: number): bigint {
  const d = BigInt(dev);
  const major = (d >> 8n) & 0xfffn;
  const minor = (d & 0xffn) | ((d >> 12n) & 0xfff00n);
  return (major << 20n) | minor;
}

/** The system calls whose child is a new process: clone, fork, vfork, clone3. */
const FORKS = ['clone', 'fork', 'vfork', 'clone3'];

/**
 * process.begin: a process starts, as stap's utrace task finder reports it: in the new
 * program after exec (sched_process_exec), and in the child of a fork (its first return to
 * user space: the clone/fork/vfork/clone3 exit that returns 0, in a new process, not a new
 * thread: pid() == tid()); so fork then exec fires it twice, in the child each time.
 * process.end: a process ends (sched_process_exit of its last thread, group_dead). With
 * PATH, only tasks running that file (same inode and device: a fork of a PATH process runs
 * it too); with PID, only that process (.end only).
 */
function lifecycle(point: Parameters<ProbeProvider['resolve']>[0], proc: Parameters<ProbeProvider['resolve']>[0]['components'][0], which: 'begin' | 'end', extra: boolean): ResolvedPoint | ResolvedPoint[] | Mismatch {
  if (extra || point.components.length > 2) return { error: `expected process.${which}, process("PATH").${which} or process(PID).${which}` };
  const guards: Guard[] = [];
  let pp = pointText(point);
  let module: string | undefined;
  if (proc.arg?.kind === 'string') {
    const file = resolveExecutable(proc.arg.value);
    if (!file) return noMatch(`cannot find executable '${proc.arg.value}'`);
    module = file;
    const st = fs.statSync(file);
    guards.push({ ctx: CTX.EXE_INO, equals: BigInt(st.ino) }, { ctx: CTX.EXE_DEV, equals: kernelDev(st.dev) });
    pp = `process(${JSON.stringify(file)}).${which}`;
  } else if (proc.arg?.kind === 'number') {
    if (which === 'begin') return { error: `process(PID).begin is not supported: the process has begun already (use process("PATH").begin)` };
    guards.push({ ctx: CTX.PID, equals: proc.arg.value });
  }
  const r = resolveTracepoint('sched', which === 'begin' ? 'sched_process_exec' : 'sched_process_exit', pp);
  if ('error' in r) return r;
  if (which === 'end') {
    const groupDead = r.contextVars.get('group_dead');
    if (!groupDead) return { error: `${pp} needs the group_dead field of sched:sched_process_exit (Linux 6.16 or later)` };
    guards.push({ field: groupDead, equals: 1n });
  }
  r.contextVars = new Map();
  r.pretty = undefined;
  r.guards = guards;
  if (module) r.module = module;
  if (which === 'end') return r;
  const nrs = syscallCatalog()
    .filter((s) => FORKS.includes(s.name))
    .map((s) => s.nr);
  const fork: ResolvedPoint = {
    pp,
    target: 'kernel',
    attach: { family: 'syscall', exit: true, nrs },
    contextVars: new Map(),
    guards: [{ field: RET_FIELD, equals: 0n }, { ctx: CTX.PID, sameAs: CTX.TID }, ...guards],
    ...(module ? { module } : {}),
  };
  return [r, fork];
}
