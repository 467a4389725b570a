// The front end for stap's declarations and foreach sorting (issue 3): typed functions and
// parameters, the function priority suffix, `private`, sized and wrap-around arrays, and the
// foreach sort directives — AST shapes, locations, parse errors (message, line, col) and
// printScript round trips. Syntax as stap's parser (parse.cxx: do_parse_global,
// do_parse_functiondecl, parse_foreach_loop).
import { describe, expect, it } from 'vitest';
import { parseScript, printScript } from '../../src/parse/index';
import { DiagnosticError } from '../../src/diag/diagnostic';
import type { ForeachStmt, FunctionDecl, GlobalDecl, ProbeDecl, Script, Stmt } from '../../src/parse/ast';
import { strip } from './helpers';


const FILE = 'lang.stp';
const parse = (src: string): Script => parseScript(src, FILE);
const items = (src: string) => strip(parse(src)).items;
const stmts = (src: string): Stmt[] => (strip(parse(`probe begin { ${src} }`)).items[0] as ProbeDecl).body.stmts;

/** The single parse error of src as `line:col message`. */
function fail(src: string): string {
  try {
    parse(src);
  } catch (e) {
    expect(e).toBeInstanceOf(DiagnosticError);
    const d = (e as DiagnosticError).diagnostics;
    expect(d).toHaveLength(1);
    expect(d[0].severity).toBe('parse error');
    expect(d[0].loc?.file).toBe(FILE);
    return `${d[0].loc?.line}:${d[0].loc?.col} ${d[0].message}`;
  }
  throw new Error(`expected a parse error for: ${src}`);
}

const id = (name: string) => ({ kind: 'ident', name });
const num = (v: number) => ({ kind: 'number', value: BigInt(v) });
const body = { kind: 'exprstmt', expr: id('x') };
const empty = { kind: 'block', stmts: [] };

describe('typed functions', () => {
  it('parses return and parameter types, typed and untyped parameters mixed', () => {
    expect(items('function f:string (a:long, b:string, c) { } function g:long() { } function h(x) { }')).toEqual([
      {
        kind: 'function',
        name: 'f',
        type: 'string',
        params: [
          { name: 'a', type: 'long' },
          { name: 'b', type: 'string' },
          { name: 'c' },
        ],
        body: empty,
      },
      { kind: 'function', name: 'g', type: 'long', params: [], body: empty },
      { kind: 'function', name: 'h', params: [{ name: 'x' }], body: empty },
    ]);
    const f = parse('function f (a : long) { }').items[0] as FunctionDecl;
    expect('type' in f).toBe(false);
    expect(f.params[0]).toMatchObject({ name: 'a', type: 'long', loc: { line: 1, col: 13 } });
  });

  it('parses and keeps the priority suffix `:N` after the parameters', () => {
    expect(items('function f() :5 { } function g:long (a) : 0x10 { }')).toEqual([
      { kind: 'function', name: 'f', params: [], priority: 5n, body: empty },
      { kind: 'function', name: 'g', type: 'long', params: [{ name: 'a' }], priority: 16n, body: empty },
    ]);
  });

  it.each([
    ['function f:int () { }', "1:12 expected 'string' or 'long'"],
    ['function f(a:double) { }', "1:14 expected 'string' or 'long'"],
    ['function f(a:long b) { }', "1:19 expected ',' or ')'"],
    ['function f(a, b, a) { }', '1:18 duplicate parameter names'],
    ['function f(a:long, a:string) { }', '1:20 duplicate parameter names'],
    ['function f() :0 { }', '1:15 specified priority must be > 0'],
    ['function f() :-3 { }', '1:15 specified priority must be > 0'],
    ['function f() :"x" { }', '1:15 expected literal number'],
    ['function f() : { }', '1:16 expected literal number'],
  ])('%j -> %s', (src, want) => {
    expect(fail(src)).toBe(want);
  });
});

describe('private', () => {
  it('marks globals (private global, private NAME) and functions; private global takes a list', () => {
    expect(items('private global a, b = 1; private c, d[4] private function f:long () { } global e')).toEqual([
      { kind: 'global', name: 'a', private: true },
      { kind: 'global', name: 'b', init: num(1), private: true },
      { kind: 'global', name: 'c', private: true },
      { kind: 'global', name: 'd', size: num(4), private: true },
      { kind: 'function', name: 'f', type: 'long', params: [], body: empty, private: true },
      { kind: 'global', name: 'e' },
    ]);
  });

  it('is a keyword', () => {
    expect(fail('private probe begin { }')).toBe("1:9 expected identifier, 'function' or 'global'");
    expect(fail('probe begin { private = 1 }')).toBe('1:15 expected statement');
  });
});

