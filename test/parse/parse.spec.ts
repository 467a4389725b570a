import { describe, it, expect } from 'vitest';
import { parseScript, printScript } from '../../src/parse/index';
import { DiagnosticError } from '../../src/diag/diagnostic';
import { strip } from './helpers';
import type {
  AssignOp,
  BinaryOp,
  Block,
  Expr,
  ExprStmt,
  FunctionDecl,
  GlobalDecl,
  Ident,
  IndexExpr,
  ProbeDecl,
  Script,
  Stmt,
} from '../../src/parse/ast';

// ---------------------------------------------------------------- helpers

/** Deep copy without any `loc` fields. */

const FILE = 'test.stp';
const parse = (src: string): Script => parseScript(src, FILE);
const parseNoLoc = (src: string): Script => strip(parse(src));
/** Statements of `probe begin { <src> }`, locs stripped. */
const stmts = (src: string): Stmt[] => (parseNoLoc(`probe begin { ${src} }`).items[0] as ProbeDecl).body.stmts;
/** The expression of the single expression statement `<src>;`, locs stripped. */
const ex = (src: string): Expr => {
  const s = stmts(`${src};`);
  expect(s).toHaveLength(1);
  expect(s[0].kind).toBe('exprstmt');
  return (s[0] as ExprStmt).expr;
};

interface Failure {
  message: string;
  line: number;
  col: number;
  file: string;
}
function fail(src: string): Failure {
  try {
    parse(src);
  } catch (e) {
    expect(e).toBeInstanceOf(DiagnosticError);
    const d = (e as DiagnosticError).diagnostics;
    expect(d).toHaveLength(1);
    expect(d[0].severity).toBe('parse error');
    const loc = d[0].loc!;
    expect((e as Error).message).toBe(`parse error: ${d[0].message}`);
    return { message: d[0].message, line: loc.line, col: loc.col, file: loc.file };
  }
  throw new Error(`expected a parse error for: ${src}`);
}

// AST builders (no locs)
const num = (v: number | bigint) => ({ kind: 'number', value: BigInt(v) }) as Expr;
const str = (value: string) => ({ kind: 'string', value }) as Expr;
const id = (name: string) => ({ kind: 'ident', name }) as Ident;
const tvar = (name: string) => ({ kind: 'tvar', name }) as Expr;
const idx = (array: string, ...indices: Expr[]) => ({ kind: 'index', array: id(array), indices }) as IndexExpr;
const call = (name: string, ...args: Expr[]) => ({ kind: 'call', name, args }) as Expr;
const bin = (op: BinaryOp, left: Expr, right: Expr) => ({ kind: 'binary', op, left, right }) as Expr;
const log = (op: '&&' | '||', left: Expr, right: Expr) => ({ kind: 'logical', op, left, right }) as Expr;
const un = (op: '-' | '+' | '!' | '~', operand: Expr) => ({ kind: 'unary', op, operand }) as Expr;
const asg = (op: AssignOp, target: Ident | IndexExpr, value: Expr) => ({ kind: 'assign', op, target, value }) as Expr;
const pre = (op: '++' | '--', target: Ident | IndexExpr) => ({ kind: 'incdec', op, prefix: true, target }) as Expr;
const post = (op: '++' | '--', target: Ident | IndexExpr) => ({ kind: 'incdec', op, prefix: false, target }) as Expr;
const tern = (cond: Expr, then: Expr, els: Expr) => ({ kind: 'ternary', cond, then, else: els }) as Expr;
const inx = (keys: Expr[], array: string) => ({ kind: 'in', keys, array: id(array) }) as Expr;
const es = (expr: Expr) => ({ kind: 'exprstmt', expr }) as Stmt;
const blk = (...s: object[]) => ({ kind: 'block', stmts: s }) as Block;
const empty = { kind: 'empty' } as Stmt;

// ---------------------------------------------------------------- top level

