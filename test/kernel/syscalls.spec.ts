// System call probes on the real kernel: wildcards through the raw_syscalls dispatch, tapset
// variables (name, argstr, retstr, errno), named arguments; each test filters on its trigger.
import { describe, it, expect, beforeAll } from 'vitest';
import { kernelTestsPossible, runTapvm, runTapvmSync, startTrigger, buildTrigger } from './helpers';

const can = kernelTestsPossible();
if (!can.ok && process.env.CI) throw new Error(`kernel tests cannot run in CI: ${can.why}`);
const d = can.ok ? describe : describe.skip;

/** Runs `script` (with T = the trigger's pid) until the trigger exits; returns stdout. */
async function traced(trigger: string[], script: (pid: number) => string): Promise<{ stdout: string; stderr: string; code: number | null; pid: number }> {
  const t = await startTrigger(...trigger);
  const run = runTapvm(['-e', `${script(t.pid)}\nprobe kernel.trace("sched:sched_process_exit") { if (pid() == ${t.pid}) exit() }`]);
  await run.armed;
  t.go();
  return { ...(await run.done), pid: t.pid };
}

d('system call probes on the kernel', () => {
  beforeAll(() => {
    buildTrigger();
  });

  it('syscall.* sees the different system calls of its own trigger, by name', async () => {
    const r = await traced(['open', '/etc/hostname', '3'], (pid) => `global c
      probe syscall.* { if (pid() == ${pid}) c[name]++ }
      probe end { foreach (k+ in c) printf("%s %d\\n", k, c[k]) }`);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('openat 3\n');
    expect(r.stdout).toContain('close 3\n');
    expect(r.stdout).toContain('exit_group 1\n');
  });

  it('@entry(expr) in syscall.openat.return: the value the expression had at entry, per thread', async () => {
    const r = await traced(['open', '/etc/hostname', '2'], (pid) => `probe syscall.openat.return { if (pid() == ${pid}) printf("%d %s %d\\n", $return >= 0, @entry(user_string($filename)), @entry($flags) + 1) }`);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('1 /etc/hostname 1\n'.repeat(2));
  });

  it('formats argstr for openat as stap does: AT_FDCWD, the quoted name, decoded flags', async () => {
    const r = await traced(['open', '/etc/hostname', '1'], (pid) => `probe syscall.openat, syscall.close { if (pid() == ${pid}) printf("%s(%s)\\n", name, argstr) }`);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^openat\(AT_FDCWD, "\/etc\/hostname", O_RDONLY\)\nclose\(\d+\)\n$/);
  });

  it('a failing open gives $return -2, retstr "-2 (ENOENT)" and errno 2 on syscall.*.return', async () => {
    const r = await traced(['open', '/nonexistent/tapvm', '1'], (pid) =>
      `probe syscall.open*.return { if (pid() == ${pid}) printf("%s %d [%s] %d\\n", name, $return, retstr, errno) }`);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('openat -2 [-2 (ENOENT)] 2\n');
  });

  it('an empty handler ends before the VM state is taken; the handlers sharing its event still run', async () => {
    // vm/tapvm.bpf.c run(): an event with one handler whose first instruction is HALT returns
    // early; with two (the empty one first) both run, and so does an empty kernel.trace probe's neighbour
    const r = await traced(['open', '/etc/hostname', '3'], (pid) => `global n, m
      probe syscall.openat { }
      probe syscall.close { }
      probe syscall.close { if (pid() == ${pid}) n++ }
      probe kernel.trace("syscalls:sys_enter_openat") { }
      probe kernel.trace("syscalls:sys_enter_openat") { if (pid() == ${pid}) m++ }
      probe end { printf("%d %d\\n", n, m) }`);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('3 3\n');
  });

  it('argstr and retstr that the kernel compares, measures and keys on hold stap\'s text, as printed', async () => {
    const r = await traced(['open', '/etc/hostname', '2'], (pid) => `global keys, n
      probe syscall.close { if (pid() == ${pid}) printf("close(%s)\\n", argstr) }
      probe syscall.close { if (pid() == ${pid}) printf("k %d %d %s\\n", argstr == sprintf("%d", fd), strlen(argstr), substr(argstr, 0, 1)) }
      probe syscall.openat.return { if (pid() == ${pid}) { keys[retstr]++; if (retstr == sprint($return) && isinstr(retstr, sprint($return))) n++ } }
      probe end { foreach (k in keys) printf("[%s] %d %d\\n", k, keys[k], n) }`);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\[\d+\] 2 2$/m);
    // the kernel-formatted text matches the printed (user-space expanded) one
    const printed = [...r.stdout.matchAll(/^close\((\d+)\)$/gm)].map((m) => m[1]);
    const k = [...r.stdout.matchAll(/^k (\d) (\d+) (.)$/gm)];
    expect(k.length).toBeGreaterThan(0);
    for (const m of k) expect([m[1], printed.some((p) => p.length === Number(m[2]) && p[0] === m[3])]).toEqual(['1', true]);
  });

  it('retstr of a failing call compares as "-2 (ENOENT)" in the kernel', async () => {
    const r = await traced(['open', '/nonexistent/tapvm', '1'], (pid) =>
      `probe syscall.openat.return { if (pid() == ${pid}) printf("%d %d %s\\n", retstr == "-2 (ENOENT)", strlen(retstr), retstr) }`);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('1 11 -2 (ENOENT)\n');
  });

  it('probefunc() names the kernel entry point of the system call, one call or a wildcard; "" in a tracepoint', async () => {
    const r = await traced(['getppid', '1'], (pid) => `probe syscall.getppid { if (pid() == ${pid}) printf("one %s %s\\n", probefunc(), ppfunc()) }
      probe syscall.get*.return { if (pid() == ${pid} && name == "getppid") printf("many %s\\n", probefunc()) }
      probe kernel.trace("sched:sched_process_exit") { if (pid() == ${pid}) printf("tp [%s]\\n", probefunc()) }`);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('one __x64_sys_getppid __x64_sys_getppid\nmany __x64_sys_getppid\ntp []\n');
  });

  it('argstr of a flag-decoding call or of several calls in a comparison is one clear compile error', () => {
    // (open, openat, mmap and mprotect are decoded in the kernel: test/kernel/argstr.spec.ts)
    const one = runTapvmSync(['-p4', '-e', 'probe syscall.access { if (argstr == "x") exit() }']);
    expect(one.code).not.toBe(0);
    expect(one.stderr).toContain('argstr of syscall.access can only be printed');
    const many = runTapvmSync(['-p4', '-e', 'probe syscall.* { if (strlen(argstr) > 3) exit() }']);
    expect(many.code).not.toBe(0);
    expect(many.stderr).toContain('argstr can only be printed in a probe on several system calls');
    // stored (an array key) through a wildcard keeps the printable encoding, as before
    expect(runTapvmSync(['-p4', '-e', 'global a probe syscall.* { a[argstr]++ }']).code).toBe(0);
  });

  it('counts exactly through a wildcard, nd_syscall, syscall_any and a named probe on the same call', async () => {
    const r = await traced(['getppid', '3000'], (pid) => `global a, b, c, e, n
      probe syscall.getpp* { if (pid() == ${pid}) a++ }
      probe nd_syscall.getppid { if (pid() == ${pid}) b++ }
      probe syscall_any { if (pid() == ${pid} && name == "getppid") c++ }
      probe syscall.getppid.return { if (pid() == ${pid} && $return > 0) e++ }
      probe syscall_any.return { if (pid() == ${pid} && syscall_nr == 110) n++ }
      probe end { printf("%d %d %d %d %d\\n", a, b, c, e, n) }`);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('3000 3000 3000 3000 3000\n');
  });

  it('reads named arguments in a wildcard probe per system call ($filename of open and openat)', async () => {
    const r = await traced(['open', '/etc/hostname', '2'], (pid) =>
      `probe syscall.open*? { if (pid() == ${pid}) printf("%s %s %s\\n", name, user_string($filename), filename) }`);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('openat /etc/hostname "/etc/hostname"\n'.repeat(2));
  });

  it('a $variable that one matched system call lacks is a compile-time error, as in stap', () => {
    const r = runTapvmSync(['-p2', '-e', 'probe syscall.open* { println($filename) }']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("unable to find context variable '$filename' in syscall.open* for system call open_by_handle_at");
  });

  it('gives no never-assigned warning for the tapset variables', async () => {
    const r = await runTapvm(['-p2', '-e', 'probe syscall.* { printf("%s(%s)\\n", name, argstr) } probe syscall.*.return { printf("%s\\n", retstr) }'], { verbose: false }).done;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('kernel.trace("name") without a system finds the event (sched_process_exec of its own exec)', async () => {
    const r = await traced(['exec'], (pid) => `probe kernel.trace("sched_process_exec") { if (pid() == ${pid}) printf("%s %s\\n", pp(), execname()) }`);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('kernel.trace("sched_process_exec") true\n');
  });

  it('prints $$parms of sched_process_exec as stap does: name=value, the file name quoted, numbers in %#x', async () => {
    const r = await traced(['exec'], (pid) => `probe kernel.trace("sched:sched_process_exec") { if (pid() == ${pid}) printf("[%s] [%s]\\n", $$parms, $$locals) }`);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`[filename="/bin/true" pid=0x${r.pid.toString(16)} old_pid=0x${r.pid.toString(16)}] []\n`);
  });

  it('prints $$parms of syscall.openat (the name it opens with $$parms$) and $$return', async () => {
    const r = await traced(['open', '/etc/hostname', '1'], (pid) => `probe syscall.openat { if (pid() == ${pid}) printf("%s\\n%s\\n", $$parms, $$parms$) }
      probe syscall.openat.return { if (pid() == ${pid}) println($$return) }`);
    expect(r.stderr).toBe('');
    const [plain, strings, ret] = r.stdout.split('\n');
    expect(plain).toMatch(/^dfd=0xffffffffffffff9c filename=0x[0-9a-f]+ flags=0x0 mode=0x0$/);
    expect(strings).toBe('dfd=0xffffffffffffff9c filename="/etc/hostname" flags=0x0 mode=0x0');
    expect(ret).toMatch(/^return=0x[0-9a-f]+$/);
  });

  it('says in one sentence that no system call matches', () => {
    const r = runTapvmSync(['-p2', '-e', 'probe syscall.nosuchcall* { }']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no match for probe point syscall.nosuchcall*');
  });
});
