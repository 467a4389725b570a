// The user-space interpreter's view of a session's BPF maps: the same globals and arrays the
// kernel handlers use, read and written through the addon.
import { addon, BPF_ANY, BPF_MAP_TYPE } from '../native';
import type { VmBackend, VmEvent } from '../vm/backend';
import type { ArrayInfo } from '../image/image';
import { ARRAY_CLASSES, LIMITS } from '../isa/opcodes';
import { GLOBALS_BLOB_SIZE, GSTR_BLOB_SIZE } from './layout';

/** Outer map index of a session's array: slot * 64 + array id (as in vm/tapvm.bpf.c). */
export function outerKey(slot: number, id: number): Buffer {
  const k = Buffer.alloc(4);
  k.writeUInt32LE(slot * 64 + id);
  return k;
}

/** Deletes every element (a reused array map starts empty, as a new one would). */
export function clearMap(fd: number, keySize: number): void {
  const a = addon();
  for (let k = a.mapNextKey(fd, null, keySize); k; k = a.mapNextKey(fd, null, keySize)) a.mapDelete(fd, k);
}

export function createInnerMap(arr: ArrayInfo): number {
  const c = ARRAY_CLASSES[arr.cls];
  return addon().mapCreate(BPF_MAP_TYPE.HASH, `tv_${arr.name}`.slice(0, 15), c.keySize, c.valueSize, arr.maxEntries, 0, -1);
}

export class KernelBackend implements VmBackend {
  private slotKey: Buffer;

  constructor(
    private slot: number,
    private fds: { globals: number; gstrs: number; /** outer map by array class */ outer: number[] },
    /** array id -> inner map fd (owned by the session) */
    public inner: Map<number, number>,
    public emit: (ev: VmEvent) => void,
  ) {
    this.slotKey = Buffer.alloc(4);
    this.slotKey.writeUInt32LE(slot);
  }

  private globalsBlob(): Buffer {
    return addon().mapLookup(this.fds.globals, this.slotKey, GLOBALS_BLOB_SIZE) ?? Buffer.alloc(GLOBALS_BLOB_SIZE);
  }

  globalGet(slot: number): bigint {
    return this.globalsBlob().readBigInt64LE(slot * 8);
  }

  globalSet(slot: number, v: bigint): void {
    const b = this.globalsBlob();
    b.writeBigInt64LE(BigInt.asIntN(64, v), slot * 8);
    addon().mapUpdate(this.fds.globals, this.slotKey, b, BPF_ANY);
  }

  globalAdd(slot: number, v: bigint): bigint {
    // not atomic against kernel handlers running at the same moment; see docs/ARCHITECTURE.md
    const n = BigInt.asIntN(64, this.globalGet(slot) + v);
    this.globalSet(slot, n);
    return n;
  }

  gstrGet(slot: number): string {
    const b = addon().mapLookup(this.fds.gstrs, this.slotKey, GSTR_BLOB_SIZE) ?? Buffer.alloc(GSTR_BLOB_SIZE);
    const s = b.subarray(slot * LIMITS.MAXSTRINGLEN, (slot + 1) * LIMITS.MAXSTRINGLEN);
    const end = s.indexOf(0);
    return s.subarray(0, end < 0 ? s.length : end).toString('latin1');
  }

  gstrSet(slot: number, s: string): void {
    const b = addon().mapLookup(this.fds.gstrs, this.slotKey, GSTR_BLOB_SIZE) ?? Buffer.alloc(GSTR_BLOB_SIZE);
    const bytes = Buffer.from(s, 'latin1').subarray(0, LIMITS.MAXSTRINGLEN - 1);
    b.fill(0, slot * LIMITS.MAXSTRINGLEN, (slot + 1) * LIMITS.MAXSTRINGLEN);
    bytes.copy(b, slot * LIMITS.MAXSTRINGLEN);
    addon().mapUpdate(this.fds.gstrs, this.slotKey, b, BPF_ANY);
  }

  private fd(arr: ArrayInfo): number {
    return this.inner.get(arr.id)!;
  }

  arrayGet(arr: ArrayInfo, key: Uint8Array): Uint8Array | null {
    return addon().mapLookup(this.fd(arr), Buffer.from(key), ARRAY_CLASSES[arr.cls].valueSize);
  }

  arraySet(arr: ArrayInfo, key: Uint8Array, value: Uint8Array): boolean {
    try {
      addon().mapUpdate(this.fd(arr), Buffer.from(key), Buffer.from(value), BPF_ANY);
      return true;
    } catch (e) {
      if ((e as { errno?: number }).errno === 7 /* E2BIG: full */) return false;
      throw e;
    }
  }

  arrayDelete(arr: ArrayInfo, key: Uint8Array): void {
    addon().mapDelete(this.fd(arr), Buffer.from(key));
  }

  /** Swaps a fresh inner map into the outer slot: kernel readers never see a half-cleared array. */
  arrayClear(arr: ArrayInfo): void {
    const fresh = createInnerMap(arr);
    const fdv = Buffer.alloc(4);
    fdv.writeUInt32LE(fresh);
    addon().mapUpdate(this.fds.outer[arr.cls], outerKey(this.slot, arr.id), fdv, BPF_ANY);
    addon().close(this.fd(arr));
    this.inner.set(arr.id, fresh);
  }

  arrayKeys(arr: ArrayInfo): Uint8Array[] {
    const keys: Uint8Array[] = [];
    const size = ARRAY_CLASSES[arr.cls].keySize;
    for (let k = addon().mapNextKey(this.fd(arr), null, size); k; k = addon().mapNextKey(this.fd(arr), k, size)) keys.push(k);
    return keys;
  }
}
