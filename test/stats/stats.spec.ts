// Statistics (issue 4): the grammar and -p1, the resolver's rules (globals only, never a value,
// one histogram kind), the arithmetic against stap's integer formulas, and the exact text of
// @hist_log / @hist_linear and of the at-exit display, through the real CLI (begin probes run
// in the TypeScript interpreter over the session's per-CPU maps).
import { describe, expect, it } from 'vitest';
import { parseScript } from '../../src/parse/index';
import { printScript } from '../../src/parse/print';
import { compileSource } from '../../src/compile/index';
import { DiagnosticError } from '../../src/diag/diagnostic';
import { disassembleAll } from '../../src/isa/disasm';
import { aggregate, logBucket, statAdd, readStatVal, HIST, type StatDesc } from '../../src/vm/stats';
import { formatHistogram } from '../../src/output/histogram';
import { runScript } from '../compile/helpers';
import { kernelTestsPossible, runTapvmSync } from '../kernel/helpers';

function diags(src: string): string[] {
  try {
    compileSource(src, 'r.stp', 3);
    return [];
  } catch (e) {
    if (!(e instanceof DiagnosticError)) throw e;
    return e.diagnostics.map((d) => `${d.loc?.line}:${d.loc?.col} ${d.message}`);
  }
}

describe('statistics: grammar', () => {
  it('parses <<<, the extractors, histograms, bucket indexing and aggregate sorting, and prints them back', () => {
    const src =
      'global x, a\nprobe begin {\n' +
      '  x <<< 1 + 2\n  a[1, "k"] <<< 3\n' +
      '  printf("%d %d\\n", @count(x), @avg(a[1, "k"]))\n' +
      '  print(@hist_log(x))\n  println(@hist_linear(a[1, "k"], 0, 100, 10))\n' +
      '  y = @hist_log(x)[3] + @variance(x, 2)\n' +
      '  foreach ([k, s] in a @sum- limit 5) delete a[k, s]\n' +
      '  if ([1, "k"] in a) delete x\n}\n';
    const text = printScript(parseScript(src, 'p.stp'));
    expect(text).toContain('x <<< 1 + 2;');
    expect(text).toContain('a[1, "k"] <<< 3;');
    expect(text).toContain('printf("%d %d\\n", @count(x), @avg(a[1, "k"]));');
    expect(text).toContain('print(@hist_log(x));');
    expect(text).toContain('println(@hist_linear(a[1, "k"], 0, 100, 10));');
    expect(text).toContain('y = @hist_log(x)[3] + @variance(x, 2);');
    expect(text).toContain('foreach ([k, s] in a @sum- limit 5)');
    // printing back gives the same tree
    expect(printScript(parseScript(text, 'p.stp'))).toBe(text);
  });

  it('parses a foreach over a histogram (value, sort, limit) and prints it back; refuses other operands', () => {
    const src =
      'global x, a\nprobe begin {\n' +
      '  foreach (b in @hist_log(x)) print(b)\n' +
      '  foreach (v = [b-] in @hist_linear(a[1, "k"], 0, 100, 10) limit 3) print(v)\n}\n';
    const text = printScript(parseScript(src, 'p.stp'));
    expect(text).toContain('foreach (b in @hist_log(x)) print(b);');
    expect(text).toContain('foreach (v = [b-] in @hist_linear(a[1, "k"], 0, 100, 10) limit 3) print(v);');
    expect(printScript(parseScript(text, 'p.stp'))).toBe(text);
    // stap's parse_indexable takes an array's name or a histogram, without [i] or a slice
    expect(diags('global x\nprobe begin { x <<< 1; foreach (b in @count(x)) print(b) }')).toEqual(["2:38 expected ')'"]);
    expect(diags('global x\nprobe begin { x <<< 1; foreach (b in @hist_log(x)[1]) print(b) }')).toEqual(["2:38 expected ')'"]);
  });

  it('keeps << and < apart from <<<', () => {
    const text = printScript(parseScript('probe begin { x = 1 << 2; y = x < 3 }', 'p.stp'));
    expect(text).toContain('x = 1 << 2;');
    expect(text).toContain('y = x < 3;');
  });

  it('rejects histogram parameters of the wrong shape', () => {
    expect(diags('global x\nprobe begin { x <<< 1; print(@hist_log(x, 3)) }')[0]).toMatch(/@hist_log takes no parameters/);
    expect(diags('global x\nprobe begin { x <<< 1; print(@hist_linear(x, 3)) }')[0]).toMatch(/three parameters/);
    expect(diags('global x\nprobe begin { x <<< 1; print(@count(x)[1]) }')[0]).toMatch(/only histograms can be indexed/);
  });
});

