// One interface for every probe family (ply's provider pattern): match a probe point, say
// where it runs and how it is armed, and which $context variables it offers.
import type { ProbePoint } from '../parse/ast';
import type { Attach, ProbeTarget } from '../image/image';
import type { TracepointField } from '../kernel/tracefs';

export interface ResolvedPoint {
  /** canonical probe point text: what pp() returns and -p2 prints */
  pp: string;
  target: ProbeTarget;
  attach: Attach;
  /** `$name` -> the tracepoint field it reads */
  contextVars: Map<string, TracepointField>;
  /** the probed function, for probefunc() and ppfunc() (user-space probes) */
  func?: string;
  /** conditions the handler checks first, returning at once when one fails (process("PATH").end) */
  guards?: Guard[];
  /** `never`: type-checked like any probe, never compiled or armed */
  never?: boolean;
}

/** A context value (CTX id) or a tracepoint field that must equal a constant. */
export type Guard = { ctx: number; equals: bigint } | { field: TracepointField; equals: bigint };

/** A provider that recognises the point but cannot offer it says why, in one sentence. */
export interface Mismatch {
  error: string;
  /** stap's form: "while resolving probe point: identifier 'NAME'" at the point, then `error` */
  resolving?: boolean;
}

export interface ProbeProvider {
  /** first component(s) this provider owns, for the registry */
  names: string[];
  /** a wildcard may resolve to several points, each with its own pp() */
  resolve(point: ProbePoint): ResolvedPoint | ResolvedPoint[] | Mismatch;
  /**
   * Every concrete point the provider offers, as pointText() spells it (`syscall.openat`,
   * `kernel.trace("sched:sched_switch")`). Wildcards (`*`, `**`) are matched against this list
   * and misspelt points get suggestions from it; a provider without it may still resolve
   * its own wildcards (resolve() returning several points).
   */
  list?(): string[];
}

export function pointText(point: ProbePoint): string {
  return point.components
    .map((c) => {
      if (!c.arg) return c.name;
      const arg = c.arg.kind === 'string' ? JSON.stringify(c.arg.value) : c.arg.value.toString();
      return `${c.name}(${arg})`;
    })
    .join('.');
}

export function isMismatch(r: ResolvedPoint | ResolvedPoint[] | Mismatch): r is Mismatch {
  return 'error' in r;
}
