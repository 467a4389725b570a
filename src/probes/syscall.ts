// syscall.NAME[.return], syscall.*[.return], syscall.GLOB, syscall_any[.return] and nd_syscall.*
// (the same probes): one point per probe point however many system calls it covers. The
// kernel side dispatches by number through a table in the script's data area (vm/syscalls.h),
// so syscall.* is two attachments, not seven hundred.
import type { ProbeProvider, ResolvedPoint, Mismatch, TapsetVar } from './provider';
import { pointText, globRegExp } from './provider';
import type { ProbePoint } from '../parse/ast';
import type { TracepointField } from '../kernel/tracefs';
import { syscallCatalog, syscallArgs, RET_FIELD, type SyscallDesc } from '../kernel/syscalls';

/** Arguments that name files: their tapset variable is the quoted user string, as in stap. */
const FILE_ARGS = new Set(['filename', 'pathname', 'oldname', 'newname', 'path', 'oldpath', 'newpath', 'specialfile', 'dev_name', 'dir_name', 'library']);

const isCharPtr = (f: TracepointField) => /\bchar\s*\*$/.test(f.ctype.trim());

interface Selection {
  syscalls: SyscallDesc[];
  exit: boolean;
}

function select(point: ProbePoint): Selection | Mismatch {
  const [first, ...rest] = point.components;
  let glob = '*';
  let tail = rest;
  if (first.name !== 'syscall_any') {
    const [name, ...more] = rest;
    if (!name || name.arg) return { error: `expected ${first.name}.NAME or ${first.name}.NAME.return` };
    glob = name.name;
    tail = more;
  }
  if (tail.length > 1 || (tail[0] && (!globRegExp(tail[0].name).test('return') || tail[0].arg))) return { error: `expected ${pointText(point)} to end in .return or nothing` };
  const re = globRegExp(glob);
  const syscalls = syscallCatalog().filter((s) => re.test(s.name));
  if (!syscalls.length) return { error: `no match for probe point ${pointText(point)}: this kernel has no such system call` };
  return { syscalls, exit: tail.length === 1 };
}

/** `layout`: the system call whose arguments the point's tapset variables are (all of one group). */
function tapsetVars(exit: boolean, layout?: SyscallDesc, only?: Set<string>): Map<string, TapsetVar> {
  const vars = new Map<string, TapsetVar>([
    ['name', { type: 'string', init: { kind: 'syscall_name' } }],
    ['syscall_nr', { type: 'long', init: { kind: 'syscall_nr' } }],
  ]);
  if (exit) {
    vars.set('retstr', { type: 'string', init: { kind: 'retstr' } });
    vars.set('errno', { type: 'long', init: { kind: 'errno' } });
    return vars;
  }
  vars.set('argstr', { type: 'string', init: { kind: 'argstr' } });
  // the arguments by name, file names as quoted strings (stap's tapset locals)
  for (const f of layout ? syscallArgs(layout) : []) {
    if (vars.has(f.name) || (only && !only.has(f.name))) continue;
    const quoted = FILE_ARGS.has(f.name) && isCharPtr(f);
    vars.set(f.name, { type: quoted ? 'string' : 'long', init: { kind: 'arg', field: f, quoted } });
  }
  return vars;
}

/** Tapset variables named after arguments, over several calls: typed from the first that has each. */
function unionTapsetVars(syscalls: SyscallDesc[]): Map<string, TapsetVar> {
  const vars = tapsetVars(false);
  for (const s of syscalls) for (const [n, v] of tapsetVars(false, s)) if (!vars.has(n)) vars.set(n, v);
  return vars;
}

/** `$name` fields: the union over the covered system calls (specialize() picks per call). */
function contextVars(syscalls: SyscallDesc[], exit: boolean): Map<string, TracepointField> {
  if (exit) return new Map([['return', RET_FIELD]]);
  const vars = new Map<string, TracepointField>();
  for (const s of syscalls) for (const f of syscallArgs(s)) if (!vars.has(f.name)) vars.set(f.name, f);
  return vars;
}

/**
 * A map filled on first use: the union of the arguments of syscall.* reads 360 format files
 * (~150 ms), which only a handler that names an argument needs.
 */
class LazyMap<K, V> extends Map<K, V> {
  private filled = false;
  /** `known` answers lookups without filling (the core tapset variables) */
  constructor(
    private fill: () => Map<K, V>,
    known: Map<K, V> = new Map(),
  ) {
    super(known);
  }
  private load() {
    if (this.filled) return;
    this.filled = true;
    for (const [k, v] of this.fill()) if (!super.has(k)) super.set(k, v);
  }
  override get(k: K) {
    if (!super.has(k)) this.load();
    return super.get(k);
  }
  override has(k: K) {
    if (!super.has(k)) this.load();
    return super.has(k);
  }
  override get size() {
    this.load();
    return super.size;
  }
  override keys() {
    this.load();
    return super.keys();
  }
  override values() {
    this.load();
    return super.values();
  }
  override entries() {
    this.load();
    return super.entries();
  }
  override [Symbol.iterator]() {
    this.load();
    return super[Symbol.iterator]();
  }
  override forEach(cb: (v: V, k: K, m: Map<K, V>) => void, thisArg?: unknown) {
    this.load();
    super.forEach(cb, thisArg);
  }
}

