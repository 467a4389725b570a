// =~ and !~ in the front end: precedence (stap's comparison level), -p1 printing, the literal
// right operand, compile-time regex errors, and matched()/ngroups() refused clearly.
import { describe, expect, it } from 'vitest';
import { compileSource } from '../../src/compile/index';
import { DiagnosticError } from '../../src/diag/diagnostic';
import { parseScript as parse } from '../../src/parse/index';
import { printScript } from '../../src/parse/print';
import { DEFAULT_TAPSET_DIR } from '../../src/parse/tapsets';
import { Op } from '../../src/isa/opcodes';

const FILE = 'r.stp';

function diags(src: string): string[] {
  try {
    compileSource(src, FILE, 2);
    return [];
  } catch (e) {
    if (!(e instanceof DiagnosticError)) throw e;
    return e.diagnostics.map((d) => `${d.severity} ${d.loc?.line}:${d.loc?.col} ${d.message}`);
  }
}

describe('=~ and !~', () => {
  it('parse at the comparison level and print back', () => {
    const p = printScript(parse('probe begin { x = s =~ "a+" == 1; y = s !~ "^b" && s . "c" =~ "d" }', FILE));
    expect(p).toContain('x = (s =~ "a+") == 1;');
    expect(p).toContain('y = (s !~ "^b") && ((s . "c") =~ "d");');
  });

  it('want a literal string on the right', () => {
    const d = diags('probe begin { r = "a"; print("x" =~ r) }');
    expect(d).toHaveLength(1);
    expect(d[0]).toMatch(/^parse error 1:\d+ expected literal string/);
  });

  it('want a string on the left, and give a long', () => {
    expect(diags('probe begin { x = 1; print(x =~ "a") }')[0]).toMatch(/semantic error .*type mismatch/);
    expect(diags('probe begin { s = "x"; n = s =~ "a"; n = 2 }')).toEqual([]);
  });

  it('report an invalid pattern at compile time', () => {
    expect(diags('probe begin { print("x" =~ "(a") }')).toEqual(['semantic error 1:28 regex compilation error: unmatched ( in regular expression']);
    expect(diags('probe begin { print("x" =~ "(a|b)*a(a|b){12}") }')[0]).toMatch(/regex compilation error: regular expression needs more than 512 DFA states/);
  });

  it('leave matched() and ngroups() to tapset/regex.stp', () => {
    // without the tapset directory nothing defines matched(): stap's "unresolved function (similar: ...)"
    const d = diags('probe begin { if ("ab" =~ "(a)") print(matched(1)) }');
    expect(d).toHaveLength(1);
    expect(d[0]).toMatch(/^semantic error 1:40 unresolved function \(similar: [a-z_, ]+\)$/);
  });
});

describe('subexpressions (tapset/regex.stp)', () => {
  const ops = (src: string) => {
    const { image } = compileSource(src, FILE, 3, undefined, { tapsets: [DEFAULT_TAPSET_DIR] });
    return image!.code.map((w) => Number(w & 0xffn));
  };

  it('run tagged DFAs only in scripts that read subexpressions', () => {
    const plain = ops('probe begin { if ("ab" =~ "(a)") print("y") }');
    expect(plain).toContain(Op.REMATCH);
    expect(plain).not.toContain(Op.RETMATCH);
    const tagged = ops('probe begin { if ("ab" =~ "(a)") print(matched(1), ngroups(), matched_str()) }');
    expect(tagged).toContain(Op.RETMATCH);
    expect(tagged).not.toContain(Op.REMATCH);
    expect(tagged).toContain(Op.RENGROUPS);
    expect(tagged).toContain(Op.RESUBEXPR);
  });

  it('check the tagged table limits at compile time', () => {
    const many = Array.from({ length: 40 }, () => '(a)').join('|');
    let msg = '';
    try {
      compileSource(`probe begin { if ("a" =~ "${many}") print(matched(1)) }`, FILE, 3, undefined, { tapsets: [DEFAULT_TAPSET_DIR] });
    } catch (e) {
      if (!(e instanceof DiagnosticError)) throw e;
      msg = e.diagnostics.map((d) => `${d.severity} ${d.loc?.line}:${d.loc?.col} ${d.message}`).join('\n');
    }
    expect(msg).toBe('semantic error 1:26 regex compilation error: regular expression needs more than 253 tag registers');
  });
});
