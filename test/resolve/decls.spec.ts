// Declarations and expressions of the language surface: overloading by arity and by priority
// with `next`, embedded C, the @-operators, context variable forms tapvm cannot read, and the
// elaboration warnings; each with its message and position.
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'child_process';
import * as path from 'path';
import { compileSource } from '../../src/compile/index';
import { DiagnosticError, type Diagnostic } from '../../src/diag/diagnostic';
import { parseScript, printScript } from '../../src/parse/index';
import { runScript } from '../compile/helpers';

const FILE = 'd.stp';
const TAPVM = path.join(__dirname, '../../bin/tapvm');

function diags(src: string, lastPass = 2): string[] {
  try {
    compileSource(src, FILE, lastPass);
    return [];
  } catch (e) {
    if (!(e instanceof DiagnosticError)) throw e;
    return e.diagnostics.map((d) => `${d.severity} ${d.loc ? `${d.loc.line}:${d.loc.col} ` : ''}${d.message}`);
  }
}

function warnings(src: string): string[] {
  const w: Diagnostic[] = [];
  compileSource(src, FILE, 2, undefined, { warnings: w });
  return w.map((d) => `${d.loc?.line}:${d.loc?.col} ${d.message}`);
}

const output = (src: string) => runScript(src, FILE).out;

describe('functions', () => {
  it('overloads by arity at compile time', () => {
    expect(output('function f() { return 0 }\nfunction f(a) { return a }\nfunction f(a, b) { return a + b }\nprobe begin { printf("%d %d %d\\n", f(), f(4), f(4, 5)) }')).toBe('0 4 9\n');
    expect(diags('function f(a) { }\nfunction f(a, b) { }\nprobe begin { f() }')).toContain("semantic error 3:15 function 'f' takes 1 or 2 argument(s), got 0");
  });

  it('chains functions of one arity by priority; next moves on to the following one', () => {
    const src = [
      'function pick(n) :3 { return "last" }',
      'function pick(n) { if (n > 1) next; return "small" }',
      'function pick(n) :2 { if (n > 2) next; return "two" }',
      'probe begin { printf("%s %s %s\\n", pick(1), pick(2), pick(3)) }',
    ].join('\n');
    expect(output(src)).toBe('small two last\n');
    expect(diags('function g() { return 1 }\nfunction g() { return "s" }\nprobe begin { x = g() }')).toContain(
      "semantic error 2:1 type mismatch for return value of overloaded function 'g': long vs. string",
    );
  });

  it('ends the probe handler on next in the last (or only) function', () => {
    expect(output('function f() { print("a"); next; print("b") }\nprobe begin { f(); print("c") }\nprobe begin { print("d\\n") }')).toBe('ad\n');
  });

  it('recurses up to MAXNESTING (without -D stap\'s 10 nested calls), then reports stap\'s error at the function', () => {
    const r = runScript('function d(n) { return n ? 1 + d(n - 1) : 0 }\nprobe begin { printf("%d\\n", d(9)); printf("%d\\n", d(10)) }', FILE);
    expect(r.out).toBe('9\n');
    const errs = r.events.filter((e) => e.type === 'error');
    expect(errs.length).toBe(1);
    expect(JSON.stringify(errs[0])).toContain('MAXNESTING exceeded');
  });

  it('-D MAXNESTING=N: N nested calls, the next one is stap\'s error at the function\'s name; above the interpreters\' 15 refused', () => {
    const src = 'function d(n) { return n ? 1 + d(n - 1) : 0 }\nprobe begin { printf("%d\\n", d(2)); printf("%d\\n", d(3)); exit() }';
    const r = spawnSync(TAPVM, ['-D', 'MAXNESTING=3', '-e', src], { encoding: 'utf8' });
    expect(r.stdout).toBe('2\n');
    expect(r.stderr).toBe("ERROR: MAXNESTING exceeded near identifier 'd' at <input>:1:10\nWARNING: Number of errors: 1, skipped probes: 0\n");
    expect(r.status).toBe(1);
    const deep = spawnSync(TAPVM, ['-D', 'MAXNESTING=14', '-e', src.replace('d(2)', 'd(13)').replace('d(3)', 'd(14)')], { encoding: 'utf8' });
    expect(deep.stdout).toBe('13\n');
    expect(deep.stderr).toContain("ERROR: MAXNESTING exceeded near identifier 'd' at <input>:1:10\n");
    const over = spawnSync(TAPVM, ['-D', 'MAXNESTING=16', '-e', src], { encoding: 'utf8' });
    expect(over.stderr).toBe("ERROR: MAXNESTING=16 is more than tapvm's interpreters allow: at most 15 nested function calls\n");
    expect(over.status).toBe(1);
  }, 30_000);
});

