import { describe, expect, it } from 'vitest';
import { ERR, CTX, LIMITS, Op, SCMP } from '../../src/isa/opcodes';
import { runHandler } from '../../src/vm/interp';
import { MemoryBackend } from '../../src/vm/memory-backend';
import {
  asm, CTX0, HALT, INT64_MAX, INT64_MIN, li, longKey, longValue, out, outf, run, values,
  type AsmInsn, type AsmItem,
} from './helpers';

const { MAXSTRINGLEN, MAXNESTING, OUTMAX } = LIMITS;

/** rd = x <op> y, printed */
function alu(op: number, x: bigint, y: bigint): bigint {
  const v = values([...li(1, x), ...li(2, y), { op, d: 3, a: 1, b: 2 }, ...out('r3'), HALT]);
  return v[0] as bigint;
}

/** rd = <op> x, printed */
function unary(op: number, x: bigint): bigint {
  const v = values([...li(1, x), { op, d: 3, a: 1 }, ...out('r3'), HALT]);
  return v[0] as bigint;
}

const ARRAYS = [
  { name: 'cnt', id: 1, cls: 0 },
  { name: 'names', id: 2, cls: 1 },
  { name: 'wide', id: 3, cls: 6 },
  { name: 'small', id: 4, cls: 0, maxEntries: 2 },
  { name: 'wides', id: 5, cls: 7 },
];
const CNT = { imm: 1, b: 0 };
const NAMES = { imm: 2, b: 1 };
const WIDE = { imm: 3, b: 6 };
const SMALL = { imm: 4, b: 0 };

/** KCLR; KPUTI r(reg), 0 */
const key = (reg: number): AsmInsn[] => [{ op: Op.KCLR }, { op: Op.KPUTI, a: reg, imm: 0 }];

describe('control', () => {
  it('HALT ends the handler', () => {
    const r = run(asm({ code: [HALT, ...out('r0')] }));
    expect(r.res).toEqual({ status: 'halted', steps: 1 });
    expect(r.events).toEqual([]);
  });

  it('falls into HALT past the end of the code (the code blob is zeroed)', () => {
    const r = run(asm({ code: [{ op: Op.MOVI, d: 1, imm: 1 }] }));
    expect(r.res).toEqual({ status: 'halted', steps: 2 });
  });

  it('starts at the given pc', () => {
    const img = asm({ code: [...out('r0'), { label: 'h' }, { op: Op.MOVI, d: 0, imm: 9 }, ...out('r0'), HALT] });
    expect(run(img, { pc: 3 }).prints).toEqual([[9n]]);
  });

  it('JMP is absolute', () => {
    expect(
      values([{ op: Op.JMP, to: 'x' }, { op: Op.MOVI, d: 1, imm: 1 }, { label: 'x' }, { op: Op.ADDI, d: 1, a: 1, imm: 5 }, ...out('r1'), HALT]),
    ).toEqual([5n]);
  });

  it('JZ and JNZ', () => {
    const prog = (op: number, v: number): AsmItem[] => [
      { op: Op.MOVI, d: 1, imm: v },
      { op, a: 1, to: 'taken' },
      { op: Op.MOVI, d: 2, imm: 1 },
      ...out('r2'),
      HALT,
      { label: 'taken' },
      { op: Op.MOVI, d: 2, imm: 2 },
      ...out('r2'),
      HALT,
    ];
    expect(values(prog(Op.JZ, 0))).toEqual([2n]);
    expect(values(prog(Op.JZ, 7))).toEqual([1n]);
    expect(values(prog(Op.JNZ, 0))).toEqual([1n]);
    expect(values(prog(Op.JNZ, -1))).toEqual([2n]);
  });

  it('a loop counts down', () => {
    expect(
      values([
        { op: Op.MOVI, d: 1, imm: 10 },
        { op: Op.MOVI, d: 2, imm: 0 },
        { label: 'loop' },
        { op: Op.ADD, d: 2, a: 2, b: 1 },
        { op: Op.ADDI, d: 1, a: 1, imm: -1 },
        { op: Op.JNZ, a: 1, to: 'loop' },
        ...out('r2'),
        HALT,
      ]),
    ).toEqual([55n]);
  });

  it('unknown opcode is error OPCODE at its pc', () => {
    const r = run(asm({ code: [{ op: Op.MOVI, d: 1, imm: 1 }, { op: 200 }, ...out('r1'), HALT] }));
    expect(r.res).toEqual({ status: 'error', steps: 2 });
    expect(r.events).toEqual([{ type: 'error', code: ERR.OPCODE, pc: 1 }]);
  });

  it('kernel-only TPLD, TPSTR, USTR are error OPCODE in user space', () => {
    for (const op of [Op.TPLD, Op.TPSTR, Op.USTR]) {
      const r = run(asm({ code: [{ op, d: 1, a: 1, b: 4, imm: 8 }, ...out('r1'), HALT] }));
      expect(r.res.status).toBe('error');
      expect(r.events).toEqual([{ type: 'error', code: ERR.OPCODE, pc: 0 }]);
    }
  });

  it('ACT charges statements: reaching maxAction is error MAXACTION at that ACT', () => {
    const r = run(
      asm({ code: [{ op: Op.MOVI, d: 1, imm: 0 }, { label: 'l' }, { op: Op.ADDI, d: 1, a: 1, imm: 1 }, { op: Op.ACT, imm: 3 }, { op: Op.JMP, to: 'l' }] }),
      { maxAction: 100 },
    );
    // 34 ACTs of 3 reach 102 >= 100: 1 MOVI + 33 * 3 + ADDI, ACT
    expect(r.res).toEqual({ status: 'maxaction', steps: 1 + 33 * 3 + 2 });
    expect(r.events).toEqual([{ type: 'error', code: ERR.MAXACTION, pc: 2 }]);
  });

  it('instructions themselves are not counted; one short of maxAction is fine', () => {
    const img = asm({ code: [{ op: Op.MOVI, d: 1, imm: 1 }, { op: Op.ACT, imm: 4 }, { op: Op.MOVI, d: 1, imm: 2 }, { op: Op.ACT, imm: 1 }, HALT] });
    expect(run(img, { maxAction: 6 }).res).toEqual({ status: 'halted', steps: 5 });
    const r = run(img, { maxAction: 5 });
    expect(r.res).toEqual({ status: 'maxaction', steps: 4 });
    expect(r.errors).toEqual([{ type: 'error', code: ERR.MAXACTION, pc: 3 }]);
  });

  it('maxAction 0 stops at the first ACT', () => {
    const r = run(asm({ code: [{ op: Op.ACT, imm: 1 }, HALT] }), { maxAction: 0 });
    expect(r.res).toEqual({ status: 'maxaction', steps: 1 });
    expect(r.errors).toEqual([{ type: 'error', code: ERR.MAXACTION, pc: 0 }]);
  });

  it('every run starts from zeroed state', () => {
    const img = asm({
      code: [...out('r5', 's3'), { op: Op.MOVI, d: 5, imm: 7 }, { op: Op.SCONST, d: 3, str: 'x' }, { op: Op.KGETI, d: 6, imm: 0 }, { op: Op.KPUTI, a: 5, imm: 0 }, ...out('r6'), HALT],
    });
    const be = new MemoryBackend();
    run(img, { be });
    expect(run(img, { be }).prints).toEqual([[0n, ''], [0n]]);
  });
});

