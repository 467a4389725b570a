// The host-wide lock (src/runtime/lock.ts): flock(2) on a file, held against other processes,
// given back by the kernel when its holder dies. The other holders here are util-linux's
// flock(1), on a lock file of the test's own (the host's one is left to the runs).
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withLock } from '../../src/runtime/lock';

let dir: string;
let file: string;
const children: ChildProcess[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tapvm-lock-'));
  file = path.join(dir, 'lock');
});

afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Whether another process could take the lock now (flock -n, no wait). */
const freeForOthers = () => spawnSync('flock', ['-n', file, 'true']).status === 0;

/** flock(1) holding the lock while `command` runs; -o: only flock itself holds it, not the command. */
async function holder(...command: string[]): Promise<ChildProcess> {
  const c = spawn('flock', ['-o', file, ...command], { stdio: 'ignore' });
  children.push(c);
  for (let i = 0; i < 200 && freeForOthers(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(freeForOthers()).toBe(false);
  return c;
}

describe('withLock', () => {
  it('holds the lock against other processes while fn runs, returns its value and gives the lock back', () => {
    let inside: boolean | undefined;
    expect(withLock(() => ((inside = freeForOthers()), 42), file)).toBe(42);
    expect(inside).toBe(false);
    expect(freeForOthers()).toBe(true);
  });

  it('gives the lock back when fn throws', () => {
    expect(() => withLock(() => { throw new Error('boom'); }, file)).toThrow('boom');
    expect(freeForOthers()).toBe(true);
  });

  it('waits for the holder to finish', async () => {
    const stamp = path.join(dir, 'stamp');
    await holder('sh', '-c', `sleep 0.3; echo done > ${stamp}`);
    // the holder wrote its stamp before it let go: fn sees it
    expect(withLock(() => fs.existsSync(stamp), file, 5000)).toBe(true);
  });

  it('is not left held by a holder that was killed', async () => {
    const c = await holder('sleep', '30');
    c.kill('SIGKILL');
    const t = Date.now();
    expect(withLock(() => 'taken', file, 5000)).toBe('taken');
    expect(Date.now() - t).toBeLessThan(4000);
  });

  it('times out naming the holder', async () => {
    const c = await holder('sleep', '30');
    expect(() => withLock(() => 'never', file, 200)).toThrow(new RegExp(`timed out waiting for ${file} \\(held by pid ${c.pid}\\)`));
  });

  it('is not re-entrant', () => {
    expect(() => withLock(() => withLock(() => 1, file), file)).toThrow('not re-entrant');
    expect(freeForOthers()).toBe(true);
  });
});