function point(pp: string, syscalls: SyscallDesc[], exit: boolean, optional: boolean): ResolvedPoint {
  const many = syscalls.length > 1 && !exit;
  const core = tapsetVars(exit);
  const resolved: ResolvedPoint = {
    pp,
    target: 'kernel',
    attach: { family: 'syscall', exit, nrs: syscalls.map((s) => s.nr) },
    contextVars: many ? new LazyMap(() => contextVars(syscalls, exit)) : contextVars(syscalls, exit),
    // a name that is not one of the core variables is looked up in the arguments' union
    tapsetVars: exit
      ? core
      : syscalls.length === 1
        ? tapsetVars(false, syscalls[0])
        : new LazyMap(() => unionTapsetVars(syscalls), core),
  };

  // $$parms: one system call's arguments; a .return has only $return (the arguments are gone)
  if (exit) resolved.pretty = { locals: [], ret: RET_FIELD };
  else if (syscalls.length === 1) resolved.pretty = { parms: syscallArgs(syscalls[0]), locals: [], userStrings: true };
  if (syscalls.length > 1 && !exit) resolved.specialize = (used) => split(pp, syscalls, used, optional);
  return resolved;
}

/**
 * One point per layout of the arguments the handler reads ($fd, or the tapset variable fd):
 * `$fd` is args[0] of read and args[1] of some other call, so each group gets its own handler,
 * as each expansion of a stap wildcard does. A system call without a used argument is an
 * error, as in stap, unless the point is optional (`?`), where it is left out.
 */
function split(pp: string, syscalls: SyscallDesc[], used: Set<string>, optional: boolean): ResolvedPoint[] | Mismatch {
  const core = tapsetVars(false);
  // nothing that can name an argument: no format file to read (syscall.* stays fast)
  if (![...used].some((n) => n.startsWith('$') || !core.has(n))) return [{ ...point(pp, syscalls, false, optional), specialize: undefined }];
  const argNames = new Set(syscalls.flatMap((s) => syscallArgs(s).map((f) => f.name)));
  const names = [...used].map((n) => (n.startsWith('$') ? n.slice(1) : core.has(n) ? '' : n)).filter((n) => n && argNames.has(n));
  const wanted = new Set(names);
  const groups = new Map<string, SyscallDesc[]>();
  for (const s of syscalls) {
    const args = syscallArgs(s);
    const fields = [...wanted].map((n) => args.find((f) => f.name === n));
    const missing = [...wanted].find((_, i) => !fields[i]);
    if (missing) {
      if (optional) continue;
      const what = used.has('$' + missing) ? `context variable '$${missing}'` : `variable '${missing}'`;
      return { error: `unable to find ${what} in ${pp} for system call ${s.name}` };
    }
    const key = JSON.stringify(fields.map((f) => [f!.offset, f!.size, f!.signed, f!.ctype]));
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  return [...groups.values()].map((g) => ({
    pp,
    target: 'kernel' as const,
    attach: { family: 'syscall' as const, exit: false, nrs: g.map((s) => s.nr) },
    contextVars: new Map(syscallArgs(g[0]).map((f) => [f.name, f])),
    tapsetVars: tapsetVars(false, g[0], wanted),
  }));
}

/** -L: tapset variables, then the $ variables with their C types, as stap prints them. */
function describe(pp: string): string[] {
  const m = /^(?:nd_)?syscall\.([a-z0-9_]+)(\.return)?$/.exec(pp);
  const sc = m && syscallCatalog().find((s) => s.name === m[1]);
  if (!sc) return [];
  const exit = m[2] !== undefined;
  const vars = [...tapsetVars(exit, exit ? undefined : sc)].map(([n, v]) => `${n}:${v.type}`);
  for (const f of exit ? [RET_FIELD] : syscallArgs(sc)) vars.push(`$${f.name}:${f.ctype}`);
  return vars;
}

export const syscallProvider: ProbeProvider = {
  names: ['syscall', 'nd_syscall', 'syscall_any'],
  resolvesWildcards: true,
  resolve(p) {
    const sel = select(p);
    if ('error' in sel) return sel;
    // one call: the concrete point, as stap's pp() names each expansion of a wildcard
    const first = p.components[0].name;
    const one = sel.syscalls.length === 1 && first !== 'syscall_any';
    const pp = one ? `${first}.${sel.syscalls[0].name}${sel.exit ? '.return' : ''}` : pointText(p);
    return point(pp, sel.syscalls, sel.exit, p.optional);
  },
  list() {
    const names = syscallCatalog().map((s) => s.name);
    return [...names.map((n) => `syscall.${n}`), ...names.map((n) => `syscall.${n}.return`)];
  },
  describe,
};
