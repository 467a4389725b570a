// Kernel stacks: print_backtrace() in a syscall probe the test triggers, symbolized through
// /proc/kallsyms; symname()/symdata() in user-space probes.
import { describe, it, expect, beforeAll } from 'vitest';
import * as fs from 'fs';
import { kernelTestsPossible, runTapvm, runTapvmSync, startTrigger, buildTrigger } from './helpers';

const can = kernelTestsPossible();
if (!can.ok && process.env.CI) throw new Error(`kernel tests cannot run in CI: ${can.why}`);
const d = can.ok ? describe : describe.skip;

const LINE = / 0x[0-9a-f]{16} : [\w.$]+\+0x[0-9a-f]+\/0x[0-9a-f]+ \[[\w-]+\]/;

d('kernel stacks and symbols', () => {
  beforeAll(() => {
    buildTrigger();
  });

  it('print_backtrace() in a getppid probe prints the syscall path, symbolized as stap does', async () => {
    const t = await startTrigger('getppid', '1');
    const run = runTapvm(['-e', `probe syscall.getppid { if (pid() == ${t.pid}) { printf("before\\n"); print_backtrace(); printf("after\\n"); exit() } }`]);
    await run.armed;
    t.go();
    const r = await run.done;
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n').filter(Boolean);
    expect(lines[0]).toBe('before');
    expect(lines[lines.length - 1]).toBe('after');
    const frames = lines.slice(1, -1);
    expect(frames.length).toBeGreaterThan(1);
    for (const f of frames) expect(f).toMatch(new RegExp(`^${LINE.source}$`));
    expect(frames.some((f) => / : do_syscall_64\+/.test(f))).toBe(true);
  }, 30_000);

  it('backtrace() gives the same stack as hex addresses "0x... 0x...", as many whole ones as fit a string', async () => {
    const t = await startTrigger('getppid', '1');
    const run = runTapvm(['-e', `probe syscall.getppid { if (pid() == ${t.pid}) { bt = backtrace(); printf("[%s] %d\\n", bt, strlen(bt)); print_backtrace(); exit() } }`]);
    await run.armed;
    t.go();
    const r = await run.done;
    expect(r.stderr).toBe('');
    const m = /^\[(.*)\] (\d+)\n([^]*)$/.exec(r.stdout)!;
    expect(m).not.toBeNull();
    const addrs = m[1].split(' ');
    expect(Number(m[2])).toBe(m[1].length);
    for (const a of addrs) expect(a).toMatch(/^0x[0-9a-f]{16}$/);
    const printed = m[3].split('\n').filter(Boolean).map((l) => l.trim().split(' ')[0]);
    expect(printed.length).toBeGreaterThanOrEqual(addrs.length);
    expect(addrs.length).toBe(Math.min(printed.length, 6));
    expect(printed.slice(0, addrs.length)).toEqual(addrs);
  }, 30_000);

  it('symname() and symdata() in begin name a kernel address; an unknown one stays hex', () => {
    const line = fs.readFileSync('/proc/kallsyms', 'latin1').split('\n').find((l) => / [tT] do_syscall_64$/.test(l))!;
    const addr = BigInt('0x' + line.split(' ')[0]);
    const r = runTapvmSync(['-e', `probe begin { printf("%s|%s|%s\\n", symname(${addr + 16n}), symdata(${addr + 16n}), symname(16)); exit() }`]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^do_syscall_64\|do_syscall_64\+0x10\/0x[0-9a-f]+ \[kernel\]\|0x10\n$/);
  }, 30_000);

  it('symname() in a kernel probe is refused at compile time', () => {
    const r = runTapvmSync(['-p2', '-e', 'probe syscall.getppid { println(symname(0)) }']);
    expect(r.stderr).toContain("function 'symname' can only be used in begin, end, error and timer probes");
    expect(r.code).toBe(1);
  });
});
