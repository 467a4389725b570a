// tokenize's state is stap's per module and CPU: in the kernel it lives in the CPU's VM state,
// which every tapvm session shares, so it is tagged with its session. Two sessions on one
// event, on one CPU: one starts a chain, the other's tokenize("", d) must not continue it.
import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync } from 'child_process';
import { kernelTestsPossible, runTapvm, startTrigger, buildTrigger } from './helpers';

const can = kernelTestsPossible();
if (!can.ok && process.env.CI) throw new Error(`kernel tests cannot run in CI: ${can.why}`);
const d = can.ok ? describe : describe.skip;

d('tokenize in kernel probes', () => {
  beforeAll(() => {
    buildTrigger();
  }, 30_000);

  it("does not continue another session's chain on the same CPU", async () => {
    const t = await startTrigger('getppid', '4');
    // one CPU: both sessions' handlers of an event run on it, one after the other
    execFileSync('taskset', ['-p', '-c', '0', String(t.pid)], { stdio: 'ignore' });
    const a = runTapvm(['-e', `probe syscall.getppid { if (pid() == ${t.pid}) printf("A %s\\n", tokenize("a b c d e f", " ")) }`]);
    await a.armed;
    const b = runTapvm(['-e', `probe syscall.getppid { if (pid() == ${t.pid}) printf("B [%s] [%s]\\n", tokenize("", " "), tokenize("x y", " ")) }`]);
    await b.armed;
    t.go();
    await t.exited;
    a.proc.kill('SIGINT');
    b.proc.kill('SIGINT');
    const [ra, rb] = await Promise.all([a.done, b.done]);
    // A starts a new chain at every event. B's tokenize("") finds either no chain of its own
    // (A's ran in between: ""), or its own "x y" one ("y"), never A's ("b", as the CPU's
    // state alone would continue)
    expect(ra.stdout).toBe('A a\n'.repeat(4));
    const lines = rb.stdout.split('\n').filter(Boolean);
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe('B [] [x]');
    for (const l of lines) expect(l).toMatch(/^B \[y?\] \[x\]$/);
    expect(ra.stderr + rb.stderr).toBe('');
  }, 30_000);
});
