// matched()/ngroups() in a kernel probe: the trigger opens a path of its own, the script
// takes it apart with a tagged DFA run by the eBPF interpreter (vm/regex.h).
import { describe, it, expect, beforeAll } from 'vitest';
import { kernelTestsPossible, runTapvm, startTrigger, buildTrigger } from './helpers';

const can = kernelTestsPossible();
if (!can.ok && process.env.CI) throw new Error(`kernel tests cannot run in CI: ${can.why}`);
const d = can.ok ? describe : describe.skip;

d('regex subexpressions in a kernel probe', () => {
  beforeAll(() => {
    buildTrigger();
  });

  it('extracts the groups of the child openat filename, and errors after a failed match', async () => {
    const path = `/tmp/tapvm-regex-${process.pid}/run-42.log`;
    const t = await startTrigger('open', path, '2');
    const run = runTapvm([
      '--no-global-var-display',
      '-e',
      `global n
       probe syscall.openat {
         if (pid() != ${t.pid}) next
         f = user_string($filename)
         if (f =~ "^(/tmp/[^/]+)/([a-z]+)-([0-9]+)\\\\.(log|txt)$")
           printf("%d [%s] [%s] [%s] [%s] [%s]\\n", ngroups(), matched(0), matched(1), matched(2), matched(3), matched(4))
         if (f =~ "([0-9]+)\\\\.txt$") println("txt?")
         try { println(matched(1)) } catch (e) { println(e) }
         if (++n == 2) exit()
       }`,
    ]);
    await run.armed;
    t.go();
    const r = await run.done;
    expect(r.stderr).toBe('');
    const dir = `/tmp/tapvm-regex-${process.pid}`;
    const one = [`5 [${path}] [${dir}] [run] [42] [log]`, 'Attempted to get subexpression 1 from failed match'];
    expect(r.stdout.trimEnd().split('\n')).toEqual([...one, ...one]);
  });
});
