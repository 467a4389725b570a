// printf's %m / %M in a kernel probe: the bytes at the address are read in the probe (OMEM, as
// stap's kread does) and formatted in user space like a string argument; here the task's comm,
// checked against execname(). The errors (fault, too many bytes) are in the differential corpus.
import { describe, it, expect, beforeAll } from 'vitest';
import { kernelTestsPossible, runTapvm, startTrigger, buildTrigger } from './helpers';

const can = kernelTestsPossible();
if (!can.ok && process.env.CI) throw new Error(`kernel tests cannot run in CI: ${can.why}`);
const d = can.ok ? describe : describe.skip;

d('printf %m and %M in a kernel probe', () => {
  beforeAll(() => {
    buildTrigger();
  });

  it("dumps the task's comm: raw bytes (%m, precision = length) and hex (%M, width in hex digits)", async () => {
    const t = await startTrigger('getppid', '1');
    const r = runTapvm([
      '-e',
      `probe syscall.getppid { if (pid() == ${t.pid}) {
        a = &@cast(task_current(), "task_struct", "kernel")->comm
        printf("%s|%.16M|[%.3m]|[%-36.2M]|[%m]\\n", execname(), a, a, a, a)
        exit() } }`,
    ]);
    await r.armed;
    t.go();
    const out = await r.done;
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const [comm, hex, m3, m2, m1] = out.stdout.replace(/\n$/, '').split('|');
    expect(comm.length).toBeGreaterThan(2);
    const bytes = Buffer.alloc(16);
    bytes.write(comm, 'latin1');
    expect(hex).toBe(bytes.toString('hex'));
    expect(m3).toBe(`[${comm.slice(0, 3)}]`);
    expect(m2).toBe(`[${bytes.subarray(0, 2).toString('hex').padEnd(36)}]`);
    expect(m1).toBe(`[${comm[0]}]`);
  }, 30_000);
});
