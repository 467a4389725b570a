// Compiled scripts run by the TypeScript interpreter on a MemoryBackend: each test compiles a
// script, runs its begin probes (then its end probes) with runHandler, and checks the exact text
// printed, formatted as the runtime does (formatValues of the event's format).
import { describe, expect, it } from 'vitest';
import { ERR } from '../../src/isa/opcodes';
import { runScript, type Ran } from './helpers';

/** Compiles src and runs its begin probes, then (with `end`) its end probes, in order. */
const run = (src: string, opts: { end?: boolean; maxAction?: number } = {}): Ran => runScript(src, 'e.stp', opts);

/** What a script prints; its handlers must all halt normally, with no error event. */
function output(src: string, opts: { end?: boolean } = {}): string {
  const r = run(src, opts);
  expect(r.results.map((x) => x.status)).toEqual(r.results.map(() => 'halted'));
  expect(r.events.filter((e) => e.type === 'error')).toEqual([]);
  return r.out;
}

/** output() of `probe begin { <body> }` */
const begin = (body: string): string => output(`probe begin {\n${body}\n}`);

describe('expressions', () => {
  it('follows stap precedence and associativity', () => {
    expect(
      begin(
        'printf("%d %d %d %d %d %d\\n", 1 + 2 * 3, (1 + 2) * 3, 10 - 4 - 3, 2 * 3 % 4, 1 << 2 + 1, 100 / 10 / 5)\n' +
          'printf("%d %d %d %d\\n", 7 & 3 | 8, 1 | 2 ^ 3, 5 ^ 1 & 3, -2 * -3)\n' +
          'printf("%d %d %d %d\\n", 1 < 2 == 1, 3 > 2 > 1, !0 + !5 + ~0, 1 + 2 < 4 && 2 || 0)',
      ),
    ).toBe('7 9 3 2 8 2\n11 1 4 6\n1 0 0 1\n');
  });

  it('wraps on 64-bit overflow', () => {
    expect(
      begin('x = 9223372036854775807; y = x + 1\nprintf("%d %d %d %d %d\\n", x, y, -y, x * 2, y - 1)'),
    ).toBe('9223372036854775807 -9223372036854775808 -9223372036854775808 -2 9223372036854775807\n');
  });

  it('loads 64-bit constants (MOVHI) exactly', () => {
    expect(
      begin('printf("%d %d %d %d %d %x\\n", 2147483648, 4294967295, 5000000000, 0xffffffffffffffff, 0x8000000000000000, 0xffffffff00000000)'),
    ).toBe('2147483648 4294967295 5000000000 -1 -9223372036854775808 ffffffff00000000\n');
  });

  it('divides and takes the modulo of negatives as C does (truncating, sign of the dividend)', () => {
    expect(begin('printf("%d %d %d %d %d %d\\n", -7 / 2, 7 / -2, -7 / -2, -7 % 2, 7 % -2, -7 % -2)')).toBe('-3 -3 3 -1 1 -1\n');
    // INT64_MIN / -1 is INT64_MIN in the kernel (no trap), and the modulo 0
    expect(begin('x = -9223372036854775807 - 1\nprintf("%d %d\\n", x / -1, x % -1)')).toBe('-9223372036854775808 0\n');
  });

  it('shifts: the count taken modulo 64, >> arithmetic', () => {
    expect(begin('printf("%d %d %d %d %d %d\\n", 1 << 63, -16 >> 2, 1 << 64, 1 << 65, -1 >> 63, 5 >> -63)')).toBe(
      '-9223372036854775808 -4 1 2 -1 2\n',
    );
  });

  it('concatenates strings, truncating at 127 bytes', () => {
    expect(begin('a = "abc"; b = a . "def" . "g"\nprint(b . "\\n")')).toBe('abcdefg\n');
    const r = begin('s = "0123456789"; t = ""\nfor (i = 0; i < 14; i++) t = t . s\nprintf("%d %s|\\n", i, t)');
    expect(r).toBe(`14 ${'0123456789'.repeat(12)}0123456|\n`);
    // a literal longer than 127 bytes is cut the same way, and so is .=
    expect(begin(`s = "${'x'.repeat(130)}"\nt = "ab"\nt .= s\nprintf("%s|%s|\\n", s, t)`)).toBe(
      `${'x'.repeat(127)}|ab${'x'.repeat(125)}|\n`,
    );
  });

  it('compares strings bytewise', () => {
    expect(
      begin('printf("%d%d%d%d%d%d%d\\n", "a" < "b", "abc" == "abc", "b" > "abc", "" < "a", "ab" <= "a", "x" != "y", "\\xff" > "a")'),
    ).toBe('1111011\n');
    expect(begin('s = "abc"; t = "ab" . "c"\nif (s == t) print("eq\\n") else print("ne\\n")')).toBe('eq\n');
  });

  it('appends with .= to locals, globals and array elements', () => {
    expect(
      output('global s, t\nprobe begin {\n  s = "a"; s .= "b"; t["x"] = "c"; t["x"] .= "d"; l = "e"; l .= "f"; l .= l\n  printf("%s %s %s\\n", s, t["x"], l)\n}'),
    ).toBe('ab cd efef\n');
  });

  it('gives pre/post increment and decrement their values, on locals, globals and elements', () => {
    expect(
      output(
        [
          'global g, m',
          'probe begin {',
          '  x = 5; a = x++; b = ++x; c = x--; d = --x',
          '  printf("%d %d %d %d %d\\n", a, b, c, d, x)',
          '  e = g++; f = ++g; h = g--; i = --g',
          '  printf("%d %d %d %d %d\\n", e, f, h, i, g)',
          '  j = m[1]++; k = ++m[1]; l = m[1]--; n = --m[1]',
          '  printf("%d %d %d %d %d\\n", j, k, l, n, m[1])',
          '}',
        ].join('\n'),
      ),
    ).toBe('5 7 7 5 5\n0 2 2 0 0\n0 2 2 0 0\n');
  });

  it('compound assignments on locals, globals and array elements, and their values', () => {
    const ops = (v: string) =>
      `${v} = 10; ${v} += 5; ${v} -= 3; ${v} *= 2; ${v} /= 5; ${v} %= 3; ${v} <<= 4; ${v} >>= 1; ${v} |= 1; ${v} &= 13; ${v} ^= 6`;
    expect(
      output(
        `global g, m\nprobe begin {\n  ${ops('x')}\n  ${ops('g')}\n  ${ops('m["k"]')}\n  printf("%d %d %d\\n", x, g, m["k"])\n` +
          '  y = (x += 2); z = (g -= 7); w = (m["k"] += 4); v = (x *= 2)\n  printf("%d %d %d %d %d\\n", y, z, w, v, x)\n}',
      ),
    ).toBe('15 15 15\n17 8 19 34 34\n');
  });

  it('short-circuits && and || (0/1 results, right side not evaluated)', () => {
    expect(
      output(
        [
          'global cnt',
          'function inc() { cnt++; return 5 }',
          'probe begin {',
          '  a = 0 && inc(); b = 1 || inc(); c = 2 && inc(); d = 0 || inc(); e = 0 || 0',
          '  printf("%d %d %d %d %d %d\\n", a, b, c, d, e, cnt)',
          '}',
        ].join('\n'),
      ),
    ).toBe('0 1 1 1 0 2\n');
  });

  it('evaluates ?: lazily, nested and with strings', () => {
    expect(
      output(
        [
          'global cnt',
          'function side(v) { cnt++; return v }',
          'function sign(n) { return n > 0 ? "pos" : n < 0 ? "neg" : "zero" }',
          'probe begin {',
          '  x = 5',
          '  printf("%s %d %d ", x > 3 ? "big" : "small", x < 3 ? 1 : x == 5 ? 2 : 3, (x ? 10 : 20) + 1)',
          '  printf("%s %s %s %d %d\\n", sign(1), sign(-1), sign(0), 1 ? side(7) : side(8), cnt)',
          '}',
        ].join('\n'),
      ),
    ).toBe('big 2 11 pos neg zero 7 1\n');
  });

  it('evaluates printf arguments in order, each at its value then (fixed bug)', () => {
    // stap copies every argument into a temporary: a later x++ does not change an earlier x
    expect(begin('x = 0\nprintf("%d %d\\n", x, x++)\ny = 0\nprintf("%d %d %d\\n", ++y, ++y, y)\nprint(y, y = 7, "\\n")')).toBe(
      '0 0\n1 2 2\n27\n',
    );
  });
});

