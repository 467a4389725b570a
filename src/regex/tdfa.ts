/**
 * Tagged DFA for `=~` when the script reads subexpressions (matched(), matched_str(),
 * ngroups()), after Laurikari's TDFA as stap's stapregex uses it: the NFA of src/regex/ere.ts
 * with tag states (group g sets tag 2g at its start and 2g+1 at its end; group 0 is the whole
 * match) is determinized into states that are ORDERED lists of NFA threads. The order is the
 * threads' priority: an earlier start first (the unanchored prefix loop is lazy), then the
 * first alternative and the loop body before the exit (greedy). Where two threads reach one
 * NFA state only the first is kept, as a backtracking matcher's first path would be.
 *
 * Registers are positional: thread i of a state keeps tag t in register i * ntags + t, so a
 * DFA state needs no register map and each transition carries the copies that fill the next
 * state's registers (from a register, the position, or "unset"). They run in place, in one
 * bank: a copy onto itself is dropped (a thread that keeps its index keeps its registers), a
 * copy goes before any copy that overwrites its source, and a cycle is broken through
 * register TMP (a parallel move made sequential). Whenever the state holds the accepting thread,
 * its tags are recorded if no match was recorded yet or its start is not later than the
 * recorded one: POSIX's leftmost-longest whole match; subexpressions follow the priorities.
 *
 * Table layout (RETMATCH reads it at a 2-aligned data offset; offsets relative to the table):
 *   u16 nclasses, u16 nstates, u16 start, u8 bos class, u8 eos class, u8 ntags, u8 0,
 *   u16 init ops offset, u8 class[256],
 *   { u16 next state, u16 ops offset } trans[nstates][nclasses],
 *   u8 accept[nstates] (the accepting thread's index, 255: none), padding to 2,
 *   op lists: u16 count, then count x { u8 dst register, u8 src } (src 254: unset, 255: position),
 *   run in order over one register bank.
 * State 0 is dead (no thread left).
 */
import { buildNfa, parseEre, symbolClasses, RegexError, BOS, EOS, MAX_TABLE_BYTES } from './ere';

export const TDFA_HEADER = 12;
/** registers: thread count x tag count must stay below (253 is TMP; 254 and 255 are sources) */
export const MAX_TAG_REGS = 253;
export const TMP = 253;
/** copies per transition (the kernel's loop count is a byte) */
export const MAX_TAG_OPS = 255;
/** most DFA states of a tagged pattern */
export const MAX_TDFA_STATES = 512;
export const SRC_UNSET = 254;
export const SRC_POS = 255;
/** what an unset register holds: registers are 16 bits (positions go up to 511 with -D
 * MAXSTRINGLEN=512), so this is above every position */
export const UNSET = 0xffff;

export interface Tdfa {
  ntags: number;
  nclasses: number;
  classOf: Uint8Array;
  start: number;
  /** per state: the accepting thread's index or -1 */
  accept: number[];
  /** trans[state][class] = [next, op list index] */
  trans: [number, number][][];
  /** op lists: pairs [dst, src], in the order they run */
  ops: [number, number][][];
  init: number;
}

type Src = number; // a register, SRC_UNSET or SRC_POS

/** A transition's copies (all at once, as a parallel move) as a sequence over one bank. */
export function sequence(moves: [number, number][]): [number, number][] {
  const pending = moves.filter(([d, s]) => d !== s).map(([d, s]) => [d, s] as [number, number]);
  const out: [number, number][] = [];
  while (pending.length) {
    const i = pending.findIndex(([d]) => !pending.some(([, s]) => s === d));
    if (i >= 0) {
      out.push(pending[i]);
      pending.splice(i, 1);
      continue;
    }
    // only cycles are left: keep one source in TMP and read it from there
    const s = pending[0][1];
    out.push([TMP, s]);
    for (const m of pending) if (m[1] === s) m[1] = TMP;
  }
  return out;
}

