// The resolver (pass 2): stap-style type inference across probes and functions, and the
// semantic errors it reports, each checked by message AND position. Only begin/end/timer probe
// points here: kernel.trace/syscall points read tracefs (root and a kernel).
import { describe, expect, it } from 'vitest';
import { compileSource } from '../../src/compile/index';
import { DiagnosticError } from '../../src/diag/diagnostic';
import type { ResolvedProgram } from '../../src/resolve/resolve';
import { runTapvmSync } from '../kernel/helpers';

const FILE = 'r.stp';

function resolved(src: string): ResolvedProgram {
  return compileSource(src, FILE, 2).resolved!;
}

/** Every diagnostic of passes 1-2 as `line:col message`; [] when the script resolves. */
function diags(src: string, lastPass = 2): string[] {
  try {
    compileSource(src, FILE, lastPass);
    return [];
  } catch (e) {
    if (!(e instanceof DiagnosticError)) throw e;
    return e.diagnostics.map((d) => {
      expect(d.severity).toBe('semantic error');
      expect(d.loc?.file).toBe(FILE);
      return `${d.loc?.line}:${d.loc?.col} ${d.message}`;
    });
  }
}

/** name:type of every local of probe point i (declaration order of first use) */
function probeLocals(r: ResolvedProgram, i: number): string[] {
  return [...r.probes[i].locals.values()].map((l) => `${l.name}:${l.type}`);
}

function fn(r: ResolvedProgram, name: string): { ret: string | undefined; locals: string[] } {
  const f = r.functions.get(name)!;
  return { ret: f.ret, locals: [...f.locals.values()].map((l) => `${l.name}:${l.type}${l.param ? ' (param)' : ''}`) };
}

function glob(r: ResolvedProgram, name: string): { type: string | undefined; keyTypes?: (string | undefined)[] } {
  const g = r.globals.get(name)!;
  return g.keyTypes ? { type: g.type, keyTypes: g.keyTypes } : { type: g.type };
}