describe('integer ALU', () => {
  it('MOVI sign-extends imm', () => {
    expect(values([{ op: Op.MOVI, d: 1, imm: -5 }, { op: Op.MOVI, d: 2, imm: 0x7fffffff }, ...out('r1', 'r2'), HALT])).toEqual([-5n, 0x7fffffffn]);
  });

  it('MOVHI replaces the high half and keeps the low half', () => {
    expect(
      values([
        { op: Op.MOVI, d: 1, imm: -1 },
        { op: Op.MOVHI, d: 1, imm: 0x12345678 },
        { op: Op.MOVI, d: 2, imm: 1 },
        { op: Op.MOVHI, d: 2, imm: -1 },
        { op: Op.MOVI, d: 3, imm: -1 },
        { op: Op.MOVHI, d: 3, imm: 0 },
        ...out('r1', 'r2', 'r3'),
        HALT,
      ]),
    ).toEqual([0x12345678ffffffffn, -0xffffffffn, 0xffffffffn]);
    expect(values([...li(4, INT64_MIN), ...li(5, INT64_MAX), ...out('r4', 'r5'), HALT])).toEqual([INT64_MIN, INT64_MAX]);
  });

  it('MOV copies', () => {
    expect(values([...li(1, -123456789012n), { op: Op.MOV, d: 2, a: 1 }, ...out('r2'), HALT])).toEqual([-123456789012n]);
  });

  it('ADD, SUB, MUL wrap around at 64 bits', () => {
    expect(alu(Op.ADD, 2n, 40n)).toBe(42n);
    expect(alu(Op.ADD, INT64_MAX, 1n)).toBe(INT64_MIN);
    expect(alu(Op.ADD, -1n, -1n)).toBe(-2n);
    expect(alu(Op.SUB, 2n, 40n)).toBe(-38n);
    expect(alu(Op.SUB, INT64_MIN, 1n)).toBe(INT64_MAX);
    expect(alu(Op.MUL, -6n, 7n)).toBe(-42n);
    expect(alu(Op.MUL, INT64_MAX, 2n)).toBe(-2n);
    expect(alu(Op.MUL, 1n << 62n, 4n)).toBe(0n);
    expect(alu(Op.MUL, 0x100000001n, 0x100000001n)).toBe(0x200000001n);
    expect(alu(Op.MUL, INT64_MIN, -1n)).toBe(INT64_MIN);
  });

  it('DIV truncates toward zero', () => {
    expect(alu(Op.DIV, 7n, 2n)).toBe(3n);
    expect(alu(Op.DIV, -7n, 2n)).toBe(-3n);
    expect(alu(Op.DIV, 7n, -2n)).toBe(-3n);
    expect(alu(Op.DIV, -7n, -2n)).toBe(3n);
    expect(alu(Op.DIV, INT64_MIN, 2n)).toBe(-(1n << 62n));
    expect(alu(Op.DIV, INT64_MIN, INT64_MIN)).toBe(1n);
    expect(alu(Op.DIV, INT64_MAX, INT64_MIN)).toBe(0n);
  });

  it('INT64_MIN / -1 is INT64_MIN, INT64_MIN % -1 is 0', () => {
    expect(alu(Op.DIV, INT64_MIN, -1n)).toBe(INT64_MIN);
    expect(alu(Op.MOD, INT64_MIN, -1n)).toBe(0n);
  });

  it('MOD takes the sign of the dividend', () => {
    expect(alu(Op.MOD, 7n, 3n)).toBe(1n);
    expect(alu(Op.MOD, -7n, 3n)).toBe(-1n);
    expect(alu(Op.MOD, 7n, -3n)).toBe(1n);
    expect(alu(Op.MOD, -7n, -3n)).toBe(-1n);
    expect(alu(Op.MOD, INT64_MIN, 10n)).toBe(-8n);
    expect(alu(Op.MOD, INT64_MAX, INT64_MIN)).toBe(INT64_MAX);
  });

  it('DIV and MOD by zero are error DIV0 and end the handler', () => {
    for (const op of [Op.DIV, Op.MOD]) {
      const r = run(asm({ code: [{ op: Op.MOVI, d: 1, imm: 5 }, { op, d: 3, a: 1, b: 2 }, ...out('r3'), HALT] }));
      expect(r.res).toEqual({ status: 'error', steps: 2 });
      expect(r.events).toEqual([{ type: 'error', code: ERR.DIV0, pc: 1 }]);
    }
  });

  it('AND, OR, XOR', () => {
    expect(alu(Op.AND, 0b1100n, 0b1010n)).toBe(0b1000n);
    expect(alu(Op.OR, 0b1100n, 0b1010n)).toBe(0b1110n);
    expect(alu(Op.XOR, 0b1100n, 0b1010n)).toBe(0b0110n);
    expect(alu(Op.AND, -1n, INT64_MIN)).toBe(INT64_MIN);
    expect(alu(Op.XOR, -1n, INT64_MAX)).toBe(INT64_MIN);
  });

  it('SHL shifts by rb & 63', () => {
    expect(alu(Op.SHL, 1n, 4n)).toBe(16n);
    expect(alu(Op.SHL, 1n, 63n)).toBe(INT64_MIN);
    expect(alu(Op.SHL, 3n, 63n)).toBe(INT64_MIN);
    expect(alu(Op.SHL, 1n, 64n)).toBe(1n);
    expect(alu(Op.SHL, 1n, -1n)).toBe(INT64_MIN);
    expect(alu(Op.SHL, -1n, 8n)).toBe(-256n);
  });

  it('SHR is arithmetic, by rb & 63', () => {
    expect(alu(Op.SHR, 256n, 4n)).toBe(16n);
    expect(alu(Op.SHR, -8n, 1n)).toBe(-4n);
    expect(alu(Op.SHR, -1n, 63n)).toBe(-1n);
    expect(alu(Op.SHR, INT64_MIN, 63n)).toBe(-1n);
    expect(alu(Op.SHR, INT64_MIN, 65n)).toBe(-(1n << 62n));
    expect(alu(Op.SHR, INT64_MAX, 62n)).toBe(1n);
  });

  it('ADDI adds the sign-extended imm', () => {
    expect(values([{ op: Op.MOVI, d: 1, imm: 10 }, { op: Op.ADDI, d: 2, a: 1, imm: -15 }, ...out('r2'), HALT])).toEqual([-5n]);
    expect(values([...li(1, INT64_MAX), { op: Op.ADDI, d: 1, a: 1, imm: 1 }, ...out('r1'), HALT])).toEqual([INT64_MIN]);
  });

  it('NEG, BNOT, LNOT', () => {
    expect(unary(Op.NEG, 5n)).toBe(-5n);
    expect(unary(Op.NEG, INT64_MIN)).toBe(INT64_MIN);
    expect(unary(Op.BNOT, 0n)).toBe(-1n);
    expect(unary(Op.BNOT, INT64_MAX)).toBe(INT64_MIN);
    expect(unary(Op.LNOT, 0n)).toBe(1n);
    expect(unary(Op.LNOT, 5n)).toBe(0n);
    expect(unary(Op.LNOT, INT64_MIN)).toBe(0n);
  });

  it('comparisons are signed and give 0 or 1', () => {
    const cases: [number, bigint, bigint, bigint][] = [
      [Op.EQ, 3n, 3n, 1n], [Op.EQ, 3n, 4n, 0n],
      [Op.NE, 3n, 3n, 0n], [Op.NE, 3n, 4n, 1n],
      [Op.LT, -1n, 1n, 1n], [Op.LT, 1n, -1n, 0n], [Op.LT, 2n, 2n, 0n], [Op.LT, INT64_MIN, INT64_MAX, 1n],
      [Op.LE, 2n, 2n, 1n], [Op.LE, 3n, 2n, 0n], [Op.LE, -1n, 0n, 1n],
      [Op.GT, 1n, -1n, 1n], [Op.GT, -1n, 1n, 0n], [Op.GT, 2n, 2n, 0n],
      [Op.GE, 2n, 2n, 1n], [Op.GE, -2n, 2n, 0n], [Op.GE, INT64_MAX, INT64_MIN, 1n],
    ];
    for (const [op, x, y, want] of cases) expect([op, x, y, alu(op, x, y)]).toEqual([op, x, y, want]);
  });
});