describe('top level', () => {
  it('parses the reference scripts', () => {
    const a = parseNoLoc(
      'global n; probe syscall.getppid { n++ } probe timer.ms(500) { printf("%d\\n", n); exit() }',
    );
    expect(a).toEqual({
      kind: 'script',
      file: FILE,
      items: [
        { kind: 'global', name: 'n' },
        {
          kind: 'probe',
          points: [{ kind: 'point', optional: false, components: [{ name: 'syscall' }, { name: 'getppid' }] }],
          body: blk(es(post('++', id('n')))),
        },
        {
          kind: 'probe',
          points: [{ kind: 'point', optional: false, components: [{ name: 'timer' }, { name: 'ms', arg: num(500) }] }],
          body: blk(es(call('printf', str('%d\n'), id('n'))), es(call('exit'))),
        },
      ],
    });

    const b = parseNoLoc(
      'global c; probe syscall.openat { c[execname()]++ } probe timer.s(1) { foreach (k in c) printf("%s %d\\n", k, c[k]); exit() }',
    );
    expect(b.items).toHaveLength(3);
    expect((b.items[1] as ProbeDecl).body).toEqual(blk(es(post('++', idx('c', call('execname'))))));
    expect((b.items[2] as ProbeDecl).body).toEqual(
      blk(
        {
          kind: 'foreach',
          keys: [id('k')],
          array: id('c'),
          body: es(call('printf', str('%s %d\n'), id('k'), idx('c', id('k')))),
        },
        es(call('exit')),
      ),
    );

    const c = parseNoLoc('probe kernel.trace("sched:sched_process_exec") { printf("%s\\n", execname()); exit() }');
    expect(c.items).toEqual([
      {
        kind: 'probe',
        points: [
          {
            kind: 'point',
            optional: false,
            components: [{ name: 'kernel' }, { name: 'trace', arg: str('sched:sched_process_exec') }],
          },
        ],
        body: blk(es(call('printf', str('%s\n'), call('execname'))), es(call('exit'))),
      },
    ]);
  });

  it('parses an empty script and one made only of separators/comments', () => {
    expect(parseNoLoc('')).toEqual({ kind: 'script', file: FILE, items: [] });
    expect(parseNoLoc(' ;; # c\n // d\n /* e */ ;')).toEqual({ kind: 'script', file: FILE, items: [] });
  });

  it('parses probe points: several, optional, keyword and wildcard components, args', () => {
    const p = parseNoLoc(
      'probe begin, end, syscall.openat.return, timer.ms(500), kernel.function("*@fs/*.c")?, syscall.*, process(-1).end {}',
    ).items[0] as ProbeDecl;
    expect(p.points).toEqual([
      { kind: 'point', optional: false, components: [{ name: 'begin' }] },
      { kind: 'point', optional: false, components: [{ name: 'end' }] },
      { kind: 'point', optional: false, components: [{ name: 'syscall' }, { name: 'openat' }, { name: 'return' }] },
      { kind: 'point', optional: false, components: [{ name: 'timer' }, { name: 'ms', arg: num(500) }] },
      { kind: 'point', optional: true, components: [{ name: 'kernel' }, { name: 'function', arg: str('*@fs/*.c') }] },
      { kind: 'point', optional: false, components: [{ name: 'syscall' }, { name: '*' }] },
      { kind: 'point', optional: false, components: [{ name: 'process', arg: num(-1) }, { name: 'end' }] },
    ]);
    expect(p.body).toEqual(blk());
  });

  it('parses globals: one decl per name, number/negative/string inits, optional ;', () => {
    const items = parseNoLoc('global x global y = 5; global a, b = "s", c, d = -1, e = 0x10 global f = -9223372036854775808')
      .items as GlobalDecl[];
    expect(items).toEqual([
      { kind: 'global', name: 'x' },
      { kind: 'global', name: 'y', init: num(5) },
      { kind: 'global', name: 'a' },
      { kind: 'global', name: 'b', init: str('s') },
      { kind: 'global', name: 'c' },
      { kind: 'global', name: 'd', init: num(-1) },
      { kind: 'global', name: 'e', init: num(16) },
      { kind: 'global', name: 'f', init: num(-9223372036854775808n) },
    ]);
    expect('init' in items[0]).toBe(false);
  });

  it('parses functions with zero or more params', () => {
    const items = parseNoLoc('function f() { return 1 } function add(a, b) { return a + b; }').items as FunctionDecl[];
    expect(items).toEqual([
      { kind: 'function', name: 'f', params: [], body: blk({ kind: 'return', value: num(1) }) },
      {
        kind: 'function',
        name: 'add',
        params: [{ name: 'a' }, { name: 'b' }],
        body: blk({ kind: 'return', value: bin('+', id('a'), id('b')) }),
      },
    ]);
  });

  it('accepts all comment styles and whitespace anywhere', () => {
    const src = `# shell comment
probe /* c1 */ begin // c2
/* multi
   line */ {
  x = /* inline */ 1 # trailing
  y=2//x
}`;
    expect((parseNoLoc(src).items[0] as ProbeDecl).body).toEqual(
      blk(es(asg('=', id('x'), num(1))), es(asg('=', id('y'), num(2)))),
    );
  });
});

// ---------------------------------------------------------------- statements

