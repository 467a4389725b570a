// Typed access to kernel memory through BTF: `@cast(p, "task_struct")->f->g[i].h`,
// `$ptr->field` of tracepoint fields and kernel.function parameters. A path becomes a plan of
// address arithmetic and loads (KREAD) with stap's semantics (dwflpp translate_components and
// translate_final_fetch_or_store): integers and enums are read with their width and sign,
// pointers give their value and arrays their address (char arrays too: kernel_string() reads
// them), a struct at the end is an error. Every struct member and type the plan relies on is
// noted as a kernel fact, so a module checks the offsets it was compiled with.
import { Btf, Kind } from './btf';
import { kernelFacts, noteKernelType } from './facts';
import { hasDataSymbols, kernelSymbolByName } from './kallsyms';

/** A BTF type, or a pointer to one that BTF may not spell (a tracepoint's `struct x **`). */
export type TypeRef = number | { ptr: TypeRef };

export type AccessStep = { kind: 'member'; name: string } | { kind: 'index'; literal?: bigint };

export type AccessOp =
  /** addr += k */
  | { op: 'add'; k: number }
  /** v = *(addr), `size` bytes, sign-extended when signed */
  | { op: 'load'; size: 1 | 2 | 4 | 8; signed: boolean }
  /** addr += path[step]'s index * scale */
  | { op: 'index'; step: number; scale: number }
  /** v = the bitfield of `bits` bits at bit `shift` of v */
  | { op: 'bits'; shift: number; bits: number; signed: boolean };

export interface AccessPlan {
  ops: AccessOp[];
}

const SIGNED = 0x80;
export const KREAD_SIGNED = SIGNED;

/** how a path component prints in stap's errors: `->name`, `[3]`, `[...]` */
function stepText(s: AccessStep): string {
  if (s.kind === 'member') return `->${s.name}`;
  return s.literal !== undefined ? `[${s.literal}]` : '[...]';
}

export class AccessError extends Error {}

/** The facts' BTF, or an error saying there is none. */
export function kernelBtf(): Btf {
  const btf = kernelFacts().btf();
  if (!btf) throw new AccessError('this kernel has no BTF type information (/sys/kernel/btf/vmlinux)');
  return btf;
}

/**
 * A type name as @cast takes it: "task_struct", "struct task_struct", "union u", "enum e",
 * "pid_t"; trailing `*`s make pointers. undefined when the kernel has no such type.
 */
export function lookupType(btf: Btf, spelled: string): TypeRef | undefined {
  let s = spelled.trim();
  let depth = 0;
  while (s.endsWith('*')) {
    depth++;
    s = s.slice(0, -1).trim();
  }
  s = s.replace(/^(const|volatile)\s+/, '').replace(/\s+(const|volatile)$/, '');
  const m = /^(struct|union|enum)\s+(\w+)$/.exec(s);
  let id: number | undefined;
  if (m) {
    const kinds = m[1] === 'struct' ? [Kind.STRUCT] : m[1] === 'union' ? [Kind.UNION] : [Kind.ENUM, Kind.ENUM64];
    id = btf.find(m[2], ...kinds);
  } else if (s === 'void') id = 0;
  else {
    const name = s.replace(/\s+/g, ' ');
    id = btf.find(name, Kind.STRUCT, Kind.UNION, Kind.TYPEDEF, Kind.INT, Kind.ENUM, Kind.ENUM64);
    // "unsigned" alone, "long int": BTF spells ints as the compiler does
    if (id === undefined && name === 'unsigned') id = btf.find('unsigned int', Kind.INT);
  }
  if (id === undefined) return undefined;
  noteKernelType(`type ${spelled}`, describeType(btf, id));
  let t: TypeRef = id;
  for (let i = 0; i < depth; i++) t = { ptr: t };
  return t;
}

/** A type's facts for a module: kind, size and spelling. */
function describeType(btf: Btf, id: number): string {
  return `${btf.typeName(id)} size ${btf.size(id)}`;
}

