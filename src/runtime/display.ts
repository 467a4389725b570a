// At exit stap prints the globals a script wrote and never read: `n=0x5`, `s="text"`,
// `c["bash",12]=0x3` (numbers as %#x, array elements by value, largest first).
import type { ProgramImage, ArrayInfo, ScalarType } from '../image/image';
import type { VmBackend, VmEvent } from '../vm/backend';
import { ERR } from '../isa/opcodes';
import { arrayClass } from '../isa/strlen';
import { readStr } from '../vm/strings';
import { aggregate, readStatVal, type StatAgg } from '../vm/stats';
import { formatHistogram } from '../output/histogram';

/** A statistic's element added up over every CPU (count 0 when absent). */
export function statAggregate(arr: ArrayInfo, be: VmBackend, key: Uint8Array): StatAgg {
  const copies = be.statGet(arr, key) ?? [];
  return aggregate(copies.map(readStatVal), arr.stat!);
}

/** print(@hist_*(x)): the histogram's text, or stap's "empty aggregate" error. */
export function histogramText(img: ProgramImage, be: VmBackend, ev: Extract<VmEvent, { type: 'hist' }>): string | VmEvent {
  const arr = img.arrays.find((a) => a.id === ev.id && a.stat);
  const key = new Uint8Array(arr ? arrayClass(arr).keySize : 0);
  key.set(ev.key.subarray(0, key.length));
  const a = arr ? statAggregate(arr, be, key) : undefined;
  if (!arr || !a || a.count === 0n) return { type: 'error', code: ERR.USER, pc: ev.pc, message: 'empty aggregate' };
  return formatHistogram(arr.stat!, a.hist);
}

/** stap's `x @count=3 @min=1 @max=3 @sum=6 @avg=2` (its global display, --compatible >= 1.4) */
function statText(a: StatAgg): string {
  return `@count=${a.count} @min=${a.min} @max=${a.max} @sum=${a.sum} @avg=${a.avg}`;
}

function quote(s: string): string {
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\t/g, '\\t') + '"';
}

const hex = (v: bigint) => (v < 0n ? '-0x' + (-v).toString(16) : '0x' + v.toString(16));

function value(type: ScalarType, bytes: Uint8Array): bigint | string {
  if (type === 'long') return Buffer.from(bytes).readBigInt64LE(0);
  return readStr(bytes, 0, bytes.length);
}

const show = (v: bigint | string) => (typeof v === 'bigint' ? hex(v) : quote(v));

function keyText(arr: ArrayInfo, key: Uint8Array): string {
  return arr.keyTypes
    .map((t: ScalarType, i: number) =>
      t === 'long' ? Buffer.from(key).readBigInt64LE(arr.keyOffsets[i]).toString() : quote(readStr(key, arr.keyOffsets[i], arr.keyWidths[i])),
    )
    .join(',');
}

/** A statistic: a scalar prints `x @count=0x0` when empty; an array's elements by @count, largest first. */
function statLines(arr: ArrayInfo, be: VmBackend): string[] {
  if (arr.keyTypes.length === 0) {
    const a = statAggregate(arr, be, new Uint8Array(arrayClass(arr).keySize));
    return [a.count > 0n ? `${arr.name} ${statText(a)}` : `${arr.name} @count=0x0`];
  }
  const rows = be.arrayKeys(arr).map((key) => ({ key: keyText(arr, key), a: statAggregate(arr, be, key) }));
  rows.sort((x, y) => (x.a.count < y.a.count ? 1 : x.a.count > y.a.count ? -1 : 0));
  return rows.map((r) => `${arr.name}[${r.key}] ${statText(r.a)}`);
}

function arrayLines(arr: ArrayInfo, be: VmBackend): string[] {
  if (arr.stat) return statLines(arr, be);
  const rows: { key: string; v: bigint | string }[] = [];
  for (const key of be.arrayKeys(arr)) {
    const bytes = be.arrayGet(arr, key);
    if (!bytes) continue;
    const parts = arr.keyTypes.map((t: ScalarType, i: number) =>
      t === 'long' ? Buffer.from(key).readBigInt64LE(arr.keyOffsets[i]).toString() : quote(readStr(key, arr.keyOffsets[i], arr.keyWidths[i])),
    );
    rows.push({ key: parts.join(','), v: value(arr.valueType, bytes.subarray(0, arrayClass(arr).valueSize)) });
  }
  if (arr.valueType === 'long') rows.sort((a, b) => (a.v < b.v ? 1 : a.v > b.v ? -1 : 0));
  return rows.map((r) => `${arr.name}[${r.key}]=${show(r.v)}`);
}

/** The lines stap prints at exit for the image's written-but-unread globals. */
export function globalDisplay(img: ProgramImage, be: VmBackend): string {
  const lines: string[] = [];
  for (const name of img.display ?? []) {
    const arr = img.arrays.find((a) => a.name === name);
    if (arr) {
      lines.push(...arrayLines(arr, be));
      continue;
    }
    const g = img.globals.find((x) => x.name === name);
    if (!g) continue;
    lines.push(`${name}=${show(g.type === 'long' ? be.globalGet(g.slot) : be.gstrGet(g.slot))}`);
  }
  return lines.map((l) => l + '\n').join('');
}
