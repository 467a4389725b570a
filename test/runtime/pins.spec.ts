// Pruning the pin directories of other interpreter builds (src/runtime/interpreter.ts
// pruneStalePins) and a warm worker's preopened pins, on real bpffs, in a private root so that
// no live tapvm pin is touched.
import * as fs from 'fs';
import { afterAll, describe, expect, it } from 'vitest';
import { addon, BPF_ANY, BPF_MAP_TYPE } from '../../src/native';
import { LIMITS } from '../../src/isa/opcodes';
import { procStart, sessionSlots, slotKeyOf } from '../../src/runtime/generation';
import { encodeSession, SESSION_SIZE } from '../../src/runtime/layout';
import { CLASS_MAPS, SHARED_MAPS, TP_STUBS, livePreopenedSessions, openInterpreter, preopenPins, pruneStalePins, takePreopened } from '../../src/runtime/interpreter';

const root = `/sys/fs/bpf/tapvm-prune-test-${process.pid}`;
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** A pin dir named NAME, optionally with a sessions map whose slot 5 is owned by pid/start. */
function pinDir(name: string, opts: { ageMin: number; owner?: { pid: number; start: bigint } }): string {
  const dir = `${root}/${name}`;
  fs.mkdirSync(dir, { recursive: true });
  if (opts.owner !== undefined) {
    const a = addon();
    const fd = a.mapCreate(BPF_MAP_TYPE.ARRAY, 'tapvm_t_sess', 4, SESSION_SIZE, LIMITS.NSESSIONS, 0, -1);
    const rec = { active: 1, maxaction: 1000, realtimeOff: 0n, ownerPid: BigInt(opts.owner.pid), ownerStart: opts.owner.start, target: 0n, maxskipped: 100, skipped: 0, maxerrors: 1, errors: 0 };
    a.mapUpdate(fd, slotKeyOf(5), encodeSession(rec), BPF_ANY);
    a.pin(fd, `${dir}/sessions`);
    a.close(fd);
  }
  const t = new Date(Date.now() - opts.ageMin * 60_000);
  fs.utimesSync(dir, t, t);
  return dir;
}

/** A sessions map: slot 5 owned by this process, 7 by a dead owner, 9 unowned but not zero. */
function sessionsMap(): number {
  const a = addon();
  const fd = a.mapCreate(BPF_MAP_TYPE.ARRAY, 'tapvm_t_sess', 4, SESSION_SIZE, LIMITS.NSESSIONS, 0, -1);
  const rec = { active: 1, maxaction: 1000, realtimeOff: 7n, ownerPid: 0n, ownerStart: 0n, target: -1n, maxskipped: 100, skipped: 2, maxerrors: 1, errors: 0 };
  a.mapUpdate(fd, slotKeyOf(5), encodeSession({ ...rec, ownerPid: BigInt(process.pid), ownerStart: procStart(process.pid) }), BPF_ANY);
  a.mapUpdate(fd, slotKeyOf(7), encodeSession({ ...rec, ownerPid: 999_999_999n, ownerStart: 12345n }), BPF_ANY);
  a.mapUpdate(fd, slotKeyOf(9), encodeSession(rec), BPF_ANY);
  return fd;
}

describe('sessionSlots', () => {
  it('yields every slot, a record for each owned one (live or not) and none for an unowned one', () => {
    const fd = sessionsMap();
    try {
      const slots = [...sessionSlots(fd)];
      expect(slots.map((x) => x.slot)).toEqual([...Array(LIMITS.NSESSIONS).keys()]);
      expect(slots.filter((x) => x.s).map((x) => x.slot)).toEqual([5, 7]);
      expect(slots[5].s).toMatchObject({ ownerPid: BigInt(process.pid), maxaction: 1000, realtimeOff: 7n, target: -1n, skipped: 2 });
      expect(slots[7].s!.ownerPid).toBe(999_999_999n);
    } finally {
      addon().close(fd);
    }
  });
});

describe('pruneStalePins', () => {
  it('removes old directories with no live session and keeps the current, the fresh and the owned', () => {
    const current = pinDir('current', { ageMin: 60 });
    const oldEmpty = pinDir('old-empty', { ageMin: 60 });
    const oldOwned = pinDir('old-owned', { ageMin: 60, owner: { pid: process.pid, start: procStart(process.pid) } });
    const fresh = pinDir('fresh', { ageMin: 1 });
    // a dead owner: no process has this pid with this start time
    const oldDead = pinDir('old-dead', { ageMin: 60, owner: { pid: 999_999_999, start: 12345n } });

    pruneStalePins(current);
    expect(fs.existsSync(current)).toBe(true);
    expect(fs.existsSync(fresh)).toBe(true);
    expect(fs.existsSync(oldOwned)).toBe(true);
    expect(fs.existsSync(oldEmpty)).toBe(false);
    expect(fs.existsSync(oldDead)).toBe(false);
  });
});

describe('preopened pins (a warm worker opens them during its warm-up)', () => {
  /** A pin directory openPinned accepts: every pin name, each a map or the real tapvm_tp program. */
  function fullDir(name: string): string {
    const dir = `${root}/${name}`;
    fs.mkdirSync(dir, { recursive: true });
    const a = addon();
    // the interpreter's own program (loaded and pinned first if this host has none yet)
    const prog = openInterpreter().prog('tapvm_tp');
    for (const p of ['tapvm_tp', ...TP_STUBS]) a.pin(prog, `${dir}/${p}`);
    for (const m of [...SHARED_MAPS, ...CLASS_MAPS]) {
      const fd = a.mapCreate(BPF_MAP_TYPE.ARRAY, 'tapvm_t_pre', 4, 8, 1, 0, -1);
      a.pin(fd, `${dir}/${m}`);
      a.close(fd);
    }
    return dir;
  }
  const id = (fd: number) => addon().mapInfo(fd).id;

  it('are taken once while the sessions pin is the map opened, and dropped once it was replaced', () => {
    const dir = fullDir('pre');
    expect(preopenPins(dir)).toBe(true);
    const sessions = id(addon().objGet(`${dir}/sessions`));
    const got = takePreopened(dir)!;
    expect(id(got.maps.sessions)).toBe(sessions);
    // taken: a second run opens its own
    expect(takePreopened(dir)).toBeUndefined();

    expect(preopenPins(dir)).toBe(true);
    // a cold load re-pins everything: here the sessions map alone
    fs.rmSync(`${dir}/sessions`);
    const fd = addon().mapCreate(BPF_MAP_TYPE.ARRAY, 'tapvm_t_pre', 4, 8, 1, 0, -1);
    addon().pin(fd, `${dir}/sessions`);
    expect(takePreopened(dir)).toBeUndefined();

    // another directory (the object was rebuilt: another hash) is not taken either
    expect(preopenPins(dir)).toBe(true);
    expect(takePreopened(`${root}/other`)).toBeUndefined();
    expect(takePreopened(dir)).toBeUndefined();
    expect(preopenPins(`${root}/missing`)).toBe(false);
  });

  it('count their live sessions as a claim reads them', () => {
    const dir = fullDir('live');
    fs.rmSync(`${dir}/sessions`);
    const fd = sessionsMap();
    addon().pin(fd, `${dir}/sessions`);
    addon().close(fd);
    expect(preopenPins(dir)).toBe(true);
    // slot 5's owner (this process) only: 7's is gone, 9 has none
    expect(livePreopenedSessions()).toBe(1);
    expect(takePreopened(dir)).toBeDefined();
    expect(livePreopenedSessions()).toBe(0);
  });
});
