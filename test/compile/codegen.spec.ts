// The code generator (pass 3): the exact bytecode of small scripts, as disassembleAll prints
// it. Every snapshot below was checked by hand against vm/isa.json; the notes next to each
// say what to look for. Frame layout: r0/s0 are kept free in handlers and hold a function's
// result; a callee's frame starts at the caller's first free register/slot (CALL rB, sB), so the
// callee's r0/s0 is the caller's rB/sB and its parameters follow, longs and strings apart.
import { describe, expect, it } from 'vitest';
import { compileSource } from '../../src/compile/index';
import { disassembleAll } from '../../src/isa/disasm';
import type { ProgramImage } from '../../src/image/image';

/** the code generator's own output (test/compile/optimize.spec.ts covers the optimizer) */
function image(src: string): ProgramImage {
  return compileSource(src, 'c.stp', 3, undefined, {}, { optimize: false }).image!;
}

function dis(src: string): string {
  return disassembleAll(image(src));
}

describe('code generation', () => {
  it('loads constants with MOVI, and MOVHI when they do not fit a sign-extended 32 bits', () => {
    // 2147483648 and 4294967295: the low word sign-extends, MOVHI 0 clears the high word;
    // 0xffffffffffffffff is -1 (one MOVI); -1 in the source is NEG of 1 (no negative literals);
    // 0x8000000000000000 is INT64_MIN: low 0, high -2147483648.
    expect(
      dis(
        'probe begin {\n  a = 2147483647; b = 2147483648; c = 4294967295\n  d = 5000000000; e = 0xffffffffffffffff; f = -1\n  g = 0x8000000000000000; h = 0xffffffff00000000\n}',
      ),
    ).toMatchInlineSnapshot(`
      "probe begin:
              # c.stp:2: a = 2147483647; b = 2147483648; c = 4294967295
      0000  MOVI     r1, 0
      0001  MOVI     r2, 0
      0002  MOVI     r3, 0
              # c.stp:3: d = 5000000000; e = 0xffffffffffffffff; f = -1
      0003  MOVI     r4, 0
      0004  MOVI     r5, 0
      0005  MOVI     r6, 0
              # c.stp:4: g = 0x8000000000000000; h = 0xffffffff00000000
      0006  MOVI     r7, 0
      0007  MOVI     r8, 0
              # c.stp:2: a = 2147483647; b = 2147483648; c = 4294967295
      0008  MOVI     r9, 2147483647
      0009  MOV      r1, r9
      0010  MOVI     r9, -2147483648
      0011  MOVHI    r9, 0
      0012  MOV      r2, r9
      0013  MOVI     r9, -1
      0014  MOVHI    r9, 0
      0015  MOV      r3, r9
              # c.stp:3: d = 5000000000; e = 0xffffffffffffffff; f = -1
      0016  MOVI     r9, 705032704
      0017  MOVHI    r9, 1
      0018  MOV      r4, r9
      0019  MOVI     r9, -1
      0020  MOV      r5, r9
      0021  MOVI     r9, 1
      0022  NEG      r10, r9
      0023  MOV      r6, r10
              # c.stp:4: g = 0x8000000000000000; h = 0xffffffff00000000
      0024  MOVI     r9, 0
      0025  MOVHI    r9, -2147483648
      0026  MOV      r7, r9
      0027  MOVI     r9, 0
      0028  MOVHI    r9, -1
      0029  MOV      r8, r9
              # c.stp:1: probe begin {
      0030  ACT      8
      0031  HALT
      "
    `);
  });

  it('arithmetic, unary operators and precedence', () => {
    expect(dis('probe begin {\n  x = 7\n  y = (x + 3) * (x - 1) / 2 % 5\n  z = -x << 2 >> 1 & ~x | x ^ !x\n}')).toMatchInlineSnapshot(`
      "probe begin:
              # c.stp:2: x = 7
      0000  MOVI     r1, 0
              # c.stp:3: y = (x + 3) * (x - 1) / 2 % 5
      0001  MOVI     r2, 0
              # c.stp:4: z = -x << 2 >> 1 & ~x | x ^ !x
      0002  MOVI     r3, 0
              # c.stp:2: x = 7
      0003  MOVI     r4, 7
      0004  MOV      r1, r4
              # c.stp:3: y = (x + 3) * (x - 1) / 2 % 5
      0005  MOVI     r4, 3
      0006  ADD      r5, r1, r4
      0007  MOVI     r6, 1
      0008  SUB      r7, r1, r6
      0009  MUL      r8, r5, r7
      0010  MOVI     r9, 2
      0011  DIV      r10, r8, r9
      0012  MOVI     r11, 5
      0013  MOD      r12, r10, r11
      0014  MOV      r2, r12
              # c.stp:4: z = -x << 2 >> 1 & ~x | x ^ !x
      0015  NEG      r4, r1
      0016  MOVI     r5, 2
      0017  SHL      r6, r4, r5
      0018  MOVI     r7, 1
      0019  SHR      r8, r6, r7
      0020  BNOT     r9, r1
      0021  AND      r10, r8, r9
      0022  LNOT     r11, r1
      0023  XOR      r12, r1, r11
      0024  OR       r13, r10, r12
      0025  MOV      r3, r13
              # c.stp:1: probe begin {
      0026  ACT      3
      0027  HALT
      "
    `);
  });

  it('comparisons: EQ..GE on longs, SCMP with its condition on strings', () => {
    expect(
      dis(
        'probe begin {\n  x = 1; s = "a"\n  printf("%d%d%d\\n", x < 2, x >= 2, x != 2)\n  printf("%d%d%d\\n", s == "b", s < "b", s >= "b")\n}',
      ),
    ).toMatchInlineSnapshot(`
      "probe begin:
              # c.stp:2: x = 1; s = "a"
      0000  MOVI     r1, 0
      0001  SCLR     s1
      0002  MOVI     r2, 1
      0003  MOV      r1, r2
      0004  SCONST   s2, "a"
      0005  SMOV     s1, s2
              # c.stp:3: printf("%d%d%d\\n", x < 2, x >= 2, x != 2)
      0006  MOVI     r2, 2
      0007  LT       r3, r1, r2
      0008  MOVI     r4, 2
      0009  GE       r5, r1, r4
      0010  MOVI     r6, 2
      0011  NE       r7, r1, r6
      0012  OBEGIN   "%d%d%d\\n"
      0013  OINT     r3
      0014  OINT     r5
      0015  OINT     r7
      0016  OEND
              # c.stp:4: printf("%d%d%d\\n", s == "b", s < "b", s >= "b")
      0017  SCONST   s2, "b"
      0018  SCMP     r2, s1, s2, eq
      0019  SCONST   s3, "b"
      0020  SCMP     r3, s1, s3, lt
      0021  SCONST   s4, "b"
      0022  SCMP     r4, s1, s4, ge
      0023  OBEGIN   "%d%d%d\\n"
      0024  OINT     r2
      0025  OINT     r3
      0026  OINT     r4
      0027  OEND
              # c.stp:1: probe begin {
      0028  ACT      4
      0029  HALT
      "
    `);
  });

  it('short-circuit && and ||, and ?: (result normalised to 0/1, one register for both arms)', () => {
    expect(dis('probe begin {\n  x = 3\n  a = x && x - 3\n  b = x > 5 || x\n  s = x ? "yes" : "no"\n}')).toMatchInlineSnapshot(`
      "probe begin:
              # c.stp:2: x = 3
      0000  MOVI     r1, 0
              # c.stp:3: a = x && x - 3
      0001  MOVI     r2, 0
              # c.stp:4: b = x > 5 || x
      0002  MOVI     r3, 0
              # c.stp:5: s = x ? "yes" : "no"
      0003  SCLR     s1
              # c.stp:2: x = 3
      0004  MOVI     r4, 3
      0005  MOV      r1, r4
              # c.stp:3: a = x && x - 3
      0006  MOVI     r4, 0
      0007  JZ       r1, 0012
      0008  MOVI     r5, 3
      0009  SUB      r6, r1, r5
      0010  MOVI     r7, 0
      0011  NE       r4, r6, r7
      0012  MOV      r2, r4
              # c.stp:4: b = x > 5 || x
      0013  MOVI     r5, 5
      0014  GT       r6, r1, r5
      0015  MOVI     r4, 1
      0016  JNZ      r6, 0019
      0017  MOVI     r7, 0
      0018  NE       r4, r1, r7
      0019  MOV      r3, r4
              # c.stp:5: s = x ? "yes" : "no"
      0020  JZ       r1, 0024
      0021  SCONST   s2, "yes"
      0022  SMOV     s3, s2
      0023  JMP      0026
      0024  SCONST   s4, "no"
      0025  SMOV     s3, s4
      0026  SMOV     s1, s3
              # c.stp:1: probe begin {
      0027  ACT      4
      0028  HALT
      "
    `);
  });

  it('if / else if / else', () => {
    expect(dis('probe begin {\n  x = 2\n  if (x == 1) print("one")\n  else if (x == 2) print("two")\n  else print("many")\n}')).toMatchInlineSnapshot(`
      "probe begin:
              # c.stp:2: x = 2
      0000  MOVI     r1, 0
      0001  MOVI     r2, 2
      0002  MOV      r1, r2
              # c.stp:3: if (x == 1) print("one")
      0003  ACT      2
      0004  MOVI     r2, 1
      0005  EQ       r3, r1, r2
      0006  JZ       r3, 0013
      0007  SCONST   s1, "one"
      0008  OBEGIN   "%s"
      0009  OSTR     s1
      0010  OEND
      0011  ACT      1
      0012  JMP      0028
              # c.stp:4: else if (x == 2) print("two")
      0013  ACT      1
      0014  MOVI     r4, 2
      0015  EQ       r5, r1, r4
      0016  JZ       r5, 0023
      0017  SCONST   s1, "two"
      0018  OBEGIN   "%s"
      0019  OSTR     s1
      0020  OEND
      0021  ACT      1
      0022  JMP      0028
              # c.stp:5: else print("many")
      0023  SCONST   s1, "many"
      0024  OBEGIN   "%s"
      0025  OSTR     s1
      0026  OEND
      0027  ACT      1
              # c.stp:1: probe begin {
      0028  HALT
      "
    `);
  });

  it('while and for, with break and continue', () => {
    // while: continue jumps to the condition; for: continue jumps to the step, break past the loop
    expect(
      dis(
        'probe begin {\n  i = 0\n  while (i < 10) {\n    i++\n    if (i == 3) continue\n    if (i == 5) break\n  }\n  for (j = 0; j < 4; j += 1) {\n    if (j == 1) continue\n    if (j == 2) break\n  }\n}',
      ),
    ).toMatchInlineSnapshot(`
      "probe begin:
              # c.stp:2: i = 0
      0000  MOVI     r1, 0
              # c.stp:8: for (j = 0; j < 4; j += 1) {
      0001  MOVI     r2, 0
              # c.stp:2: i = 0
      0002  MOVI     r3, 0
      0003  MOV      r1, r3
              # c.stp:3: while (i < 10) {
      0004  ACT      2
      0005  MOVI     r3, 10
      0006  LT       r4, r1, r3
      0007  JZ       r4, 0023
              # c.stp:4: i++
      0008  MOVI     r5, 1
      0009  ADD      r1, r1, r5
              # c.stp:5: if (i == 3) continue
      0010  ACT      3
      0011  MOVI     r5, 3
      0012  EQ       r6, r1, r5
      0013  JZ       r6, 0016
      0014  ACT      1
      0015  JMP      0005
              # c.stp:6: if (i == 5) break
      0016  ACT      1
      0017  MOVI     r5, 5
      0018  EQ       r6, r1, r5
      0019  JZ       r6, 0022
      0020  ACT      1
      0021  JMP      0023
              # c.stp:3: while (i < 10) {
      0022  JMP      0005
              # c.stp:8: for (j = 0; j < 4; j += 1) {
      0023  MOVI     r3, 0
      0024  MOV      r2, r3
      0025  ACT      2
      0026  MOVI     r3, 4
      0027  LT       r4, r2, r3
      0028  JZ       r4, 0044
              # c.stp:9: if (j == 1) continue
      0029  ACT      2
      0030  MOVI     r3, 1
      0031  EQ       r4, r2, r3
      0032  JZ       r4, 0035
      0033  ACT      1
      0034  JMP      0041
              # c.stp:10: if (j == 2) break
      0035  ACT      1
      0036  MOVI     r3, 2
      0037  EQ       r4, r2, r3
      0038  JZ       r4, 0041
      0039  ACT      1
      0040  JMP      0044
              # c.stp:8: for (j = 0; j < 4; j += 1) {
      0041  MOVI     r3, 1
      0042  ADD      r2, r2, r3
      0043  JMP      0026
              # c.stp:1: probe begin {
      0044  ACT      1
      0045  HALT
      "
    `);
  });

  it('foreach with keys, value and limit', () => {
    // the limit is counted before ITNEXT; keys come from the key buffer ITNEXT loaded (KGETI at
    // the index's offset, KGETS for strings), the value from AGETS on that same key
    expect(
      dis('global m\nprobe begin {\n  m["a", 1] = "x"\n  foreach (v = [s, n] in m limit 2) {\n    if (n == 1) continue\n    println(s, n, v)\n  }\n}'),
    ).toMatchInlineSnapshot(`
      "probe begin:
              # c.stp:4: foreach (v = [s, n] in m limit 2) {
      0000  SCLR     s1
      0001  MOVI     r1, 0
      0002  SCLR     s2
              # c.stp:3: m["a", 1] = "x"
      0003  SCONST   s3, "a"
      0004  MOVI     r2, 1
      0005  SCONST   s4, "x"
      0006  KCLR     16
      0007  KPUTS    s3, key+8
      0008  KPUTI    r2, key+0
      0009  ASETS    s4, m[]
              # c.stp:4: foreach (v = [s, n] in m limit 2) {
      0010  MOVI     r3, 2
      0011  MOVI     r4, 0
      0012  ITBEGIN  r2, m[]
      0013  ACT      2
      0014  GE       r5, r4, r3
      0015  JNZ      r5, 0034
      0016  ADDI     r4, r4, 1
      0017  ITNEXT   r2, 0034
      0018  KGETS    s1, key+8
      0019  KGETI    r1, key+0
      0020  AGETS    s2, m[]
              # c.stp:5: if (n == 1) continue
      0021  ACT      2
      0022  MOVI     r6, 1
      0023  EQ       r7, r1, r6
      0024  JZ       r7, 0027
      0025  ACT      1
      0026  JMP      0014
              # c.stp:6: println(s, n, v)
      0027  OBEGIN   "%s%d%s\\n"
      0028  OSTR     s1
      0029  OINT     r1
      0030  OSTR     s2
      0031  OEND
              # c.stp:4: foreach (v = [s, n] in m limit 2) {
      0032  ACT      1
      0033  JMP      0014
      0034  ITEND    r2
              # c.stp:2: probe begin {
      0035  HALT
      "
    `);
  });

  it('globals: GADD for ++, +=, -= ; load-op-store for the others; strings through GLDS/GSTS', () => {
    expect(
      dis('global n, s\nprobe begin {\n  n++\n  x = n--\n  n += 5\n  n -= 2\n  n *= 3\n  s = "a"\n  s .= "b"\n}'),
    ).toMatchInlineSnapshot(`
      "probe begin:
              # c.stp:4: x = n--
      0000  MOVI     r1, 0
              # c.stp:3: n++
      0001  MOVI     r2, 1
      0002  GADD     r3, r2, n
              # c.stp:4: x = n--
      0003  MOVI     r2, -1
      0004  GADD     r3, r2, n
      0005  ADDI     r4, r3, 1
      0006  MOV      r1, r4
              # c.stp:5: n += 5
      0007  MOVI     r2, 5
      0008  GADD     r3, r2, n
              # c.stp:6: n -= 2
      0009  MOVI     r2, 2
      0010  NEG      r3, r2
      0011  GADD     r4, r3, n
              # c.stp:7: n *= 3
      0012  MOVI     r2, 3
      0013  GLD      r3, n
      0014  MUL      r4, r3, r2
      0015  GST      r4, n
              # c.stp:8: s = "a"
      0016  SCONST   s1, "a"
      0017  GSTS     s1, s
              # c.stp:9: s .= "b"
      0018  SCONST   s1, "b"
      0019  GLDS     s2, s
      0020  SCAT     s3, s2, s1
      0021  GSTS     s3, s
              # c.stp:2: probe begin {
      0022  ACT      7
      0023  HALT
      "
    `);
  });

  it('arrays with 1 and 2 indices: key offsets and classes', () => {
    // a[long] = long: class 0 (k16_v8); b[long, long] = long: 16 bytes of key, still class 0,
    // second index at key+8; c[string] = long with only "k" as index: 2 bytes, class 0;
    // d[string, long] = string: class 1 (k16_v128), longs first: the long at key+0, the string
    // at key+8; a string of unknown width (a function's result) takes 128 bytes: class 6
    expect(
      dis(
        'global a, b, c, d\nprobe begin {\n  a[1] = 2\n  b[1, 2] = a[1]\n  c["k"]++\n  d["k", 3] = "v"\n  x = [1, 2] in b\n  a[5] *= 2\n}',
      ),
    ).toMatchInlineSnapshot(`
      "probe begin:
              # c.stp:7: x = [1, 2] in b
      0000  MOVI     r1, 0
              # c.stp:3: a[1] = 2
      0001  MOVI     r2, 1
      0002  MOVI     r3, 2
      0003  KCLR     16
      0004  KPUTI    r2, key+0
      0005  ASET     r3, a[]
              # c.stp:4: b[1, 2] = a[1]
      0006  MOVI     r2, 1
      0007  MOVI     r3, 2
      0008  MOVI     r4, 1
      0009  KCLR     16
      0010  KPUTI    r4, key+0
      0011  AGET     r5, a[]
      0012  KCLR     16
      0013  KPUTI    r2, key+0
      0014  KPUTI    r3, key+8
      0015  ASET     r5, b[]
              # c.stp:5: c["k"]++
      0016  MOVI     r2, 1
      0017  SCONST   s1, "k"
      0018  KCLR     16
      0019  KPUTS    s1, key+0
      0020  AADD     r3, r2, c[]
              # c.stp:6: d["k", 3] = "v"
      0021  SCONST   s1, "k"
      0022  MOVI     r2, 3
      0023  SCONST   s2, "v"
      0024  KCLR     16
      0025  KPUTS    s1, key+8
      0026  KPUTI    r2, key+0
      0027  ASETS    s2, d[]
              # c.stp:7: x = [1, 2] in b
      0028  MOVI     r2, 1
      0029  MOVI     r3, 2
      0030  KCLR     16
      0031  KPUTI    r2, key+0
      0032  KPUTI    r3, key+8
      0033  AIN      r4, b[]
      0034  MOV      r1, r4
              # c.stp:8: a[5] *= 2
      0035  MOVI     r2, 5
      0036  MOVI     r3, 2
      0037  KCLR     16
      0038  KPUTI    r2, key+0
      0039  AGET     r4, a[]
      0040  MUL      r5, r4, r3
      0041  KCLR     16
      0042  KPUTI    r2, key+0
      0043  ASET     r5, a[]
              # c.stp:2: probe begin {
      0044  ACT      6
      0045  HALT
      "
    `);
    expect(
      image('global a, b, c, d, e\nfunction f() { return "s" }\nprobe begin { a[1] = 2; b[1, 2] = 3; c["k"] = 4; d["k", 3] = "v"; e[f()] = 1 }').arrays,
    ).toEqual([
      { name: 'a', id: 0, cls: 0, keyTypes: ['long'], keyOffsets: [0], keyWidths: [8], valueType: 'long', maxEntries: 2048 },
      { name: 'b', id: 1, cls: 0, keyTypes: ['long', 'long'], keyOffsets: [0, 8], keyWidths: [8, 8], valueType: 'long', maxEntries: 2048 },
      { name: 'c', id: 2, cls: 0, keyTypes: ['string'], keyOffsets: [0], keyWidths: [2], valueType: 'long', maxEntries: 2048 },
      { name: 'd', id: 3, cls: 1, keyTypes: ['string', 'long'], keyOffsets: [8, 0], keyWidths: [2, 8], valueType: 'string', maxEntries: 2048 },
      { name: 'e', id: 4, cls: 6, keyTypes: ['string'], keyOffsets: [0], keyWidths: [128], valueType: 'long', maxEntries: 2048 },
    ]);
  });

  it('lays out long indices before strings, so that every key offset fits the one-byte k operand', () => {
    // fixed bug: [string, string, long] put the long at 256, which KPUTI's imm & 255 wrapped to 0
    const src = 'global w, x\nprobe begin {\n  w["a", "b", 1] = 1\n  x[1, "s", 2, 3] = 2\n}';
    // literal indices are bounded by their length: "a" takes 2 bytes, so w fits 16 and x 32
    expect(image(src).arrays.map((a) => [a.name, a.cls, a.keyOffsets, a.keyWidths])).toEqual([
      ['w', 0, [8, 10, 0], [2, 2, 8]],
      ['x', 2, [0, 24, 8, 16], [8, 2, 8, 8]],
    ]);
    // strings of unknown length take MAXSTRINGLEN: the long still sits below 256
    const wide = 'global w\nfunction s() { return "a" }\nprobe begin {\n  w[s(), s(), 1] = 1\n}';
    expect(image(wide).arrays.map((a) => [a.name, a.cls, a.keyOffsets, a.keyWidths])).toEqual([['w', 6, [8, 136, 0], [128, 128, 8]]]);
    expect(dis(src)).toMatchInlineSnapshot(`
      "probe begin:
              # c.stp:3: w["a", "b", 1] = 1
      0000  SCONST   s1, "a"
      0001  SCONST   s2, "b"
      0002  MOVI     r1, 1
      0003  MOVI     r2, 1
      0004  KCLR     16
      0005  KPUTS    s1, key+8
      0006  KPUTS    s2, key+10
      0007  KPUTI    r1, key+0
      0008  ASET     r2, w[]
              # c.stp:4: x[1, "s", 2, 3] = 2
      0009  MOVI     r1, 1
      0010  SCONST   s1, "s"
      0011  MOVI     r2, 2
      0012  MOVI     r3, 3
      0013  MOVI     r4, 2
      0014  KCLR     32
      0015  KPUTI    r1, key+0
      0016  KPUTS    s1, key+24
      0017  KPUTI    r2, key+8
      0018  KPUTI    r3, key+16
      0019  ASET     r4, x[]
              # c.stp:2: probe begin {
      0020  ACT      2
      0021  HALT
      "
    `);
  });

  it('delete of an element, a whole array, a local and globals', () => {
    expect(
      dis('global a, n, s\nprobe begin {\n  a[1] = 1; n = 1; s = "x"; l = 2\n  delete a[1]\n  delete a\n  delete l\n  delete n\n  delete s\n}'),
    ).toMatchInlineSnapshot(`
      "probe begin:
              # c.stp:3: a[1] = 1; n = 1; s = "x"; l = 2
      0000  MOVI     r1, 0
      0001  MOVI     r2, 1
      0002  MOVI     r3, 1
      0003  KCLR     16
      0004  KPUTI    r2, key+0
      0005  ASET     r3, a[]
      0006  MOVI     r2, 1
      0007  GST      r2, n
      0008  SCONST   s1, "x"
      0009  GSTS     s1, s
      0010  MOVI     r2, 2
      0011  MOV      r1, r2
              # c.stp:4: delete a[1]
      0012  MOVI     r2, 1
      0013  KCLR     16
      0014  KPUTI    r2, key+0
      0015  ADEL     a[]
              # c.stp:5: delete a
      0016  ACLR     a[]
              # c.stp:6: delete l
      0017  MOVI     r1, 0
              # c.stp:7: delete n
      0018  MOVI     r2, 0
      0019  GST      r2, n
              # c.stp:8: delete s
      0020  SCLR     s1
      0021  GSTS     s1, s
              # c.stp:2: probe begin {
      0022  ACT      9
      0023  HALT
      "
    `);
  });

  it('printf, print and println: one format per distinct text, values appended in order', () => {
    expect(
      dis('probe begin {\n  x = 1; s = "s"\n  printf("%d-%s\\n", x, s)\n  print(x, s)\n  println(s, 42)\n  printf("%d-%s\\n", 2, "t")\n}'),
    ).toMatchInlineSnapshot(`
      "probe begin:
              # c.stp:2: x = 1; s = "s"
      0000  MOVI     r1, 0
      0001  SCLR     s1
      0002  MOVI     r2, 1
      0003  MOV      r1, r2
      0004  SCONST   s2, "s"
      0005  SMOV     s1, s2
              # c.stp:3: printf("%d-%s\\n", x, s)
      0006  OBEGIN   "%d-%s\\n"
      0007  OINT     r1
      0008  OSTR     s1
      0009  OEND
              # c.stp:4: print(x, s)
      0010  OBEGIN   "%d%s"
      0011  OINT     r1
      0012  OSTR     s1
      0013  OEND
              # c.stp:5: println(s, 42)
      0014  MOVI     r2, 42
      0015  OBEGIN   "%s%d\\n"
      0016  OSTR     s1
      0017  OINT     r2
      0018  OEND
              # c.stp:6: printf("%d-%s\\n", 2, "t")
      0019  MOVI     r2, 2
      0020  SCONST   s2, "t"
      0021  OBEGIN   "%d-%s\\n"
      0022  OINT     r2
      0023  OSTR     s2
      0024  OEND
              # c.stp:1: probe begin {
      0025  ACT      6
      0026  HALT
      "
    `);
    expect(image('probe begin { printf("%d-%s\\n", 1, "a"); print(1, "a"); println("a", 1) }').formats).toEqual([
      { text: '%d-%s\n', args: ['long', 'string'] },
      { text: '%d%s', args: ['long', 'string'] },
      { text: '%s%d\n', args: ['string', 'long'] },
    ]);
  });

  it('function calls with long and string parameters and returns', () => {
    // join(n, sep, word): n is the callee's r1, sep s1, word s2; the caller puts them at
    // base+1 / sbase+1.. and reads the result back from base / sbase
    expect(
      dis(
        'function join(n, sep, word) {\n  return sep . word\n}\nfunction twice(n) {\n  return n * 2\n}\nprobe begin {\n  s = join(twice(3), "-", "w")\n  printf("%s %d\\n", s, twice(4))\n}',
      ),
    ).toMatchInlineSnapshot(`
      "probe begin:
              # c.stp:8: s = join(twice(3), "-", "w")
      0000  SCLR     s1
      0001  MOVI     r5, 3
      0002  MOV      r4, r5
      0003  CALL     r3, s5, 0026
      0004  MOV      r2, r3
      0005  SCONST   s5, "-"
      0006  SMOV     s3, s5
      0007  SCONST   s5, "w"
      0008  SMOV     s4, s5
      0009  CALL     r1, s2, 0020
      0010  SMOV     s1, s2
              # c.stp:9: printf("%s %d\\n", s, twice(4))
      0011  MOVI     r3, 4
      0012  MOV      r2, r3
      0013  CALL     r1, s2, 0026
      0014  OBEGIN   "%s %d\\n"
      0015  OSTR     s1
      0016  OINT     r1
      0017  OEND
              # c.stp:7: probe begin {
      0018  ACT      2
      0019  HALT

      function join:
              # c.stp:2: return sep . word
      0020  SCAT     s3, s1, s2
      0021  SMOV     s0, s3
      0022  ACT      1
      0023  RET
              # c.stp:1: function join(n, sep, word) {
      0024  SCLR     s0
      0025  RET

      function twice:
              # c.stp:5: return n * 2
      0026  MOVI     r2, 2
      0027  MUL      r3, r1, r2
      0028  MOV      r0, r3
      0029  ACT      1
      0030  RET
              # c.stp:4: function twice(n) {
      0031  MOVI     r0, 0
      0032  RET
      "
    `);
  });

  it('recursion, and a function without a return value', () => {
    expect(
      dis('function fib(n) {\n  if (n < 2) return n\n  return fib(n - 1) + fib(n - 2)\n}\nfunction show(x) {\n  println(x)\n}\nprobe begin {\n  show(fib(10))\n}'),
    ).toMatchInlineSnapshot(`
      "probe begin:
              # c.stp:9: show(fib(10))
      0000  MOVI     r5, 10
      0001  MOV      r4, r5
      0002  MOVI     r5, 1
      0003  CALL     r3, s2, 0009
      0004  MOV      r2, r3
      0005  MOVI     r3, 1
      0006  CALL     r1, s1, 0042
              # c.stp:8: probe begin {
      0007  ACT      1
      0008  HALT

      function fib:
              # c.stp:2: if (n < 2) return n
      0009  ACT      1
      0010  MOVI     r3, 2
      0011  LT       r4, r1, r3
      0012  JZ       r4, 0016
      0013  MOV      r0, r1
      0014  ACT      1
      0015  RET
              # c.stp:3: return fib(n - 1) + fib(n - 2)
      0016  MOVI     r5, 1
      0017  SUB      r6, r1, r5
      0018  MOV      r4, r6
      0019  ADDI     r5, r2, 1
              # c.stp:1: function fib(n) {
      0020  MOVI     r6, 10
      0021  GT       r6, r5, r6
      0022  JZ       r6, 0025
      0023  SCONST   s2, "MAXNESTING exceeded"
      0024  ERROR    s2
              # c.stp:3: return fib(n - 1) + fib(n - 2)
      0025  CALL     r3, s1, 0009
      0026  MOVI     r6, 2
      0027  SUB      r7, r1, r6
      0028  MOV      r5, r7
      0029  ADDI     r6, r2, 1
              # c.stp:1: function fib(n) {
      0030  MOVI     r7, 10
      0031  GT       r7, r6, r7
      0032  JZ       r7, 0035
      0033  SCONST   s3, "MAXNESTING exceeded"
      0034  ERROR    s3
              # c.stp:3: return fib(n - 1) + fib(n - 2)
      0035  CALL     r4, s2, 0009
      0036  ADD      r5, r3, r4
      0037  MOV      r0, r5
      0038  ACT      1
      0039  RET
              # c.stp:1: function fib(n) {
      0040  MOVI     r0, 0
      0041  RET

      function show:
              # c.stp:6: println(x)
      0042  OBEGIN   "%d\\n"
      0043  OINT     r1
      0044  OEND
              # c.stp:5: function show(x) {
      0045  ACT      1
      0046  RET
      "
    `);
  });

  it('foreach into globals, and printf of a local that a later argument changes', () => {
    // fixed bugs: a global foreach key/value is KGET/AGET into a temp then stored (it crashed);
    // printf's arguments are copied when a later one may change them (stap's temporaries)
    expect(dis('global k, v, a\nprobe begin {\n  a[1] = 10\n  foreach (v = [k] in a) { }\n  x = 0\n  printf("%d %d\\n", x, x++)\n}')).toMatchInlineSnapshot(`
      "probe begin:
              # c.stp:5: x = 0
      0000  MOVI     r1, 0
              # c.stp:3: a[1] = 10
      0001  MOVI     r2, 1
      0002  MOVI     r3, 10
      0003  KCLR     16
      0004  KPUTI    r2, key+0
      0005  ASET     r3, a[]
              # c.stp:4: foreach (v = [k] in a) { }
      0006  ITBEGIN  r2, a[]
      0007  ACT      2
      0008  ITNEXT   r2, 0015
      0009  KGETI    r3, key+0
      0010  GST      r3, k
      0011  AGET     r4, a[]
      0012  GST      r4, v
      0013  ACT      1
      0014  JMP      0008
      0015  ITEND    r2
              # c.stp:5: x = 0
      0016  MOVI     r2, 0
      0017  MOV      r1, r2
              # c.stp:6: printf("%d %d\\n", x, x++)
      0018  MOV      r2, r1
      0019  MOVI     r3, 1
      0020  MOV      r4, r1
      0021  ADD      r1, r1, r3
      0022  OBEGIN   "%d %d\\n"
      0023  OINT     r2
      0024  OINT     r4
      0025  OEND
              # c.stp:2: probe begin {
      0026  ACT      2
      0027  HALT
      "
    `);
  });

  it('slices: the fixed indices into the key, KMASK naming their bytes (one mask per pattern), then the slice instruction', () => {
    const text = dis(
      'global a, w%\nprobe begin {\n  a[1, "x"] = 1; w[2, 3] = 4\n  if ([*, "x"] in a) delete a[2, *]\n  foreach ([k, s] in a[k0, *]) delete w[*, 3]\n}',
    );
    const lines = text.split('\n').filter((l) => /KMASK|ASLIN|ASLDEL|ITSLICE|ITBEGIN|KPUT/.test(l)).map((l) => l.slice(6).trim());
    expect(lines.filter((l) => !l.startsWith('KPUT'))).toEqual([
      'KMASK    mask key+8..10', // the string index's column: "x" and its NUL
      'ASLIN    r3, a[]',
      'KMASK    mask key+0..8',
      'ASLDEL   a[]',
      'KMASK    mask key+0..8',
      'ITSLICE  r3, a[]',
      'KMASK    mask key+8..16',
      'ASLDEL   w[]',
      'KMASK    mask key+8..16',
      'ASLDEL   w.order[]',
    ]);
    // a mask is shared by the instructions using the same pattern
    const img = image('global a\nprobe begin { a[1, 2] = 1; print([1, *] in a); delete a[3, *] }');
    const masks = img.code.filter((c) => Number(c & 0xffn) === 142).map((c) => c >> 32n);
    expect(masks).toHaveLength(2);
    expect(masks[0]).toBe(masks[1]);
  });
});