export function compileTdfa(src: string): Tdfa {
  const nfa = buildNfa(parseEre(src), true);
  const T = nfa.ntags;
  const { classOf, ncls, rep } = symbolClasses(nfa);
  // may[s][t]: some path from the start to NFA state s sets tag t. A thread's tag that no path
  // sets is "unset" at compile time: its register is never written or read (the prefix loop's
  // thread has none), except the accepting thread's, whose registers the match records.
  const may = nfa.sets.map(() => new Uint8Array(T));
  const reached = new Set<number>([nfa.start]);
  {
    const work = [nfa.start];
    const queued = new Uint8Array(nfa.sets.length);
    queued[nfa.start] = 1;
    if (nfa.tag[nfa.start] >= 0) may[nfa.start][nfa.tag[nfa.start]] = 1;
    while (work.length) {
      const s = work.pop()!;
      queued[s] = 0;
      for (const u of [...nfa.eps[s], ...nfa.next[s]]) {
        let grew = false;
        for (let t = 0; t < T; t++)
          if ((may[s][t] || nfa.tag[u] === t) && !may[u][t]) {
            may[u][t] = 1;
            grew = true;
          }
        if (!reached.has(u)) {
          reached.add(u);
          grew = true;
        }
        if (grew && !queued[u]) {
          queued[u] = 1;
          work.push(u);
        }
      }
    }
  }
  const opsIds = new Map<string, number>();
  const ops: [number, number][][] = [];
  const opsOf = (list: [number, number][]) => {
    const key = list.join(';');
    let id = opsIds.get(key);
    if (id === undefined) {
      if (list.length > MAX_TAG_OPS) throw new RegexError(`regular expression needs more than ${MAX_TAG_OPS} tag copies per symbol`);
      opsIds.set(key, (id = ops.length));
      ops.push(list);
    }
    return id;
  };

  /** ordered closure of the seeds (each with its tags' sources): the next state's threads */
  const closure = (seeds: { s: number; tags: Src[] }[]) => {
    const seen = new Set<number>();
    const out: { s: number; tags: Src[] }[] = [];
    const visit = (s: number, tags: Src[]) => {
      if (seen.has(s)) return;
      seen.add(s);
      if (nfa.tag[s] >= 0) {
        tags = tags.slice();
        tags[nfa.tag[s]] = SRC_POS;
      }
      if (nfa.sets[s] || s === nfa.accept) out.push({ s, tags });
      for (const e of nfa.eps[s]) visit(e, tags);
    };
    for (const x of seeds) visit(x.s, x.tags);
    return out;
  };

  const ids = new Map<string, number>();
  const states: number[][] = [[]];
  const idOf = (threads: { s: number; tags: Src[] }[]): [number, number] => {
    if (threads.length * T > MAX_TAG_REGS) throw new RegexError(`regular expression needs more than ${MAX_TAG_REGS} tag registers`);
    const list: [number, number][] = [];
    threads.forEach((th, i) => th.tags.forEach((src, t) => {
      if (may[th.s][t] || th.s === nfa.accept) list.push([i * T + t, src]);
    }));
    if (threads.length === 0) return [0, opsOf([])];
    list.splice(0, list.length, ...sequence(list));
    const key = threads.map((x) => x.s).join(',');
    let id = ids.get(key);
    if (id === undefined) {
      id = states.length;
      if (id >= MAX_TDFA_STATES) throw new RegexError(`regular expression needs more than ${MAX_TDFA_STATES} tagged DFA states`);
      ids.set(key, id);
      states.push(threads.map((x) => x.s));
    }
    return [id, opsOf(list)];
  };

  const [start, init] = idOf(closure([{ s: nfa.start, tags: Array<Src>(T).fill(SRC_UNSET) }]));
  const trans: [number, number][][] = [Array.from({ length: ncls }, () => [0, opsOf([])] as [number, number])];
  for (let q = 1; q < states.length; q++) {
    const row: [number, number][] = [];
    for (let k = 0; k < ncls; k++) {
      const seeds: { s: number; tags: Src[] }[] = [];
      states[q].forEach((s, j) => {
        if (nfa.sets[s]?.[rep[k]])
          for (const t of nfa.next[s]) seeds.push({ s: t, tags: Array.from({ length: T }, (_, x) => (may[s][x] ? j * T + x : SRC_UNSET)) });
      });
      row.push(idOf(closure(seeds)));
    }
    trans.push(row);
  }
  const accept = states.map((list) => list.indexOf(nfa.accept));
  const d: Tdfa = { ntags: T, nclasses: ncls, classOf, start, accept, trans, ops, init };
  const size = tdfaTable(d).length;
  if (size > MAX_TABLE_BYTES)
    throw new RegexError(`regular expression needs a ${size}-byte tagged table (at most ${MAX_TABLE_BYTES})`);
  return d;
}

