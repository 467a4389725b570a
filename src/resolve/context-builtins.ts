// stap's context tapset beyond the core set: credentials, the parent's name, clocks, tasks,
// kernel and user memory reads, errno_str() and ctime(). Memory and task reads are kernel
// only (user space cannot read kernel memory); the rest run in both interpreters.
import { CTX, Op } from '../isa/opcodes';
import type { Builtin, BuiltinEmitter } from './builtins';

const SIGNED = 0x80;
/** bpf_get_stack's BPF_F_USER_STACK, UBTSTR's immediate */
const USER_STACK = 256;

const ctxLong = (name: string, id: number, only?: 'kernel'): Builtin => ({ name, params: [], ret: 'long', only, emit: (e) => e.ctx(id) });

/** a clock in ns divided down: local_clock_us() and friends */
const clock = (name: string, div: bigint, params: ('long')[] = []): Builtin => ({
  name,
  params,
  ret: 'long',
  emit: (e) => (div === 1n ? e.ctx(CTX.LOCAL_CLOCK_NS) : e.divConst(e.ctx(CTX.LOCAL_CLOCK_NS), div)),
});

const read = (name: string, width: 1 | 2 | 4 | 8, signed: boolean, user: boolean): Builtin => ({
  name,
  params: ['long'],
  ret: 'long',
  only: 'kernel',
  emit: (e, [addr]) => e.insn(user ? Op.UREAD : Op.KREAD, 'long', addr, width | (signed ? SIGNED : 0), 0),
});

const strRead = (name: string, user: boolean, withN: boolean): Builtin => ({
  name,
  params: withN ? ['long', 'long'] : ['long'],
  ret: 'string',
  only: 'kernel',
  emit: (e: BuiltinEmitter, [addr, n]) => e.insn(user ? Op.USTRN : Op.KSTR, 'string', addr, withN ? n : e.constant(127), 0),
});

const task = (name: string, field: number): Builtin => ({
  name,
  params: ['long'],
  ret: 'long',
  only: 'kernel',
  emit: (e, [t]) => e.insn(Op.TASKF, 'long', t, 0, field),
});

export const CONTEXT_BUILTINS: Builtin[] = [
  ctxLong('euid', CTX.EUID),
  ctxLong('egid', CTX.EGID),
  ctxLong('task_current', CTX.TASK_CURRENT, 'kernel'),
  ctxLong('jiffies', CTX.JIFFIES),
  { name: 'pexecname', params: [], ret: 'string', emit: (e) => e.ctxString(CTX.PEXECNAME) },
  clock('local_clock_ns', 1n),
  clock('local_clock_us', 1_000n),
  clock('local_clock_ms', 1_000_000n),
  clock('local_clock_s', 1_000_000_000n),
  // one clock for every CPU here: bpf_ktime_get_ns() is CLOCK_MONOTONIC, comparable across CPUs
  clock('cpu_clock_ns', 1n, ['long']),
  clock('cpu_clock_us', 1_000n, ['long']),
  clock('cpu_clock_ms', 1_000_000n, ['long']),
  clock('cpu_clock_s', 1_000_000_000n, ['long']),
  // BPF cannot read the TSC: nanoseconds stand in for cycles (monotonic, finer than a jiffy)
  clock('get_cycles', 1n),
  task('task_pid', 0),
  task('task_tgid', 1),
  task('task_parent', 2),
  read('kernel_long', 8, true, false),
  read('kernel_int', 4, true, false),
  read('kernel_short', 2, true, false),
  read('kernel_char', 1, true, false),
  read('kernel_pointer', 8, false, false),
  read('user_long', 8, true, true),
  read('user_int', 4, true, true),
  read('user_short', 2, true, true),
  read('user_ushort', 2, false, true),
  read('user_char', 1, true, true),
  read('user_int8', 1, true, true),
  read('user_uint8', 1, false, true),
  read('user_int16', 2, true, true),
  read('user_uint16', 2, false, true),
  read('user_int32', 4, true, true),
  read('user_uint32', 4, false, true),
  read('user_int64', 8, true, true),
  read('user_uint64', 8, false, true),
  strRead('kernel_string', false, false),
  strRead('kernel_string_n', false, true),
  strRead('user_string_n', true, true),
  { name: 'print_backtrace', params: [], ret: 'void', only: 'kernel', emit: (e) => (e.insn(Op.KSTACK, 'long', 0, 0, 0), -1) },
  { name: 'backtrace', params: [], ret: 'string', only: 'kernel', emit: (e) => e.insn(Op.KBTSTR, 'string', e.constant(-1), 0, 0) },
  // user stacks: bpf_get_stack(BPF_F_USER_STACK) in the kernel; names come from the process's
  // maps and ELF files in user space (src/kernel/usyms.ts), so the named forms are encoded
  // strings that output expands (vm/stack.h usym_encode)
  { name: 'print_ubacktrace', params: [], ret: 'void', only: 'kernel', emit: (e) => (e.insn(Op.USTACK, 'long', 0, 0, 0), -1) },
  { name: 'print_ubacktrace_brief', params: [], ret: 'void', only: 'kernel', emit: (e) => (e.insn(Op.USTACK, 'long', 0, 0, 1), -1) },
  { name: 'ubacktrace', params: [], ret: 'string', only: 'kernel', emit: (e) => e.insn(Op.UBTSTR, 'string', e.constant(-1), 0, USER_STACK) },
  { name: 'ucallers', params: ['long'], ret: 'string', only: 'kernel', emit: (e, [n]) => e.insn(Op.UBTSTR, 'string', n, 0, USER_STACK) },
  { name: 'uaddr', params: [], ret: 'long', only: 'kernel', emit: (e) => e.ctx(CTX.UADDR) },
  { name: 'sprint_ubacktrace', params: [], ret: 'string', only: 'kernel', emit: (e) => (e.encodedText('sprint_ubacktrace'), e.insn(Op.USYMENC, 'string', 0, 0, 2)) },
  { name: 'usymname', params: ['long'], ret: 'string', only: 'kernel', emit: (e, [a]) => (e.encodedText('usymname'), e.insn(Op.USYMENC, 'string', a, 0, 0)) },
  { name: 'usymdata', params: ['long'], ret: 'string', only: 'kernel', emit: (e, [a]) => (e.encodedText('usymdata'), e.insn(Op.USYMENC, 'string', a, 0, 1)) },
  { name: 'symname', params: ['long'], ret: 'string', only: 'user', emit: (e, [a]) => e.insn(Op.SYMNAME, 'string', a, 0, 0) },
  { name: 'symdata', params: ['long'], ret: 'string', only: 'user', emit: (e, [a]) => e.insn(Op.SYMNAME, 'string', a, 0, 1) },
  { name: 'errno_str', params: ['long'], ret: 'string', emit: (e, [n]) => e.insn(Op.ERRNOSTR, 'string', n, 0, e.errnoTable()) },
  { name: 'ctime', params: ['long'], ret: 'string', emit: (e, [t]) => e.insn(Op.CTIME, 'string', t, 0, 0) },
  {
    name: 'ctime',
    params: [],
    ret: 'string',
    emit: (e) => e.insn(Op.CTIME, 'string', e.divConst(e.ctx(CTX.REALTIME_NS), 1_000_000_000n), 0, 0),
  },
];
