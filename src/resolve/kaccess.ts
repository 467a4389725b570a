// `@cast(p, "type"[, "module"])->path`, `@var("name")->path` and `$var->path`: the BTF access plan of one such
// expression (src/kernel/ktypes.ts), shared by the type checker (errors) and the code
// generator (KREAD chains). The value is always a long, as in stap.
import type * as A from '../parse/ast';
import type { ResolvedPoint } from '../probes/provider';
import { AccessError, ctypeToType, findMember, kernelBtf, kernelVar, lookupType, memberText, noteKernelVar, planAccess, stepsOf, type AccessPlan } from '../kernel/ktypes';
import { Kind } from '../kernel/btf';
import { noteKernelType } from '../kernel/facts';
import * as fs from 'fs';
import { ElfError } from '../kernel/elf';
import { elfOf, kernelDev, resolveExecutable } from '../probes/uprobe';

export interface KernelAccess {
  plan: AccessPlan;
  /** whether the plan reads kernel memory (kernel probes only) */
  reads: boolean;
}

/** @cast's plan, or stap's error text. */
export function castAccess(e: A.AtExpr): KernelAccess | string {
  const type = e.args[1]?.kind === 'string' ? e.args[1].value : '';
  const mod = e.args[2]?.kind === 'string' ? e.args[2].value : 'kernel';
  try {
    const btf = kernelBtf();
    // "kernel" or "kernel<linux/sched.h>": the header names where DWARF-less stap finds the type
    const start = /^kernel(<.*>)?$/.test(mod) ? lookupType(btf, type) : undefined;
    if (start === undefined) return `type definition '${type}' not found in '${mod}'`;
    return done(planAccess(btf, start, true, (e.path ?? []).map(stepsOf), e.addressOf === true));
  } catch (x) {
    if (x instanceof AccessError) return x.message;
    throw x;
  }
}

/**
 * `$var->path` / `&$var->path` of a context variable with a type BTF knows (a tracepoint's
 * pointer field, a kernel.function parameter); undefined when the variable has no such type.
 */
export function tvarAccess(e: A.TargetVar, point: ResolvedPoint): KernelAccess | string | undefined {
  const f = point.contextVars.get(e.name);
  if (!f) return undefined;
  try {
    const btf = kernelBtf();
    const start = f.btf ?? ctypeToType(btf, f.ctype);
    if (start === undefined) return undefined;
    return done(planAccess(btf, start, false, (e.path ?? []).map(stepsOf), e.addressOf === true));
  } catch (x) {
    if (x instanceof AccessError) return x.message;
    throw x;
  }
}

const done = (plan: AccessPlan): KernelAccess => ({ plan, reads: plan.ops.some((o) => o.op === 'load') });

/**
 * How a `@var("name[@file]"[, "module"])` is read:
 * - addr: a kernel global at a kallsyms address, typed by its BTF VAR;
 * - jiffies: `jiffies`/`jiffies_64` as a value, through the kernel's counter (bpf_jiffies64)
 *   when kallsyms lists no data symbols (the same 64-bit counter: jiffies aliases jiffies_64);
 * - init_task: the fixed point of ->real_parent from the current task (init_task's own
 *   real_parent is &init_task, set statically in init/init_task.c): the address without kallsyms;
 * - user: a global of an executable (the module argument, or the process("PATH") probe's file),
 *   found in its ELF symbol table: in a task running that file (inode and device), at
 *   mm->start_code - the lowest executable segment address + the symbol's value (start_code is
 *   that address plus the load bias, 0 for non-PIE), read as a signed integer of the symbol's
 *   size; elsewhere 0. No DWARF: no types, so no ->member, and no objects of other sizes.
 */
export type VarAccess =
  | (KernelAccess & { kind: 'addr'; addr: bigint })
  | { kind: 'user'; ino: bigint; dev: bigint; offset: bigint; width: 1 | 2 | 4 | 8; addressOf: boolean; plan: AccessPlan; reads: false }
  | { kind: 'jiffies'; plan: AccessPlan; reads: false }
  | (KernelAccess & { kind: 'init_task'; parentOffset: number });

