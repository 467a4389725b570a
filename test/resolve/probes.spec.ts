// Probe declarations after expansion (src/resolve/expand.ts): aliases with prologues, epilogues
// and suffixes, brace alternatives, wildcards, `?`, `!`, `if (cond)`, never and init; each
// success runs the handlers, each failure checks the message and its position.
import { describe, expect, it } from 'vitest';
import { compileSource } from '../../src/compile/index';
import { DiagnosticError } from '../../src/diag/diagnostic';
import { parseScript, printScript } from '../../src/parse/index';
import { runScript } from '../compile/helpers';

const FILE = 'p.stp';

/** The derived probes: `pp <- derivation` */
function probes(src: string): string[] {
  const r = compileSource(src, FILE, 2).resolved!;
  return r.probes.map((p) => `${p.point.pp}${p.derivation.length > 1 ? ' <- ' + p.derivation.slice(0, -1).join(' <- ') : ''}`);
}

function diags(src: string): string[] {
  try {
    compileSource(src, FILE, 3);
    return [];
  } catch (e) {
    if (!(e instanceof DiagnosticError)) throw e;
    return e.diagnostics.map((d) => `${d.severity} ${d.loc?.line}:${d.loc?.col} ${d.message}`);
  }
}

/** What the begin probes print, run in their begin(N) order. */
function output(src: string): string {
  return runScript(src, FILE).out;
}

describe('probe aliases', () => {
  it('runs a prologue (=) before and an epilogue (+=) after the probe body, sharing its locals', () => {
    const src = [
      'probe pro = begin { x = 1; s = "pro" }',
      'probe epi += begin { printf("epi %d %s\\n", x, s) }',
      'probe pro { printf("body %d %s\\n", x, s) }',
      'probe epi { x = 7; s = "body" }',
    ].join('\n');
    expect(output(src)).toBe('body 1 pro\nepi 7 body\n');
  });

  it('expands every point of an alias, and aliases of aliases (the inner alias prologue first)', () => {
    const src = ['probe two = begin, end { }', 'probe outer = inner { printf("outer ") }', 'probe inner = begin { printf("inner ") }', 'probe outer { println("body") }'].join('\n');
    expect(probes(src + '\nprobe two { }')).toEqual(['begin <- outer <- inner', 'begin <- two', 'end <- two']);
    expect(output(src)).toBe('inner outer body\n');
  });

  it('appends an alias suffix to the alias points', () => {
    expect(probes('probe t = timer { }\nprobe t.ms(100) { }')).toEqual(['timer.ms(100) <- t.ms(100)']);
  });

  it('uses the longest alias a point names: `a.b.return` is its own alias, not `a.b` with a suffix', () => {
    const src = 'probe t = timer { }\nprobe t.ms = timer.s(1) { }\nprobe t.ms(100) { }';
    // `t.ms(100)`: alias `t.ms` does not match (it has no argument), so `t` + suffix
    expect(probes(src)).toEqual(['timer.ms(100) <- t.ms(100)']);
    expect(probes('probe a = begin { }\nprobe a.b = end { }\nprobe a.b { }')).toEqual(['end <- a.b']);
  });

  it('lets `next` in a prologue skip the body', () => {
    expect(output('probe a = begin { println("pro"); next }\nprobe a { println("body") }')).toBe('pro\n');
  });

  it('reports an alias that resolves to nothing, and a recursive alias, at the use', () => {
    expect(diags('probe a = nosuch { }\nprobe a { }')).toEqual([
      "semantic error 1:11 while resolving probe point: identifier 'nosuch'",
      'semantic error 1:11 probe point mismatch (similar: module, never, a, begin, end)',
    ]);
    expect(diags('probe a = b { }\nprobe b = a { }\nprobe a { }')[0]).toMatch(/^semantic error \d:11 probe alias expansion is nested more than 32 deep/);
  });

  it('rejects a ? or an if on an alias name', () => {
    expect(diags('probe a? = begin { }')).toEqual(['parse error 1:7 probe alias name cannot be optional or conditional']);
  });

  it('prints aliases back for -p1', () => {
    const src = 'probe a.b, c += begin(1), end? { x = 1 }\nprobe a.b if (g) { }';
    const printed = printScript(parseScript(src, FILE));
    expect(printed).toBe('probe a.b, c += begin(1), end? {\n  x = 1;\n}\nprobe a.b if (g) {\n}\n');
    expect(printScript(parseScript(printed, FILE))).toBe(printed);
  });
});

