// The resolver on stap's declarations (issue 3): declared function and parameter types seed
// type inference (a conflicting use names the declaration too), `private` changes nothing,
// `global a[N]` is an array with maxEntries N even when unused, `%` arrays get an order array, and a
// foreach sort directive leaves inference alone.
import { describe, expect, it } from 'vitest';
import { compileSource } from '../../src/compile/index';
import { DiagnosticError } from '../../src/diag/diagnostic';
import type { ResolvedProgram } from '../../src/resolve/resolve';
import { Op } from '../../src/isa/opcodes';
import { spawnSync } from 'child_process';
import * as path from 'path';

const TAPVM = path.join(__dirname, '../../bin/tapvm');

const FILE = 'r.stp';

function resolved(src: string): ResolvedProgram {
  return compileSource(src, FILE, 2).resolved!;
}

/** Every diagnostic of passes 1-2 as `line:col message`; [] when the script resolves. */
function diags(src: string): string[] {
  try {
    compileSource(src, FILE, 2);
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

function fn(r: ResolvedProgram, name: string): { ret: string | undefined; locals: string[] } {
  const f = r.functions.get(name)!;
  return { ret: f.ret, locals: [...f.locals.values()].map((l) => `${l.name}:${l.type}${l.param ? ' (param)' : ''}`) };
}

const probeLocals = (r: ResolvedProgram, i: number): string[] => [...r.probes[i].locals.values()].map((l) => `${l.name}:${l.type}`);

describe('declared types', () => {
  it('type a function that is never called, which inference alone cannot', () => {
    const r = resolved('function f:string (a:long, b:string) { }\nfunction g:long () { }\nprobe begin { }');
    expect(fn(r, 'f')).toEqual({ ret: 'string', locals: ['a:long (param)', 'b:string (param)'] });
    expect(fn(r, 'g')).toEqual({ ret: 'long', locals: [] });
    // without the declarations: nothing to infer from
    expect(diags('function f(a) { }\nprobe begin { }')).toEqual(["1:12 unresolved type for identifier 'a'"]);
  });

  it('seed inference both ways: into the body, the callers and untyped parameters', () => {
    const r = resolved(
      [
        'function f:string (n:long, s) { t = s; m = n; return s }',
        'probe begin { x = f(i, j); y = g() }',
        'function g:long () { }',
      ].join('\n'),
    );
    // s is a string through `return s` (the declared return type pushed down)
    expect(fn(r, 'f')).toEqual({ ret: 'string', locals: ['n:long (param)', 's:string (param)', 't:string', 'm:long'] });
    expect(probeLocals(r, 0)).toEqual(['i:long', 'j:string', 'x:string', 'y:long']);
  });

  it('report a conflicting use at the use, naming the declaration', () => {
    expect(diags('function f(a:long) { return a . "x" }\nprobe begin { f(1) }')).toEqual([
      "1:29 type mismatch for identifier 'a': long vs. string (declared long at r.stp:1:12)",
      '1:29 type mismatch: expected string, found long (declared long at r.stp:1:12)',
    ]);
    expect(diags('function f(a:long, b) { }\nprobe begin { f("s", 1) }')).toEqual([
      "2:17 type mismatch for parameter 'a' of 'f': long vs. string (declared long at r.stp:1:12)",
    ]);
    expect(diags('function f:long () { return "s" }\nprobe begin { f() }')).toEqual([
      "1:22 type mismatch for return value of 'f': long vs. string (declared long at r.stp:1:1)",
    ]);
    expect(diags('function f:string () { }\nprobe begin { x = f() + 1 }')).toEqual([
      '2:19 type mismatch: expected long, found string (declared string at r.stp:1:1)',
    ]);
    expect(diags('function f:long () { }\nprobe begin { s = "a"; s = f() }')).toEqual([
      "2:24 type mismatch for identifier 's': string vs. long",
      '2:24 type mismatch in assignment: string = long (declared long at r.stp:1:1)',
    ]);
    expect(diags('function f(a:string) { if (a == 1) next }\nprobe begin { f("") }')).toEqual([
      "1:28 type mismatch: comparing string with long (declared string at r.stp:1:12)",
    ]);
  });

  it('agree with inference when the uses agree', () => {
    expect(diags('function f:long (a:long, b:string) { return a + 1 }\nprobe begin { x = f(2, "s") * 3 }')).toEqual([]);
  });
});

describe('private', () => {
  it('resolves like any global or function', () => {
    const r = resolved('private global p = 4; private q\nprivate function g:long (z) { return z * p }\nprobe begin { q = g(2) }');
    expect(r.globals.get('p')).toMatchObject({ type: 'long' });
    expect(r.globals.get('q')).toMatchObject({ type: 'long' });
    expect(fn(r, 'g')).toEqual({ ret: 'long', locals: ['z:long (param)'] });
    expect(diags('private global a\nglobal a\nprobe begin { }')).toEqual(["2:8 duplicate global 'a'"]);
  });
});

describe('sized and wrap-around arrays', () => {
  it('global a[N] sets maxEntries; an unused one is still an array, without index types', () => {
    const r = resolved('global a[10], u[3], n\nprobe begin { a["k"] = 1; n = 2 }');
    expect(r.globals.get('a')).toMatchObject({ maxEntries: 10, keyTypes: ['string'], type: 'long' });
    expect(r.globals.get('u')?.maxEntries).toBe(3);
    expect(r.globals.get('u')?.keyTypes).toBeUndefined();
    expect(r.globals.get('n')?.maxEntries).toBeUndefined();
  });

  it('a sized array used as a scalar is an error; deleting an unused one is not', () => {
    // stap's vardecl::set_arity: a sized array's scalar use is 'inconsistent arity' at its declaration
    expect(diags('global a[10]\nprobe begin { a = 1 }')).toEqual(['1:8 inconsistent arity']);
    expect(diags('global a[10]\nprobe begin { a++ }')).toEqual(['1:8 inconsistent arity']);
    expect(diags('global a[10]\nprobe begin { delete a }')).toEqual([]);
    expect(diags('global a[10]\nprobe begin { a[1, 2] = 1; x = a[3] }')).toEqual([
      "2:28 unresolved type for identifier 'x'",
      "2:32 inconsistent arity (2 vs 1)",
    ]);
  });

  it('accepts wrap-around arrays; a wrap-around array used as a scalar is an error', () => {
    expect(diags('global ok[4], w%, v%[8]\nprobe begin { w[1] = 1; v[2] = 2; ok[3] = 3 }')).toEqual([]);
    expect(resolved('global v%[8]\nprobe begin { v[2] = 2 }').globals.get('v')).toMatchObject({ maxEntries: 8, keyTypes: ['long'] });
    expect(diags('global w%\nprobe begin { w = 1 }')).toEqual(["2:15 array 'w' used as a scalar"]);
  });

  it('-p2 shows the % and the size as stap\'s printsig does', () => {
    const r = spawnSync(TAPVM, ['-p2', '-e', 'global v%[8], w%, s[3]\nprobe begin { v[2] = 2; w["x"] = 1; s[1] = 1 }'], { encoding: 'utf8' });
    expect(r.stdout).toContain('# globals\nv%[8]:long [long]\nw%:long [string]\ns[3]:long [long]\n');
  });

  it('compiles AWRAP before each write that may create an element, and deletes the order array with the array', () => {
    const img = compileSource('global v%[8]\nprobe begin { v[1] = 1; v[2]++; v[3] += 2; delete v[1]; delete v }', FILE).image!;
    const order = img.arrays.find((a) => a.name === 'v.order')!;
    const v = img.arrays.find((a) => a.name === 'v')!;
    expect(v.wrap).toEqual({ order: order.id, seq: img.globals.find((g) => g.name === 'v.seq')!.slot });
    expect(order).toMatchObject({ cls: v.cls, maxEntries: 8, valueType: 'long' });
    const ops = img.code.map((w) => Number(w & 0xffn));
    expect(ops.filter((o) => o === Op.AWRAP)).toHaveLength(3);
    expect(ops.filter((o) => o === Op.ADEL)).toHaveLength(2);
    expect(ops.filter((o) => o === Op.ACLR)).toHaveLength(2);
  });
});

describe('foreach sort directives', () => {
  it('leave key and value inference as it was', () => {
    const r = resolved('global m\nprobe begin { m["a", 1] = "v"; foreach (v = [s, n-] in m limit 2) { x = v; y = s; z = n } }');
    expect(probeLocals(r, 0)).toEqual(['s:string', 'n:long', 'v:string', 'x:string', 'y:string', 'z:long']);
    expect(diags('global m\nprobe begin { foreach (k+ in m) print(k) }')).toEqual([
      "1:8 unresolved type for index 1 of array 'm'",
      "2:24 unresolved type for identifier 'k'",
    ]);
  });
});
