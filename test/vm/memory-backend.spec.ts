import { describe, expect, it } from 'vitest';
import type { ArrayInfo } from '../../src/image/image';
import { LIMITS } from '../../src/isa/opcodes';
import { MemoryBackend } from '../../src/vm/memory-backend';
import { asm, longKey, longValue } from './helpers';

const arr = (over: Partial<ArrayInfo> = {}): ArrayInfo => ({
  name: 'a', id: 1, cls: 0, keyTypes: ['long'], keyOffsets: [0], keyWidths: [8], valueType: 'long', maxEntries: 3, ...over,
});

describe('MemoryBackend', () => {
  it('starts globals at their init values', () => {
    const img = asm({
      code: [],
      globals: [
        { name: 'n', type: 'long', slot: 2, init: 7n },
        { name: 's', type: 'string', slot: 1, init: 'é' },
        { name: 'z', type: 'long', slot: 3 },
      ],
    });
    const be = new MemoryBackend(img);
    expect(be.globalGet(2)).toBe(7n);
    expect(be.globalGet(3)).toBe(0n);
    expect(be.gstrGet(1)).toBe('\xc3\xa9');
    expect(be.gstrGet(0)).toBe('');
  });

  it('globalAdd wraps and returns the new value; gstrSet truncates', () => {
    const be = new MemoryBackend();
    be.globalSet(0, (1n << 63n) - 1n);
    expect(be.globalAdd(0, 1n)).toBe(-(1n << 63n));
    be.gstrSet(0, 'x'.repeat(500));
    expect(be.gstrGet(0).length).toBe(LIMITS.MAXSTRINGLEN - 1);
  });

  it('arrays: keySize keys, valueSize values, maxEntries, insertion order', () => {
    const be = new MemoryBackend();
    const a = arr();
    expect(be.arrayGet(a, longKey(1n))).toBeNull();
    for (const k of [3n, 1n, 2n]) expect(be.arraySet(a, longKey(k), longValue(k * 10n))).toBe(true);
    expect(be.arraySet(a, longKey(4n), longValue(0n))).toBe(false);
    expect(be.arraySet(a, longKey(1n), longValue(11n))).toBe(true);
    expect(be.arrayGet(a, longKey(1n))).toEqual(longValue(11n));
    expect(be.arrayKeys(a).map((k) => k[0])).toEqual([3, 1, 2]);
    // a longer key buffer is cut to keySize
    const big = new Uint8Array(LIMITS.KEYMAX);
    big[0] = 2;
    expect(be.arrayGet(a, big)).toEqual(longValue(20n));
    be.arrayDelete(a, longKey(3n));
    expect(be.arraySet(a, longKey(4n), longValue(40n))).toBe(true);
    expect(be.arrayKeys(a).map((k) => k[0])).toEqual([1, 2, 4]);
    // another array with another id is separate
    expect(be.arrayKeys(arr({ id: 2 }))).toEqual([]);
    be.arrayClear(a);
    expect(be.arrayKeys(a)).toEqual([]);
  });

  it('returns copies', () => {
    const be = new MemoryBackend();
    const a = arr();
    const k = longKey(1n);
    be.arraySet(a, k, longValue(5n));
    k[0] = 9;
    be.arrayGet(a, longKey(1n))![0] = 99;
    be.arrayKeys(a)[0][0] = 42;
    expect(be.arrayEntries(a)).toEqual([[longKey(1n), longValue(5n)]]);
  });

  it('collects events', () => {
    const be = new MemoryBackend();
    be.emit({ type: 'exit', pc: 3 });
    expect(be.events).toEqual([{ type: 'exit', pc: 3 }]);
  });
});
