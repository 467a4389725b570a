/**
 * POSIX ERE -> Thompson NFA -> DFA (subset construction) for stap's `=~` / `!~`.
 *
 * The DFA runs over the symbols BOS, the string's bytes, EOS: `^` consumes BOS and `$` consumes
 * EOS, so anchors need no look-around. The search is unanchored (an implicit loop over every
 * symbol precedes the pattern) and a match anywhere is enough, so every accepting state is
 * merged into one absorbing state ACCEPT (1); DEAD (0) absorbs the rest. The kernel and the TS
 * VM stop as soon as the state is 0 or 1, and the result is state == 1 after EOS.
 *
 * Table layout (REMATCH reads it at a data offset, 2-aligned):
 *   u16 nclasses, u16 nstates, u16 start, u8 bos class, u8 eos class,
 *   u8 class[256] (class of each byte),
 *   u16 next[nstates][nclasses].
 */

export class RegexError extends Error {}

export const BOS = 256;
export const EOS = 257;
export const NSYM = 258;
/** most DFA states a pattern may have (the table must also fit the data area) */
export const MAX_DFA_STATES = 512;
/** most bytes one table may take in the data area */
export const MAX_TABLE_BYTES = 8192;
export const TABLE_HEADER = 8;

export type Node =
  | { k: 'set'; set: Uint8Array } // one symbol from the set (NSYM entries)
  | { k: 'group'; n: Node; idx: number } // a parenthesized subexpression, numbered by its '(' from 1
  | { k: 'cat'; a: Node[] }
  | { k: 'alt'; a: Node[] }
  | { k: 'rep'; n: Node; min: number; max: number } // max -1 = unbounded
  | { k: 'empty' };

const CLASSES: Record<string, (c: number) => boolean> = {
  alpha: (c) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122),
  digit: (c) => c >= 48 && c <= 57,
  alnum: (c) => CLASSES.alpha(c) || CLASSES.digit(c),
  upper: (c) => c >= 65 && c <= 90,
  lower: (c) => c >= 97 && c <= 122,
  space: (c) => c === 32 || (c >= 9 && c <= 13),
  blank: (c) => c === 32 || c === 9,
  punct: (c) => (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126),
  print: (c) => c >= 32 && c <= 126,
  graph: (c) => c >= 33 && c <= 126,
  cntrl: (c) => c < 32 || c === 127,
  xdigit: (c) => CLASSES.digit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102),
};

function byteSet(pred: (c: number) => boolean): Uint8Array {
  const s = new Uint8Array(NSYM);
  for (let c = 1; c < 256; c++) if (pred(c)) s[c] = 1;
  return s;
}

