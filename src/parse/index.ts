// Front end: SystemTap source text -> AST (ast.ts), via the peggy grammar in stp.peggy.
import { DiagnosticError, diagnostic, type Diagnostic } from '../diag/diagnostic';
import type { Loc, Script, TopLevel } from './ast';
import type { Facts } from './facts';
import { preprocess } from './preprocess';
import { junkMessage } from './lexer';
import { forEachChild } from './walk';

export type * from './ast';
export { printScript } from './print';
export { hostFacts, makeFacts, SYSTEMTAP_COMPAT_VERSION, TAPVM_RUNTIME, type Facts, type FactsInit } from './facts';

// ---- the generated parser (src/parse/generated/parser.js, built from stp.peggy) ----

interface PeggyPosition {
  offset: number;
  line: number; // 1-based
  column: number; // 1-based
}

type PeggyExpectation =
  | { type: 'literal'; text: string; ignoreCase: boolean }
  | { type: 'class'; parts: unknown[]; inverted: boolean; ignoreCase: boolean }
  | { type: 'any' }
  | { type: 'end' }
  | { type: 'other'; description: string };

interface PeggySyntaxError extends Error {
  /** null when raised by error() inside the grammar (the message is then final). */
  expected: PeggyExpectation[] | null;
  /** The offending character, null at end of input. */
  found: string | null;
  /** `loc` is set by the grammar's peggyLoc(): a location already in script coordinates. */
  location: { source: unknown; start: PeggyPosition; end: PeggyPosition; loc?: Loc };
}

interface PeggyParser {
  parse(input: string, options?: { grammarSource?: unknown; startRule?: string; locAt?: (offset: number) => Loc }): unknown;
  SyntaxError: new (...args: never[]) => PeggySyntaxError;
}

// A plain require keeps tsc from type-inferring the generated JS; the shape is declared above.
 
const generated = require('./generated/parser') as PeggyParser;

// ---- public API ----

export interface ParseOptions {
  /** Script arguments for $1.. / @1.. / $# / @# (byte strings, like the script text). */
  args?: readonly string[];
  /** What preprocessor conditions (%( kernel_v ... %)) test; the host's when absent. */
  facts?: Facts;
  /** Receives warnings found while parsing. */
  warnings?: Diagnostic[];
  /** Tapset directories to link library files from (src/parse/tapsets.ts); none when absent. */
  tapsets?: string[];
}

/**
 * Parse one SystemTap script: preprocess it (arguments, macros, conditionals, as stap does)
 * and parse the result. Locations in the AST carry `file` and point into `text`, also for
 * code that came from a macro body or a command-line argument.
 * Throws DiagnosticError with a 'parse error' diagnostic on a syntax or preprocessing error.
 */
export function parseScript(text: string, file: string, options: ParseOptions = {}): Script {
  const pp = preprocess(text, file, options);
  try {
    const script = generated.parse(pp.text, { grammarSource: file, locAt: pp.locAt }) as Script;
    if (!pp.identity) script.loc = { file, line: 1, col: 1, offset: 0 }; // the script, not its first kept token
    // a histogram operator is spelled `@hist_` (the grammar's StatOp): without one, the
    // histogram passes here and in resolve/ need not walk these items
    // embedded C is spelled `%{`: without one, resolve's search for it need not walk the items
    if (!pp.text.includes('%{')) for (const item of script.items) EMBEDDED_FREE.add(item);
    if (pp.text.includes('@hist_')) return checkHistOps(script);
    for (const item of script.items) HIST_FREE.add(item);
    return script;
  } catch (e) {
    if (e instanceof generated.SyntaxError) {
      const p = e.location.start;
      let loc: Loc = e.location.loc ?? (pp.identity ? { file, line: p.line, col: p.column, offset: p.offset } : pp.locAt(p.offset));
      let message: string | undefined;
      const junk = e.location.loc === undefined ? pp.junkAt(p.offset) : undefined;
      if (junk !== undefined) {
        // as in stap, the parser stopped at a bad $N / @N: its own error is reported
        loc = junk.loc;
        message = junk.message;
      }
      // an unclosed %{ reaches the grammar as text: say what the lexer would have said
      if (message === undefined && pp.text.startsWith('%{', p.offset) && !pp.text.includes('%}', p.offset)) message = junkMessage('unclosed_embedded', 0);
      throw new DiagnosticError([diagnostic('parse error', message ?? syntaxErrorMessage(e, pp.text), loc)]);
    }
    throw e;
  }
}

