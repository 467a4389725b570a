// Statistics for both VMs' user-space side: vm/stats.h in TypeScript. One CPU's copy of a
// statistic is a struct stat_val (vm/tapvm.h); readers add the copies up as stap's
// _stp_stat_get does (runtime/stat.c), with its integer Welford variance per CPU and the
// total-variance formula across CPUs.
import { ARRAY_CLASSES, LIMITS } from '../isa/opcodes';

/** sizeof(struct stat_val): 8 longs, then STAT_BUCKETS histogram counts */
export const STAT_VAL_SIZE = 64 + LIMITS.STAT_BUCKETS * 8;
/** where the stat descriptors (struct stat_desc, 16 bytes each, by array id) start in the data area */
export const STAT_DESC_OFF = LIMITS.NPROBES * 4;
export const STAT_DESC_SIZE = 16;
export const LOG_BUCKET0 = 64;

export const HIST = { NONE: 0, LOG: 1, LINEAR: 2 } as const;
/** STGET's a operand and ITSORT's aggregate: stap's @count, @sum, @min, @max, @avg, @variance */
export const AGG = { count: 0, sum: 1, min: 2, max: 3, avg: 4, variance: 5 } as const;
export type AggName = keyof typeof AGG;

/** struct stat_desc */
export interface StatDesc {
  hist: number;
  variance: boolean;
  shift: number;
  start: number;
  interval: number;
  /** linear: (stop - start) / interval + 3; log: STAT_BUCKETS */
  buckets: number;
}

export function isStatClass(cls: number): boolean {
  return (ARRAY_CLASSES[cls] as { stat?: boolean } | undefined)?.stat === true;
}

export function encodeStatDesc(d: StatDesc): number[] {
  const b = Buffer.alloc(STAT_DESC_SIZE);
  b[0] = d.hist;
  b[1] = d.variance ? 1 : 0;
  b[2] = d.shift;
  b.writeInt32LE(d.start, 4);
  b.writeInt32LE(d.interval, 8);
  b.writeInt32LE(d.buckets, 12);
  return [...b];
}

export function statDescAt(data: Uint8Array, id: number): StatDesc {
  const off = STAT_DESC_OFF + (id & 63) * STAT_DESC_SIZE;
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (off + STAT_DESC_SIZE > b.length) return { hist: 0, variance: false, shift: 0, start: 0, interval: 0, buckets: 0 };
  return { hist: b[off], variance: b[off + 1] !== 0, shift: b[off + 2], start: b.readInt32LE(off + 4), interval: b.readInt32LE(off + 8), buckets: b.readInt32LE(off + 12) };
}

const i64 = (v: bigint) => BigInt.asIntN(64, v);
const i32 = (v: bigint) => BigInt.asIntN(32, v);
const shl = (v: bigint, s: number) => i64(v << BigInt(s & 63));

/** stap's _stp_div64: signed, truncating, 0 for a zero divisor */
export function sdiv64(x: bigint, y: bigint): bigint {
  if (y === 0n) return 0n;
  return i64(x / y);
}

/** stap's _stp_val_to_bucket */
export function logBucket(v: bigint): number {
  if (v === 0n) return LOG_BUCKET0;
  const u = v < 0n ? BigInt.asUintN(64, -v) : v;
  const n = u.toString(2).length;
  return v < 0n ? LIMITS.STAT_BUCKETS - (LOG_BUCKET0 + n) : LOG_BUCKET0 + n;
}

/** One CPU's copy, decoded. */
export interface StatVal {
  count: bigint;
  sum: bigint;
  min: bigint;
  max: bigint;
  avgS: bigint;
  m2: bigint;
  varS: bigint;
  hist: bigint[];
}

export function readStatVal(b: Uint8Array): StatVal {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const at = (i: number) => v.getBigInt64(i * 8, true);
  const hist: bigint[] = [];
  for (let i = 0; i < LIMITS.STAT_BUCKETS; i++) hist.push(at(8 + i));
  return { count: at(0), sum: at(1), min: at(2), max: at(3), avgS: at(4), m2: at(5), varS: at(6), hist };
}

