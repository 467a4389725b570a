// The compiled record formatters against formatValues (the reference): byte for byte the same
// output for the fast conversions, the per-conversion fallback and edge values; and the
// OutputFormatter's buffering (order, chunk boundaries, flush policy, EPIPE drop).
import { Writable } from 'stream';
import { describe, expect, it } from 'vitest';
import { ByteWriter, compileRecordFormat, OutputFormatter } from '../../src/runtime/output';
import { formatValues, parseFormat } from '../../src/output/format';
import { batch, image, printRec } from './helpers';

/** What the compiled formatter writes for one record of format `f` with `values`. */
function fast(f: string, values: (bigint | string)[]): string {
  const rec = printRec(0, values);
  const w = new ByteWriter();
  compileRecordFormat(parseFormat(f))(rec, 16, rec.length, w);
  return (w.take() ?? Buffer.alloc(0)).toString('latin1');
}
const ref = (f: string, values: (bigint | string)[]): string => formatValues(parseFormat(f), values);

const EDGE_LONGS = [
  0n, 1n, -1n, 9n, 10n, -10n, 99n, 100n, 12345n, -12345n,
  2n ** 31n - 1n, 2n ** 31n, -(2n ** 31n), 2n ** 32n - 1n, 2n ** 32n, 2n ** 32n + 1n, -(2n ** 32n), -(2n ** 32n) + 1n, -(2n ** 32n) - 1n,
  999999999n, 1000000000n, 1000000001n, 4294967296000000000n,
  2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, -(2n ** 53n) + 1n, -(2n ** 53n), -(2n ** 53n) - 1n,
  9007199254740993n, 1234567890123456789n, -1234567890123456789n,
  2n ** 63n - 1n, -(2n ** 63n), 0xdeadbeefn, 0xdeadbeefcafebaben - 2n ** 64n, 0x7fn, 0x80n, 0xffn, 0x100n, 0x141n,
];

/** xorshift: reproducible "random" 64-bit values of every magnitude */
function* randomLongs(n: number): Generator<bigint> {
  let x = 0x2545f4914f6cdd1dn;
  for (let i = 0; i < n; i++) {
    x ^= (x << 13n) & 0xffffffffffffffffn;
    x ^= x >> 7n;
    x ^= (x << 17n) & 0xffffffffffffffffn;
    const bits = BigInt(i % 64) + 1n;
    yield BigInt.asIntN(64, BigInt.asIntN(64, x & ((1n << bits) - 1n)) * (i % 3 === 0 ? -1n : 1n));
  }
}

const STRINGS = ['', 'a', 'bash', 'tapvm-bench-rat', 'with space\tand\ttabs', 'latin1 \xe9\xff\x80\x01', 'x'.repeat(24), 'y'.repeat(25), 'z'.repeat(127)];

describe('compiled record formatters', () => {
  for (const conv of ['%d', '%i', '%u', '%x', '%X', '%p', '%c', '%o']) {
    it(`${conv} matches formatValues on edge and random values`, () => {
      for (const v of [...EDGE_LONGS, ...randomLongs(2000)]) {
        const f = `<${conv}>`;
        const got = fast(f, [v]);
        if (got !== ref(f, [v])) expect({ v, got }).toEqual({ v, got: ref(f, [v]) });
      }
    });
  }

  it('%s copies the bytes as they are', () => {
    for (const s of STRINGS) expect(fast('[%s]', [s])).toBe(ref('[%s]', [s]));
  });

  it('formats with flags, widths, precisions and * go through formatValues, conversion by conversion', () => {
    const cases: [string, (bigint | string)[]][] = [
      ['%5d|%-5d|%05d|%+d|% d|%.3d\n', [42n, -42n, 42n, 42n, 42n, 7n]],
      ['%#x %#o %#X %08x %-8x|\n', [255n, 8n, 255n, 0xabcn, -1n]],
      ['%*d|%-*s|%.*s|%*.*s|\n', [6n, 42n, 8n, 'ab', 2n, 'abcdef', 6n, 3n, 'abcdef']],
      ['%10s|%-10s|%.2s|%0s|\n', ['abc', 'abc', 'abc', 'abc']],
      ['%#c%3c%-3c|%c\n', [10n, 65n, 66n, 0n]],
      ['%b%4b%2b%1b%8b', [0x0102030405060708n, -1n, 0x4142n, 0x43n, 1n]],
      ['%d%%%s%%%x', [1n, 'two', 3n]],
      ['no conversions at all\n', []],
      ['%s', ['only a string']],
      ['%d', [-7n]],
      ['%ld %lu %lx\n', [1n, 2n, 3n]],
    ];
    for (const [f, vals] of cases) expect(fast(f, vals)).toBe(ref(f, vals));
  });

  it('mixes fast and fallback conversions in one format', () => {
    for (const v of EDGE_LONGS) {
      const vals = [v, 'name', v, v, 'tail'];
      const f = '%d %-6s|%5x %c %s\n';
      expect(fast(f, vals)).toBe(ref(f, vals));
    }
  });

  it('throws when a record is shorter than its format', () => {
    const rec = printRec(0, [1n, 'abc']);
    const w = new ByteWriter();
    const run = compileRecordFormat(parseFormat('%d %s'));
    expect(() => run(rec, 16, rec.length - 1, w)).toThrow(/past the end/);
    expect(() => run(rec, 16, 20, w)).toThrow(/past the end/);
  });
});