describe('probe point syntax', () => {
  it('expands brace alternatives in product order, nested', () => {
    expect(probes('probe {begin,end} { }')).toEqual(['begin', 'end']);
    expect(probes('probe timer.{ms(5),s(5)} { }')).toEqual(['timer.ms(5)', 'timer.s(5)']);
    expect(probes('probe {begin,{end,never}} { }')).toEqual(['begin', 'end']);
    expect(probes('probe t.{a,b} = begin { }\nprobe t.{b,a} { }')).toEqual(['begin <- t.b', 'begin <- t.a']);
  });

  it('bounds brace expansion', () => {
    const big = 'probe ' + Array(11).fill('{a,b}').join('.') + ' { }';
    expect(diags(big)).toEqual(['parse error 1:7 brace expansion gives more than 1024 probe points']);
  });

  it('matches * and ** against alias names', () => {
    const src = 'probe my.one = begin { }\nprobe my.two.deep = end { }\nprobe other = begin { }\n';
    expect(probes(src + 'probe my.* { }')).toEqual(['begin <- my.one']);
    expect(probes(src + 'probe my.** { }')).toEqual(['begin <- my.one', 'end <- my.two.deep']);
    expect(probes(src + 'probe *.one, o*r { }')).toEqual(['begin <- my.one', 'begin <- other']);
  });

  it('matches * and ** against the providers\' listings (tracefs)', () => {
    expect(probes('probe syscall.getpp*, syscall.getppid.r*n { }')).toEqual(['syscall.getppid', 'syscall.getppid.return']);
    expect(probes('probe kernel.trace("sched:sched_process_ex*") { }')).toEqual([
      'kernel.trace("sched:sched_process_exec")',
      'kernel.trace("sched:sched_process_exit")',
    ]);
    expect(probes('probe sys**getppid { }')).toEqual(['syscall.getppid']);
  });

  it('reports a wildcard that matches nothing, unless it is optional', () => {
    expect(diags('probe nosuch.* { }')).toEqual(["semantic error 1:7 while resolving probe point: identifier 'nosuch'", 'semantic error 1:7 probe point mismatch (similar: module, never, begin, end, error)']);
    expect(diags('probe a.xy = begin { }\nprobe a.xz = end { }\nprobe a.y* { }')).toEqual([
      "semantic error 3:7 probe point mismatch: didn't find any wildcard matches (similar: xy, xz)",
    ]);
    expect(diags('probe nosuch.*?, begin { }')).toEqual([]);
  });

  it('skips an optional point that does not resolve, silently', () => {
    expect(probes('probe nosuch?, begin { }')).toEqual(['begin']);
    expect(probes('probe a = nosuch? { }\nprobe a?, end { }')).toEqual(['end']);
  });

  it('kernel.trace has no .return: stap\'s mismatch at the component, and @entry there is stap\'s .return-only error', () => {
    expect(diags('probe kernel.trace("sched:sched_process_exit").return { }')).toEqual([
      "semantic error 1:7 while resolving probe point: identifier 'kernel'",
      'semantic error 1:48 probe point mismatch',
    ]);
    expect(diags('probe kernel.trace("sched:sched_process_exit") {\n  println(@entry(pid()))\n}')).toEqual(['semantic error 2:11 @entry is only valid in .return probes']);
  });

  it('reports an alias whose points are all optional and absent as stap\'s "no match" at the point', () => {
    expect(diags('probe foo = kernel.function("no_such_fn_xyz")? { }\nprobe begin, foo { }')).toEqual([
      "semantic error 2:14 while resolving probe point: identifier 'foo'",
      'semantic error undefined:undefined no match',
    ]);
    // through a nested alias: stap's chain, the user's point first, then the alias's
    expect(diags('probe foo = nosuch? { }\nprobe bar = foo { }\nprobe end, bar { }')).toEqual([
      "semantic error 3:12 while resolving probe point: identifier 'bar'",
      "semantic error 2:13 while resolving probe point: identifier 'foo'",
      'semantic error undefined:undefined no match',
    ]);
    // an alias that resolves through one of its points is fine
    expect(probes('probe foo = nosuch?, begin { }\nprobe foo { }')).toEqual(['begin <- foo']);
  });

  it('stops at the first sufficient point (!) that resolves', () => {
    expect(probes('probe nosuch!, begin!, end { }')).toEqual(['begin']);
    expect(probes('probe a = nosuch!, end!, begin { }\nprobe a { }')).toEqual(['end <- a']);
  });

  it('runs the handler only while the arming condition holds, alias bodies included', () => {
    const src = 'global on = 0, yes = 1\nprobe a = begin { println("alias") }\nprobe a if (on) { println("no") }\nprobe begin if (yes) { println("yes") }';
    expect(output(src)).toBe('yes\n');
    expect(diags('probe begin if (x) { }')).toEqual([
      "semantic error 1:17 probe condition must only reference global variables: 'x' is not a global",
    ]);
  });

  it('checks never probes and drops them; init runs before every begin', () => {
    expect(probes('probe never, begin { }')).toEqual(['begin']);
    expect(diags('probe never { x = 1; x = "s" }')).toContain("semantic error 1:22 type mismatch for identifier 'x': long vs. string");
    const img = compileSource('probe begin(-100) { } probe init { }', FILE).image!;
    expect(img.probes.map((p) => [p.pp, (p.attach as { order: number }).order])).toEqual([
      ['begin(-100)', -100],
      ['init', -(2 ** 53)],
    ]);
  });

  it('suggests similar families for a misspelt one', () => {
    expect(diags('probe bgein { }')[1]).toBe('semantic error 1:7 probe point mismatch (similar: begin, end, init, perf, error)');
    expect(diags('probe myalias = begin { }\nprobe myalais { }')).toEqual([
      "semantic error 2:7 while resolving probe point: identifier 'myalais'",
      'semantic error 2:7 probe point mismatch (similar: myalias, syscall, begin, init, module)',
    ]);
  });
});