export function writeStatVal(s: StatVal): Uint8Array {
  const b = new Uint8Array(STAT_VAL_SIZE);
  const v = new DataView(b.buffer);
  [s.count, s.sum, s.min, s.max, s.avgS, s.m2, s.varS, 0n, ...s.hist].forEach((x, i) => v.setBigInt64(i * 8, x, true));
  return b;
}

/** __stp_stat_add on one CPU's copy (in place). */
export function statAdd(sv: StatVal, d: StatDesc, val: bigint): void {
  const shift = d.shift & 63;
  if (sv.count === 0n) {
    sv.count = 1n;
    sv.sum = sv.min = sv.max = val;
    sv.avgS = shl(val, shift);
    sv.m2 = 0n;
  } else {
    sv.count = i64(sv.count + 1n);
    sv.sum = i64(sv.sum + val);
    if (val > sv.max) sv.max = val;
    if (val < sv.min) sv.min = val;
    if (d.variance) {
      // stap keeps delta in an int: the truncation is part of its results
      const delta = i32(shl(val, shift) - sv.avgS);
      sv.avgS = i64(sv.avgS + sdiv64(delta, sv.count));
      sv.m2 = i64(sv.m2 + i64(delta * i64(shl(val, shift) - sv.avgS)));
      sv.varS = sv.count < 2n ? -1n : sdiv64(sv.m2, sv.count - 1n);
    }
  }
  let n: number;
  if (d.hist === HIST.LOG) n = logBucket(val);
  else if (d.hist === HIST.LINEAR) {
    let x = i64(val - BigInt(d.start));
    if (x < 0n) x = 0n;
    else x = BigInt.asUintN(64, x) / BigInt(d.interval > 0 ? d.interval : 1) + 1n;
    n = x >= BigInt(d.buckets - 1) ? d.buckets - 1 : Number(x);
  } else return;
  const i = n & (LIMITS.STAT_BUCKETS - 1);
  sv.hist[i] = i64(sv.hist[i] + 1n);
}

/** A statistic added up over every CPU's copy. */
export interface StatAgg {
  count: bigint;
  sum: bigint;
  min: bigint;
  max: bigint;
  avg: bigint;
  variance: bigint;
  hist: bigint[];
}

export function aggregate(copies: StatVal[], d: StatDesc): StatAgg {
  const a: StatAgg = { count: 0n, sum: 0n, min: 0n, max: 0n, avg: 0n, variance: 0n, hist: Array<bigint>(LIMITS.STAT_BUCKETS).fill(0n) };
  for (const sv of copies) {
    if (!sv.count) continue;
    if (a.count === 0n || sv.min < a.min) a.min = sv.min;
    if (a.count === 0n || sv.max > a.max) a.max = sv.max;
    a.count = i64(a.count + sv.count);
    a.sum = i64(a.sum + sv.sum);
    sv.hist.forEach((h, i) => (a.hist[i] = i64(a.hist[i] + h)));
  }
  if (a.count === 0n) return a;
  const shift = d.shift & 63;
  a.avg = sdiv64(a.sum, a.count);
  const avgS = sdiv64(shl(a.sum, shift), a.count);
  let s1 = 0n;
  let s2 = 0n;
  for (const sv of copies) {
    if (!sv.count) continue;
    const dd = i64(sv.avgS - avgS);
    s1 = i64(s1 + i64(i64(sv.count * dd) * dd));
    s2 = i64(s2 + i64((sv.count - 1n) * sv.varS));
  }
  a.variance = sdiv64(i64(s1 + s2), a.count - 1n) >> BigInt((2 * shift) & 63);
  return a;
}

/** The number of buckets a histogram of this descriptor has. */
/**
 * A histogram's bucket count from its operator: STAT_BUCKETS for @hist_log; for @hist_linear
 * (stop - start) / interval ranges plus underflow, overflow and the partial last range.
 */
export function histBuckets(op: 'hist_log' | 'hist_linear', params: readonly bigint[]): bigint {
  if (op === 'hist_log') return BigInt(LIMITS.STAT_BUCKETS);
  const [start, stop, interval] = params;
  return (stop - start) / interval + 3n;
}

export function bucketCount(d: StatDesc): number {
  return d.hist === HIST.LOG ? LIMITS.STAT_BUCKETS : d.hist === HIST.LINEAR ? d.buckets : 0;
}