describe('type inference', () => {
  it('types a local from the return of a function declared later, and that function from its caller', () => {
    const r = resolved(
      [
        'probe begin { x = f(); y = g(x) }',
        'function f() { return "s" }',
        'function g(a) { return a . "t" }',
      ].join('\n'),
    );
    expect(probeLocals(r, 0)).toEqual(['x:string', 'y:string']);
    expect(fn(r, 'f')).toEqual({ ret: 'string', locals: [] });
    expect(fn(r, 'g')).toEqual({ ret: 'string', locals: ['a:string (param)'] });
  });

  it('types a function return from the use of its result (want pushed down)', () => {
    const r = resolved('function id(a) { return a }\nprobe begin { s = "x"; t = id(s); n = id2(3) + 1 }\nfunction id2(b) { return b }');
    expect(fn(r, 'id')).toEqual({ ret: 'string', locals: ['a:string (param)'] });
    expect(fn(r, 'id2')).toEqual({ ret: 'long', locals: ['b:long (param)'] });
    expect(probeLocals(r, 0)).toEqual(['s:string', 't:string', 'n:long']);
  });

  it('types a global from a later probe, back into an earlier one', () => {
    const r = resolved(['global total', 'probe begin { x = total }', 'probe end { total = "done" }'].join('\n'));
    expect(glob(r, 'total')).toEqual({ type: 'string' });
    expect(probeLocals(r, 0)).toEqual(['x:string']);
    expect(probeLocals(r, 1)).toEqual([]);
  });

  it('types a global from its initializer, and gives an unused one long', () => {
    const r = resolved('global s = "init", n = 3, unused\nprobe begin { x = s; y = n }');
    expect(glob(r, 's')).toEqual({ type: 'string' });
    expect(glob(r, 'n')).toEqual({ type: 'long' });
    expect(glob(r, 'unused')).toEqual({ type: 'long' });
    expect(probeLocals(r, 0)).toEqual(['x:string', 'y:long']);
  });

  it('types function parameters from the call sites, and locals from the parameters', () => {
    const r = resolved('function h(a, b) { c = a; d = b; return c }\nprobe timer.s(1) { h(1, "x") }');
    expect(fn(r, 'h')).toEqual({ ret: 'long', locals: ['a:long (param)', 'b:string (param)', 'c:long', 'd:string'] });
  });

  it('types a parameter through a chain of calls and a recursive function', () => {
    const r = resolved(
      [
        'function outer(p) { return inner(p) }',
        'function inner(q) { return q }',
        'function r(n) { if (n <= 0) return 0; return r(n - 1) + n }',
        'probe begin { x = outer("z"); y = r(3) }',
      ].join('\n'),
    );
    expect(fn(r, 'outer')).toEqual({ ret: 'string', locals: ['p:string (param)'] });
    expect(fn(r, 'inner')).toEqual({ ret: 'string', locals: ['q:string (param)'] });
    expect(fn(r, 'r')).toEqual({ ret: 'long', locals: ['n:long (param)'] });
  });

  it('makes a function without a returned value void', () => {
    const r = resolved('function noret() { print(1) }\nprobe begin { noret() }');
    expect(fn(r, 'noret').ret).toBe('void');
  });

  it("infers arrays' index and value types, also through a function's parameters", () => {
    const r = resolved(
      [
        'global m, arr',
        'function put(k, v) { arr[k] = v }',
        'probe begin { m["a", 1] = "v"; put("key", 5) }',
      ].join('\n'),
    );
    expect(glob(r, 'm')).toEqual({ type: 'string', keyTypes: ['string', 'long'] });
    expect(glob(r, 'arr')).toEqual({ type: 'long', keyTypes: ['string'] });
    expect(fn(r, 'put')).toEqual({ ret: 'void', locals: ['k:string (param)', 'v:long (param)'] });
  });

  it('types an array from `in` and from its elements being read', () => {
    const r = resolved('global a\nprobe begin { if (["k", 2] in a) x = a["j", 3] . "" }');
    expect(glob(r, 'a')).toEqual({ type: 'string', keyTypes: ['string', 'long'] });
    expect(probeLocals(r, 0)).toEqual(['x:string']);
  });

  it('types foreach keys and value from the array, and the array from them', () => {
    const r = resolved(
      [
        'global m, n',
        'probe begin {',
        '  m["a", 1] = "v"',
        '  foreach ([k1, k2] in m) { s = k1; i = k2 }',
        '  foreach (v = [p, q] in m) w = v',
        // n gets its index type from the foreach key's use, its value type from the value's
        '  foreach (val = [key] in n) { t = key . "x"; u = val + 1 }',
        '}',
      ].join('\n'),
    );
    expect(probeLocals(r, 0)).toEqual([
      'k1:string', 'k2:long', 's:string', 'i:long', 'p:string', 'q:long', 'v:string', 'w:string',
      'key:string', 'val:long', 't:string', 'u:long',
    ]);
    expect(glob(r, 'n')).toEqual({ type: 'long', keyTypes: ['string'] });
  });

  it('types a local that is used before the statement that types it', () => {
    const r = resolved('probe begin { x = y; y = 1 }');
    expect(probeLocals(r, 0)).toEqual(['y:long', 'x:long']);
  });

  it('gives each point of a multi-point probe its own locals', () => {
    const r = resolved('probe begin, end { x = 1 }');
    expect(r.probes.map((p) => p.point.pp)).toEqual(['begin', 'end']);
    expect(probeLocals(r, 0)).toEqual(['x:long']);
    expect(probeLocals(r, 1)).toEqual(['x:long']);
    expect(r.probes[0].locals).not.toBe(r.probes[1].locals);
  });

  it('lets a global be a foreach key and value (as stap does)', () => {
    const r = resolved('global k, v, a\nprobe begin { a["x"] = 1; foreach (v = [k] in a) { } }');
    expect(glob(r, 'k')).toEqual({ type: 'string' });
    expect(glob(r, 'v')).toEqual({ type: 'long' });
    expect(probeLocals(r, 0)).toEqual([]);
  });
});