describe('statistics: resolve', () => {
  it('accepts statistics on scalars and array elements in user and kernel probes', () => {
    expect(
      diags('global s, c\nprobe syscall.getppid { c[pid(), execname()] <<< pid(); s <<< 1 }\nprobe end { printf("%d\\n", @count(s)); print(@hist_log(s)) }'),
    ).toEqual([]);
  });

  it('refuses <<< on a local: statistics are globals', () => {
    expect(diags('probe begin { x <<< 1 }')).toEqual(["1:15 aggregate operation on local variable 'x': statistics must be declared global"]);
  });

  it('refuses a statistic used as a value or assigned', () => {
    expect(diags('global s\nprobe begin { s <<< 1; y = s + 1 }')[0]).toMatch(/^2:28 type mismatch for global 's': stats vs\. long/);
    expect(diags('global a\nprobe begin { a[1] <<< 1; printf("%d", a[1]) }')[0]).toMatch(/type mismatch for global 'a': stats vs\. long/);
    expect(diags('global s\nprobe begin { s <<< 1; s = 3 }')[0]).toMatch(/stats vs\. long/);
  });

  it('refuses two histogram kinds on one statistic, and a histogram outside print or [i]', () => {
    expect(diags('global s\nprobe begin { s <<< 1; print(@hist_log(s)); print(@hist_linear(s, 0, 10, 1)) }')).toEqual([
      "2:51 multiple histogram types declared on 's'",
    ]);
    // stap's parse error (parse_symbol): only the one argument of print, println, sprint, sprintln
    expect(diags('global s\nprobe begin { s <<< 1; y = @hist_log(s) }')).toEqual(['2:28 base histogram operator where expression expected']);
    expect(diags('global s\nprobe begin { s <<< 1; printf("%s", @hist_log(s)) }')).toEqual(['2:37 base histogram operator where expression expected']);
    expect(diags('global s\nprobe begin { s <<< 1; print(@hist_log(s), 1) }')).toEqual(['2:30 base histogram operator where expression expected']);
    expect(diags('global s\nprobe begin { s <<< 1; x = sprint(@hist_log(s)); y = sprintln(@hist_log(s)); print(@hist_log(s)[64] + 1) }')).toEqual([]);
    expect(diags('global s\nprobe begin { s <<< 1; print(@hist_linear(s, 0, 1000, 1)) }')[0]).toMatch(/Number of buckets must be between 1 and 126/);
  });

  it('a foreach over a histogram: one long bucket variable, the histogram kind of its statistic, no temporaries in -p2', () => {
    expect(diags('global s\nprobe begin { s <<< 1; foreach (b in @hist_log(s)) print(b) }')).toEqual([]);
    // stap's c_tmpcounter::visit_foreach_loop
    expect(diags('global s\nprobe begin { s <<< 1; foreach ([b, c] in @hist_log(s)) print(b) }')).toEqual(['2:24 Invalid indexing of histogram']);
    expect(diags('global s\nprobe begin { s <<< 1; foreach (b in @hist_linear(s, 0, 10, 1)) print(b); print(@hist_log(s)) }')).toEqual([
      "2:81 multiple histogram types declared on 's'",
    ]);
    expect(diags('global s\nprobe begin { s <<< 1; b = "x"; foreach (b in @hist_log(s)) print(b) }')).toContain("2:42 type mismatch for identifier 'b': string vs. long");
    const p2 = runTapvmSync(['-p2', '-e', 'global s\nprobe begin { s[1] <<< 1; k = 1; foreach (v = b in @hist_log(s[k]) limit k + 1) print(v) }']);
    expect(p2.code).toBe(0);
    expect(p2.stdout).toBe('# globals\ns:stats [long]\n# probes\nbegin /* <- begin */\n  # locals\n  k:long\n  b:long\n  v:long\n');
  });

  it('compiles <<< to STADD and the extractors to STGET, with the descriptor table in the data area', () => {
    const img = compileSource('global s\nprobe begin { s <<< 4; printf("%d\\n", @max(s)); print(@hist_log(s)) }', 'r.stp', 3).image!;
    const text = disassembleAll(img);
    expect(text).toMatch(/STADD +r\d+, s\[\]/);
    expect(text).toMatch(/STGET +r\d+, @max, s\[\]/);
    expect(text).toMatch(/STPRINT +s\[\]/);
    expect(img.arrays[0].stat).toMatchObject({ hist: HIST.LOG, buckets: 128 });
    expect(img.data[1024]).toBe(HIST.LOG);
  });
});

