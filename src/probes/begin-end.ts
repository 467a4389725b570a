// begin / end / error (with an optional sequence number): run once in user space, before and
// after the kernel probes; error probes run instead of end probes when the session ends in error.
// `init` is a begin probe that runs before every other begin probe; `never` never runs.
import type { ProbeProvider } from './provider';
import { pointText } from './provider';

export const beginEndProvider: ProbeProvider = {
  names: ['begin', 'end', 'error', 'init', 'never'],
  resolve(point) {
    const [c, ...rest] = point.components;
    if (rest.length) return { error: `unexpected component '${rest[0].name}' after ${c.name}` };
    if ((c.name === 'init' || c.name === 'never') && c.arg) return { error: `${c.name} takes no argument` };
    if (c.name === 'never') return { pp: 'never', target: 'user', attach: { family: 'begin', order: 0 }, contextVars: new Map(), never: true };
    if (c.name === 'init') return { pp: 'init', target: 'user', attach: { family: 'begin', order: -(2 ** 53) }, contextVars: new Map() };
    if (c.arg && c.arg.kind !== 'number') return { error: `${c.name} takes a number` };
    const order = c.arg ? Number(c.arg.value) : 0;
    const family = c.name as 'begin' | 'end' | 'error';
    return { pp: pointText(point), target: 'user', attach: { family, order }, contextVars: new Map() };
  },
  list: () => ['begin', 'end', 'error', 'init', 'never'],
};
