// The latency pair of bench/handlers.js on the real kernel, with exact results: the instructions
// it runs take the interpreter's short paths (gettimeofday_ns() and a 16-byte key's KCLR in the
// fast loop, exec1() then the fast loop in one bpf_loop iteration, a number stored in place in
// an element already there), so their results are checked here, from both CPUs at once.
import { describe, it, expect, beforeAll } from 'vitest';
import { kernelTestsPossible, runTapvm, buildFixture } from './helpers';

const can = kernelTestsPossible();
if (!can.ok && process.env.CI) throw new Error(`kernel tests cannot run in CI: ${can.why}`);
const d = can.ok ? describe : describe.skip;

let BIN = '';

d('a latency on the kernel (entry/return pair)', () => {
  beforeAll(() => {
    BIN = buildFixture('tapvm-test-stress', 'stress.c');
  });

  it('stores each entry time over the last, measures every return, and its clock is the wall clock', async () => {
    // the fixture's two children (ppid == target()) make 1000 getppid calls each, one per CPU
    const run = runTapvm(
      [
        '-c',
        `${BIN} 1000`,
        '-e',
        `global s, n, seq, h, neg, last
         probe syscall.getppid { if (ppid() == target()) { s[tid()] = gettimeofday_ns(); seq[tid()] = ++n[tid()] } }
         probe syscall.getppid.return {
           if (ppid() == target()) {
             t = gettimeofday_ns(); d = t - s[tid()]; h <<< d; if (d < 0) neg++; last = t
           }
         }
         probe end {
           ok = 0; foreach (k in seq) if (seq[k] == 1000 && n[k] == 1000 && s[k] > 0) ok++
           lag = gettimeofday_ns() - last
           printf("%d %d %d %d %d\\n", @count(h), neg, ok, lag >= 0, lag < 60000000000)
         }`,
      ],
      { timeoutMs: 30_000 },
    );
    const r = await run.done;
    expect(r.stderr).toBe('');
    // two threads, each with its own element overwritten 1000 times: 1000 kept in both
    expect(r.stdout).toBe('2000 0 2 1 1\n');
    expect(r.code).toBe(0);
  }, 40_000);
});