/** The value of the fact `key` on a kernel (see noteKernelType): null when it has none. */
export function kernelTypeFact(btf: Btf, key: string): string | null {
  const sp = key.indexOf(' ');
  const what = key.slice(0, sp);
  const rest = key.slice(sp + 1);
  if (what === 'type') {
    const t = lookupType(btf, rest);
    return typeof t === 'number' ? describeType(btf, t) : t === undefined ? null : describeType(btf, base(t));
  }
  if (what === 'var') {
    const v = kernelVar(btf, rest);
    return typeof v === 'string' ? null : varText(btf, v);
  }
  if (what === 'func') {
    const f = btf.find(rest, Kind.FUNC);
    return f === undefined ? null : prototypeText(btf, f);
  }
  if (what === 'member') {
    // "struct task_struct->a->b": embedded members from a named struct
    const [owner, ...names] = rest.split('->');
    let t = lookupTypeQuiet(btf, owner);
    let found: { bitOffset: number; bitSize: number; type: number } | undefined;
    for (const n of names) {
      if (t === undefined) return null;
      found = findMember(btf, btf.strip(t), n);
      if (!found) return null;
      t = found.type;
    }
    return found ? memberText(btf, found) : null;
  }
  return null;
}

/** A kernel global for @var: its address (kallsyms) and type (a BTF VAR), or why there is none. */
export function kernelVar(btf: Btf, name: string): { addr: bigint; type: number } | string {
  const v = btf.find(name, Kind.VAR);
  const sym = kernelSymbolByName(name);
  if (v === undefined) {
    // pahole encodes only per-CPU variables unless the kernel was built with its global_var feature
    if (sym) return `this kernel's BTF has no type for '${name}' (it describes per-CPU variables only)`;
    return hasDataSymbols() ? '' : `this kernel lists no address for '${name}' (/proc/kallsyms has no data symbols: CONFIG_KALLSYMS_ALL is off)`;
  }
  const percpu = btf.find('.data..percpu', Kind.DATASEC);
  if (percpu !== undefined && btf.secinfo(percpu).some((e) => e.type === v)) return `'${name}' is a per-CPU variable, which tapvm cannot read`;
  if (!sym) return hasDataSymbols() ? '' : `this kernel lists no address for '${name}' (/proc/kallsyms has no data symbols: CONFIG_KALLSYMS_ALL is off)`;
  return { addr: sym.addr, type: btf.ref(v) };
}

/** A @var's fact for a module: the address (KASLR moves it every boot) and the type. */
function varText(btf: Btf, v: { addr: bigint; type: number }): string {
  return `0x${v.addr.toString(16)} ${btf.typeName(v.type)}`;
}

/** Notes a @var's address and type as a kernel fact. */
export function noteKernelVar(btf: Btf, name: string, v: { addr: bigint; type: number }): void {
  noteKernelType(`var ${name}`, varText(btf, v));
}

function lookupTypeQuiet(btf: Btf, owner: string): number | undefined {
  const m = /^(struct|union) (\w+)$/.exec(owner);
  return m ? btf.find(m[2], m[1] === 'struct' ? Kind.STRUCT : Kind.UNION) : undefined;
}

export function memberText(btf: Btf, m: { bitOffset: number; bitSize: number; type: number }): string {
  return `bit ${m.bitOffset}${m.bitSize ? `:${m.bitSize}` : ''} ${btf.typeName(m.type)}`;
}

function base(t: TypeRef): number {
  return typeof t === 'number' ? t : base(t.ptr);
}

/** `ssize_t vfs_read(struct file* file, char* buf, size_t count, loff_t* pos)` */
export function prototypeText(btf: Btf, func: number): string {
  const proto = btf.ref(func);
  const params = btf.params(proto).map((p) => (p.type === 0 ? '...' : `${btf.typeName(p.type)} ${p.name}`));
  return `${btf.typeName(btf.ref(proto))} ${btf.name(func)}(${params.join(', ')})`;
}

/**
 * A member by name, searching anonymous struct/union members as stap's find_struct_member
 * does; the offset is from the start of `owner`.
 */