describe('calls', () => {
  it('CALL shifts the register and string frames; RET gives r0 and s0 back at ra and sb', () => {
    const code: AsmItem[] = [
      { op: Op.MOVI, d: 5, imm: 21 }, // caller r5 = callee r1
      { op: Op.MOVI, d: 4, imm: -1 }, // caller r4 = callee r0 (the return value)
      { op: Op.SCONST, d: 3, str: 'arg' }, // caller s3 = callee s1
      { op: Op.CALL, a: 4, b: 2, to: 'f' },
      ...out('r4', 'r5', 's2', 's3', 'r0'),
      HALT,
      { label: 'f' },
      { op: Op.ADD, d: 0, a: 1, b: 1 }, // r0 = 2 * r1
      { op: Op.SCONST, d: 2, str: '!' },
      { op: Op.SCAT, d: 0, a: 1, b: 2 }, // s0 = s1 . "!"
      { op: Op.MOVI, d: 1, imm: 0 },
      { op: Op.RET },
    ];
    expect(values(code)).toEqual([42n, 0n, 'arg!', 'arg', 0n]);
  });

  it('nested calls return to the right frames', () => {
    const code: AsmItem[] = [
      { op: Op.MOVI, d: 1, imm: 1 },
      { op: Op.MOVI, d: 11, imm: 3 },
      { op: Op.CALL, a: 10, b: 0, to: 'f' },
      ...out('r1', 'r10', 'r11'),
      HALT,
      { label: 'f' }, // r0 = r1 * r1 + g(r1)
      { op: Op.MUL, d: 5, a: 1, b: 1 },
      { op: Op.MOV, d: 7, a: 1 },
      { op: Op.CALL, a: 6, b: 0, to: 'g' },
      { op: Op.ADD, d: 0, a: 5, b: 6 },
      { op: Op.RET },
      { label: 'g' }, // r0 = r1 + 100
      { op: Op.ADDI, d: 0, a: 1, imm: 100 },
      { op: Op.RET },
    ];
    expect(values(code)).toEqual([1n, 9n + 103n, 3n]);
  });

  it('RET at depth 0 halts', () => {
    const r = run(asm({ code: [{ op: Op.RET }, ...out('r0'), HALT] }));
    expect(r.res).toEqual({ status: 'halted', steps: 1 });
    expect(r.events).toEqual([]);
  });

  it('HALT in a callee ends the handler', () => {
    const r = run(asm({ code: [{ op: Op.CALL, a: 1, to: 'f' }, ...out('r0'), HALT, { label: 'f' }, HALT] }));
    expect(r.res).toEqual({ status: 'halted', steps: 2 });
    expect(r.events).toEqual([]);
  });

  it(`recursion deeper than MAXNESTING-1 (${MAXNESTING - 1}) is error NESTING`, () => {
    const img = asm({
      globals: [{ name: 'depth', type: 'long', slot: 0 }],
      code: [
        { op: Op.CALL, a: 2, to: 'f' },
        HALT,
        { label: 'f' },
        { op: Op.MOVI, d: 0, imm: 1 },
        { op: Op.GADD, d: 1, a: 0, imm: 0 },
        { op: Op.CALL, a: 2, to: 'f' },
        { op: Op.RET },
      ],
    });
    const r = run(img);
    expect(r.res.status).toBe('error');
    expect(r.events).toEqual([{ type: 'error', code: ERR.NESTING, pc: 4 }]);
    expect(r.be.globalGet(0)).toBe(BigInt(MAXNESTING - 1));
  });

  it('a register frame past NREGS-64 is error NESTING', () => {
    const ok = run(asm({ code: [{ op: Op.CALL, a: 192, to: 'f' }, HALT, { label: 'f' }, { op: Op.RET }] }));
    expect(ok.res.status).toBe('halted');
    const r = run(asm({ code: [{ op: Op.CALL, a: 193, to: 'f' }, HALT, { label: 'f' }, { op: Op.RET }] }));
    expect(r.events).toEqual([{ type: 'error', code: ERR.NESTING, pc: 0 }]);
    const r2 = run(asm({ code: [{ op: Op.CALL, a: 100, to: 'f' }, HALT, { label: 'f' }, { op: Op.CALL, a: 93, to: 'g' }, { op: Op.RET }, { label: 'g' }, { op: Op.RET }] }));
    expect(r2.events).toEqual([{ type: 'error', code: ERR.NESTING, pc: 2 }]);
  });

  it('a string frame past NSTRS-8 is error NESTING', () => {
    const ok = run(asm({ code: [{ op: Op.CALL, b: 24, to: 'f' }, HALT, { label: 'f' }, { op: Op.RET }] }));
    expect(ok.res.status).toBe('halted');
    const r = run(asm({ code: [{ op: Op.CALL, b: 25, to: 'f' }, HALT, { label: 'f' }, { op: Op.RET }] }));
    expect(r.events).toEqual([{ type: 'error', code: ERR.NESTING, pc: 0 }]);
  });

  it('frame-relative registers wrap modulo NREGS and NSTRS', () => {
    // callee at fp 192: its r70 is the caller's r(262 & 255) = r6; sfp 24: s10 is s(34 & 31) = s2
    const code: AsmItem[] = [
      { op: Op.MOVI, d: 6, imm: 66 },
      { op: Op.SCONST, d: 2, str: 'two' },
      { op: Op.CALL, a: 192, b: 24, to: 'f' },
      ...out('r6', 's2'),
      HALT,
      { label: 'f' },
      { op: Op.ADDI, d: 70, a: 70, imm: 1 },
      { op: Op.SCONST, d: 11, str: '+' },
      { op: Op.SCAT, d: 10, a: 10, b: 11 },
      { op: Op.RET },
    ];
    expect(values(code)).toEqual([67n, 'two+']);
  });
});