describe('statements', () => {
  it('parses try/catch with and without an error variable', () => {
    expect(stmts('try { x = 1 } catch { y = 2 }')).toEqual([
      { kind: 'try', body: { kind: 'block', stmts: [es(asg('=', id('x'), num(1)))] }, handler: { kind: 'block', stmts: [es(asg('=', id('y'), num(2)))] } },
    ]);
    expect(stmts('try {} catch (msg) { println(msg) } ;')).toEqual([
      { kind: 'try', body: { kind: 'block', stmts: [] }, var: id('msg'), handler: { kind: 'block', stmts: [es(call('println', id('msg')))] } },
      empty,
    ]);
    expect(fail('probe begin { try x = 1 catch {} }')).toEqual({ message: "expected '{'", line: 1, col: 19, file: FILE });
    expect(fail('probe begin { try {} }')).toEqual({ message: "expected 'catch'", line: 1, col: 22, file: FILE });
    expect(fail('probe begin { try {} catch (1) {} }')).toEqual({ message: 'expected identifier', line: 1, col: 29, file: FILE });
    expect(printScript(parse('probe begin { try { error("x") } catch (m) { println(m) } }'))).toBe(
      ['probe begin {', '  try {', '    error("x");', '  } catch (m) {', '    println(m);', '  }', '}', ''].join('\n'),
    );
  });

  it('treats ; as optional terminator and as empty statement', () => {
    expect(stmts('n++')).toEqual([es(post('++', id('n')))]);
    expect(stmts('x = 1 y = 2')).toEqual([es(asg('=', id('x'), num(1))), es(asg('=', id('y'), num(2)))]);
    expect(stmts('x = 1; y = 2;')).toEqual([es(asg('=', id('x'), num(1))), es(asg('=', id('y'), num(2)))]);
    expect(stmts(';')).toEqual([empty]);
    expect(stmts('x;;')).toEqual([es(id('x')), empty]);
    expect(stmts('next; break; continue; return; delete a;')).toEqual([
      { kind: 'next' },
      { kind: 'break' },
      { kind: 'continue' },
      { kind: 'return' },
      { kind: 'delete', target: id('a') },
    ]);
    // block-like statements do not swallow a following ';' (as in stap)
    expect(stmts('{ x } ;')).toEqual([blk(es(id('x'))), empty]);
    expect(stmts('while (1) {} ;')).toEqual([{ kind: 'while', cond: num(1), body: blk() }, empty]);
    expect(stmts('while (1) x; ;')).toEqual([{ kind: 'while', cond: num(1), body: es(id('x')) }, empty]);
  });

  it('parses nested blocks', () => {
    expect(stmts('{ { } { x } }')).toEqual([blk(blk(), blk(es(id('x'))))]);
  });

  it('parses if / else, binding else to the nearest if', () => {
    expect(stmts('if (a) x')).toEqual([{ kind: 'if', cond: id('a'), then: es(id('x')) }]);
    expect(stmts('if (a) x; else y')).toEqual([{ kind: 'if', cond: id('a'), then: es(id('x')), else: es(id('y')) }]);
    expect(stmts('if (a) x else y')).toEqual([{ kind: 'if', cond: id('a'), then: es(id('x')), else: es(id('y')) }]);
    expect(stmts('if (a) { x } else if (b) y else { z }')).toEqual([
      {
        kind: 'if',
        cond: id('a'),
        then: blk(es(id('x'))),
        else: { kind: 'if', cond: id('b'), then: es(id('y')), else: blk(es(id('z'))) },
      },
    ]);
    expect(stmts('if (a) if (b) x else y')).toEqual([
      { kind: 'if', cond: id('a'), then: { kind: 'if', cond: id('b'), then: es(id('x')), else: es(id('y')) } },
    ]);
    expect(stmts('if (a) ; else y')).toEqual([{ kind: 'if', cond: id('a'), then: empty, else: es(id('y')) }]);
  });

  it('parses while and for with optional parts', () => {
    expect(stmts('while (i < 10) i++')).toEqual([
      { kind: 'while', cond: bin('<', id('i'), num(10)), body: es(post('++', id('i'))) },
    ]);
    expect(stmts('for (i = 0; i < 10; i++) { s += i }')).toEqual([
      {
        kind: 'for',
        init: asg('=', id('i'), num(0)),
        cond: bin('<', id('i'), num(10)),
        step: post('++', id('i')),
        body: blk(es(asg('+=', id('s'), id('i')))),
      },
    ]);
    expect(stmts('for (;;) break')).toEqual([{ kind: 'for', body: { kind: 'break' } }]);
    expect(stmts('for (; x;) ;')).toEqual([{ kind: 'for', cond: id('x'), body: empty }]);
  });

  it('parses all foreach forms', () => {
    const body = es(id('s'));
    expect(stmts('foreach (k in a) s')).toEqual([{ kind: 'foreach', keys: [id('k')], array: id('a'), body }]);
    expect(stmts('foreach ([k1, k2] in a) s')).toEqual([
      { kind: 'foreach', keys: [id('k1'), id('k2')], array: id('a'), body },
    ]);
    expect(stmts('foreach (v = [k1, k2] in a) s')).toEqual([
      { kind: 'foreach', keys: [id('k1'), id('k2')], value: id('v'), array: id('a'), body },
    ]);
    expect(stmts('foreach (v = k in a) s')).toEqual([
      { kind: 'foreach', keys: [id('k')], value: id('v'), array: id('a'), body },
    ]);
    expect(stmts('foreach ([k] in a limit n + 1) { s }')).toEqual([
      { kind: 'foreach', keys: [id('k')], array: id('a'), limit: bin('+', id('n'), num(1)), body: blk(body) },
    ]);
  });

  it('parses return with and without value, and delete forms', () => {
    expect(stmts('return')).toEqual([{ kind: 'return' }]);
    expect(stmts('return x * 2')).toEqual([{ kind: 'return', value: bin('*', id('x'), num(2)) }]);
    expect(stmts('delete a[k1, k2] delete a; delete x')).toEqual([
      { kind: 'delete', target: idx('a', id('k1'), id('k2')) },
      { kind: 'delete', target: id('a') },
      { kind: 'delete', target: id('x') },
    ]);
  });
});