export function findMember(btf: Btf, owner: number, name: string): { bitOffset: number; bitSize: number; type: number } | undefined {
  for (const m of btf.members(owner)) {
    if (m.name === name) return { bitOffset: m.bitOffset, bitSize: m.bitSize, type: m.type };
    if (m.name === '') {
      const inner = btf.strip(m.type);
      const k = btf.kind(inner);
      if (k !== Kind.STRUCT && k !== Kind.UNION) continue;
      const f = findMember(btf, inner, name);
      if (f) return { ...f, bitOffset: f.bitOffset + m.bitOffset };
    }
  }
  return undefined;
}

/** stap's print_members: every member name, anonymous members' names inlined, each once */
function memberNames(btf: Btf, owner: number, out: string[] = [], seen = new Set<string>()): string[] {
  for (const m of btf.members(owner)) {
    if (m.name) {
      if (!seen.has(m.name)) {
        seen.add(m.name);
        out.push(m.name);
      }
    } else {
      const inner = btf.strip(m.type);
      if (btf.kind(inner) === Kind.STRUCT || btf.kind(inner) === Kind.UNION) memberNames(btf, inner, out, seen);
    }
  }
  return out;
}

/** A complete struct for a forward declaration (FWD), when the kernel has one. */
function complete(btf: Btf, id: number): number | undefined {
  if (btf.kind(id) !== Kind.FWD) return id;
  return btf.find(btf.name(id), Kind.STRUCT, Kind.UNION);
}

export function typeRefName(btf: Btf, t: TypeRef): string {
  return typeof t === 'number' ? btf.typeName(t) : `${typeRefName(btf, t.ptr)}*`;
}

/** Integer read width and sign of a scalar type; undefined when it is not a scalar. */
function scalar(btf: Btf, id: number): { size: 1 | 2 | 4 | 8; signed: boolean } | undefined {
  const k = btf.kind(id);
  const size = btf.size(id);
  if (size !== 1 && size !== 2 && size !== 4 && size !== 8) return undefined;
  if (k === Kind.INT) return { size, signed: btf.int(id).signed };
  if (k === Kind.ENUM || k === Kind.ENUM64) return { size, signed: btf.enumSigned(id) };
  if (k === Kind.PTR) return { size: 8, signed: false };
  return undefined;
}

/**
 * The plan for `start` followed by `path`. `inMemory`: the start value is the address of an
 * object of type `start` (@cast); otherwise it is the value itself (a pointer or integer in a
 * register or a tracepoint field). Throws AccessError with stap's message.
 */
