// Modules on the real kernel: -p4 -m writes NAME.tvm, `tapvm run` runs it without the
// front-end; kernel-facts + -r compile for other facts, and such a module is refused here.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawn, spawnSync } from 'child_process';
import { kernelTestsPossible, startTrigger, buildTrigger, CLI } from './helpers';

const can = kernelTestsPossible();
if (!can.ok && process.env.CI) throw new Error(`kernel tests cannot run in CI: ${can.why}`);
const d = can.ok ? describe : describe.skip;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tapvm-modules-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function tapvm(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: tmp, encoding: 'utf8', timeout: 30_000, maxBuffer: 1 << 26, env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const COUNT = (pid: number) => `global n, want = 0
probe syscall.getppid { if (pid() == ${pid}) n++ }
probe kernel.trace("sched:sched_process_exit") { if (pid() == ${pid}) { printf("%d %d\\n", n, want); exit() } }`;

d('modules', { timeout: 30_000 }, () => {
  beforeAll(() => {
    buildTrigger();
  });

  it('-p4 -m NAME writes NAME.tvm, and tapvm run runs it with globals set as staprun does', async () => {
    const t = await startTrigger('getppid', '250');
    fs.writeFileSync(path.join(tmp, 'count.stp'), COUNT(t.pid));
    const c = tapvm(['-p4', '-m', 'count', 'count.stp']);
    expect(c).toEqual({ code: 0, stdout: 'count.tvm\n', stderr: '' });
    // the front-end's modules are never loaded by `tapvm run`
    const probe = path.join(tmp, 'loaded.js');
    fs.writeFileSync(
      probe,
      `process.on('exit', () => process.stderr.write('front-end modules: ' + Object.keys(require.cache).filter((f) => /[\\\\/](parse|resolve|compile)[\\\\/]/.test(f)).length + '\\n'))`,
    );
    const run = spawn(process.execPath, ['--require', probe, CLI, 'run', '-v', 'count.tvm', 'want=250'], { cwd: tmp });
    let out = '';
    let err = '';
    run.stdout.on('data', (b) => (out += b));
    const armed = new Promise<void>((res) => run.stderr.on('data', (b) => (err += b) && /probes armed/.test(err) && res()));
    await armed;
    t.go();
    await new Promise((res) => run.on('close', res));
    expect(out).toBe('250 250\n');
    expect(err).toMatch(/^Pass 1-3: skipped: module count\.tvm \(\d+ instructions, facts from this host\) matches this kernel$/m);
    expect(err).toMatch(/^front-end modules: 0$/m);
  });

  it('a module compiled with -r against other kernel facts is refused with one sentence', () => {
    const facts = tapvm(['kernel-facts']);
    expect(facts.code).toBe(0);
    const snap = JSON.parse(facts.stdout);
    expect(snap.release).toBe(os.release());
    expect(snap.tracepoints['syscalls:sys_enter_getppid']).toBeDefined();
    const fields = snap.tracepoints['sched:sched_process_exec'][1] as [string, string, number, number, boolean][];
    const pid = fields.find((f) => f[0] === 'pid')!;
    pid[2] += 8;
    fs.writeFileSync(path.join(tmp, 'moved.facts'), JSON.stringify(snap));
    snap.release = '5.10.0-old';
    fs.writeFileSync(path.join(tmp, 'old.facts'), JSON.stringify(snap));
    const script = 'probe kernel.trace("sched:sched_process_exec") { printf("%d\\n", $pid) }';

    expect(tapvm(['-r', 'moved.facts', '-p4', '-m', 'moved', '-e', script]).code).toBe(0);
    expect(tapvm(['run', 'moved.tvm'])).toEqual({
      code: 1,
      stdout: '',
      stderr: `tapvm: module moved.tvm reads field pid of tracepoint sched:sched_process_exec at offset ${pid[2]} (4 bytes, signed), and this kernel has it at offset ${pid[2] - 8} (4 bytes, signed).\n`,
    });
    expect(tapvm(['-r', 'old.facts', '-p4', '-m', 'old', '-e', script]).code).toBe(0);
    expect(tapvm(['run', 'old.tvm'])).toEqual({ code: 1, stdout: '', stderr: `tapvm: module old.tvm was compiled for kernel 5.10.0-old, and this kernel is ${os.release()}.\n` });
    // the preprocessor sees the facts' kernel too
    expect(tapvm(['-r', 'old.facts', '-p1', '-e', '%( kernel_v < "6.0" %? probe begin { } %: probe end { } %)']).stdout).toBe('probe begin {\n}\n');
  });
});
