// ITSORT in the TypeScript interpreter, on hand-assembled images: the order it gives an
// iterator (by an index or the value, both directions, signed longs, strings bytewise, stable),
// its errors, and its disassembly. The kernel has no ITSORT (foreach is user space only): its
// default case raises OPCODE there like for ITBEGIN.
import { describe, expect, it } from 'vitest';
import { disassemble } from '../../src/isa/disasm';
import { ERR, Op } from '../../src/isa/opcodes';
import type { ArrayInfo, ProgramImage } from '../../src/image/image';
import { MemoryBackend } from '../../src/vm/memory-backend';
import { strBytes } from '../../src/vm/strings';
import { asm, HALT, INT64_MAX, INT64_MIN, longKey, longValue, out, run, type AsmInsn, type AsmItem } from './helpers';

const DESC = 0x100;
const NUMS = { imm: 1, b: 0 };
const STRS = { imm: 2, b: 1 };
const PAIRS = { imm: 3, b: 2 };

/** nums: long -> long (class 0); strs: long -> string (class 1); pairs: [long, string] -> long (class 2). */
function image(code: AsmItem[]): ProgramImage {
  const img = asm({
    code,
    arrays: [
      { name: 'nums', id: 1, cls: 0 },
      { name: 'strs', id: 2, cls: 1 },
      { name: 'pairs', id: 3, cls: 2 },
    ],
  });
  Object.assign(img.arrays[2], { keyTypes: ['long', 'string'], keyOffsets: [0, 8], keyWidths: [8, 24] } satisfies Partial<ArrayInfo>);
  return img;
}

/** foreach over the array `arr` sorted by spec: prints `load` (into r2 or s2) per key. */
function loop(arr: { imm: number; b: number }, spec: number, load: AsmInsn[], reg = 'r2'): AsmItem[] {
  return [
    { op: Op.ITBEGIN, d: 1, ...arr },
    { op: Op.ITSORT, a: 1, imm: spec },
    { label: 'next' },
    { op: Op.ITNEXT, a: 1, to: 'done' },
    ...load,
    ...out(reg),
    { op: Op.JMP, to: 'next' },
    { label: 'done' },
    HALT,
  ];
}

function filled(img: ProgramImage): MemoryBackend {
  const be = new MemoryBackend(img);
  const [nums, strs, pairs] = img.arrays;
  // nums, in this (map) order: 5 -> 1, INT64_MIN -> 2, -1 -> 1, INT64_MAX -> 0, 0 -> 2
  for (const [k, v] of [[5n, 1n], [INT64_MIN, 2n], [-1n, 1n], [INT64_MAX, 0n], [0n, 2n]] as const) be.arraySet(nums, longKey(k), longValue(v));
  // strs: 1 -> "b", 2 -> "\xff", 3 -> "B", 4 -> "b", 5 -> "", 6 -> "ba"
  ['b', '\xff', 'B', 'b', '', 'ba'].forEach((s, i) => be.arraySet(strs, longKey(BigInt(i + 1)), strBytes(s)));
  // pairs: [1, "y"] -> 10, [2, "x"] -> 20, [3, "y"] -> 30, [4, "xa"] -> 40
  (
    [
      [1n, 'y'],
      [2n, 'x'],
      [3n, 'y'],
      [4n, 'xa'],
    ] as const
  ).forEach(([n, s], i) => {
    const k = new Uint8Array(32);
    new DataView(k.buffer).setBigInt64(0, n, true);
    k.set(strBytes(s, 24), 8);
    be.arraySet(pairs, k, longValue(BigInt(10 * (i + 1))));
  });
  return be;
}

/** The printed values of one run of code on the filled arrays. */
function prints(code: AsmItem[]): (bigint | string)[] {
  const img = image(code);
  const r = run(img, { be: filled(img) });
  expect(r.errors).toEqual([]);
  expect(r.res.status).toBe('halted');
  return r.prints.map((p) => p[0]);
}

const KEY0: AsmInsn[] = [{ op: Op.KGETI, d: 2, imm: 0 }];

describe('ITSORT', () => {
  it('sorts long keys as signed numbers, ascending and descending', () => {
    expect(prints(loop(NUMS, 1, KEY0))).toEqual([INT64_MIN, -1n, 0n, 5n, INT64_MAX]);
    expect(prints(loop(NUMS, 1 | DESC, KEY0))).toEqual([INT64_MAX, 5n, 0n, -1n, INT64_MIN]);
  });

  it('sorts by long values, keeping the map order of equal ones in both directions', () => {
    expect(prints(loop(NUMS, 0, KEY0))).toEqual([INT64_MAX, 5n, -1n, INT64_MIN, 0n]);
    expect(prints(loop(NUMS, DESC, KEY0))).toEqual([INT64_MIN, 0n, 5n, -1n, INT64_MAX]);
  });

  it('sorts by string values bytewise (unsigned bytes: 0xff last), stable', () => {
    expect(prints(loop(STRS, 0, KEY0))).toEqual([5n, 3n, 1n, 4n, 6n, 2n]);
    expect(prints(loop(STRS, DESC, KEY0))).toEqual([2n, 6n, 1n, 4n, 3n, 5n]);
  });

  it('sorts by either index of a 2-index key (the string one at its offset)', () => {
    const str: AsmInsn[] = [{ op: Op.KGETS, d: 2, imm: 8 }];
    expect(prints(loop(PAIRS, 2, str, 's2'))).toEqual(['x', 'xa', 'y', 'y']);
    expect(prints(loop(PAIRS, 2 | DESC, KEY0))).toEqual([1n, 3n, 4n, 2n]);
    expect(prints(loop(PAIRS, 1 | DESC, KEY0))).toEqual([4n, 3n, 2n, 1n]);
    expect(prints(loop(PAIRS, DESC, [{ op: Op.AGET, d: 2, ...PAIRS }]))).toEqual([40n, 30n, 20n, 10n]);
  });

  it('an iterator over an array the image lacks stays empty', () => {
    expect(prints([...loop({ imm: 9, b: 0 }, 1, KEY0).slice(0, -1), ...out('r1'), HALT])).toEqual([0n]);
  });

  it('a register that is not an iterator is FAULT; a column the key lacks is OPCODE', () => {
    const fault = run(image([{ op: Op.MOVI, d: 1, imm: 7 }, { op: Op.ITSORT, a: 1, imm: 1 }, HALT]));
    expect(fault.errors).toEqual([{ type: 'error', code: ERR.FAULT, pc: 1 }]);
    const img = image([{ op: Op.ITBEGIN, d: 1, ...PAIRS }, { op: Op.ITSORT, a: 1, imm: 3 }, HALT]);
    expect(run(img, { be: filled(img) }).errors).toEqual([{ type: 'error', code: ERR.OPCODE, pc: 1 }]);
  });

  it('disassembles its spec as the column and direction', () => {
    const img = image([
      { op: Op.ITSORT, a: 3, imm: 0 },
      { op: Op.ITSORT, a: 3, imm: DESC },
      { op: Op.ITSORT, a: 4, imm: 2 | DESC },
      { op: Op.ITSORT, a: 4, imm: 1 },
    ]);
    expect([0, 1, 2, 3].map((pc) => disassemble(img, pc).text)).toEqual([
      '0000  ITSORT   r3, value+',
      '0001  ITSORT   r3, value-',
      '0002  ITSORT   r4, key2-',
      '0003  ITSORT   r4, key1+',
    ]);
  });
});
