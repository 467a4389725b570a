// The probe registry: first component -> provider.
import type { ProbePoint } from '../parse/ast';
import type { ProbeProvider, ResolvedPoint, Mismatch } from './provider';
import { beginEndProvider } from './begin-end';
import { timerProvider } from './timer';
import { tracepointProvider } from './tracepoint';
import { syscallProvider } from './syscall';
import { perfProvider } from './perf';
import { uprobeProvider } from './uprobe';

const PROVIDERS: ProbeProvider[] = [beginEndProvider, timerProvider, tracepointProvider, syscallProvider, perfProvider, uprobeProvider];

const BY_NAME = new Map<string, ProbeProvider>(PROVIDERS.flatMap((p) => p.names.map((n) => [n, p] as const)));

export function resolvePoint(point: ProbePoint): ResolvedPoint | ResolvedPoint[] | Mismatch {
  const first = point.components[0].name;
  // timer.profile runs in the kernel on every CPU, unlike the user-space timer.s/ms/...
  if (first === 'timer' && point.components[1]?.name === 'profile') return perfProvider.resolve(point);
  const provider = BY_NAME.get(first);
  if (!provider) {
    const known = [...BY_NAME.keys()];
    const close = known.filter((k) => editDistance(k, first) <= 2);
    const hint = close.length ? ` (did you mean: ${close.join(', ')}?)` : '';
    return { error: `probe point mismatch: unknown probe family '${first}'${hint}` };
  }
  return provider.resolve(point);
}

export function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) dp[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      dp[i][j] = Math.min(dp[i - 1][j] + 1, dp[i][j - 1] + 1, dp[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return dp[a.length][b.length];
}

export type { ResolvedPoint, Mismatch } from './provider';
