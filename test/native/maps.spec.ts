// Map syscalls, pinning and error reporting of the native addon, against the real kernel.
import * as fs from 'fs';
import { afterEach, describe, expect, it } from 'vitest';
import { addon, BPF_ANY, BPF_EXIST, BPF_MAP_TYPE, BPF_NOEXIST } from '../../src/native';

const u32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };
const u64 = (n: bigint): Buffer => { const b = Buffer.alloc(8); b.writeBigUInt64LE(n); return b; };

// Every fd a test opens is closed afterwards, whatever the outcome.
const opened: number[] = [];
function track(fd: number): number { opened.push(fd); return fd; }
afterEach(() => {
  for (const fd of opened.splice(0)) { try { addon().close(fd); } catch { /* already closed */ } }
});

/** The thrown error, for asserting message and errno. */
function thrown(fn: () => unknown): Error & { errno?: number } {
  try { fn(); } catch (e) { return e as Error & { errno?: number }; }
  throw new Error('expected a throw');
}

describe('hash map', () => {
  it('creates, updates, looks up, iterates and deletes', () => {
    const a = addon();
    const fd = track(a.mapCreate(BPF_MAP_TYPE.HASH, 'tapvm_test_hash', 4, 8, 16, 0, -1));
    expect(fd).toBeGreaterThanOrEqual(3);
    for (const k of [1, 2, 3]) a.mapUpdate(fd, u32(k), u64(BigInt(k) * 100n), BPF_ANY);

    expect(a.mapLookup(fd, u32(2), 8)!.readBigUInt64LE()).toBe(200n);
    expect(a.mapLookup(fd, u32(42), 8)).toBeNull();

    // BPF_NOEXIST on a present key and BPF_EXIST on an absent one are rejected.
    expect(thrown(() => a.mapUpdate(fd, u32(1), u64(0n), BPF_NOEXIST)).errno).toBe(17 /* EEXIST */);
    expect(thrown(() => a.mapUpdate(fd, u32(9), u64(0n), BPF_EXIST)).errno).toBe(2 /* ENOENT */);

    const keys: number[] = [];
    for (let k = a.mapNextKey(fd, null, 4); k !== null; k = a.mapNextKey(fd, k, 4)) {
      expect(k.length).toBe(4);
      keys.push(k.readUInt32LE());
    }
    expect(keys.sort()).toEqual([1, 2, 3]);

    expect(a.mapDelete(fd, u32(2))).toBe(true);
    expect(a.mapDelete(fd, u32(2))).toBe(false);
    expect(a.mapLookup(fd, u32(2), 8)).toBeNull();

    const info = a.mapInfo(fd);
    expect(info).toMatchObject({ type: BPF_MAP_TYPE.HASH, keySize: 4, valueSize: 8, maxEntries: 16 });
    expect(info.id).toBeGreaterThan(0);
  });

  it('mapLookupBatch reads an array whole in key order, or up to max entries', () => {
    const a = addon();
    // 12-byte values: the kernel copies them back to back, not at its own 8-byte-aligned stride
    const fd = track(a.mapCreate(BPF_MAP_TYPE.ARRAY, 'tapvm_test_arr', 4, 12, 8, 0, -1));
    for (let k = 0; k < 8; k++) a.mapUpdate(fd, u32(k), Buffer.from([k, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, k * 2]), BPF_ANY);
    const all = a.mapLookupBatch(fd, 4, 12, 8);
    expect(all.count).toBe(8);
    for (let k = 0; k < 8; k++) {
      expect(all.keys.readUInt32LE(4 * k)).toBe(k);
      expect(all.values.subarray(12 * k, 12 * k + 12)).toEqual(a.mapLookup(fd, u32(k), 12));
    }
    // more asked than there are: the count says how many came
    expect(a.mapLookupBatch(fd, 4, 12, 20).count).toBe(8);
    expect(a.mapLookupBatch(fd, 4, 12, 3)).toMatchObject({ count: 3 });
    expect(() => a.mapLookupBatch(fd, 4, 12, 0)).toThrow(/max must be 1 or more/);
  });

  it('returns null from mapNextKey on an empty map', () => {
    const fd = track(addon().mapCreate(BPF_MAP_TYPE.HASH, 'empty', 4, 4, 4, 0, -1));
    expect(addon().mapNextKey(fd, null, 4)).toBeNull();
  });

  it('truncates long map names to 15 characters instead of failing', () => {
    const fd = track(addon().mapCreate(BPF_MAP_TYPE.HASH, 'a_very_long_map_name_indeed', 4, 4, 4, 0, -1));
    expect(addon().mapInfo(fd).maxEntries).toBe(4);
  });
});

