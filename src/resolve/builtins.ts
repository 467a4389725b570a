// Built-in functions: signature for the type checker and lowering for the code generator, in
// one object per function (ply's `struct func`).
import { CTX } from '../isa/opcodes';
import type { ScalarType, ProbeTarget } from '../image/image';
import type * as A from '../parse/ast';
import { UPROBE_BUILTINS } from './uprobe-builtins';

/** What a builtin's lowering may ask of the code generator. */
export interface BuiltinEmitter {
  /** CTX into a fresh integer register */
  ctx(id: number): number;
  /** CTXS into a fresh string slot */
  ctxString(id: number): number;
  /** divides an integer register by a constant into a fresh register */
  divConst(reg: number, by: bigint): number;
  userString(addrReg: number): number;
  /** user_string(addr, default): the default (a string slot) survives a fault */
  userStringOr(addrReg: number, defaultSlot: number): number;
  exit(): void;
  error(msgSlot: number): void;
  /** UARG: argument number `nReg` of the probed function, `wb` = width | 0x80 when signed */
  uarg(nReg: number, wb: number): number;
  /** TPLD of the probe context (pt_regs in uprobes) at a byte offset */
  regLoad(offset: number, wb: number): number;
  /** the probed function's name (a constant of the probe being compiled) into a string slot */
  probeFunc(): number;
}

export interface Builtin {
  name: string;
  /** fixed parameter types; printf-style builtins are handled by the code generator itself */
  params: ScalarType[];
  ret: ScalarType | 'void';
  /** where it can run; undefined = both */
  only?: ProbeTarget;
  /** the only probe family it means something in (the registers of a uprobe) */
  family?: 'uprobe';
  /** a compile-time check of the argument expressions (literal operands): the error, if any */
  check?(args: A.Expr[]): string | undefined;
  /** returns the result register / string slot (or -1 for void); `exprs` are the argument expressions */
  emit(e: BuiltinEmitter, args: number[], exprs: A.Expr[]): number;
}

const ctxLong = (name: string, id: number): Builtin => ({ name, params: [], ret: 'long', emit: (e) => e.ctx(id) });
const timeOf = (name: string, div: bigint): Builtin => ({
  name,
  params: [],
  ret: 'long',
  emit: (e) => (div === 1n ? e.ctx(CTX.REALTIME_NS) : e.divConst(e.ctx(CTX.REALTIME_NS), div)),
});

const ALL: Builtin[] = [
    ctxLong('pid', CTX.PID),
    ctxLong('tid', CTX.TID),
    ctxLong('ppid', CTX.PPID),
    ctxLong('uid', CTX.UID),
    ctxLong('gid', CTX.GID),
    ctxLong('cpu', CTX.CPU),
    ctxLong('target', CTX.TARGET),
    timeOf('gettimeofday_ns', 1n),
    timeOf('gettimeofday_us', 1_000n),
    timeOf('gettimeofday_ms', 1_000_000n),
    timeOf('gettimeofday_s', 1_000_000_000n),
    { name: 'execname', params: [], ret: 'string', emit: (e) => e.ctxString(CTX.EXECNAME) } as Builtin,
    { name: 'pp', params: [], ret: 'string', emit: (e) => e.ctxString(CTX.PP) } as Builtin,
    { name: 'user_string', params: ['long'], ret: 'string', only: 'kernel', emit: (e, [a]) => e.userString(a) } as Builtin,
    { name: 'user_string', params: ['long', 'string'], ret: 'string', only: 'kernel', emit: (e, [a, d]) => e.userStringOr(a, d) } as Builtin,
    { name: 'exit', params: [], ret: 'void', emit: (e) => (e.exit(), -1) } as Builtin,
    { name: 'error', params: ['string'], ret: 'void', emit: (e, [m]) => (e.error(m), -1) } as Builtin,
    ...UPROBE_BUILTINS,
  ];

/** name -> overloads by arity (user_string(addr) and user_string(addr, default)) */
export const BUILTINS = new Map<string, Builtin[]>();
for (const b of ALL) BUILTINS.set(b.name, [...(BUILTINS.get(b.name) ?? []), b]);

/** The overload taking `nargs` arguments, else the first one (for the arity diagnostic). */
export function findBuiltin(name: string, nargs: number): Builtin | undefined {
  const overloads = BUILTINS.get(name);
  return overloads?.find((b) => b.params.length === nargs) ?? overloads?.[0];
}

/** printf-family builtins: the code generator lowers them to an output record. */
export const OUTPUT_BUILTINS = new Set(['printf', 'print', 'println']);
