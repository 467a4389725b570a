// Context functions of user-space probes (stap's dwarfless tapset, x86_64): function
// arguments by number, registers by name, the return value and the probed function's name.
import type * as A from '../parse/ast';
import type { Builtin } from './builtins';

/** x86_64 struct pt_regs byte offsets by stap's register names (64-bit names and aliases). */
const PT_REGS: Record<string, number> = {
  r15: 0, r14: 8, r13: 16, r12: 24, rbp: 32, bp: 32, rbx: 40, bx: 40, r11: 48, r10: 56, r9: 64, r8: 72,
  rax: 80, ax: 80, rcx: 88, cx: 88, rdx: 96, dx: 96, rsi: 104, si: 104, rdi: 112, di: 112,
  orig_rax: 120, orig_ax: 120, rip: 128, ip: 128, cs: 136, eflags: 144, flags: 144, rsp: 152, sp: 152, ss: 160,
};
/** 32-bit names read the low half of the 64-bit register. */
const PT_REGS32: Record<string, number> = { eax: 80, ebx: 40, ecx: 88, edx: 96, esi: 104, edi: 112, ebp: 32, esp: 152, eip: 128 };

const SIGNED = 0x80;

/** The register's pt_regs offset and TPLD width|signed, or undefined for an unknown name. */
export function registerOperand(name: string, signed: boolean): { offset: number; wb: number } | undefined {
  if (PT_REGS[name] !== undefined) return { offset: PT_REGS[name], wb: 8 | (signed ? SIGNED : 0) };
  if (PT_REGS32[name] !== undefined) return { offset: PT_REGS32[name], wb: 4 | (signed ? SIGNED : 0) };
  return undefined;
}

/** register("rdi") takes its name as a literal: it becomes an offset at compile time. */
function registerName(args: A.Expr[]): string | undefined {
  return args[0]?.kind === 'string' ? args[0].value : undefined;
}

const checkRegister = (args: A.Expr[]): string | undefined => {
  const name = registerName(args);
  if (name === undefined) return 'register() takes a literal register name, e.g. register("rdi")';
  if (!registerOperand(name, true)) return `unknown register '${name}' (x86_64: ${[...Object.keys(PT_REGS), ...Object.keys(PT_REGS32)].join(' ')})`;
  return undefined;
};

const arg = (name: string, width: 4 | 8, signed: boolean): Builtin => ({
  name,
  params: ['long'],
  ret: 'long',
  only: 'kernel',
  family: 'uprobe',
  emit: (e, [n]) => e.uarg(n, width | (signed ? SIGNED : 0)),
});

const register = (name: string, signed: boolean): Builtin => ({
  name,
  params: ['string'],
  ret: 'long',
  only: 'kernel',
  family: 'uprobe',
  check: checkRegister,
  emit: (e, _args, exprs) => {
    const r = registerOperand(registerName(exprs)!, signed)!;
    return e.regLoad(r.offset, r.wb);
  },
});

export const UPROBE_BUILTINS: Builtin[] = [
  arg('int_arg', 4, true),
  arg('uint_arg', 4, false),
  arg('long_arg', 8, true),
  arg('ulong_arg', 8, false),
  arg('longlong_arg', 8, true),
  arg('ulonglong_arg', 8, false),
  arg('pointer_arg', 8, false),
  arg('s32_arg', 4, true),
  arg('u32_arg', 4, false),
  arg('s64_arg', 8, true),
  arg('u64_arg', 8, false),
  register('register', true),
  register('u_register', false),
  { name: 'returnval', params: [], ret: 'long', only: 'kernel', family: 'uprobe', emit: (e) => e.regLoad(PT_REGS.rax, 8 | SIGNED) },
  { name: 'probefunc', params: [], ret: 'string', only: 'kernel', emit: (e) => e.probeFunc() },
  { name: 'ppfunc', params: [], ret: 'string', only: 'kernel', emit: (e) => e.probeFunc() },
];
