// Bytecode optimizer: runs on the code generator's output (pass 3), before encoding. Every
// interpreter dispatch costs the kernel a few nanoseconds whatever the instruction does
// (bench/RESULTS.md), so this removes instructions:
//   - dead stores: a side-effect-free instruction whose result is never read (the code
//     generator zeroes every local at entry, then assigns it);
//   - copies: `X t, ...; MOV r, t` with t dead afterwards becomes `X r, ...` (SMOV likewise);
//   - constants: `MOVI t, k; ADD d, a, t` becomes `ADDI d, a, k` (and MULI, DIVI, ...);
//   - compare and branch: `LT t, a, b; JZ t, L` becomes `JGE a, b, L`;
//   - string literals: `SCONST st, "x"; SCMP d, sa, st, eq` becomes `SEQC d, sa, "x"`;
//   - one-integer keys: `KCLR n; KPUTI ra, key+0` becomes `KINT ra, n` (the kernel's fast loop
//     runs it; KCLR and KPUTI each cost an iteration of the full switch);
//   - execname() keys: `CTXS s, execname; ...; KPUTS s, key+k` becomes `...; KCOMM key+k`;
//   - a handler's end: `ACT n; HALT` becomes `ACTH n`.
// Liveness is computed on the control-flow graph (frame-relative register and string slot
// numbers). An opcode this file does not know is a barrier: it reads every register and slot
// and no rewrite touches it, so opcodes added elsewhere stay correct without changes here.
import { CTX, LIMITS, Op, OPS, SCMP } from '../isa/opcodes';
import type { Insn, SourceEntry } from '../image/image';

/** Which operands an instruction reads and writes (integer registers and string slots). */
interface Effects {
  /** registers read (frame-relative); undefined: every register */
  rr?: number[];
  rw: number[];
  sr?: number[];
  sw: number[];
  /** ends the path (no fall-through) */
  stop: boolean;
  /** may jump to imm */
  branch: boolean;
}

/** Opcodes with no side effect but their write: removable when the write is dead, and their
 * destination may be renamed (each reads all its inputs before it writes). */
const PURE = new Set<number>([
  Op.MOVI, Op.MOV, Op.ADD, Op.SUB, Op.MUL, Op.AND, Op.OR, Op.XOR, Op.SHL, Op.SHR, Op.ADDI, Op.NEG, Op.BNOT, Op.LNOT,
  Op.EQ, Op.NE, Op.LT, Op.LE, Op.GT, Op.GE, Op.SCONST, Op.SMOV, Op.SCAT, Op.SCMP, Op.SCLR, Op.GLD, Op.GLDS, Op.KGETI,
  Op.KGETS, Op.AGET, Op.AGETS, Op.AIN, Op.CTX, Op.CTXS, Op.TPLD, Op.TPSTR,
  Op.MULI, Op.ANDI, Op.ORI, Op.XORI, Op.SHLI, Op.SHRI, Op.SEQC, Op.SNEC,
]);

/** Opcodes whose operand list (vm/isa.json) says exactly what they read and write. */
const KNOWN = new Set<number>([
  ...PURE, Op.HALT, Op.MOVHI, Op.DIV, Op.MOD, Op.DIVI, Op.MODI, Op.JMP, Op.JZ, Op.JNZ, Op.RET, Op.GST, Op.GADD, Op.GSTS,
  Op.KCLR, Op.KPUTI, Op.KPUTS, Op.ASET, Op.ASETS, Op.AADD, Op.ADEL, Op.ACLR, Op.USTR, Op.OBEGIN, Op.OINT, Op.OSTR,
  Op.OEND, Op.EXIT, Op.ERROR, Op.UARG, Op.ITBEGIN, Op.ITNEXT, Op.ITSORT, Op.ITEND, Op.JEQ, Op.JNE, Op.JLT, Op.JLE, Op.JGT, Op.JGE,
  Op.ACT, Op.KINT, Op.KMASK, Op.ITSLICE, Op.ASLIN, Op.ASLDEL, Op.ACTH, Op.KCOMM, Op.STADD,
]);

const BRANCHES = new Set<number>([Op.JMP, Op.JZ, Op.JNZ, Op.ITNEXT, Op.JEQ, Op.JNE, Op.JLT, Op.JLE, Op.JGT, Op.JGE]);
const STOPS = new Set<number>([Op.HALT, Op.RET, Op.ERROR, Op.JMP, Op.ACTH]);