// ---------------------------------------------------------------- expressions

describe('expressions', () => {
  it('parses primaries', () => {
    expect(ex('x')).toEqual(id('x'));
    expect(ex('$fd')).toEqual(tvar('fd'));
    expect(ex('$return')).toEqual(tvar('return'));
    expect(ex('f()')).toEqual(call('f'));
    expect(ex('f(1, "a", g(x))')).toEqual(call('f', num(1), str('a'), call('g', id('x'))));
    expect(ex('a[1]')).toEqual(idx('a', num(1)));
    expect(ex('a[x, y + 1]')).toEqual(idx('a', id('x'), bin('+', id('y'), num(1))));
    expect(ex('((x))')).toEqual(id('x'));
    expect(ex('_under_9')).toEqual(id('_under_9'));
    expect(ex('returned')).toEqual(id('returned')); // keyword prefix is still an identifier
  });

  it('parses number literals: decimal, octal, hex, 64-bit wrap', () => {
    expect(ex('0')).toEqual(num(0));
    expect(ex('42')).toEqual(num(42));
    expect(ex('0755')).toEqual(num(0o755));
    expect(ex('0x1F')).toEqual(num(31));
    expect(ex('0XfF')).toEqual(num(255));
    expect(ex('9223372036854775807')).toEqual(num(9223372036854775807n));
    expect(ex('9223372036854775808')).toEqual(num(-9223372036854775808n));
    expect(ex('18446744073709551615')).toEqual(num(-1));
    expect(ex('0xffffffffffffffff')).toEqual(num(-1));
    expect(ex('-1')).toEqual(un('-', num(1)));
  });

  it('decodes string escapes', () => {
    expect(ex('""')).toEqual(str(''));
    expect(ex('"a\\nb\\tc\\rd"')).toEqual(str('a\nb\tc\rd'));
    expect(ex('"\\"\\\\"')).toEqual(str('"\\'));
    expect(ex('"\\a\\b\\f\\v"')).toEqual(str('\x07\b\f\v'));
    expect(ex('"\\101\\0\\12z\\1234"')).toEqual(str('A\0\nzS4'));
    expect(ex('"\\x41\\x4a\\x7"')).toEqual(str('AJ\x07'));
    expect(ex('"\\xfF"')).toEqual(str('\xff'));
    expect(ex('"\\q\\%"')).toEqual(str('q%')); // unknown escapes stand for the character
    expect(ex('"# not // a /* comment"')).toEqual(str('# not // a /* comment'));
    expect(ex('"a" "b"\n  /* c */ "c"')).toEqual(str('abc')); // adjacent literals concatenate
    expect(ex('f("%d" "\\n", 1)')).toEqual(call('f', str('%d\n'), num(1)));
    // values are byte strings: non-ASCII source text becomes its UTF-8 bytes
    // the CLI hands the parser byte strings (latin1): bytes pass through unchanged
    expect(ex('"\xc3\xa9"')).toEqual(str('\xc3\xa9'));
    // a JS string with characters above 0xff becomes their UTF-8 bytes
    expect(ex('"\u20ac"')).toEqual(str('\xe2\x82\xac'));
  });

  it('applies C precedence', () => {
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(id);
    expect(ex('a + b * c')).toEqual(bin('+', a, bin('*', b, c)));
    expect(ex('a * b + c')).toEqual(bin('+', bin('*', a, b), c));
    expect(ex('a - b - c')).toEqual(bin('-', bin('-', a, b), c));
    expect(ex('a / b % c')).toEqual(bin('%', bin('/', a, b), c));
    expect(ex('a . b + c')).toEqual(bin('+', bin('.', a, b), c));
    expect(ex('a + b . c')).toEqual(bin('.', bin('+', a, b), c));
    expect(ex('a << b + c')).toEqual(bin('<<', a, bin('+', b, c)));
    expect(ex('a >> b < c')).toEqual(bin('<', bin('>>', a, b), c));
    expect(ex('a < b == c >= d')).toEqual(bin('==', bin('<', a, b), bin('>=', c, d)));
    expect(ex('a <= b != c > d')).toEqual(bin('!=', bin('<=', a, b), bin('>', c, d)));
    expect(ex('a & b == c')).toEqual(bin('&', a, bin('==', b, c)));
    expect(ex('a ^ b & c')).toEqual(bin('^', a, bin('&', b, c)));
    expect(ex('a | b ^ c')).toEqual(bin('|', a, bin('^', b, c)));
    expect(ex('a && b | c')).toEqual(log('&&', a, bin('|', b, c)));
    expect(ex('a || b && c')).toEqual(log('||', a, log('&&', b, c)));
    expect(ex('a && b && c')).toEqual(log('&&', log('&&', a, b), c));
    expect(ex('(a + b) * c')).toEqual(bin('*', bin('+', a, b), c));
  });

  it('parses `in` between && and |', () => {
    const [, b, k] = ['a', 'b', 'k'].map(id);
    expect(ex('k in a')).toEqual(inx([k], 'a'));
    expect(ex('[k, 1] in a')).toEqual(inx([k, num(1)], 'a'));
    expect(ex('k + 1 in a')).toEqual(inx([bin('+', k, num(1))], 'a'));
    expect(ex('k | b in a')).toEqual(inx([bin('|', k, b)], 'a'));
    expect(ex('k in a && b')).toEqual(log('&&', inx([k], 'a'), b));
    expect(ex('!(k in a)')).toEqual(un('!', inx([k], 'a')));
    expect(ex('x = [k] in a || b')).toEqual(asg('=', id('x'), log('||', inx([k], 'a'), b)));
  });

  it('parses ternary and assignment right-associatively', () => {
    const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map(id);
    expect(ex('a ? b : c')).toEqual(tern(a, b, c));
    expect(ex('a ? b : c ? d : e')).toEqual(tern(a, b, tern(c, d, e)));
    expect(ex('a ? b ? c : d : e')).toEqual(tern(a, tern(b, c, d), e));
    expect(ex('a || b ? c : d')).toEqual(tern(log('||', a, b), c, d));
    expect(ex('a = b = c')).toEqual(asg('=', a, asg('=', b, c)));
    expect(ex('a = b ? c : d')).toEqual(asg('=', a, tern(b, c, d)));
    expect(ex('a ? b = 1 : c')).toEqual(tern(a, asg('=', b, num(1)), c));
    for (const op of ['=', '+=', '-=', '*=', '/=', '%=', '<<=', '>>=', '&=', '|=', '^=', '.='] as AssignOp[]) {
      expect(ex(`a ${op} 1`)).toEqual(asg(op, a, num(1)));
      expect(ex(`m[1,2]${op}x`)).toEqual(asg(op, idx('m', num(1), num(2)), id('x')));
    }
  });

  it('parses unary, prefix and postfix operators', () => {
    const x = id('x');
    expect(ex('-x')).toEqual(un('-', x));
    expect(ex('+x')).toEqual(un('+', x));
    expect(ex('!x')).toEqual(un('!', x));
    expect(ex('~x')).toEqual(un('~', x));
    expect(ex('- -x')).toEqual(un('-', un('-', x)));
    expect(ex('!-~x')).toEqual(un('!', un('-', un('~', x))));
    expect(ex('++x')).toEqual(pre('++', x));
    expect(ex('--a[1]')).toEqual(pre('--', idx('a', num(1))));
    expect(ex('x++')).toEqual(post('++', x));
    expect(ex('a[k]--')).toEqual(post('--', idx('a', id('k'))));
    expect(ex('-x++')).toEqual(un('-', post('++', x)));
    expect(ex('-x * 2')).toEqual(bin('*', un('-', x), num(2)));
    expect(ex('x++ + 1')).toEqual(bin('+', post('++', x), num(1)));
    expect(ex('x+++y')).toEqual(bin('+', post('++', x), id('y')));
    expect(ex('x - -1')).toEqual(bin('-', x, un('-', num(1))));
    expect(ex('(x)++')).toEqual(post('++', x));
  });

  it('distinguishes operators sharing a prefix', () => {
    const [a, b] = ['a', 'b'].map(id);
    expect(ex('a<<b')).toEqual(bin('<<', a, b));
    expect(ex('a<=b')).toEqual(bin('<=', a, b));
    expect(ex('a<b')).toEqual(bin('<', a, b));
    expect(ex('a>>=b')).toEqual(asg('>>=', a, b));
    expect(ex('a&b')).toEqual(bin('&', a, b));
    expect(ex('a&&b')).toEqual(log('&&', a, b));
    expect(ex('a&=b')).toEqual(asg('&=', a, b));
    expect(ex('a|b')).toEqual(bin('|', a, b));
    expect(ex('a||b')).toEqual(log('||', a, b));
    expect(ex('a==b')).toEqual(bin('==', a, b));
    expect(ex('a!=b')).toEqual(bin('!=', a, b));
    expect(ex('a.b')).toEqual(bin('.', a, b));
    expect(ex('a.=b')).toEqual(asg('.=', a, b));
    expect(ex('a/b')).toEqual(bin('/', a, b));
    expect(ex('a / /* c */ b')).toEqual(bin('/', a, b));
  });
});

