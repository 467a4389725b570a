// bench/handlers.js's latency pair and execname() counts on the real kernel, with exact results:
// the instructions they run take the interpreter's short paths (gettimeofday_ns(), a 16-byte
// key's KCLR and KCOMM in the fast loop, exec1() then the fast loop in one bpf_loop iteration, a
// number stored in place in an element already there), so their results are checked here, from
// both CPUs at once.
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

  it('counts by execname() as a key (KCOMM), alone and after an integer, also where a bpf_loop iteration starts', async () => {
    // after exec1 runs target(), vm_fast runs the branch, a++, b++, tid() * 3 and KCLR (8
    // instructions): the next bpf_loop iteration starts at KCOMM, which exec1 must not run.
    // The fixture's name is cut to 15 characters, as the kernel's comm.
    const run = runTapvm(
      [
        '-c',
        `${BIN} 1000`,
        '-e',
        `global a, b, c, d
         probe syscall.getppid { if (ppid() == target()) { a++; b++; c[execname()] += tid() * 3; d[tid(), execname()] <<< 1 } }
         probe end {
           n = 0; sum = 0
           foreach ([t, e] in d) { if (e == "tapvm-test-stre" && @count(d[t, e]) == 1000) n++; sum += t }
           foreach (k in c) printf("%s %d\\n", k, c[k] == 3000 * sum)
           printf("%d %d %d\\n", n, a, b)
         }`,
      ],
      { timeoutMs: 30_000 },
    );
    const r = await run.done;
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('tapvm-test-stre 1\n2 2000 2000\n');
    expect(r.code).toBe(0);
  }, 40_000);
});