describe('statements', () => {
  it('if / else if / else, and a dangling else binding to the inner if', () => {
    expect(
      begin(
        'for (x = 0; x < 4; x++) { if (x == 1) print("one ") else if (x == 2) print("two ") else print("many ") }\n' +
          'if (1) if (0) print("a"); else print("b")\nprint("\\n")',
      ),
    ).toBe('many one two many b\n');
  });

  it('for and while loops with break and continue, nested', () => {
    expect(begin('s = 0\nfor (i = 0; i < 10; i++) { if (i == 2) continue; if (i == 6) break; s += i }\nprintf("%d %d\\n", s, i)')).toBe(
      '13 6\n',
    );
    expect(
      begin('i = 0; s = 0\nwhile (1) { i++; if (i % 2) continue; if (i > 8) break; s = s * 10 + i }\nprintf("%d %d\\n", s, i)'),
    ).toBe('2468 10\n');
    expect(
      begin(
        'n = 0\nfor (;;) { n++; if (n == 3) break }\n' +
          'for (i = 0; i < 3; i++) for (j = 0; j < 3; j++) { if (j == 1) continue; if (i == 1) break; printf("%d%d ", i, j) }\n' +
          'printf("%d\\n", n)',
      ),
    ).toBe('00 02 20 22 3\n');
  });

  it('next ends the handler', () => {
    expect(begin('print("a")\nif (1) next\nprint("b")')).toBe('a');
  });

  it('foreach over a 2-index array, binding keys and value', () => {
    expect(
      output(
        'global m\nprobe begin {\n  m["a", 1] = 10; m["b", 2] = 20; m["a", 3] = 30\n  foreach (v = [s, n] in m) printf("%s %d %d\\n", s, n, v)\n}',
      ),
    ).toBe('a 1 10\nb 2 20\na 3 30\n');
  });

  it('foreach with limit, break and continue, nested, and keys read back through the array', () => {
    expect(
      output(
        [
          'global m, w',
          'probe begin {',
          '  for (i = 0; i < 5; i++) m[i] = i * i',
          '  n = 0; foreach (k in m limit 3) n++',
          '  foreach (k in m) { if (k == 1) continue; if (k == 3) break; printf("%d=%d ", k, m[k]) }',
          '  w["x"] = 1; w["y"] = 2',
          '  foreach (i in m limit 2) foreach (s in w) { if (s == "y") break; printf("%d%s ", i, s) }',
          '  printf("%d\\n", n)',
          '}',
        ].join('\n'),
      ),
    ).toBe('0=0 2=4 0x 1x 3\n');
  });

  it('evaluates a foreach limit once (fixed bug: a local limit changed by the body was re-read)', () => {
    expect(
      output('global m\nprobe begin {\n  for (i = 0; i < 5; i++) m[i] = i\n  n = 2; c = 0\n  foreach (k in m limit n) { n = 100; c++ }\n  printf("%d %d\\n", c, n)\n}'),
    ).toBe('2 100\n');
  });

  it('foreach can bind globals as key and value (fixed bug: it crashed the code generator)', () => {
    expect(output('global k, v, a\nprobe begin {\n  a[7] = 70; a[8] = 80\n  foreach (v = [k] in a) { }\n  printf("%d %d\\n", k, v)\n}')).toBe(
      '8 80\n',
    );
  });

  it('`in`, and delete of an element, a whole array, locals and globals', () => {
    expect(
      output(
        [
          'global m, n, s',
          'probe begin {',
          '  m[1] = 1; m[2] = 2',
          '  printf("%d %d %d ", 1 in m, 3 in m, [2] in m)',
          '  delete m[1]; printf("%d %d ", 1 in m, 2 in m)',
          '  delete m; printf("%d %d\\n", 2 in m, m[2])',
          '  n = 5; s = "x"; l = 4; t = "y"',
          '  delete n; delete s; delete l; delete t',
          '  printf("%d [%s] %d [%s]\\n", n, s, l, t)',
          '}',
        ].join('\n'),
      ),
    ).toBe('1 0 1 0 1 0 0\n0 [] 0 []\n');
  });

  it('arrays with string values, missing elements read as 0 / ""', () => {
    expect(
      output('global m, c\nprobe begin {\n  m["a"] = "x"; m["b"] = m["a"] . "y"\n  printf("%s %s [%s] %d %d\\n", m["a"], m["b"], m["c"], c[1, "z"], [1, "z"] in c)\n}'),
    ).toBe('x xy [] 0 0\n');
  });

  it('keeps apart keys whose long index follows two strings (fixed bug: it wrapped to offset 0)', () => {
    expect(
      output(
        'global a3\nprobe begin {\n  a3["x", "y", 1] = 10; a3["z", "y", 1] = 20; a3["x", "y", 2] = 30\n' +
          '  printf("%d %d %d %d\\n", a3["x", "y", 1], a3["z", "y", 1], a3["x", "y", 2], ["q", "y", 1] in a3)\n' +
          '  foreach ([p, q, n] in a3) printf("%s%s%d ", p, q, n)\n}',
      ),
    ).toBe('10 20 30 0\nxy1 zy1 xy2 ');
  });

  it('globals keep their values from begin to end, starting at their initializers', () => {
    expect(
      output('global g1 = 42, g2 = "hi", cnt\nprobe begin { cnt += g1; g2 .= "!" }\nprobe end { printf("%d %s %d\\n", g1, g2, cnt) }', {
        end: true,
      }),
    ).toBe('42 hi! 42\n');
  });
});

