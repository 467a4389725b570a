// The preprocessor: %( %? %: %) conditionals, @define macros, `#!`, and where diagnostics and
// AST locations point after preprocessing. Facts are injected: nothing depends on the host.
import { describe, it, expect } from 'vitest';
import { parseScript, printScript, makeFacts, type Facts, type ParseOptions } from '../../src/parse/index';
import { DiagnosticError, type Diagnostic } from '../../src/diag/diagnostic';
import { fnmatch, strverscmp } from '../../src/parse/conditionals';
import { Lexer, SourceText, junkMessage } from '../../src/parse/lexer';
import { hostFacts, normalizeMachine, parseKernelConfig, SYSTEMTAP_COMPAT_VERSION, TAPVM_RUNTIME } from '../../src/parse/facts';
import type { Expr, ExprStmt, ProbeDecl, Script } from '../../src/parse/ast';

const FILE = 'pp.stp';

const FACTS: Facts = makeFacts({
  kernelRelease: '6.8.0-45-generic',
  machine: 'x86_64',
  config: 'CONFIG_BPF=y\nCONFIG_EXT4_FS=m\n# CONFIG_FOO is not set\nCONFIG_NR_CPUS=64\nCONFIG_HZ=0x3e8\nCONFIG_LOCALVERSION="-test"\nCONFIG_LOG_BUF_SHIFT=18\n',
});

const parse = (src: string, opts: ParseOptions = {}): Script => parseScript(src, FILE, { facts: FACTS, ...opts });
/** The script after preprocessing, as -p1 prints it. */
const pp = (src: string, opts: ParseOptions = {}): string => printScript(parse(src, opts));
/** The value printed for `x = <src>` inside a probe. */
const val = (src: string, opts: ParseOptions = {}): string => {
  const out = pp(`probe begin { x = ${src} }`, opts);
  const m = /^ {2}x = (.*);$/m.exec(out);
  if (!m) throw new Error(`no assignment in:\n${out}`);
  return m[1];
};
/** Which branch a condition selects: "T" or "F". */
const cond = (c: string, opts: ParseOptions = {}): string => {
  const v = val(`%( ${c} %? "T" %: "F" %)`, opts);
  return JSON.parse(v) as string;
};

