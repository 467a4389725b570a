// The bytecode optimizer (src/compile/optimize.ts): which shapes it rewrites, and that branch
// targets, entry pcs and the source map follow. Execution equivalence is proven elsewhere: the
// execution tests and the differential suite run optimized images in both interpreters.
import { describe, expect, it } from 'vitest';
import { compileSource } from '../../src/compile/index';
import { optimize } from '../../src/compile/optimize';
import { disassembleAll } from '../../src/isa/disasm';
import { Op } from '../../src/isa/opcodes';
import type { Insn } from '../../src/image/image';
import { runScript } from './helpers';

const dis = (src: string): string => disassembleAll(compileSource(src, 'c.stp').image!);
const ins = (op: number, d = 0, a = 0, b = 0, imm = 0): Insn => ({ op, d, a, b, imm });

describe('bytecode optimizer', () => {
  it('drops dead local initialisers, writes results straight into locals, fuses constants and compare-and-branch', () => {
    expect(dis('global a\nprobe begin {\n  x = 0; y = 5\n  x = y * 3 + 1\n  while (x > 2) x -= 4\n  if (x != y) a = x & 7\n}'))
      .toMatchInlineSnapshot(`
        "probe begin:
                # c.stp:3: x = 0; y = 5
        0000  MOVI     r2, 5
                # c.stp:4: x = y * 3 + 1
        0001  MULI     r4, r2, 3
        0002  ADDI     r1, r4, 1
                # c.stp:5: while (x > 2) x -= 4
        0003  ACT      4
        0004  MOVI     r3, 2
        0005  JLE      r1, r3, 0009
        0006  ADDI     r1, r1, -4
        0007  ACT      2
        0008  JMP      0004
                # c.stp:6: if (x != y) a = x & 7
        0009  ACT      1
        0010  JEQ      r1, r2, 0014
        0011  ANDI     r5, r1, 7
        0012  GST      r5, a
        0013  ACT      1
                # c.stp:2: probe begin {
        0014  HALT
        "
      `);
  });

  it('compares with a string literal in place (SEQC/SNEC), either side', () => {
    const out = dis('probe begin {\n  n = "bash"\n  if (n == "sh") print(1)\n  if ("zsh" != n) print(2)\n}');
    expect(out).toContain('SEQC     r1, s1, "sh"');
    expect(out).toContain('SNEC     r1, s1, "zsh"');
    expect(out).not.toContain('SCMP');
  });

  it('builds a key that starts with an integer with KINT (KCLR + KPUTI at offset 0)', () => {
    const src = 'global s, t\nprobe begin {\n  s[7] = 1; t[7, 8] = 2\n  s[9] += s[7] + t[7, 8]\n  printf("%d %d %d\\n", s[7], s[9], t[7, 8])\n}';
    const out = dis(src);
    expect(out.match(/KINT +r\d+, 16/g)?.length).toBe(8);
    expect(out.match(/KPUTI +r\d+, key\+8/g)?.length).toBe(3); // t's second column
    expect(out).not.toContain('KCLR');
    expect(runScript(src, 'c.stp').out).toBe('1 3 2\n');
  });

  it('puts execname() straight into a key with KCOMM (CTXS + KPUTS), and keeps CTXS when the string is used again', () => {
    const src = 'global c, d\nprobe begin {\n  c[execname()]++; d[1, execname()] <<< 2\n  foreach (k in c) printf("%s %d %d\\n", k, c[k], k == execname())\n}';
    const out = dis(src);
    expect(out).toContain('KCOMM    key+0');
    expect(out).toContain('KCOMM    key+8'); // d's second column, after the integer
    expect(out.match(/CTXS/g)?.length).toBe(1); // the compare's own execname()
    expect(runScript(src, 'c.stp').out).toMatch(/^(.+) 1 1\n$/);
    const twice = dis('global c\nprobe begin {\n  n = execname(); c[n]++; println(n)\n}');
    expect(twice).toContain('CTXS');
    expect(twice).not.toContain('KCOMM');
  });

  it('ends a handler with ACTH (ACT + HALT) unless the HALT is a branch target; MAXACTION still counts it', () => {
    const out = dis('global n\nprobe begin { n++ }\nprobe end { if (n) n = 2 }');
    expect(out).toContain('ACTH     1');
    expect(out.match(/HALT/g)?.length).toBe(1); // end's: the `if` jumps to it
    expect(runScript('global n\nprobe begin { n++; n++; printf("%d\\n", n) }', 'c.stp').out).toBe('2\n');
    // two statements charged by the ACTH: a budget of 2 ends there (stap: actionremaining <= 0), 3 does not
    expect(runScript('probe begin { a = 1; b = 2 }', 'c.stp', { maxAction: 2 }).results[0].status).toBe('maxaction');
    expect(runScript('probe begin { a = 1; b = 2 }', 'c.stp', { maxAction: 3 }).results[0].status).toBe('halted');
  });

  it('renumbers branch targets, CALL targets and entry pcs; keeps the failing instruction\'s source entry', () => {
    const img = compileSource('function f(v) { w = 0; w = v / 0; return w }\nprobe begin { x = 0; x = f(3) }', 'c.stp').image!;
    const fn = img.functions.find((f) => f.name === 'f')!;
    const call = img.code.findIndex((w) => Number(w & 0xffn) === Op.CALL);
    expect(Number(img.code[call] >> 32n)).toBe(fn.pc);
    const divi = img.code.findIndex((w) => Number(w & 0xffn) === Op.DIVI);
    expect(img.sourceMap[divi]?.near).toBe("operator '/'");
    const r = runScript('function f(v) { w = 0; w = v / 0; return w }\nprobe begin { x = 0; x = f(3) }', 'c.stp');
    expect(r.events).toContainEqual(expect.objectContaining({ type: 'error', pc: divi }));
  });

  it('treats an opcode it does not know as reading every register and slot', () => {
    // MOVI r1 feeds only the unknown opcode 250: it must stay; the second MOVI r1 is dead
    const o = optimize([ins(Op.MOVI, 1, 0, 0, 7), ins(250), ins(Op.MOVI, 1, 0, 0, 8), ins(Op.HALT)], [], [0]);
    expect(o.code.map((i) => i.op)).toEqual([Op.MOVI, 250, Op.HALT]);
    expect(o.remap(3)).toBe(2);
  });

  it('leaves code with try/catch as it is (an error anywhere may jump to the catch block)', () => {
    const code = [ins(Op.TRY, 0, 0, 0, 3), ins(Op.MOVI, 1, 0, 0, 1), ins(Op.MOVI, 1, 0, 0, 2), ins(Op.HALT)];
    expect(optimize(code, [], [0]).code).toEqual(code);
  });

  it('leaves a pair alone when the second instruction is a branch target', () => {
    // JMP 2 lands on the JZ: fusing EQ into it would skip the compare on that path
    const code = [ins(Op.MOVI, 3, 0, 0, 1), ins(Op.EQ, 2, 1, 3), ins(Op.JZ, 0, 2, 0, 4), ins(Op.JMP, 0, 0, 0, 2), ins(Op.HALT)];
    const o = optimize(code, [], [0]);
    expect(o.code.some((i) => i.op === Op.JZ)).toBe(true);
  });
});