describe('sized and wrap-around arrays', () => {
  it('parses `[N]` and `%` in stap order (name, %, [N], = init)', () => {
    expect(items('global a[10], b%[5], c%, d = 1, e[0x10]; global f[2147483647]')).toEqual([
      { kind: 'global', name: 'a', size: num(10) },
      { kind: 'global', name: 'b', wrap: true, size: num(5) },
      { kind: 'global', name: 'c', wrap: true },
      { kind: 'global', name: 'd', init: num(1) },
      { kind: 'global', name: 'e', size: num(16) },
      { kind: 'global', name: 'f', size: num(2147483647) },
    ]);
    const g = parse('global  a[ 7 ]').items[0] as GlobalDecl;
    expect(g.loc).toMatchObject({ line: 1, col: 9 });
    expect(g.size?.loc).toMatchObject({ line: 1, col: 12 });
  });

  it.each([
    ['global a[0]', '1:10 array size out of range'],
    ['global a[-1]', '1:10 array size out of range'],
    ['global a[2147483648]', '1:10 array size out of range'],
    ['global a[n]', '1:10 expected number'],
    ['global a["x"]', '1:10 expected number'],
    ['global a[4', "1:11 unexpected end-of-file"],
    ['global a[4 5]', "1:12 expected ']'"],
    ['global a[4] = 1', '1:13 only scalar globals can be initialized'],
    ['global a%[4] = "s"', '1:14 only scalar globals can be initialized'],
  ])('%j -> %s', (src, want) => {
    expect(fail(src)).toBe(want);
  });
});

describe('foreach sort directives', () => {
  const fe = (src: string) => stmts(src)[0] as ForeachStmt;

  it('sorts by an index: k+, k-, [a, b+], [a-, b], v = [k+], v = k-', () => {
    expect(fe('foreach (k+ in a) x')).toEqual({ kind: 'foreach', keys: [id('k')], array: id('a'), sort: { column: 1, dir: '+' }, body });
    expect(fe('foreach (k- in a) x').sort).toEqual({ column: 1, dir: '-' });
    expect(fe('foreach ([p, q+] in a) x')).toEqual({
      kind: 'foreach',
      keys: [id('p'), id('q')],
      array: id('a'),
      sort: { column: 2, dir: '+' },
      body,
    });
    expect(fe('foreach ([p-, q] in a) x').sort).toEqual({ column: 1, dir: '-' });
    expect(fe('foreach (v = [p, q-] in a) x')).toEqual({
      kind: 'foreach',
      keys: [id('p'), id('q')],
      value: id('v'),
      array: id('a'),
      sort: { column: 2, dir: '-' },
      body,
    });
    expect(fe('foreach (v = k- in a) x').sort).toEqual({ column: 1, dir: '-' });
  });

  it('sorts by the value: in a+, in a-, v+ = [k], v- = k; with limit after the directive', () => {
    expect(fe('foreach (k in a+) x').sort).toEqual({ column: 0, dir: '+' });
    expect(fe('foreach ([p, q] in a-) x').sort).toEqual({ column: 0, dir: '-' });
    expect(fe('foreach (v+ = [k] in a) x')).toEqual({
      kind: 'foreach',
      keys: [id('k')],
      value: id('v'),
      array: id('a'),
      sort: { column: 0, dir: '+' },
      body,
    });
    expect(fe('foreach (v- = k in a) x').sort).toEqual({ column: 0, dir: '-' });
    expect(fe('foreach (v = [k] in a- limit 3) x')).toEqual({
      kind: 'foreach',
      keys: [id('k')],
      value: id('v'),
      array: id('a'),
      sort: { column: 0, dir: '-' },
      limit: num(3),
      body,
    });
    expect('sort' in fe('foreach (k in a limit 3) x')).toBe(false);
  });

  it('locates the directive at its marker', () => {
    const s = (parse('probe begin {\n  foreach ([p, q -] in a) x\n}').items[0] as ProbeDecl).body.stmts[0] as ForeachStmt;
    expect(s.sort?.loc).toMatchObject({ line: 2, col: 18 });
    const t = (parse('probe begin { foreach (k in a +) x }').items[0] as ProbeDecl).body.stmts[0] as ForeachStmt;
    expect(t.sort?.loc).toMatchObject({ line: 1, col: 31 });
  });

  it.each([
    ['probe begin { foreach ([p+, q-] in a) x }', '1:30 multiple sort directives'],
    ['probe begin { foreach (k+ in a-) x }', '1:31 multiple sort directives'],
    ['probe begin { foreach (v- = [k] in a+) x }', '1:37 multiple sort directives'],
    ['probe begin { foreach (v+ = [k-] in a) x }', '1:31 multiple sort directives'],
    ['probe begin { foreach (k in a limit 2 +) x }', '1:40 expected expression'],
  ])('%j -> %s', (src, want) => {
    expect(fail(src)).toBe(want);
  });
});

