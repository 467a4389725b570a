// Byte layouts of the structs in vm/tapvm.h that user space reads or writes.
import { LIMITS } from '../isa/opcodes';

export const CODE_BLOB_SIZE = LIMITS.CODE_INSNS * 8 + LIMITS.DATA_BYTES;
export const GLOBALS_BLOB_SIZE = LIMITS.NGLOBALS * 8;
/** struct gstr_blob of the object with this string slot size (src/isa/strlen.ts) */
export const gstrBlobSize = (slot: number): number => LIMITS.NGSTRS * slot;

/** struct session */
export const SESSION_SIZE = 56;
export interface SessionRecord {
  active: number;
  maxaction: number;
  realtimeOff: bigint;
  ownerPid: bigint;
  ownerStart: bigint;
  target: bigint;
  maxskipped: number;
  skipped: number;
  maxerrors: number;
  errors: number;
}

export function encodeSession(s: SessionRecord): Buffer {
  const b = Buffer.alloc(SESSION_SIZE);
  b.writeUInt32LE(s.active, 0);
  b.writeUInt32LE(s.maxaction, 4);
  b.writeBigInt64LE(s.realtimeOff, 8);
  b.writeBigUInt64LE(s.ownerPid, 16);
  b.writeBigUInt64LE(s.ownerStart, 24);
  b.writeBigInt64LE(s.target, 32);
  b.writeUInt32LE(s.maxskipped, 40);
  b.writeUInt32LE(s.skipped, 44);
  b.writeUInt32LE(s.maxerrors, 48);
  b.writeUInt32LE(s.errors, 52);
  return b;
}

/** Whether a struct session has an owner (ownerPid, at 16, is not 0): an unowned slot is free
 * whatever else it holds, and needs no decoding (most of the 64 are). */
export function sessionOwned(b: Buffer): boolean {
  return (b.readUInt32LE(16) | b.readUInt32LE(20)) !== 0;
}

export function decodeSession(b: Buffer): SessionRecord {
  return {
    active: b.readUInt32LE(0),
    maxaction: b.readUInt32LE(4),
    realtimeOff: b.readBigInt64LE(8),
    ownerPid: b.readBigUInt64LE(16),
    ownerStart: b.readBigUInt64LE(24),
    target: b.readBigInt64LE(32),
    maxskipped: b.readUInt32LE(40),
    skipped: b.readUInt32LE(44),
    maxerrors: b.readUInt32LE(48),
    errors: b.readUInt32LE(52),
  };
}

/** struct counters, per CPU */
export const COUNTERS_SIZE = 32;
export interface Counters {
  lost: bigint;
  skipped: bigint;
  errors: bigint;
  runs: bigint;
}

/** Sums a per-CPU counters value (ncpus consecutive structs). */
export function sumCounters(b: Buffer, ncpus: number): Counters {
  const c: Counters = { lost: 0n, skipped: 0n, errors: 0n, runs: 0n };
  for (let i = 0; i < ncpus; i++) {
    const o = i * COUNTERS_SIZE;
    c.lost += b.readBigUInt64LE(o);
    c.skipped += b.readBigUInt64LE(o + 8);
    c.errors += b.readBigUInt64LE(o + 16);
    c.runs += b.readBigUInt64LE(o + 24);
  }
  return c;
}

/** struct rec_hdr */
export const REC_HDR_SIZE = 16;

/** The code map element: instructions, then the data area. */
export function encodeCodeBlob(code: bigint[], data: Uint8Array): Buffer {
  const b = Buffer.alloc(CODE_BLOB_SIZE);
  code.forEach((w, i) => b.writeBigUInt64LE(w, i * 8));
  Buffer.from(data).copy(b, LIMITS.CODE_INSNS * 8);
  return b;
}
