// The program image: everything the runtime and both interpreters need, and nothing of the AST.
// It is what `-p4 -m NAME` will serialize (msgpackr); keep it plain data.
import type { Loc } from '../parse/ast';
import type { StatDesc } from '../vm/stats';

export type ScalarType = 'long' | 'string';

/** One printf-style format, parsed at compile time; the kernel sends only its id. */
export interface FormatRef {
  text: string;
  args: ScalarType[];
}

export interface GlobalInfo {
  name: string;
  type: ScalarType;
  /** index into globals_blob.num (long) or gstr_blob.s (string) */
  slot: number;
  init?: bigint | string;
}

export interface ArrayInfo {
  name: string;
  id: number;
  /** index into ARRAY_CLASSES: bit 0 = string values, bit 1 = wide keys */
  cls: number;
  keyTypes: ScalarType[];
  /** byte offset of each index inside the key: longs first, then strings */
  keyOffsets: number[];
  /** bytes of each index: 8 for a long, the bounded width (NUL included) for a string */
  keyWidths: number[];
  valueType: ScalarType;
  maxEntries: number;
  /** in the 512-byte interpreter (-D MAXSTRINGLEN above 128): its KEYMAX and string value size
   * (src/isa/strlen.ts arrayClass) */
  wide?: boolean;
  /** a statistic (a scalar one has no indices): how it accumulates; also in the data area */
  stat?: StatDesc;
  /** `global a%`: the id of its order array (key -> creation number) and the global slot
   * counting creations (vm/wrap.h) */
  wrap?: { order: number; seq: number };
}

export type ProbeTarget = 'kernel' | 'user';

/** How the runtime arms one probe point. */
export type Attach =
  | { family: 'begin'; order: number }
  | { family: 'end'; order: number }
  /** run instead of `end` when the session ends in error (stapprobes: "error") */
  | { family: 'error'; order: number }
  | { family: 'timer'; periodNs: bigint }
  /** raw: the handler reads TP_PROTO arguments, so the point attaches as a raw tracepoint */
  | { family: 'tracepoint'; system: string; event: string; raw?: boolean }
  /** system calls `nrs` on entry or exit, run through the script's dispatch table (vm/syscalls.h) */
  | { family: 'syscall'; exit: boolean; nrs: number[] }
  /** perf_event_open(type, config) on every CPU, sampling every `period` events (or at `period` Hz with freq) */
  | { family: 'perf'; type: number; config: number; period: number; freq: boolean }
  /** a uprobe (uretprobe) at a file offset of path, in every process or only in pid; buildId:
   * the file's at compile time, checked before attaching (a module may run elsewhere) */
  | { family: 'uprobe'; path: string; offset: number; retprobe: boolean; pid?: number; buildId?: string }
  /** a kernel function's entry or return (kprobe or fentry/fexit; refused where the kernel has neither) */
  | { family: 'kprobe'; func: string; retprobe: boolean };

export interface ProbeInfo {
  /** index used in the cookie and in the pp() table */
  index: number;
  /** canonical probe point text, what pp() returns */
  pp: string;
  target: ProbeTarget;
  attach: Attach;
  /** handler entry pc */
  pc: number;
  loc: Loc;
}

export interface SourceEntry {
  loc: Loc;
  /** what stap names in run-time errors: "operator '/'", "identifier 'x'" */
  near: string;
}

export interface ProgramImage {
  /** instructions as unsigned 64-bit words */
  code: bigint[];
  /** data area: pp() offset table (NPROBES u32), then NUL-terminated string constants */
  data: Uint8Array;
  formats: FormatRef[];
  probes: ProbeInfo[];
  globals: GlobalInfo[];
  arrays: ArrayInfo[];
  /** functions: name -> entry pc (for the disassembler) */
  functions: { name: string; pc: number }[];
  /** pc -> source location */
  sourceMap: (SourceEntry | undefined)[];
  /** file name -> text, for diagnostics and -p3 */
  sources: Record<string, string>;
  /**
   * System call dispatch: each table (a data offset) is attached once, with a DISPATCH_PROBE
   * cookie, to every tracepoint listed (raw_syscalls:sys_enter, or a few syscalls:sys_enter_X).
   */
  syscallDispatch?: { table: number; tracepoints: { system: string; event: string }[] }[];
  /** strings may hold argstr/retstr values or user symbol lookups encoded by the kernel: expand them on output */
  syscallText?: boolean;
  /** -D MAXSTRINGLEN=N (absent: 128): every string is cut at N-1 bytes; N above 128 runs on
   * the 512-byte interpreter (src/isa/strlen.ts) */
  maxStringLen?: number;
  /** globals written and never read, printed at exit as stap does (in declaration order) */
  display?: string[];
}

/** Instruction fields, as the interpreters decode them. */
export interface Insn {
  op: number;
  d: number;
  a: number;
  b: number;
  imm: number;
}

export function decode(word: bigint): Insn {
  return {
    op: Number(word & 0xffn),
    d: Number((word >> 8n) & 0xffn),
    a: Number((word >> 16n) & 0xffn),
    b: Number((word >> 24n) & 0xffn),
    imm: Number(BigInt.asIntN(32, word >> 32n)),
  };
}

export function encode(i: Insn): bigint {
  return (
    BigInt(i.op & 0xff) |
    (BigInt(i.d & 0xff) << 8n) |
    (BigInt(i.a & 0xff) << 16n) |
    (BigInt(i.b & 0xff) << 24n) |
    (BigInt.asUintN(32, BigInt(i.imm)) << 32n)
  );
}

/**
 * MAXNESTING without -D: stap's runtime default, 10 nested function calls (the 11th is the
 * error); -D MAXNESTING raises it up to the interpreters' own frame stack (LIMITS.MAXNESTING - 1).
 */
export const DEFAULT_MAXNESTING = 10;
