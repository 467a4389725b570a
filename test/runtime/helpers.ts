// Builds ring records and batches by hand (vm/tapvm.h struct rec_hdr + packed arguments, and
// the addon's batch layout), and minimal program images to decode them with.
import type { ProgramImage, ScalarType } from '../../src/image/image';
import { REC } from '../../src/isa/opcodes';
import { parseFormat } from '../../src/output/format';

export function image(formats: string[], sourceMap: ProgramImage['sourceMap'] = []): ProgramImage {
  return {
    code: [],
    data: new Uint8Array(),
    formats: formats.map((text) => ({ text, args: parseFormat(text).args as ScalarType[] })),
    probes: [],
    globals: [],
    arrays: [],
    functions: [],
    sourceMap,
    sources: {},
  };
}

function header(type: number, id: number, len: number, pc: number): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt32LE(type, 0);
  h.writeUInt32LE(id, 4);
  h.writeUInt32LE(len, 8);
  h.writeUInt32LE(pc, 12);
  return h;
}

/** A PRINT record: longs as i64 LE, strings as u16 length + latin1 bytes. */
export function printRec(format: number, values: (bigint | string)[], pc = 0): Buffer {
  const parts = values.map((v) => {
    if (typeof v === 'bigint') {
      const b = Buffer.alloc(8);
      b.writeBigInt64LE(BigInt.asIntN(64, v));
      return b;
    }
    const s = Buffer.from(v, 'latin1');
    const b = Buffer.alloc(2 + s.length);
    b.writeUInt16LE(s.length);
    s.copy(b, 2);
    return b;
  });
  const body = Buffer.concat(parts);
  return Buffer.concat([header(REC.PRINT, format, 16 + body.length, pc), body]);
}

export function exitRec(pc: number): Buffer {
  return header(REC.EXIT, 0, 16, pc);
}

/** An ERROR record; the kernel sends at least one NUL byte after the header. */
export function errorRec(code: number, pc: number, message = ''): Buffer {
  const m = Buffer.from(message + '\0', 'latin1');
  return Buffer.concat([header(REC.ERROR, code, 16 + m.length, pc), m]);
}

/** The addon's batch: each record preceded by its u32 LE length. */
export function batch(...recs: Buffer[]): Buffer {
  return Buffer.concat(recs.flatMap((r) => {
    const l = Buffer.alloc(4);
    l.writeUInt32LE(r.length);
    return [l, r];
  }));
}
