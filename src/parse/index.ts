// Front end: SystemTap source text -> AST (ast.ts), via the peggy grammar in stp.peggy.
import { DiagnosticError, diagnostic } from '../diag/diagnostic';
import type { Loc, Script } from './ast';

export type * from './ast';
export { printScript } from './print';

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
  location: { source: unknown; start: PeggyPosition; end: PeggyPosition };
}

interface PeggyParser {
  parse(input: string, options?: { grammarSource?: unknown; startRule?: string }): unknown;
  SyntaxError: new (...args: never[]) => PeggySyntaxError;
}

// A plain require keeps tsc from type-inferring the generated JS; the shape is declared above.
 
const generated = require('./generated/parser') as PeggyParser;

// ---- public API ----

/**
 * Parse one SystemTap script. Locations in the AST carry `file`.
 * Throws DiagnosticError with a single 'parse error' diagnostic on a syntax error.
 */
export function parseScript(text: string, file: string): Script {
  try {
    return generated.parse(text, { grammarSource: file }) as Script;
  } catch (e) {
    if (e instanceof generated.SyntaxError) {
      const p = e.location.start;
      const loc: Loc = { file, line: p.line, col: p.column, offset: p.offset };
      throw new DiagnosticError([diagnostic('parse error', syntaxErrorMessage(e, text), loc)]);
    }
    throw e;
  }
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