/** Parses an ERE given as bytes (the string literal's value). */
export function parseEre(src: string): Node {
  const b = Array.from(Buffer.from(src, 'latin1'));
  let i = 0;
  let groups = 0;
  const fail = (msg: string): never => {
    throw new RegexError(msg);
  };
  const alt = (): Node => {
    const a = [cat()];
    while (b[i] === 0x7c) {
      i++;
      a.push(cat());
    }
    return a.length === 1 ? a[0] : { k: 'alt', a };
  };
  const cat = (): Node => {
    const a: Node[] = [];
    while (i < b.length && b[i] !== 0x7c && b[i] !== 0x29) a.push(postfix());
    return a.length === 0 ? { k: 'empty' } : a.length === 1 ? a[0] : { k: 'cat', a };
  };
  const num = (): number | null => {
    let s = '';
    while (b[i] >= 48 && b[i] <= 57) s += String.fromCharCode(b[i++]);
    return s === '' ? null : Number(s);
  };
  const postfix = (): Node => {
    let n = atom();
    for (;;) {
      const c = b[i];
      if (c === 0x2a || c === 0x2b || c === 0x3f) {
        i++;
        n = { k: 'rep', n, min: c === 0x2b ? 1 : 0, max: c === 0x3f ? 1 : -1 };
      } else if (c === 0x7b) {
        i++;
        const min = num();
        if (min === null) fail('invalid repetition count');
        let max: number | null = min;
        if (b[i] === 0x2c) {
          i++;
          max = num();
          if (max === null) max = -1;
        }
        if (b[i] !== 0x7d) fail('unterminated {m,n} repetition');
        i++;
        if (max !== -1 && max! < min!) fail('invalid repetition range');
        if (min! > 255 || max! > 255) fail('repetition count too large');
        n = { k: 'rep', n, min: min!, max: max! };
      } else return n;
    }
  };
  const atom = (): Node => {
    const c = b[i++];
    switch (c) {
      case 0x28: {
        // stap numbers subexpressions by their opening parenthesis (group 0 is the whole match)
        const idx = ++groups;
        const n = b[i] === 0x29 ? ({ k: 'empty' } as Node) : alt();
        if (b[i] !== 0x29) fail('unmatched ( in regular expression');
        i++;
        return { k: 'group', n, idx };
      }
      case 0x2e:
        return { k: 'set', set: byteSet(() => true) };
      case 0x5e: {
        const s = new Uint8Array(NSYM);
        s[BOS] = 1;
        return { k: 'set', set: s };
      }
      case 0x24: {
        const s = new Uint8Array(NSYM);
        s[EOS] = 1;
        return { k: 'set', set: s };
      }
      case 0x5b:
        return bracket();
      case 0x5c: {
        if (i >= b.length) fail('trailing backslash in regular expression');
        const e = b[i++];
        return lit(e);
      }
      case 0x2a:
      case 0x2b:
      case 0x3f:
      case 0x7b:
        return fail(`repetition operator ${String.fromCharCode(c)} with nothing to repeat`);
      default:
        return lit(c);
    }
  };
  const lit = (c: number): Node => {
    const s = new Uint8Array(NSYM);
    s[c] = 1;
    return { k: 'set', set: s };
  };
  const bracket = (): Node => {
    const s = new Uint8Array(NSYM);
    let neg = false;
    if (b[i] === 0x5e) {
      neg = true;
      i++;
    }
    let first = true;
    for (;;) {
      if (i >= b.length) fail('unmatched [ in regular expression');
      const c = b[i];
      if (c === 0x5d && !first) {
        i++;
        break;
      }
      first = false;
      if (c === 0x5b && b[i + 1] === 0x3a) {
        const end = b.indexOf(0x3a, i + 2);
        if (end < 0 || b[end + 1] !== 0x5d) fail('unterminated character class');
        const name = String.fromCharCode(...b.slice(i + 2, end));
        const p = CLASSES[name];
        if (!p) fail(`unknown character class [:${name}:]`);
        for (let x = 1; x < 256; x++) if (p(x)) s[x] = 1;
        i = end + 2;
        continue;
      }
      i++;
      if (b[i] === 0x2d && b[i + 1] !== undefined && b[i + 1] !== 0x5d) {
        const hi = b[i + 1];
        if (hi < c) fail('invalid range in bracket expression');
        for (let x = c; x <= hi; x++) s[x] = 1;
        i += 2;
      } else s[c] = 1;
    }
    if (neg) for (let x = 1; x < 256; x++) s[x] ^= 1;
    s[0] = 0;
    return { k: 'set', set: s };
  };
  const n = alt();
  if (i < b.length) fail('unmatched ) in regular expression');
  return n;
}

/** the highest group number in a pattern: its subexpression count (stap counts a group even
 * where it can never match, as in `(a){0}`) */
export function maxGroup(n: Node): number {
  switch (n.k) {
    case 'group':
      return Math.max(n.idx, maxGroup(n.n));
    case 'cat':
    case 'alt':
      return Math.max(0, ...n.a.map(maxGroup));
    case 'rep':
      return maxGroup(n.n);
    default:
      return 0;
  }
}

/* ---- Thompson NFA ---- */

export interface Nfa {
  /** per state: symbol set (null = epsilon-only) and successors */
  sets: (Uint8Array | null)[];
  next: number[][];
  /** epsilon successors in priority order (first alternative, loop body before exit) */
  eps: number[][];
  /** tag a state sets when a path passes it (-1: none); only with `tagged` */
  tag: number[];
  start: number;
  accept: number;
  /** tags: 2 per group, group 0 (the whole match) first */
  ntags: number;
}

