// The tagged DFA (src/regex/tdfa.ts) against a backtracking reference written here: the
// leftmost-longest whole match, and for it the first parse in priority order (first
// alternative, loop body before exit), a group keeping its last iteration's text.
import { describe, expect, it } from 'vitest';
import { parseEre, type Node, BOS, EOS, RegexError } from '../../src/regex/ere.js';
import { compileTdfa, tdfaGroups, tdfaTable, runTdfa, sequence, MAX_TAG_REGS, UNSET, TMP, SRC_POS } from '../../src/regex/tdfa.js';
import { rng } from '../rng';

type Caps = Map<number, [number, number]>;

/** The reference: tries every start and end over the symbols BOS, bytes, EOS by backtracking. */
function reference(pattern: string, s: string): string[] | null {
  const root = parseEre(pattern);
  let ngroups = 0;
  const count = (n: Node): void => {
    if (n.k === 'group') ngroups = Math.max(ngroups, n.idx);
    if (n.k === 'group' || n.k === 'rep') count(n.n);
    if (n.k === 'cat' || n.k === 'alt') n.a.forEach(count);
  };
  count(root);
  const bytes = Buffer.from(s, 'latin1');
  const sym = [BOS, ...bytes, EOS];
  const pos = (j: number) => Math.min(Math.max(j - 1, 0), bytes.length);
  // every way n can consume sym[i..], in priority order
  function* m(n: Node, i: number, caps: Caps): Generator<[number, Caps]> {
    switch (n.k) {
      case 'set':
        if (i < sym.length && n.set[sym[i]]) yield [i + 1, caps];
        return;
      case 'empty':
        yield [i, caps];
        return;
      case 'group':
        for (const [j, c] of m(n.n, i, caps)) yield [j, new Map(c).set(n.idx, [pos(i), pos(j)])];
        return;
      case 'cat': {
        const go = function* (k: number, i2: number, c: Caps): Generator<[number, Caps]> {
          if (k === n.a.length) yield [i2, c];
          else for (const [j, c2] of m(n.a[k], i2, c)) yield* go(k + 1, j, c2);
        };
        yield* go(0, i, caps);
        return;
      }
      case 'alt':
        for (const a of n.a) yield* m(a, i, caps);
        return;
      case 'rep': {
        const go = function* (k: number, i2: number, c: Caps): Generator<[number, Caps]> {
          if (n.max === -1 || k < n.max)
            for (const [j, c2] of m(n.n, i2, c)) if (j > i2 || k < n.min) yield* go(k + 1, j, c2);
          if (k >= n.min) yield [i2, c];
        };
        yield* go(0, i, caps);
        return;
      }
    }
  }
  let best: { start: number; caps: Caps; end: number } | null = null;
  for (let e = 0; e <= sym.length; e++) {
    // the first parse, by start then priority, that ends exactly at e
    let hit: { start: number; caps: Caps } | null = null;
    for (let j = 0; j <= e && !hit; j++)
      for (const [k, c] of m(root, j, new Map()))
        if (k === e) {
          hit = { start: j, caps: c };
          break;
        }
    if (hit && (!best || pos(hit.start) <= pos(best.start))) best = { ...hit, end: e };
  }
  if (!best) return null;
  const out = [bytes.subarray(pos(best.start), pos(best.end)).toString('latin1')];
  for (let g = 1; g <= ngroups; g++) {
    const c = best.caps.get(g);
    out.push(c ? bytes.subarray(c[0], c[1]).toString('latin1') : '');
  }
  return out;
}


/** random patterns with groups; loop bodies never match the empty string (where a
 * backtracker's empty-iteration rule and the automaton's may part) */
function gen(r: (n: number) => number, depth: number): string {
  const atoms = ['a', 'b', 'c', '.', '[ab]', '[^a]', 'ab', 'x'];
  const n = 1 + r(3);
  let out = '';
  for (let k = 0; k < n; k++) {
    const grouped = depth > 0 && r(3) === 0;
    let a = grouped ? `(${gen(r, depth - 1)})` : atoms[r(atoms.length)];
    const q = r(7);
    const nullable = grouped; // conservative: a generated group may match ""
    if (q === 0 && !nullable) a += '*';
    else if (q === 1 && !nullable) a += '+';
    else if (q === 2) a += '?';
    else if (q === 3 && !nullable) a += `{${r(2)},${1 + r(2)}}`;
    if (r(6) === 0) a = `(${a})`;
    out += a;
  }
  if (depth > 0 && r(4) === 0) out += '|' + gen(r, depth - 1);
  return out;
}

