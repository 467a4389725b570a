// Context functions on the kernel: credentials, tasks, clocks and memory reads, checked
// against what the test knows about its own trigger process (its pid, its parent, its comm)
// and about the running kernel (task_struct field offsets from BTF).
import { describe, it, expect, beforeAll } from 'vitest';
import * as fs from 'fs';
import { execFileSync } from 'child_process';
import { kernelTestsPossible, runTapvm, runTapvmSync, startTrigger, buildTrigger } from './helpers';

const can = kernelTestsPossible();
if (!can.ok && process.env.CI) throw new Error(`kernel tests cannot run in CI: ${can.why}`);
const d = can.ok ? describe : describe.skip;

/** Byte offset of a task_struct member, from the kernel's BTF through bpftool. */
function taskOffset(member: string): number {
  const raw = execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'raw'], { encoding: 'latin1', maxBuffer: 1 << 28 });
  const start = raw.indexOf("STRUCT 'task_struct' size");
  const m = new RegExp(`\\n\\t'${member}' type_id=\\d+ bits_offset=(\\d+)\\n`).exec(raw.slice(start, start + 200_000));
  if (!m) throw new Error(`no task_struct.${member} in BTF`);
  return Number(m[1]) / 8;
}

d('context functions in a kernel probe', () => {
  beforeAll(() => {
    buildTrigger();
  });

  it('euid/egid, task_* of task_current(), pexecname, clocks and kernel/user memory reads', async () => {
    const comm = taskOffset('comm');
    const pidOff = taskOffset('pid');
    const t = await startTrigger('getppid', '1');
    const parentComm = fs.readFileSync(`/proc/${process.pid}/comm`, 'latin1').trim();
    const run = runTapvm([
      '-e',
      `probe syscall.getppid { if (pid() != ${t.pid}) next
         printf("ids %d %d %d %d\\n", euid(), egid(), uid(), gid())
         tc = task_current()
         printf("task %d %d %d\\n", task_pid(tc) == tid(), task_tgid(tc) == pid(), task_tgid(task_parent(tc)) == ppid())
         printf("pexecname %s\\n", pexecname())
         printf("kstr %d [%s] %d %d\\n", kernel_string(tc + ${comm}) == execname(), kernel_string_n(tc + ${comm}, 3), kernel_int(tc + ${pidOff}) == tid(), kernel_char(tc + ${comm}))
         printf("klong %d\\n", (kernel_long(tc + ${pidOff}) & 0xffffffff) == tid())
         try { kernel_long(0) } catch (m) { printf("fault %s\\n", m) }
         try { kernel_string(8) } catch (m) { printf("fault %s\\n", m) }
         printf("user %d %d\\n", user_long(0), user_char(8))
         try { user_string_n(0, 4) } catch (m) { printf("ufault %s\\n", m) }
         a = local_clock_ns(); b = local_clock_ns(); j = jiffies(); c = get_cycles()
         printf("clocks %d %d %d %d\\n", b >= a, a > 0, j > 0, c > 0)
         printf("cpu_clock %d\\n", cpu_clock_us(cpu()) >= a / 1000)
         printf("errno %s %s %s\\n", errno_str(2), errno_str(-13), errno_str(4000))
         printf("ctime %s|%s\\n", ctime(0), ctime(1700000000))
         exit() }`,
    ]);
    await run.armed;
    t.go();
    const r = await run.done;
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      [
        'ids 0 0 0 0',
        'task 1 1 1',
        `pexecname ${parentComm.slice(0, 15)}`,
        'kstr 1 [tap] 1 116',
        'klong 1',
        'fault kernel read fault at 0x0000000000000000 (addr)',
        'fault kernel string copy fault at 0x0000000000000008 [man error::fault]',
        'user 0 0',
        'ufault user string copy fault',
        'clocks 1 1 1 1',
        'cpu_clock 1',
        'errno ENOENT EACCES E#4000',
        'ctime Thu Jan  1 00:00:00 1970|Tue Nov 14 22:13:20 2023',
        '',
      ].join('\n'),
    );
    expect(r.code).toBe(0);
  }, 30_000);

  it('kernel-only context functions are refused in begin at compile time', () => {
    const r = runTapvmSync(['-e', 'probe begin { println(kernel_long(0)) }']);
    expect(r.stderr).toContain("function 'kernel_long' can only be used in kernel probes");
    expect(r.code).toBe(1);
  });
});