function hasPcOperand(op: number): boolean {
  return OPS[op]?.operands.split(', ').includes('p') ?? false;
}

function effects(i: Insn): Effects {
  if (!KNOWN.has(i.op)) return { rw: [], sw: [], stop: false, branch: hasPcOperand(i.op) };
  const e: Effects = { rr: [], rw: [], sr: [], sw: [], stop: STOPS.has(i.op), branch: BRANCHES.has(i.op) };
  for (const spec of (OPS[i.op]?.operands ?? '').split(', ')) {
    const field = spec[1] as 'd' | 'a' | 'b' | undefined;
    if (!field || (spec[0] !== 'r' && spec[0] !== 's')) continue;
    const n = i[field];
    if (spec[0] === 'r') (field === 'd' ? e.rw : e.rr!).push(n);
    else (field === 'd' ? e.sw : e.sr!).push(n);
  }
  if (i.op === Op.MOVHI) e.rr!.push(i.d);
  if (i.op === Op.USTR) e.sr!.push(i.d); // b = 1 keeps sd on a fault
  if (i.op === Op.RET) {
    e.rr!.push(0); // a function's result
    e.sr!.push(0);
  }
  return e;
}

const NREG_WORDS = LIMITS.NREGS / 32;
const NSTR_WORDS = Math.max(1, LIMITS.NSTRS / 32);

/** live-out sets per pc: registers then string slots, as 32-bit words */
function liveness(code: Insn[], fx: Effects[]): Uint32Array[] {
  const W = NREG_WORDS + NSTR_WORDS;
  const liveIn = code.map(() => new Uint32Array(W));
  const liveOut = code.map(() => new Uint32Array(W));
  const succ = (pc: number): number[] => {
    const e = fx[pc];
    const out: number[] = [];
    if (!e.stop && pc + 1 < code.length) out.push(pc + 1);
    if (e.branch && code[pc].imm >= 0 && code[pc].imm < code.length) out.push(code[pc].imm);
    return out;
  };
  const succs = code.map((_, pc) => succ(pc));
  let changed = true;
  while (changed) {
    changed = false;
    for (let pc = code.length - 1; pc >= 0; pc--) {
      const out = liveOut[pc];
      for (const s of succs[pc]) for (let w = 0; w < W; w++) out[w] |= liveIn[s][w];
      const e = fx[pc];
      const inn = Uint32Array.from(out);
      for (const r of e.rw) inn[r >> 5] &= ~(1 << (r & 31));
      for (const s of e.sw) inn[NREG_WORDS + (s >> 5)] &= ~(1 << (s & 31));
      if (e.rr) for (const r of e.rr) inn[r >> 5] |= 1 << (r & 31);
      else inn.fill(0xffffffff, 0, NREG_WORDS);
      if (e.sr) for (const s of e.sr) inn[NREG_WORDS + (s >> 5)] |= 1 << (s & 31);
      else inn.fill(0xffffffff, NREG_WORDS);
      const old = liveIn[pc];
      for (let w = 0; w < W; w++)
        if (old[w] !== inn[w]) {
          liveIn[pc] = inn;
          changed = true;
          break;
        }
    }
  }
  return liveOut;
}

const regLive = (set: Uint32Array, r: number): boolean => (set[r >> 5] & (1 << (r & 31))) !== 0;
const strLive = (set: Uint32Array, s: number): boolean => (set[NREG_WORDS + (s >> 5)] & (1 << (s & 31))) !== 0;

/** MOVI t, k; OP d, x, t  ->  OPI d, x, k (t is b; commutative ops also take t as a) */
const WITH_IMM: Partial<Record<number, { op: number; commutes: boolean }>> = {
  [Op.ADD]: { op: Op.ADDI, commutes: true },
  [Op.MUL]: { op: Op.MULI, commutes: true },
  [Op.AND]: { op: Op.ANDI, commutes: true },
  [Op.OR]: { op: Op.ORI, commutes: true },
  [Op.XOR]: { op: Op.XORI, commutes: true },
  [Op.DIV]: { op: Op.DIVI, commutes: false },
  [Op.MOD]: { op: Op.MODI, commutes: false },
  [Op.SHL]: { op: Op.SHLI, commutes: false },
  [Op.SHR]: { op: Op.SHRI, commutes: false },
};

