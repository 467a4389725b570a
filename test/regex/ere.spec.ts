import { describe, expect, it } from 'vitest';
import { compileEre, dfaTable, ereMatch, RegexError, runTable } from '../../src/regex/ere.js';
import { rng } from '../rng';


/** random EREs over a small alphabet whose meaning JS RegExp shares (as an `s`-flag search) */
function genPattern(r: (n: number) => number, depth: number): string {
  const atoms = ['a', 'b', 'c', '.', '[ab]', '[^a]', '[a-c]', '(a|b)', '(ab|c)', '[[:digit:]]', '\\.', 'x'];
  const n = 1 + r(3);
  let out = '';
  for (let k = 0; k < n; k++) {
    let a = depth > 0 && r(4) === 0 ? `(${genPattern(r, depth - 1)})` : atoms[r(atoms.length)];
    const q = r(8);
    if (q === 0) a += '*';
    else if (q === 1) a += '+';
    else if (q === 2) a += '?';
    else if (q === 3) a += `{${r(3)},${2 + r(2)}}`;
    else if (q === 4) a += `{${1 + r(2)}}`;
    out += a;
  }
  if (depth > 0 && r(5) === 0) out += '|' + genPattern(r, depth - 1);
  return out;
}

const jsSource = (p: string) => p.replace(/\[\[:digit:\]\]/g, '[0-9]');

describe('ERE -> DFA', () => {
  it('matches like JS RegExp on generated patterns and strings', () => {
    const r = rng(12345);
    let checked = 0;
    for (let t = 0; t < 600; t++) {
      let p = genPattern(r, 2);
      if (r(4) === 0) p = '^' + p;
      if (r(4) === 0) p = p + '$';
      const re = new RegExp(jsSource(p), 's');
      let table: Uint8Array;
      try {
        table = Uint8Array.from(dfaTable(compileEre(p)));
      } catch (e) {
        expect(e).toBeInstanceOf(RegexError); // too many states: a diagnostic, never a crash
        continue;
      }
      for (let k = 0; k < 15; k++) {
        const s = Array.from({ length: r(9) }, () => 'abcx.1 \n'[r(8)]).join('');
        expect([p, s, runTable(table, 0, Buffer.from(s, 'latin1'))]).toEqual([p, s, re.test(s)]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(8000);
  });

  it('handles anchors, classes, escapes and intervals', () => {
    expect(ereMatch('^$', '')).toBe(true);
    expect(ereMatch('^$', 'a')).toBe(false);
    expect(ereMatch('', 'anything')).toBe(true);
    expect(ereMatch('a^b', 'a^b')).toBe(false);
    expect(ereMatch('a\\^b', 'a^b')).toBe(true);
    expect(ereMatch('x|^b', 'ab')).toBe(false);
    expect(ereMatch('x|^b', 'bb')).toBe(true);
    expect(ereMatch('^[[:alpha:]_][[:alnum:]_]*$', 'foo_1')).toBe(true);
    expect(ereMatch('^[[:alpha:]_][[:alnum:]_]*$', '1foo')).toBe(false);
    expect(ereMatch('[]a]', ']')).toBe(true);
    expect(ereMatch('[^]a]', ']')).toBe(false);
    expect(ereMatch('[a-]', '-')).toBe(true);
    expect(ereMatch('^a{3}$', 'aaa')).toBe(true);
    expect(ereMatch('^a{3}$', 'aaaa')).toBe(false);
    expect(ereMatch('^a{2,}$', 'aaaaa')).toBe(true);
    expect(ereMatch('^(ab|cd){1,2}e?$', 'abcd')).toBe(true);
    expect(ereMatch('[[:space:]]', 'a\tb')).toBe(true);
    expect(ereMatch('[[:upper:]]', 'abc')).toBe(false);
    expect(ereMatch('\u00e9', 'caf\u00e9')).toBe(true);
  });

  it('compresses the byte alphabet into classes', () => {
    expect(compileEre('abc').nclasses).toBe(4); // a, b, c, everything else
    expect(compileEre('^a$').nclasses).toBe(4); // a, BOS, EOS, everything else
    expect(compileEre('[a-z]+').nclasses).toBe(2);
  });

  it('rejects invalid patterns and patterns needing too many states', () => {
    for (const p of ['(a', 'a)', '[a', '*a', 'a{2', 'a{3,1}', '[[:nope:]]', 'a\\', '[z-a]'])
      expect(() => compileEre(p), p).toThrow(RegexError);
    expect(() => compileEre('(a|b)*a(a|b){12}')).toThrow(/more than 512 DFA states/);
  });
});
