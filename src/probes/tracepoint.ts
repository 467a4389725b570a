// kernel.trace("system:event"): a tracepoint; its format file's fields become $name variables.
import type { ProbeProvider, ResolvedPoint, Mismatch } from './provider';
import { pointText } from './provider';
import * as fs from 'fs';
import { readTracepoint, listEvents, tracefsRoot, type TracepointField } from '../kernel/tracefs';

/** Fields of a record that scripts see, without the common_* header. */
export function scriptFields(fields: TracepointField[]): Map<string, TracepointField> {
  return new Map(fields.filter((f) => !f.name.startsWith('common_')).map((f) => [f.name, f]));
}

/** One sentence on why kernel.function/statement cannot attach here: which features are missing. */
export function kernelFunctionUnavailable(pp: string): string {
  const hasKprobes = fs.existsSync(`${tracefsRoot()}/kprobe_events`);
  if (!hasKprobes)
    return `cannot attach ${pp}: this kernel has no kprobes (no kprobe_events in tracefs) and tapvm has no fentry attachment yet; only kernel.trace("system:event") and syscall probes are available`;
  return `cannot attach ${pp}: tapvm does not support kernel.function/kernel.statement probes yet; use kernel.trace("system:event") or syscall probes`;
}

export function resolveTracepoint(system: string, event: string, pp: string): ResolvedPoint | Mismatch {
  const fmt = readTracepoint(system, event);
  if (!fmt) {
    const near = listEvents(system).filter((e) => e.includes(event.slice(0, 4))).slice(0, 3);
    const hint = near.length ? ` (similar: ${near.map((e) => `${system}:${e}`).join(', ')})` : '';
    return { error: `no match for probe point ${pp}: this kernel has no tracepoint ${system}:${event}${hint}` };
  }
  return { pp, target: 'kernel', attach: { family: 'tracepoint', system, event }, contextVars: scriptFields(fmt.fields) };
}

export const tracepointProvider: ProbeProvider = {
  names: ['kernel'],
  resolve(point) {
    const [, trace, ...rest] = point.components;
    if (!trace || trace.name !== 'trace' || rest.length) return { error: kernelFunctionUnavailable(pointText(point)) };
    if (!trace.arg || trace.arg.kind !== 'string') return { error: 'kernel.trace needs a string "system:event"' };
    const spec = trace.arg.value;
    const m = /^([A-Za-z0-9_]+):([A-Za-z0-9_]+)$/.exec(spec);
    if (!m) return { error: `kernel.trace("${spec}"): expected "system:event" (wildcards are not supported yet)` };
    return resolveTracepoint(m[1], m[2], pointText(point));
  },
};