describe('functions', () => {
  it('nested calls with long and string parameters and results', () => {
    expect(
      output(
        [
          'function sq(x) { return x * x }',
          'function tag(n, who) { return who . ":" . who }',
          'function both(a, s, b) { printf("%d %s %d\\n", a, s, b); return a + b }',
          'probe begin { printf("%d\\n", both(sq(3), tag(1, "x"), sq(sq(2)))) }',
        ].join('\n'),
      ),
    ).toBe('9 x:x 16\n25\n');
  });

  it('passes arguments by value and keeps the caller\'s temporaries across a call', () => {
    expect(
      output(
        [
          'function f(n, s) { n = n + 1; s .= "!"; return n }',
          'function g(s) { return s . s }',
          'probe begin {',
          '  x = 1; y = "hi"',
          '  z = 100 + f(x, y) * 10',
          '  printf("%d %s %d %s\\n", x, y, z, "<" . g(y) . ">")',
          '}',
        ].join('\n'),
      ),
    ).toBe('1 hi 120 <hihi>\n');
  });

  it('recursion: fib(10), and a string built recursively', () => {
    expect(
      output(
        [
          'function fib(n) { if (n < 2) return n; return fib(n - 1) + fib(n - 2) }',
          'function rep(s, n) { if (n == 0) return ""; return s . rep(s, n - 1) }',
          'probe begin { printf("%d %s\\n", fib(10), rep("ab", 4)) }',
        ].join('\n'),
      ),
    ).toBe('55 abababab\n');
  });

  it('a function without return value, and one that falls off its end returns 0 / ""', () => {
    expect(
      output(
        [
          'global g',
          'function setg(v) { g = v }',
          'function maybe(n) { if (n) return n * 2 }',
          'function smaybe(n) { if (n) return "yes" }',
          'probe begin { setg(3); printf("%d %d %d [%s] [%s]\\n", g, maybe(4), maybe(0), smaybe(1), smaybe(0)) }',
        ].join('\n'),
      ),
    ).toBe('3 8 0 [yes] []\n');
  });

  it('return from inside loops', () => {
    expect(
      output(
        [
          'global a',
          'function find(x) { for (i = 0; ; i++) { while (1) { if (i == x) return i * 10; break } } }',
          'function first() { foreach (k in a) return k; return -1 }',
          'probe begin { a[42] = 1; printf("%d %d\\n", find(3), first()) }',
        ].join('\n'),
      ),
    ).toBe('30 42\n');
  });
});