describe('strings', () => {
  it('SCONST reads a NUL-terminated constant, SMOV copies, SCLR empties', () => {
    expect(
      values([
        { op: Op.SCONST, d: 1, str: 'hello' },
        { op: Op.SMOV, d: 2, a: 1 },
        { op: Op.SMOV, d: 1, a: 1 },
        { op: Op.SCONST, d: 3, str: 'gone' },
        { op: Op.SCLR, d: 3 },
        ...out('s1', 's2', 's3'),
        HALT,
      ]),
    ).toEqual(['hello', 'hello', '']);
  });

  it('SCONST truncates to MAXSTRINGLEN-1 bytes', () => {
    const long = 'x'.repeat(200);
    const v = values([{ op: Op.SCONST, d: 1, str: long }, ...out('s1'), HALT]);
    expect(v).toEqual(['x'.repeat(MAXSTRINGLEN - 1)]);
  });

  it('SCAT concatenates, truncating to MAXSTRINGLEN-1 bytes', () => {
    const a = 'a'.repeat(100);
    const b = 'b'.repeat(100);
    expect(
      values([
        { op: Op.SCONST, d: 1, str: 'ab' },
        { op: Op.SCONST, d: 2, str: 'cd' },
        { op: Op.SCAT, d: 3, a: 1, b: 2 },
        { op: Op.SCAT, d: 1, a: 1, b: 2 }, // sd == sa
        { op: Op.SCLR, d: 4 },
        { op: Op.SCAT, d: 5, a: 4, b: 4 },
        { op: Op.SCONST, d: 6, str: a },
        { op: Op.SCONST, d: 7, str: b },
        { op: Op.SCAT, d: 8, a: 6, b: 7 },
        { op: Op.SCAT, d: 9, a: 8, b: 7 }, // sa already full
        ...out('s3', 's1', 's5', 's8', 's9'),
        HALT,
      ]),
    ).toEqual(['abcd', 'abcd', '', a + 'b'.repeat(MAXSTRINGLEN - 1 - 100), a + 'b'.repeat(MAXSTRINGLEN - 1 - 100)]);
    const v = values([
      { op: Op.SCONST, d: 1, str: 'y'.repeat(126) },
      { op: Op.SCONST, d: 2, str: 'zz' },
      { op: Op.SCAT, d: 3, a: 1, b: 2 },
      ...out('s3'),
      HALT,
    ]);
    expect(v).toEqual(['y'.repeat(126) + 'z']);
    expect((v[0] as string).length).toBe(MAXSTRINGLEN - 1);
  });

  it('SCMP compares bytes unsigned, for every condition', () => {
    const cmp = (x: string, y: string, cond: number): bigint =>
      values([{ op: Op.SCONST, d: 1, str: x }, { op: Op.SCONST, d: 2, str: y }, { op: Op.SCMP, d: 3, a: 1, b: 2, imm: cond }, ...out('r3'), HALT])[0] as bigint;
    // [x, y, sign of strcmp(x, y)]
    const pairs: [string, string, number][] = [
      ['abc', 'abc', 0],
      ['abc', 'abd', -1],
      ['abd', 'abc', 1],
      ['ab', 'abc', -1], // a prefix is smaller
      ['abc', 'ab', 1],
      ['', '', 0],
      ['', 'a', -1],
      ['\xff', 'a', 1], // unsigned bytes: 0xff > 'a'
      ['B', 'a', -1],
      ['\x80z', '\x7fz', 1],
    ];
    const want: Record<number, (c: number) => boolean> = {
      [SCMP.EQ]: (c) => c === 0,
      [SCMP.NE]: (c) => c !== 0,
      [SCMP.LT]: (c) => c < 0,
      [SCMP.LE]: (c) => c <= 0,
      [SCMP.GT]: (c) => c > 0,
      [SCMP.GE]: (c) => c >= 0,
      99: (c) => c >= 0, // an unknown condition is the C's default: GE
    };
    for (const [x, y, c] of pairs) {
      for (const [cond, f] of Object.entries(want)) {
        expect([x, y, Number(cond), cmp(x, y, Number(cond))]).toEqual([x, y, Number(cond), f(c) ? 1n : 0n]);
      }
    }
  });

  it('ERROR raises USER with the message and ends the handler', () => {
    const r = run(asm({ code: [{ op: Op.SCONST, d: 1, str: 'bad thing' }, { op: Op.ERROR, a: 1 }, ...out('r0'), HALT] }));
    expect(r.res).toEqual({ status: 'error', steps: 2 });
    expect(r.events).toEqual([{ type: 'error', code: ERR.USER, pc: 1, message: 'bad thing' }]);
  });
});

