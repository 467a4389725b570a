// Batch decoding of kernel records (pure: the bytes are built by hand).
import { describe, expect, it } from 'vitest';
import { decodeBatch, decodeRecord, decodeRecordAt, printValues } from '../../src/runtime/records';
import { forEachRecord } from '../../src/native';
import { ERR } from '../../src/isa/opcodes';
import { batch, errorRec, exitRec, image, printRec } from './helpers';

const img = image(['%d %d %s\n', 'x\n', '%s|%s|%d\n', '%*d|%-*.*s|%c\n']);

describe('forEachRecord', () => {
  it('walks length-prefixed records in order', () => {
    const b = batch(Buffer.from('abc'), Buffer.alloc(0), Buffer.from('defgh'));
    const seen: [number, number][] = [];
    forEachRecord(b, (off, len) => seen.push([off, len]));
    expect(seen).toEqual([[4, 3], [11, 0], [15, 5]]);
    expect(() => forEachRecord(Buffer.alloc(0), () => { throw new Error('none'); })).not.toThrow();
  });

  it('rejects a record that runs past the batch and stray trailing bytes', () => {
    const b = batch(Buffer.from('abcdef'));
    expect(() => forEachRecord(b.subarray(0, b.length - 1), () => undefined)).toThrow(/runs past the end/);
    expect(() => forEachRecord(Buffer.concat([b, Buffer.from([1, 2])]), () => undefined)).toThrow(/stray/);
  });
});

describe('decodeBatch', () => {
  it('decodes PRINT, EXIT and ERROR records of one batch in order', () => {
    const b = batch(
      printRec(0, [1234n, -5n, 'bash'], 7),
      printRec(1, [], 9),
      errorRec(ERR.DIV0, 11),
      printRec(2, ['', 'é\xff', -9223372036854775808n], 13),
      errorRec(ERR.USER, 15, 'my message'),
      exitRec(17),
    );
    expect(decodeBatch(img, b)).toEqual([
      { type: 'print', format: 0, values: [1234n, -5n, 'bash'], pc: 7 },
      { type: 'print', format: 1, values: [], pc: 9 },
      { type: 'error', code: ERR.DIV0, pc: 11, message: undefined },
      { type: 'print', format: 2, values: ['', 'é\xff', -9223372036854775808n], pc: 13 },
      { type: 'error', code: ERR.USER, pc: 15, message: 'my message' },
      { type: 'exit', pc: 17 },
    ]);
  });

  it('reads * widths and precisions as the longs they are', () => {
    const b = batch(printRec(3, [5n, 42n, 8n, 2n, 'abcdef', 65n]));
    expect(decodeBatch(img, b)[0]).toEqual({ type: 'print', format: 3, values: [5n, 42n, 8n, 2n, 'abcdef', 65n], pc: 0 });
  });

  it('decodes in place at any offset and agrees with decoding a record on its own', () => {
    const r = printRec(0, [1n, 2n, 'x'.repeat(127)], 3);
    const b = batch(exitRec(1), r);
    const off = 4 + 16 + 4;
    expect(decodeRecordAt(img, b, off, r.length)).toEqual(decodeRecord(img, r));
    expect(printValues(img, b, off, r.length)).toEqual([1n, 2n, 'x'.repeat(127)]);
  });

  it('an error message ends at its NUL, or at the end of the record without one', () => {
    const e = errorRec(ERR.USER, 1, 'abc');
    const noNul = Buffer.from(e.subarray(0, e.length - 1));
    noNul.writeUInt32LE(noNul.length, 8);
    const b = batch(noNul, errorRec(ERR.USER, 2, 'defg'));
    expect(decodeBatch(img, b).map((ev) => (ev.type === 'error' ? ev.message : ''))).toEqual(['abc', 'defg']);
  });

  it('throws on a PRINT record shorter than its format says', () => {
    const r = printRec(0, [1n, 2n, 'abc']);
    expect(() => decodeBatch(img, batch(r.subarray(0, r.length - 2)))).toThrow(/past the end of the record/);
    expect(() => decodeBatch(img, batch(r.subarray(0, 20)))).toThrow(/past the end of the record/);
  });
});
