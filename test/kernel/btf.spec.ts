// BTF in kernel probes: @cast(task_current(), "task_struct") chains and `$ptr->field` of a
// tracepoint's pointer field, compared with what the test knows about its own trigger.
import { describe, it, expect, beforeAll } from 'vitest';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { kernelTestsPossible, runTapvm, runTapvmSync, startTrigger, buildTrigger } from './helpers';

const can = kernelTestsPossible();
if (!can.ok && process.env.CI) throw new Error(`kernel tests cannot run in CI: ${can.why}`);
const d = can.ok ? describe : describe.skip;

d('BTF types in kernel probes', () => {
  beforeAll(() => {
    buildTrigger();
  });

  it('@cast(task_current(), "task_struct"): tgid, comm through kernel_string, pointers, &member, bitfields', async () => {
    const t = await startTrigger('getppid', '1');
    const comm = fs.readFileSync(`/proc/${t.pid}/comm`, 'latin1').trim();
    const run = runTapvm([
      '-e',
      `probe syscall.getppid { if (pid() != ${t.pid}) next
         tc = task_current()
         printf("tgid %d\\n", @cast(tc, "task_struct")->tgid == pid())
         printf("comm %d %s\\n", kernel_string(@cast(tc, "struct task_struct", "kernel")->comm) == execname(), execname())
         printf("parent %d\\n", @cast(tc, "task_struct")->real_parent->tgid == ppid())
         printf("addr %d\\n", kernel_int(&@cast(tc, "task_struct")->pid) == tid())
         printf("char %d\\n", @cast(tc, "task_struct")->comm[0] == kernel_char(@cast(tc, "task_struct")->comm))
         printf("bits %d\\n", @cast(tc, "task_struct")->in_execve)
         exit() }`,
    ]);
    await run.armed;
    t.go();
    const r = await run.done;
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(['tgid 1', `comm 1 ${comm}`, 'parent 1', 'addr 1', 'char 1', 'bits 0', ''].join('\n'));
  }, 30_000);

  it('@var("init_task")->pid and ->comm, &@var("init_task"), @var("jiffies") in a kernel probe; stap\'s error for an unknown global', async () => {
    const t = await startTrigger('getppid', '1');
    const run = runTapvm([
      '-e',
      `probe syscall.getppid { if (pid() != ${t.pid}) next
         printf("init %d %s %d\\n", @var("init_task")->pid, kernel_string(@var("init_task@init/init_task.c")->comm), @var("init_task", "kernel")->real_parent == &@var("init_task"))
         j = @var("jiffies")
         printf("jiffies %d\\n", j > 0 && j <= jiffies())
         exit() }`,
    ]);
    await run.armed;
    t.go();
    const r = await run.done;
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('init 0 swapper/0 1\njiffies 1\n');
    const bad = runTapvmSync(['-p2', '-e', 'probe syscall.getppid { println(@var("no_such_global_xyz")) }']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^semantic error: unable to find global 'no_such_global_xyz' in kernel/);
  }, 30_000);

  it('tapset vfs.*: compiles over kernel.function with BTF parameters, fails at attach in one sentence, skipped with ?', () => {
    const p3 = runTapvmSync(['-p3', '-e', 'probe vfs.read { printf("%d %d %d\\n", dev, ino, bytes_to_read) }']);
    expect(p3.stderr).toBe('');
    expect(p3.stdout).toContain('probe kernel.function("vfs_read"):');
    expect(p3.stdout).toMatch(/KREAD/);
    const run = runTapvmSync(['-e', 'probe vfs.write.return { println(bytes_written) }']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^ERROR: cannot attach kernel\.function\("vfs_write"\)\.return: this kernel has no kprobes/);
    expect(runTapvmSync(['-e', 'probe vfs.read ?, begin { println("skipped"); exit() }']).stdout).toBe('skipped\n');
    expect(runTapvmSync(['-L', 'vfs.read']).stdout).toBe(
      'vfs.read argstr:string buf:long bytes_to_read:long dev:long file:long ino:long name:string pos:long $buf:char* $count:size_t $file:struct file* $pos:loff_t*\n',
    );
  }, 30_000);

  it('tapsets tcp.* and udp.*: stap variables from BTF parameters and socket fields (compile path)', () => {
    expect(runTapvmSync(['-L', 'tcp.sendmsg']).stdout).toBe('tcp.sendmsg family:long name:string size:long sock:long $msg:struct msghdr* $size:size_t $sk:struct sock*\n');
    const p3 = runTapvmSync(['-p3', '-e', 'probe udp.sendmsg { printf("%d %d %d %d\\n", family, sport, dport, size) }']);
    expect(p3.stderr).toBe('');
    // family, sport, dport: one kernel read each, in tcp.stp's helper functions
    expect(p3.stdout.match(/ KREAD /g)?.length).toBe(3);
    expect(runTapvmSync(['-e', 'probe tcp.disconnect ?, udp.recvmsg.return ?, begin { println("skipped"); exit() }']).stdout).toBe('skipped\n');
  }, 30_000);

  it("$cred->uid->val of capability:cap_capable's pointer field", async () => {
    // root opening a file it does not own, mode 000, needs CAP_DAC_OVERRIDE: cap_capable fires
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tapvm-btf-'));
    const file = path.join(dir, 'locked');
    fs.writeFileSync(file, 'x');
    fs.chownSync(file, 65534, 65534);
    fs.chmodSync(file, 0);
    try {
      const t = await startTrigger('open', file, '1');
      const run = runTapvm([
        '-e',
        `probe kernel.trace("capability:cap_capable") { if (pid() != ${t.pid}) next
           printf("uid %d euid %d cap %d\\n", $cred->uid->val, $cred->euid->val, $cap > 0)
           exit() }`,
      ]);
      await run.armed;
      t.go();
      const r = await run.done;
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('uid 0 euid 0 cap 1\n');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it("kernel.trace TP_PROTO arguments through a raw tracepoint: sched_switch's $next->comm, sched_process_exec's $p->pid; mixing with record fields is one error", async () => {
    const t = await startTrigger('getppid', '1');
    const comm = fs.readFileSync(`/proc/${t.pid}/comm`, 'latin1').trim();
    const run = runTapvm([
      '-e',
      `probe kernel.trace("sched:sched_switch") { if ($next->pid != ${t.pid}) next
         printf("next %s %d %d\\n", kernel_string($next->comm), $next->tgid == ${t.pid}, $prev->pid != $next->pid)
         exit() }`,
    ]);
    await run.armed;
    t.go();
    const r = await run.done;
    expect(r.stderr).not.toMatch(/error/);
    expect(r.stdout).toBe(`next ${comm} 1 1\n`);
    const exec = runTapvmSync(['-c', '/bin/true', '-e', 'probe kernel.trace("sched_process_exec") { if (pid() != target()) next; println(kernel_string($p->comm), " ", $p->pid == pid()); exit() }']);
    expect(exec.stderr).toBe('');
    expect(exec.stdout).toBe('true 1\n');
    const mixed = runTapvmSync(['-p2', '-e', 'probe kernel.trace("sched:sched_switch") { println($next->pid, $next_pid) }']);
    expect(mixed.code).toBe(1);
    expect(mixed.stderr).toMatch(/^semantic error: cannot use both \$next \(a TP_PROTO argument, read through a raw tracepoint\) and \$next_pid \(a field of the tracepoint's record\) in one probe of kernel.trace\("sched:sched_switch"\)/);
  }, 60_000);
});