describe('semantic errors', () => {
  it('string/long mix-ups', () => {
    expect(diags('probe begin { x = 1; x = "a" }')).toEqual([
      "1:22 type mismatch for identifier 'x': long vs. string",
      '1:22 type mismatch in assignment: long = string',
    ]);
    expect(diags('probe begin { x = "a" + 1 }')).toEqual(['1:19 type mismatch: expected long, found string']);
    expect(diags('probe begin { x = "a" < 1 }')).toEqual(['1:19 type mismatch: comparing string with long']);
    expect(diags('probe begin { x = "s"; if (x == 1) next }')).toEqual(['1:28 type mismatch: comparing string with long']);
    expect(diags('probe begin { if ("a") print(1) }')).toEqual(['1:19 type mismatch: expected long, found string']);
    expect(diags('probe begin { x = 1; x .= "a" }')).toEqual(["1:22 type mismatch for identifier 'x': long vs. string"]);
    expect(diags('probe begin { s = "a"; s++ }')).toEqual([
      "1:24 type mismatch for identifier 's': string vs. long",
      '1:24 type mismatch: expected long, found string',
    ]);
    expect(diags('global x\nprobe begin { x = 1 }\nprobe end { x = "s" }')).toEqual([
      "3:13 type mismatch for global 'x': long vs. string",
      '3:13 type mismatch in assignment: long = string',
    ]);
    expect(diags('probe begin { x = 1 ? "a" : 2 }')).toEqual(['1:19 type mismatch in ?: branches: string vs. long']);
  });

  it('a string condition of ?: (used to compile to a JZ on the slot number)', () => {
    expect(diags('probe begin { x = "a" ? 1 : 2 }')).toEqual(['1:19 type mismatch: expected long, found string']);
  });

  it('a string foreach limit (used to compile to a GE on the slot number)', () => {
    expect(diags('global a\nprobe begin { a[1] = 1; foreach (k in a limit "s") print(k) }')).toEqual([
      '2:47 type mismatch: expected long, found string',
    ]);
  });

  it('mismatched parameter types at two call sites, and mismatched returns', () => {
    expect(diags('function f(a) { return a }\nprobe begin { f(1) }\nprobe end { f("s") }')).toEqual([
      "3:15 type mismatch for parameter 'a' of 'f': long vs. string",
    ]);
    expect(diags('function f() { if (1) return 1; return "a" }\nprobe begin { f() }')).toEqual([
      "1:33 type mismatch for return value of 'f': long vs. string",
    ]);
  });

  it('array arity, index type and scalar/array mix-ups', () => {
    expect(diags('global a\nprobe begin { a[1] = 1; a[1, 2] = 3 }')).toEqual([
      "2:25 inconsistent arity (1 vs 2)",
    ]);
    expect(diags('global a\nprobe begin { a[1, "x"] = 1; foreach ([i, j] in a) { } if ([1] in a) print(1) }')).toEqual([
      "2:67 inconsistent arity (2 vs 1)",
    ]);
    expect(diags('global a\nprobe begin { a[1] = 1; if ("x" in a) print(1) }')).toEqual([
      "2:29 type mismatch for index 1 of array 'a': long vs. string",
    ]);
    expect(diags('global a\nprobe begin { a[1] = 1; x = a }')).toEqual(['2:29 inconsistent arity (1 vs 0)']);
    expect(diags('probe begin { a[1] = 1 }')).toEqual(['1:15 unresolved arity-1 global array a, missing global declaration?']);
  });

  it("an arity mismatch chains stap's 'arity N first inferred here' at the first use", () => {
    try {
      compileSource('global a\nprobe begin { a[1] = 1; a[1, 2] = 3 }', FILE, 2);
      expect.unreachable();
    } catch (e) {
      if (!(e instanceof DiagnosticError)) throw e;
      const chain = e.diagnostics[0].chain;
      expect(chain && `${chain.severity}: ${chain.message} ${chain.loc?.line}:${chain.loc?.col}`).toBe('semantic error: arity 1 first inferred here 2:15');
    }
    // the CLI prints the chain after the error, as stap's print_error does
    const r = runTapvmSync(['-p2', '-e', 'global a\nprobe begin { a[1] = 1; x = a }']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^semantic error: inconsistent arity \(1 vs 0\)\n {8}at: <input>:2:29\n[^]*semantic error: arity 1 first inferred here\n {8}at: <input>:2:15\n/);
  });

  it('calling an unknown function: stap\'s "unresolved function (similar: ...)", the five closest names however far', () => {
    expect(diags('probe begin { prnt("x") }')).toEqual(['1:15 unresolved function (similar: print, printf, sprint, exit, pid)']);
    expect(diags('function total() { return 1 }\nprobe begin { totl() }')[0]).toMatch(/^2:15 unresolved function \(similar: total, [a-z_]+, [a-z_]+, [a-z_]+, [a-z_]+\)$/);
  });

  it('wrong argument count for a builtin and for a user function', () => {
    expect(diags('probe begin { x = pid(1) }')).toEqual(["1:19 function 'pid' takes 0 argument(s), got 1"]);
    expect(diags('probe begin { error() }')).toEqual(["1:15 function 'error' takes 1 argument(s), got 0"]);
    expect(diags('function f(a, b) { return a + b }\nprobe begin { f(1) }')).toEqual([
      "2:15 function 'f' takes 2 argument(s), got 1",
    ]);
  });

  it('wrong argument type for a builtin', () => {
    expect(diags('probe begin { error(1) }')).toEqual(['1:21 type mismatch: expected string, found long']);
  });

  it('sprintf is typed like printf, gives a string, and refuses %b %m %M', () => {
    expect(diags('probe begin { x = sprintf("%d", 1); x = 2 }')).toEqual(["1:37 type mismatch for identifier 'x': string vs. long", '1:37 type mismatch in assignment: string = long']);
    expect(diags('probe begin { s = sprintf("%d %s", 1) }')).toEqual(['1:19 sprintf format expects 2 argument(s), got 1']);
    expect(diags('probe begin { s = sprintf("%s", 1) }')).toEqual(['1:33 type mismatch: expected string, found long']);
    expect(diags('probe begin { f = "%d"; s = sprintf(f, 1) }')).toEqual(['1:29 sprintf needs a literal format string']);
    expect(diags('probe begin { s = sprintf("%4b", 1) }')).toEqual(['1:27 sprintf cannot format %b in this build (printf can)']);
    expect(diags('probe begin { s = sprint(1) . sprintln("a") }')).toEqual([]);
  });

  it('printf argument count and type mismatches, and bad formats', () => {
    expect(diags('probe begin { printf("%d %s\\n", 1) }')).toEqual(['1:15 printf format expects 2 argument(s), got 1']);
    expect(diags('probe begin { printf("x\\n", 1) }')).toEqual(['1:15 printf format expects 0 argument(s), got 1']);
    expect(diags('probe begin { printf("%d\\n", "a") }')).toEqual(['1:30 type mismatch: expected long, found string']);
    expect(diags('probe begin { printf("%s\\n", 1) }')).toEqual(['1:30 type mismatch: expected string, found long']);
    expect(diags('probe begin { printf("%*d\\n", "w", 1) }')).toEqual(['1:31 type mismatch: expected long, found string']);
    expect(diags('probe begin { fmt = "%d"; printf(fmt, 1) }')).toEqual(['1:27 printf needs a literal format string']);
    expect(diags('probe begin { printf("%q\\n", 1) }')).toEqual([
      '1:22 invalid format string: invalid or missing conversion specifier',
    ]);
  });

  it('$context variables in begin/timer probes and in functions', () => {
    expect(diags('probe begin { x = $foo }')).toEqual([
      "1:15 unresolved type for identifier 'x'",
      "1:19 unable to find context variable '$foo' in begin",
    ]);
    expect(diags('probe timer.ms(100) { printf("%d\\n", $count) }')).toEqual([
      "1:38 unable to find context variable '$count' in timer.ms(100)",
    ]);
    expect(diags('function f() { return $foo }\nprobe begin { f() }')).toEqual([
      "1:23 context variable '$foo' used outside a probe",
    ]);
  });

  it('break/continue outside a loop, return in a probe (next in a function is fine: it ends the handler)', () => {
    expect(diags('probe begin { break }')).toEqual(["1:15 'break' outside a loop"]);
    expect(diags('probe begin { while (1) { break } continue }')).toEqual(["1:35 'continue' outside a loop"]);
    expect(diags('function g() { continue }\nprobe begin { g() }')).toEqual(["1:16 'continue' outside a loop"]);
    expect(diags('function f() { next }\nprobe begin { f() }')).toEqual([]);
    expect(diags('probe begin { return 1 }')).toEqual(["1:15 'return' outside a function"]);
    expect(diags('probe end { if (1) return }')).toEqual(["1:20 'return' outside a function"]);
  });

  it('unresolved types', () => {
    expect(diags('probe begin { x = y }')).toEqual([
      "1:15 unresolved type for identifier 'x'",
      "1:19 unresolved type for identifier 'y'",
    ]);
    expect(diags('function f(a) { }\nprobe begin { }')).toEqual(["1:12 unresolved type for identifier 'a'"]);
    expect(diags('function f(a) { return 1 }\nprobe begin { f(1); print(y) }')).toEqual([
      "2:27 unresolved type for identifier 'y'",
    ]);
    // the array's index: reported at its declaration
    expect(diags('global a\nprobe begin { foreach (k in a) print(k) }')).toEqual([
      "1:8 unresolved type for index 1 of array 'a'",
      "2:24 unresolved type for identifier 'k'",
    ]);
  });

  it('using the result of a void function (used to crash the code generator)', () => {
    expect(diags('function noret() { }\nprobe begin { print(noret()) }')).toEqual([
      "2:21 function 'noret' returns no value: its result cannot be used",
    ]);
    expect(diags('probe begin { x = 1; y = x == exit() }')).toEqual([
      "1:31 function 'exit' returns no value: its result cannot be used",
    ]);
    expect(diags('probe begin { x = 1 + print(2) }')).toEqual([
      "1:23 function 'print' returns no value: its result cannot be used",
    ]);
    // as a statement, also a for's init and step, it is fine
    expect(diags('function noret() { }\nprobe begin { noret(); for (noret(); 0; noret()) { } exit() }')).toEqual([]);
  });

  it('duplicate globals and functions (a builtin too)', () => {
    expect(diags('global g, g\nprobe begin { }')).toEqual(["1:11 duplicate global 'g'"]);
    // two of one name and arity are an overload chain (stap 3), not a duplicate
    expect(diags('function f() { }\nfunction f() { }\nprobe begin { }')).toEqual([]);
    expect(diags('function pid() { return 1 }\nprobe begin { }')).toEqual(["1:1 duplicate function 'pid'"]);
  });

  it('sorts the errors of several statements by position', () => {
    expect(diags('probe begin {\n  x = 1; x = "s"\n  break\n  y = undefined_fn()\n}')).toEqual([
      "2:10 type mismatch for identifier 'x': long vs. string",
      '2:10 type mismatch in assignment: long = string',
      "3:3 'break' outside a loop",
      "4:3 unresolved type for identifier 'y'",
      '4:7 unresolved function (similar: kernel_int, egid, euid, jiffies, kernel_long)',
    ]);
  });
});