describe('array maps', () => {
  it('ARRAY: zero-filled slots, update and lookup, delete is invalid', () => {
    const a = addon();
    const fd = track(a.mapCreate(BPF_MAP_TYPE.ARRAY, 'tapvm_test_arr', 4, 8, 4, 0, -1));
    expect(a.mapLookup(fd, u32(3), 8)).toEqual(Buffer.alloc(8));
    a.mapUpdate(fd, u32(3), u64(0xdeadbeefn), BPF_ANY);
    expect(a.mapLookup(fd, u32(3), 8)!.readBigUInt64LE()).toBe(0xdeadbeefn);
    expect(a.mapLookup(fd, u32(4), 8)).toBeNull(); // out of range reads as absent
    expect(thrown(() => a.mapDelete(fd, u32(0))).errno).toBe(22 /* EINVAL */);
  });

  it('PERCPU_ARRAY: lookup returns one rounded slot per possible CPU', () => {
    const a = addon();
    const ncpu = a.numPossibleCpus();
    expect(ncpu).toBeGreaterThanOrEqual(1);
    const valueSize = 4;
    const perCpu = Math.ceil(valueSize / 8) * 8;
    const fd = track(a.mapCreate(BPF_MAP_TYPE.PERCPU_ARRAY, 'tapvm_test_pca', 4, valueSize, 2, 0, -1));

    const all = Buffer.alloc(perCpu * ncpu);
    for (let c = 0; c < ncpu; c++) all.writeUInt32LE(1000 + c, c * perCpu);
    a.mapUpdate(fd, u32(1), all, BPF_ANY);

    const got = a.mapLookup(fd, u32(1), perCpu * ncpu)!;
    expect(got.length).toBe(perCpu * ncpu);
    for (let c = 0; c < ncpu; c++) expect(got.readUInt32LE(c * perCpu)).toBe(1000 + c);
  });
});

describe('map of maps', () => {
  it('HASH_OF_MAPS takes an inner map fd as the value and reads back its id', () => {
    const a = addon();
    const template = track(a.mapCreate(BPF_MAP_TYPE.HASH, 'inner_tmpl', 4, 8, 8, 0, -1));
    const outer = track(a.mapCreate(BPF_MAP_TYPE.HASH_OF_MAPS, 'outer', 4, 4, 4, 0, template));
    const inner = track(a.mapCreate(BPF_MAP_TYPE.HASH, 'inner2', 4, 8, 8, 0, -1));

    a.mapUpdate(outer, u32(7), u32(inner), BPF_ANY);
    // User space writes fds but reads back map ids.
    expect(a.mapLookup(outer, u32(7), 4)!.readUInt32LE()).toBe(a.mapInfo(inner).id);
    expect(a.mapInfo(outer)).toMatchObject({ type: BPF_MAP_TYPE.HASH_OF_MAPS, keySize: 4, valueSize: 4 });

    // An inner map with a different shape from the template is refused.
    const odd = track(a.mapCreate(BPF_MAP_TYPE.HASH, 'odd', 8, 8, 8, 0, -1));
    expect(thrown(() => a.mapUpdate(outer, u32(8), u32(odd), BPF_ANY)).errno).toBe(22 /* EINVAL */);
  });
});

describe('pinning', () => {
  it('pins to bpffs and gets the same map back', () => {
    const a = addon();
    const fd = track(a.mapCreate(BPF_MAP_TYPE.HASH, 'pinned', 4, 4, 4, 0, -1));
    const pinPath = `/sys/fs/bpf/tapvm-test-${process.pid}-${Date.now()}`;
    a.pin(fd, pinPath);
    try {
      expect(fs.existsSync(pinPath)).toBe(true);
      const again = track(a.objGet(pinPath));
      expect(again).not.toBe(fd);
      expect(a.mapInfo(again).id).toBe(a.mapInfo(fd).id);
      a.mapUpdate(fd, u32(1), u32(77), BPF_ANY);
      expect(a.mapLookup(again, u32(1), 4)!.readUInt32LE()).toBe(77);
    } finally {
      fs.unlinkSync(pinPath);
    }
  });
});

describe('errors', () => {
  it('throws "<op>: <strerror>" with errno EBADF for a closed fd', () => {
    const a = addon();
    const fd = a.mapCreate(BPF_MAP_TYPE.HASH, 'closed', 4, 4, 4, 0, -1);
    a.close(fd);
    const e = thrown(() => a.mapLookup(fd, u32(1), 4));
    expect(e).toBeInstanceOf(Error);
    expect(e.message).toBe('bpf_map_lookup_elem: Bad file descriptor');
    expect(e.errno).toBe(9 /* EBADF */);
    expect(thrown(() => a.close(fd)).errno).toBe(9);
  });

  it('throws ENOENT from objGet on a missing pin', () => {
    const e = thrown(() => addon().objGet('/sys/fs/bpf/tapvm-no-such-pin'));
    expect(e.message).toBe('bpf_obj_get: No such file or directory');
    expect(e.errno).toBe(2 /* ENOENT */);
  });

  it('throws EINVAL from mapCreate for an invalid map', () => {
    const e = thrown(() => addon().mapCreate(BPF_MAP_TYPE.HASH, 'bad', 0, 4, 4, 0, -1));
    expect(e.message).toBe('bpf_map_create: Invalid argument');
    expect(e.errno).toBe(22);
  });

  it('rejects wrong argument types with a TypeError instead of crashing', () => {
    expect(() => addon().mapLookup('x' as unknown as number, Buffer.alloc(4), 4)).toThrow(TypeError);
    expect(() => addon().mapLookup(3, 'k' as unknown as Buffer, 4)).toThrow(TypeError);
  });
});
