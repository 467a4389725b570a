// At exit stap prints the globals a script wrote and never read: `n=0x5`, `s="text"`,
// `c["bash",12]=0x3` (numbers as %#x, array elements by value, largest first).
import type { ProgramImage, ArrayInfo, ScalarType } from '../image/image';
import type { VmBackend } from '../vm/backend';
import { ARRAY_CLASSES } from '../isa/opcodes';
import { readStr } from '../vm/strings';

function quote(s: string): string {
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\t/g, '\\t') + '"';
}

const hex = (v: bigint) => (v < 0n ? '-0x' + (-v).toString(16) : '0x' + v.toString(16));

function value(type: ScalarType, bytes: Uint8Array): bigint | string {
  if (type === 'long') return Buffer.from(bytes).readBigInt64LE(0);
  return readStr(bytes, 0, bytes.length);
}

const show = (v: bigint | string) => (typeof v === 'bigint' ? hex(v) : quote(v));

function arrayLines(arr: ArrayInfo, be: VmBackend): string[] {
  const rows: { key: string; v: bigint | string }[] = [];
  for (const key of be.arrayKeys(arr)) {
    const bytes = be.arrayGet(arr, key);
    if (!bytes) continue;
    const parts = arr.keyTypes.map((t: ScalarType, i: number) =>
      t === 'long' ? Buffer.from(key).readBigInt64LE(arr.keyOffsets[i]).toString() : quote(readStr(key, arr.keyOffsets[i], arr.keyWidths[i])),
    );
    rows.push({ key: parts.join(','), v: value(arr.valueType, bytes.subarray(0, ARRAY_CLASSES[arr.cls].valueSize)) });
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
