// -D MAXSTRINGLEN on the kernel: a 400-byte path read by user_string in a syscall.openat probe
// that the test's trigger fires, whole with MAXSTRINGLEN=512 (the 512-byte interpreter object),
// cut at N-1 bytes with the default and with 256; sessions of both objects side by side; a
// module records its N.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { CLI, kernelTestsPossible, runTapvm, runTapvmSync, startTrigger, buildTrigger } from './helpers';

const can = kernelTestsPossible();
if (!can.ok && process.env.CI) throw new Error(`kernel tests cannot run in CI: ${can.why}`);
const d = can.ok ? describe : describe.skip;

// 400 bytes; it need not exist: openat() is called (and fails) all the same
const LONG = `/tmp/${'a'.repeat(200)}/${'b'.repeat(194)}`;

function script(pid: number): string {
  return `probe syscall.openat { if (pid() == ${pid}) { p = user_string($filename); printf("%d %s\\n", strlen(p), p) } }
  probe kernel.trace("sched:sched_process_exit") { if (pid() == ${pid}) exit() }`;
}

d('-D MAXSTRINGLEN in kernel probes', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tapvm-strlen-'));
  beforeAll(() => {
    buildTrigger();
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('user_string of a 400-byte path: whole with 512, cut at 255 and 127 with 256 and the default, in sessions that run side by side', async () => {
    expect(LONG.length).toBe(400);
    const t = await startTrigger('open', LONG, '1');
    const runs = [
      runTapvm(['-D', 'MAXSTRINGLEN=512', '-e', script(t.pid)], { timeoutMs: 120_000 }),
      runTapvm(['-D', 'MAXSTRINGLEN=256', '-e', script(t.pid)], { timeoutMs: 120_000 }),
      runTapvm(['-e', script(t.pid)], { timeoutMs: 120_000 }),
    ];
    await Promise.all(runs.map((r) => r.armed));
    t.go();
    const [r512, r256, r128] = await Promise.all(runs.map((r) => r.done));
    for (const r of [r512, r256, r128]) expect(r.code).toBe(0);
    expect(r512.stdout).toBe(`400 ${LONG}\n`);
    expect(r256.stdout).toBe(`255 ${LONG.slice(0, 255)}\n`);
    expect(r128.stdout).toBe(`127 ${LONG.slice(0, 127)}\n`);
  }, 180_000);

  it('a module keeps the MAXSTRINGLEN it was compiled with, and refuses another at run time', () => {
    const body = 'probe begin { s = "x"; for (i = 0; i < 9; i++) s .= s; printf("%d\\n", strlen(s)); exit() }';
    const mod = path.join(tmp, 'strlen_m.tvm');
    const c = spawnSync(process.execPath, [CLI, '-p4', '-m', 'strlen_m', '-D', 'MAXSTRINGLEN=300', '-e', body], { cwd: tmp, encoding: 'utf8', timeout: 30_000 });
    expect(c.stderr).toBe('');
    expect(fs.existsSync(mod)).toBe(true);
    expect(runTapvmSync(['run', mod])).toEqual({ code: 0, stdout: '299\n', stderr: '' });
    expect(runTapvmSync(['run', '-D', 'MAXSTRINGLEN=128', mod])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'tapvm: MAXSTRINGLEN is fixed when a script is compiled: this one was compiled with MAXSTRINGLEN=300 (-D MAXSTRINGLEN=128)\n',
    });
  }, 60_000);
});
