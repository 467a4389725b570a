// The kernel's BTF (Documentation/bpf/btf.rst): header, type section, string section. Parsed
// lazily: one pass records where each type starts; names are indexed on the first lookup by
// name; members, parameters and spellings are decoded only for the types a script touches.
import * as fs from 'fs';

export enum Kind {
  UNKN = 0,
  INT = 1,
  PTR = 2,
  ARRAY = 3,
  STRUCT = 4,
  UNION = 5,
  ENUM = 6,
  FWD = 7,
  TYPEDEF = 8,
  VOLATILE = 9,
  CONST = 10,
  RESTRICT = 11,
  FUNC = 12,
  FUNC_PROTO = 13,
  VAR = 14,
  DATASEC = 15,
  FLOAT = 16,
  DECL_TAG = 17,
  TYPE_TAG = 18,
  ENUM64 = 19,
}

const BTF_MAGIC = 0xeb9f;
/** u32 words of a kind's trailer: fixed part, then per vlen entry */
const EXTRA: Record<number, [number, number]> = {
  [Kind.INT]: [1, 0],
  [Kind.ARRAY]: [3, 0],
  [Kind.STRUCT]: [0, 3],
  [Kind.UNION]: [0, 3],
  [Kind.ENUM]: [0, 2],
  [Kind.FUNC_PROTO]: [0, 2],
  [Kind.VAR]: [1, 0],
  [Kind.DATASEC]: [0, 3],
  [Kind.DECL_TAG]: [1, 0],
  [Kind.ENUM64]: [0, 3],
};

export interface BtfMember {
  /** "" for an anonymous struct/union member */
  name: string;
  type: number;
  bitOffset: number;
  /** 0 unless a bitfield */
  bitSize: number;
}

export interface BtfParam {
  name: string;
  type: number;
}

export interface BtfInt {
  signed: boolean;
  char: boolean;
  bool: boolean;
  bits: number;
  /** bit offset of the value inside its storage (old-style bitfields) */
  offset: number;
}

export class BtfError extends Error {}

export class Btf {
  private readonly view: DataView;
  private readonly typeStart: number;
  private readonly strStart: number;
  private readonly strEnd: number;
  /** byte offset of type id i's record (id 0 is void) */
  private readonly offsets: Uint32Array;
  /** name_off of type id i, copied in the first pass so name scans read a flat array */
  private readonly nameOffs: Uint32Array;
  private readonly names = new Map<string, number[]>();
  /** prefixes whose every name is in `names` (indexPrefix): a name with one that is not there has no type */
  private readonly indexed: string[] = [];

