// The walking skeleton's must-work cases, end to end on the real kernel.
import { describe, it, expect, beforeAll } from 'vitest';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { kernelTestsPossible, runTapvm, runTapvmSync, startTrigger, buildTrigger } from './helpers';

const can = kernelTestsPossible();
if (!can.ok && process.env.CI) throw new Error(`kernel tests cannot run in CI: ${can.why}`);
const d = can.ok ? describe : describe.skip;

d('walking skeleton on the kernel', () => {
  beforeAll(() => {
    buildTrigger();
  });

  it('prints hello world from a begin probe and exits 0', () => {
    const r = runTapvmSync(['-e', 'probe begin { printf("hello world\\n"); exit() }']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('hello world\n');
    expect(r.code).toBe(0);
  });

  it('counts exactly the getppid calls of its own trigger through syscall.getppid', async () => {
    const t = await startTrigger('getppid', '5000');
    const run = runTapvm([
      '-e',
      `global n; probe syscall.getppid { if (pid() == ${t.pid}) n++ }
       probe kernel.trace("sched:sched_process_exit") { if (pid() == ${t.pid}) { printf("%d\\n", n); exit() } }`,
    ]);
    await run.armed;
    t.go();
    const r = await run.done;
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('5000\n');
    expect(r.code).toBe(0);
  });

  it('reports a positive getppid count from a timer probe (the README one-liner)', async () => {
    const t = await startTrigger('getppid', '-1');
    let r;
    try {
      const run = runTapvm(['-e', 'global n; probe syscall.getppid { n++ } probe timer.ms(500) { printf("%d\\n", n); exit() }']);
      await run.armed;
      t.go();
      r = await run.done;
    } finally {
      t.proc.kill('SIGKILL'); // a trigger of -1 calls getppid forever
    }
    expect(r.code).toBe(0);
    expect(Number(r.stdout.trim())).toBeGreaterThan(0);
  });

  it('sees the exec of /bin/true with execname() "true" in sched_process_exec', async () => {
    const t = await startTrigger('exec');
    const run = runTapvm([
      '-e',
      `probe kernel.trace("sched:sched_process_exec") { if (pid() == ${t.pid}) { printf("%s %s %d\\n", execname(), $filename, $pid); exit() } }`,
    ]);
    await run.armed;
    t.go();
    const r = await run.done;
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`true /bin/true ${t.pid}\n`);
  });

  it('counts openat per execname in an array and iterates it in a timer probe', async () => {
    const file = path.join(os.tmpdir(), `tapvm-open-${process.pid}`);
    fs.writeFileSync(file, 'x');
    const t = await startTrigger('open', file, '321');
    const run = runTapvm([
      '-e',
      `global c; probe syscall.openat { if (pid() == ${t.pid}) c[execname(), user_string($filename)]++ }
       probe kernel.trace("sched:sched_process_exit") { if (pid() == ${t.pid}) exit() }
       probe end { foreach ([k, f] in c) printf("%s %s %d\\n", k, f, c[k, f]) }`,
    ]);
    await run.armed;
    t.go();
    const r = await run.done;
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`tapvm-test-trig ${file} 321\n`);
  });

  it('runs end probes and exits 0 on SIGTERM', async () => {
    const run = runTapvm(['-e', 'probe syscall.getppid { } probe end { printf("bye\\n") }']);
    await run.armed;
    run.proc.kill('SIGTERM');
    const r = await run.done;
    expect(r.stdout).toBe('bye\n');
    expect(r.code).toBe(0);
  });

  it('gives a parse error with file:line:col, the source line and a caret, exit 1', () => {
    const r = runTapvmSync(['-e', 'probe begin { x = }']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('parse error: expected expression');
    expect(r.stderr).toContain('at: <input>:1:19');
    expect(r.stderr).toContain('source: probe begin { x = }\n                               ^');
    expect(r.stderr).not.toMatch(/\n\s+at .*\.js:\d+/);
  });

  it('says in one sentence that a tracepoint does not exist', () => {
    const r = runTapvmSync(['-e', 'probe kernel.trace("sched:no_such_event") { }']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/semantic error: no match for probe point kernel\.trace\("sched:no_such_event"\): this kernel has no tracepoint sched:no_such_event/);
  });

  it('reports division by zero in a kernel probe as stap does, with the location', async () => {
    const t = await startTrigger('getppid', '1');
    const run = runTapvm(['-e', `global z; probe syscall.getppid { if (pid() == ${t.pid}) printf("%d\\n", 10 / z) }`]);
    await run.armed;
    t.go();
    const r = await run.done;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("ERROR: division by 0 near operator '/' at <input>:1:");
    expect(r.stderr).toContain('WARNING: Number of errors: 1, skipped probes: 0');
  });

  it('runs two sessions at the same time without disturbing each other', async () => {
    const t = await startTrigger('getppid', '2000');
    const script = (tag: string) =>
      `global n; probe syscall.getppid { if (pid() == ${t.pid}) n++ }
       probe kernel.trace("sched:sched_process_exit") { if (pid() == ${t.pid}) { printf("${tag} %d\\n", n); exit() } }`;
    const a = runTapvm(['-e', script('a')]);
    const b = runTapvm(['-e', script('b')]);
    await Promise.all([a.armed, b.armed]);
    t.go();
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect(ra.stdout).toBe('a 2000\n');
    expect(rb.stdout).toBe('b 2000\n');
  });

  it('user_string(addr, default) reads the file name, and falls back to the default on a fault', async () => {
    const file = path.join(os.tmpdir(), `tapvm-us-${process.pid}`);
    fs.writeFileSync(file, 'x');
    const t = await startTrigger('open', file, '3');
    const run = runTapvm([
      '-e',
      `probe syscall.openat { if (pid() == ${t.pid}) printf("%s|%s\\n", user_string($filename, "?"), user_string(0, "fallback")) }
       probe kernel.trace("sched:sched_process_exit") { if (pid() == ${t.pid}) exit() }`,
    ]);
    await run.armed;
    t.go();
    const r = await run.done;
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`${file}|fallback\n`.repeat(3));
  });

  it('user_string(addr) on a bad address is a run-time error, as in stap', async () => {
    const t = await startTrigger('getppid', '1');
    const run = runTapvm(['-e', `probe syscall.getppid { if (pid() == ${t.pid}) println(user_string(0)) }`]);
    await run.armed;
    t.go();
    const r = await run.done;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("ERROR: user string copy fault near identifier 'user_string' at <input>:1:");
  });

  it('ends quietly with status 0 when the reader of its output goes away (EPIPE)', () => {
    const r = spawnSync('sh', ['-c', `${process.execPath} ${require.resolve('../../bin/tapvm')} -e 'probe timer.ms(1) { println("line") }' | head -n 2`], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.stdout).toBe('line\nline\n');
    expect(r.stderr).toBe('');
  });

  it('runs end probes and exits 0 on SIGINT (Ctrl-C)', async () => {
    const run = runTapvm(['-e', 'global n; probe timer.ms(10) { n++ } probe end { printf("ticks>0: %d\\n", n > 0) }']);
    await run.armed;
    await new Promise((r) => setTimeout(r, 100));
    run.proc.kill('SIGINT');
    const r = await run.done;
    expect(r.stdout).toBe('ticks>0: 1\n');
    expect(r.code).toBe(0);
  });

  it('says in one sentence that it needs root or CAP_BPF and CAP_PERFMON, without a stack trace', () => {
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', process.execPath, require.resolve('../../bin/tapvm'), '-e', 'probe begin { }'], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('tapvm: running a script needs root or the CAP_BPF and CAP_PERFMON capabilities, and this process lacks CAP_BPF and CAP_PERFMON\n');
  });

  it('a new session in a reused slot starts with empty arrays and sees none of the old output', { timeout: 60_000 }, async () => {
    const script = 'global a, s; probe begin { a[1]++; s["k"] = s["k"] . "x"; printf("%d %s %d\\n", a[1], s["k"], 2 in a); a[2] = 1; exit() }';
    for (let i = 0; i < 3; i++) expect(runTapvmSync(['-e', script]).stdout).toBe('1 x 0\n');
    // a session killed in the middle of its output leaves records in its slot's ring buffer
    const t = await startTrigger('getppid', '-1');
    let r;
    try {
      const noisy = runTapvm(['-e', `probe syscall.getppid { if (pid() == ${t.pid}) printf("old\\n") }`]);
      await noisy.armed;
      t.go();
      await new Promise((res) => setTimeout(res, 200));
      noisy.proc.kill('SIGKILL');
      await noisy.done;
      const fresh = runTapvm(['-e', `probe syscall.getppid { if (pid() == ${t.pid}) { printf("new\\n"); exit() } }`]);
      r = await fresh.done;
    } finally {
      t.proc.kill('SIGKILL'); // a trigger of -1 calls getppid forever: never leave one behind
    }
    expect(r.stdout).toBe('new\n');
    expect(r.code).toBe(0);
  });

  it('prints the globals it wrote and never read at exit, as stap does', async () => {
    const t = await startTrigger('getppid', '100');
    const run = runTapvm([
      '-e',
      `global c, n, s; probe syscall.getppid { if (pid() == ${t.pid}) { c[execname()]++; n += 2; s = "last" } }
       probe kernel.trace("sched:sched_process_exit") { if (pid() == ${t.pid}) exit() }`,
    ]);
    await run.armed;
    t.go();
    const r = await run.done;
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('c["tapvm-test-trig"]=0x64\nn=0xc8\ns="last"\n');
  });

  it('-c runs the command once armed, target() is its pid, and its exit ends the session', () => {
    const r = runTapvmSync([
      '-c',
      '/bin/echo from-the-command',
      '-e',
      `global n
       probe kernel.trace("sched:sched_process_exec") { if (pid() == target()) printf("exec %s\\n", execname()) }
       probe syscall.write { if (pid() == target()) n++ }
       probe end { printf("writes %d\\n", n) }`,
    ]);
    expect(r.code).toBe(0);
    // the command's own output shares stdout; the exec is seen because the command started stopped
    expect(r.stdout.split('\n').sort().join('\n')).toBe(['', 'exec echo', 'from-the-command', 'writes 1'].join('\n'));
  });

  it('-c with a quoted word list execs the command itself: target() is the command from its exec, no sh -c between', () => {
    const r = runTapvmSync([
      '-c',
      `/bin/echo 'quoted words'`,
      '-e',
      `probe kernel.trace("sched:sched_process_exec") { if (pid() == target()) printf("exec %s\\n", execname()) }
       probe syscall.write { if (pid() == target()) printf("write %s\\n", execname()) }`,
    ]);
    expect(r.stderr).toBe('');
    // under sh -c, target() was the shell ("exec sh"), which ran echo as its child
    expect(r.stdout.split('\n').sort().join('\n')).toBe(['', 'exec echo', 'quoted words', 'write echo'].join('\n'));
    expect(r.code).toBe(0);
  });

  it("-c with an unmatched quote: stap's wordexp error, nothing runs", () => {
    const r = runTapvmSync(['-c', `python3 -c 'x`, '-e', 'probe begin { printf("began\\n") }']);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/wordexp: syntax error \(unmatched quotes\?\) in -c COMMAND\n$/);
    expect(r.code).toBe(1);
  });

  it('-c with a script that ends in begin never runs the command', () => {
    const marker = path.join(os.tmpdir(), `tapvm-c-${process.pid}`);
    fs.rmSync(marker, { force: true });
    const r = runTapvmSync(['-c', `touch ${marker}`, '-e', 'probe begin { println(target() > 0); exit() }']);
    expect(r.stdout).toBe('1\n');
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('-x sets target(); -T ends the session after the given seconds, running end probes', () => {
    expect(runTapvmSync(['-x', String(process.pid), '-e', 'probe begin { printf("%d\\n", target()); exit() }']).stdout).toBe(`${process.pid}\n`);
    const t0 = Date.now();
    const r = runTapvmSync(['-T', '0.4', '-e', 'global n; probe timer.ms(50) { n++ } probe end { printf("%d\\n", n >= 3) }']);
    expect(r.stdout).toBe('1\n');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
    expect(runTapvmSync(['-x', 'abc', '-e', 'probe begin {}']).stderr).toContain("invalid -x 'abc'");
  });

  it('-G sets globals before begin, typed like the global; a bad one is refused in one line', () => {
    const script = 'global n = 1, s = "x"; probe begin { printf("%d %s\\n", n + 1, s); exit() }';
    expect(runTapvmSync(['-G', 'n=41', '-G', 's=hello world', '-e', script]).stdout).toBe('42 hello world\n');
    expect(runTapvmSync(['-G', 'n=-0x10', '-e', script]).stdout).toBe('-15 x\n');
    const bad = runTapvmSync(['-G', 'n=abc', '-e', script]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe("tapvm: -G n: 'abc' is not a number, and 'n' is a long\n");
    expect(runTapvmSync(['-G', 'nope=1', '-e', script]).stderr).toBe("tapvm: -G nope: the script has no scalar global 'nope'\n");
  });

  it('--sessions lists a running session with its pid, and forgets it once it is gone', async () => {
    const run = runTapvm(['-e', 'probe syscall.getppid { } probe timer.s(30) { exit() }']);
    await run.armed;
    const listed = runTapvmSync(['--sessions']).stdout;
    expect(listed.split('\n')[0]).toBe('SLOT  ID       STATE    TARGET   COMMAND');
    expect(listed).toMatch(new RegExp(`\\n\\d+ +${run.proc.pid} +running +- +`));
    run.proc.kill('SIGKILL');
    await run.done;
    expect(runTapvmSync(['--sessions']).stdout).not.toMatch(new RegExp(` ${run.proc.pid} `));
  });

  it('runs timer.profile and perf.sw events in the kernel, per CPU; no PMU is one clear sentence', () => {
    // an idle CPU does not tick (NOHZ), so only the total is certain: 400 ms at HZ=250
    const r = runTapvmSync([
      '-e',
      `global c, p
       probe timer.profile { c[cpu()]++ }
       probe perf.sw.cpu_clock.sample(1000000) { if (pp() == "perf.sw.cpu_clock.sample(1000000)") p++ }
       probe timer.ms(400) { t = 0; foreach (k in c) { t += c[k]; if (k < 0 || k >= ${require('os').cpus().length}) println("bad cpu") }
                             printf("ticks>50:%d perf>100:%d\\n", t > 50, p > 100); exit() }`,
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('ticks>50:1 perf>100:1\n');
    const hw = runTapvmSync(['-e', 'probe perf.hw.cpu_cycles { }']);
    expect(hw.code).toBe(1);
    expect(hw.stderr).toMatch(/^ERROR: probe perf\.hw\.cpu_cycles: this machine has no such perf event \(no hardware PMU\?\): .*\n$/);
  });

  it('says in one sentence why kernel.function cannot attach, and skips it when optional', () => {
    const r = runTapvmSync(['-e', 'probe kernel.function("vfs_read") { }']);
    expect(r.code).toBe(1);
    // it compiles (BTF gives the function); arming it is what this kernel cannot do
    expect(r.stderr).toBe(
      'ERROR: cannot attach kernel.function("vfs_read"): this kernel has no kprobes (no kprobe_events in tracefs) and tapvm has no fentry attachment yet; only kernel.trace("system:event") and syscall probes are available\n',
    );
    expect(runTapvmSync(['-e', 'probe kernel.function("vfs_read")?, begin { println("ok"); exit() }']).stdout).toBe('ok\n');
  });

  it('-o writes the output to a file', () => {
    const out = path.join(os.tmpdir(), `tapvm-o-${process.pid}`);
    const r = runTapvmSync(['-o', out, '-e', 'probe begin { println("to file") }']);
    expect(r.code).toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toBe('to file\n');
  });

  it('-v says whether the interpreter was loaded or reused (warm start verifies nothing)', () => {
    const r = spawnSync(process.execPath, [require.resolve('../../bin/tapvm'), '-v', '-e', 'probe begin { exit() }'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/Pass 4: (reused the pinned interpreter .* no program loaded or verified|loaded and verified the interpreter)/);
    const again = spawnSync(process.execPath, [require.resolve('../../bin/tapvm'), '-v', '-e', 'probe begin { exit() }'], { encoding: 'utf8' });
    expect(again.stderr).toMatch(/Pass 4: reused the pinned interpreter/);
  });
});