describe('probe points', () => {
  it('an unknown family: stap\'s "while resolving probe point", then "probe point mismatch (similar: ...)" at the component', () => {
    expect(diags('probe begn { }')).toEqual(["1:7 while resolving probe point: identifier 'begn'", '1:7 probe point mismatch (similar: begin, end, perf, init, kernel)']);
    expect(diags('probe begin, end, bgein { }')[1]).toMatch(/^1:19 probe point mismatch \(similar: begin, /);
    expect(diags('probe tmer.s(1) { }')[1]).toMatch(/^1:7 probe point mismatch \(similar: timer, /);
  });

  it('an optional point that does not resolve is dropped', () => {
    expect(diags('probe begn?, begin { }')).toEqual([]);
    expect(resolved('probe begn?, begin { }').probes.map((p) => p.point.pp)).toEqual(['begin']);
  });

  it('bad timers', () => {
    expect(diags('probe timer.ms(0) { }')).toEqual(['1:7 timer.ms needs a positive number']);
    expect(diags('probe timer.ms { }')).toEqual(['1:7 timer.ms needs a positive number']);
    expect(diags('probe timer.s("x") { }')).toEqual(['1:7 timer.s needs a positive number']);
    expect(diags('probe timer.foo(1) { }')).toEqual(["1:7 unknown timer unit 'foo'"]);
    expect(diags('probe timer.us(10) { }')).toEqual(["1:7 timer period 10000ns is below the user-space timer's 1ms resolution"]);
    expect(diags('probe timer.hz(2000) { }')).toEqual(["1:7 timer period 500000ns is below the user-space timer's 1ms resolution"]);
    const timers = 'expected timer.s(N), timer.ms(N), timer.us(N), timer.ns(N), timer.hz(N) or timer.jiffies(N)';
    expect(diags('probe timer { }')).toEqual([`1:7 ${timers}`]);
    expect(diags('probe timer.s(1).foo { }')).toEqual([`1:7 ${timers}`]);
  });

  it('bad begin/end points', () => {
    expect(diags('probe begin.foo { }')).toEqual(["1:7 unexpected component 'foo' after begin"]);
    expect(diags('probe end("x") { }')).toEqual(['1:7 end takes a number']);
  });

  it('resolves good points with their canonical pp and attach', () => {
    const r = resolved('probe begin, end(5), timer.ms(250), timer.hz(10), timer.jiffies(2) { }');
    expect(r.probes.map((p) => [p.point.pp, p.point.target, p.point.attach])).toEqual([
      ['begin', 'user', { family: 'begin', order: 0 }],
      ['end(5)', 'user', { family: 'end', order: 5 }],
      ['timer.ms(250)', 'user', { family: 'timer', periodNs: 250_000_000n }],
      ['timer.hz(10)', 'user', { family: 'timer', periodNs: 100_000_000n }],
      ['timer.jiffies(2)', 'user', { family: 'timer', periodNs: 8_000_000n }],
    ]);
  });
});

describe('slices (elaborate.cxx: symresolution_info::visit_arrayindex, visit_foreach_loop)', () => {
  it('accepts * in `in`, delete and a foreach slice, typing the array from the fixed indices', () => {
    const r = resolved(
      'global a, s\nprobe begin { a["k", 1] = 1; s[1, 2] <<< 3\n' +
        '  if ([*, 1] in a || [x, *] in a) delete a[*, y]\n  foreach ([p, q] in a[*, z]) delete s[q, *]\n  foreach ([i, j] in s[*, *]) delete s }',
    );
    expect(glob(r, 'a')).toEqual({ type: 'long', keyTypes: ['string', 'long'] });
    expect(probeLocals(r, 0)).toEqual(['x:string', 'y:long', 'z:long', 'p:string', 'q:long', 'i:long', 'j:long']);
  });

  it('refuses * in an ordinary index (read, write, ++, <<<, @count), with stap\'s text at the array', () => {
    expect(diags('global a, s\nprobe begin { a[1] = 1; s[1] <<< 1\n  x = a[*]; a[*] = 2; a[*]++; s[*] <<< 1; y = @count(s[*]) }')).toEqual([
      '3:7 wildcard not allowed in array index',
      '3:13 wildcard not allowed in array index',
      '3:23 wildcard not allowed in array index',
      '3:31 wildcard not allowed in array index',
      '3:54 wildcard not allowed in array index',
    ]);
  });

  it('wants one slice index per foreach key (stap\'s "unresolved arity" text) and fixed indices of the array\'s types', () => {
    expect(diags('global a\nprobe begin { a[1, 2] = 1; foreach ([p, q] in a[1]) { } }')).toEqual([
      '2:47 unresolved arity-1 global array a, missing global declaration?',
    ]);
    expect(diags('global a\nprobe begin { a[1, "x"] = 1; foreach ([p, q] in a["y", *]) { } if ([*, 2] in a) delete a[*, 3] }')).toEqual([
      "2:51 type mismatch for index 1 of array 'a': long vs. string",
      "2:72 type mismatch for index 2 of array 'a': string vs. long",
      "2:93 type mismatch for index 2 of array 'a': string vs. long",
    ]);
    expect(diags('global a\nprobe begin { a[1, 2] = 1; if ([*] in a) print(1) }')).toEqual([
      "2:39 inconsistent arity (2 vs 1)",
    ]);
  });
});

describe("stap's rule for the array a foreach iterates (elaborate.cxx: semantic_pass_vars)", () => {
  it('refuses writing or deleting its elements in the loop, nested loops and limit included', () => {
    expect(
      diags(
        'global a, b, s\nprobe begin { a[1] = 1; b[1] = 1; s[1] <<< 1\n' +
          '  foreach (k in a) { a[k] = 2; a[k]++; a[k] += 1; delete a[k]; delete a[*] }\n' +
          '  foreach (k in b) foreach (j in a) { b[j] = 1 }\n  foreach (k in s) s[k] <<< 1 }',
      ),
    ).toEqual([
      "3:22 variable 'a' modified during 'foreach' iteration",
      "3:32 variable 'a' modified during 'foreach' iteration",
      "3:40 variable 'a' modified during 'foreach' iteration",
      "3:58 variable 'a' modified during 'foreach' iteration",
      "3:71 variable 'a' modified during 'foreach' iteration",
      "4:39 variable 'b' modified during 'foreach' iteration",
      "5:20 variable 's' modified during 'foreach' iteration",
    ]);
  });

  it('refuses calling a function that writes an element of it (directly), at the call', () => {
    expect(diags('global a\nfunction f() { a[2] = 1 }\nfunction g() { f() }\nprobe begin { a[1] = 1; foreach (k in a) { g(); f() } }')).toEqual([
      "4:49 function call modifies var 'a' during 'foreach' iteration",
    ]);
    expect(diags('global a\nfunction f() { foreach (k in a) a[k] = 0 }\nprobe begin { a[1] = 1; f() }')).toEqual([
      "2:33 variable 'a' modified during 'foreach' iteration",
    ]);
  });

  it('allows what stap allows: reading it, `delete a` of the whole array, writing other arrays, writing it after the loop', () => {
    expect(
      diags('global a, b\nfunction f() { delete a }\nprobe begin { a[1] = 1; foreach (k in a) { b[k] = a[k]; delete a; f(); x = k in a } a[2] = 2; b[1] = x }'),
    ).toEqual([]);
  });
});
