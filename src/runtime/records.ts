// Decodes the kernel's ring buffer records (struct rec_hdr + packed arguments) into the same
// events the user-space interpreter emits, so one consumer serves both.
import type { ProgramImage } from '../image/image';
import type { VmEvent } from '../vm/backend';
import { REC } from '../isa/opcodes';
import { REC_HDR_SIZE } from './layout';

export function decodeRecord(img: ProgramImage, data: Buffer): VmEvent {
  const type = data.readUInt32LE(0);
  const id = data.readUInt32LE(4);
  const pc = data.readUInt32LE(12);
  if (type === REC.EXIT) return { type: 'exit', pc };
  if (type === REC.ERROR) {
    const msg = data.subarray(REC_HDR_SIZE);
    const end = msg.indexOf(0);
    const message = msg.subarray(0, end < 0 ? msg.length : end).toString('latin1');
    return { type: 'error', code: id, pc, message: message || undefined };
  }
  const fmt = img.formats[id];
  const values: (bigint | string)[] = [];
  let off = REC_HDR_SIZE;
  for (const t of fmt?.args ?? []) {
    if (t === 'long') {
      values.push(data.readBigInt64LE(off));
      off += 8;
    } else {
      const n = data.readUInt16LE(off);
      values.push(data.subarray(off + 2, off + 2 + n).toString('latin1'));
      off += 2 + n;
    }
  }
  return { type: 'print', format: id, values, pc };
}