/** compare -> branch taken when it holds, and when it does not */
const CMP_BRANCH: Partial<Record<number, [number, number]>> = {
  [Op.EQ]: [Op.JEQ, Op.JNE],
  [Op.NE]: [Op.JNE, Op.JEQ],
  [Op.LT]: [Op.JLT, Op.JGE],
  [Op.LE]: [Op.JLE, Op.JGT],
  [Op.GT]: [Op.JGT, Op.JLE],
  [Op.GE]: [Op.JGE, Op.JLT],
};

const INT32_MIN = -0x80000000;

/**
 * `c[execname()]`: the CTXS at pc and the KPUTS of its slot later in the block become one
 * KCOMM where the KPUTS was (the kernel's fast loop runs it; CTXS and KPUTS each cost an
 * iteration of the full switch). bpf_get_current_comm writes 16 zero-padded bytes: the same key
 * as KPUTS of width 0 (MAXSTRINGLEN) or >= 16 into a zeroed key.
 */
function fuseComm(code: Insn[], fx: Effects[], out: Uint32Array[], leader: Uint8Array, drop: Uint8Array, pc: number): boolean {
  const s = code[pc].d;
  for (let j = pc + 1; j < code.length && !leader[j] && !drop[j]; j++) {
    const c = code[j];
    if (c.op === Op.KPUTS && c.a === s) {
      if ((c.b !== 0 && c.b < 16) || strLive(out[j], s)) return false;
      Object.assign(c, { op: Op.KCOMM, d: 0, a: 0, b: 0 });
      drop[pc] = 1;
      return true;
    }
    // in between: anything known that neither branches nor touches s (nothing changes the comm)
    if (!KNOWN.has(c.op) || fx[j].stop || fx[j].branch || fx[j].sr?.includes(s) !== false || fx[j].sw.includes(s)) return false;
  }
  return false;
}

export interface Optimized {
  code: Insn[];
  sourceMap: (SourceEntry | undefined)[];
  /** old pc -> new pc (a removed instruction maps to the next one kept) */
  remap: (pc: number) => number;
}

/**
 * Optimizes code whose entry points (probe handlers, functions) are `entries`; branch targets
 * and CALL targets are renumbered, and `remap` renumbers the entries.
 */
