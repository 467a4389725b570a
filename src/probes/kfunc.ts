// kernel.function("NAME")[.call|.return]: a kernel function from BTF (FUNC -> FUNC_PROTO), its
// parameters `$name` in the x86_64 argument registers of the kprobe's pt_regs (like UARG for
// uprobes), `$return` in rax on return, `$param->field` through BTF. Wildcards match BTF
// function names. The compile path is complete; attaching needs kprobes or fentry, which the
// runtime refuses in one sentence where the kernel has neither (ResolvedPoint.unattachable).
import type { ResolvedPoint, Mismatch } from './provider';
import { globRegExp, hasGlob, pointText } from './provider';
import type { ProbePoint } from '../parse/ast';
import type { TracepointField } from '../kernel/tracefs';
import { Kind, type Btf } from '../kernel/btf';
import { kernelFacts, noteKernelType } from '../kernel/facts';
import { prototypeText } from '../kernel/ktypes';

/** x86_64 pt_regs offsets of the argument registers: rdi rsi rdx rcx r8 r9 */
const ARG_REGS = [112, 104, 96, 88, 72, 64];
const PT_REGS_AX = 80;

/** Why kernel.function/statement cannot attach on this kernel, in one sentence. */
export function kernelFunctionUnavailable(pp: string, hasKprobes = kernelFacts().hasKprobes()): string {
  if (!hasKprobes)
    return `cannot attach ${pp}: this kernel has no kprobes (no kprobe_events in tracefs) and tapvm has no fentry attachment yet; only kernel.trace("system:event") and syscall probes are available`;
  return `cannot attach ${pp}: tapvm does not support kernel.function/kernel.statement probes yet; use kernel.trace("system:event") or syscall probes`;
}

/** A value of BTF type `type` in a register at pt_regs `offset`, as a context variable. */
export function registerVar(btf: Btf, name: string, type: number, offset: number): TracepointField {
  const t = btf.strip(type);
  const k = btf.kind(t);
  const size = k === Kind.PTR ? 8 : btf.size(t);
  const scalar = (k === Kind.INT || k === Kind.ENUM || k === Kind.ENUM64 || k === Kind.PTR) && [1, 2, 4, 8].includes(size);
  const signed = k === Kind.INT ? btf.int(t).signed : k === Kind.ENUM || k === Kind.ENUM64 ? btf.enumSigned(t) : false;
  return { name, ctype: btf.typeName(type), offset, size: scalar ? size : 8, signed, kind: scalar ? 'int' : 'other', btf: type };
}

function pointFor(btf: Btf, func: number, ret: boolean, suffix: string, hasKprobes: boolean): ResolvedPoint {
  const name = btf.name(func);
  const proto = btf.ref(func);
  noteKernelType(`func ${name}`, prototypeText(btf, func));
  const pp = `kernel.function(${JSON.stringify(name)})${suffix ? `.${suffix}` : ''}`;
  const contextVars = new Map<string, TracepointField>();
  const params: TracepointField[] = [];
  // entry: the parameters in registers; the seventh and later are on the stack (not read yet)
  if (!ret)
    btf.params(proto).forEach((p, i) => {
      if (!p.name || p.type === 0) return;
      const v = registerVar(btf, p.name, p.type, ARG_REGS[i] ?? -1);
      if (i >= ARG_REGS.length) v.kind = 'other';
      contextVars.set(p.name, v);
      params.push(v);
    });
  const rtype = btf.ref(proto);
  const retVar = ret && rtype !== 0 ? registerVar(btf, 'return', rtype, PT_REGS_AX) : undefined;
  if (retVar) contextVars.set('return', retVar);
  return {
    pp,
    target: 'kernel',
    attach: { family: 'kprobe', func: name, retprobe: ret },
    contextVars,
    func: name,
    pretty: ret ? { locals: [], ...(retVar ? { ret: retVar } : {}) } : { parms: params, locals: [] },
    unattachable: kernelFunctionUnavailable(pp, hasKprobes),
  };
}

export function resolveKernelFunction(point: ProbePoint): ResolvedPoint | ResolvedPoint[] | Mismatch {
  const [, fn, ...rest] = point.components;
  if (!fn.arg || fn.arg.kind !== 'string') return { error: 'kernel.function needs a string "NAME"' };
  const suffix = rest.map((c) => c.name).join('.');
  if (rest.some((c) => c.arg) || (suffix !== '' && suffix !== 'call' && suffix !== 'return'))
    return { error: `probe point mismatch: tapvm knows kernel.function("NAME"), .call and .return, not ${pointText(point)}` };
  const ret = suffix === 'return';
  const btf = kernelFacts().btf();
  if (!btf) return { error: `cannot resolve ${pointText(point)}: this kernel has no BTF (/sys/kernel/btf/vmlinux) to find its functions and parameters` };
  // "NAME@file.c:123": BTF has no source files; the function name alone selects
  const spec = fn.arg.value.replace(/@.*$/, '');
  if (!hasGlob(spec)) {
    const f = btf.find(spec, Kind.FUNC);
    if (f === undefined) return { error: `no match for probe point ${pointText(point)}: this kernel's BTF has no function ${spec}`, resolving: false };
    return pointFor(btf, f, ret, suffix, kernelFacts().hasKprobes());
  }
  const re = globRegExp(spec);
  const kprobes = kernelFacts().hasKprobes();
  const seen = new Set<string>();
  const points: ResolvedPoint[] = [];
  for (const id of btf.idsOf(Kind.FUNC)) {
    const name = btf.name(id);
    if (!re.test(name) || seen.has(name)) continue;
    seen.add(name);
    points.push(pointFor(btf, id, ret, suffix, kprobes));
  }
  if (!points.length) return { error: `probe point mismatch: no match for wildcard probe point ${pointText(point)}` };
  return points.sort((a, b) => (a.pp < b.pp ? -1 : 1));
}
