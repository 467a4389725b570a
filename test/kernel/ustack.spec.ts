// User stacks: a fixture built by the test (with frame pointers) calls main -> tapvm_outer ->
// tapvm_middle -> tapvm_inner; probes on the innermost function and on its getppid() call
// print the stack in each of stap's forms, named from /proc/PID/maps and the ELF symbols.
import { describe, it, expect, beforeAll } from 'vitest';
import { kernelTestsPossible, runTapvm, runTapvmSync, buildFixture, fixturePath } from './helpers';
import { ubacktraceText, usymText } from '../../src/kernel/usyms';

const can = kernelTestsPossible();
if (!can.ok && process.env.CI) throw new Error(`kernel tests cannot run in CI: ${can.why}`);
const d = can.ok ? describe : describe.skip;

const BIN = fixturePath('tapvm-test-ustack-target');
const CHAIN = ['tapvm_inner', 'tapvm_middle', 'tapvm_outer', 'main'];
const INNER = `process("${BIN}").function("tapvm_inner")`;

/** The probes end the session with exit(): the fixture waits (and dies with tapvm). */
const run = async (script: string) => runTapvm(['-c', BIN, '-e', script]).done;

d('user stacks and symbols', { timeout: 30_000 }, () => {
  beforeAll(() => {
    buildFixture('tapvm-test-ustack-target', 'ustack-target.c', ['-O1', '-fno-omit-frame-pointer']);
  });

  it('print_ubacktrace() in a uprobe: stap\'s " 0x%016x : sym+0xoff/0xsize [path]" lines, innermost first', async () => {
    const r = await run(`probe ${INNER} { print_ubacktrace(); println("--"); exit() }`);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    const end = lines.indexOf('--');
    const frames = lines.slice(0, end);
    for (const [i, name] of CHAIN.entries()) {
      const esc = BIN.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      expect(frames[i]).toMatch(new RegExp(`^ 0x[0-9a-f]{16} : ${name}\\+0x[0-9a-f]+/0x[0-9a-f]+ \\[${esc}\\]$`));
    }
    // the probe is on the first instruction of tapvm_inner
    expect(frames[0]).toMatch(/ : tapvm_inner\+0x0\//);
    expect(r.code).toBe(0);
  });

  it('print_ubacktrace_brief(), sprint_ubacktrace(), ubacktrace(), ucallers(), uaddr(), usymname(), usymdata()', async () => {
    const r = await run(
      `probe ${INNER} { print_ubacktrace_brief(); printf("<%s>\\n%s\\n%s\\n%x\\n%s\\n%s\\n", sprint_ubacktrace(), ubacktrace(), ucallers(1), uaddr(), usymname(uaddr()), usymdata(uaddr())); exit() }`,
    );
    expect(r.stderr).toBe('');
    const m = /^([^<]*)<([^>]*)>\n(.*)\n(.*)\n(.*)\n(.*)\n(.*)\n$/.exec(r.stdout)!;
    expect(m).not.toBeNull();
    const [, brief, sprint, bt, callers, uaddr, name, data] = m;
    expect(brief.split('\n').slice(0, 4)).toEqual(['tapvm_inner+0x0', ...CHAIN.slice(1).map((n) => expect.stringMatching(new RegExp(`^${n}\\+0x[0-9a-f]+$`)))]);
    // "sym+0xoff [basename]" a line, cut at MAXSTRINGLEN - 1 = 127 bytes as stap cuts the string
    expect(sprint.length).toBe(127);
    const lines = sprint.split('\n');
    expect(lines[2]).toMatch(/^tapvm_outer\+0x[0-9a-f]+ \[tapvm-test-ustack-t/);
    expect(lines.slice(0, 2)).toEqual(['tapvm_inner+0x0 [tapvm-test-ustack-target]', ...CHAIN.slice(1, 2).map((n) => expect.stringMatching(new RegExp(`^${n}\\+0x[0-9a-f]+ \\[tapvm-test-ustack-target\\]$`)))]);
    const addrs = bt.split(' ');
    expect(addrs.length).toBeGreaterThanOrEqual(4);
    for (const a of addrs) expect(a).toMatch(/^0x[0-9a-f]{16}$/);
    // ucallers(1): the top and one more level
    expect(callers).toBe(addrs.slice(0, 2).join(' '));
    expect(BigInt('0x' + uaddr)).toBe(BigInt(addrs[0]));
    expect(name).toBe('tapvm_inner');
    expect(data).toMatch(new RegExp(`^tapvm_inner\\+0x0/0x[0-9a-f]+ \\[${BIN.replace(/[.]/g, '\\.')}\\]$`));
  });

  it('print_ubacktrace() in a system call probe walks the caller\'s user stack', async () => {
    const r = await run(`probe syscall.getppid { if (pid() == target()) { print_ubacktrace_brief(); println(usymname(uaddr())); exit() } }`);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    // libc's getppid (a leaf without a frame of its own, so its caller's frame is next)
    expect(lines[0]).toMatch(/^getppid\+0x[0-9a-f]+$/);
    const names = lines.map((l) => l.split('+')[0]);
    const at = ['tapvm_middle', 'tapvm_outer', 'main'].map((n) => names.indexOf(n));
    expect(at.every((i) => i > 0)).toBe(true);
    expect(at).toEqual([...at].sort((a, b) => a - b));
    expect(lines).toContain('getppid');
  });

  it('comparing usymname() is refused at compile time; in begin it is a kernel-only function', () => {
    const r = runTapvmSync(['-p4', '-e', `probe ${INNER} { if (usymname(uaddr()) == "x") println(1) }`]);
    expect(r.stderr).toContain('the result of usymname() can only be printed or stored');
    expect(r.code).toBe(1);
    const b = runTapvmSync(['-p2', '-e', 'probe begin { println(ubacktrace()) }']);
    expect(b.stderr).toContain("function 'ubacktrace'");
    expect(b.code).toBe(1);
  });

  it('an address of a process that is gone (or never mapped) stays hex, as stap prints without symbols', () => {
    const gone = 0x7fffffff;
    expect(ubacktraceText(gone, [0x1234n], 'full')).toBe(' 0x0000000000001234\n');
    expect(ubacktraceText(gone, [0x1234n], 'brief')).toBe('0x0000000000001234\n');
    expect(usymText('0', [BigInt(gone), 0x1234n], 127)).toBe('0x1234');
    expect(usymText('1', [BigInt(process.pid), 16n], 127)).toBe('0x10');
  });
});
