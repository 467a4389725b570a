// User-space probes end to end: a fixture built by the test calls known functions with known
// arguments; probes on it (and on libc) print what they see, filtered on the fixture's pid.
import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { kernelTestsPossible, runTapvm, runTapvmSync, startTrigger, buildFixture, fixturePath } from './helpers';
import { readElf } from '../../src/kernel/elf';

const can = kernelTestsPossible();
if (!can.ok && process.env.CI) throw new Error(`kernel tests cannot run in CI: ${can.why}`);
const d = can.ok ? describe : describe.skip;

const SRC = path.join(__dirname, 'fixtures', 'uprobe-target.c');
const BIN = fixturePath('tapvm-test-uprobe-target');
const LIBC = '/usr/lib/x86_64-linux-gnu/libc.so.6';
const NAMES = ['alpha', 'beta', 'gamma'];

/** tapvm -c 'BIN N' -e SCRIPT: the session ends with the fixture */
async function withFixture(n: number, script: string) {
  return runTapvm(['-c', `${BIN} ${n}`, '-e', script]).done;
}

// each test runs one to three sessions and a fixture: give a loaded machine time
d('uprobes', { timeout: 20_000 }, () => {
  beforeAll(() => {
    buildFixture('tapvm-test-uprobe-target', 'uprobe-target.c');
  });

  it('sees each call of a function with its arguments, string and return value', async () => {
    const r = await withFixture(
      4,
      `probe process("${BIN}").function("tapvm_target") { if (pid() == target()) printf("%s %s(%d, %s) %d %u\\n", pp(), probefunc(), int_arg(1), user_string(pointer_arg(2)), register("rdi"), u32_arg(1)) }
       probe process("${BIN}").function("tapvm_target").return { if (pid() == target()) printf("%s = %d %d\\n", ppfunc(), $return, returnval()) }`,
    );
    expect(r.stderr).toBe('');
    const want = [1, 2, 3, 4].map((i) => {
      const s = NAMES[i % 3];
      return `process("${BIN}").function("tapvm_target") tapvm_target(${i}, ${s}) ${i} ${i}\ntapvm_target = ${i * 100 + s.length} ${i * 100 + s.length}\n`;
    });
    expect(r.stdout).toBe(want.join(''));
    expect(r.code).toBe(0);
  });

  it('@entry(expr) in a function .return probe: the arguments as they were at the call', async () => {
    const r = await withFixture(
      3,
      `probe process("${BIN}").function("tapvm_target").return { if (pid() == target()) printf("%d(%s) = %d\\n", @entry(int_arg(1)), @entry(user_string(pointer_arg(2))), $return) }`,
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe([1, 2, 3].map((i) => `${i}(${NAMES[i % 3]}) = ${i * 100 + NAMES[i % 3].length}\n`).join(''));
    expect(r.code).toBe(0);
  });

  it('reads arguments 7 and 8 from the user stack, and signed and unsigned widths', async () => {
    const r = await withFixture(
      1,
      `probe process("${BIN}").function("tapvm_eight") { for (i = 1; i <= 8; i++) printf("%d ", long_arg(i)); printf("%d %d\\n", s64_arg(8), ulong_arg(7)) }
       probe process("${BIN}").function("tapvm_eight").return { printf("%d\\n", $return) }`,
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('1 2 3 4 5 6 7 8 8 7\n' + `${1 + 2 + 3 + 4 + 5 + 6 + 7000 + 80000}\n`);
  });

  it('links the one uprobe program twice at one address: both probes fire (no EEXIST, no stubs)', async () => {
    const r = await withFixture(
      2,
      `global a, b; probe process("${BIN}").function("tapvm_tick") { if (pid() == target()) a++ }
       probe process("${BIN}").function("tapvm_tick") { if (pid() == target()) b += 10 }
       probe end { printf("%d %d\\n", a, b) }`,
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('2 20\n');
  });

  it('probes every function a wildcard matches, each with its own pp()', async () => {
    const r = await withFixture(
      3,
      `global n; probe process("${BIN}").function("tapvm_t*") { if (pid() == target()) n[pp()]++ }
       probe end { foreach (p+ in n) printf("%s %d\\n", p, n[p]) }`,
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`process("${BIN}").function("tapvm_target") 3\nprocess("${BIN}").function("tapvm_tick") 3\n`);
  });

  it('probes a libc function by path, counting the fixture\'s calls exactly', async () => {
    const r = await withFixture(
      7,
      `global n; probe process("${LIBC}").function("getpid") { if (pid() == target()) n++ }
       probe end { printf("%s %d\\n", pp(), n) }`,
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('end 7\n');
  });

  it('probes statement(ADDR) at the address of a symbol', async () => {
    const addr = readElf(BIN).functions.find((f) => f.name === 'tapvm_target')!.addr;
    const r = await withFixture(
      2,
      `probe process("${BIN}").statement(0x${addr.toString(16)}) { if (pid() == target()) printf("%s %s %d\\n", pp(), probefunc(), int_arg(1)) }`,
    );
    expect(r.stderr).toBe('');
    const pp = `process("${BIN}").statement(0x${addr.toString(16)})`;
    expect(r.stdout).toBe(`${pp} tapvm_target 1\n${pp} tapvm_target 2\n`);
  });

  it('process(PID) probes that process only, not another run of the same file', async () => {
    const a = spawn(BIN, ['5', 'wait'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((res) => a.on('exit', res));
    await new Promise<void>((res) => a.stdout!.once('data', () => res()));
    const run = runTapvm([
      '-e',
      `global n; probe process(${a.pid}).function("tapvm_target") { n++ }
       probe process(${a.pid}).function("tapvm_eight") { printf("%s %d\\n", pp(), n); exit() }`,
    ]);
    await run.armed;
    execFileSync(BIN, ['3']); // unfiltered: must not count
    a.kill('SIGUSR1');
    const r = await run.done;
    await exited;
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`process("${BIN}").function("tapvm_eight") 5\n`);
  });

  it('finds a bare program name through PATH', () => {
    const r = runTapvmSync(['-p2', '-e', 'probe process("ls").statement(0x0) {}']);
    // the name resolved to the real file: the error names its executable segments
    expect(r.stderr).toMatch(/^semantic error: while resolving probe point: identifier 'process'\n/);
    expect(r.stderr).toContain(`semantic error: no executable segment of ${fs.realpathSync('/usr/bin/ls')} holds address 0x0\n`);
  });

  it('says which file is missing, and that a symbol has no match, in stap\'s form', () => {
    const missing = runTapvmSync(['-e', 'probe process("/nonexistent/tapvm").function("main") {}']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      `semantic error: while resolving probe point: identifier 'process'
        at: <input>:1:7
     source: probe process("/nonexistent/tapvm").function("main") {}
                   ^
semantic error: cannot find executable '/nonexistent/tapvm'
Pass 2: analysis failed.  [man error::pass2]
`,
    );
    const nosym = runTapvmSync(['-e', `probe process("${BIN}").function("no_such_function*") {}`]);
    expect(nosym.code).toBe(1);
    expect(nosym.stderr).toContain("semantic error: while resolving probe point: identifier 'process'\n");
    expect(nosym.stderr).toContain('\nsemantic error: no match\n');
    expect(nosym.stderr).not.toMatch(/did you mean/);
  });

  it('refuses uprobe context functions elsewhere, and unknown registers, at compile time', () => {
    const r = runTapvmSync(['-e', 'probe syscall.getpid { print(int_arg(1)) }']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("semantic error: function 'int_arg' can only be used in uprobe probes");
    const reg = runTapvmSync(['-e', `probe process("${BIN}").function("main") { print(register("xmm0")) }`]);
    expect(reg.code).toBe(1);
    expect(reg.stderr).toContain("semantic error: unknown register 'xmm0'");
  });

  it('process("PATH").begin and .end fire in a process that runs that file, and only there', async () => {
    const t = await startTrigger('exec'); // the trigger execs /bin/true on SIGUSR1
    const run = runTapvm([
      '-e',
      `probe process("/bin/true").begin { if (pid() == ${t.pid}) printf("%s %s\\n", pp(), execname()) }
       probe process("${BIN}").begin, process("${BIN}").end { if (pid() == ${t.pid}) printf("wrong file: %s\\n", pp()) }
       probe process.begin { if (pid() == ${t.pid}) printf("%s %s\\n", pp(), execname()) }
       probe process(${t.pid}).end { printf("%s %s\\n", pp(), execname()) }
       probe process("true").end { if (pid() == ${t.pid}) { printf("%s %s\\n", pp(), execname()); exit() } }`,
    ]);
    await run.armed;
    t.go();
    const r = await run.done;
    expect(r.stderr).toBe('');
    const lines = r.stdout.trimEnd().split('\n');
    // begin probes run in the new program; both begins before both ends
    expect(lines.slice(0, 2).sort()).toEqual(['process("/usr/bin/true").begin true', 'process.begin true'].sort());
    expect(lines.slice(2).sort()).toEqual([`process(${t.pid}).end true`, 'process("/usr/bin/true").end true'].sort());
  });

  it('@var reads a global of the executable, PIE and non-PIE, in its probes and in others', async () => {
    const nopie = buildFixture('tapvm-test-elf-nopie', 'uprobe-target.c', ['-O2', '-no-pie']);
    for (const bin of [BIN, nopie]) {
      const r = await runTapvm([
        '-c',
        `${bin} 2`,
        '-e',
        `probe process("${bin}").function("tapvm_target") { if (pid() == target()) printf("%d %d %d %d %d\\n", @var("tapvm_counter"), @var("tapvm_counter", "${bin}"), @var("tapvm_small"), @var("tapvm_big@uprobe-target.c"), &@var("tapvm_counter") != 0) }
         probe process("${bin}").function("tapvm_target").return { if (pid() == target()) printf("ret %d\\n", @var("tapvm_counter")) }
         probe syscall.getpid { if (pid() == target()) printf("getpid %d\\n", @var("tapvm_counter", "${bin}")) }
         probe process("${bin}").begin { if (pid() == target()) printf("begin %d\\n", @var("tapvm_small")) }`,
      ]).done;
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(`begin -3\n` + [1001, 1002].map((c) => `${c} ${c} -3 -5000000000 1\nret ${c}\ngetpid ${c}\n`).join(''));
    }
    // another executable's global, in this one's process: not there, 0
    const other = await withFixture(1, `probe process("${BIN}").function("tapvm_target") { if (pid() == target()) printf("%d %d\\n", @var("tapvm_small", "${nopie}"), @var("tapvm_small")) }`);
    expect(other.stderr).toBe('');
    expect(other.stdout).toBe('0 -3\n');
  });

  it('refuses user-space @var it cannot read, in stap\'s words with the reason', () => {
    const err = (script: string) => {
      const r = runTapvmSync(['-p2', '-e', script]);
      expect(r.code).toBe(1);
      return r.stderr.split('\n')[0];
    };
    const fn = `process("${BIN}").function("tapvm_target")`;
    expect(err(`probe ${fn} { println(@var("no_such_global")) }`)).toBe(`semantic error: unable to find global 'no_such_global' in ${BIN}`);
    expect(err(`probe ${fn} { println(@var("tapvm_buf")) }`)).toBe(
      `semantic error: @var("tapvm_buf") in ${BIN} is a 24-byte object: without debug information (DWARF) tapvm reads only 1, 2, 4 or 8-byte globals of executables, as integers`,
    );
    expect(err(`probe ${fn} { println(@var("tapvm_big")->x) }`)).toBe(
      `semantic error: unable to find global 'tapvm_big' in ${BIN}: tapvm has no debug information (DWARF) for user-space variables, so no ->member or [index] of them`,
    );
    expect(err(`probe process("${LIBC}").function("getpid") { println(@var("environ")) }`)).toBe(
      `semantic error: unable to find global 'environ' in ${LIBC}: tapvm reads globals of executables, not of shared libraries`,
    );
    expect(err(`probe syscall.getpid { println(@var("x", "/nonexistent/tapvm")) }`)).toBe(`semantic error: unable to find global 'x' in /nonexistent/tapvm: no such file`);
    expect(err(`probe begin { println(@var("tapvm_small", "${BIN}")) }`)).toBe(`semantic error: @var("tapvm_small") reads a process's memory, which only kernel probes can do`);
  });

  it('process.end waits for the last thread of the process (sched_process_exit group_dead)', () => {
    const r = runTapvmSync(['-p3', '-e', 'probe process.end { }']);
    expect(r.code).toBe(0);
    // the guard reads group_dead (offset 32, 1 byte) and skips the handler unless it is 1
    expect(r.stdout).toMatch(/TPLD +r\d+, \+32:1\n.*MOVI +r\d+, 1\n.*(EQ|JNE)/s);
  });

  it('a module refuses to attach a uprobe to a file rebuilt since it was compiled (build-id)', async () => {
    const bin = `${fixturePath('tapvm-test-uprobe-module-target')}-${process.pid}`;
    const mod = `/tmp/tapvm_test_uprobe_${process.pid}`;
    execFileSync('gcc', ['-O2', '-o', bin, SRC]);
    const made = runTapvmSync(['-p4', '-m', mod, '-e', `probe process("${bin}").function("tapvm_target") { if (pid() == target()) printf("%d\\n", int_arg(1)) }`]);
    expect(made.stderr).toBe('');
    try {
      const ok = await runTapvm(['run', `${mod}.tvm`, '-c', `${bin} 2`], { verbose: false }).done;
      expect(ok.stderr).toBe('');
      expect(ok.stdout).toBe('1\n2\n');
      execFileSync('gcc', ['-O1', '-o', bin, SRC]);
      const now = readElf(bin).buildId;
      const bad = await runTapvm(['run', `${mod}.tvm`, '-c', `${bin} 2`], { verbose: false }).done;
      expect(bad.code).toBe(1);
      expect(bad.stdout).toBe('');
      expect(bad.stderr).toMatch(
        new RegExp(`^ERROR: probe process\\("${bin}"\\)\\.function\\("tapvm_target"\\): ${bin} is not the file the script was compiled against \\(build-id ${now}, expected [0-9a-f]+\\)\\n$`),
      );
    } finally {
      fs.rmSync(`${mod}.tvm`, { force: true });
      fs.rmSync(bin, { force: true });
    }
  }, 30_000); // two compilations and three sessions
});
