// Lost output: with its reader stopped (SIGSTOP), a session's 4 MiB ring buffer fills; every
// record after that is counted as lost and reported at exit, and what did fit is printed
// complete and in order.
import { describe, it, expect, beforeAll } from 'vitest';
import { kernelTestsPossible, runTapvm, startTrigger, buildTrigger } from './helpers';

const can = kernelTestsPossible();
if (!can.ok && process.env.CI) throw new Error(`kernel tests cannot run in CI: ${can.why}`);
const d = can.ok ? describe : describe.skip;

const N = 300_000;

d('lost output', () => {
  beforeAll(() => {
    buildTrigger();
  });

  it('a full ring buffer: the records that fit are printed in order, the rest counted in the closing warning', async () => {
    const t = await startTrigger('getppid', String(N));
    const run = runTapvm(['-e', `global n, m; probe syscall.getppid { if (pid() == ${t.pid}) { m++; printf("%d\\n", ++n) } }`], { timeoutMs: 60_000 });
    await run.armed;
    run.proc.kill('SIGSTOP');
    t.go();
    await t.exited;
    run.proc.kill('SIGCONT');
    // let it drain what fitted, then end it (an exit() record would be lost too)
    await new Promise((r) => setTimeout(r, 500));
    run.proc.kill('SIGTERM');
    const r = await run.done;
    expect(r.code).toBe(0);
    // every event ran: the at-exit display of m (written, never read; n's ++ is printed, a
    // use) counts them all
    expect(r.stdout.endsWith(`m=0x${N.toString(16)}\n`)).toBe(true);
    const lines = r.stdout.split('\n').filter((l) => /^\d+$/.test(l));
    const m = /^WARNING: (\d+) output record\(s\) lost: the ring buffer was full\n$/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    const lost = Number(m![1]);
    expect(lost).toBeGreaterThan(0);
    expect(lines.length + lost).toBe(N);
    // complete and in order up to the point the buffer filled
    lines.forEach((l, i) => {
      if (l !== String(i + 1)) expect(l, `line ${i + 1}`).toBe(String(i + 1));
    });
  }, 90_000);
});
