// The probe registry: first component -> provider.
import type { ProbePoint } from '../parse/ast';
import type { ProbeProvider, ResolvedPoint, Mismatch } from './provider';
import { beginEndProvider } from './begin-end';
import { timerProvider } from './timer';
import { tracepointProvider } from './tracepoint';
import { syscallProvider } from './syscall';
import { perfProvider } from './perf';
import { uprobeProvider } from './uprobe';
import { moduleProvider } from './module';

const PROVIDERS: ProbeProvider[] = [beginEndProvider, timerProvider, tracepointProvider, syscallProvider, perfProvider, uprobeProvider, moduleProvider];

const BY_NAME = new Map<string, ProbeProvider>(PROVIDERS.flatMap((p) => p.names.map((n) => [n, p] as const)));

export function resolvePoint(point: ProbePoint): ResolvedPoint | ResolvedPoint[] | Mismatch {
  const first = point.components[0].name;
  // timer.profile runs in the kernel on every CPU, unlike the user-space timer.s/ms/...
  if (first === 'timer' && point.components[1]?.name === 'profile') return perfProvider.resolve(point);
  const provider = BY_NAME.get(first);
  if (!provider) {
    return { error: `probe point mismatch: unknown probe family '${first}'` };
  }
  return provider.resolve(point);
}

/** The provider that owns a point's first component, if any. */
export function providerOf(first: string): ProbeProvider | undefined {
  return BY_NAME.get(first);
}

/** The probe families' first components (`begin`, `kernel`, `syscall`, ...). */
export function familyNames(): string[] {
  return [...new Set([...BY_NAME.keys()].map((k) => k.split('.')[0]))];
}

const listed = new Map<ProbeProvider, string[]>();

/** Every concrete point of the family `first` (cached: tracefs is read once per run). */
export function listPoints(first: string): string[] {
  const p = BY_NAME.get(first);
  if (!p?.list) return [];
  let l = listed.get(p);
  if (!l) listed.set(p, (l = p.list()));
  return l;
}

/**
 * stap's levenshtein_suggest (util.cxx) as its callers use it for probe points and functions:
 * the `max` names closest to `target` by edit distance, however far, ties in name order.
 */
export function levenshteinSuggest(target: string, names: Iterable<string>, max = 5): string[] {
  const scored: [number, string][] = [];
  for (const n of new Set(names)) if (n !== '') scored.push([editDistance(n, target), n]);
  return scored
    .sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .slice(0, max)
    .map((x) => x[1]);
}

/** Up to `max` names within edit distance 2 (or 1 for short names) of `name`, closest first. */
export function similar(name: string, names: Iterable<string>, max = 5): string[] {
  const limit = name.length <= 3 ? 1 : 2;
  const scored: [number, string][] = [];
  for (const n of names) {
    if (Math.abs(n.length - name.length) > limit || n === name) continue;
    const d = editDistance(n, name);
    if (d <= limit) scored.push([d, n]);
  }
  return scored.sort((a, b) => a[0] - b[0] || a[1].localeCompare(b[1])).slice(0, max).map((x) => x[1]);
}

export function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) dp[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      dp[i][j] = Math.min(dp[i - 1][j] + 1, dp[i][j - 1] + 1, dp[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return dp[a.length][b.length];
}

export type { ResolvedPoint, Mismatch, ProbeProvider } from './provider';
