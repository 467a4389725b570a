// tapset/indent.stp in a kernel probe: thread_indent over a syscall entry/return pair of the
// test's own trigger process (its arrays and sprintf run in the eBPF VM).
import { describe, it, expect, beforeAll } from 'vitest';
import { kernelTestsPossible, runTapvm, startTrigger, buildTrigger } from './helpers';

const can = kernelTestsPossible();
if (!can.ok && process.env.CI) throw new Error(`kernel tests cannot run in CI: ${can.why}`);
const d = can.ok ? describe : describe.skip;

d('thread_indent in a kernel probe', () => {
  beforeAll(() => {
    buildTrigger();
  });

  it('indents a syscall entry and unindents its return, per thread, with the task and a timestamp', async () => {
    const t = await startTrigger('getppid', '2');
    const run = runTapvm([
      '-e',
      `global n
       probe syscall.getppid { if (pid() != ${t.pid}) next; printf("%s-> %s\\n", thread_indent(1), name) }
       probe syscall.getppid.return { if (pid() != ${t.pid}) next; printf("%s<- %s\\n", thread_indent(-1), name); if (++n == 2) exit() }
       probe end { if (n != 2) println("n ", n) }`,
    ]);
    await run.armed;
    t.go();
    const r = await run.done;
    expect(r.stderr).toBe('');
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.length).toBe(4);
    const re = /^ *(\d+) (\S+)\((\d+)\):(.*)$/;
    const m = lines.map((l) => re.exec(l)!);
    expect(m.every((x) => x !== null)).toBe(true);
    expect(m.map((x) => x[3])).toEqual(Array(4).fill(String(t.pid)));
    expect(m.map((x) => x[4])).toEqual(['-> getppid', '<- getppid', '-> getppid', '<- getppid']);
    expect(m.map((x) => x[2])).toEqual(Array(4).fill('tapvm-test-trig'));
    // each call starts again at depth 0, so its timestamp counts from its own entry (as in stap)
    expect(lines[0]).toMatch(/^     0 /);
    expect(lines[2]).toMatch(/^     0 /);
  });
});