describe('statistics: stap arithmetic', () => {
  const none: StatDesc = { hist: HIST.NONE, variance: true, shift: 0, start: 0, interval: 0, buckets: 0 };
  const fresh = () => readStatVal(new Uint8Array(1088));

  it('puts values in stap\'s log buckets (64 + bit length, mirrored for negatives)', () => {
    expect([0n, 1n, 2n, 3n, 4n, 1023n, 1024n, -1n, -2n, -3n].map(logBucket)).toEqual([64, 65, 66, 66, 67, 74, 75, 63, 62, 62]);
    expect(logBucket(-(1n << 63n))).toBe(0);
    expect(logBucket((1n << 63n) - 1n)).toBe(127);
  });

  it('computes @avg by integer division and @variance with stap\'s integer Welford, across CPUs', () => {
    const cpu0 = fresh();
    const cpu1 = fresh();
    for (let v = 1n; v <= 100n; v++) statAdd(v % 2n ? cpu0 : cpu1, none, v);
    const a = aggregate([cpu0, cpu1], none);
    expect([a.count, a.sum, a.min, a.max, a.avg]).toEqual([100n, 5050n, 1n, 100n, 50n]);
    // stap's formulas by hand: per-CPU Welford (shift 0, truncating divisions), then
    // S1 = sum count * (avg_s - avg)^2, S2 = sum (count - 1) * var_s, variance = (S1 + S2) / (n - 1)
    const one = fresh();
    for (let v = 1n; v <= 100n; v++) statAdd(one, none, v);
    expect(aggregate([one], none).variance).toBe(5741n);
    const shifted = fresh();
    for (let v = 1n; v <= 100n; v++) statAdd(shifted, { ...none, shift: 8 }, v);
    expect(aggregate([shifted], { ...none, shift: 8 }).variance).toBe(841n);
  });

  it('prints a linear histogram with under- and overflow rows as stap does', () => {
    const d: StatDesc = { hist: HIST.LINEAR, variance: false, shift: 0, start: 0, interval: 10, buckets: 13 };
    const s = fresh();
    for (const v of [-5n, 3n, 15n, 15n, 200n]) statAdd(s, d, v);
    expect(formatHistogram(d, aggregate([s], d).hist)).toBe(
      [
        'value |-------------------------------------------------- count',
        '   <0 |@                                                  1',
        '    0 |@                                                  1',
        '   10 |@@                                                 2',
        '   20 |                                                   0',
        '   30 |                                                   0',
        '      ~',
        '   90 |                                                   0',
        '  100 |                                                   0',
        ' >100 |@                                                  1',
        '',
        '',
      ].join('\n'),
    );
  });
});

describe('statistics: the user-space interpreter on a memory backend', () => {
  it('counts, sums and sorts a statistics array by an aggregate', () => {
    const r = runScript(
      'global a\nprobe begin { for (i = 1; i <= 9; i++) a[i % 3] <<< i\n' +
        'foreach (k in a @sum-) printf("%d:%d,%d,%d,%d,%d ", k, @count(a[k]), @sum(a[k]), @min(a[k]), @max(a[k]), @avg(a[k]))\n' +
        'foreach (k in a @min+ limit 1) printf("first %d", k) }',
      'm.stp',
    );
    expect(r.out).toBe('0:3,18,3,9,6 2:3,15,2,8,5 1:3,12,1,7,4 first 1');
  });
});

const kt = kernelTestsPossible();
if (!kt.ok && process.env.CI) throw new Error(`statistics CLI tests cannot run in CI: ${kt.why}`);

