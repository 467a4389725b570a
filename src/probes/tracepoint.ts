// kernel.trace("system:event"): a tracepoint; its format file's fields become $name variables,
// and so do its TP_PROTO arguments (stap's kernel.trace variables: sched_switch's $prev, $next)
// where they are not format fields: those come from BTF (FUNC __bpf_trace_<event>, whose first
// parameter is the probe's `void *__data`) and are read from a raw tracepoint's u64 args[], so
// a point whose handler uses one attaches as a raw tracepoint.
import type { ProbeProvider, ResolvedPoint, Mismatch } from './provider';
import { pointText } from './provider';
import type { TracepointField } from '../kernel/tracefs';
import { Kind, type Btf } from '../kernel/btf';
import { kernelFacts, noteKernelType, noteTracepointField } from '../kernel/facts';
import { prototypeText } from '../kernel/ktypes';
import { kernelFunctionUnavailable, registerVar, resolveKernelFunction } from './kfunc';

/** `$name` -> field; a lookup is a use: the field's offset becomes a fact the code relies on. */
class FieldMap extends Map<string, TracepointField> {
  constructor(
    private tp: string,
    entries: [string, TracepointField][],
  ) {
    super(entries);
  }

  override get(name: string): TracepointField | undefined {
    const f = super.get(name);
    if (f?.btf === undefined) {
      if (f) noteTracepointField(this.tp, f);
    } else {
      // a TP_PROTO argument is no record field: the probe function's BTF prototype is the fact
      const fn = `__bpf_trace_${this.tp.slice(this.tp.indexOf(':') + 1)}`;
      const btf = kernelFacts().btf();
      const id = btf?.find(fn, Kind.FUNC);
      if (btf && id !== undefined) noteKernelType(`func ${fn}`, prototypeText(btf, id));
    }
    return f;
  }
}

/** Fields of a record that scripts see, without the common_* header. */
export function scriptFields(fields: TracepointField[], tp = ''): Map<string, TracepointField> {
  return new FieldMap(tp, fields.filter((f) => !f.name.startsWith('common_')).map((f) => [f.name, f]));
}

/** The TP_PROTO arguments of `event` (without `__data`), as args[i] of a raw tracepoint; [] without BTF. */
export function protoArgs(btf: Btf | null | undefined, event: string): TracepointField[] {
  // the typedef btf_trace_<event> has the prototype without parameter names; the kernel's probe
  // function __bpf_trace_<event> has them
  const fn = btf?.find(`__bpf_trace_${event}`, Kind.FUNC);
  if (!btf || fn === undefined) return [];
  const params = btf.params(btf.ref(fn)).slice(1);
  return params.filter((p) => p.name && p.type !== 0).map((p) => registerVar(btf, p.name, p.type, 8 * params.indexOf(p)));
}

export function resolveTracepoint(system: string, event: string, pp: string): ResolvedPoint | Mismatch {
  const facts = kernelFacts();
  const fmt = facts.tracepoint(system, event);
  if (!fmt) {
    const near = facts.events(system).filter((e) => e.includes(event.slice(0, 4))).slice(0, 3);
    const hint = near.length ? ` (similar: ${near.map((e) => `${system}:${e}`).join(', ')})` : '';
    return { error: `no match for probe point ${pp}: this kernel has no tracepoint ${system}:${event}${hint}` };
  }
  const tp = `${system}:${event}`;
  const fields = scriptFields(fmt.fields, tp);
  const parms = [...fields.values()];
  const attach: { family: 'tracepoint'; system: string; event: string; raw?: boolean } = { family: 'tracepoint', system, event };
  const raw = new Set<string>();
  for (const a of protoArgs(facts.btf(), event))
    if (!fields.has(a.name)) {
      fields.set(a.name, a);
      raw.add(a.name);
    }
  // the first use decides the attachment; a use of the other kind is the error
  let first: string | undefined;
  const varConflict = (name: string): string | undefined => {
    if (!fields.has(name)) return undefined;
    if (first === undefined) {
      first = name;
      if (raw.has(name)) attach.raw = true;
      return undefined;
    }
    if (raw.has(name) === raw.has(first)) return undefined;
    const [arg, field] = raw.has(name) ? [name, first] : [first, name];
    return `cannot use both $${arg} (a TP_PROTO argument, read through a raw tracepoint) and $${field} (a field of the tracepoint's record) in one probe of ${pp}: tapvm reads them from different attachments`;
  };
  return { pp, target: 'kernel', attach, contextVars: fields, varConflict, pretty: { parms, locals: [] } };
}

export const tracepointProvider: ProbeProvider = {
  names: ['kernel'],
  resolve(point) {
    const [, trace, ...rest] = point.components;
    if (trace?.name === 'function') return resolveKernelFunction(point);
    // stap's kernel.trace(string) has no sub-points (no .return): a further component is a mismatch at it
    if (trace?.name === 'trace' && rest.length) return { error: 'probe point mismatch', resolving: true, loc: rest[0].loc };
    if (!trace || trace.name !== 'trace') return { error: kernelFunctionUnavailable(pointText(point)) };
    if (!trace.arg || trace.arg.kind !== 'string') return { error: 'kernel.trace needs a string "system:event"' };
    const spec = trace.arg.value;
    // stap's kernel.trace("name"): the event in whichever system has it
    if (/^[A-Za-z0-9_]+$/.test(spec)) {
      const sys = kernelFacts().systems().filter((s) => kernelFacts().events(s).includes(spec));
      if (sys.length === 1) return resolveTracepoint(sys[0], spec, pointText(point));
      if (sys.length > 1) return sys.map((s) => resolveTracepoint(s, spec, pointText(point))).filter((r): r is ResolvedPoint => !('error' in r));
    }
    const m = /^([A-Za-z0-9_]+):([A-Za-z0-9_]+)$/.exec(spec);
    if (!m) return { error: `kernel.trace("${spec}"): expected "system:event" (wildcards are not supported yet)` };
    return resolveTracepoint(m[1], m[2], pointText(point));
  },
  list: () => kernelFacts().systems().flatMap((sys) => kernelFacts().events(sys).map((e) => `kernel.trace(${JSON.stringify(`${sys}:${e}`)})`)),
};
