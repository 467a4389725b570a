// Session-level error semantics as stap's: exit() stops the begin probes and runs end probes
// once; more than MAXERRORS errors skip the end probes and run the error probes instead; the
// closing WARNING line; MAXSKIPPED's message. Each script runs through the real runtime.
import { describe, it, expect, beforeAll } from 'vitest';
import { kernelTestsPossible, runTapvm, runTapvmSync, startTrigger, buildTrigger } from './helpers';
import { errorMessage } from '../../src/runtime/output';
import { ERR } from '../../src/isa/opcodes';
import type { ProgramImage } from '../../src/image/image';

const can = kernelTestsPossible();
if (!can.ok && process.env.CI) throw new Error(`kernel tests cannot run in CI: ${can.why}`);
const d = can.ok ? describe : describe.skip;

const WARN = (n: number) => `WARNING: Number of errors: ${n}, skipped probes: 0\n`;

d('run-time errors, exit() and the error probe', () => {
  beforeAll(() => {
    buildTrigger();
  }, 30_000);

  it('exit() in begin: the rest of that handler runs, later begin probes do not, end probes run once', () => {
    const r = runTapvmSync([
      '-e',
      'probe begin { println("b1"); exit(); println("b1 after exit") } probe begin(1) { println("b2") } ' +
        'probe end { println("end") } probe error { println("error probe") } probe end(1) { exit(); println("end2") }',
    ]);
    expect(r.stdout).toBe('b1\nb1 after exit\nend\nend2\n');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  }, 30_000);

  it('an error in begin (MAXERRORS=0): later begin probes and end probes are skipped, error probes run in order', () => {
    const r = runTapvmSync([
      '-e',
      'probe begin { println("b1"); x = 1/0; println("no") } probe begin(1) { println("b2") } probe end { println("end") } ' +
        'probe error { println("error probe") } probe error(-1) { println("error first") }',
    ]);
    expect(r.stdout).toBe('b1\nerror first\nerror probe\n');
    expect(r.stderr).toBe("ERROR: division by 0 near operator '/' at <input>:1:35\n" + WARN(1));
    expect(r.code).toBe(1);
  }, 30_000);

  it('-D MAXERRORS=1: one error goes on; the second, in an end probe, ends the end probes and runs the error probes', () => {
    const r = runTapvmSync([
      '-D',
      'MAXERRORS=1',
      '-e',
      'probe begin { error("one") } probe begin(1) { println("b2") } probe end { println("end"); error("two") } ' +
        'probe end(2) { println("end2") } probe error { println("error probe") }',
    ]);
    expect(r.stdout).toBe('b2\nend\nerror probe\n');
    expect(r.stderr).toBe("ERROR: one near identifier 'error' at <input>:1:15\nERROR: two near identifier 'error' at <input>:1:91\n" + WARN(2));
    expect(r.code).toBe(1);
  }, 30_000);

  it('an error caught by try/catch is not counted', () => {
    const r = runTapvmSync(['-e', 'probe begin { try { error("x") } catch (m) { println("caught ", m) } } probe end { println("end") }']);
    expect(r).toEqual({ code: 0, stdout: 'caught x\nend\n', stderr: '' });
  }, 30_000);

  it('an error in a kernel probe runs the error probes, not the end probes, after the kernel probes stop', async () => {
    const t = await startTrigger('getppid', '50');
    const run = runTapvm([
      '-e',
      `global n; probe syscall.getppid { if (pid() == ${t.pid}) { n++; if (n == 3) error(sprint_n()) } }
       function sprint_n() { return "third call" }
       probe end { println("end") } probe error { printf("error probe after %d\\n", n) }`,
    ]);
    await run.armed;
    t.go();
    const r = await run.done;
    expect(r.stdout).toBe('error probe after 3\n');
    expect(r.stderr).toMatch(/^ERROR: third call near identifier 'error' at <input>:1:\d+\nWARNING: Number of errors: 1, skipped probes: 0\n$/);
    expect(r.code).toBe(1);
  }, 30_000);

  it('-D MAXERRORS=2 in a kernel probe: two errors go on, the third stops the kernel probes at that event and runs the error probes', async () => {
    const t = await startTrigger('getppid', '50');
    const run = runTapvm([
      '-D',
      'MAXERRORS=2',
      '-e',
      `global n; probe syscall.getppid { if (pid() == ${t.pid}) { n++; printf("call %d\\n", n); if (n >= 2) println(1 / (n - n)) } }
       probe end { println("end") } probe error { printf("error probe after %d\\n", n) }`,
    ]);
    await run.armed;
    t.go();
    const r = await run.done;
    expect(r.stdout).toBe('call 1\ncall 2\ncall 3\ncall 4\nerror probe after 4\n');
    expect(r.stderr).toMatch(/^(ERROR: division by 0 near operator '\/' at <input>:1:\d+\n){3}WARNING: Number of errors: 3, skipped probes: 0\n$/);
    expect(r.code).toBe(1);
  }, 30_000);

  it('-D MAXNESTING=4 in a kernel probe: four nested calls run, the fifth is stap\'s error at the function', async () => {
    const t = await startTrigger('getppid', '1');
    const run = runTapvm([
      '-D',
      'MAXNESTING=4',
      '-e',
      `function d(n) { return n ? 1 + d(n - 1) : 0 }
       probe syscall.getppid { if (pid() == ${t.pid}) { printf("%d\\n", d(3)); printf("%d\\n", d(4)) } }`,
    ]);
    await run.armed;
    t.go();
    const r = await run.done;
    expect(r.stdout).toBe('3\n');
    expect(r.stderr).toBe("ERROR: MAXNESTING exceeded near identifier 'd' at <input>:1:10\n" + WARN(1));
    expect(r.code).toBe(1);
  }, 30_000);

  it("MAXSKIPPED's error names no statement, as stap's", () => {
    const img = { sourceMap: [{ loc: { file: '<input>', line: 1, col: 1, offset: 0 }, near: 'x' }] } as unknown as ProgramImage;
    expect(errorMessage(img, { type: 'error', code: ERR.SKIPPED, pc: 0 })).toBe(
      'ERROR: Skipped too many probes, check MAXSKIPPED or try again with stap -t for more details.',
    );
    expect(runTapvmSync(['-D', 'MAXSKIPPED=x', '-e', 'probe begin {}']).stderr).toContain('MAXSKIPPED=x');
  }, 30_000);
});