const HIST_FREE = new WeakSet<TopLevel>();

/** Whether parseScript returned this item from a text with no histogram operator in it. */
export function histFree(item: TopLevel): boolean {
  return HIST_FREE.has(item);
}

const EMBEDDED_FREE = new WeakSet<TopLevel>();

/** Whether parseScript returned this item from a text with no embedded C (`%{`) in it. */
export function embeddedFree(item: TopLevel): boolean {
  return EMBEDDED_FREE.has(item);
}

/**
 * stap's parser takes `@hist_log(x)` / `@hist_linear(...)` without `[i]` only as the one
 * argument of print, println, sprint and sprintln (parse_symbol); anywhere else it is its parse
 * error, at the operator.
 */
function checkHistOps(script: Script): Script {
  const PRINTS = new Set(['print', 'println', 'sprint', 'sprintln']);
  const visit = (n: unknown, allowed: boolean): void => {
    if (!n || typeof n !== 'object') return;
    if (Array.isArray(n)) return n.forEach((x) => visit(x, false));
    const o = n as { kind?: string; loc?: Loc; name?: string; args?: unknown[]; hist?: { stat: unknown } };
    if (o.kind === 'histop' && !allowed) throw new DiagnosticError([diagnostic('parse error', 'base histogram operator where expression expected', o.loc)]);
    if (o.kind === 'call' && PRINTS.has(o.name!) && o.args!.length === 1) return visit(o.args![0], true);
    if (o.kind === 'histindex') return visit(o.hist!.stat, false);
    // `foreach (b in @hist_log(x))` iterates the buckets (stap's parse_indexable)
    const foreachHist = o.kind === 'foreach' && o.hist !== undefined;
    if (foreachHist) visit(o.hist!.stat, false);
    forEachChild(o, (v, k) => {
      if (!(foreachHist && k === 'hist')) visit(v, false);
    });
  };
  visit(script.items, false);
  return script;
}

// ---- error messages ----

/** Expectation names that only say "this construct could have continued"; never listed. */
const HIDDEN = new Set(['operator', 'whitespace']);

/** Listing order of expectations in "expected A, B or C". */
const ORDER = [
  'expression',
  'statement',
  'identifier',
  "identifier or '*'",
  'literal string or number',
  'number',
  'string',
  "','",
  "';'",
  "':'",
  "'in'",
  "'('",
  "')'",
  "'['",
  "']'",
  "'{'",
  "'}'",
];

function describe(x: PeggyExpectation): string | null {
  switch (x.type) {
    case 'literal':
      return `'${x.text}'`;
    case 'other':
      return x.description;
    case 'end':
      return 'end of input';
    default:
      return null; // classes are always wrapped in named rules; nothing useful to say
  }
}

function rank(d: string): number {
  const i = ORDER.indexOf(d);
  return i < 0 ? ORDER.length : i;
}

function joinOr(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

/** The source token starting at `offset`, for messages like "unexpected 'else'". */
function tokenAt(text: string, offset: number): string {
  const m = /^(?:[A-Za-z_][A-Za-z0-9_]*|[0-9][A-Za-z0-9_]*|\S)/.exec(text.slice(offset));
  return m ? m[0] : '';
}

/** Turn peggy's expectation list into a short stap-style sentence. */
function syntaxErrorMessage(e: PeggySyntaxError, text: string): string {
  if (e.expected === null) return e.message; // raised by error() in the grammar
  if (e.found === null) return 'unexpected end-of-file';

  const seen = new Set<string>();
  for (const x of e.expected) {
    const d = describe(x);
    if (d !== null && !HIDDEN.has(d)) seen.add(d);
  }
  const tok = tokenAt(text, e.location.start.offset);

  // At top level (possibly after a complete declaration).
  if (seen.has("'probe'") && seen.has("'global'") && seen.has("'function'")) {
    return "expected 'probe', 'global' or 'function'";
  }
  seen.delete('end of input');
  // A declaration keyword inside a block: most likely a missing '}'.
  if (seen.has("'}'") && (tok === 'probe' || tok === 'global' || tok === 'function')) {
    return "expected '}'";
  }
  if (seen.has('statement')) return 'expected statement';
  if (seen.has('expression') && seen.size > 2) return 'expected expression';

  const items = [...seen].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  if (items.length === 0) return tok ? `unexpected '${tok}'` : 'unexpected end-of-file';
  return `expected ${joinOr(items)}`;
}
