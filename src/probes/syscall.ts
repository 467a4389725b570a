// syscall.NAME and syscall.NAME.return over the syscalls:sys_enter_NAME / sys_exit_NAME tracepoints.
import type { ProbeProvider } from './provider';
import { pointText } from './provider';
import { resolveTracepoint } from './tracepoint';
import { kernelFacts } from '../kernel/facts';

export const syscallProvider: ProbeProvider = {
  names: ['syscall'],
  resolve(point) {
    const [, name, ret, ...rest] = point.components;
    if (!name || name.arg || rest.length || (ret && ret.name !== 'return')) return { error: 'expected syscall.NAME or syscall.NAME.return' };
    if (name.name === '*') return { error: 'syscall.* is not supported yet; name one system call' };
    const event = ret ? `sys_exit_${name.name}` : `sys_enter_${name.name}`;
    const r = resolveTracepoint('syscalls', event, pointText(point));
    if ('error' in r) return { error: `no match for probe point ${pointText(point)}: this kernel has no system call tracepoint syscalls:${event}` };
    r.contextVars.delete('__syscall_nr');
    const retField = r.contextVars.get('ret');
    if (ret && retField) {
      r.contextVars.delete('ret');
      r.contextVars.set('return', retField);
    }
    return r;
  },
  list() {
    const events = kernelFacts().events('syscalls');
    const names = events.filter((e) => e.startsWith('sys_enter_')).map((e) => `syscall.${e.slice(10)}`);
    const rets = events.filter((e) => e.startsWith('sys_exit_')).map((e) => `syscall.${e.slice(9)}.return`);
    return [...names, ...rets];
  },
};