// ---------------------------------------------------------------- locations

describe('locations', () => {
  it('records the start of every node with the file name', () => {
    const src = 'global n, m = 3\nprobe begin,\n  timer.ms(5)? {\n  if (n) x = a[1] + 2\n}\nfunction f(p) { return }\n';
    const s = parse(src);
    expect(s.loc).toEqual({ file: FILE, line: 1, col: 1, offset: 0 });
    const [n, m, p, f] = s.items as [GlobalDecl, GlobalDecl, ProbeDecl, FunctionDecl];
    expect(n.loc).toEqual({ file: FILE, line: 1, col: 8, offset: 7 });
    expect(m.loc).toMatchObject({ line: 1, col: 11 });
    expect(m.init!.loc).toMatchObject({ line: 1, col: 15 });
    expect(p.loc).toEqual({ file: FILE, line: 2, col: 1, offset: 16 });
    expect(p.points[0].loc).toMatchObject({ line: 2, col: 7 });
    expect(p.points[1].loc).toMatchObject({ line: 3, col: 3 });
    expect(p.points[1].components[1].loc).toMatchObject({ line: 3, col: 9 });
    expect(p.points[1].components[1].arg!.loc).toMatchObject({ line: 3, col: 12 });
    expect(p.body.loc).toMatchObject({ line: 3, col: 16 });
    const ifs = p.body.stmts[0];
    expect(ifs.loc).toMatchObject({ line: 4, col: 3 });
    if (ifs.kind !== 'if') throw new Error('not if');
    expect(ifs.cond.loc).toMatchObject({ line: 4, col: 7 });
    const st = ifs.then as ExprStmt;
    expect(st.loc).toMatchObject({ line: 4, col: 10 });
    if (st.expr.kind !== 'assign') throw new Error('not assign');
    expect(st.expr.loc).toMatchObject({ line: 4, col: 10 });
    expect(st.expr.target.loc).toMatchObject({ line: 4, col: 10 });
    const sum = st.expr.value;
    if (sum.kind !== 'binary') throw new Error('not binary');
    expect(sum.loc).toMatchObject({ line: 4, col: 14 }); // binary: start of its left operand
    expect(sum.left.loc).toMatchObject({ line: 4, col: 14 });
    if (sum.left.kind !== 'index') throw new Error('not index');
    expect(sum.left.indices[0].loc).toMatchObject({ line: 4, col: 16 });
    expect(sum.right.loc).toMatchObject({ line: 4, col: 21 });
    expect(f.loc).toMatchObject({ line: 6, col: 1 });
    expect(f.params[0].loc).toMatchObject({ line: 6, col: 12 });
    expect(f.body.stmts[0].loc).toMatchObject({ line: 6, col: 17 });
  });

  it('locates operators-first nodes at the operator and others at their first token', () => {
    const body = (parse('probe begin {\n  -x; ++y; z--; [a] in b; c ? d : e }').items[0] as ProbeDecl).body.stmts;
    const cols = body.map((st) => ((st as ExprStmt).expr.loc.col));
    expect(cols).toEqual([3, 7, 12, 17, 27]);
    expect(body.every((st) => st.loc.line === 2)).toBe(true);
  });

  it('skips comments when computing columns', () => {
    const s = parse('/* a */ probe # x\n  begin { }');
    const p = s.items[0] as ProbeDecl;
    expect(p.loc).toMatchObject({ line: 1, col: 9, offset: 8 });
    expect(p.points[0].loc).toMatchObject({ line: 2, col: 3 });
  });
});

