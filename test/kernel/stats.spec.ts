// Statistics on the real kernel: 2 CPUs x 1,000,000 events updating one shared array element
// (atomic AADD) and statistics (per-CPU copies) from both CPUs at once, with exact final counts;
// and a kernel handler reading @count across CPUs while the other CPU writes.
import { describe, it, expect, beforeAll } from 'vitest';
import { kernelTestsPossible, runTapvm, buildFixture } from './helpers';

const can = kernelTestsPossible();
if (!can.ok && process.env.CI) throw new Error(`kernel tests cannot run in CI: ${can.why}`);
const d = can.ok ? describe : describe.skip;

let BIN = '';

d('statistics on the kernel', () => {
  beforeAll(() => {
    BIN = buildFixture('tapvm-test-stress', 'stress.c');
  });

  it('loses no update: 2 CPUs x 1,000,000 getppid calls into one array element and one statistic', async () => {
    // the fixture's two children (ppid == target()) are pinned to CPU 0 and CPU 1
    const run = runTapvm(
      [
        '-c',
        `${BIN} 1000000`,
        '-e',
        `global a, s, per
         probe syscall.getppid { if (ppid() == target()) { a["both"]++; s <<< 2; per[cpu()] <<< 1 } }
         probe end { printf("%d %d %d %d %d %d\\n", a["both"], @count(s), @sum(s), @min(s), @count(per[0]), @count(per[1])) }`,
      ],
      { timeoutMs: 60_000 },
    );
    const r = await run.done;
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('2000000 2000000 4000000 2 1000000 1000000\n');
    expect(r.code).toBe(0);
  }, 70_000);

  it('reads a statistic across CPUs inside a kernel handler while the other CPU writes it', async () => {
    const run = runTapvm([
      '-c',
      `${BIN} 1000`,
      '-e',
      `global s, seen, hits
       probe syscall.getppid { if (ppid() == target()) { s <<< cpu(); if (@count(s) == 2000) { seen = @sum(s); hits++ } } }
       probe end { printf("%d %d %d\\n", seen, hits > 0, @count(s)); print(@hist_linear(s, 0, 2, 1)) }`,
    ]);
    const r = await run.done;
    expect(r.stderr).toBe('');
    // whichever handler adds last reads both CPUs' copies: 1000 zeros and 1000 ones
    expect(r.stdout).toBe(
      [
        '1000 1 2000',
        'value |-------------------------------------------------- count',
        '    0 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@ 1000',
        '    1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@ 1000',
        '    2 |                                                      0',
        '',
        '',
      ].join('\n'),
    );
  }, 30_000);
});