describe('output and builtins', () => {
  it('printf conversions, print and println', () => {
    expect(
      begin('printf("%5d|%-5s|%x|%c|%%|%*d\\n", 42, "ab", 255, 65, 4, 7)\nprint(1, "a", 2)\nprintln("b", 3)\nprintln("")\nprint("\\n")'),
    ).toBe('   42|ab   |ff|A|%|   7\n1a2b3\n\n\n');
  });

  it('context builtins and pp()', () => {
    expect(output('probe begin { printf("%d %d %d %s %s %d\\n", pid(), tid(), cpu(), execname(), pp(), gettimeofday_s()) }')).toBe(
      '4242 4243 3 stapio begin 1700000000\n',
    );
  });

  it('exit() sends an exit event and the handler goes on', () => {
    const r = run('probe begin { print("a"); exit(); print("b") }');
    expect(r.out).toBe('ab');
    expect(r.events.map((e) => e.type)).toEqual(['print', 'exit', 'print']);
    expect(r.results[0].status).toBe('halted');
  });

  it('error() ends the handler with a USER error carrying the message', () => {
    const r = run('probe begin { print("a"); error("bo" . "om"); print("b") }');
    expect(r.out).toBe('a');
    expect(r.results[0].status).toBe('error');
    expect(r.events.at(-1)).toMatchObject({ type: 'error', code: ERR.USER, message: 'boom' });
  });
});