/**
 * With `tagged`, each group g gets epsilon states setting tags 2g (start) and 2g+1 (end),
 * and the whole pattern is group 0 (src/regex/tdfa.ts). The unanchored prefix loop is lazy
 * (the pattern comes first in its epsilon order), so earlier starts have priority.
 */
export function buildNfa(root: Node, tagged = false): Nfa {
  const nfa: Nfa = { sets: [], next: [], eps: [], tag: [], start: 0, accept: 0, ntags: 2 };
  const state = () => {
    nfa.sets.push(null);
    nfa.next.push([]);
    nfa.eps.push([]);
    nfa.tag.push(-1);
    return nfa.sets.length - 1;
  };
  /** a fragment wrapped in the tag states of group idx */
  if (tagged) nfa.ntags = 2 * (maxGroup(root) + 1);
  const tagged2 = (idx: number, inner: () => [number, number]): [number, number] => {
    const s = state();
    nfa.tag[s] = 2 * idx;
    const [s1, e1] = inner();
    const e = state();
    nfa.tag[e] = 2 * idx + 1;
    nfa.eps[s].push(s1);
    nfa.eps[e1].push(e);
    return [s, e];
  };
  const frag = (n: Node): [number, number] => {
    if (nfa.sets.length > 20000) throw new RegexError('regular expression too large');
    switch (n.k) {
      case 'group':
        return tagged ? tagged2(n.idx, () => frag(n.n)) : frag(n.n);
      case 'empty': {
        const s = state();
        return [s, s];
      }
      case 'set': {
        const s = state();
        const e = state();
        nfa.sets[s] = n.set;
        nfa.next[s].push(e);
        return [s, e];
      }
      case 'cat': {
        const [s, e0] = frag(n.a[0]);
        let e = e0;
        for (const x of n.a.slice(1)) {
          const [s1, e1] = frag(x);
          nfa.eps[e].push(s1);
          e = e1;
        }
        return [s, e];
      }
      case 'alt': {
        const s = state();
        const e = state();
        for (const x of n.a) {
          const [s1, e1] = frag(x);
          nfa.eps[s].push(s1);
          nfa.eps[e1].push(e);
        }
        return [s, e];
      }
      case 'rep': {
        const s = state();
        let e = s;
        for (let k = 0; k < n.min; k++) {
          const [s1, e1] = frag(n.n);
          nfa.eps[e].push(s1);
          e = e1;
        }
        if (n.max === -1) {
          const [s1, e1] = frag(n.n);
          const loop = state();
          nfa.eps[e].push(loop);
          nfa.eps[loop].push(s1);
          nfa.eps[e1].push(loop);
          e = loop;
        } else {
          const end = state();
          for (let k = n.min; k < n.max; k++) {
            const [s1, e1] = frag(n.n);
            nfa.eps[e].push(s1, end);
            e = e1;
          }
          nfa.eps[e].push(end);
          e = end;
        }
        return [s, e];
      }
    }
  };
  // the unanchored search: any symbol, any number of times, before the pattern
  const pre = state();
  const preLoop = state();
  nfa.sets[preLoop] = new Uint8Array(NSYM).fill(1);
  nfa.next[preLoop].push(pre);
  const [s, e] = tagged ? tagged2(0, () => frag(root)) : frag(root);
  nfa.eps[pre].push(s, preLoop);
  nfa.start = pre;
  nfa.accept = e;
  return nfa;
}

/* ---- DFA ---- */

export interface Dfa {
  nclasses: number;
  /** class of each symbol (NSYM entries: bytes, BOS, EOS) */
  classOf: Uint8Array;
  /** next[state * nclasses + class]; state 0 = dead, 1 = accept (both absorbing) */
  next: Uint16Array;
  nstates: number;
  start: number;
}