// ---------------------------------------------------------------- errors

describe('parse errors', () => {
  it('reports the reference error at the offending token', () => {
    expect(fail('probe begin { x = }')).toEqual({ message: 'expected expression', line: 1, col: 19, file: FILE });
  });

  it.each([
    ['probe begin { x = 1 ) }', 'expected statement', 1, 21],
    ['probe begin { ) }', 'expected statement', 1, 15],
    ['probe begin { else }', 'expected statement', 1, 15],
    ['probe begin { printf("x" }', "expected ',' or ')'", 1, 26],
    ['probe begin { f(a, ) }', 'expected expression', 1, 20],
    ['probe begin { x[1 2] }', "expected ',' or ']'", 1, 19],
    ['probe begin { x = a ? b }', "expected ':'", 1, 25],
    ['probe begin { [a, b] c }', "expected 'in'", 1, 22],
    ['probe begin { if (x) }', 'expected statement', 1, 22],
    ['probe begin { if x }', "expected '('", 1, 18],
    ['probe begin { while (x }', "expected ')'", 1, 24],
    ['probe begin { for (i = 0 i < 1) x }', "expected ';'", 1, 26],
    ['probe begin { foreach (k a) y }', "expected 'in'", 1, 26],
    ['probe begin { foreach (k in a x) y }', "expected ')'", 1, 31],
    ['probe begin { foreach (k in 1) y }', 'expected identifier', 1, 29],
    ['probe begin { x = if }', 'expected expression', 1, 19],
    ['probe begin { x = $ }', 'expected identifier', 1, 20],
    ['probe begin { delete 1 }', 'expected identifier', 1, 22],
    ['probe begin { x = 1 probe end {}', "expected '}'", 1, 21],
    ['probe begin x', "expected ',' or '{'", 1, 13],
    ['probe begin {} x', "expected 'probe', 'global' or 'function'", 1, 16],
    ['x = 1', "expected 'probe', 'global' or 'function'", 1, 1],
    ['probe kernel. {}', "expected identifier or '*'", 1, 16],
    ['probe { }', "expected identifier or '*'", 1, 9],
    ['probe timer.ms(x) {}', 'expected literal string or number', 1, 16],
    ['global x = y', 'expected literal string or number', 1, 12],
    ['global x = -"a"', 'expected literal string or number', 1, 12],
    ['global if', 'expected identifier', 1, 8],
    ['global a,', 'unexpected end-of-file', 1, 10],
    ['function (', 'expected identifier', 1, 10],
    ['function f(a b) {}', "expected ',' or ')'", 1, 14],
    ['function f(a) x', "expected '{'", 1, 15],
    ['probe begin { x = 1', 'unexpected end-of-file', 1, 20],
    ['probe begin {\n  x = (1 +\n', 'unexpected end-of-file', 3, 1],
    ['probe begin { 1 = 2 }', "left operand of '=' is not an lvalue", 1, 15],
    ['probe begin { f() += 2 }', "left operand of '+=' is not an lvalue", 1, 15],
    ['probe begin { $x = 2 }', "left operand of '=' is not an lvalue", 1, 15],
    ['probe begin { 1++ }', "operand of '++' is not an lvalue", 1, 15],
    ['probe begin { --f() }', "operand of '--' is not an lvalue", 1, 17],
    ['probe begin { x = 18446744073709551616 }', 'number invalid or out of range', 1, 19],
    ['probe begin { x = 0x10000000000000000 }', 'number invalid or out of range', 1, 19],
    ['probe begin { x = 09 }', 'number invalid or out of range', 1, 19],
    ['probe begin { x = 12ab }', 'number invalid or out of range', 1, 19],
    ['global x = -9223372036854775809', 'number invalid or out of range', 1, 12],
    ['probe begin { x = "abc\n" }', 'could not find matching closing quote', 1, 19],
    ['probe begin { x = "abc', 'could not find matching closing quote', 1, 19],
    ['probe begin { x = "a\\x" }', '\\x used with no following hex digits', 1, 21],
    ['probe begin { /* never closed', 'unterminated comment', 1, 15],
    ['probe begin { x = 1 }\n\n  }', "expected 'probe', 'global' or 'function'", 3, 3],
  ])('%j -> %s', (src, message, line, col) => {
    expect(fail(src)).toEqual({ message, line, col, file: FILE });
  });
});

