// Code generation and execution of stap's declarations and foreach sorting (issue 3): the
// bytecode (snapshots checked by hand against vm/isa.json), the image's ArrayInfo.maxEntries,
// and compiled begin probes run by the TypeScript interpreter on a MemoryBackend, with their
// exact output.
import { describe, expect, it } from 'vitest';
import { compileSource } from '../../src/compile/index';
import type { ProgramImage } from '../../src/image/image';
import { disassembleAll } from '../../src/isa/disasm';
import { ERR, LIMITS } from '../../src/isa/opcodes';
import { runScript } from './helpers';

/** the code generator's own output, before src/compile/optimize.ts */
function image(src: string): ProgramImage {
  return compileSource(src, 'c.stp', 3, undefined, {}, { optimize: false }).image!;
}

const dis = (src: string): string => disassembleAll(image(src));

/** Compiles src and runs its begin probes: the formatted output, the events, the results. */
const run = (src: string) => runScript(src, 'c.stp');

/** What `probe begin { <body> }` after `globals` prints; it must halt with no error. */
function output(globals: string, body: string): string {
  const r = run(`${globals}\nprobe begin {\n${body}\n}`);
  expect(r.results.map((x) => x.status)).toEqual(['halted']);
  expect(r.events.filter((e) => e.type === 'error')).toEqual([]);
  return r.out;
}

describe('code generation', () => {
  it('foreach sorted by an index and by the value: ITSORT right after ITBEGIN', () => {
    // imm = column | 0x100 for descending: key2- is 0x102, value+ is 0; the limit counter is
    // set before ITBEGIN as without sorting, and the loop jumps back to the limit test, never to
    // ITSORT (the iterator is sorted once)
    expect(
      dis('global m\nprobe begin {\n  m["a", 1] = 2\n  foreach ([s, n-] in m) print(n)\n  foreach (v = [s, n] in m+ limit 1) print(v)\n}'),
    ).toMatchInlineSnapshot(`
      "probe begin:
              # c.stp:4: foreach ([s, n-] in m) print(n)
      0000  SCLR     s1
      0001  MOVI     r1, 0
              # c.stp:5: foreach (v = [s, n] in m+ limit 1) print(v)
      0002  MOVI     r2, 0
              # c.stp:3: m["a", 1] = 2
      0003  SCONST   s2, "a"
      0004  MOVI     r3, 1
      0005  MOVI     r4, 2
      0006  KCLR     16
      0007  KPUTS    s2, key+8
      0008  KPUTI    r3, key+0
      0009  ASET     r4, m[]
              # c.stp:4: foreach ([s, n-] in m) print(n)
      0010  ITBEGIN  r3, m[]
      0011  ITSORT   r3, key2-
      0012  ACT      2
      0013  ITNEXT   r3, 0021
      0014  KGETS    s1, key+8
      0015  KGETI    r1, key+0
      0016  OBEGIN   "%d"
      0017  OINT     r1
      0018  OEND
      0019  ACT      2
      0020  JMP      0013
      0021  ITEND    r3
              # c.stp:5: foreach (v = [s, n] in m+ limit 1) print(v)
      0022  MOVI     r4, 1
      0023  MOVI     r5, 0
      0024  ITBEGIN  r3, m[]
      0025  ITSORT   r3, value+
      0026  ACT      1
      0027  GE       r6, r5, r4
      0028  JNZ      r6, 0039
      0029  ADDI     r5, r5, 1
      0030  ITNEXT   r3, 0039
      0031  KGETS    s1, key+8
      0032  KGETI    r1, key+0
      0033  AGET     r2, m[]
      0034  OBEGIN   "%d"
      0035  OINT     r2
      0036  OEND
      0037  ACT      2
      0038  JMP      0027
      0039  ITEND    r3
              # c.stp:2: probe begin {
      0040  HALT
      "
    `);
  });

  it('typed functions compile as inferred ones: parameters by declared type, default result', () => {
    // f's frame: r0/s0 result, then the long parameter n (r1) and the string s (s1); a string
    // function that falls off its end returns "" (SCLR s0)
    expect(dis('function f:string (n:long, s) { if (n) return s }\nprobe begin { print(f(1, "x")) }')).toMatchInlineSnapshot(`
      "probe begin:
              # c.stp:2: probe begin { print(f(1, "x")) }
      0000  MOVI     r3, 1
      0001  MOV      r2, r3
      0002  SCONST   s3, "x"
      0003  SMOV     s2, s3
      0004  CALL     r1, s1, 0010
      0005  OBEGIN   "%s"
      0006  OSTR     s1
      0007  OEND
      0008  ACT      1
      0009  HALT

      function f:
              # c.stp:1: function f:string (n:long, s) { if (n) return s }
      0010  ACT      1
      0011  JZ       r1, 0015
      0012  SMOV     s0, s1
      0013  ACT      1
      0014  RET
      0015  SCLR     s0
      0016  RET
      "
    `);
  });

  it('global a[N] gives the array maxEntries N; others keep MAXMAPENTRIES; an unused one is elided', () => {
    const img = image('global a[10], b, u[3], n\nprobe begin { a[1] = 1; b["x"] = "y"; n = 1; delete u; delete a }');
    expect(img.arrays.map((a) => [a.name, a.maxEntries])).toEqual([
      ['a', 10],
      ['b', LIMITS.MAXMAPENTRIES],
    ]);
    expect(img.globals.map((g) => g.name)).toEqual(['n']);
    // `delete u` compiles to nothing, `delete a` to ACLR
    expect(disassembleAll(img)).toMatchInlineSnapshot(`
      "probe begin:
              # c.stp:2: probe begin { a[1] = 1; b["x"] = "y"; n = 1; delete u; delete a }
      0000  MOVI     r1, 1
      0001  MOVI     r2, 1
      0002  KCLR     16
      0003  KPUTI    r1, key+0
      0004  ASET     r2, a[]
      0005  SCONST   s1, "x"
      0006  SCONST   s2, "y"
      0007  KCLR     16
      0008  KPUTS    s1, key+0
      0009  ASETS    s2, b[]
      0010  MOVI     r1, 1
      0011  GST      r1, n
      0012  ACLR     a[]
      0013  ACT      5
      0014  HALT
      "
    `);
  });

  it('private globals and functions compile as the others', () => {
    expect(output('private global p = 4; private q\nprivate function g:long (z) { return z * p }', 'q = g(2); println(q)')).toBe('8\n');
  });
});

