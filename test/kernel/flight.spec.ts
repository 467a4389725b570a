// The flight recorder (-F) on the real kernel: in memory (the newest -S MB, replayed by
// tapvm attach, which follows and detaches on Ctrl-C) and in rotating files (-o FILE -S 1,2).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { kernelTestsPossible, startTrigger, buildTrigger, CLI } from './helpers';

const can = kernelTestsPossible();
if (!can.ok && process.env.CI) throw new Error(`kernel tests cannot run in CI: ${can.why}`);
const d = can.ok ? describe : describe.skip;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tapvm-flight-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function tapvm(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'latin1', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** 100-byte lines numbered by the script's own counter, one per getppid of the trigger. */
const script = (pid: number, tag: string) => `global n
probe syscall.getppid { if (pid() == ${pid}) { n++; printf("${tag}%0${99 - tag.length}d\\n", n) } }
probe end { printf("end %d\\n", n) }`;

/** Checks that lines are ...(k-1), k for consecutive numbers; returns [first, last]. */
function contiguous(lines: string[], tag: string): [number, number] {
  const nums = lines.map((l) => {
    expect(l).toMatch(new RegExp(`^${tag}\\d{${99 - tag.length}}$`));
    return Number(l.slice(tag.length));
  });
  nums.forEach((v, i) => i && expect(v).toBe(nums[i - 1] + 1));
  return [nums[0], nums[nums.length - 1]];
}

const alive = (id: string) => new RegExp(`^\\d+ +${id} `, 'm').test(tapvm('--sessions').stdout);

d('flight recorder', { timeout: 30_000 }, () => {
  beforeAll(() => {
    buildTrigger();
  });

  it('-F keeps the newest -S MB in memory; attach replays then follows, Ctrl-C detaches; stop ends it', async () => {
    const t = await startTrigger('getppid', '20000');
    const file = path.join(tmp, 'mem.stp');
    fs.writeFileSync(file, script(t.pid, 'a'));
    const started = tapvm('-F', file);
    expect(started.code).toBe(0);
    const id = /^Disconnecting from tapvm session (\d+)\.$/m.exec(started.stdout)![1];
    expect(started.stdout).toBe(`Disconnecting from tapvm session ${id}.\nTo reconnect, type "tapvm attach ${id}"; to end it, "tapvm stop ${id}".\n`);
    expect(alive(id)).toBe(true);
    t.go();
    await t.exited;
    await new Promise((r) => setTimeout(r, 300)); // the ring is drained every 20 ms

    // 20000 lines of 100 bytes: only the newest 1 MB, whole lines, up to the last one
    const att = spawn(process.execPath, [CLI, 'attach', id]);
    let got = '';
    att.stdout.on('data', (b) => (got += b));
    while (!got.endsWith('a' + '20000'.padStart(98, '0') + '\n')) await new Promise((r) => setTimeout(r, 20));
    const replay = got.trim().split('\n');
    expect(got.length).toBeLessThanOrEqual(1 << 20);
    expect(got.length).toBeGreaterThan((1 << 20) - 100);
    expect(contiguous(replay, 'a')).toEqual([20001 - replay.length, 20000]);

    // it follows: new events arrive while attached
    const t2 = await startTrigger('getppid', '1');
    expect(tapvm('swap', id, '-e', script(t2.pid, 'b')).code).toBe(0);
    t2.go();
    while (!got.includes('b' + '1'.padStart(98, '0') + '\n')) await new Promise((r) => setTimeout(r, 20));
    // the swapped-out script's end probe ran between the two
    expect(got).toContain('\nend 20000\nb');

    // Ctrl-C detaches; the session goes on
    att.kill('SIGINT');
    expect(await new Promise((r) => att.on('exit', (c) => r(c)))).toBe(0);
    expect(alive(id)).toBe(true);

    const stopped = tapvm('stop', id);
    expect(stopped).toEqual({ code: 0, stdout: 'end 1\n', stderr: '' });
    expect(alive(id)).toBe(false);
    expect(tapvm('attach', id)).toEqual({ code: 1, stdout: '', stderr: `ERROR: no tapvm session ${id} on this host (tapvm --sessions lists them)\n` });
  });

  it('attach whose reader goes away (| head) detaches quietly; the session goes on', async () => {
    const t = await startTrigger('getppid', '20000');
    const file = path.join(tmp, 'head.stp');
    fs.writeFileSync(file, script(t.pid, 'h'));
    const started = tapvm('-F', file);
    expect(started.code).toBe(0);
    const id = /^Disconnecting from tapvm session (\d+)\.$/m.exec(started.stdout)![1];
    t.go();
    await t.exited;
    await new Promise((r) => setTimeout(r, 300));
    const att = spawn(process.execPath, [CLI, 'attach', id]);
    let err = '';
    att.stderr.on('data', (b) => (err += b));
    // the first chunk of the 2 MB replay, then the reader closes its end: attach's next write fails with EPIPE
    await new Promise((r) => att.stdout.once('data', r));
    att.stdout.destroy();
    expect(await new Promise((r) => att.on('exit', (c) => r(c)))).toBe(0);
    expect(err).toBe('');
    expect(alive(id)).toBe(true);
    expect(tapvm('stop', id).stdout).toMatch(/end 20000\n$/);
  });

  it('-F -o FILE -S 1,2 prints the pid and writes FILE.N of at most 1 MB, keeping the newest 2', async () => {
    const t = await startTrigger('getppid', '40000');
    const file = path.join(tmp, 'files.stp');
    fs.writeFileSync(file, script(t.pid, 'f'));
    const log = path.join(tmp, 'pfaults.log');
    const started = tapvm('-F', '-o', log, '-S', '1,2', file);
    expect(started.code).toBe(0);
    expect(started.stdout).toMatch(/^\d+\n$/);
    const id = started.stdout.trim();
    t.go();
    await t.exited;
    expect(tapvm('stop', id).stdout).toBe('end 40000\n');
    // 4 MB written: files 0..3, the newest two kept, whole lines, contiguous up to the end
    const files = fs.readdirSync(tmp).filter((f) => f.startsWith('pfaults.log')).sort();
    expect(files).toEqual(['pfaults.log.2', 'pfaults.log.3']);
    const two = fs.readFileSync(path.join(tmp, 'pfaults.log.2'), 'latin1');
    const three = fs.readFileSync(path.join(tmp, 'pfaults.log.3'), 'latin1');
    expect(two.length).toBeLessThanOrEqual(1 << 20);
    expect(two.length).toBeGreaterThan((1 << 20) - 100);
    expect(three.length).toBeLessThanOrEqual(1 << 20);
    const lines = (two + three).trim().split('\n');
    expect(lines.pop()).toBe('end 40000');
    expect(contiguous(lines, 'f')[1]).toBe(40000);
    expect(alive(id)).toBe(false);
  });

  it('-S without -F or -o, and a malformed -S, are one sentence each', () => {
    expect(tapvm('-S', '1', '-e', 'probe begin { exit() }')).toEqual({ code: 1, stdout: '', stderr: 'tapvm: -S needs -F (the memory buffer) or -o FILE (rotating files)\n' });
    expect(tapvm('-F', '-S', 'x', '-e', 'probe begin { exit() }').stderr).toBe("ERROR: invalid -S 'x': expected SIZE[,COUNT] in megabytes, e.g. -S 1,2\n");
  });
});
