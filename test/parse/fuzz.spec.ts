// Fuzzing the front-end (parse + resolve + compile, no kernel): mutated corpus scripts (token
// deletion, duplication, swaps, random bytes) must give a result or a DiagnosticError, never
// another exception, and no case may take both over a second and ten times the median.
// A fixed seed runs every time; one random seed more, printed when it fails.
import { describe, expect, it } from 'vitest';
import { compileSource } from '../../src/compile/index';
import { DiagnosticError } from '../../src/diag/diagnostic';
import { rng } from '../rng';

const CORPUS = [
  'probe begin { printf("hello %s %d\\n", "world", 42); exit() }',
  'global c, s = "x", n = -5\nprobe timer.ms(100) { c[pid(), execname()]++; s .= "y" } probe end { foreach ([p, e] in c- limit 3) printf("%d %s %d\\n", p, e, c[p, e]) }',
  'function f:long (a:long, b) { if (a > 0) return f(a - 1, b) + 1; else return 0 }\nprobe begin { x = f(3, "s"); println(x) }',
  'probe a.b = begin { v = 1 } probe a.b += end { println(v) } probe a.*, {begin,end}? if (g) { v++ } global g',
  'probe syscall.getppid, kernel.trace("sched:sched_process_exec")! { println(pp(), $prev_pid) }',
  'global st\nprobe begin { st <<< 5; st <<< 7; println(@count(st), @sum(st)); print(@hist_log(st)) }',
  'probe begin { try { error("x") } catch (m) { println(m) } while (i < 3) { i++; if (i == 2) continue; break } }',
  '%( kernel_v >= "5.0" %? probe begin { x = 1 } %: probe end { x = 2 } %)\n@define twice(x) %( (@x) * 2 %)\nprobe begin { println(@twice(3)) }',
  'probe begin { x = @defined($foo) ? @choose_defined($foo, 1) : 2; y = $a->b[3]; z = @cast(0, "t")->f; s = $$vars$ }',
  'function g() %{ return 0; %} %{ #include <x> %} probe never { delete a[1]; delete a; a[1] = [1,2] in b } global a, b',
  'private global p%[10]\nprivate function h(x) :2 { next } function h(x) { return x } probe begin { println(h(1) ?: 0) }',
  'probe begin { a = 1 << 63 >> 2 & ~0 | 0x10 ^ 017; b = "a" "b" . "c"; c = a ? b : "z"; d = !a || a && -a; exit() }',
  'global m, s\nprobe begin { m[1, "x"] = 2; s[1, 2] <<< 3; if ([*, "x"] in m) delete m[1, *]; foreach (v = [k, t] in m[*, "x"]- limit 2) println(v); delete s[*, 2] }',
];


const TOKEN = /\s+|"(?:[^"\\]|\\.)*"|[A-Za-z_$@][A-Za-z0-9_$]*|\d+|%[{}(?:)]|[<>=!+\-*/%&|^.]=?|\S/g;

function mutate(src: string, r: (n: number) => number): string {
  const toks = src.match(TOKEN) ?? [];
  const n = 1 + r(4);
  for (let i = 0; i < n && toks.length; i++) {
    const k = r(toks.length);
    switch (r(5)) {
      case 0:
        toks.splice(k, 1);
        break;
      case 1:
        toks.splice(k, 0, toks[k]);
        break;
      case 2: {
        const j = r(toks.length);
        [toks[k], toks[j]] = [toks[j], toks[k]];
        break;
      }
      case 3:
        toks.splice(k, 0, String.fromCharCode(r(256)));
        break;
      default:
        toks.splice(k, 0, CORPUS[r(CORPUS.length)].match(TOKEN)![r(10)] ?? '{');
    }
  }
  return toks.join('');
}

/** A random script of corpus pieces and random bytes. */
function random(r: (n: number) => number): string {
  const parts: string[] = [];
  for (let i = 0, n = 1 + r(6); i < n; i++) {
    if (r(4) === 0) parts.push(Array.from({ length: r(40) }, () => String.fromCharCode(r(128))).join(''));
    else {
      const t = CORPUS[r(CORPUS.length)].match(TOKEN)!;
      const a = r(t.length);
      parts.push(t.slice(a, a + 1 + r(30)).join(''));
    }
  }
  return parts.join(' ');
}

function runCases(seed: number, count: number): { failures: string[]; times: number[] } {
  const r = rng(seed);
  const failures: string[] = [];
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const src = i % 4 === 3 ? random(r) : mutate(CORPUS[r(CORPUS.length)], r);
    const t0 = performance.now();
    try {
      compileSource(src, 'fuzz.stp', 3, undefined, { args: ['1', 'two'] });
    } catch (e) {
      if (!(e instanceof DiagnosticError)) failures.push(`seed ${seed} case ${i}: ${(e as Error).stack?.split('\n').slice(0, 3).join(' | ')}\n  script: ${JSON.stringify(src)}`);
    }
    times.push(performance.now() - t0);
  }
  return { failures, times };
}

function slow(times: number[]): number[] {
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[sorted.length >> 1];
  return times.filter((t) => t > 1000 && t > 10 * median);
}

describe('front-end fuzzing', () => {
  it('a fixed seed: 2000 cases, only diagnostics, none pathologically slow', () => {
    const { failures, times } = runCases(0x5eed, 2000);
    expect(failures).toEqual([]);
    expect(slow(times)).toEqual([]);
  }, 120_000);

  it('a random seed: 500 cases (the seed is in the failure)', () => {
    const seed = (Math.random() * 2 ** 32) >>> 0;
    const { failures, times } = runCases(seed, 500);
    expect(failures, `seed ${seed}`).toEqual([]);
    expect(slow(times), `seed ${seed}`).toEqual([]);
  }, 120_000);
});
