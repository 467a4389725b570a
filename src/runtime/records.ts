// Decodes the kernel's ring buffer records (struct rec_hdr + packed arguments) into the same
// events the user-space interpreter emits, so one consumer serves both.
//
// Record layout (vm/tapvm.h, built by OBEGIN/OINT/OSTR/OEND in vm/tapvm.bpf.c):
//   rec_hdr { u32 type; u32 id; u32 len; u32 pc }      16 bytes, len = whole record
//   PRINT: the format's arguments in order, each a long (i64 LE, 8 bytes) or a string
//          (u16 LE byte count n, then n bytes, no NUL)
//   ERROR: id = error code, then an optional NUL-terminated message
//   EXIT:  header only
//   HIST:  id = statistic array id | class << 8, then the element's key (print(@hist_*(x)))
//   STACK: id = count, then the kernel addresses (u64); USTACK, USTACK_BRIEF: id = count, the
//          tgid (u64), then the user addresses
// The addon delivers records in batches (src/native.ts RingBatch: u32 length + record, back
// to back); everything here reads at offsets into that batch without copying.
import type { ProgramImage } from '../image/image';
import type { VmEvent } from '../vm/backend';
import { forEachRecord } from '../native';
import { REC } from '../isa/opcodes';
import { REC_HDR_SIZE } from './layout';

export { REC_HDR_SIZE };

/** rec_hdr fields of the record starting at `off` */
export const recType = (b: Buffer, off: number): number => b.readUInt32LE(off);
export const recId = (b: Buffer, off: number): number => b.readUInt32LE(off + 4);
export const recPc = (b: Buffer, off: number): number => b.readUInt32LE(off + 12);

/** Decodes the record in buf[off, off + len). */
export function decodeRecordAt(img: ProgramImage, buf: Buffer, off: number, len: number): VmEvent {
  const end = off + len;
  if (len < REC_HDR_SIZE) throw new Error(`ring record of ${len} bytes is shorter than its header`);
  const type = buf.readUInt32LE(off);
  const id = buf.readUInt32LE(off + 4);
  const pc = buf.readUInt32LE(off + 12);
  if (type === REC.EXIT) return { type: 'exit', pc };
  if (type === REC.STACK) {
    const frames: bigint[] = [];
    for (let p = off + REC_HDR_SIZE; p + 8 <= end && frames.length < id; p += 8) frames.push(buf.readBigUInt64LE(p));
    return { type: 'stack', frames, pc };
  }
  if (type === REC.USTACK || type === REC.USTACK_BRIEF) {
    // the tgid, then the addresses
    const frames: bigint[] = [];
    const pid = off + REC_HDR_SIZE + 8 <= end ? Number(buf.readBigUInt64LE(off + REC_HDR_SIZE)) : 0;
    for (let p = off + REC_HDR_SIZE + 8; p + 8 <= end && frames.length < id; p += 8) frames.push(buf.readBigUInt64LE(p));
    return { type: 'ustack', pid, frames, brief: type === REC.USTACK_BRIEF, pc };
  }
  if (type === REC.HIST) {
    // id = array id | class << 8, then the element's key (the class's key size)
    const start = off + REC_HDR_SIZE;
    return { type: 'hist', id: id & 63, key: Uint8Array.prototype.slice.call(buf, start, end), pc };
  }
  if (type === REC.ERROR) {
    const start = off + REC_HDR_SIZE;
    let nul = buf.indexOf(0, start);
    if (nul < 0 || nul > end) nul = end;
    const message = buf.toString('latin1', start, nul);
    return { type: 'error', code: id, pc, message: message || undefined };
  }
  return { type: 'print', format: id, values: printValues(img, buf, off, len), pc };
}

/** The values of a PRINT record, typed by its format's argument list. */
export function printValues(img: ProgramImage, buf: Buffer, off: number, len: number): (bigint | string)[] {
  const end = off + len;
  const values: (bigint | string)[] = [];
  let p = off + REC_HDR_SIZE;
  for (const t of img.formats[buf.readUInt32LE(off + 4)]?.args ?? []) {
    if (t === 'long') {
      if (p + 8 > end) throw new Error('ring record: argument past the end of the record');
      values.push(buf.readBigInt64LE(p));
      p += 8;
    } else {
      if (p + 2 > end) throw new Error('ring record: argument past the end of the record');
      const n = buf.readUInt16LE(p);
      if (p + 2 + n > end) throw new Error('ring record: string past the end of the record');
      values.push(buf.toString('latin1', p + 2, p + 2 + n));
      p += 2 + n;
    }
  }
  return values;
}

/** One record on its own (a whole Buffer). */
export function decodeRecord(img: ProgramImage, data: Buffer): VmEvent {
  return decodeRecordAt(img, data, 0, data.length);
}

/** Every record of a ring batch, in order. */
export function decodeBatch(img: ProgramImage, batch: Buffer): VmEvent[] {
  const out: VmEvent[] = [];
  forEachRecord(batch, (off, len) => out.push(decodeRecordAt(img, batch, off, len)));
  return out;
}