describe('globals', () => {
  it('GLD, GST, GADD on long globals; slots are imm & (NGLOBALS-1)', () => {
    const img = asm({
      globals: [{ name: 'a', type: 'long', slot: 0 }, { name: 'b', type: 'long', slot: 1, init: 5n }],
      code: [
        { op: Op.GLD, d: 1, imm: 1 },
        { op: Op.MOVI, d: 2, imm: 10 },
        { op: Op.GST, a: 2, imm: 0 },
        { op: Op.GADD, d: 3, a: 2, imm: 1 },
        { op: Op.GADD, d: 4, a: 2, imm: 257 }, // slot 1
        { op: Op.GLD, d: 5, imm: 0 },
        ...out('r1', 'r3', 'r4', 'r5'),
        HALT,
      ],
    });
    const r = run(img);
    expect(r.prints).toEqual([[5n, 15n, 25n, 10n]]);
    expect(r.be.globalGet(0)).toBe(10n);
    expect(r.be.globalGet(1)).toBe(25n);
  });

  it('GADD wraps at 64 bits', () => {
    const be = new MemoryBackend();
    be.globalSet(3, INT64_MAX);
    const r = run(asm({ code: [{ op: Op.MOVI, d: 1, imm: 2 }, { op: Op.GADD, d: 2, a: 1, imm: 3 }, ...out('r2'), HALT] }), { be });
    expect(r.prints).toEqual([[INT64_MIN + 1n]]);
    expect(be.globalGet(3)).toBe(INT64_MIN + 1n);
  });

  it('GLDS and GSTS on string globals', () => {
    const img = asm({
      globals: [{ name: 's', type: 'string', slot: 2, init: 'init' }],
      code: [
        { op: Op.GLDS, d: 1, imm: 2 },
        { op: Op.SCONST, d: 2, str: 'new' },
        { op: Op.GSTS, a: 2, imm: 66 }, // slot 66 & 63 = 2
        { op: Op.GLDS, d: 3, imm: 2 },
        ...out('s1', 's3'),
        HALT,
      ],
    });
    const r = run(img);
    expect(r.prints).toEqual([['init', 'new']]);
    expect(r.be.gstrGet(2)).toBe('new');
  });
});

describe('key buffer', () => {
  it('KPUTI/KGETI store 8 bytes little-endian; KPUTS/KGETS a NUL-terminated string', () => {
    const img = asm({
      arrays: ARRAYS,
      code: [
        { op: Op.KCLR },
        ...li(1, -2n),
        { op: Op.KPUTI, a: 1, imm: 0 },
        { op: Op.SCONST, d: 1, str: 'key' },
        { op: Op.KPUTS, a: 1, imm: 8 },
        { op: Op.KGETI, d: 2, imm: 0 },
        { op: Op.KGETS, d: 2, imm: 8 },
        { op: Op.KGETS, d: 3, imm: 9 },
        { op: Op.KGETI, d: 3, imm: 8 },
        { op: Op.MOVI, d: 4, imm: 1 },
        { op: Op.ASET, a: 4, ...CNT },
        ...out('r2', 's2', 's3', 'r3'),
        HALT,
      ],
    });
    const r = run(img);
    expect(r.prints).toEqual([[-2n, 'key', 'ey', 0x79656bn]]);
    const [[k]] = r.be.arrayEntries(img.arrays[0]);
    expect([...k]).toEqual([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x6b, 0x65, 0x79, 0, 0, 0, 0, 0]);
  });

  it('KPUTS writes at most MAXSTRINGLEN-1 bytes and one NUL, nothing beyond', () => {
    const le = (bytes: number[]): bigint => new DataView(Uint8Array.from(bytes).buffer).getBigInt64(0, true);
    expect(
      values([
        { op: Op.KCLR },
        ...li(1, -1n),
        ...Array.from({ length: 20 }, (_, i) => ({ op: Op.KPUTI, a: 1, imm: i * 8 })),
        { op: Op.SCONST, d: 1, str: 'ab' },
        { op: Op.KPUTS, a: 1, imm: 0 },
        { op: Op.KGETI, d: 2, imm: 0 },
        { op: Op.SCONST, d: 2, str: 'q'.repeat(200) },
        { op: Op.KPUTS, a: 2, imm: 8 },
        { op: Op.KGETS, d: 3, imm: 8 },
        { op: Op.KGETI, d: 3, imm: 8 + MAXSTRINGLEN - 1 },
        ...out('r2', 's3', 'r3'),
        HALT,
      ]),
    ).toEqual([le([0x61, 0x62, 0, 0xff, 0xff, 0xff, 0xff, 0xff]), 'q'.repeat(MAXSTRINGLEN - 1), -256n]);
  });

  it('KCLR zeroes the whole key buffer when asked for KEYMAX bytes', () => {
    expect(
      values([
        ...li(1, -1n),
        { op: Op.KPUTI, a: 1, imm: 255 },
        { op: Op.KCLR, imm: 272 },
        { op: Op.KGETI, d: 2, imm: 255 },
        { op: Op.KGETS, d: 2, imm: 0 },
        ...out('r2', 's2'),
        HALT,
      ]),
    ).toEqual([0n, '']);
  });
});