export function optimize(input: Insn[], sourceMap: (SourceEntry | undefined)[], entries: number[]): Optimized {
  // an unknown opcode that names a pc (TRY: a run-time error anywhere after it may jump there)
  // has control flow this file cannot see: leave such code as it is
  if (input.some((i) => !KNOWN.has(i.op) && i.op !== Op.CALL && hasPcOperand(i.op))) return { code: input, sourceMap, remap: (pc) => pc };
  let code = input.map((i) => ({ ...i }));
  let map = sourceMap.slice();
  const toNew: number[][] = [];
  for (let round = 0; round < 8; round++) {
    const fx = code.map(effects);
    const out = liveness(code, fx);
    const leader = new Uint8Array(code.length + 1);
    for (const pc of entries) leader[pc] = 1;
    for (const i of code) if (hasPcOperand(i.op) && i.imm >= 0 && i.imm < code.length) leader[i.imm] = 1;
    const drop = new Uint8Array(code.length);
    let changed = false;
    for (let pc = 0; pc < code.length; pc++) {
      if (drop[pc]) continue;
      const i = code[pc];
      const e = fx[pc];
      // dead store
      if (PURE.has(i.op) && e.rw.every((r) => !regLive(out[pc], r)) && e.sw.every((s) => !strLive(out[pc], s))) {
        drop[pc] = 1;
        changed = true;
        continue;
      }
      // CTXS s, execname; ...; KPUTS s, key+k (width 0 or >= 16), s dead after  ->  ...; KCOMM key+k
      if (i.op === Op.CTXS && i.imm === CTX.EXECNAME && fuseComm(code, fx, out, leader, drop, pc)) {
        changed = true;
        continue;
      }
      const n = pc + 1 < code.length && !leader[pc + 1] && !drop[pc + 1] ? code[pc + 1] : undefined;
      if (!n) continue;
      // X t; MOV r, t  ->  X r
      if (PURE.has(i.op) && n.op === Op.MOV && e.rw.length === 1 && e.sw.length === 0 && n.a === i.d && !regLive(out[pc + 1], i.d)) {
        i.d = n.d;
        drop[pc + 1] = 1;
        changed = true;
        continue;
      }
      if (PURE.has(i.op) && n.op === Op.SMOV && e.sw.length === 1 && e.rw.length === 0 && n.a === i.d && !strLive(out[pc + 1], i.d)) {
        i.d = n.d;
        drop[pc + 1] = 1;
        changed = true;
        continue;
      }
      if (i.op === Op.MOVI && !regLive(out[pc + 1], i.d)) {
        const t = i.d;
        const k = i.imm;
        // MOVI t, k; NEG d, t  ->  MOVI d, -k
        if (n.op === Op.NEG && n.a === t && k !== INT32_MIN) {
          Object.assign(n, { op: Op.MOVI, a: 0, b: 0, imm: -k });
          drop[pc] = 1;
          changed = true;
          continue;
        }
        // MOVI t, k; SUB d, a, t  ->  ADDI d, a, -k
        if (n.op === Op.SUB && n.b === t && n.a !== t && k !== INT32_MIN) {
          Object.assign(n, { op: Op.ADDI, b: 0, imm: -k });
          drop[pc] = 1;
          changed = true;
          continue;
        }
        const w = WITH_IMM[n.op];
        if (w && n.a !== n.b && (n.b === t || (w.commutes && n.a === t))) {
          Object.assign(n, { op: w.op, a: n.b === t ? n.a : n.b, b: 0, imm: k });
          drop[pc] = 1;
          changed = true;
          continue;
        }
      }
      // CMP t, a, b; JZ/JNZ t, L  ->  Jcc a, b, L
      const cb = CMP_BRANCH[i.op];
      if (cb && (n.op === Op.JZ || n.op === Op.JNZ) && n.a === i.d && !regLive(out[pc + 1], i.d)) {
        Object.assign(i, { op: n.op === Op.JNZ ? cb[0] : cb[1], d: 0, imm: n.imm });
        drop[pc + 1] = 1;
        changed = true;
        continue;
      }
      // KCLR n; KPUTI ra, key+0  ->  KINT ra, n
      if (i.op === Op.KCLR && n.op === Op.KPUTI && n.imm === 0) {
        Object.assign(n, { op: Op.KINT, d: 0, b: 0, imm: i.imm });
        drop[pc] = 1;
        changed = true;
        continue;
      }
      // ACT n; HALT  ->  ACTH n (a handler's end: one dispatch; the HALT is no branch target)
      if (i.op === Op.ACT && n.op === Op.HALT) {
        i.op = Op.ACTH;
        drop[pc + 1] = 1;
        changed = true;
        continue;
      }
      // SCONST st, "x"; SCMP d, sa, st, eq|ne  ->  SEQC|SNEC d, sa, "x"
      if (
        i.op === Op.SCONST &&
        n.op === Op.SCMP &&
        (n.imm === SCMP.EQ || n.imm === SCMP.NE) &&
        (n.a === i.d) !== (n.b === i.d) &&
        !strLive(out[pc + 1], i.d) &&
        i.imm >= 0 &&
        // the wide interpreter clamps at DATA_BYTES - 512: the bound for both objects
        i.imm <= LIMITS.DATA_BYTES - LIMITS.MAXSTRINGLEN_MAX
      ) {
        Object.assign(n, { op: n.imm === SCMP.EQ ? Op.SEQC : Op.SNEC, a: n.a === i.d ? n.b : n.a, b: 0, imm: i.imm });
        drop[pc] = 1;
        changed = true;
        continue;
      }
    }
    if (!changed) break;
    // renumber: a dropped instruction's pc goes to the next instruction kept
    const newPc: number[] = Array(code.length + 1);
    let next = code.length - drop.reduce((s, x) => s + x, 0);
    newPc[code.length] = next;
    for (let pc = code.length - 1; pc >= 0; pc--) {
      if (!drop[pc]) next--;
      newPc[pc] = drop[pc] ? newPc[pc + 1] : next;
    }
    const kept: Insn[] = [];
    const keptMap: (SourceEntry | undefined)[] = [];
    code.forEach((i, pc) => {
      if (drop[pc]) return;
      if (hasPcOperand(i.op) && i.imm >= 0 && i.imm <= code.length) i.imm = newPc[i.imm];
      kept.push(i);
      keptMap.push(map[pc]);
    });
    entries = entries.map((pc) => newPc[pc]);
    toNew.push(newPc);
    code = kept;
    map = keptMap;
  }
  const remap = (pc: number): number => toNew.reduce((p, t) => t[p] ?? p, pc);
  return { code, sourceMap: map, remap };
}