describe('foreach sorting (TS interpreter)', () => {
  const NUMS = 'global a\n';
  const fill = 'a[3] = 30; a[1] = 10; a[-2] = 20; a[10] = 10; a[-9223372036854775808] = 0; a[9223372036854775807] = 5';

  it('sorts numeric keys numerically (signed), ascending and descending', () => {
    expect(output(NUMS, `${fill}\nforeach (k+ in a) printf("%d ", k)`)).toBe('-9223372036854775808 -2 1 3 10 9223372036854775807 ');
    expect(output(NUMS, `${fill}\nforeach (k- in a) printf("%d ", k)`)).toBe('9223372036854775807 10 3 1 -2 -9223372036854775808 ');
  });

  it('without a directive keeps the map order (insertion order in the MemoryBackend)', () => {
    expect(output(NUMS, `${fill}\nforeach (k in a) printf("%d ", k)`)).toBe('3 1 -2 10 -9223372036854775808 9223372036854775807 ');
  });

  it('sorts by the value; ties keep the map order in both directions (stable, as stap)', () => {
    expect(output(NUMS, `${fill}\nforeach (k in a+) printf("%d=%d ", k, a[k])`)).toBe(
      '-9223372036854775808=0 9223372036854775807=5 1=10 10=10 -2=20 3=30 ',
    );
    expect(output(NUMS, `${fill}\nforeach (v = k in a-) printf("%d=%d ", k, v)`)).toBe(
      '3=30 -2=20 1=10 10=10 9223372036854775807=5 -9223372036854775808=0 ',
    );
    expect(output(NUMS, `${fill}\nforeach (v- = [k] in a) printf("%d ", v)`)).toBe('30 20 10 10 5 0 ');
  });

  it('takes the first N of the sorted order with limit', () => {
    expect(output(NUMS, `${fill}\nforeach (k in a- limit 2) printf("%d ", k)`)).toBe('3 -2 ');
    expect(output(NUMS, `${fill}\nforeach (k+ in a limit 3) printf("%d ", k)`)).toBe('-9223372036854775808 -2 1 ');
    expect(output(NUMS, `${fill}\nn = 0\nforeach (k+ in a limit n) printf("%d ", k)\nprintln("|")`)).toBe('|\n');
  });

  it('sorts strings bytewise: uppercase before lowercase, a prefix first, UTF-8 after ASCII', () => {
    const s = 's["b"] = 1; s["ab"] = 2; s["a"] = 3; s["B"] = 4; s["é"] = 5; s[""] = 6; s["a b"] = 7';
    expect(output('global s', `${s}\nforeach (k+ in s) printf("[%s]", k)`)).toBe('[][B][a][a b][ab][b][é]');
    expect(output('global s', `${s}\nforeach (k- in s) printf("[%s]", k)`)).toBe('[é][b][ab][a b][a][B][]');
  });

  it('sorts string values; ties keep the map order', () => {
    const t = 't[1] = "y"; t[2] = "x"; t[3] = "y"; t[4] = "Y"; t[5] = "xx"';
    expect(output('global t', `${t}\nforeach (v = k in t+) printf("%d%s ", k, v)`)).toBe('4Y 2x 5xx 1y 3y ');
    expect(output('global t', `${t}\nforeach (v = k in t-) printf("%d%s ", k, v)`)).toBe('1y 3y 5xx 2x 4Y ');
  });

  it('sorts a 2-index array by either index (strings, longs), value bound too', () => {
    const m = 'm["b", 2] = 20; m["a", 3] = 30; m["c", 1] = 10; m["a", 1] = 40';
    expect(output('global m', `${m}\nforeach ([s+, n] in m) printf("%s%d ", s, n)`)).toBe('a3 a1 b2 c1 ');
    expect(output('global m', `${m}\nforeach ([s, n-] in m) printf("%s%d ", s, n)`)).toBe('a3 b2 c1 a1 ');
    expect(output('global m', `${m}\nforeach (v = [s, n+] in m) printf("%s%d=%d ", s, n, v)`)).toBe('c1=10 a1=40 b2=20 a3=30 ');
    expect(output('global m', `${m}\nforeach ([s, n] in m-) printf("%s%d ", s, n)`)).toBe('a1 a3 b2 c1 ');
  });

  it('break, continue and nested sorted loops; sorting an empty array does nothing', () => {
    expect(
      output(
        'global a, e',
        [
          'for (i = 1; i <= 5; i++) a[i] = i * i',
          'foreach (k- in a) { if (k == 4) continue; if (k == 2) break; printf("%d ", k) }',
          'foreach (x+ in a limit 2) foreach (y- in a limit 2) printf("%d%d ", x, y)',
          'foreach (z+ in e) printf("never")',
          'e[1] = 1; delete e[1]',
          'foreach (z in e-) printf("never")',
        ].join('\n'),
      ),
    ).toBe('5 3 15 14 25 24 ');
  });

  it('sorts a snapshot: the body deleting the whole array (all stap allows) changes neither order nor keys', () => {
    expect(output('global a', 'a[2] = 1; a[1] = 2; a[3] = 3\nforeach (k+ in a) { delete a; printf("%d %d, ", k, k in a) }')).toBe('1 0, 2 0, 3 0, ');
  });
});

