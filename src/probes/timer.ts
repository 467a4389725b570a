// timer.s/ms/us/ns/hz/jiffies(N): periodic, run by the user-space interpreter.
import type { ProbeProvider } from './provider';
import { pointText } from './provider';

const NS_PER_UNIT: Record<string, bigint> = {
  s: 1_000_000_000n,
  sec: 1_000_000_000n,
  ms: 1_000_000n,
  msec: 1_000_000n,
  us: 1_000n,
  usec: 1_000n,
  ns: 1n,
  nsec: 1n,
  jiffies: 4_000_000n, // CONFIG_HZ=250
};

export const timerProvider: ProbeProvider = {
  names: ['timer'],
  resolve(point) {
    const unit = point.components[1];
    if (!unit || point.components.length > 2) return { error: 'expected timer.s(N), timer.ms(N), timer.us(N), timer.ns(N), timer.hz(N) or timer.jiffies(N)' };
    if (!unit.arg || unit.arg.kind !== 'number' || unit.arg.value <= 0n) return { error: `timer.${unit.name} needs a positive number` };
    const n = unit.arg.value;
    let periodNs: bigint;
    if (unit.name === 'hz') periodNs = 1_000_000_000n / n;
    else if (NS_PER_UNIT[unit.name] !== undefined) periodNs = NS_PER_UNIT[unit.name] * n;
    else return { error: `unknown timer unit '${unit.name}'` };
    if (periodNs < 1_000_000n) return { error: `timer period ${periodNs}ns is below the user-space timer's 1ms resolution` };
    return { pp: pointText(point), target: 'user', attach: { family: 'timer', periodNs }, contextVars: new Map() };
  },
};