export function planAccess(btf: Btf, start: TypeRef, inMemory: boolean, path: AccessStep[], addressOf: boolean): AccessPlan {
  const ops: AccessOp[] = [];
  let t: TypeRef = start;
  let mem = inMemory;
  /** fact key of the struct the current value is embedded in, for the members read */
  let owner: string | undefined;
  let bit: { shift: number; bits: number } | undefined;
  let i = 0;
  while (i < path.length) {
    const c = path[i];
    if (bit) throw new AccessError(`invalid access '${stepText(c)}' vs. ${typeRefName(btf, t)}`);
    if (typeof t !== 'number') {
      // a pointer BTF need not spell: load it, then go on at its target
      if (typeof t.ptr === 'number' && btf.strip(t.ptr) === 0) throw new AccessError(`invalid access '${stepText(c)}' vs '${typeRefName(btf, t)}'`);
      if (mem) ops.push({ op: 'load', size: 8, signed: false });
      mem = true;
      owner = undefined;
      const to: TypeRef = t.ptr;
      if (c.kind === 'index') {
        ops.push({ op: 'index', step: i, scale: typeof to === 'number' ? btf.size(to) : 8 });
        i++;
      }
      t = to;
      continue;
    }
    const id = btf.strip(t);
    const k = btf.kind(id);
    if (k === Kind.PTR) {
      t = { ptr: btf.ref(id) };
      continue;
    }
    if (k === Kind.ARRAY) {
      if (c.kind !== 'index') throw new AccessError(`invalid access '${stepText(c)}' for array type`);
      const a = btf.array(id);
      ops.push({ op: 'index', step: i, scale: btf.size(a.type) });
      t = a.type;
      owner = undefined;
      i++;
      continue;
    }
    if (k === Kind.STRUCT || k === Kind.UNION || k === Kind.FWD) {
      if (c.kind !== 'member') throw new AccessError(`invalid access '${stepText(c)}' for ${btf.typeName(id)}`);
      const full = complete(btf, id);
      if (full === undefined) throw new AccessError(`unresolved ${btf.typeName(id)}`);
      if (!mem) throw new AccessError(`'${stepText(c)}': tapvm cannot read a ${btf.typeName(full)} passed by value`);
      const m = findMember(btf, full, c.name);
      if (!m) {
        const names = memberNames(btf, full);
        throw new AccessError(`unable to find member '${c.name}' for ${btf.typeName(full)}${names.length ? ` (alternatives: ${names.join(' ')})` : ''}`);
      }
      const named = btf.name(full) !== '';
      const key = named ? `${btf.typeName(full)}->${c.name}` : owner ? `${owner}->${c.name}` : undefined;
      if (key) noteKernelType(`member ${key}`, memberText(btf, m));
      owner = key;
      if (m.bitSize) bit = { shift: m.bitOffset % 8, bits: m.bitSize };
      const byte = Math.floor(m.bitOffset / 8);
      const last = ops.at(-1);
      // embedded members add up to one offset
      if (last?.op === 'add') last.k += byte;
      else if (byte) ops.push({ op: 'add', k: byte });
      t = m.type;
      i++;
      continue;
    }
    throw new AccessError(`invalid access '${stepText(c)}' vs. ${btf.typeName(id)}`);
  }
  // the final fetch
  if (addressOf) {
    if (!mem) throw new AccessError('cannot take the address of a value in a register');
    if (bit) throw new AccessError('cannot take address of bit-field');
    return { ops };
  }
  if (typeof t !== 'number') {
    if (mem) ops.push({ op: 'load', size: 8, signed: false });
    return { ops };
  }
  const id = btf.strip(t);
  const k = btf.kind(id);
  if (k === Kind.STRUCT || k === Kind.UNION || k === Kind.FWD) throw new AccessError(`'${btf.typeName(id)}' is being accessed instead of a member`);
  if (k === Kind.ARRAY) {
    if (!mem) throw new AccessError(`'${btf.typeName(id)}' is not in memory`);
    return { ops }; // the array's address, as stap gives it
  }
  if (k === Kind.FLOAT) throw new AccessError(`unsupported type (encoding 4) for ${btf.typeName(id)}`);
  const s = scalar(btf, id);
  if (!s) throw new AccessError(`unsupported type tag ${k} for ${btf.typeName(id)}`);
  if (!mem) return { ops };
  if (bit) {
    // the smallest load that holds the bits, then shift and mask (little-endian)
    const need = bit.shift + bit.bits;
    const size = need <= 8 ? 1 : need <= 16 ? 2 : need <= 32 ? 4 : 8;
    ops.push({ op: 'load', size, signed: false });
    ops.push({ op: 'bits', shift: bit.shift, bits: bit.bits, signed: s.signed });
    return { ops };
  }
  ops.push({ op: 'load', size: s.size, signed: s.signed });
  return { ops };
}

/**
 * A tracepoint field's C type (format-file spelling: "struct task_struct *", "const char *")
 * as a BTF type, or undefined when BTF does not know its base type.
 */
export function ctypeToType(btf: Btf, ctype: string): TypeRef | undefined {
  if (/\[|__data_loc/.test(ctype)) return undefined;
  return lookupType(btf, ctype.replace(/\s*\*/g, '*'));
}

/** The access path of an AST node, as the planner reads it. */
export function stepsOf(path: { kind: 'member'; name: string } | { kind: 'subscript'; index: { kind: string; value?: unknown } }): AccessStep {
  if (path.kind === 'member') return { kind: 'member', name: path.name };
  return { kind: 'index', literal: path.index.kind === 'number' ? (path.index.value as bigint) : undefined };
}