// the first CLI run after a build verifies a new interpreter object: seconds on a loaded machine
describe.runIf(kt.ok)('statistics: exact output through the CLI', { timeout: 30_000 }, () => {
  it('prints @hist_log exactly as stap, elision included', () => {
    const r = runTapvmSync([
      '-e',
      'global h\nprobe begin { h <<< 0; h <<< 1; for (i = 0; i < 7; i++) h <<< 3; for (i = 0; i < 120; i++) h <<< 1000; h <<< 65536; print(@hist_log(h)); exit() }',
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      [
        // 120 > 50 rows: each '@' is 3 (stap's scale); 1000 falls in [512, 1024)
        ' value |-------------------------------------------------- count',
        '     0 |                                                     1',
        '     1 |                                                     1',
        '     2 |@@                                                   7',
        '     4 |                                                     0',
        '     8 |                                                     0',
        '       ~',
        '   128 |                                                     0',
        '   256 |                                                     0',
        '   512 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@           120',
        '  1024 |                                                     0',
        '  2048 |                                                     0',
        '       ~',
        ' 16384 |                                                     0',
        ' 32768 |                                                     0',
        ' 65536 |                                                     1',
        '131072 |                                                     0',
        '262144 |                                                     0',
        '',
        '',
      ].join('\n'),
    );
  });

  it('prints @hist_linear and indexes its buckets', () => {
    const r = runTapvmSync([
      '-e',
      'global l\nprobe begin { for (i = 0; i < 50; i++) l <<< i % 25; println(@hist_linear(l, 0, 20, 5)); printf("%d %d\\n", @hist_linear(l, 0, 20, 5)[1], @hist_linear(l, 0, 20, 5)[6]); exit() }',
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      [
        'value |-------------------------------------------------- count',
        '    0 |@@@@@@@@@@                                         10',
        '    5 |@@@@@@@@@@                                         10',
        '   10 |@@@@@@@@@@                                         10',
        '   15 |@@@@@@@@@@                                         10',
        '   20 |@@@@@@@@@@                                         10',
        '',
        // println of a histogram prints it as print does (stap's print_format with a hist)
        '10 0',
        '',
      ].join('\n'),
    );
  });

  it('reports extractors of an empty statistic as stap does: @count and @sum are 0, the rest an error', () => {
    const ok = runTapvmSync(['-e', 'global s\nprobe begin { printf("%d %d\\n", @count(s), @sum(s)); exit() }']);
    expect(ok.stdout).toBe('0 0\n');
    const bad = runTapvmSync(['-e', 'global s\nprobe begin { printf("%d\\n", @avg(s)); exit() }']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe("ERROR: empty aggregate near identifier '@avg' at <input>:2:30\nWARNING: Number of errors: 1, skipped probes: 0\n");
    const hist = runTapvmSync(['-e', 'global s\nprobe begin { print(@hist_log(s)); exit() }']);
    expect(hist.stderr).toMatch(/^ERROR: empty aggregate near identifier 'print' at <input>:2:15\n/);
    const range = runTapvmSync(['-e', 'global s\nprobe begin { s <<< 1; printf("%d\\n", @hist_log(s)[128]); exit() }']);
    expect(range.stderr).toMatch(/^ERROR: histogram index out of range near identifier '@hist_log'/);
  });

  // (an empty one too: e is written where it never runs; a `delete e` would be a use, as in stap)
  it('displays written-never-read statistics at exit as stap does', () => {
    const r = runTapvmSync(['-e', 'global s, e, t\nprobe begin { s <<< 1; s <<< 3; s <<< 2; t[1, "a"] <<< 4; t[2, "b"] <<< 5; t[2, "b"] <<< 7; if (0) e <<< 1; exit() }']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('s @count=3 @min=1 @max=3 @sum=6 @avg=2\ne @count=0x0\nt[2,"b"] @count=2 @min=5 @max=7 @sum=12 @avg=6\nt[1,"a"] @count=1 @min=4 @max=4 @sum=4 @avg=4\n');
  });

  it('deletes statistics: an element, a scalar, a whole array', () => {
    const r = runTapvmSync([
      '-e',
      'global s, t\nprobe begin { s <<< 5; t[1] <<< 1; t[2] <<< 2; delete t[1]; printf("%d %d\\n", [1] in t, [2] in t); delete t; delete s; printf("%d %d\\n", @count(s), @count(t[2])); exit() }',
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('0 1\n0 0\n');
  });
});