describe('tagged DFA', () => {
  it('agrees with the backtracking reference on generated patterns and strings', () => {
    const r = rng(4242);
    let checked = 0;
    let matched = 0;
    for (let t = 0; t < 300; t++) {
      let p = gen(r, 2);
      if (r(4) === 0) p = '^' + p;
      if (r(4) === 0) p = p + '$';
      let table: Uint8Array;
      try {
        table = Uint8Array.from(tdfaTable(compileTdfa(p)));
      } catch (e) {
        expect(e).toBeInstanceOf(RegexError);
        continue;
      }
      for (let k = 0; k < 8; k++) {
        const s = Array.from({ length: r(8) }, () => 'abcx'[r(4)]).join('');
        const b = Buffer.from(s, 'latin1');
        const m = runTdfa(table, 0, b);
        const got = m && Array.from({ length: m.length / 2 }, (_, g) => (m[2 * g] === UNSET ? '' : b.subarray(m[2 * g], m[2 * g + 1]).toString('latin1')));
        const want = reference(p, s);
        expect([p, s, got]).toEqual([p, s, want]);
        checked++;
        if (want) matched++;
      }
    }
    expect(checked).toBeGreaterThan(2000);
    expect(matched).toBeGreaterThan(800);
  }, 60_000);

  it('finds the leftmost-longest whole match and its subexpressions', () => {
    expect(tdfaGroups('a|ab', 'xab')).toEqual(['ab']);
    expect(tdfaGroups('b+', 'abbbc')).toEqual(['bbb']);
    expect(tdfaGroups('^([a-z]+)=([0-9]+)$', 'foo=123')).toEqual(['foo=123', 'foo', '123']);
    expect(tdfaGroups('/([^/]*)$', '/usr/lib/libc.so.6')).toEqual(['/libc.so.6', 'libc.so.6']);
    expect(tdfaGroups('(.*)/(.*)', 'a/b/c')).toEqual(['a/b/c', 'a/b', 'c']);
    expect(tdfaGroups('(a*)(a)', 'aaa')).toEqual(['aaa', 'aa', 'a']);
    expect(tdfaGroups('x(a|b)*y', 'zxababyq')).toEqual(['xababy', 'b']);
    expect(tdfaGroups('((a)|b)+', 'ab')).toEqual(['ab', 'b', 'a']);
    expect(tdfaGroups('', 'abc')).toEqual(['']);
    expect(tdfaGroups('$', 'abc')).toEqual(['']);
    expect(tdfaGroups('z', 'abc')).toBeNull();
  });

  it('counts every group, matched or not, group 0 included (stap numbers them by their parenthesis)', () => {
    expect(tdfaGroups('a|(b)', 'a')).toEqual(['a', '']);
    expect(tdfaGroups('(a){0}b', 'b')).toEqual(['b', '']);
    expect(tdfaGroups('((a)(b))(c)', 'abc')).toEqual(['abc', 'ab', 'a', 'b', 'c']);
    expect(tdfaGroups('()', 'x')).toEqual(['', '']);
  });

  it('runs a transition\'s copies in place: identity copies dropped, sources read before they are overwritten, cycles through TMP', () => {
    // as a parallel move: every destination gets the value its source had before the step
    const run = (moves: [number, number][]) => {
      const regs = Array.from({ length: 256 }, (_, i) => i);
      for (const [d, s] of sequence(moves)) regs[d] = s === SRC_POS ? 1000 : regs[s];
      return moves.map(([d]) => regs[d]);
    };
    const moves: [number, number][] = [[0, 0], [1, 2], [2, 1], [3, 4], [4, 5], [6, SRC_POS], [7, 3]];
    expect(run(moves)).toEqual([0, 2, 1, 4, 5, 1000, 3]);
    const seq = sequence(moves);
    expect(seq.some(([d, s]) => d === s)).toBe(false);
    expect(seq.filter(([d]) => d === TMP)).toHaveLength(1);
  });

  it('copies only tags some path can have set (the prefix loop thread has no registers)', () => {
    const d = compileTdfa('z');
    // from any state on any symbol: at most a new thread's start tag and the match's two tags
    for (const row of d.trans) for (const [, l] of row) expect(d.ops[l].length).toBeLessThanOrEqual(3);
    expect(d.ops.flat().length).toBeLessThan(8);
  });

  it('refuses patterns needing too many registers or states at compile time', () => {
    const many = Array.from({ length: 40 }, () => '(a)').join('|');
    expect(() => compileTdfa(many)).toThrow(new RegExp(`more than ${MAX_TAG_REGS} tag registers`));
    expect(() => compileTdfa('(a|b)*a(a|b){12}')).toThrow(RegexError);
  });
});