describe('$$vars, $$parms, $$locals, $$return', () => {
  /** The sprintf calls (format, argument kinds) the pretty-printing variables became in the first probe. */
  function expansions(src: string): string[] {
    const out: string[] = [];
    const walk = (n: unknown): void => {
      if (!n || typeof n !== 'object') return;
      if (Array.isArray(n)) return n.forEach(walk);
      const e = n as { kind?: string; name?: string; value?: string; args?: { kind: string; value?: string; name?: string }[] };
      if (e.kind === 'call' && e.name === 'sprintf' && e.args) {
        out.push(`${e.args[0].value} <- ${e.args.slice(1).map((a) => (a.kind === 'tvar' ? '$' + a.name : `${a.name}()`)).join(' ')}`);
        return;
      }
      if (e.kind === 'string' && e.value === '') out.push('""');
      Object.values(n).forEach(walk);
    };
    walk(compileSource(src, FILE, 2).resolved!.probes[0].decl.body);
    return out;
  }

  it('expands $$parms of a tracepoint to a sprintf of its fields: numbers %#x, strings quoted; $$locals is empty', () => {
    expect(expansions('probe kernel.trace("sched:sched_process_exec") { println($$parms) println($$vars$) println($$locals) }')).toEqual([
      'filename="%s" pid=%#x old_pid=%#x <- $filename $pid $old_pid',
      'filename="%s" pid=%#x old_pid=%#x <- $filename $pid $old_pid',
      '""',
    ]);
  });

  it('expands $$parms of one system call to its arguments, $$parms$ reading char * ones as user strings, $$return on .return', () => {
    expect(expansions('probe syscall.openat { println($$parms) }')).toEqual(['dfd=%#x filename=%#x flags=%#x mode=%#x <- $dfd $filename $flags $mode']);
    expect(expansions('probe syscall.openat { println($$parms$) }')).toEqual(['dfd=%#x filename="%s" flags=%#x mode=%#x <- $dfd user_string() $flags $mode']);
    expect(expansions('probe syscall.openat.return { println($$return) }')).toEqual(['return=%#x <- $return']);
  });

  it('folds @defined($$vars) per probe point', () => {
    expect(output('probe begin { printf("%d\\n", @defined($$vars)) }')).toBe('0\n');
    expect(diags('probe kernel.trace("sched:sched_switch") { if (!@defined($$vars)) error("no") }')).toEqual([]);
  });

  it('is a semantic error where the point has no named context variables, or not these', () => {
    expect(diags('probe begin { println($$vars) }\nprobe timer.s(1) { println($$parms) }')).toEqual([
      "semantic error 1:23 '$$vars' is not available in begin: the probe point has no named context variables",
      "semantic error 2:28 '$$parms' is not available in timer.s(1): the probe point has no named context variables",
    ]);
    expect(diags('probe syscall.openat { println($$return) }\nprobe syscall.*.return { println($$parms) }')).toEqual([
      "semantic error 1:32 '$$return' is only available in a .return probe",
      "semantic error 2:34 '$$parms' is not available in syscall.*.return: the entry point's arguments differ by system call (name one system call)",
    ]);
    // one system call's .return has them: the entry values (kernel test: test/kernel/return-vars.spec.ts)
    expect(diags('probe syscall.openat.return { println($$parms, $$vars, $dfd) }')).toEqual([]);
    expect(diags('probe syscall.* { println($$parms) }')).toEqual([
      "semantic error 1:27 '$$parms' is not available in syscall.*: the point covers system calls with different arguments (name one system call)",
    ]);
  });
});