  constructor(private readonly buf: Buffer) {
    if (buf.length < 24) throw new BtfError('BTF data too short');
    const magic = buf.readUInt16LE(0);
    if (magic !== BTF_MAGIC) throw new BtfError(`bad BTF magic 0x${magic.toString(16)} (big-endian BTF is not supported)`);
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.length);
    const hdrLen = buf.readUInt32LE(4);
    const typeOff = buf.readUInt32LE(8);
    const typeLen = buf.readUInt32LE(12);
    const strOff = buf.readUInt32LE(16);
    const strLen = buf.readUInt32LE(20);
    this.typeStart = hdrLen + typeOff;
    this.strStart = hdrLen + strOff;
    this.strEnd = this.strStart + strLen;
    const typeEnd = this.typeStart + typeLen;
    if (typeEnd > buf.length || this.strEnd > buf.length) throw new BtfError('BTF sections run past the end of the data');
    // one pass over the type section: where each record starts (records have variable length)
    let offs = new Uint32Array(1 << 17);
    let names = new Uint32Array(1 << 17);
    let n = 1;
    for (let p = this.typeStart; p < typeEnd; n++) {
      if (n === offs.length) {
        const bigger = new Uint32Array(offs.length * 2);
        bigger.set(offs);
        offs = bigger;
        const more = new Uint32Array(names.length * 2);
        more.set(names);
        names = more;
      }
      offs[n] = p;
      names[n] = buf.readUInt32LE(p);
      const info = buf.readUInt32LE(p + 4);
      const extra = EXTRA[(info >>> 24) & 0x1f];
      p += 12 + (extra ? 4 * (extra[0] + extra[1] * (info & 0xffff)) : 0);
    }
    this.offsets = offs.subarray(0, n);
    this.nameOffs = names.subarray(0, n);
  }

  private u32(p: number): number {
    return this.view.getUint32(p, true);
  }

  /** number of type ids, void (0) included */
  get count(): number {
    return this.offsets.length;
  }

  str(off: number): string {
    const start = this.strStart + off;
    if (start >= this.strEnd) return '';
    const end = this.buf.indexOf(0, start);
    return this.buf.toString('latin1', start, end < 0 ? this.strEnd : end);
  }

  private rec(id: number): number {
    if (id <= 0 || id >= this.offsets.length) throw new BtfError(`BTF type id ${id} out of range`);
    return this.offsets[id];
  }

  kind(id: number): Kind {
    return id === 0 ? Kind.UNKN : ((this.u32(this.rec(id) + 4) >>> 24) & 0x1f);
  }

  name(id: number): string {
    return id === 0 ? 'void' : this.str(this.u32(this.rec(id)));
  }

  vlen(id: number): number {
    return this.u32(this.rec(id) + 4) & 0xffff;
  }

  private kflag(id: number): boolean {
    return (this.u32(this.rec(id) + 4) >>> 31) === 1;
  }

  /** the referenced type of PTR, TYPEDEF, CONST, VOLATILE, RESTRICT, TYPE_TAG, FUNC, VAR; a FUNC_PROTO's return type */
  ref(id: number): number {
    return this.u32(this.rec(id) + 8);
  }

  /** byte size of a type (typedefs and qualifiers followed) */
  size(id: number): number {
    const t = this.strip(id);
    switch (this.kind(t)) {
      case Kind.INT:
      case Kind.STRUCT:
      case Kind.UNION:
      case Kind.ENUM:
      case Kind.ENUM64:
      case Kind.FLOAT:
      case Kind.DATASEC:
        return this.u32(this.rec(t) + 8);
      case Kind.PTR:
        return 8;
      case Kind.ARRAY: {
        const a = this.array(t);
        return a.nelems * this.size(a.type);
      }
      default:
        return 0;
    }
  }

  /** follows typedefs and qualifiers to the type that says what the value is */
  strip(id: number): number {
    for (let i = 0; i < 64 && id !== 0; i++) {
      const k = this.kind(id);
      if (k !== Kind.TYPEDEF && k !== Kind.CONST && k !== Kind.VOLATILE && k !== Kind.RESTRICT && k !== Kind.TYPE_TAG) return id;
      id = this.ref(id);
    }
    return id;
  }

  int(id: number): BtfInt {
    const w = this.u32(this.rec(id) + 12);
    const enc = (w >>> 24) & 0xf;
    return { signed: (enc & 1) !== 0, char: (enc & 2) !== 0, bool: (enc & 4) !== 0, bits: w & 0xff, offset: (w >>> 16) & 0xff };
  }

  /** whether an ENUM/ENUM64 holds signed values (the kind flag) */
  enumSigned(id: number): boolean {
    return this.kflag(id);
  }

  array(id: number): { type: number; index: number; nelems: number } {
    const p = this.rec(id) + 12;
    return { type: this.u32(p), index: this.u32(p + 4), nelems: this.u32(p + 8) };
  }

  members(id: number): BtfMember[] {
    const p = this.rec(id) + 12;
    const bitfields = this.kflag(id);
    const out: BtfMember[] = [];
    for (let i = 0, n = this.vlen(id); i < n; i++) {
      const q = p + 12 * i;
      const off = this.u32(q + 8);
      out.push({ name: this.str(this.u32(q)), type: this.u32(q + 4), bitOffset: bitfields ? off & 0xffffff : off, bitSize: bitfields ? off >>> 24 : 0 });
    }
    return out;
  }

  /** a DATASEC's variables: VAR type id, offset in the section, size */
  secinfo(id: number): { type: number; offset: number; size: number }[] {
    const p = this.rec(id) + 12;
    const out: { type: number; offset: number; size: number }[] = [];
    for (let i = 0, n = this.vlen(id); i < n; i++) out.push({ type: this.u32(p + 12 * i), offset: this.u32(p + 12 * i + 4), size: this.u32(p + 12 * i + 8) });
    return out;
  }

  /** a FUNC_PROTO's parameters (a trailing `...` is a parameter of type 0 without a name) */
  params(proto: number): BtfParam[] {
    const p = this.rec(proto) + 12;
    const out: BtfParam[] = [];
    for (let i = 0, n = this.vlen(proto); i < n; i++) out.push({ name: this.str(this.u32(p + 8 * i)), type: this.u32(p + 8 * i + 4) });
    return out;
  }

  enumValues(id: number): { name: string; value: bigint }[] {
    const p = this.rec(id) + 12;
    const out: { name: string; value: bigint }[] = [];
    const k = this.kind(id);
    const signed = this.kflag(id);
    for (let i = 0, n = this.vlen(id); i < n; i++) {
      if (k === Kind.ENUM) {
        const v = this.u32(p + 8 * i + 4);
        out.push({ name: this.str(this.u32(p + 8 * i)), value: signed ? BigInt(v | 0) : BigInt(v) });
      } else {
        const q = p + 12 * i;
        const v = (BigInt(this.u32(q + 8)) << 32n) | BigInt(this.u32(q + 4));
        out.push({ name: this.str(this.u32(q)), value: signed ? BigInt.asIntN(64, v) : v });
      }
    }
    return out;
  }

  /**
   * ids of every type with this name, in id order. No index: one scan over the records
   * compares each name's bytes in place (first byte, terminator, rest), so a lookup costs
   * about a millisecond and nothing is decoded for the other 100k types.
   */
  byName(name: string): number[] {
    let ids = this.names.get(name);
    if (ids) return ids;
    ids = [];
    if (this.indexed.some((p) => name.startsWith(p))) {
      this.names.set(name, ids);
      return ids;
    }
    this.scanNames(Buffer.from(name, 'latin1'), true, (id) => ids.push(id));
    this.names.set(name, ids);
    return ids;
  }

  /**
   * Calls found(id, name_off) for every type whose name starts with `want` (is `want`, when
   * `whole`), in id order: one pass over the flat name offsets, each name's bytes compared in
   * place (first byte, then the terminator when whole, then the rest).
   */
  private scanNames(want: Buffer, whole: boolean, found: (id: number, off: number) => void): void {
    const n = want.length;
    if (n === 0) return;
    const buf = this.buf;
    const nameOffs = this.nameOffs;
    for (let id = 1; id < nameOffs.length; id++) {
      const off = nameOffs[id];
      const p = this.strStart + off;
      if (off === 0 || buf[p] !== want[0] || p + n >= this.strEnd) continue;
      if (whole && buf[p + n] !== 0) continue;
      let i = 1;
      while (i < n && buf[p + i] === want[i]) i++;
      if (i === n) found(id, off);
    }
  }

  /**
   * One scan that puts every type named `prefix...` in the name cache: a later byName of such a
   * name, there or not, scans nothing. For `__bpf_trace_` (protoArgs: a tracepoint's probe
   * function, ~2,000 of them) a server worker does it while it warms up: a kernel.trace
   * one-liner's own lookup was a 1.2-1.9 ms scan on the command's time, and a `syscalls:` event,
   * which has no such function, paid it for nothing.
   */
  indexPrefix(prefix: string): void {
    // (an empty prefix would mark every name as indexed, and so as absent)
    if (!prefix || this.indexed.includes(prefix)) return;
    this.scanNames(Buffer.from(prefix, 'latin1'), false, (id, off) => {
      const name = this.str(off);
      const ids = this.names.get(name);
      if (ids) {
        if (!ids.includes(id)) ids.push(id);
      } else this.names.set(name, [id]);
    });
    this.indexed.push(prefix);
  }

  /** the first type of one of `kinds` named `name` (a complete struct before a forward declaration) */
  find(name: string, ...kinds: Kind[]): number | undefined {
    return this.byName(name).find((id) => kinds.includes(this.kind(id)));
  }

  /** every type id of a kind (FUNCs for `kernel.function("vfs_*")`), in id order */
  idsOf(kind: Kind): number[] {
    const out: number[] = [];
    for (let id = 1; id < this.offsets.length; id++) if (this.kind(id) === kind) out.push(id);
    return out;
  }

  /**
   * A type as stap's dwarf_type_name (dwarf_wrappers.cxx) spells it: qualifiers after the type
   * (`char const*`), `*` and `[]` without spaces or sizes, `struct {...}` for anonymous ones,
   * function pointers as `int (*) (struct file*, long int)`.
   */
  typeName(id: number): string {
    if (id === 0) return 'void';
    const sub = { proto: 0 };
    const inner = this.dwarfName(id, sub);
    if (inner === undefined) return '<unknown>';
    if (!sub.proto) return inner;
    const params = this.params(sub.proto).map((p) => (p.type === 0 ? '...' : this.typeName(p.type)));
    return `${this.typeName(this.ref(sub.proto))} (${inner}) (${params.length ? params.join(', ') : 'void'})`;
  }

  private dwarfName(id: number, sub: { proto: number }): string | undefined {
    const k = this.kind(id);
    const name = () => this.name(id) || '{...}';
    switch (k) {
      case Kind.ENUM:
      case Kind.ENUM64:
        return `enum ${name()}`;
      case Kind.STRUCT:
        return `struct ${name()}`;
      case Kind.UNION:
        return `union ${name()}`;
      case Kind.FWD:
        return `${this.kflag(id) ? 'union' : 'struct'} ${name()}`;
      case Kind.TYPEDEF:
      case Kind.INT:
      case Kind.FLOAT:
        return name();
      case Kind.TYPE_TAG:
        return this.dwarfName(this.ref(id), sub);
      case Kind.FUNC_PROTO:
        // the modifiers seen so far go between the return type and the parameters
        sub.proto = id;
        return '';
      case Kind.PTR:
      case Kind.ARRAY:
      case Kind.CONST:
      case Kind.VOLATILE:
      case Kind.RESTRICT: {
        const to = k === Kind.ARRAY ? this.array(id).type : this.ref(id);
        const base = (to === 0 ? undefined : this.dwarfName(to, sub)) ?? 'void';
        const suffix = { [Kind.PTR]: '*', [Kind.ARRAY]: '[]', [Kind.CONST]: ' const', [Kind.VOLATILE]: ' volatile', [Kind.RESTRICT]: ' restrict' }[k];
        return base + suffix;
      }
      default:
        return undefined;
    }
  }
}

const VMLINUX = '/sys/kernel/btf/vmlinux';
let host: Btf | null | undefined;

/** The running kernel's BTF, read once per process; null when the kernel exposes none. */
export function hostBtf(): Btf | null {
  if (host === undefined) {
    try {
      host = new Btf(fs.readFileSync(VMLINUX));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      host = null;
    }
  }
  return host;
}

/** The raw BTF bytes of this host (for kernel-facts snapshots), or null. */
export function hostBtfBytes(): Buffer | null {
  try {
    return fs.readFileSync(VMLINUX);
  } catch {
    return null;
  }
}