// ---------------------------------------------------------------- printing

const CORPUS = [
  'global n; probe syscall.getppid { n++ } probe timer.ms(500) { printf("%d\\n", n); exit() }',
  'global c; probe syscall.openat { c[execname()]++ } probe timer.s(1) { foreach (k in c) printf("%s %d\\n", k, c[k]); exit() }',
  'probe kernel.trace("sched:sched_process_exec") { printf("%s\\n", execname()); exit() }',
  '',
  'probe begin {}',
  'function f() { try { return 1 } catch (e) { println(e) } try {} catch { try { error("x") } catch {} } }',
  'global a, b = "s" "t", c = -1, d = 0xffffffffffffffff, e = -9223372036854775808',
  'probe begin, end, syscall.openat.return?, kernel.function("*@fs/*.c"), process(-1).end { ; }',
  'function f(a, b) { if (a) return a + b else return; } probe begin { print(f(1, 2)) }',
  'function g() { }',
  `probe begin {
     x = 1 y = 2;;
     { } ;
     if (a) if (b) c else d
     if (a) { b } else if (c) d; else { e }
     if (x) ; else ;
     while (i < 10) i++
     while (1) { break; continue }
     while (1) x; ;
     for (;;) ;
     for (i = 0; i < n; i += 2) s .= "x"
     foreach (k in a) next
     foreach ([k1, k2] in a limit 10) delete a[k1, k2]
     foreach (v = [k] in a) delete a
     foreach (v = k in a limit n * 2) { return v }
     delete x
   }`,
  `probe begin {
     x = a + b * c - (d - e) / f % g . "s" . h
     y = a << 2 >> b < c <= d > e >= f == g != h
     z = a & b | c ^ d && e || !f
     w = k in a && [k, 1] in b || (k + 1 in a) | 2
     t = a ? b : c ? d : e
     t = (a ? b : c) ? d : e
     u = a = b += c -= d *= e /= f %= g <<= h >>= i &= j |= k ^= l .= m
     v = -x + +y - !z * ~w
     v = - -x; v = -(-1); v = ++x + x++ - --y[1] - y[2]--
     v = -x++; v = -(++x)
     q = 0 + 0755 + 0x1F + 9223372036854775808 + 18446744073709551615
     s = "" . "\\"\\\\\\n\\t\\r\\a\\b\\f\\v\\0\\001\\177\\377\\xfe é \\303\\251 ✓ \\360\\237\\230\\200 \\200"
     f(g(), h(1, [a] in b), $t)
     $x; $return; foo[1, "k", a + 1]
   }`,
];