/** At most this many ->real_parent steps to init_task (the depth of the process tree). */
export const INIT_TASK_STEPS = 64;

/** @var's plan, or stap's error text (with tapvm's reason where the kernel cannot say). */
export function varAccess(e: A.AtExpr, point: ResolvedPoint | undefined): VarAccess | string {
  const spec = (e.args[0] as A.StringLit).value;
  // `name@file`: BTF has no compilation units to choose from; the name is the kernel's one global
  const at = spec.indexOf('@');
  const name = at < 0 ? spec : spec.slice(0, at);
  const mod = e.args[1]?.kind === 'string' ? e.args[1].value : (point?.module ?? 'kernel');
  const notFound = `unable to find global '${name}' in ${mod}`;
  if (mod !== 'kernel') return userVar(e, name, mod, notFound);
  try {
    const btf = kernelBtf();
    const path = (e.path ?? []).map(stepsOf);
    const v = kernelVar(btf, name);
    if (typeof v !== 'string') {
      noteKernelVar(btf, name, v);
      return { kind: 'addr', addr: v.addr, ...done(planAccess(btf, v.type, true, path, e.addressOf === true)) };
    }
    if ((name === 'jiffies' || name === 'jiffies_64') && !e.path && !e.addressOf) return { kind: 'jiffies', plan: { ops: [] }, reads: false };
    if (name === 'init_task' && v !== '') {
      const task = btf.find('task_struct', Kind.STRUCT);
      const parent = task === undefined ? undefined : findMember(btf, task, 'real_parent');
      if (task !== undefined && parent) {
        noteKernelType('member struct task_struct->real_parent', memberText(btf, parent));
        // the walk itself reads kernel memory, even for `&@var("init_task")`
        return { kind: 'init_task', parentOffset: parent.bitOffset / 8, plan: planAccess(btf, task, true, path, e.addressOf === true), reads: true };
      }
    }
    return v ? `${notFound}: ${v}` : notFound;
  } catch (x) {
    if (x instanceof AccessError) return x.message;
    throw x;
  }
}

/** The integer widths a user-space global without DWARF can be read at. */
const USER_WIDTHS = [1, 2, 4, 8];

function userVar(e: A.AtExpr, name: string, mod: string, notFound: string): VarAccess | string {
  const file = resolveExecutable(mod);
  if (!file) return `${notFound}: no such file`;
  let elf;
  try {
    elf = elfOf(file);
  } catch (x) {
    if (x instanceof ElfError) return `${notFound}: ${x.message}`;
    throw x;
  }
  // where a library is mapped is not in mm_struct (only a walk of the VMAs finds it)
  if (elf.library) return `${notFound}: tapvm reads globals of executables, not of shared libraries`;
  const sym = elf.objects.find((o) => o.name === name);
  const text = elf.segments.filter((s) => s.executable).reduce<bigint | undefined>((m, s) => (m === undefined || s.vaddr < m ? s.vaddr : m), undefined);
  if (!sym || text === undefined) return notFound;
  if (e.path) return `${notFound}: tapvm has no debug information (DWARF) for user-space variables, so no ->member or [index] of them`;
  const size = Number(sym.size);
  // size 0: an assembler symbol without .size; read it as a long
  if (!e.addressOf && size !== 0 && !USER_WIDTHS.includes(size))
    return `@var("${name}") in ${mod} is a ${size}-byte object: without debug information (DWARF) tapvm reads only 1, 2, 4 or 8-byte globals of executables, as integers`;
  const st = fs.statSync(file);
  return {
    kind: 'user',
    ino: BigInt(st.ino),
    dev: kernelDev(st.dev),
    offset: sym.addr - text,
    width: (size || 8) as 1 | 2 | 4 | 8,
    addressOf: e.addressOf === true,
    plan: { ops: [] },
    reads: false,
  };
}
