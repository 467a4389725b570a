// Loading, attaching and ring-buffer delivery against the real kernel, using the
// fixtures/probe.bpf.c programs that emit {cookie, pid, kind} records.
import { spawn } from 'child_process';
import * as fs from 'fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addon, BPF_MAP_TYPE, forEachRecord, LoadedObject, RingBufferReader } from '../../src/native';
import { compileFixture, sleep, tracepointId } from './helpers';

interface Rec { cookie: bigint; pid: number; kind: number }
const parse = (b: Buffer, off = 0): Rec => ({ cookie: b.readBigUInt64LE(off), pid: b.readUInt32LE(off + 8), kind: b.readUInt32LE(off + 12) });
/** The records of a ring batch (each 16 bytes). */
const parseBatch = (batch: Buffer): Rec[] => {
  const out: Rec[] = [];
  forEachRecord(batch, (off, len) => {
    expect(len).toBe(16);
    out.push(parse(batch, off));
  });
  return out;
};
/** ringBuffer's batchBytes for exactly n of these records per batch (4-byte length + 16). */
const perBatch = (n: number) => ({ batchBytes: 20 * n });

const PERF_TYPE_SOFTWARE = 1;
const PERF_COUNT_SW_CPU_CLOCK = 0;

/** Runs a python child calling getppid() in a loop; resolves with its pid when it exits. */
function getppidChild(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-c', 'import os\nfor i in range(1000): os.getppid()'], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(child.pid!) : reject(new Error(`python3 exited ${code}`))));
  });
}

let objPath: string;
let obj: LoadedObject;
let statsFd = -1;

beforeAll(() => {
  objPath = compileFixture('probe');
  statsFd = addon().enableStats();
  obj = addon().loadObject(objPath, {});
});

afterAll(() => {
  const a = addon();
  if (obj) for (const fd of [...Object.values(obj.progs), ...Object.values(obj.maps)]) a.close(fd);
  if (statsFd >= 0) a.close(statsFd);
  if (objPath) fs.rmSync(objPath, { force: true });
});

describe('loadObject', () => {
  it('returns program and map fds plus verifier instruction counts', () => {
    expect(Object.keys(obj.progs).sort()).toEqual(['on_perf_event', 'on_tracepoint']);
    expect(obj.maps.events).toBeGreaterThanOrEqual(3);
    expect(addon().mapInfo(obj.maps.events).type).toBe(BPF_MAP_TYPE.RINGBUF);
    for (const name of Object.keys(obj.progs)) expect(obj.verifiedInsns[name]).toBeGreaterThan(0);
  });

  it('progInfo reports name, sizes and the same verified count', () => {
    const info = addon().progInfo(obj.progs.on_tracepoint);
    expect(info.name).toBe('on_tracepoint');
    expect(info.verifiedInsns).toBeGreaterThan(0);
    expect(info.verifiedInsns).toBe(obj.verifiedInsns.on_tracepoint);
    expect(info.xlatedLen).toBeGreaterThan(0);
    expect(info.jitedLen).toBeGreaterThanOrEqual(0);
  });

  it('loads only the named programs when given a list (the interpreter loads its rare entry programs lazily)', () => {
    const a = addon();
    const o = a.loadObject(objPath, {}, ['on_perf_event']);
    try {
      expect(Object.keys(o.progs)).toEqual(['on_perf_event']);
      expect(Object.keys(o.verifiedInsns)).toEqual(['on_perf_event']);
      expect(o.verifiedInsns.on_perf_event).toBeGreaterThan(0);
    } finally {
      for (const fd of [...Object.values(o.progs), ...Object.values(o.maps)]) a.close(fd);
    }
    expect(() => a.loadObject(objPath, {}, 'on_perf_event' as unknown as string[])).toThrow(/array of names/);
  });

  it('reuses a caller-created map and keeps its ELF name', () => {
    const a = addon();
    const mine = a.mapCreate(BPF_MAP_TYPE.RINGBUF, 'my_ring', 0, 0, 64 * 1024, 0, -1);
    const o = a.loadObject(objPath, { events: mine });
    try {
      expect(Object.keys(o.maps)).toContain('events');
      expect(a.mapInfo(o.maps.events).id).toBe(a.mapInfo(mine).id);
    } finally {
      for (const fd of [mine, ...Object.values(o.progs), ...Object.values(o.maps)]) a.close(fd);
    }
  });

  it('throws ENOENT for a reuseMaps name the object does not have', () => {
    const a = addon();
    const mine = a.mapCreate(BPF_MAP_TYPE.HASH, 'x', 4, 4, 4, 0, -1);
    try {
      expect(() => a.loadObject(objPath, { nope: mine })).toThrow(/^bpf_map__reuse_fd\(nope\): No such file or directory$/);
    } finally {
      a.close(mine);
    }
  });

  it('throws with errno and the verifier log tail when the verifier rejects a program', () => {
    const bad = compileFixture('bad');
    try {
      let err: (Error & { errno?: number }) | undefined;
      try { addon().loadObject(bad, {}); } catch (e) { err = e as Error & { errno?: number }; }
      expect(err).toBeInstanceOf(Error);
      expect(err!.errno).toBe(13 /* EACCES */);
      const lines = err!.message.split('\n');
      expect(lines[0]).toBe('bpf_object__load: Permission denied');
      expect(lines[1]).toContain("verifier log of prog 'rejected'");
      expect(lines.length).toBeLessThanOrEqual(2 + 40);
      // The full-level log has the instruction trace, not just the final error.
      expect(err!.message).toMatch(/invalid mem access 'scalar'/);
      expect(err!.message).toMatch(/call bpf_get_prandom_u32/);
    } finally {
      fs.rmSync(bad, { force: true });
    }
  });

  it('throws ENOENT for a missing file', () => {
    let err: (Error & { errno?: number }) | undefined;
    try { addon().loadObject('/nonexistent/x.bpf.o', {}); } catch (e) { err = e as Error & { errno?: number }; }
    expect(err!.errno).toBe(2);
    // First line is the sentence; libbpf's own warnings follow for context.
    const [first, ...rest] = err!.message.split('\n');
    expect(first).toBe('bpf_object__open_file: No such file or directory');
    expect(rest.join('\n')).toContain('/nonexistent/x.bpf.o');
  });
});