describe('slices: `*` in index lists (parse.cxx: parse_symbol, parse_array_in, parse_foreach_loop)', () => {
  const star = { kind: 'wildcard' };
  const str = (value: string) => ({ kind: 'string', value });
  const expr = (src: string) => (stmts(src)[0] as { expr: unknown }).expr;

  it('parses [*, k] in a, [*] in a and delete a[1, *], each * with its location', () => {
    expect(expr('[1, *] in a')).toEqual({ kind: 'in', keys: [num(1), star], array: id('a') });
    expect(expr('[*] in a')).toEqual({ kind: 'in', keys: [star], array: id('a') });
    expect(stmts('delete a[*, "x"]')[0]).toEqual({ kind: 'delete', target: { kind: 'index', array: id('a'), indices: [star, str('x')] } });
    const d = (parse('probe begin {\n  delete a[1,  *]\n}').items[0] as ProbeDecl).body.stmts[0] as { target: { indices: { loc: unknown }[] } };
    expect(d.target.indices[1].loc).toMatchObject({ line: 2, col: 16 });
  });

  it('parses a foreach over a slice, with a value, a sort directive, an aggregate and a limit', () => {
    expect(fe('foreach ([p, q] in a[1, *]) x')).toEqual({ kind: 'foreach', keys: [id('p'), id('q')], array: id('a'), slice: [num(1), star], body });
    expect(fe('foreach (v = [p, q] in a[*, "x"]- limit 2) x')).toEqual({
      kind: 'foreach',
      keys: [id('p'), id('q')],
      value: id('v'),
      array: id('a'),
      slice: [star, str('x')],
      sort: { column: 0, dir: '-' },
      limit: num(2),
      body,
    });
    expect(fe('foreach ([p, q] in s[k, *] @sum+) x')).toMatchObject({ slice: [id('k'), star], sort: { column: 0, dir: '+', aggr: 'sum' } });
  });

  it('leaves a * in an ordinary index to the resolver, and keeps *= an operator', () => {
    expect(expr('a[*] = 3')).toEqual({ kind: 'assign', op: '=', target: { kind: 'index', array: id('a'), indices: [star] }, value: num(3) });
    expect(fail('probe begin { [*=1] in a }')).toBe('1:16 expected expression');
    expect(fail('probe begin { * in a }')).toBe('1:15 expected statement');
    expect(fail('probe begin { foreach (k in a[1 2]) x }')).toBe("1:33 expected ',' or ']'");
  });

  function fe(src: string) {
    return stmts(src)[0] as ForeachStmt;
  }
});

describe('printScript', () => {
  const CORPUS = [
    'function f:string (a:long, b:string, c) { return b } function g:long () :7 { return 1 }',
    'private global a, b = "s"; private c; private function p(x:long) { } global d[100], e%[3], f%',
    `global m
     probe begin {
       foreach (k+ in m) x
       foreach ([a, b-] in m limit 5) x
       foreach (v = [k] in m-) x
       foreach (v+ = k in m) x
       foreach (v = [a+, b] in m) x
     }`,
    `global m
     probe begin {
       if ([1, *] in m || [*] in m) delete m[*, "x"]
       foreach ([a, b] in m[*, 2]) x
       foreach (v = [a, b] in m[k, *] @max- limit 1) x
     }`,
  ];

  it.each(CORPUS.map((s, i) => [i, s]))('round-trips script #%i', (_i, src) => {
    const a = parse(src);
    const printed = printScript(a);
    const b = parse(printed);
    expect(strip(b)).toEqual(strip(a));
    expect(printScript(b)).toBe(printed);
  });

  it('prints the declarations and directives in stap syntax', () => {
    expect(printScript(parse(CORPUS[1]))).toBe(
      [
        'private global a',
        'private global b = "s"',
        'private global c',
        'private function p(x:long) {\n}',
        'global d[100]',
        'global e%[3]',
        'global f%',
        '',
      ].join('\n'),
    );
    expect(printScript(parse(CORPUS[0]))).toBe(
      'function f:string(a:long, b:string, c) {\n  return b;\n}\nfunction g:long() :7 {\n  return 1;\n}\n',
    );
    expect(printScript(parse(CORPUS[2])).split('\n').slice(2, 7)).toEqual([
      '  foreach (k+ in m) x;',
      '  foreach ([a, b-] in m limit 5) x;',
      '  foreach (v = [k] in m-) x;',
      '  foreach (v = [k] in m+) x;',
      '  foreach (v = [a+, b] in m) x;',
    ]);
    expect(printScript(parse(CORPUS[3])).split('\n').slice(2, 5)).toEqual([
      '  if (([1, *] in m) || ([*] in m)) delete m[*, "x"];',
      '  foreach ([a, b] in m[*, 2]) x;',
      '  foreach (v = [a, b] in m[k, *] @max- limit 1) x;',
    ]);
  });
});
