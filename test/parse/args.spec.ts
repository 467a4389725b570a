// Command-line arguments in the script: $1.. pasted as source text, @1.. as string literals,
// $# / @# the count; bad references report stap's errors where the parser meets them.
import { describe, it, expect } from 'vitest';
import { parseScript, printScript, makeFacts, type ParseOptions } from '../../src/parse/index';
import { compileSource } from '../../src/compile';
import { DiagnosticError } from '../../src/diag/diagnostic';
import { quoteArg } from '../../src/parse/lexer';
import type { ExprStmt, ProbeDecl, Script } from '../../src/parse/ast';

const FILE = 'args.stp';
const facts = makeFacts({ kernelRelease: '6.1.0', machine: 'x86_64' });
const parse = (src: string, args: string[] = []): Script => parseScript(src, FILE, { args, facts });
/** The body of `probe begin { <src> }` after preprocessing, one statement per line. */
const body = (src: string, args: string[] = []): string =>
  printScript(parse(`probe begin { ${src} }`, args))
    .split('\n')
    .slice(1, -2)
    .map((l) => l.trim())
    .join('\n');

function fail(src: string, args: string[] = []): { message: string; line: number; col: number } {
  try {
    parse(src, args);
  } catch (e) {
    expect(e).toBeInstanceOf(DiagnosticError);
    const d = (e as DiagnosticError).diagnostics;
    expect(d).toHaveLength(1);
    expect(d[0].severity).toBe('parse error');
    return { message: d[0].message, line: d[0].loc!.line, col: d[0].loc!.col };
  }
  throw new Error(`expected a parse error for: ${src}`);
}

describe('$N pastes the argument text', () => {
  it('as tokens of the script', () => {
    expect(body('printf("%d\\n", $1 + 1)', ['41'])).toBe('printf("%d\\n", 41 + 1);');
    expect(body('x = $1', ['5+5'])).toBe('x = 5 + 5;');
    expect(body('x = $1 * 2', ['1 + 2'])).toBe('x = 1 + (2 * 2);'); // text, not a value
    expect(body('x = $2', ['a', 'execname()'])).toBe('x = execname();');
    expect(body('$1', ['exit()'])).toBe('exit();');
    expect(body('x = $1', ['"str"'])).toBe('x = "str";');
    expect(body('x = $1', ['-7'])).toBe('x = -7;');
  });

  it('in probe points and global initialisers', () => {
    expect(printScript(parse('global g = $2\nprobe timer.ms($1) { }', ['250', '-3']))).toBe('global g = -3\nprobe timer.ms(250) {\n}\n');
    expect(printScript(parse('probe $1 { }', ['kernel.trace("sched:sched_switch")']))).toBe(
      'probe kernel.trace("sched:sched_switch") {\n}\n',
    );
  });

  it('$10 and beyond, $0x style and leading zeros read as stap does', () => {
    const ten = ['1', '2', '3', '4', '5', '6', '7', '8', '9', 'ten'];
    expect(body('x = $10', ten)).toBe('x = ten;');
    expect(body('x = $1 + $01', ['4'])).toBe('x = 4 + 4;');
  });

  it('the pasted text continues into the following characters', () => {
    // stap inserts the characters, then tokenises: "fo" followed by "o" is the identifier foo
    expect(body('x = $1o', ['fo'])).toBe('x = foo;');
    expect(body('x = $1 0', ['4'])).toBe('x = 4\n0;'.replace('\n', ';\n'));
    // digits are read while the index is in range: with one argument, $12 is argument 12
    expect(fail('probe begin { x = $12 }', ['4'])).toEqual({ message: 'command line argument out of range [1-1]', line: 1, col: 19 });
    // with none, $12 is $1 followed by 2
    expect(fail('probe begin { x = $12 }')).toEqual({ message: 'command line argument out of range [1-0]', line: 1, col: 19 });
  });

  it('pasted text joins the text around it where stap\'s lexer would not see whitespace', () => {
    expect(printScript(parse('probe syscall.$1 { }', ['open*']))).toBe('probe syscall.open* {\n}\n');
    expect(printScript(parse('probe $1.return { }', ['syscall.read']))).toBe('probe syscall.read.return {\n}\n');
    // but two tokens stay two tokens: 1 followed by $1 = "2" is not 12
    expect(body('x = 1$1', ['2'])).toBe('x = 1;\n2;');
  });

  it('an empty argument pastes nothing', () => {
    expect(body('x = 1 $1 + 2', [''])).toBe('x = 1 + 2;');
  });

  it('is not substituted inside strings or comments', () => {
    expect(body('x = "$1 @1" # $2\n', ['a'])).toBe('x = "$1 @1";');
    expect(body('x = 1 /* $2 */ // @3\n', ['a'])).toBe('x = 1;');
  });

  it('a non-numeric argument in a numeric place is the parser\'s error', () => {
    expect(fail('probe begin { printf("%d\\n", $1) }', ['1x'])).toEqual({ message: 'number invalid or out of range', line: 1, col: 30 });
    expect(fail('probe begin { printf("%d\\n", $1) }', ['1 2'])).toEqual({ message: "expected ',' or ')'", line: 1, col: 30 });
  });
});