describe('sized arrays (TS interpreter)', () => {
  it('a full global a[N] refuses a new key (OVERFLOW) but still updates existing ones', () => {
    const r = run('global a[2]\nprobe begin {\n  a[1] = 1; a[2] = 2; a[1] = 10; a[2]++\n  printf("%d %d\\n", a[1], a[2])\n  a[3] = 3\n  print("not reached")\n}');
    expect(r.out).toBe('10 3\n');
    expect(r.results.map((x) => x.status)).toEqual(['error']);
    expect(r.events.filter((e) => e.type === 'error').map((e) => (e as { code: number }).code)).toEqual([ERR.OVERFLOW]);
  });

  it('deleting frees room in a full array', () => {
    expect(output('global a[2]', 'a[1] = 1; a[2] = 2; delete a[1]; a[3] = 3\nforeach (k+ in a) printf("%d ", k)')).toBe('2 3 ');
  });
});

describe('typed functions (TS interpreter)', () => {
  it('run with their declared types', () => {
    expect(
      output(
        'function f:string (n:long, s) { if (n) return s . "!" }\nfunction g:long () { }\nfunction h(a:long, b:string) { printf("%d%s ", a, b) }',
        'h(g(), f(1, "x")); println(f(0, "y") . "|")',
      ),
    ).toBe('0x! |\n');
  });
});