/** Equivalence classes: symbols that every NFA set treats alike; rep[k] is one symbol of class k. */
export function symbolClasses(nfa: Nfa): { classOf: Uint8Array; ncls: number; rep: number[] } {
  const sigs = new Map<string, number>();
  const classOf = new Uint8Array(NSYM);
  const sets = nfa.sets.filter((x): x is Uint8Array => x !== null);
  const uniq = [...new Set(sets)];
  for (let c = 0; c < NSYM; c++) {
    let sig = '';
    for (const s of uniq) sig += s[c];
    let k = sigs.get(sig);
    if (k === undefined) sigs.set(sig, (k = sigs.size));
    classOf[c] = k;
  }
  const ncls = sigs.size;
  if (ncls > 255) throw new RegexError('regular expression too complex');
  return { classOf, ncls, rep: Array.from({ length: ncls }, (_, k) => classOf.indexOf(k)) };
}

export function compileEre(src: string): Dfa {
  const nfa = buildNfa(parseEre(src));
  const { classOf, ncls, rep } = symbolClasses(nfa);
  const closure = (seed: number[]): number[] => {
    const seen = new Set(seed);
    const stack = [...seed];
    while (stack.length)
      for (const t of nfa.eps[stack.pop()!])
        if (!seen.has(t)) {
          seen.add(t);
          stack.push(t);
        }
    return [...seen].sort((x, y) => x - y);
  };
  const ids = new Map<string, number>();
  const list: number[][] = [];
  const rows: number[][] = [[...Array(ncls).fill(0)], [...Array(ncls).fill(1)]];
  const idOf = (set: number[]): number => {
    if (set.length === 0) return 0;
    if (set.includes(nfa.accept)) return 1;
    const key = set.join(',');
    let id = ids.get(key);
    if (id === undefined) {
      id = list.length + 2;
      if (id >= MAX_DFA_STATES) throw new RegexError(`regular expression needs more than ${MAX_DFA_STATES} DFA states`);
      ids.set(key, id);
      list.push(set);
    }
    return id;
  };
  const start = idOf(closure([nfa.start]));
  for (let q = 0; q < list.length; q++) {
    const row: number[] = [];
    for (let k = 0; k < ncls; k++) {
      const moved: number[] = [];
      for (const st of list[q]) if (nfa.sets[st]?.[rep[k]]) moved.push(...nfa.next[st]);
      row.push(idOf(closure(moved)));
    }
    rows.push(row);
  }
  const nstates = rows.length;
  if (TABLE_HEADER + 256 + 2 * nstates * ncls > MAX_TABLE_BYTES)
    throw new RegexError(`regular expression needs a ${TABLE_HEADER + 256 + 2 * nstates * ncls}-byte table (at most ${MAX_TABLE_BYTES})`);
  return { nclasses: ncls, classOf, next: Uint16Array.from(rows.flat()), nstates, start };
}

/** The table REMATCH reads (layout at the top of this file). */
export function dfaTable(d: Dfa): number[] {
  const out: number[] = [];
  const u16 = (v: number) => out.push(v & 0xff, v >> 8);
  u16(d.nclasses);
  u16(d.nstates);
  u16(d.start);
  out.push(d.classOf[BOS], d.classOf[EOS]);
  for (let c = 0; c < 256; c++) out.push(d.classOf[c]);
  for (const v of d.next) u16(v);
  return out;
}

/** Runs a table at data[off] over the bytes of s (the TS VM's REMATCH; vm/regex.h is the same). */
export function runTable(data: Uint8Array, off: number, bytes: Uint8Array | number[]): boolean {
  const u16 = (o: number) => data[o] | (data[o + 1] << 8);
  const ncls = u16(off);
  let q = u16(off + 4);
  const step = (cls: number) => (q = u16(off + TABLE_HEADER + 256 + 2 * (q * ncls + cls)));
  step(data[off + 6]);
  for (let i = 0; i < bytes.length && q > 1; i++) step(data[off + TABLE_HEADER + bytes[i]]);
  if (q > 1) step(data[off + 7]);
  return q === 1;
}

/** Matches directly (tests). */
export function ereMatch(src: string, s: string): boolean {
  const t = Uint8Array.from(dfaTable(compileEre(src)));
  return runTable(t, 0, Buffer.from(s, 'latin1'));
}
