// Sessions on the real kernel: a killed session leaves nothing attached and its slot is
// reclaimed; hot swap under a steady event load loses no output; --keep-globals carries state.
import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import { swapSession, compileModule, controlPath } from '../../src/index';
import { kernelTestsPossible, runTapvm, runTapvmSync, startTrigger, buildTrigger, CLI } from './helpers';

const can = kernelTestsPossible();
if (!can.ok && process.env.CI) throw new Error(`kernel tests cannot run in CI: ${can.why}`);
const d = can.ok ? describe : describe.skip;

/** The ids of the BPF links a process holds, from /proc/PID/fdinfo ("link_id:"). */
function linkIds(pid: number): number[] {
  const ids: number[] = [];
  for (const fd of fs.readdirSync(`/proc/${pid}/fdinfo`)) {
    try {
      const m = /^link_id:\s*(\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
      if (m) ids.push(Number(m[1]));
    } catch {
      // closed meanwhile
    }
  }
  return ids;
}

function linkExists(id: number): boolean {
  return spawnSync('bpftool', ['link', 'show', 'id', String(id)], { stdio: 'ignore' }).status === 0;
}

const slotOf = (stderr: string) => Number(/in slot (\d+)/.exec(stderr)![1]);

function swap(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, 'swap', ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

d('sessions', { timeout: 30_000 }, () => {
  beforeAll(() => {
    buildTrigger();
  });

  it('a session killed with SIGKILL leaves no link attached, and the next start reclaims its slot', async () => {
    const run = runTapvm(['-e', 'probe syscall.getppid, kernel.trace("sched:sched_process_exit") { } probe perf.sw.cpu_clock.sample(10000000) { }']);
    let stderr = '';
    run.proc.stderr!.on('data', (b) => (stderr += b));
    await run.armed;
    const links = linkIds(run.proc.pid!);
    // 2 tracepoints + one perf event per online CPU
    expect(links.length).toBe(2 + Number(execFileSync('nproc', { encoding: 'utf8' }).trim()));
    expect(links.every(linkExists)).toBe(true);
    run.proc.kill('SIGKILL');
    expect((await run.done).code).toBe(null);
    const slot = slotOf(stderr);
    expect(links.filter(linkExists)).toEqual([]);
    expect(runTapvmSync(['--sessions']).stdout).not.toMatch(new RegExp(` ${run.proc.pid} `));
    // the slot of the dead owner is free again: the next start takes it (or a lower one freed meanwhile)
    // its control socket is left behind, and the next session removes it (another test file's
    // session, running in parallel, may be that next session: so only the end state is checked)
    const sock = controlPath(String(run.proc.pid));
    // Sessions of other test files run in parallel and may hold that slot for a moment, so the
    // next start gets a few tries to show that the slot (or a lower one) is free again.
    const slots: number[] = [];
    for (let i = 0; i < 5 && !slots.some((s) => s <= slot); i++) {
      const next = spawnSync(process.execPath, [CLI, '-v', '-T', '0.2', '-e', 'probe begin { }'], { encoding: 'utf8' });
      expect(next.status).toBe(0);
      slots.push(slotOf(next.stderr));
    }
    expect(Math.min(...slots)).toBeLessThanOrEqual(slot);
    expect(fs.existsSync(sock)).toBe(false);
  });

  it('a command that ended has its slot free again: not listed, and the next start can take it', async () => {
    // the CLI's session does not free its slot by hand (the exit does: its owner is gone)
    const first = spawnSync(process.execPath, [CLI, '-v', '-e', 'probe syscall.getppid { } probe begin { exit() }'], { encoding: 'utf8' });
    expect(first.status).toBe(0);
    const slot = slotOf(first.stderr);
    expect(runTapvmSync(['--sessions']).stdout).not.toMatch(new RegExp(` ${first.pid} `));
    // other test files' sessions may take it first: a few tries, as above
    const slots: number[] = [];
    for (let i = 0; i < 5 && !slots.some((s) => s <= slot); i++) {
      const next = spawnSync(process.execPath, [CLI, '-v', '-e', 'probe begin { exit() }'], { encoding: 'utf8' });
      expect(next.status).toBe(0);
      slots.push(slotOf(next.stderr));
    }
    expect(Math.min(...slots)).toBeLessThanOrEqual(slot);
  });

  it('a session stopped under a full-speed event load prints every record its handlers made, all before the end probe\'s output', async () => {
    // The stop waits for the handlers, not for the links to close (an RCU grace period after
    // the slot is made inactive: src/runtime/generation.ts stopHandlers), then drains the ring
    // and runs the end probes: every line a handler printed comes, and before "end".
    const t = await startTrigger('getppid', '1000000');
    const run = runTapvm([
      '-e',
      `global n
       probe syscall.getppid { if (pid() == ${t.pid}) { n++; printf("%d\\n", n); if (n == 20000) exit() } }
       probe end { printf("end %d\\n", n) }`,
    ]);
    await run.armed;
    t.go();
    const r = await run.done;
    t.proc.kill('SIGKILL');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    const end = Number(/^end (\d+)$/.exec(lines[lines.length - 1])?.[1]);
    expect(end).toBeGreaterThanOrEqual(20000);
    expect(lines).toEqual([...Array.from({ length: end }, (_, i) => String(i + 1)), `end ${end}`]);
  });

  it('swap under a steady event load loses no output: old records first, then the new script', async () => {
    const N = 4000;
    const t = await startTrigger('getppid', String(N), '2000');
    const script = (tag: string, extra = '') => `global n
probe syscall.getppid { if (pid() == ${t.pid}) { n++; printf("${tag} %d\\n", n) } }
probe end { printf("${tag} end %d\\n", n) } ${extra}`;
    const run = runTapvm(['-e', script('old')]);
    let stderr = '';
    run.proc.stderr!.on('data', (b) => (stderr += b));
    await run.armed;
    t.go();
    await new Promise((r) => setTimeout(r, 400));
    const s = swap(['-v', String(run.proc.pid), '-e', script('new', `probe kernel.trace("sched:sched_process_exit") { if (pid() == ${t.pid}) exit() }`)]);
    expect(s.stderr).toMatch(/^Pass 5: swapped session \d+ to <input>: new probes live in slot \d+ [\d.]+ms after the request reached it/m);
    expect(s.code).toBe(0);
    const r = await run.done;
    expect(r.code).toBe(0);
    expect(stderr).toMatch(/^Pass 5: swap: new script live in slot \d+ [\d.]+ms after the request/m);
    const lines = r.stdout.trim().split('\n');
    const firstNew = lines.findIndex((l) => l.startsWith('new'));
    const old = lines.slice(0, firstNew);
    const neu = lines.slice(firstNew);
    // every old line before every new one, each script's counter contiguous, end probes last
    expect(old.every((l) => l.startsWith('old '))).toBe(true);
    const a = old.length - 1;
    const b = neu.length - 1;
    expect(old).toEqual([...Array.from({ length: a }, (_, i) => `old ${i + 1}`), `old end ${a}`]);
    expect(neu).toEqual([...Array.from({ length: b }, (_, i) => `new ${i + 1}`), `new end ${b}`]);
    // the swap happened under load, and each event was printed by at least one script
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(0);
    expect(a + b).toBeGreaterThanOrEqual(N);
    expect(a + b - N).toBeLessThan(50); // only the events of the overlap are printed twice
  });

  it('--keep-globals carries matching globals into the new script; a bad new script leaves the old one running', async () => {
    const me = process.pid;
    const run = runTapvm(['-e', `global n, s = "old"; probe syscall.getppid { if (ppid() == ${me} && execname() == "tapvm-test-trig") n++ } probe end { printf("old end\\n") }`]);
    await run.armed;
    const t1 = await startTrigger('getppid', '1000');
    t1.go();
    await t1.exited;
    const id = String(run.proc.pid);
    const bad = swap([id, '-e', 'probe begin { x = }']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^parse error:/);
    expect(swap(['424242', '-e', 'probe begin { }']).stderr).toBe('ERROR: no tapvm session 424242 on this host (tapvm --sessions lists them)\n');
    const ok = swap([
      '--keep-globals',
      id,
      '-e',
      `global n, s, fresh = 7
       probe syscall.getppid { if (ppid() == ${me} && execname() == "tapvm-test-trig") n++ }
       probe kernel.trace("sched:sched_process_exit") { if (ppid() == ${me} && execname() == "tapvm-test-trig") { printf("%d %s %d\\n", n, s, fresh); exit() } }`,
    ]);
    expect(ok).toEqual({ code: 0, stdout: '', stderr: '' });
    const t2 = await startTrigger('getppid', '500');
    t2.go();
    const r = await run.done;
    // the old script's end probes do not run: its state lives on in the new one
    expect(r.stdout).toBe('1500 old 7\n');
    expect(r.code).toBe(0);
  });

  it('swaps through the library API too (swapSession + compileModule)', async () => {
    const run = runTapvm(['-e', 'global n; probe timer.ms(10) { n++; if (n <= 3) println("one") }']);
    await run.armed;
    await new Promise((r) => setTimeout(r, 100));
    const res = await swapSession(String(run.proc.pid), compileModule('probe timer.ms(10) { println("two"); exit() }'));
    expect(res.latencyMs).toBeGreaterThan(0);
    expect(res.slot).not.toBe(res.oldSlot);
    expect(res.kept).toEqual([]);
    const r = await run.done;
    expect(r.stdout).toBe('one\none\none\ntwo\n');
  });
});