describe('tracepoint + ring buffer', () => {
  it('delivers {cookie, pid} records through the event loop until the link is closed', async () => {
    const a = addon();
    const tpId = tracepointId('syscalls/sys_enter_getppid');
    const records: Rec[] = [];
    let onRecord: ((r: Rec) => void) | undefined;
    let link: { close(): void } | undefined;
    const reader: RingBufferReader = a.ringBuffer(obj.maps.events, (batch) => {
      expect(batch).toBeInstanceOf(Buffer);
      for (const r of parseBatch(batch)) {
        records.push(r);
        onRecord?.(r);
      }
    });
    try {
      const runsBefore = a.progInfo(obj.progs.on_tracepoint).runCnt;
      link = a.attachTracepoint(obj.progs.on_tracepoint, tpId, 0x1234n);

      let childPid = 0;
      const seen = new Promise<Rec>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no record for the child within 5s')), 5000);
        const check = (r: Rec): void => {
          if (childPid !== 0 && r.pid === childPid) { clearTimeout(timer); resolve(r); }
        };
        onRecord = check;
        // Records can arrive before the exit event tells us the pid.
        getppidChild().then((pid) => { childPid = pid; records.forEach(check); }, reject);
      });
      const rec = await seen;
      expect(rec).toEqual({ cookie: 0x1234n, pid: childPid, kind: 1 });
      await sleep(50);
      const fromChild = records.filter((r) => r.pid === childPid);
      expect(fromChild.length).toBeGreaterThanOrEqual(1000);
      expect(fromChild.every((r) => r.cookie === 0x1234n && r.kind === 1)).toBe(true);
      expect(a.progInfo(obj.progs.on_tracepoint).runCnt).toBeGreaterThan(runsBefore);

      link.close();
      link.close(); // idempotent
      const second = await getppidChild();
      await sleep(100);
      reader.consume();
      expect(records.filter((r) => r.pid === second)).toEqual([]);
    } finally {
      link?.close(); // a failed assertion must not leave the program attached (EEXIST next)
      reader.close();
      reader.close();
    }
  });

  it('closeAsync() detaches off the main thread: the promise resolves, then nothing more arrives', async () => {
    const a = addon();
    const tpId = tracepointId('syscalls/sys_enter_getppid');
    const pids: number[] = [];
    const reader = a.ringBuffer(obj.maps.events, (batch) => {
      for (const r of parseBatch(batch)) pids.push(r.pid);
    });
    const link = a.attachTracepoint(obj.progs.on_tracepoint, tpId, 9n);
    try {
      const first = await getppidChild();
      await sleep(50);
      reader.consume();
      expect(pids).toContain(first);
      await link.closeAsync();
      link.close(); // the fds went to the worker: nothing left to close twice
      const second = await getppidChild();
      await sleep(100);
      reader.consume();
      expect(pids).not.toContain(second);
    } finally {
      link.close(); // after closeAsync a no-op; after a failed assertion it detaches
      reader.close();
    }
  });

  it('consume() delivers on demand and close() from inside the callback stops delivery', async () => {
    const a = addon();
    const link = a.attachTracepoint(obj.progs.on_tracepoint, tracepointId('syscalls/sys_enter_getppid'), 7n);
    try {
      await getppidChild();
    } finally {
      link.close();
    }
    // The records (1000+) are in the ring; consume them synchronously before the poll fires.
    let got = 0;
    let calls = 0;
    const reader = a.ringBuffer(obj.maps.events, (batch) => {
      calls++;
      got += parseBatch(batch).length;
      reader.close();
    }, perBatch(10));
    const n = reader.consume();
    expect(calls).toBe(1);
    expect(got).toBe(10);
    expect(n).toBe(10); // every record of the batches delivered
    expect(reader.consume()).toBe(0); // closed
    // Drain what is left with a fresh reader so later tests start from an empty ring.
    const drain = a.ringBuffer(obj.maps.events, () => undefined);
    expect(drain.consume()).toBeGreaterThan(0);
    drain.close();
  });

  it('propagates an exception thrown by the callback out of consume()', async () => {
    const a = addon();
    const link = a.attachTracepoint(obj.progs.on_tracepoint, tracepointId('syscalls/sys_enter_getppid'), 1n);
    try { await getppidChild(); } finally { link.close(); }
    let calls = 0;
    const reader = a.ringBuffer(obj.maps.events, () => { calls++; throw new Error('boom'); }, perBatch(1));
    try {
      expect(() => reader.consume()).toThrow('boom');
      expect(calls).toBe(1);
      expect(() => reader.consume()).toThrow('boom'); // delivery resumes with the next batch
      expect(calls).toBe(2);
    } finally {
      reader.close();
    }
    const drain = a.ringBuffer(obj.maps.events, () => undefined);
    drain.consume();
    drain.close();
  });
});