describe('run-time errors', () => {
  it('division by zero is a DIV0 error at the division, mapped back to the / operator', () => {
    const src = 'probe begin {\n  x = 10; y = 0\n  z = x / y\n  print("not reached")\n}';
    const r = run(src);
    expect(r.out).toBe('');
    expect(r.results[0].status).toBe('error');
    const errs = r.events.filter((e) => e.type === 'error');
    expect(errs).toEqual([{ type: 'error', code: ERR.DIV0, pc: expect.any(Number) }]);
    const at = r.img.sourceMap[errs[0].pc]!;
    expect(at.near).toBe("operator '/'");
    expect(at.loc).toMatchObject({ file: 'e.stp', line: 3 });
  });

  // stap names the operator token (col 9), not the left operand (col 7)
  it('division by zero: the location is the column of the / itself, as stap reports it', () => {
    const r = run('probe begin {\n  x = 10; y = 0\n  z = x / y\n}');
    const err = r.events.find((e) => e.type === 'error')!;
    expect(r.img.sourceMap[err.pc]!.loc).toMatchObject({ line: 3, col: 9 });
  });

  it('modulo by zero too, inside a function', () => {
    const r = run('function f(a, b) {\n  return a % b\n}\nprobe begin { print(f(1, 0)) }');
    const err = r.events.find((e) => e.type === 'error')!;
    expect(err).toMatchObject({ code: ERR.DIV0 });
    expect(r.img.sourceMap[err.pc]).toMatchObject({ near: "operator '%'", loc: { line: 2 } });
  });

  it('a runaway loop ends with status maxaction', () => {
    const r = run('probe begin { while (1) {} }', { maxAction: 1000 });
    // stap charges 1 before the loop, then 1 per iteration (the empty body's block end)
    expect(r.results[0]).toMatchObject({ status: 'maxaction' });
    expect(r.events).toEqual([{ type: 'error', code: ERR.MAXACTION, pc: expect.any(Number) }]);
  });

  it('recursion deeper than stap\'s default MAXNESTING (10 nested calls) is stap\'s USER error', () => {
    const r = run('function d(n) { return n == 0 ? 0 : 1 + d(n - 1) }\nprobe begin { printf("%d\\n", d(9)); printf("%d\\n", d(100)) }');
    expect(r.out).toBe('9\n');
    expect(r.events.at(-1)).toMatchObject({ type: 'error', code: ERR.USER, message: 'MAXNESTING exceeded' });
  });
});
