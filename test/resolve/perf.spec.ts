// perf and timer.profile probe points: what they resolve to, and their errors.
import { describe, it, expect } from 'vitest';
import { parseScript } from '../../src/parse';
import { resolve } from '../../src/resolve/resolve';
import { DiagnosticError } from '../../src/diag/diagnostic';

const attach = (point: string) => resolve(parseScript(`probe ${point} { }`, 'p.stp')).probes[0].point;
const error = (point: string) => {
  try {
    resolve(parseScript(`probe ${point} { }`, 'p.stp'));
  } catch (e) {
    return (e as DiagnosticError).diagnostics[0].message;
  }
  return 'no error';
};

describe('perf probe points', () => {
  it('timer.profile is a per-tick cpu-clock event in the kernel', () => {
    expect(attach('timer.profile')).toMatchObject({ target: 'kernel', pp: 'timer.profile', attach: { family: 'perf', type: 1, config: 0, period: 4_000_000, freq: false } });
    expect(attach('timer.profile.tick').attach).toMatchObject({ family: 'perf', type: 1 });
  });

  it('perf.sw / perf.hw by name, perf.type().config(), with .sample(N) or .hz(N)', () => {
    expect(attach('perf.sw.page_faults.sample(10)').attach).toEqual({ family: 'perf', type: 1, config: 2, period: 10, freq: false });
    expect(attach('perf.hw.instructions.hz(99)').attach).toEqual({ family: 'perf', type: 0, config: 1, period: 99, freq: true });
    expect(attach('perf.type(1).config(3)').attach).toEqual({ family: 'perf', type: 1, config: 3, period: 1_000_000, freq: false });
  });

  it('says what is wrong with a bad perf point', () => {
    expect(error('perf.sw.nope')).toMatch(/^unknown perf.sw event 'nope' \(known: cpu_clock, task_clock/);
    expect(error('perf.sw.cpu_clock.sample(0)')).toBe('perf.sw.cpu_clock.sample(0): expected .sample(N) or .hz(N) with a positive N');
    expect(error('timer.profile.x')).toBe('expected timer.profile or timer.profile.tick');
  });
});
