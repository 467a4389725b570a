// timer.profile, timer.profile.tick, perf.sw.NAME[.sample(N)|.hz(N)] and
// perf.type(T).config(C)[.sample(N)|.hz(N)]: perf events on every CPU, run in the kernel by
// the perf_event entry program (one event and one link per CPU, so no EEXIST limit).
import type { ProbeProvider, ResolvedPoint, Mismatch } from './provider';
import { pointText } from './provider';
import type { ProbePoint } from '../parse/ast';

const PERF_TYPE_HARDWARE = 0;
const PERF_TYPE_SOFTWARE = 1;
/** CONFIG_HZ of the kernels tapvm targets (Debian's 250): timer.profile fires once a tick */
const HZ = 250;

/** perf's software event names (include/uapi/linux/perf_event.h), as stap spells them. */
const SOFTWARE: Record<string, number> = {
  cpu_clock: 0,
  task_clock: 1,
  page_faults: 2,
  context_switches: 3,
  cpu_migrations: 4,
  page_faults_min: 5,
  page_faults_maj: 6,
  alignment_faults: 7,
  emulation_faults: 8,
};
const HARDWARE: Record<string, number> = {
  cpu_cycles: 0,
  instructions: 1,
  cache_references: 2,
  cache_misses: 3,
  branch_instructions: 4,
  branch_misses: 5,
  bus_cycles: 6,
};

function sampling(point: ProbePoint, rest: ProbePoint['components']): { period: number; freq: boolean } | Mismatch {
  if (rest.length === 0) return { period: 1_000_000, freq: false };
  const [c, ...more] = rest;
  if (more.length || (c.name !== 'sample' && c.name !== 'hz') || !c.arg || c.arg.kind !== 'number' || c.arg.value <= 0n)
    return { error: `${pointText(point)}: expected .sample(N) or .hz(N) with a positive N` };
  return { period: Number(c.arg.value), freq: c.name === 'hz' };
}

function perf(point: ProbePoint, type: number, config: number, rest: ProbePoint['components']): ResolvedPoint | Mismatch {
  const s = sampling(point, rest);
  if ('error' in s) return s;
  return { pp: pointText(point), target: 'kernel', attach: { family: 'perf', type, config, ...s }, contextVars: new Map() };
}

export const perfProvider: ProbeProvider = {
  names: ['perf', 'timer.profile'],
  resolve(point) {
    const [first, second, third, ...rest] = point.components;
    if (first.name === 'timer') {
      // timer.profile / timer.profile.tick: every tick on every CPU
      if (second?.name !== 'profile' || (third && third.name !== 'tick') || rest.length) return { error: 'expected timer.profile or timer.profile.tick' };
      return { pp: pointText(point), target: 'kernel', attach: { family: 'perf', type: PERF_TYPE_SOFTWARE, config: 0, period: 1e9 / HZ, freq: false }, contextVars: new Map() };
    }
    if ((second?.name === 'sw' || second?.name === 'hw') && third && !third.arg) {
      const table = second.name === 'sw' ? SOFTWARE : HARDWARE;
      const config = table[third.name];
      if (config === undefined) return { error: `unknown perf.${second.name} event '${third.name}' (known: ${Object.keys(table).join(', ')})` };
      return perf(point, second.name === 'sw' ? PERF_TYPE_SOFTWARE : PERF_TYPE_HARDWARE, config, rest);
    }
    if (second?.name === 'type' && second.arg?.kind === 'number' && third?.name === 'config' && third.arg?.kind === 'number')
      return perf(point, Number(second.arg.value), Number(third.arg.value), rest);
    return { error: 'expected perf.sw.NAME, perf.hw.NAME or perf.type(T).config(C), optionally with .sample(N) or .hz(N)' };
  },
};