interface Failure {
  message: string;
  line: number;
  col: number;
}
function failAll(src: string, opts: ParseOptions = {}): Diagnostic[] {
  try {
    parse(src, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(DiagnosticError);
    const d = (e as DiagnosticError).diagnostics;
    for (const x of d) expect(x.severity).toBe('parse error');
    return d;
  }
  throw new Error(`expected a parse error for: ${src}`);
}
function fail(src: string, opts: ParseOptions = {}): Failure {
  const d = failAll(src, opts);
  expect(d).toHaveLength(1);
  return { message: d[0].message, line: d[0].loc!.line, col: d[0].loc!.col };
}

const firstExpr = (s: Script): Expr => ((s.items[0] as ProbeDecl).body.stmts[0] as ExprStmt).expr;

// ---------------------------------------------------------------- support functions

describe('strverscmp (glibc)', () => {
  it.each([
    ['6.8.0', '6.8', 1],
    ['6.8', '6.8', 0],
    ['6.10', '6.9', 1],
    ['2.6.9', '2.6.13', -1],
    ['5.0', '4.9.1', 1],
    ['000', '00', -1],
    ['00', '01', -1],
    ['01', '010', -1],
    ['010', '09', -1],
    ['09', '0', -1],
    ['0', '1', -1],
    ['9', '10', -1],
    ['1.0-rc1', '1.0', 1],
    ['a', 'b', -1],
  ])('%s vs %s', (a, b, r) => {
    expect(strverscmp(a as string, b as string)).toBe(r);
    expect(strverscmp(b as string, a as string)).toBe(0 - (r as number) || 0);
  });
});

describe('fnmatch (FNM_NOESCAPE)', () => {
  it.each([
    ['x86_64', 'x86_64', true],
    ['x86*', 'x86_64', true],
    ['i?86', 'i386', true],
    ['i?86', 'x86_64', false],
    ['*', '', true],
    ['[xy]86_64', 'x86_64', true],
    ['[!x]86_64', 'x86_64', false],
    ['[a-z]86*', 'x86_64', true],
    ['[[:digit:]].*', '6.8.0', true],
    ['6.8.0-*', '6.8.0-45-generic', true],
    ['6.8.0-*', '6.8.0', false],
    ['a[b', 'a[b', true],
    ['\\*', '\\x', true],
    ['y', '', false],
  ])('%s ~ %s', (p, s, r) => {
    expect(fnmatch(p as string, s as string)).toBe(r);
  });
});

describe('facts', () => {
  it('normalizes uname -m like stap', () => {
    expect(['x86_64', 'i686', 'aarch64', 'armv7l', 's390x', 'ppc64le', 'riscv64', 'mips64'].map(normalizeMachine)).toEqual([
      'x86_64',
      'i386',
      'arm64',
      'arm',
      's390',
      'powerpc',
      'riscv',
      'mips',
    ]);
  });

  it('reads .config lines verbatim', () => {
    const c = parseKernelConfig('# comment\nCONFIG_A=y\nCONFIG_S="x=y"\n# CONFIG_B is not set\nCONFIG_N=12\n');
    expect([...c]).toEqual([
      ['CONFIG_A', 'y'],
      ['CONFIG_S', '"x=y"'],
      ['CONFIG_N', '12'],
    ]);
  });

  it('has one compatibility version and runtime', () => {
    expect(SYSTEMTAP_COMPAT_VERSION).toBe('5.0');
    expect(TAPVM_RUNTIME).toBe('bpf');
    const h = hostFacts();
    expect(h.kernelRelease).not.toBe('');
    expect(h.arch).not.toBe('');
    expect(h.systemtapVersion).toBe('5.0');
    expect(hostFacts()).toBe(h); // cached
  });
});

describe('lexer (stap tokens)', () => {
  const lex = (src: string, args: string[] = []) => {
    const lx = new Lexer(new SourceText(src, FILE), args);
    const out: string[] = [];
    for (let t = lx.scan(); t !== null; t = lx.scan()) out.push(`${t.type}:${t.junk ? t.junk + ':' : ''}${t.spell}`);
    return out;
  };

  it('splits operators as stap does, %( %? %: %) included', () => {
    expect(lex('a<<<b %(x%?y%:z%) c<<=1 d->e @cast f%{ C %} $g $$h')).toEqual([
      'ident:a', 'op:<<<', 'ident:b', 'op:%(', 'ident:x', 'op:%?', 'ident:y', 'op:%:', 'ident:z', 'op:%)',
      'ident:c', 'op:<<=', 'number:1', 'ident:d', 'op:->', 'ident:e', 'op:@cast', 'ident:f', 'embedded:%{ C %}',
      'ident:$g', 'ident:$$h',
    ]);
  });

  it('skips # // /* */ comments, keeps keywords apart', () => {
    expect(lex('#! /bin/stap\nprobe // x\n /* y */ if foo')).toEqual(['keyword:probe', 'keyword:if', 'ident:foo']);
  });

  it('makes junk of what stap cannot lex', () => {
    expect(lex('"abc\n x')).toEqual(['junk:unclosed_quote:"abc\n', 'ident:x']);
    expect(lex('%{ never')).toEqual(['junk:unclosed_embedded:%{ never']);
    expect(lex('\x01')).toEqual(['junk:unknown:\x01']);
    expect(lex('$3 $1', ['a'])).toEqual(['junk:invalid_arg:$3', 'ident:a']);
    expect(lex('$1', ['$1'])).toEqual(['junk:nested_arg:$1']);
    expect(junkMessage('invalid_arg', 2)).toBe('command line argument out of range [1-2]');
    expect(junkMessage('nested_arg', 2)).toBe('invalid nested substitution of command line arguments');
    expect(junkMessage('unclosed_quote', 0)).toBe('Could not find matching closing quote');
  });

  it('keeps string contents as stap does (unknown escapes lose the backslash)', () => {
    const lx = new Lexer(new SourceText('"a\\n\\q\\""', FILE), []);
    expect(lx.scan()?.content).toBe('a\\nq"');
  });
});

// ---------------------------------------------------------------- conditions

describe('conditions', () => {
  it('kernel_v is the release without its suffix, compared with strverscmp', () => {
    expect(cond('kernel_v == "6.8.0"')).toBe('T');
    expect(cond('kernel_v != "6.8.0"')).toBe('F');
    expect(cond('kernel_v >= "6.8"')).toBe('T');
    expect(cond('kernel_v > "6.8"')).toBe('T');
    expect(cond('kernel_v > "6.8.0"')).toBe('F');
    expect(cond('kernel_v <= "6.8.0"')).toBe('T');
    expect(cond('kernel_v < "6.10"')).toBe('T');
    expect(cond('kernel_v < "6.8.0"')).toBe('F');
    expect(cond('kernel_v == "6.8.0-45-generic"')).toBe('F');
  });

  it('kernel_vr is the whole release; == and != with a wildcard are fnmatch', () => {
    expect(cond('kernel_vr == "6.8.0-45-generic"')).toBe('T');
    expect(cond('kernel_vr > "6.8.0-44"')).toBe('T');
    expect(cond('kernel_vr == "6.8.*"')).toBe('T');
    expect(cond('kernel_vr == "6.8.*-generic"')).toBe('T');
    expect(cond('kernel_vr != "6.8.*"')).toBe('F');
    expect(cond('kernel_vr == "5.*"')).toBe('F');
    expect(cond('kernel_v == "6.?.0"')).toBe('T');
  });

  it('systemtap_v is tapvm\'s stap compatibility version, 5.0', () => {
    expect(cond('systemtap_v == "5.0"')).toBe('T');
    expect(cond('systemtap_v >= "4.0"')).toBe('T');
    expect(cond('systemtap_v < "5.1"')).toBe('T');
    expect(cond('systemtap_v >= "5.1"')).toBe('F');
    expect(cond('systemtap_v == "5.*"')).toBe('T');
  });

  it('arch and runtime are wildcard (mis)matches', () => {
    expect(cond('arch == "x86_64"')).toBe('T');
    expect(cond('arch != "x86_64"')).toBe('F');
    expect(cond('arch == "i?86"')).toBe('F');
    expect(cond('arch == "x86*"')).toBe('T');
    expect(cond('arch == "arm64"', { facts: makeFacts({ machine: 'aarch64' }) })).toBe('T');
    expect(cond('runtime == "bpf"')).toBe('T');
    expect(cond('runtime != "kernel"')).toBe('T');
    expect(cond('runtime == "b*"')).toBe('T');
  });

  it('systemtap_privilege is stapdev; guru_mode is 0', () => {
    expect(cond('systemtap_privilege == "stapdev"')).toBe('T');
    expect(cond('systemtap_privilege != "stapusr"')).toBe('T');
    expect(cond('guru_mode == 0')).toBe('T');
    expect(cond('guru_mode != 0')).toBe('F');
  });

  it('CONFIG_ options compare as strings (wildcards) and as numbers', () => {
    expect(cond('CONFIG_BPF == "y"')).toBe('T');
    expect(cond('CONFIG_EXT4_FS == "m"')).toBe('T');
    expect(cond('CONFIG_EXT4_FS == "[ym]"')).toBe('T');
    expect(cond('CONFIG_FOO == "y"')).toBe('F');
    expect(cond('CONFIG_FOO == "n"')).toBe('F'); // unset options are "", not "n"
    expect(cond('CONFIG_FOO == ""')).toBe('T');
    expect(cond('CONFIG_NOT_THERE != "y"')).toBe('T');
    expect(cond('CONFIG_LOCALVERSION == "\\"-test\\""')).toBe('T');
    expect(cond('CONFIG_NR_CPUS > 32')).toBe('T');
    expect(cond('CONFIG_NR_CPUS == 64')).toBe('T');
    expect(cond('CONFIG_HZ == 1000')).toBe('T'); // strtoll base 0
    expect(cond('CONFIG_FOO == 0')).toBe('T'); // "" converts to 0
    expect(cond('CONFIG_NR_CPUS > CONFIG_LOG_BUF_SHIFT')).toBe('T'); // both numbers
    expect(cond('CONFIG_BPF == CONFIG_BPF')).toBe('T');
    expect(cond('CONFIG_BPF < CONFIG_EXT4_FS')).toBe('F'); // "y" < "m" as strings
  });

  it('compares string literals and number literals', () => {
    expect(cond('"abc" < "abd"')).toBe('T');
    expect(cond('"b" == "b"')).toBe('T');
    expect(cond('"b*" == "bx"')).toBe('F'); // no wildcards here
    expect(cond('10 > 9')).toBe('T');
    expect(cond('010 == 10')).toBe('T'); // decimal, as stap's lex_cast
    expect(cond('1 != 1')).toBe('F');
  });

  it('combines terms with && and ||, && binding tighter', () => {
    expect(cond('1 == 1 && 2 == 2')).toBe('T');
    expect(cond('1 == 1 && 2 == 3')).toBe('F');
    expect(cond('1 == 2 || 2 == 2')).toBe('T');
    expect(cond('1 == 1 || 1 == 2 && 1 == 2')).toBe('T'); // 1==1 || (1==2 && 1==2)
    expect(cond('1 == 2 && 1 == 1 || 1 == 1')).toBe('T'); // (1==2 && 1==1) || 1==1
    expect(cond('1 == 2 || 1 == 1 && 1 == 2')).toBe('F');
    expect(cond('arch == "x86_64" && kernel_v >= "5.0" && CONFIG_BPF == "y"')).toBe('T');
  });

  it('evaluates every term (no short circuit), so a bad one is an error', () => {
    expect(fail('probe begin { x = %( 1 == 1 || foo == 1 %? 1 %) }')).toMatchObject({ line: 1, col: 32 });
  });

  it('tests the script arguments through $# and @N', () => {
    expect(cond('$# == 0')).toBe('T');
    expect(cond('$# == 2', { args: ['a', 'b'] })).toBe('T');
    expect(cond('$# > 1', { args: ['a'] })).toBe('F');
    expect(cond('@# == "2"', { args: ['a', 'b'] })).toBe('T');
    expect(cond('@1 == "a"', { args: ['a'] })).toBe('T');
    expect(cond('$1 > 5', { args: ['7'] })).toBe('T');
  });
});

// ---------------------------------------------------------------- conditional text

describe('conditional text', () => {
  it('keeps the selected branch; the %: branch is optional', () => {
    expect(val('%( 1 == 1 %? 1 %: 2 %)')).toBe('1');
    expect(val('%( 1 == 2 %? 1 %: 2 %)')).toBe('2');
    expect(pp('probe begin { %( 1 == 2 %? x = 1 %) y = 2 }')).toBe('probe begin {\n  y = 2;\n}\n');
    expect(pp('probe begin { %( 1 == 1 %? x = 1 %) y = 2 }')).toBe('probe begin {\n  x = 1;\n  y = 2;\n}\n');
  });

  it('works at the token level anywhere: probe points, declarations, expressions', () => {
    expect(
      pp('%( arch == "x86_64" %? global g %: global h %)\nprobe %( CONFIG_BPF == "y" %? begin %: end %) { g = %( kernel_v >= "6" %? 6 %: 5 %) + 1 }'),
    ).toBe('global g\nprobe begin {\n  g = 6 + 1;\n}\n');
    expect(pp('probe timer.ms(%( 1 == 1 %? 100 %: 200 %)) {}')).toBe('probe timer.ms(100) {\n}\n');
  });

  it('nests', () => {
    const src = (a: string, b: string) =>
      `probe begin { x = %( ${a} %? %( ${b} %? "tt" %: "tf" %) %: %( ${b} %? "ft" %: %( 1 == 1 %? "ff" %) %) %) }`;
    expect(pp(src('1 == 1', '2 == 2'))).toContain('x = "tt"');
    expect(pp(src('1 == 1', '2 == 3'))).toContain('x = "tf"');
    expect(pp(src('1 == 0', '2 == 2'))).toContain('x = "ft"');
    expect(pp(src('1 == 0', '2 == 3'))).toContain('x = "ff"');
  });

  it('never parses skipped text (only scans it for nested %( %) %: %?)', () => {
    expect(val('%( kernel_v <= "2.6.5" %? **ERROR** probe { ( ] %: 3 %)')).toBe('3');
    expect(val('%( 1 == 1 %? 3 %: }}} %( 1 %? 2 + %) @nonsense( %)')).toBe('3');
    // skipped conditions are not evaluated at all
    expect(val('%( 1 == 0 %? %( bogus bogus %? 1 %: 2 %) %: 4 %)')).toBe('4');
    // nor are $N out of range in skipped text
    expect(val('%( $# == 1 %? $2 %: 5 %)')).toBe('5');
  });

  it('`#!` on the first line is a comment', () => {
    expect(pp('#! /usr/bin/env stap\nprobe begin { exit() }')).toBe('probe begin {\n  exit();\n}\n');
    expect(pp('#!/usr/bin/stap\n%( 1 == 1 %? probe begin { } %)')).toBe('probe begin {\n}\n');
  });

  it('yields an empty script when everything is skipped', () => {
    expect(parse('%( 1 == 0 %? probe begin { } %)').items).toEqual([]);
  });
});

// ---------------------------------------------------------------- errors

describe('preprocessor errors (stap wording)', () => {
  it.each([
    ['probe begin { x = 1 } %(', "incomplete condition after '%('", 1, 23],
    ['probe begin { x = %( 1 == 1 %? 1 }', 'incomplete conditional at end of file', 1, 19],
    ['probe begin { x = %( 1 == 0 %? 1 }', 'incomplete conditional at end of file', 1, 19],
    ['probe begin { x = 1 %) }', "incomplete conditional - missing '%('", 1, 21],
    ['probe begin { x = 1 %: 2 }', "incomplete conditional - missing '%('", 1, 21],
    ['probe begin { x = 1 %? 2 }', "incomplete conditional - missing '%('", 1, 21],
    ['probe begin { x = %( 1 == 1 %? 1 %: 2 %: 3 %) }', "invalid conditional - duplicate '%:'", 1, 39],
    ['probe begin { x = %( 1 == 1 1 %) }', "expected '%?' marker for conditional", 1, 19],
    ['probe begin { x = %( 1 == 1 && %) }', "incomplete condition after '%('", 1, 19],
    ['probe begin { x = %( 1 == 1 || 2 == 2 3 %? 1 %) }', "expected '%?' marker for conditional", 1, 19],
    ['probe begin { x = %( kernel_v = "6" %? 1 %) }', 'expected comparison operator', 1, 31],
    ['probe begin { x = %( kernel_v == 6 %? 1 %) }', 'expected string literal', 1, 34],
    ['probe begin { x = %( kernel_v < "6.*" %? 1 %) }', 'wildcard not allowed with order comparison operators', 1, 31],
    ['probe begin { x = %( arch < "x" %? 1 %) }', "expected '==' or '!='", 1, 27],
    ['probe begin { x = %( arch == x86_64 %? 1 %) }', 'expected string literal', 1, 30],
    ['probe begin { x = %( runtime > "bpf" %? 1 %) }', "expected '==' or '!='", 1, 30],
    ['probe begin { x = %( systemtap_privilege < "stapdev" %? 1 %) }', "expected '==' or '!='", 1, 42],
    ['probe begin { x = %( guru_mode == 2 %? 1 %) }', 'expected 0 or 1', 1, 32],
    ['probe begin { x = %( guru_mode == "0" %? 1 %) }', 'expected number', 1, 35],
    ['probe begin { x = %( CONFIG_BPF > 1 %? 1 %) }', 'Config option value not a number', 1, 22],
    ['probe begin { x = %( CONFIG_BPF == arch %? 1 %) }', 'expected string, number literal or other CONFIG_... as right side operand', 1, 36],
    ['probe begin { x = %( "a" == 1 %? 1 %) }', 'expected string literal as right value', 1, 29],
    ['probe begin { x = %( 1 == "a" %? 1 %) }', 'expected number literal as right value', 1, 27],
    ['probe begin { x = %( 1 = 1 %? 1 %) }', 'expected comparison operator', 1, 24],
  ])('%j -> %s', (src, message, line, col) => {
    expect(fail(src)).toEqual({ message, line, col });
  });

  it('names the condition kinds when none applies', () => {
    expect(fail('probe begin {\n  x = %( foo == "bar" %? 1 %) }')).toEqual({
      message:
        "expected 'arch', 'kernel_v', 'kernel_vr', 'systemtap_v',\n" +
        "             'runtime', 'systemtap_privilege', 'CONFIG_...', or\n" +
        '             comparison between strings or integers',
      line: 2,
      col: 10,
    });
  });

  it('points a syntax error inside a kept branch at its place in the script', () => {
    // the kept text is "1 +" followed by the "}" after %)
    expect(fail('probe begin {\n  x = %( 1 == 1 %?\n    1 + %: 2 %) }')).toEqual({ message: 'expected expression', line: 3, col: 17 });
    expect(fail('probe begin {\n  x = %( 1 == 0 %? 1 %:\n    ) %) }')).toEqual({ message: 'expected expression', line: 3, col: 5 });
    expect(fail('%( 1 == 1 %?\nprobe begin { x = }\n%)')).toEqual({ message: 'expected expression', line: 2, col: 19 });
  });

  it('reports an unexpected end at the end of the script', () => {
    expect(fail('probe begin { x = %( 1 == 1 %? 1 + %: 2 %)')).toEqual({ message: 'unexpected end-of-file', line: 1, col: 43 });
  });
});

describe('locations after preprocessing', () => {
  it('every node keeps the location of its own text', () => {
    const s = parse('%( 1 == 1 %?\n  probe begin {\n    x = %( 1 == 0 %? 1 %: y + 22 %)\n  }\n%)');
    expect(s.loc).toMatchObject({ line: 1, col: 1, offset: 0 });
    const p = s.items[0] as ProbeDecl;
    expect(p.loc).toMatchObject({ line: 2, col: 3 });
    const e = firstExpr(s);
    expect(e.loc).toMatchObject({ line: 3, col: 5 });
    if (e.kind !== 'assign' || e.value.kind !== 'binary') throw new Error('shape');
    expect(e.value.loc).toMatchObject({ line: 3, col: 27 });
    expect(e.value.opLoc).toMatchObject({ line: 3, col: 29 });
    expect(e.value.right.loc).toMatchObject({ line: 3, col: 31 });
    expect(e.value.right.loc.offset).toBe(s.loc.offset + '%( 1 == 1 %?\n  probe begin {\n    x = %( 1 == 0 %? 1 %: y + '.length);
  });

  it('a script without preprocessing is parsed as is', () => {
    const src = '/* c */ probe begin { x = 1 } # end\n';
    const s = parse(src);
    expect((s.items[0] as ProbeDecl).loc).toMatchObject({ line: 1, col: 9, offset: 8 });
  });
});

// ---------------------------------------------------------------- macros

describe('@define macros', () => {
  it('expands parameterless and parameterized macros', () => {
    expect(pp('@define foo %( x %)\n@define add(a,b) %( ((@a)+(@b)) %)\nprobe begin { @foo = @add(2,2) }')).toBe(
      'probe begin {\n  x = 2 + 2;\n}\n',
    );
  });

  it('expands macros in arguments and nested bodies; arguments may contain commas in () and []', () => {
    const defs = '@define add(a,b) %( ((@a)+(@b)) %)\n@define twice(e) %( @add(@e, @e) %)\n';
    expect(pp(defs + 'probe begin { x = @twice(f(1, 2)) y = @add(m[1,2], 3) }')).toBe(
      'probe begin {\n  x = f(1, 2) + f(1, 2);\n  y = m[1, 2] + 3;\n}\n',
    );
  });

  it('evaluates a parameter in the context of the invocation', () => {
    // @a inside twice's argument refers to outer's parameter a
    const defs = '@define twice(e) %( (@e) * 2 %)\n@define outer(a) %( @twice(@a + 1) %)\n';
    expect(pp(defs + 'probe begin { x = @outer(5) }')).toBe('probe begin {\n  x = (5 + 1) * 2;\n}\n');
  });

  it('a macro is known only after its definition', () => {
    expect(fail('probe begin { x = @foo }\n@define foo %( 1 %)')).toMatchObject({ line: 1, col: 19 });
  });

  it('leaves the "arguments" of a parameterless macro alone', () => {
    expect(pp('@define fn %( exit %)\nprobe begin { @fn() }')).toBe('probe begin {\n  exit();\n}\n');
  });

  it('can build probe point components', () => {
    expect(pp('@define sys %( syscall %)\n@define rd %( read %)\nprobe @sys.@rd.return { }')).toBe('probe syscall.read.return {\n}\n');
  });

  it('bodies may hold conditionals, and macros may appear in conditions', () => {
    const defs = '@define pick %( %( arch == "x86_64" %? "x86" %: "other" %) %)\n@define KV %( kernel_v %)\n';
    expect(pp(defs + 'probe begin { x = @pick y = %( @KV >= "6" %? 1 %: 0 %) }')).toBe('probe begin {\n  x = "x86";\n  y = 1;\n}\n');
  });

  it('defines macros in kept conditional text only', () => {
    const src =
      '%( 1 == 1 %? @define foo %( 1 %) %: @define foo %( **ERROR** %) %)\n' +
      '%( 1 == 0 %? @define bar %( 2 %) %)\n' +
      'probe begin { x = @foo }';
    expect(pp(src)).toBe('probe begin {\n  x = 1;\n}\n');
    expect(fail(src.replace('@foo', '@bar'))).toMatchObject({ line: 3, col: 19 });
  });

  it('warns when a macro redefines a built-in @operator', () => {
    const warnings: Diagnostic[] = [];
    expect(pp('@define count %( 1 %)\nprobe begin { x = @count }', { warnings })).toContain('x = 1');
    expect(warnings.map((w) => [w.severity, w.message, w.loc?.line, w.loc?.col])).toEqual([
      ['WARNING', "macro redefines built-in operator '@count'", 1, 9],
    ]);
  });

  it('nodes expanded from a body are located in the body, arguments at the call', () => {
    const s = parse('@define add(a, b) %(\n  (@a) + (@b)\n%)\nprobe begin {\n  x = @add(y, 7)\n}');
    const e = firstExpr(s);
    expect(e.loc).toMatchObject({ line: 5, col: 3 });
    if (e.kind !== 'assign' || e.value.kind !== 'binary') throw new Error('shape');
    expect(e.value.opLoc).toMatchObject({ line: 2, col: 8 });
    expect(e.value.left.loc).toMatchObject({ line: 5, col: 12 });
    expect(e.value.right.loc).toMatchObject({ line: 5, col: 15 });
  });

  it('points an error inside an expansion into the macro body', () => {
    expect(fail('@define bad %( 1 + %)\nprobe begin {\n  x = @bad\n}')).toEqual({ message: 'expected expression', line: 4, col: 1 });
    expect(fail('@define bad %( (1 + ) %)\nprobe begin { x = @bad }')).toEqual({ message: 'expected expression', line: 1, col: 21 });
  });

  it.each([
    ['@define %( 1 %)', 'expected identifier', 1, 9],
    ['@define if %( 1 %)', 'expected identifier', 1, 9],
    ['@define', 'expected identifier', 1, 8],
    ['@define foo 1 %)', "expected '%(' or '('", 1, 13],
    ['@define foo(a) 1 %)', "expected '%('", 1, 16],
    ['@define foo(a b) %( 1 %)', "expected ',' or ')'", 1, 15],
    ['@define foo(1) %( 1 %)', 'expected identifier', 1, 13],
    ['@define foo %( 1 ', "incomplete macro definition - missing '%)'", 1, 9],
    ['@define define %( 1 %)', "attempt to redefine '@define'", 1, 9],
    ['@define foo %( @define bar %( 1 %) %)\nprobe begin { x = @foo }', "'@define' forbidden inside macro body", 1, 16],
    ['@define f(a) %( @a %)\nprobe begin { x = @f }', "expected '(' in invocation of macro '@f' taking 1 parameter", 2, 22],
    ['@define f(a,b) %( @a %)\nprobe begin { x = @f 1 }', "expected '(' in invocation of macro '@f' taking 2 parameters", 2, 22],
    ['@define f(a) %( @a %)\nprobe begin { x = @f(1, 2) }', "too many parameters for macro '@f' (expected 1)", 2, 23],
    ['@define f(a,b) %( @a %)\nprobe begin { x = @f(1) }', "too few parameters for macro '@f' (expected 2)", 2, 23],
    ['@define f(a) %( @a %)\nprobe begin { x = @f((1) }', 'could not find end of macro invocation', 2, 19],
    ['@define g %( @f(1 %)\n@define f(a) %( @a %)\nprobe begin { x = @g }', 'could not find end of macro invocation', 1, 14],
  ])('%j -> %s', (src, message, line, col) => {
    expect(fail(src)).toEqual({ message, line, col });
  });

  it('reports a redefinition with the first definition', () => {
    const d = failAll('@define foo %( 1 %)\n@define foo %( 2 %)');
    expect(d.map((x) => [x.message, x.loc!.line, x.loc!.col])).toEqual([
      ["attempt to redefine macro '@foo' in the same file", 2, 9],
      ["macro '@foo' first defined here", 1, 9],
    ]);
  });

  it('leaves unknown @words for the parser', () => {
    expect(fail('probe begin { x = @nosuch(p)->pid }')).toMatchObject({ line: 1, col: 19 });
    expect(printScript(parseScript('probe begin { x = @cast(p, "task_struct")->pid }', 'x.stp'))).toContain('@cast(p, "task_struct")->pid');
  });
});

describe('-p1 prints the script after preprocessing', () => {
  it('prints only kept and expanded code', () => {
    const src =
      '#! /usr/bin/env stap\n' +
      '@define NR %( %( $# > 0 %? $1 %: 10 %) %)\n' +
      'global n = %( CONFIG_BPF == "y" %? 1 %: 0 %)\n' +
      'probe timer.ms(@NR) { n++ %( kernel_v < "3.0" %? old() %) ; if (n > @NR) exit() }\n';
    expect(pp(src)).toBe('global n = 1\nprobe timer.ms(10) {\n  n++;\n  if (n > 10) exit();\n}\n');
    expect(pp(src, { args: ['250'] })).toBe('global n = 1\nprobe timer.ms(250) {\n  n++;\n  if (n > 250) exit();\n}\n');
  });
});
