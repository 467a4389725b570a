import { describe, expect, it } from 'vitest';
import { disassemble, disassembleAll, OPERAND_HELPERS } from '../../src/isa/disasm';
import { CTX, Op, OPS, SCMP } from '../../src/isa/opcodes';
import type { SourceEntry } from '../../src/image/image';
import { asm } from '../vm/helpers';

const SRC = [
  'global count, name',
  'global c',
  'function f(x) {',
  '  return x * 2',
  '}',
  'probe begin {',
  '  c[1] = f(21)',
  '    printf("%d %s\\n", c[1], name)   ',
  '  if (name < "hi") count++',
  '}',
  'probe kernel.trace("sched:sched_switch") { exit() }',
  '',
].join('\n');

const at = (line: number): SourceEntry => ({ loc: { file: 'x.stp', line, col: 3, offset: 0 }, near: '' });

function image() {
  return asm({
    sources: { 'x.stp': SRC },
    globals: [
      { name: 'count', type: 'long', slot: 0 },
      { name: 'name', type: 'string', slot: 0 },
    ],
    arrays: [{ name: 'c', id: 0, cls: 0 }],
    formats: [{ text: 'x', args: [] }, { text: '%d %s\n', args: ['long', 'string'] }],
    functions: [{ name: 'f', at: 'f' }],
    probes: [
      { pp: 'begin', at: 'begin' },
      { pp: 'kernel.trace("sched:sched_switch")', at: 'tp' },
    ],
    code: [
      { label: 'f' },
      { op: Op.MOVI, d: 2, imm: 2, src: at(4) },
      { op: Op.MUL, d: 0, a: 1, b: 2, src: at(4) },
      { op: Op.RET, src: at(5) },
      { label: 'begin' },
      { op: Op.MOVI, d: 2, imm: 21, src: at(7) },
      { op: Op.CALL, a: 1, b: 0, to: 'f', src: at(7) },
      { op: Op.KCLR, imm: 16, src: at(7) },
      { op: Op.MOVI, d: 3, imm: 1, src: at(7) },
      { op: Op.KPUTI, a: 3, imm: 0, src: at(7) },
      { op: Op.ASET, a: 1, imm: 0, b: 0, src: at(7) },
      { op: Op.AGET, d: 4, imm: 0, b: 0, src: at(8) },
      { op: Op.GLDS, d: 1, imm: 0, src: at(8) },
      { op: Op.OBEGIN, imm: 1, src: at(8) },
      { op: Op.OINT, a: 4, src: at(8) },
      { op: Op.OSTR, a: 1, src: at(8) },
      { op: Op.OEND, src: at(8) },
      { op: Op.SCONST, d: 4, str: 'hi', src: at(9) },
      { op: Op.SCMP, d: 7, a: 1, b: 4, imm: SCMP.LT, src: at(9) },
      { op: Op.JZ, a: 7, to: 'out', src: at(9) },
      { op: Op.MOVI, d: 3, imm: 1, src: at(9) },
      { op: Op.GADD, d: 8, a: 3, imm: 0, src: at(9) },
      { label: 'out' },
      { op: Op.HALT, src: at(10) },
      { label: 'tp' },
      { op: Op.CTX, d: 5, imm: CTX.PID, src: at(11) },
      { op: Op.CTXS, d: 2, imm: CTX.EXECNAME, src: at(11) },
      { op: Op.TPLD, d: 6, imm: 8, b: 0x84, src: at(11) },
      { op: Op.TPSTR, d: 3, imm: 12, b: 0, src: at(11) },
      { op: Op.EXIT, src: at(11) },
      { op: Op.HALT },
      { op: 99 },
    ],
  });
}

describe('disassemble', () => {
  it('formats one instruction: pc on 4 digits, mnemonic padded to 8', () => {
    const img = image();
    expect(disassemble(img, 1)).toEqual({ text: '0001  MUL      r0, r1, r2', next: 2 });
    expect(disassemble(img, 2)).toEqual({ text: '0002  RET', next: 3 });
    expect(disassemble(img, 4).text).toBe('0004  CALL     r1, s0, 0000');
  });

  it('formats the whole image with headers and source lines', () => {
    expect(disassembleAll(image())).toBe(
      [
        'function f:',
        '        # x.stp:4: return x * 2',
        '0000  MOVI     r2, 2',
        '0001  MUL      r0, r1, r2',
        '        # x.stp:5: }',
        '0002  RET',
        '',
        'probe begin:',
        '        # x.stp:7: c[1] = f(21)',
        '0003  MOVI     r2, 21',
        '0004  CALL     r1, s0, 0000',
        '0005  KCLR     16',
        '0006  MOVI     r3, 1',
        '0007  KPUTI    r3, key+0',
        '0008  ASET     r1, c[]',
        '        # x.stp:8: printf("%d %s\\n", c[1], name)',
        '0009  AGET     r4, c[]',
        '0010  GLDS     s1, name',
        '0011  OBEGIN   "%d %s\\n"',
        '0012  OINT     r4',
        '0013  OSTR     s1',
        '0014  OEND',
        '        # x.stp:9: if (name < "hi") count++',
        '0015  SCONST   s4, "hi"',
        '0016  SCMP     r7, s1, s4, lt',
        '0017  JZ       r7, 0020',
        '0018  MOVI     r3, 1',
        '0019  GADD     r8, r3, count',
        '        # x.stp:10: }',
        '0020  HALT',
        '',
        'probe kernel.trace("sched:sched_switch"):',
        '        # x.stp:11: probe kernel.trace("sched:sched_switch") { exit() }',
        '0021  CTX      r5, pid',
        '0022  CTXS     s2, execname',
        '0023  TPLD     r6, +8:4s',
        '0024  TPSTR    s3, +12:loc',
        '0025  EXIT',
        '0026  HALT',
        '0027  ???      0x0000000000000063',
        '',
      ].join('\n'),
    );
  });

  it('has a helper for every operand kind used by the ISA, and prints each opcode', () => {
    const img = image();
    for (const [op, info] of Object.entries(OPS)) {
      for (const spec of info.operands ? info.operands.split(', ') : []) expect(OPERAND_HELPERS[spec[0]], `${info.name} ${spec}`).toBeDefined();
      const one = { ...img, code: [BigInt(op)] };
      expect(disassemble(one, 0).text.startsWith(`0000  ${info.name}`)).toBe(true);
    }
  });

  it('falls back to numbers for unknown names', () => {
    const img = { ...image(), globals: [], arrays: [], formats: [] };
    const line = (op: number, imm: number, b = 0): string => disassemble({ ...img, code: [BigInt(op) | (BigInt(b) << 24n) | (BigInt(imm) << 32n)] }, 0).text;
    expect(line(Op.GLD, 3)).toBe('0000  GLD      r0, g3');
    expect(line(Op.GLDS, 3)).toBe('0000  GLDS     s0, G3');
    expect(line(Op.AGET, 7, 2)).toBe('0000  AGET     r0, @7[] cls 2');
    expect(line(Op.OBEGIN, 5)).toBe('0000  OBEGIN   fmt5');
    expect(line(Op.CTX, 99)).toBe('0000  CTX      r0, ctx99');
    expect(line(Op.SCMP, 9)).toBe('0000  SCMP     r0, s0, s0, cond9');
    expect(disassemble(image(), 8).text).toBe('0008  ASET     r1, c[]');
    expect(disassemble({ ...image(), code: [BigInt(Op.AGETS) | (1n << 24n)] }, 0).text).toBe('0000  AGETS    s0, c[] cls 1');
  });
});