describe('arrays', () => {
  const img = (code: AsmItem[]) => asm({ arrays: ARRAYS, code });

  it('ASET, AGET, AIN, ADEL on a long-valued array', () => {
    const i = img([
      { op: Op.MOVI, d: 1, imm: 5 },
      ...key(1),
      { op: Op.MOVI, d: 2, imm: 50 },
      { op: Op.ASET, a: 2, ...CNT },
      { op: Op.AGET, d: 3, ...CNT },
      { op: Op.AIN, d: 4, ...CNT },
      { op: Op.MOVI, d: 1, imm: 6 },
      ...key(1),
      { op: Op.MOVI, d: 5, imm: 77 },
      { op: Op.AGET, d: 5, ...CNT }, // absent: 0
      { op: Op.AIN, d: 6, ...CNT },
      { op: Op.MOVI, d: 1, imm: 5 },
      ...key(1),
      { op: Op.ADEL, ...CNT },
      { op: Op.AIN, d: 7, ...CNT },
      { op: Op.ADEL, ...CNT }, // deleting an absent key is fine
      ...out('r3', 'r4', 'r5', 'r6', 'r7'),
      HALT,
    ]);
    const r = run(i);
    expect(r.prints).toEqual([[50n, 1n, 0n, 0n, 0n]]);
    expect(r.be.arrayEntries(i.arrays[0])).toEqual([]);
  });

  it('ASETS, AGETS on a string-valued array: values are valueSize bytes, NUL-padded', () => {
    const i = img([
      { op: Op.MOVI, d: 1, imm: 1 },
      ...key(1),
      { op: Op.SCONST, d: 1, str: 'one' },
      { op: Op.ASETS, a: 1, ...NAMES },
      { op: Op.AGETS, d: 2, ...NAMES },
      { op: Op.AIN, d: 2, ...NAMES },
      { op: Op.MOVI, d: 1, imm: 2 },
      ...key(1),
      { op: Op.SCONST, d: 3, str: 'stale' },
      { op: Op.AGETS, d: 3, ...NAMES }, // absent: ""
      ...out('s2', 'r2', 's3'),
      HALT,
    ]);
    const r = run(i);
    expect(r.prints).toEqual([['one', 1n, '']]);
    const [[k, v]] = r.be.arrayEntries(i.arrays[1]);
    expect(k).toEqual(longKey(1n));
    expect(v.length).toBe(MAXSTRINGLEN);
    expect([...v.slice(0, 4)]).toEqual([0x6f, 0x6e, 0x65, 0]);
    expect(v.slice(4).every((x) => x === 0)).toBe(true);
  });

  it('AGET sees only long-valued classes, AGETS only string ones', () => {
    const be = new MemoryBackend();
    const i = img([
      ...key(0),
      { op: Op.MOVI, d: 1, imm: 9 },
      { op: Op.AGET, d: 1, ...NAMES }, // b | 0 = 1 -> class 0: not this array's
      { op: Op.SCONST, d: 1, str: 'stale' },
      { op: Op.AGETS, d: 1, ...CNT }, // b | 1 = 1: not this array's
      { op: Op.AIN, d: 2, imm: 1, b: 1 }, // AIN uses b as is: wrong class
      { op: Op.AIN, d: 3, ...CNT },
      ...out('r1', 's1', 'r2', 'r3'),
      HALT,
    ]);
    be.arraySet(i.arrays[0], longKey(0n), longValue(11n));
    be.arraySet(i.arrays[1], longKey(0n), new Uint8Array(MAXSTRINGLEN).fill(0x41, 0, 3));
    expect(run(i, { be }).prints).toEqual([[0n, '', 0n, 1n]]);
  });

  it('ASET on the wrong class or an unknown array is error OVERFLOW', () => {
    for (const insn of [{ op: Op.ASET, ...NAMES }, { op: Op.ASETS, ...CNT }, { op: Op.ASET, imm: 99, b: 0 }, { op: Op.AADD, d: 1, ...NAMES }]) {
      const r = run(img([{ op: Op.KCLR }, insn, ...out('r0'), HALT]));
      expect(r.res.status).toBe('error');
      expect(r.events).toEqual([{ type: 'error', code: ERR.OVERFLOW, pc: 1 }]);
    }
    // reads of an unknown array see nothing
    expect(run(img([{ op: Op.KCLR }, { op: Op.AGET, d: 1, imm: 99 }, { op: Op.AIN, d: 2, imm: 99 }, { op: Op.ADEL, imm: 99 }, ...out('r1', 'r2'), HALT])).prints).toEqual([[0n, 0n]]);
  });

  it('a new key in a full array is error OVERFLOW; an existing one can still be set', () => {
    const set = (k: number, v: number): AsmInsn[] => [{ op: Op.MOVI, d: 1, imm: k }, ...key(1), { op: Op.MOVI, d: 2, imm: v }, { op: Op.ASET, a: 2, ...SMALL }];
    const code = [...set(1, 10), ...set(2, 20), ...set(1, 11), ...out('r2'), ...set(3, 30), ...out('r2'), HALT];
    const i = img(code);
    const r = run(i);
    expect(r.prints).toEqual([[11n]]);
    expect(r.res.status).toBe('error');
    expect(r.errors).toEqual([{ type: 'error', code: ERR.OVERFLOW, pc: 3 * 5 + 3 + 4 }]);
    expect(r.be.arrayEntries(i.arrays[3]).map(([k, v]) => [k[0], v[0]])).toEqual([[1, 11], [2, 20]]);
  });

  it('AADD creates the element as 0, adds, and gives the new value', () => {
    const i = img([
      ...key(0),
      { op: Op.MOVI, d: 1, imm: 5 },
      { op: Op.AADD, d: 2, a: 1, ...CNT },
      { op: Op.AADD, d: 3, a: 1, ...CNT },
      { op: Op.MOVI, d: 1, imm: -20 },
      { op: Op.AADD, d: 4, a: 1, ...CNT },
      { op: Op.AGET, d: 5, ...CNT },
      ...out('r2', 'r3', 'r4', 'r5'),
      HALT,
    ]);
    expect(run(i).prints).toEqual([[5n, 10n, -10n, -10n]]);
  });

  it('AADD wraps at 64 bits', () => {
    const i = img([...key(0), { op: Op.MOVI, d: 1, imm: 1 }, { op: Op.AADD, d: 2, a: 1, ...CNT }, ...out('r2'), HALT]);
    const be = new MemoryBackend();
    be.arraySet(i.arrays[0], longKey(0n), longValue(INT64_MAX));
    expect(run(i, { be }).prints).toEqual([[INT64_MIN]]);
  });

  it('AADD of a new key in a full array is error OVERFLOW, of an existing one works', () => {
    const add = (k: number): AsmInsn[] => [{ op: Op.MOVI, d: 1, imm: k }, ...key(1), { op: Op.MOVI, d: 2, imm: 1 }, { op: Op.AADD, d: 3, a: 2, ...SMALL }];
    const r = run(img([...add(1), ...add(2), ...add(2), ...out('r3'), ...add(3), ...out('r3'), HALT]));
    expect(r.prints).toEqual([[2n]]);
    expect(r.errors).toEqual([{ type: 'error', code: ERR.OVERFLOW, pc: 3 * 5 + 3 + 4 }]);
  });

  it('ACLR deletes every element', () => {
    const i = img([{ op: Op.ACLR, ...CNT }, ...key(1), { op: Op.AIN, d: 2, ...CNT }, ...out('r2'), HALT]);
    const be = new MemoryBackend();
    be.arraySet(i.arrays[0], longKey(0n), longValue(1n));
    be.arraySet(i.arrays[0], longKey(1n), longValue(2n));
    be.arraySet(i.arrays[1], longKey(0n), new Uint8Array(MAXSTRINGLEN));
    expect(run(i, { be }).prints).toEqual([[0n]]);
    expect(be.arrayEntries(i.arrays[0])).toEqual([]);
    expect(be.arrayEntries(i.arrays[1]).length).toBe(1);
  });

  it('KCLR of a 16-byte class clears 16 bytes and leaves the rest', () => {
    expect(
      values([
        ...li(1, -1n),
        { op: Op.KPUTI, a: 1, imm: 8 },
        { op: Op.KPUTI, a: 1, imm: 16 },
        { op: Op.KCLR, imm: 16 },
        { op: Op.KGETI, d: 2, imm: 8 },
        { op: Op.KGETI, d: 3, imm: 16 },
        ...out('r2', 'r3'),
        HALT,
      ]),
    ).toEqual([0n, -1n]);
  });

  it('KPUTS truncates a string to the width in b (NUL included)', () => {
    expect(
      values([
        { op: Op.KCLR, imm: 32 },
        { op: Op.SCONST, d: 1, str: 'abcdefghij' },
        { op: Op.KPUTS, a: 1, b: 4, imm: 0 },
        { op: Op.KGETS, d: 2, imm: 0 },
        ...out('s2'),
        HALT,
      ]),
    ).toEqual(['abc']);
  });

  it('wide keys: a string index and a long index in 272 bytes', () => {
    const i = img([
      { op: Op.KCLR, imm: 272 },
      { op: Op.SCONST, d: 1, str: 'x'.repeat(MAXSTRINGLEN + 10) },
      { op: Op.KPUTS, a: 1, imm: 0 },
      { op: Op.MOVI, d: 1, imm: 7 },
      { op: Op.KPUTI, a: 1, imm: 128 },
      { op: Op.MOVI, d: 2, imm: 3 },
      { op: Op.ASET, a: 2, ...WIDE },
      { op: Op.KCLR, imm: 272 },
      { op: Op.KPUTS, a: 1, imm: 0 },
      { op: Op.KPUTI, a: 1, imm: 128 },
      { op: Op.AGET, d: 3, ...WIDE },
      ...out('r3'),
      HALT,
    ]);
    const r = run(i);
    expect(r.prints).toEqual([[3n]]);
    const [[k]] = r.be.arrayEntries(i.arrays[2]);
    expect(k.length).toBe(272);
    expect(k[126]).toBe(0x78);
    expect(k[127]).toBe(0);
    expect(k[128]).toBe(7);
  });

  it('ITBEGIN snapshots the keys; ITNEXT loads each into the key buffer, then jumps', () => {
    const i = img([
      // cnt[k] = 10 * k for k = 1..5
      { op: Op.MOVI, d: 1, imm: 5 },
      { label: 'fill' },
      ...key(1),
      { op: Op.MOVI, d: 2, imm: 10 },
      { op: Op.MUL, d: 2, a: 2, b: 1 },
      { op: Op.ASET, a: 2, ...CNT },
      { op: Op.ADDI, d: 1, a: 1, imm: -1 },
      { op: Op.JNZ, a: 1, to: 'fill' },
      // foreach: sum keys and values, count; delete and add while iterating
      { op: Op.MOVI, d: 10, imm: 0 },
      { op: Op.MOVI, d: 11, imm: 0 },
      { op: Op.MOVI, d: 12, imm: 0 },
      { op: Op.ITBEGIN, d: 5, ...CNT },
      { label: 'next' },
      ...li(7, -1n),
      { op: Op.KPUTI, a: 7, imm: 8 }, // junk after the key: ITNEXT zeroes it
      { op: Op.ITNEXT, a: 5, to: 'done' },
      { op: Op.KGETI, d: 6, imm: 0 },
      { op: Op.ADD, d: 10, a: 10, b: 6 },
      { op: Op.AGET, d: 6, ...CNT },
      { op: Op.ADD, d: 11, a: 11, b: 6 },
      { op: Op.ADDI, d: 12, a: 12, imm: 1 },
      { op: Op.KGETI, d: 8, imm: 8 },
      { op: Op.ADD, d: 13, a: 13, b: 8 },
      { op: Op.ADEL, ...CNT }, // the snapshot still has the other keys
      { op: Op.ADDI, d: 6, a: 6, imm: 1000 },
      ...key(6),
      { op: Op.ASET, a: 6, ...CNT }, // new keys are not visited
      { op: Op.JMP, to: 'next' },
      { label: 'done' },
      { op: Op.MOV, d: 14, a: 5 },
      ...out('r10', 'r11', 'r12', 'r13', 'r14'),
      HALT,
    ]);
    const r = run(i);
    expect(r.prints).toEqual([[15n, 150n, 5n, 0n, 0n]]);
    expect(r.be.arrayEntries(i.arrays[0]).length).toBe(5);
  });

  it('ITNEXT on an empty array jumps at once; nested iterators get their own handles', () => {
    const i = img([
      { op: Op.MOVI, d: 9, imm: 0 },
      { op: Op.ITBEGIN, d: 1, ...CNT },
      { op: Op.ITNEXT, a: 1, to: 'empty' },
      { op: Op.MOVI, d: 9, imm: 1 },
      { label: 'empty' },
      // small has 2 keys, names 3: 6 pairs
      { op: Op.MOVI, d: 3, imm: 0 },
      { op: Op.ITBEGIN, d: 4, ...SMALL },
      { label: 'outer' },
      { op: Op.ITNEXT, a: 4, to: 'end' },
      { op: Op.ITBEGIN, d: 5, ...NAMES },
      { label: 'inner' },
      { op: Op.ITNEXT, a: 5, to: 'outer' },
      { op: Op.ADDI, d: 3, a: 3, imm: 1 },
      { op: Op.JMP, to: 'inner' },
      { label: 'end' },
      ...out('r9', 'r1', 'r4', 'r3'),
      HALT,
    ]);
    const be = new MemoryBackend();
    for (const k of [1n, 2n]) be.arraySet(i.arrays[3], longKey(k), longValue(k));
    for (const k of [1n, 2n, 3n]) be.arraySet(i.arrays[1], longKey(k), new Uint8Array(MAXSTRINGLEN));
    const r = run(i, { be });
    expect(r.prints).toEqual([[0n, 0n, 1n, 6n]]);
  });

  it('ITNEXT on a bad handle is error FAULT', () => {
    const r = run(img([{ op: Op.MOVI, d: 1, imm: 3 }, { op: Op.ITNEXT, a: 1, to: 'x' }, { label: 'x' }, HALT]));
    expect(r.events).toEqual([{ type: 'error', code: ERR.FAULT, pc: 1 }]);
  });
});

