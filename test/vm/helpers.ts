// A tiny assembler for hand-written test images, and a runner on a MemoryBackend.
import { encode } from '../../src/image/image';
import type { ArrayInfo, FormatRef, GlobalInfo, ProgramImage, ScalarType, SourceEntry } from '../../src/image/image';
import { ARRAY_CLASSES, LIMITS, Op } from '../../src/isa/opcodes';
import type { VmEvent } from '../../src/vm/backend';
import { runHandler, type RunResult, type UserContextValues } from '../../src/vm/interp';
import { MemoryBackend } from '../../src/vm/memory-backend';

export interface AsmInsn {
  op: number;
  d?: number;
  a?: number;
  b?: number;
  imm?: number;
  /** imm = the pc of this label */
  to?: string;
  /** imm = the data offset of this byte string (added to the data area) */
  str?: string;
  /** source location of this instruction (for the disassembler) */
  src?: SourceEntry;
}

export type AsmItem = AsmInsn | { label: string };

export interface ArrayDecl {
  name: string;
  id: number;
  cls: number;
  maxEntries?: number;
  valueType?: ScalarType;
}

export interface AsmSpec {
  code: AsmItem[];
  arrays?: ArrayDecl[];
  globals?: GlobalInfo[];
  formats?: FormatRef[];
  /** probe entries: pc given directly or as a label */
  probes?: { pp: string; at: number | string }[];
  functions?: { name: string; at: number | string }[];
  sources?: Record<string, string>;
}

const isLabel = (x: AsmItem): x is { label: string } => 'label' in x;

/** Builds a ProgramImage: data = the NPROBES u32 pp() offset table, then NUL-terminated strings. */
export function asm(spec: AsmSpec): ProgramImage {
  const labels = new Map<string, number>();
  let pc = 0;
  for (const it of spec.code) {
    if (isLabel(it)) labels.set(it.label, pc);
    else pc++;
  }
  const where = (at: number | string): number => {
    if (typeof at === 'number') return at;
    const p = labels.get(at);
    if (p === undefined) throw new Error(`asm: no label ${at}`);
    return p;
  };

  const data = new Uint8Array(LIMITS.DATA_BYTES);
  let dlen = LIMITS.NPROBES * 4;
  const strOffsets = new Map<string, number>();
  const addBytes = (bytes: Uint8Array): number => {
    const off = dlen;
    data.set(bytes, off);
    dlen += bytes.length + 1;
    return off;
  };
  const addStr = (s: string): number => {
    let off = strOffsets.get(s);
    if (off === undefined) {
      off = addBytes(Buffer.from(s, 'latin1'));
      strOffsets.set(s, off);
    }
    return off;
  };

  const probes = (spec.probes ?? []).map((p, index) => {
    const off = addBytes(Buffer.from(p.pp, 'utf8'));
    new DataView(data.buffer).setUint32(index * 4, off, true);
    return {
      index,
      pp: p.pp,
      target: 'kernel' as const,
      attach: { family: 'begin' as const, order: 0 },
      pc: where(p.at),
      loc: { file: 'test.stp', line: 1, col: 1, offset: 0 },
    };
  });

  const code: bigint[] = [];
  const sourceMap: (SourceEntry | undefined)[] = [];
  for (const it of spec.code) {
    if (isLabel(it)) continue;
    let imm = it.imm ?? 0;
    if (it.to !== undefined) imm = where(it.to);
    if (it.str !== undefined) imm = addStr(it.str);
    sourceMap.push(it.src);
    code.push(encode({ op: it.op, d: it.d ?? 0, a: it.a ?? 0, b: it.b ?? 0, imm }));
  }

  const arrays: ArrayInfo[] = (spec.arrays ?? []).map((a) => ({
    name: a.name,
    id: a.id,
    cls: a.cls,
    keyTypes: ['long'],
    keyOffsets: [0],
    keyWidths: [8],
    valueType: a.valueType ?? (a.cls & 1 ? 'string' : 'long'),
    maxEntries: a.maxEntries ?? LIMITS.MAXMAPENTRIES,
  }));

  return {
    code,
    data: data.slice(0, dlen),
    formats: spec.formats ?? [{ text: 'out', args: [] }],
    probes,
    globals: spec.globals ?? [],
    arrays,
    functions: (spec.functions ?? []).map((f) => ({ name: f.name, pc: where(f.at) })),
    sourceMap,
    sources: spec.sources ?? {},
  };
}

/** rd = v, any 64-bit value: MOVI (low half, sign-extended) + MOVHI (high half). */
export function li(d: number, v: bigint): AsmInsn[] {
  const u = BigInt.asUintN(64, v);
  return [
    { op: Op.MOVI, d, imm: Number(BigInt.asIntN(32, u)) },
    { op: Op.MOVHI, d, imm: Number(BigInt.asIntN(32, u >> 32n)) },
  ];
}

/** One output record of format fmt: operands 'r3' (OINT) or 's1' (OSTR). */
export function out(...regs: string[]): AsmInsn[] {
  return outf(0, ...regs);
}

export function outf(fmt: number, ...regs: string[]): AsmInsn[] {
  return [
    { op: Op.OBEGIN, imm: fmt },
    ...regs.map((x) => ({ op: x[0] === 'r' ? Op.OINT : Op.OSTR, a: Number(x.slice(1)) })),
    { op: Op.OEND },
  ];
}

export const HALT: AsmInsn = { op: Op.HALT };

export const CTX0: UserContextValues = {
  pid: 4242n,
  tid: 4243n,
  ppid: 1n,
  uid: 1000n,
  gid: 100n,
  cpu: 3n,
  execname: 'stapio',
  realtimeNs: () => 1700000000123456789n,
};

export interface Ran {
  res: RunResult;
  be: MemoryBackend;
  events: VmEvent[];
  /** the values of every print event, in order */
  prints: (bigint | string)[][];
  errors: Extract<VmEvent, { type: 'error' }>[];
}

export function run(
  img: ProgramImage,
  o: { pc?: number; probe?: number; maxAction?: number; be?: MemoryBackend; ctx?: UserContextValues } = {},
): Ran {
  const be = o.be ?? new MemoryBackend(img);
  const before = be.events.length;
  const res = runHandler(img, o.pc ?? 0, o.probe ?? 0, be, o.ctx ?? CTX0, { maxAction: o.maxAction ?? 10000 });
  const events = be.events.slice(before);
  return {
    res,
    be,
    events,
    prints: events.flatMap((e) => (e.type === 'print' ? [e.values] : [])),
    errors: events.flatMap((e) => (e.type === 'error' ? [e] : [])),
  };
}

/** Runs code and returns the values of its single print event (fails otherwise). */
export function values(code: AsmItem[], spec: Omit<AsmSpec, 'code'> = {}): (bigint | string)[] {
  const r = run(asm({ ...spec, code }));
  if (r.res.status !== 'halted' || r.prints.length !== 1) {
    throw new Error(`expected one print and halted, got ${r.res.status} ${JSON.stringify(r.events, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}`);
  }
  return r.prints[0];
}

/** A key buffer image of a long at offset 0 (KPUTI r, 0 after KCLR) for class cls. */
export function longKey(v: bigint, cls = 0): Uint8Array {
  const k = new Uint8Array(ARRAY_CLASSES[cls].keySize);
  new DataView(k.buffer).setBigInt64(0, v, true);
  return k;
}

export function longValue(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigInt64(0, v, true);
  return b;
}

export const INT64_MIN = -(1n << 63n);
export const INT64_MAX = (1n << 63n) - 1n;
