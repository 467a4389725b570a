// process.begin as stap's task finder reports it: in the child of a fork (no exec needed),
// and again in the new program after an exec; a new thread is no new process.
import { describe, it, expect } from 'vitest';
import { kernelTestsPossible, runTapvm, startTrigger, buildTrigger } from './helpers';

const can = kernelTestsPossible();
if (!can.ok && process.env.CI) throw new Error(`kernel tests cannot run in CI: ${can.why}`);
const d = can.ok ? describe : describe.skip;

/** Runs `script` (which sees the trigger's pid as T) while a trigger `args` runs to its end. */
async function withTrigger(args: string[], script: (pid: number) => string) {
  const t = await startTrigger(...args);
  const run = runTapvm(['-e', script(t.pid)]);
  await run.armed;
  t.go();
  await t.exited;
  // the trigger's children have exited too (it waits for them): let the last records arrive
  await new Promise((r) => setTimeout(r, 300));
  run.proc.kill('SIGINT');
  return run.done;
}

d('process.begin on fork', { timeout: 30_000 }, () => {
  it('fires in each child of a fork without exec, for process.begin and process("PATH").begin of the parent\'s file', async () => {
    const trigger = buildTrigger();
    const r = await withTrigger(['fork', '3'], (pid) =>
      `probe process.begin { if (ppid() == ${pid}) printf("any %d %d %s\\n", pid() == tid(), pid() != ${pid}, execname()) }
       probe process("${trigger}").begin { if (ppid() == ${pid}) printf("path %s\\n", pp()) }
       probe process("/bin/true").begin { if (ppid() == ${pid}) printf("wrong file\\n") }`,
    );
    expect(r.stderr).toBe('');
    const lines = r.stdout.trimEnd().split('\n').sort();
    expect(lines).toEqual([...Array(3).fill('any 1 1 tapvm-test-trig'), ...Array(3).fill(`path process("${trigger}").begin`)]);
  });

  it('fork then exec fires it twice in the child, as stap does: at the fork, then in the new program', async () => {
    const r = await withTrigger(['forkexec'], (pid) => `probe process.begin { if (ppid() == ${pid}) printf("%s\\n", execname()) }`);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('tapvm-test-trig\ntrue\n');
  });

  it('a new thread is not a new process', async () => {
    const r = await withTrigger(['thread'], (pid) =>
      `probe process.begin { if (pid() == ${pid} || ppid() == ${pid}) printf("begin %d\\n", tid()) }
       probe end { println("done") }`,
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('done\n');
  });
});