describe('context', () => {
  it('CTX gives the context values', () => {
    const ids = [CTX.PID, CTX.TID, CTX.PPID, CTX.UID, CTX.GID, CTX.CPU, CTX.REALTIME_NS];
    const v = values([...ids.map((imm, d) => ({ op: Op.CTX, d, imm })), ...out(...ids.map((_, d) => `r${d}`)), HALT]);
    expect(v).toEqual([4242n, 4243n, 1n, 1000n, 100n, 3n, 1700000000123456789n]);
  });

  it('CTX realtime defaults to the clock', () => {
    const { realtimeNs: _, ...ctx } = CTX0;
    const before = BigInt(Date.now()) * 1000000n;
    const r = run(asm({ code: [{ op: Op.CTX, d: 1, imm: CTX.REALTIME_NS }, ...out('r1'), HALT] }), { ctx });
    const after = BigInt(Date.now() + 1) * 1000000n;
    const t = r.prints[0][0] as bigint;
    expect(t >= before - 5000000n && t <= after + 5000000n).toBe(true);
  });

  it('CTXS gives execname (at most 15 bytes, UTF-8) and pp()', () => {
    const code = [{ op: Op.CTXS, d: 1, imm: CTX.EXECNAME }, { op: Op.CTXS, d: 2, imm: CTX.PP }, ...out('s1', 's2'), HALT];
    const img = asm({ code, probes: [{ pp: 'begin', at: 0 }, { pp: 'kernel.trace("sched:sched_switch")', at: 0 }] });
    expect(run(img, { probe: 1 }).prints).toEqual([['stapio', 'kernel.trace("sched:sched_switch")']]);
    expect(run(img, { probe: 0, ctx: { ...CTX0, execname: 'a-much-too-long-name' } }).prints).toEqual([['a-much-too-long', 'begin']]);
    expect(run(img, { ctx: { ...CTX0, execname: 'é' } }).prints[0][0]).toBe('\xc3\xa9');
  });

  it('a bad context id is error OPCODE', () => {
    for (const insn of [{ op: Op.CTX, d: 1, imm: CTX.EXECNAME }, { op: Op.CTX, d: 1, imm: 99 }, { op: Op.CTXS, d: 1, imm: CTX.PID }]) {
      const r = run(asm({ code: [insn, ...out('r1'), HALT] }));
      expect(r.events).toEqual([{ type: 'error', code: ERR.OPCODE, pc: 0 }]);
    }
  });
});

