// One interface for every probe family (ply's provider pattern): match a probe point, say
// where it runs and how it is armed, which $context variables it offers, and list what it has.
import type { Loc, ProbePoint } from '../parse/ast';
import type { Attach, ProbeTarget, ScalarType } from '../image/image';
import type { TracepointField } from '../kernel/tracefs';

/** How the handler's prologue computes a tapset variable (stap's alias locals: name, argstr, ...). */
export type TapsetInit =
  | { kind: 'syscall_name' }
  | { kind: 'syscall_nr' }
  | { kind: 'argstr' }
  | { kind: 'retstr' }
  | { kind: 'errno' }
  /** a named argument: its value, or for a file name the quoted user string */
  | { kind: 'arg'; field: TracepointField; quoted: boolean };

export interface TapsetVar {
  type: ScalarType;
  init: TapsetInit;
}

export interface ResolvedPoint {
  /** canonical probe point text: what pp() returns and -p2 prints */
  pp: string;
  target: ProbeTarget;
  attach: Attach;
  /** `$name` -> the tracepoint field it reads */
  contextVars: Map<string, TracepointField>;
  /**
   * Called at each use of `$name`: an error text when this use cannot go with the point's
   * earlier uses (kernel.trace: format fields and TP_PROTO arguments are read from different
   * attachments).
   */
  varConflict?: (name: string) => string | undefined;
  /** the executable a process("PATH") probe runs in: `@var("name")` without a module reads its globals */
  module?: string;
  /** the probed function, for probefunc() and ppfunc() (user-space probes) */
  func?: string;
  /** conditions the handler checks first, returning at once when one fails (process("PATH").end) */
  guards?: Guard[];
  /** `never`: type-checked like any probe, never compiled or armed */
  never?: boolean;
  /**
   * Why the runtime cannot arm this point on this kernel (kernel.function without kprobes or
   * fentry): the script still compiles (-p2/-p3/-p4, -L); an optional point (`?`, `!`) is
   * skipped as stap skips points that do not resolve, and a run fails with this sentence.
   */
  unattachable?: string;
  /** stap's tapset variables, set on entry to the handler when the handler uses them */
  tapsetVars?: Map<string, TapsetVar>;
  /**
   * `$$parms` / `$$locals` / `$$return` (and `$$vars` = parms then locals): the fields each
   * prints, in order. Absent: the point has no named context variables; `parms` absent: its
   * parameters are not readable here (a syscall .return). `userStrings`: with a `$`/`$$` suffix,
   * `char *` fields print the user-space string they point to.
   */
  pretty?: { parms?: TracepointField[]; locals: TracepointField[]; ret?: TracepointField; userStrings?: boolean };
  /**
   * Called once types are known with the $variables and tapset variables the handler uses: a
   * point covering several system calls becomes one point per argument layout.
   */
  specialize?(used: Set<string>): ResolvedPoint[] | Mismatch;
}

/** A context value (CTX id) or a tracepoint field that must equal a constant, or two context values that must be equal. */
export type Guard = { ctx: number; equals: bigint } | { field: TracepointField; equals: bigint } | { ctx: number; sameAs: number };

/** A provider that recognises the point but cannot offer it says why, in one sentence. */
export interface Mismatch {
  error: string;
  /** stap's form: "while resolving probe point: identifier 'NAME'" at the point, then `error` */
  resolving?: boolean;
  /** where `error` points in the resolving form (stap: the component that did not match) */
  loc?: Loc;
}

export interface ProbeProvider {
  /** first component(s) this provider owns, for the registry */
  names: string[];
  /** one point, or several for a wildcard that the family expands (kernel.trace("sched:*")) */
  resolve(point: ProbePoint): ResolvedPoint | ResolvedPoint[] | Mismatch;
  /**
   * Every concrete point the provider offers, as pointText() spells it (`syscall.openat`,
   * `kernel.trace("sched:sched_switch")`). Wildcards (`*`, `**`) are matched against this list
   * and misspelt points get suggestions from it; a provider without it may still resolve
   * its own wildcards (resolve() returning several points).
   */
  list?(): string[];
  /**
   * Resolves its own wildcards into points that share an attachment (syscall.* is one point
   * over a set of numbers), so wildcard expansion hands such points to resolve() whole
   * instead of expanding them over list().
   */
  resolvesWildcards?: boolean;
  /** `-L`: the variables of one listed point, as stap prints them (`name:string`, `$fd:unsigned int`) */
  describe?(pp: string): string[];
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

/** stap's wildcard in a probe point component or tracepoint name: `*` any run, `?` one char. */
export function globRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

export const hasGlob = (s: string) => /[*?]/.test(s);
