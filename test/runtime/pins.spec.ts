// Pruning the pin directories of other interpreter builds (src/runtime/interpreter.ts
// pruneStalePins) on real bpffs, in a private root so that no live tapvm pin is touched.
import * as fs from 'fs';
import { afterAll, describe, expect, it } from 'vitest';
import { addon, BPF_ANY, BPF_MAP_TYPE } from '../../src/native';
import { LIMITS } from '../../src/isa/opcodes';
import { procStart, slotKeyOf } from '../../src/runtime/generation';
import { encodeSession, SESSION_SIZE } from '../../src/runtime/layout';
import { pruneStalePins } from '../../src/runtime/interpreter';

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