describe('output', () => {
  it('OBEGIN, OINT, OSTR, OEND emit one print event with the OBEGIN pc', () => {
    const r = run(
      asm({
        formats: [{ text: 'a', args: [] }, { text: '%d %s\\n', args: ['long', 'string'] }],
        code: [{ op: Op.MOVI, d: 1, imm: -7 }, { op: Op.SCONST, d: 2, str: 'str' }, ...outf(1, 'r1', 's2'), HALT],
      }),
    );
    expect(r.events).toEqual([{ type: 'print', format: 1, values: [-7n, 'str'], pc: 2 }]);
  });

  it('OEND again sends the same record again; OBEGIN starts a new one', () => {
    const r = run(
      asm({
        code: [
          { op: Op.OBEGIN, imm: 3 },
          { op: Op.MOVI, d: 1, imm: 1 },
          { op: Op.OINT, a: 1 },
          { op: Op.OEND },
          { op: Op.OEND },
          { op: Op.OINT, a: 1 },
          { op: Op.OEND },
          { op: Op.OBEGIN, imm: 4 },
          { op: Op.OEND },
          HALT,
        ],
      }),
    );
    expect(r.events).toEqual([
      { type: 'print', format: 3, values: [1n], pc: 0 },
      { type: 'print', format: 3, values: [1n], pc: 0 },
      { type: 'print', format: 3, values: [1n, 1n], pc: 0 },
      { type: 'print', format: 4, values: [], pc: 7 },
    ]);
  });

  it('OEND without OBEGIN sends nothing', () => {
    expect(run(asm({ code: [{ op: Op.OEND }, HALT] })).events).toEqual([]);
  });

  const ints = (n: number): AsmItem[] => [
    { op: Op.OBEGIN, imm: 0 },
    { op: Op.MOVI, d: 1, imm: n },
    { label: 'l' },
    { op: Op.OINT, a: 1 },
    { op: Op.ADDI, d: 1, a: 1, imm: -1 },
    { op: Op.JNZ, a: 1, to: 'l' },
    { op: Op.OEND },
    HALT,
  ];
  const maxInts = (OUTMAX - 8 - 16) / 8 + 1; // the last one ends exactly at OUTMAX

  it(`a record holds ${maxInts} integers; one more is error OUTPUT`, () => {
    const ok = run(asm({ code: ints(maxInts) }));
    expect(ok.res.status).toBe('halted');
    expect(ok.prints[0].length).toBe(maxInts);
    const r = run(asm({ code: ints(maxInts + 1) }));
    expect(r.res.status).toBe('error');
    expect(r.events).toEqual([{ type: 'error', code: ERR.OUTPUT, pc: 2 }]);
  });

  it('OSTR needs room for a whole MAXSTRINGLEN string', () => {
    const strs = (n: number, s: string): AsmItem[] => [{ op: Op.SCONST, d: 1, str: s }, { op: Op.OBEGIN, imm: 0 }, ...Array.from({ length: n }, () => ({ op: Op.OSTR, a: 1 })), { op: Op.OEND }, HALT];
    const full = 'z'.repeat(MAXSTRINGLEN - 1);
    const fit = Math.floor((OUTMAX - MAXSTRINGLEN - 2 - 16) / (MAXSTRINGLEN + 1)) + 1;
    expect(run(asm({ code: strs(fit, full) })).prints[0].length).toBe(fit);
    const r = run(asm({ code: strs(fit + 1, full) }));
    expect(r.errors).toEqual([{ type: 'error', code: ERR.OUTPUT, pc: 2 + fit }]);
    // short strings take 2 + length bytes
    const fitEmpty = Math.floor((OUTMAX - MAXSTRINGLEN - 2 - 16) / 2) + 1;
    expect(run(asm({ code: strs(fitEmpty, '') }), { maxAction: 100000 }).prints[0].length).toBe(fitEmpty);
    expect(run(asm({ code: strs(fitEmpty + 1, '') }), { maxAction: 100000 }).errors[0].code).toBe(ERR.OUTPUT);
  });

  it('EXIT emits an exit event and goes on', () => {
    const r = run(asm({ code: [{ op: Op.MOVI, d: 1, imm: 1 }, { op: Op.EXIT }, ...out('r1'), HALT] }));
    expect(r.res).toEqual({ status: 'halted', steps: 6 });
    expect(r.events).toEqual([{ type: 'exit', pc: 1 }, { type: 'print', format: 0, values: [1n], pc: 2 }]);
  });
});

describe('runHandler', () => {
  it('works on any VmBackend and reports steps', () => {
    const be = new MemoryBackend();
    const img = asm({ code: [{ op: Op.MOVI, d: 1, imm: 2 }, ...out('r1'), HALT] });
    expect(runHandler(img, 0, 0, be, CTX0, { maxAction: 50 })).toEqual({ status: 'halted', steps: 5 });
    expect(be.events).toEqual([{ type: 'print', format: 0, values: [2n], pc: 1 }]);
  });
});
