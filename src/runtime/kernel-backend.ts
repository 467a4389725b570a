// The user-space interpreter's view of a session's BPF maps: the same globals and arrays the
// kernel handlers use, read and written through the addon.
import { addon, BPF_ANY, BPF_MAP_TYPE } from '../native';
import type { VmBackend, VmEvent } from '../vm/backend';
import type { ArrayInfo } from '../image/image';
import { LIMITS } from '../isa/opcodes';
import { arrayClass } from '../isa/strlen';
import { GLOBALS_BLOB_SIZE, gstrBlobSize } from './layout';
import { isStatClass, STAT_VAL_SIZE } from '../vm/stats';

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

/** BPF_F_NO_PREALLOC: a statistic's copies (1 KiB per CPU) exist only for elements in use */
const BPF_F_NO_PREALLOC = 1;

/** The inner map type and flags of an array class (statistics: per-CPU, allocated on use). */
export function innerMapKind(cls: number): { type: number; flags: number } {
  return isStatClass(cls) ? { type: BPF_MAP_TYPE.PERCPU_HASH, flags: BPF_F_NO_PREALLOC } : { type: BPF_MAP_TYPE.HASH, flags: 0 };
}

export function createInnerMap(arr: ArrayInfo): number {
  const c = arrayClass(arr);
  const k = innerMapKind(arr.cls);
  return addon().mapCreate(k.type, `tv_${arr.name}`.slice(0, 15), c.keySize, c.valueSize, arr.maxEntries, k.flags, -1);
}

export class KernelBackend implements VmBackend {
  private slotKey: Buffer;
  private ncpus = addon().numPossibleCpus();

  constructor(
    private slot: number,
    private fds: { globals: number; gstrs: number; /** outer map by array class */ outer: number[] },
    /** array id -> inner map fd (owned by the session) */
    public inner: Map<number, number>,
    public emit: (ev: VmEvent) => void,
    /** the object's string slot size and the image's -D MAXSTRINGLEN (src/isa/strlen.ts) */
    private strs: { slot: number; maxStr: number } = { slot: LIMITS.MAXSTRINGLEN, maxStr: LIMITS.MAXSTRINGLEN },
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

  private gstrBlob(): Buffer {
    const size = gstrBlobSize(this.strs.slot);
    return addon().mapLookup(this.fds.gstrs, this.slotKey, size) ?? Buffer.alloc(size);
  }

  gstrGet(slot: number): string {
    const w = this.strs.slot;
    const s = this.gstrBlob().subarray(slot * w, (slot + 1) * w);
    const end = s.indexOf(0);
    return s.subarray(0, end < 0 ? s.length : end).toString('latin1');
  }

  gstrSet(slot: number, s: string): void {
    const b = this.gstrBlob();
    const w = this.strs.slot;
    const bytes = Buffer.from(s, 'latin1').subarray(0, this.strs.maxStr - 1);
    b.fill(0, slot * w, (slot + 1) * w);
    bytes.copy(b, slot * w);
    addon().mapUpdate(this.fds.gstrs, this.slotKey, b, BPF_ANY);
  }

  private fd(arr: ArrayInfo): number {
    return this.inner.get(arr.id)!;
  }

  /** every CPU's copy: a per-CPU lookup returns them back to back */
  statGet(arr: ArrayInfo, key: Uint8Array): Uint8Array[] | null {
    const all = addon().mapLookup(this.fd(arr), Buffer.from(key), STAT_VAL_SIZE * this.ncpus);
    if (!all) return null;
    const copies: Uint8Array[] = [];
    for (let i = 0; i < this.ncpus; i++) copies.push(all.subarray(i * STAT_VAL_SIZE, (i + 1) * STAT_VAL_SIZE));
    return copies;
  }

  /** CPU 0's copy; read-modify-write, not atomic against kernel handlers on CPU 0 (see ARCHITECTURE) */
  statPut(arr: ArrayInfo, key: Uint8Array, copy: Uint8Array): boolean {
    const all = addon().mapLookup(this.fd(arr), Buffer.from(key), STAT_VAL_SIZE * this.ncpus) ?? Buffer.alloc(STAT_VAL_SIZE * this.ncpus);
    Buffer.from(copy).copy(all, 0, 0, STAT_VAL_SIZE);
    return this.arraySet(arr, key, all);
  }

  arrayGet(arr: ArrayInfo, key: Uint8Array): Uint8Array | null {
    if (isStatClass(arr.cls)) return this.statGet(arr, key)?.[0] ?? null;
    return addon().mapLookup(this.fd(arr), Buffer.from(key), arrayClass(arr).valueSize);
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
    const size = arrayClass(arr).keySize;
    for (let k = addon().mapNextKey(this.fd(arr), null, size); k; k = addon().mapNextKey(this.fd(arr), k, size)) keys.push(k);
    return keys;
  }
}
