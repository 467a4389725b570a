// -l / -L: probe points resolved as `probe P {}` would be, listed as stap lists them (sorted,
// one per line, aliases under their own names); no kernel attachment. Reads this host's tracefs.
import { spawnSync } from 'child_process';
import * as path from 'path';
import { describe, it, expect } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin/tapvm');

function tapvm(...argv: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...argv], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('tapvm -l', () => {
  it('lists each system call a syscall wildcard matches', () => {
    expect(tapvm('-l', 'syscall.getpp*')).toEqual({ code: 0, stdout: 'syscall.getppid\n', stderr: '' });
  });

  it('lists never and begin as stap does (a never probe is resolved, only never armed)', () => {
    expect(tapvm('-l', 'never')).toEqual({ code: 0, stdout: 'never\n', stderr: '' });
    expect(tapvm('-l', 'begin')).toEqual({ code: 0, stdout: 'begin\n', stderr: '' });
    expect(tapvm('-l', 'never', '-l', 'begin(5)')).toEqual({ code: 0, stdout: 'begin(5)\nnever\n', stderr: '' });
  });

  it('lists matching tracepoints, sorted', () => {
    const r = tapvm('-l', 'kernel.trace("sched:sched_process_e*")');
    expect(r).toEqual({ code: 0, stdout: 'kernel.trace("sched:sched_process_exec")\nkernel.trace("sched:sched_process_exit")\n', stderr: '' });
  });

  it('lists tapset aliases under their alias names', () => {
    const r = tapvm('-l', 'kprocess.*');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('kprocess.create\nkprocess.exec_complete\nkprocess.exit\n');
  });

  it('lists a timer as written, and several patterns together, deduplicated', () => {
    expect(tapvm('-l', 'timer.ms(100)')).toEqual({ code: 0, stdout: 'timer.ms(100)\n', stderr: '' });
    expect(tapvm('-l', 'syscall.getppid', '-l', 'syscall.getpp*').stdout).toBe('syscall.getppid\n');
  });

  it('fails as pass 2 does when nothing matches, printing no points', () => {
    const r = tapvm('-l', 'syscall.nosuchcall*');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('semantic error: ');
    expect(r.stderr).toContain('Pass 2: analysis failed.  [man error::pass2]\n');
  });
});

describe('tapvm -L', () => {
  it("prints a tracepoint's fields with their format-file types, and its TP_PROTO arguments with their BTF types", () => {
    const r = tapvm('-L', 'kernel.trace("sched:sched_process_exec")');
    expect(r).toEqual({
      code: 0,
      stdout: 'kernel.trace("sched:sched_process_exec") $bprm:struct linux_binprm* $filename:char[] $old_pid:pid_t $p:struct task_struct* $pid:pid_t\n',
      stderr: '',
    });
  });

  it("spells pointer, const and array types as stap's dwarf_type_name", () => {
    const r = tapvm('-L', 'kernel.trace("capability:cap_capable")');
    expect(r.stdout).toBe(
      'kernel.trace("capability:cap_capable") $cap:int $capable_ns:struct user_namespace const* $cred:struct cred const* $ret:int $target_ns:struct user_namespace*\n',
    );
    expect(tapvm('-L', 'kernel.trace("sched:sched_switch")').stdout).toContain(' $next_comm:char[] ');
  }, 30_000);

  it('lists kernel functions matching a wildcard with their BTF parameter types', () => {
    const r = tapvm('-L', 'kernel.function("vfs_rea*")');
    expect(r.stdout.split('\n')).toContain('kernel.function("vfs_read") $buf:char* $count:size_t $file:struct file* $pos:loff_t*');
    expect(tapvm('-L', 'kernel.function("vfs_read").return').stdout).toBe('kernel.function("vfs_read").return $return:ssize_t\n');
  }, 30_000);

  it("prints an alias's locals, then the $variables underneath", () => {
    const r = tapvm('-L', 'kprocess.exec_complete');
    expect(r.stdout).toBe('kprocess.exec_complete filename:string pid:long $bprm:struct linux_binprm* $filename:char[] $old_pid:pid_t $p:struct task_struct* $pid:pid_t\n');
  });

  it('prints syscall tapset variables and $return on a return', () => {
    const r = tapvm('-L', 'syscall.getppid.return');
    expect(r.stdout).toBe('syscall.getppid.return errno:long name:string retstr:string syscall_nr:long $return:long\n');
  });
});
