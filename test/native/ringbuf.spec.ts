// Batched ring-buffer delivery against the real kernel, with fixtures/batch.bpf.c: numbered
// records of 16..72 bytes from getppid() calls of one child process, submitted with the
// wake-up flags the config map selects.
import { spawn } from 'child_process';
import * as fs from 'fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { addon, forEachRecord, type LoadedObject, type Link } from '../../src/native';
import { compileFixture, sleep, tracepointId, waitFor } from './helpers';

const MODE = { FLAGS0: 0, NO_WAKEUP: 1, FORCE: 2, CROSSING: 3 };

let objPath: string;
let obj: LoadedObject;
let link: Link;
const KEY = Buffer.alloc(4);

beforeAll(() => {
  objPath = compileFixture('batch');
  obj = addon().loadObject(objPath, {});
  link = addon().attachTracepoint(obj.progs.on_getppid, tracepointId('syscalls/sys_enter_getppid'), 0n);
});

afterAll(() => {
  const a = addon();
  link?.close();
  if (obj) for (const fd of [...Object.values(obj.progs), ...Object.values(obj.maps)]) a.close(fd);
  if (objPath) fs.rmSync(objPath, { force: true });
});

beforeEach(() => {
  // an empty ring and fresh counters for every test
  const a = addon();
  a.mapUpdate(obj.maps.config, KEY, Buffer.alloc(16), 0);
  const r = a.ringBuffer(obj.maps.events, () => undefined);
  r.consume();
  r.close();
  a.mapUpdate(obj.maps.counters, KEY, Buffer.alloc(24), 0);
});

/**
 * Makes `calls` getppid() calls (`gapMs` apart) in a child whose calls (only) produce
 * records in `mode`.
 */
function produce(calls: number, mode: number, gapMs = 0): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-c', `import os,sys,time
sys.stdout.write("ready\\n"); sys.stdout.flush(); sys.stdin.readline()
for i in range(${calls}):
    os.getppid()
    if ${gapMs}: time.sleep(${gapMs / 1000})`], { stdio: ['pipe', 'pipe', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`python3 exited ${code}`))));
    child.stdout.once('data', () => {
      const cfg = Buffer.alloc(16);
      cfg.writeUInt32LE(child.pid!, 0);
      cfg.writeUInt32LE(mode, 4);
      cfg.writeBigUInt64LE(64n * 1024n, 8);
      addon().mapUpdate(obj.maps.config, KEY, cfg, 0);
      child.stdin.end('go\n');
    });
  });
}

function counters(): { seq: number; lost: number; forced: number } {
  const c = addon().mapLookup(obj.maps.counters, KEY, 24)!;
  return { seq: Number(c.readBigUInt64LE(0)), lost: Number(c.readBigUInt64LE(8)), forced: Number(c.readBigUInt64LE(16)) };
}

interface Rec { seq: number; len: number }

/** Parses and checks every record of a batch: its length word, own length field and fill. */
function records(batch: Buffer): Rec[] {
  const out: Rec[] = [];
  forEachRecord(batch, (off, len) => {
    const seq = Number(batch.readBigUInt64LE(off));
    expect(len).toBe(16 + 8 * (seq & 7));
    expect(batch.readUInt32LE(off + 8)).toBe(len);
    for (let i = off + 16; i < off + len; i++) if (batch[i] !== (seq & 0xff)) throw new Error(`record ${seq}: bad fill byte at ${i - off}`);
    out.push({ seq, len });
  });
  return out;
}

const inOrder = (recs: Rec[], n: number) => {
  expect(recs.length).toBe(n);
  recs.forEach((r, i) => {
    if (r.seq !== i) throw new Error(`record #${i} has seq ${r.seq}`);
  });
};