describe('@N is the argument as a string literal', () => {
  it('quotes and escapes like lex_cast_qstring', () => {
    expect(body('x = @1', ['hello world'])).toBe('x = "hello world";');
    expect(body('x = @1', ['a"b\\c'])).toBe('x = "a\\"b\\\\c";');
    expect(body('x = @1', [''])).toBe('x = "";');
    expect(body('x = @1', ['41'])).toBe('x = "41";');
    expect(quoteArg('t\tn\n\x7f\xe9')).toBe('"t\\011n\\012\\177\\351"');
  });

  it('glues to adjacent string literals', () => {
    expect(body('x = "also a good way to " @1 " splice command line args"', ['foo'])).toBe(
      'x = "also a good way to foo splice command line args";',
    );
  });

  it('keeps argument bytes (UTF-8 passed as a byte string)', () => {
    const bytes = Buffer.from('é', 'utf8').toString('latin1');
    const s = parse('probe begin { x = @1 }', [bytes]);
    const e = ((s.items[0] as ProbeDecl).body.stmts[0] as ExprStmt).expr;
    expect(e.kind === 'assign' && e.value.kind === 'string' && e.value.value).toBe(bytes);
  });
});

describe('$# and @#', () => {
  it('are the number of arguments', () => {
    expect(body('x = $# y = @#', ['a', 'b', 'c'])).toBe('x = 3;\ny = "3";');
    expect(body('x = $#')).toBe('x = 0;');
  });

  it('are not comments', () => {
    expect(body('x = $# + 1 # comment\n')).toBe('x = 0 + 1;');
    expect(body('x = @#')).toBe('x = "0";');
  });
});

describe('bad argument references', () => {
  it('an argument beyond the given ones', () => {
    expect(fail('probe begin { printf("%d\\n", $2) }', ['41'])).toEqual({
      message: 'command line argument out of range [1-1]',
      line: 1,
      col: 30,
    });
    expect(fail('probe begin {\n  x = @3\n}', ['a', 'b'])).toEqual({ message: 'command line argument out of range [1-2]', line: 2, col: 7 });
    expect(fail('probe begin { x = $1 }')).toEqual({ message: 'command line argument out of range [1-0]', line: 1, col: 19 });
    expect(fail('probe begin { x = $0 }', ['a'])).toEqual({ message: 'command line argument out of range [1-1]', line: 1, col: 19 });
  });

  it('is reported only when the parser reaches it', () => {
    // the syntax error before it comes first, as in stap
    expect(fail('probe begin { x = ) $5 }')).toEqual({ message: 'expected expression', line: 1, col: 19 });
    // and a condition that needs it reports it
    expect(fail('probe begin { x = %( $2 == 1 %? 1 %) }', ['a'])).toEqual({
      message: 'command line argument out of range [1-1]',
      line: 1,
      col: 22,
    });
  });

  it('an argument that refers to an argument', () => {
    expect(fail('probe begin {\n  x = $1\n}', ['$2', 'b'])).toEqual({
      message: 'invalid nested substitution of command line arguments',
      line: 2,
      col: 7,
    });
    expect(fail('probe begin { x = $1 }', ['1 + $#'])).toEqual({
      message: 'invalid nested substitution of command line arguments',
      line: 1,
      col: 19,
    });
  });
});

describe('locations of pasted code', () => {
  it('everything from an argument is located at its $N', () => {
    const s = parse('probe begin {\n  x = $1\n}', ['a + b']);
    const e = ((s.items[0] as ProbeDecl).body.stmts[0] as ExprStmt).expr;
    if (e.kind !== 'assign' || e.value.kind !== 'binary') throw new Error('shape');
    expect(e.value.left.loc).toMatchObject({ line: 2, col: 7 });
    expect(e.value.opLoc).toMatchObject({ line: 2, col: 7 });
    expect(e.value.right.loc).toMatchObject({ line: 2, col: 7 });
  });

  it('and code after it keeps its own location', () => {
    const s = parse('probe begin {\n  x = $1 + yy\n}', ['a']);
    const e = ((s.items[0] as ProbeDecl).body.stmts[0] as ExprStmt).expr;
    if (e.kind !== 'assign' || e.value.kind !== 'binary') throw new Error('shape');
    expect(e.value.right.loc).toMatchObject({ line: 2, col: 12 });
  });

  it('an error inside an argument points at its $N', () => {
    expect(fail('probe begin {\n  x = (1 + $1)\n}', ['2 ]'])).toEqual({ message: "expected ')'", line: 2, col: 12 });
    // an argument that is incomplete: the error is at the source token after it
    expect(fail('probe begin {\n  x = (1 + $1)\n}', ['2 +'])).toEqual({ message: 'expected expression', line: 2, col: 14 });
  });
});

describe('compileSource passes parse options through', () => {
  it('uses the script arguments it is given, and none by default', () => {
    const opts: ParseOptions = { args: ['8'], facts };
    expect(printScript(compileSource('probe begin { x = $1 }', FILE, 1, undefined, opts).ast!)).toContain('x = 8;');
    expect(() => compileSource('probe begin { x = $1 }', FILE, 1)).toThrow('command line argument out of range [1-0]');
  });
});
