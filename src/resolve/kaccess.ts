// `@cast(p, "type"[, "module"])->path` and `$var->path`: the BTF access plan of one such
// expression (src/kernel/ktypes.ts), shared by the type checker (errors) and the code
// generator (KREAD chains). The value is always a long, as in stap.
import type * as A from '../parse/ast';
import type { ResolvedPoint } from '../probes/provider';
import { AccessError, ctypeToType, kernelBtf, lookupType, planAccess, stepsOf, type AccessPlan } from '../kernel/ktypes';

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