describe('batched delivery', () => {
  it('delivers every record complete and in order through the event loop, one call per batch', async () => {
    const a = addon();
    const batches: Buffer[] = [];
    const reader = a.ringBuffer(obj.maps.events, (b) => {
      expect(b).toBeInstanceOf(Buffer);
      batches.push(b);
    });
    try {
      const N = 20000;
      await produce(N, MODE.FLAGS0);
      await waitFor(() => batches.reduce((s, b) => s + records(b).length, 0) >= N || undefined, 5000, 'all records');
      await sleep(20);
      const recs = batches.flatMap(records);
      expect(counters()).toMatchObject({ seq: N, lost: 0 });
      inOrder(recs, N);
      for (const b of batches) expect(b.length).toBeLessThanOrEqual(1 << 20);
      // batching: far fewer calls than records is not guaranteed at a trickle, but never more
      expect(batches.length).toBeLessThanOrEqual(N);
    } finally {
      reader.close();
    }
  }, 30_000);

  it('splits what is waiting into batches of at most batchBytes, filled greedily, in order', async () => {
    const a = addon();
    const N = 5000;
    await produce(N, MODE.NO_WAKEUP); // nobody is woken: all N wait in the ring
    const batches: Buffer[] = [];
    const reader = a.ringBuffer(obj.maps.events, (b) => batches.push(Buffer.from(b)), { batchBytes: 1000 });
    try {
      expect(reader.consume()).toBe(N);
      const perBatch = batches.map(records);
      inOrder(perBatch.flat(), N);
      for (let i = 0; i < batches.length; i++) {
        expect(batches[i].length).toBeLessThanOrEqual(1000);
        // split only where the next record would not have fitted
        if (i + 1 < batches.length) expect(batches[i].length + 4 + perBatch[i + 1][0].len).toBeGreaterThan(1000);
      }
      expect(batches.length).toBeGreaterThan(N * 20 / 1000);
      expect(reader.consume()).toBe(0);
    } finally {
      reader.close();
    }
  });

  it('delivers a record larger than batchBytes alone', async () => {
    const a = addon();
    await produce(64, MODE.NO_WAKEUP);
    const batches: Rec[][] = [];
    const sizes: number[] = [];
    // 20 bytes: the 16-byte records (+ 4) fit exactly, every other one is too large
    const reader = a.ringBuffer(obj.maps.events, (b) => (sizes.push(b.length), batches.push(records(b))), { batchBytes: 20 });
    try {
      expect(reader.consume()).toBe(64);
      inOrder(batches.flat(), 64);
      expect(batches.every((b) => b.length === 1)).toBe(true);
      batches.forEach((b, i) => expect(sizes[i]).toBe(4 + b[0].len));
    } finally {
      reader.close();
    }
  });

  it('yields to the event loop after 4 batches per wake-up and delivers the rest on later turns', async () => {
    const a = addon();
    const N = 4000; // ~180 KB: dozens of 4 KiB batches
    await produce(N, MODE.NO_WAKEUP);
    let turn = 0;
    let ticking = true;
    const tick = (): void => {
      turn++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const perTurn = new Map<number, number>();
    const recs: Rec[] = [];
    // the data is there when the reader is created: epoll reports it at once
    const reader = a.ringBuffer(obj.maps.events, (b) => {
      perTurn.set(turn, (perTurn.get(turn) ?? 0) + 1);
      recs.push(...records(b));
    }, { batchBytes: 4096 });
    try {
      await waitFor(() => recs.length >= N || undefined, 5000, 'all records');
      inOrder(recs, N);
      expect(Math.max(...perTurn.values())).toBeLessThanOrEqual(4 + 1); // + a carried record's batch
      expect(perTurn.size).toBeGreaterThan(3);
    } finally {
      ticking = false;
      reader.close();
    }
  });

  it('pollMs drains records submitted with BPF_RB_NO_WAKEUP, which wake nobody', async () => {
    const a = addon();
    let woken = 0;
    const quiet = a.ringBuffer(obj.maps.events, (b) => (woken += records(b).length));
    await produce(1000, MODE.NO_WAKEUP);
    await sleep(200);
    expect(woken).toBe(0); // no wake-up, no poll
    quiet.close();

    const recs: Rec[] = [];
    const reader = a.ringBuffer(obj.maps.events, (b) => recs.push(...records(b)), { pollMs: 20 });
    try {
      await produce(1000, MODE.NO_WAKEUP);
      await waitFor(() => recs.length >= 2000 || undefined, 2000, 'the timer to drain');
      inOrder(recs, 2000);
    } finally {
      reader.close();
    }
  });

  it('the crossing policy wakes the consumer once per threshold and the timer picks up the rest', async () => {
    const a = addon();
    const recs: Rec[] = [];
    let calls = 0;
    const reader = a.ringBuffer(obj.maps.events, (b) => (calls++, recs.push(...records(b))), { pollMs: 50 });
    try {
      await produce(10000, MODE.CROSSING);
      await waitFor(() => recs.length >= 10000 || undefined, 3000, 'all records');
      inOrder(recs, 10000);
      const c = counters();
      expect(c.lost).toBe(0);
      // ~500 KB of records: a handful of forced wake-ups, a handful of batches
      expect(c.forced).toBeGreaterThanOrEqual(1);
      expect(c.forced).toBeLessThan(100);
      expect(calls).toBeLessThan(1000);
    } finally {
      reader.close();
    }
  });

  it('coalesceMs gathers a trickle of records into few batches', async () => {
    const a = addon();
    const run = async (coalesceMs: number, later = false) => {
      const recs: Rec[] = [];
      let calls = 0;
      const reader = a.ringBuffer(obj.maps.events, (b) => (calls++, recs.push(...records(b))), { coalesceMs: later ? 0 : coalesceMs });
      if (later) reader.setCoalesceMs(coalesceMs);
      try {
        a.mapUpdate(obj.maps.counters, KEY, Buffer.alloc(24), 0);
        await produce(150, MODE.FLAGS0, 1); // ~150 wake-ups' worth, 1 ms apart
        await waitFor(() => recs.length >= 150 || undefined, 2000, 'all records');
        inOrder(recs, 150);
        return calls;
      } finally {
        reader.close();
      }
    };
    const eager = await run(0);
    const coalesced = await run(40);
    expect(coalesced).toBeLessThan(30); // ~200 ms of calls in 40 ms pauses
    expect(coalesced).toBeLessThan(eager);
    expect(await run(40, true)).toBeLessThan(30); // turned on by setCoalesceMs
  });

  it('close() inside onBatch stops delivery; the rest stays in the ring', async () => {
    const a = addon();
    await produce(300, MODE.NO_WAKEUP);
    let seen = 0;
    const reader = a.ringBuffer(obj.maps.events, (b) => {
      seen += records(b).length;
      reader.close();
      expect(reader.consume()).toBe(0); // nested consume is refused
    }, { batchBytes: 400 });
    const n = reader.consume();
    expect(n).toBe(seen);
    expect(seen).toBeGreaterThan(0);
    expect(seen).toBeLessThan(300);
    expect(reader.consume()).toBe(0); // closed
    const rest: Rec[] = [];
    const drain = a.ringBuffer(obj.maps.events, (b) => rest.push(...records(b)));
    // the record that did not fit the closing batch was taken out of the ring: gone with it
    expect(drain.consume()).toBeGreaterThanOrEqual(300 - seen - 1);
    expect(rest[rest.length - 1].seq).toBe(299);
    drain.close();
  });

  it('an exception from onBatch comes out of consume(); the next consume() goes on from the next batch', async () => {
    const a = addon();
    await produce(300, MODE.NO_WAKEUP);
    const recs: Rec[] = [];
    let calls = 0;
    const reader = a.ringBuffer(obj.maps.events, (b) => {
      calls++;
      recs.push(...records(b));
      if (calls <= 2) throw new Error(`boom ${calls}`);
    }, { batchBytes: 400 });
    try {
      expect(() => reader.consume()).toThrow('boom 1');
      expect(() => reader.consume()).toThrow('boom 2');
      reader.consume();
      inOrder(recs, 300); // nothing lost, nothing twice
    } finally {
      reader.close();
    }
  });

  it('rejects bad options', () => {
    const a = addon();
    expect(() => a.ringBuffer(obj.maps.events, () => undefined, { batchBytes: 0 })).toThrow(TypeError);
    expect(() => a.ringBuffer(obj.maps.events, () => undefined, { batchBytes: 1.5 })).toThrow(/batchBytes/);
    expect(() => a.ringBuffer(obj.maps.events, () => undefined, { pollMs: -1 })).toThrow(/pollMs/);
    expect(() => a.ringBuffer(obj.maps.events, () => undefined, { coalesceMs: 5000 })).toThrow(/coalesceMs/);
    const r = a.ringBuffer(obj.maps.events, () => undefined);
    expect(() => r.setCoalesceMs(-1)).toThrow(/coalesceMs/);
    r.close();
    expect(() => a.ringBuffer(obj.maps.events, () => undefined, 'x' as never)).toThrow(TypeError);
  });
});
