// begin / end / error (with an optional sequence number): run once in user space, before and
// after the kernel probes; error probes run instead of end probes when the session ends in error.
import type { ProbeProvider } from './provider';
import { pointText } from './provider';

export const beginEndProvider: ProbeProvider = {
  names: ['begin', 'end', 'error'],
  resolve(point) {
    const [c, ...rest] = point.components;
    if (rest.length) return { error: `unexpected component '${rest[0].name}' after ${c.name}` };
    if (c.arg && c.arg.kind !== 'number') return { error: `${c.name} takes a number` };
    const order = c.arg ? Number(c.arg.value) : 0;
    const family = c.name as 'begin' | 'end' | 'error';
    return { pp: pointText(point), target: 'user', attach: { family, order }, contextVars: new Map() };
  },
};