/** The table RETMATCH reads (layout at the top of this file). */
export function tdfaTable(d: Tdfa): number[] {
  const out: number[] = [];
  const u16 = (v: number) => out.push(v & 0xff, v >> 8);
  const nstates = d.trans.length;
  const transOff = TDFA_HEADER + 256;
  const acceptOff = transOff + 4 * nstates * d.nclasses;
  let opsBase = acceptOff + nstates;
  opsBase += opsBase & 1;
  const opsOff: number[] = [];
  let o = opsBase;
  for (const l of d.ops) {
    opsOff.push(o);
    o += 2 + 2 * l.length;
  }
  u16(d.nclasses);
  u16(nstates);
  u16(d.start);
  out.push(d.classOf[BOS], d.classOf[EOS], d.ntags, 0);
  u16(opsOff[d.init]);
  for (let c = 0; c < 256; c++) out.push(d.classOf[c]);
  for (const row of d.trans)
    for (const [q, l] of row) {
      u16(q);
      u16(opsOff[l]);
    }
  for (const a of d.accept) out.push(a < 0 ? 255 : a);
  if (out.length & 1) out.push(0);
  for (const l of d.ops) {
    u16(l.length);
    for (const [dst, src] of l) out.push(dst, src);
  }
  return out;
}

/** The last match: tags (UNSET where a group did not take part), or null when it failed. */
export type TagMatch = number[] | null;

/**
 * Runs a tagged table at data[off] over the bytes of s: the TypeScript VM's RETMATCH, step for
 * step what vm/regex.h does (one register bank, an op list per transition).
 */
export function runTdfa(data: Uint8Array, off: number, bytes: Uint8Array | number[]): TagMatch {
  const u16 = (o: number) => data[off + o] | (data[off + o + 1] << 8);
  const ncls = u16(0);
  const nstates = u16(2);
  const T = data[off + 8];
  const acceptOff = TDFA_HEADER + 256 + 4 * nstates * ncls;
  const regs = new Uint16Array(256);
  let q = u16(4);
  let found = false;
  const rec = new Array<number>(T).fill(UNSET);
  const apply = (opsAt: number, pos: number) => {
    const n = u16(opsAt);
    for (let i = 0; i < n; i++) {
      const src = data[off + opsAt + 2 + 2 * i + 1];
      regs[data[off + opsAt + 2 + 2 * i]] = src === SRC_POS ? pos : src === SRC_UNSET ? UNSET : regs[src];
    }
  };
  const accept = () => {
    const a = data[off + acceptOff + q];
    if (a === 255) return;
    if (!found || regs[a * T] <= rec[0]) {
      found = true;
      for (let t = 0; t < T; t++) rec[t] = regs[a * T + t];
    }
  };
  const step = (cls: number, pos: number) => {
    const tr = TDFA_HEADER + 256 + 4 * (q * ncls + cls);
    q = u16(tr);
    apply(u16(tr + 2), pos);
    accept();
  };
  apply(u16(10), 0);
  accept();
  step(data[off + 6], 0);
  for (let i = 0; i < bytes.length && q !== 0; i++) step(data[off + TDFA_HEADER + bytes[i]], i + 1);
  if (q !== 0) step(data[off + 7], bytes.length);
  return found ? rec : null;
}

/** The subexpression texts of a match of s, as matched(n) returns them (tests, debugging). */
export function tdfaGroups(src: string, s: string): string[] | null {
  const t = Uint8Array.from(tdfaTable(compileTdfa(src)));
  const b = Buffer.from(s, 'latin1');
  const m = runTdfa(t, 0, b);
  if (!m) return null;
  const out: string[] = [];
  for (let g = 0; g < m.length / 2; g++)
    out.push(m[2 * g] === UNSET || m[2 * g + 1] === UNSET ? '' : b.subarray(m[2 * g], m[2 * g + 1]).toString('latin1'));
  return out;
}