describe('printScript', () => {
  it.each(CORPUS.map((s, i) => [i, s]))('round-trips corpus script #%i', (_i, src) => {
    const a = parse(src);
    const printed = printScript(a);
    const b = parse(printed);
    expect(strip(b)).toEqual(strip(a));
    expect(printScript(b)).toBe(printed);
  });

  it('prints readable source', () => {
    const printed = printScript(
      parse('global n = -1; probe timer.ms(500)? { if (n) printf("%d\\n", n + 1 * 2); else { exit() } }'),
    );
    expect(printed).toBe(
      [
        'global n = -1',
        'probe timer.ms(500)? {',
        '  if (n) printf("%d\\n", n + (1 * 2));',
        '  else {',
        '    exit();',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('prints byte strings that are not UTF-8 with octal escapes', () => {
    const a = parse('probe begin { s = "\\xff\\xc3x\\x01\xc3\xa9" }');
    expect(printScript(a)).toContain('"\\377\\303x\\001\\303\\251"');
  });

  it('round-trips randomly generated expressions', () => {
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)];
    const names = ['a', 'b', 'k', 'x_1'];
    const binops: BinaryOp[] = ['+', '-', '*', '/', '%', '<<', '>>', '&', '|', '^', '<', '<=', '>', '>=', '==', '!=', '.'];
    const asgops: AssignOp[] = ['=', '+=', '-=', '*=', '/=', '%=', '<<=', '>>=', '&=', '|=', '^=', '.='];
    const lvalue = (d: number): Ident | IndexExpr =>
      rnd(2) ? id(pick(names)) : idx(pick(names), ...Array.from({ length: 1 + rnd(2) }, () => gen(d - 1)));
    const gen = (d: number): Expr => {
      if (d <= 0) {
        switch (rnd(6)) {
          case 0:
            return num(BigInt(rnd(1000)) * (rnd(2) ? 1n : 0x1000000000000n));
          case 5:
            return num(-BigInt(rnd(1000))); // only arises from 64-bit wrap-around
          case 1:
            return str(pick(['', 'x', '%d\n', '"q"', '\\', '\xff\x00', '\xc3\xa9']));
          case 2:
            return tvar(pick(names));
          default:
            return id(pick(names));
        }
      }
      switch (rnd(13)) {
        case 0:
        case 1:
          return bin(pick(binops), gen(d - 1), gen(d - 1));
        case 2:
          return log(pick(['&&', '||'] as const), gen(d - 1), gen(d - 1));
        case 3:
          return un(pick(['-', '+', '!', '~'] as const), gen(d - 1));
        case 4:
          return asg(pick(asgops), lvalue(d), gen(d - 1));
        case 5:
          return (rnd(2) ? pre : post)(pick(['++', '--'] as const), lvalue(d));
        case 6:
          return tern(gen(d - 1), gen(d - 1), gen(d - 1));
        case 7:
          return call(pick(names), ...Array.from({ length: rnd(3) }, () => gen(d - 1)));
        case 8:
          return inx(Array.from({ length: 1 + rnd(2) }, () => gen(d - 1)), pick(names));
        case 9:
          return idx(pick(names), gen(d - 1));
        default:
          return gen(0);
      }
    };
    for (let i = 0; i < 300; i++) {
      const e = gen(1 + rnd(5));
      const script: Script = {
        kind: 'script',
        file: FILE,
        items: [
          {
            kind: 'probe',
            points: [{ kind: 'point', components: [{ name: 'begin', loc: undefined as never }], optional: false, loc: undefined as never }],
            body: { kind: 'block', stmts: [{ kind: 'exprstmt', expr: e, loc: undefined as never }], loc: undefined as never },
            loc: undefined as never,
          },
        ],
        loc: undefined as never,
      };
      const printed = printScript(script);
      let reparsed: Script;
      try {
        reparsed = parse(printed);
      } catch (err) {
        throw new Error(`printed source does not parse:\n${printed}\n${String(err)}`);
      }
      expect(strip(reparsed), printed).toEqual(strip(script));
    }
  });
});
