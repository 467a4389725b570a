// Built-in functions: signature for the type checker and lowering for the code generator, in
// one object per function (ply's `struct func`).
import { CTX, Op } from '../isa/opcodes';
import type { ScalarType, ProbeTarget } from '../image/image';
import type * as A from '../parse/ast';
import { UPROBE_BUILTINS } from './uprobe-builtins';
import { CONTEXT_BUILTINS } from './context-builtins';

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
  /** a fresh integer register / string slot */
  reg(): number;
  str(): number;
  /** one instruction, at the call's source location */
  op(op: Op, d?: number, a?: number, b?: number, imm?: number): void;
  /** copies values into fresh consecutive registers (or string slots): the first one */
  consecutive(type: ScalarType, from: number[]): number;
  /** a fresh register holding v */
  constant(v: number): number;
  /** text_str's output length: -D MAXSTRINGLEN - 1 when that is below the interpreter's slot
   * (stap's outlen), else 0 (the interpreter's own MAXSTRINGLEN - 1) */
  textLen: number;
  /** one instruction `op dst, a, b, imm` into a fresh register or string slot */
  insn(op: number, ret: ScalarType, a: number, b: number, imm: number): number;
  /** data offset of the errno name table (ERRNOSTR) */
  errnoTable(): number;
  /** the builtin's string is encoded by the kernel and expanded by output (usymname() and
   * friends): refused where the handler looks at its text */
  encodedText(fn: string): void;
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

/** One opcode: result (type ret) in d, operands a and b (an operand pair: b and b+1). */
function strOp(name: string, params: ScalarType[], ret: ScalarType, op: Op, lower: (e: BuiltinEmitter, args: number[]) => [number, number]): Builtin {
  return {
    name,
    params,
    ret,
    emit: (e, args) => {
      const [a, b] = lower(e, args);
      const d = ret === 'long' ? e.reg() : e.str();
      e.op(op, d, a, b);
      return d;
    },
  };
}

// stap's string tapset (tapset/string.stp, tokenize.stp): src/vm/strfuncs.ts, vm/strings.h
const STRING_FUNCTIONS: Builtin[] = [
  strOp('strlen', ['string'], 'long', Op.STRLEN, (_e, [s]) => [s, 0]),
  strOp('substr', ['string', 'long', 'long'], 'string', Op.SUBSTR, (e, [s, st, n]) => [s, e.consecutive('long', [st, n])]),
  strOp('stringat', ['string', 'long'], 'long', Op.STRAT, (_e, [s, p]) => [s, p]),
  strOp('strpos', ['string', 'string'], 'long', Op.STRPOS, (_e, [h, n]) => [h, n]),
  {
    name: 'isinstr',
    params: ['string', 'string'],
    ret: 'long',
    emit: (e, [h, n]) => {
      const p = e.reg();
      e.op(Op.STRPOS, p, h, n);
      const z = e.constant(0);
      const d = e.reg();
      e.op(Op.GE, d, p, z);
      return d;
    },
  },
  strOp('str_replace', ['string', 'string', 'string'], 'string', Op.STRREPL, (e, [s, f, r]) => [s, e.consecutive('string', [f, r])]),
  strOp('tokenize', ['string', 'string'], 'string', Op.TOKEN, (_e, [s, d]) => [s, d]),
  strOp('text_str', ['string'], 'string', Op.TEXTSTR, (e, [s]) => [s, e.consecutive('long', [e.constant(e.textLen), e.constant(0)])]),
  strOp('text_strn', ['string', 'long', 'long'], 'string', Op.TEXTSTR, (e, [s, n, q]) => [s, e.consecutive('long', [n, q])]),
  strOp('string_quoted', ['string'], 'string', Op.TEXTSTR, (e, [s]) => [s, e.consecutive('long', [e.constant(e.textLen), e.constant(1)])]),
  strOp('strtol', ['string', 'long'], 'long', Op.STRTOL, (_e, [s, b]) => [s, b]),
  strOp('isdigit', ['string'], 'long', Op.ISDIGIT, (_e, [s]) => [s, 0]),
  // tapset/regex.stp's primitives over the handler's last =~ (matched(), ngroups()): a script
  // that calls them gets tagged DFAs for every =~ (src/regex/tdfa.ts)
  strOp('__regex_ngroups', [], 'long', Op.RENGROUPS, () => [0, 0]),
  strOp('__regex_subexpr', ['long'], 'string', Op.RESUBEXPR, (_e, [n]) => [n, 0]),
];

/** builtins that read the last match's subexpressions */
export const REGEX_TAG_BUILTINS = ['__regex_ngroups', '__regex_subexpr'];

const ALL: Builtin[] = [
    ...STRING_FUNCTIONS,
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
    ...CONTEXT_BUILTINS,
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

/** The same formatting into a string value (the code generator lowers them to SFMT/SFMTS). */
export const SPRINT_BUILTINS = new Set(['sprintf', 'sprint', 'sprintln']);