describe('ByteWriter', () => {
  it('keeps everything across chunk boundaries, in order', () => {
    const w = new ByteWriter();
    let want = '';
    for (let i = 0; i < 20000; i++) {
      const s = STRINGS[i % STRINGS.length];
      w.latin1(s);
      w.decimal(-i * 1234567);
      w.byte(10);
      want += `${s}${-i * 1234567}\n`;
    }
    expect(w.take()!.toString('latin1')).toBe(want);
    expect(w.take()).toBeNull();
    w.latin1('after');
    expect(w.take()!.toString('latin1')).toBe('after');
  });
});

class Sink extends Writable {
  chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: string, cb: () => void) {
    this.chunks.push(Buffer.from(chunk));
    cb();
  }
  get text() {
    return Buffer.concat(this.chunks).toString('latin1');
  }
}

describe('OutputFormatter', () => {
  const img = image(['%d %d %s\n', '%-4s|%5d\n', 'x\n']);

  it('formats a batch of records like formatValues does, in order with user-space prints', async () => {
    const sink = new Sink();
    const o = new OutputFormatter(img, sink);
    const recs = [printRec(0, [1n, 2n, 'bash']), printRec(1, ['ab', -3n]), printRec(2, [])];
    const b = batch(...recs);
    let off = 0;
    for (const r of recs) {
      o.printRecord(b, off + 4, r.length);
      off += 4 + r.length;
    }
    o.print({ type: 'print', format: 0, values: [-1n, 99n, 'user'], pc: 0 });
    o.printRecord(b, 4, recs[0].length);
    o.written();
    expect(sink.chunks).toEqual([]); // written once per event-loop turn
    await new Promise((r) => setImmediate(r));
    expect(sink.text).toBe('1 2 bash\nab  |   -3\nx\n-1 99 user\n1 2 bash\n');
  });

  it('writes at once past 64 KiB, and everything by flush()', () => {
    const sink = new Sink();
    const o = new OutputFormatter(img, sink);
    const r = printRec(0, [123456789n, -987654321n, 'z'.repeat(100)]);
    const line = `123456789 -987654321 ${'z'.repeat(100)}\n`;
    const n = Math.ceil(70000 / line.length);
    for (let i = 0; i < n; i++) o.printRecord(r, 0, r.length);
    o.written();
    expect(sink.text).toBe(line.repeat(n));
    o.printRecord(r, 0, r.length);
    o.flush();
    expect(sink.text).toBe(line.repeat(n + 1));
  });

  it('drops output once closed (EPIPE)', () => {
    const sink = new Sink();
    const o = new OutputFormatter(img, sink);
    const r = printRec(2, []);
    o.printRecord(r, 0, r.length);
    o.closed = true;
    o.flush();
    o.printRecord(r, 0, r.length);
    o.flush();
    expect(sink.chunks).toEqual([]);
  });
});
