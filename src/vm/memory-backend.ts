// A VmBackend in plain memory, for tests and dry runs: globals and arrays in Maps, events
// collected in `events`. Arrays behave like the kernel's hash maps: keySize-byte keys,
// valueSize-byte values, at most maxEntries elements (a new key in a full array is refused).
import { LIMITS } from '../isa/opcodes';
import { arrayClass, imageMaxStr } from '../isa/strlen';
import type { ArrayInfo, ProgramImage } from '../image/image';
import type { VmBackend, VmEvent } from './backend';
import { cstr, toByteString } from './strings';

interface Entry {
  key: Uint8Array;
  value: Uint8Array;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** bytes as exactly size bytes: truncated or zero-padded, always a copy */
function sized(bytes: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(size);
  out.set(bytes.length > size ? bytes.subarray(0, size) : bytes);
  return out;
}

export class MemoryBackend implements VmBackend {
  readonly events: VmEvent[] = [];
  readonly globals = new Map<number, bigint>();
  /** string globals, as byte strings */
  readonly gstrs = new Map<number, string>();
  /** array id -> (hex of the key bytes -> entry), in insertion order */
  readonly arrays = new Map<number, Map<string, Entry>>();

  /** -D MAXSTRINGLEN of the image: string globals are cut at N-1 bytes */
  private maxStr: number;

  /** With an image, globals start at their `init` values (strings taken as text, UTF-8). */
  constructor(img?: ProgramImage) {
    this.maxStr = img ? imageMaxStr(img) : LIMITS.MAXSTRINGLEN;
    for (const g of img?.globals ?? []) {
      if (g.init === undefined) continue;
      if (g.type === 'string') this.gstrs.set(g.slot, cstr(toByteString(String(g.init)), this.maxStr));
      else this.globals.set(g.slot, BigInt.asIntN(64, BigInt(g.init)));
    }
  }

  globalGet(slot: number): bigint {
    return this.globals.get(slot) ?? 0n;
  }

  globalSet(slot: number, v: bigint): void {
    this.globals.set(slot, BigInt.asIntN(64, v));
  }

  globalAdd(slot: number, v: bigint): bigint {
    const n = BigInt.asIntN(64, this.globalGet(slot) + v);
    this.globals.set(slot, n);
    return n;
  }

  gstrGet(slot: number): string {
    return this.gstrs.get(slot) ?? '';
  }

  gstrSet(slot: number, s: string): void {
    this.gstrs.set(slot, cstr(s, this.maxStr));
  }

  private table(arr: ArrayInfo): Map<string, Entry> {
    let t = this.arrays.get(arr.id);
    if (!t) {
      t = new Map();
      this.arrays.set(arr.id, t);
    }
    return t;
  }

  private keyHex(arr: ArrayInfo, key: Uint8Array): string {
    return hex(sized(key, arrayClass(arr).keySize));
  }

  /** maxEntries, or MAXMAPENTRIES when the image gives none */
  capacity(arr: ArrayInfo): number {
    return arr.maxEntries > 0 ? arr.maxEntries : LIMITS.MAXMAPENTRIES;
  }

  arrayGet(arr: ArrayInfo, key: Uint8Array): Uint8Array | null {
    const e = this.arrays.get(arr.id)?.get(this.keyHex(arr, key));
    return e ? e.value.slice() : null;
  }

  arraySet(arr: ArrayInfo, key: Uint8Array, value: Uint8Array): boolean {
    const cls = arrayClass(arr);
    const t = this.table(arr);
    const k = this.keyHex(arr, key);
    const old = t.get(k);
    if (old) {
      old.value = sized(value, cls.valueSize);
      return true;
    }
    if (t.size >= this.capacity(arr)) return false;
    t.set(k, { key: sized(key, cls.keySize), value: sized(value, cls.valueSize) });
    return true;
  }

  arrayDelete(arr: ArrayInfo, key: Uint8Array): void {
    this.arrays.get(arr.id)?.delete(this.keyHex(arr, key));
  }

  arrayClear(arr: ArrayInfo): void {
    this.arrays.get(arr.id)?.clear();
  }

  arrayKeys(arr: ArrayInfo): Uint8Array[] {
    return [...(this.arrays.get(arr.id)?.values() ?? [])].map((e) => e.key.slice());
  }

  /** one CPU: the element's value is its only copy */
  statGet(arr: ArrayInfo, key: Uint8Array): Uint8Array[] | null {
    const v = this.arrayGet(arr, key);
    return v ? [v] : null;
  }

  statPut(arr: ArrayInfo, key: Uint8Array, copy: Uint8Array): boolean {
    return this.arraySet(arr, key, copy);
  }

  /** every element as [key, value] copies, in iteration order (for tests and dumps) */
  arrayEntries(arr: ArrayInfo): [Uint8Array, Uint8Array][] {
    return [...(this.arrays.get(arr.id)?.values() ?? [])].map((e) => [e.key.slice(), e.value.slice()]);
  }

  emit(ev: VmEvent): void {
    this.events.push(ev);
  }
}