describe('ring buffer polling', () => {
  it('does not spin while idle', async () => {
    const reader = addon().ringBuffer(obj.maps.events, () => undefined);
    try {
      reader.consume();
      const before = process.cpuUsage();
      await sleep(500);
      const used = process.cpuUsage(before);
      expect((used.user + used.system) / 1000).toBeLessThan(100); // ms of CPU in 500ms
    } finally {
      reader.close();
    }
  });
});

describe('perf event', () => {
  it('samples cpu-clock at 99 Hz on every online CPU with the cookie', async () => {
    const a = addon();
    const records: Rec[] = [];
    let arrived: (() => void) | undefined;
    const reader = a.ringBuffer(obj.maps.events, (batch) => { records.push(...parseBatch(batch)); arrived?.(); });
    const link = a.attachPerfEvent(obj.progs.on_perf_event, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK, 99, true, 0xabcdn);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no perf_event sample within 1s')), 1000);
        arrived = () => { clearTimeout(timer); resolve(); };
      });
      expect(records[0]).toMatchObject({ cookie: 0xabcdn, kind: 2 });
    } finally {
      link.close();
      reader.close();
    }
  });

  it('throws from attachPerfEvent for an invalid event type', () => {
    const e = (() => {
      try { addon().attachPerfEvent(obj.progs.on_perf_event, 0xfff, 0, 1, false, 0n); } catch (err) { return err as Error & { errno?: number }; }
      throw new Error('expected a throw');
    })();
    expect(e.message).toMatch(/^perf_event_open: /);
    expect(e.errno).toBeGreaterThan(0);
  });
});
