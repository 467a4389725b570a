// kernel.trace("system:event"): a tracepoint; its format file's fields become $name variables.
import type { ProbeProvider, ResolvedPoint, Mismatch } from './provider';
import { pointText } from './provider';
import type { TracepointField } from '../kernel/tracefs';
import { kernelFacts, noteTracepointField } from '../kernel/facts';
import { kernelFunctionUnavailable, resolveKernelFunction } from './kfunc';

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
    if (f) noteTracepointField(this.tp, f);
    return f;
  }
}

/** Fields of a record that scripts see, without the common_* header. */
export function scriptFields(fields: TracepointField[], tp = ''): Map<string, TracepointField> {
  return new FieldMap(tp, fields.filter((f) => !f.name.startsWith('common_')).map((f) => [f.name, f]));
}

export function resolveTracepoint(system: string, event: string, pp: string): ResolvedPoint | Mismatch {
  const facts = kernelFacts();
  const fmt = facts.tracepoint(system, event);
  if (!fmt) {
    const near = facts.events(system).filter((e) => e.includes(event.slice(0, 4))).slice(0, 3);
    const hint = near.length ? ` (similar: ${near.map((e) => `${system}:${e}`).join(', ')})` : '';
    return { error: `no match for probe point ${pp}: this kernel has no tracepoint ${system}:${event}${hint}` };
  }
  const contextVars = scriptFields(fmt.fields, `${system}:${event}`);
  return { pp, target: 'kernel', attach: { family: 'tracepoint', system, event }, contextVars, pretty: { parms: [...contextVars.values()], locals: [] } };
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