describe('embedded C', () => {
  it('parses at top level and as a function body, then is refused in one sentence each', () => {
    const src = '%{ #include <linux/sched.h> %}\nfunction f:long () %{ STAP_RETURN(1); %}\nprobe begin { }';
    expect(printScript(parseScript(src, FILE))).toContain('function f:long() %{ STAP_RETURN(1); %}');
    const msg = 'embedded C code is not supported: tapvm runs scripts on its bytecode interpreter and has no kernel-module runtime to compile C into (-g changes nothing)';
    expect(diags(src)).toEqual([`semantic error 1:1 ${msg}`, `semantic error 2:20 ${msg}`]);
  });

  it('parses %{ %} as an expression or statement inside probe, alias and function bodies, then refuses each in one sentence', () => {
    const src = 'function f() { %{ int y; %} return %{ 2 %} + 1 }\nprobe a = begin { %{ STAP_PRINTF("x"); %} }\nprobe a { x = %{ 1 %}; println(x + f()) }';
    const printed = printScript(parseScript(src, FILE));
    expect(printed).toContain('return (%{ 2 %}) + 1;');
    expect(printScript(parseScript(printed, FILE))).toBe(printed);
    const msg = 'embedded C code is not supported: tapvm runs scripts on its bytecode interpreter and has no kernel-module runtime to compile C into (-g changes nothing)';
    expect(diags(src)).toEqual([`semantic error 1:16 ${msg}`, `semantic error 1:36 ${msg}`, `semantic error 2:19 ${msg}`, `semantic error 3:15 ${msg}`]);
  });

  it('reports an unclosed block as stap does', () => {
    expect(diags('%{ int x;')).toEqual(["parse error 1:1 Could not find matching '%}' to close embedded function block"]);
  });
});

describe('@-operators and context variables', () => {
  it('folds @defined and @choose_defined per probe point', () => {
    expect(output('probe begin { printf("%d %d\\n", @defined($nosuch), @choose_defined($nosuch, 7)) }')).toBe('0 7\n');
    expect(output('function f() { return @defined($x) }\nprobe begin { printf("%d\\n", f()) }')).toBe('0\n');
  });

  it('parses @cast, @var, @entry, $var$, $$vars, &$var and $p->f[i], and says what tapvm cannot read (@var("jiffies") it can)', () => {
    const exprs = ['@cast(0, "task_struct", "kernel")->pid', '@var("jiffies")', '@entry(1)', '$x$', '$$parms', '&$x', '$p->f[2]'];
    const src = `probe begin { ${exprs.map((e) => `println(${e})`).join('; ')} }`;
    const printed = printScript(parseScript(src, FILE));
    for (const e of exprs) expect(printed).toContain(e);
    expect(printScript(parseScript(printed, FILE))).toBe(printed);
    const col = (e: string) => src.indexOf(e) + 1;
    expect(diags(src)).toEqual([
      `semantic error 1:${col(exprs[0])} @cast(..., "task_struct") reads kernel memory, which only kernel probes can do`,
      `semantic error 1:${col(exprs[2])} @entry is only valid in .return probes`,
      `semantic error 1:${col(exprs[3])} '$x$' is not supported yet: tapvm has no pretty-printer for context variables`,
      `semantic error 1:${col(exprs[4])} '$$parms' is not available in begin: the probe point has no named context variables`,
      `semantic error 1:${col(exprs[5])} '&$x': tapvm cannot take the address of a context variable`,
      `semantic error 1:${col(exprs[6])} '$p->f': tapvm has no type information to follow fields, pointers or arrays of context variables`,
    ]);
  });

  it('@entry: desugared in .return probes (an entry probe saving into a hidden global per tid), stap\'s error elsewhere', () => {
    const src = 'probe syscall.getppid.return { printf("%d %d\\n", $return, @entry(tid() + 1)) }';
    const r = compileSource(src, FILE, 2).resolved!;
    expect(r.probes.map((p) => p.point.pp)).toEqual(['syscall.getppid.return', 'syscall.getppid']);
    expect([...r.globals.values()].map((g) => `${g.name}:${g.type}[${g.keyTypes?.join()}]`)).toEqual(['__entry_0_0:long[long]']);
    expect(printScript({ kind: 'script', items: [r.probes[1].decl] } as never)).toContain('__entry_0_0[tid()] = tid() + 1;');
    expect(diags('function f() { return @entry(1) }\nprobe begin { f() }\nprobe syscall.getppid { println(@entry(2)) }')).toEqual([
      'semantic error 1:23 @entry is only valid in .return probes',
      'semantic error 3:33 @entry is only valid in .return probes',
    ]);
  });

  it('checks the @-operators\' arguments while parsing', () => {
    expect(diags('probe begin { x = @defined(1, 2) }')).toEqual(['parse error 1:19 @defined takes 1 argument']);
    expect(diags('probe begin { x = @cast(p) }')).toEqual(['parse error 1:19 @cast takes 2 or 3 arguments']);
    expect(diags('probe begin { x = @cast(p, 1) }')).toEqual(['parse error 1:28 @cast expects a literal string']);
  });
});

describe('warnings', () => {
  it('as stap: never-assigned locals with suggestions, unused globals, side-effect-free statements', () => {
    expect(warnings('global unused, used\nprobe begin { totl = 1; used = total + totl; 5 }')).toEqual([
      "1:8 Eliding unused variable 'unused'",
      "2:32 never-assigned local variable 'total' (similar: totl)",
      '2:46 Eliding side-effect-free expression',
    ]);
    expect(warnings('global a\nprobe begin { a[1] = 2; try { } catch (m) { println(m) } foreach (k in a) println(k) }')).toEqual([]);
  });

  it('are printed by the command line unless -w; -g is accepted and changes nothing', () => {
    const script = 'global g; probe begin { exit() }';
    const plain = spawnSync(TAPVM, ['-p2', '-e', script], { encoding: 'utf8' });
    expect(plain.stderr).toContain("WARNING: Eliding unused variable 'g'\n        at: <input>:1:8\n");
    const quiet = spawnSync(TAPVM, ['-w', '-g', '-p2', '-e', script], { encoding: 'utf8' });
    expect(quiet.status).toBe(0);
    expect(quiet.stderr).toBe('');
    expect(execFileSync(TAPVM, ['-g', '-e', 'probe begin { println("ok"); exit() }'], { encoding: 'utf8' })).toBe('ok\n');
  }, 30_000);
});
