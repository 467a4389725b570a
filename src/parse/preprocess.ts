// The preprocessing passes in order, as stap runs them on the fly while parsing:
//
//   lexer.ts         stap's tokens; $N @N $# @# pasted from the command-line arguments
//   macros.ts        @define / @name(...) expansion
//   conditionals.ts  %( cond %? ... %: ... %) evaluated against facts.ts
//
// The grammar (stp.peggy) is scannerless, so the kept tokens are rendered back into text for it,
// with a source map: every character of the rendered text knows where it came from in the
// script. Tokens that were next to each other in the script keep the original text between
// them (whitespace, comments); elsewhere a single space separates them. A script without any
// preprocessing renders to itself (`identity`), and is parsed exactly as before.
import type { Loc } from './ast';
import { Conditionals } from './conditionals';
import { hostFacts, type Facts } from './facts';
import { Lexer, PreprocessError, SourceText, junkMessage, type Token } from './lexer';
import { MacroExpander, loadLibraryMacros, type MacroDecl } from './macros';
import { diagnostic, DiagnosticError, type Diagnostic } from '../diag/diagnostic';

export interface PreprocessOptions {
  /** The script arguments ($1, @1, $#, @#); byte strings like the script text. */
  args?: readonly string[];
  /** What %( %) conditions test; the host's by default. */
  facts?: Facts;
  /** Receives warnings (a macro redefining a built-in @operator). */
  warnings?: Diagnostic[];
  /** Tapset directories: their `*.stpm` library macros are visible (src/parse/macros.ts). */
  tapsets?: string[];
}

export interface Preprocessed {
  /** The text the grammar parses. */
  text: string;
  /** True when `text` is the script itself: offsets in it are offsets in the script. */
  identity: boolean;
  /** Where the character at `offset` of `text` came from (the script's end for offsets at or past the end). */
  locAt(offset: number): Loc;
  /** The junk token (bad $N) rendered at `offset` of `text`, if any, with its message. */
  junkAt(offset: number): { loc: Loc; message: string } | undefined;
}

/** Stands for a $N / @N junk token in the rendered text: no grammar rule accepts it. */
const JUNK_CHAR = '\x01';

type Segment =
  | { out: number; len: number; kind: 'copy'; src: number }
  | { out: number; len: number; kind: 'fixed'; loc: Loc };

class Renderer {
  text = '';
  readonly segments: Segment[] = [];
  identity = true;
  readonly junk = new Map<number, { loc: Loc; message: string }>();

  constructor(private readonly source: SourceText) {}

  copy(start: number, end: number): void {
    if (end <= start) return;
    const out = this.text.length;
    if (start !== out) this.identity = false;
    this.text += this.source.text.slice(start, end);
    const last = this.segments[this.segments.length - 1];
    if (last !== undefined && last.kind === 'copy' && last.out + last.len === out && last.src + last.len === start) {
      last.len += end - start;
    } else {
      this.segments.push({ out, len: end - start, kind: 'copy', src: start });
    }
  }

  fixed(s: string, loc: Loc): void {
    if (s === '') return;
    this.identity = false;
    this.segments.push({ out: this.text.length, len: s.length, kind: 'fixed', loc });
    this.text += s;
  }

  locAt(offset: number): Loc {
    if (offset >= this.text.length && this.text.length > 0) return this.source.locAt(this.source.text.length);
    let lo = 0;
    let hi = this.segments.length - 1;
    if (hi < 0) return this.source.locAt(0);
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.segments[mid].out <= offset) lo = mid;
      else hi = mid - 1;
    }
    const s = this.segments[lo];
    if (s.kind === 'fixed') return s.loc;
    return this.source.locAt(s.src + Math.max(0, Math.min(offset - s.out, s.len)));
  }
}

/** Whether a and b written without a space between them still lex as exactly a and b. */
function joins(a: Token, b: Token): boolean {
  if (isArgJunk(a) || isArgJunk(b) || a.junk !== undefined || b.junk !== undefined) return false;
  const lx = new Lexer(new SourceText(a.spell + b.spell, ''), []);
  const x = lx.scan();
  const y = lx.scan();
  return x !== null && y !== null && lx.scan() === null && x.spell === a.spell && y.spell === b.spell && !y.ws;
}

const isArgJunk = (t: Token): boolean => t.junk === 'nested_arg' || t.junk === 'invalid_arg';
/** Lexed entirely from the script text (also inside a macro body), so it can be copied from it. */
const verbatim = (t: Token): boolean => t.start !== undefined && t.end !== undefined;

/**
 * Whether the preprocessor would hand the grammar `text` unchanged, from a look at the raw text:
 * nothing to paste ($N @N $# @#), no conditional (%( %? %: %)), no @define and no use of a
 * library macro. Any of them in a string or a comment also says no: only the token passes can
 * tell, and then they run. Without them every token is copied from the script with what lies
 * between (junk tokens included: they are reported by the grammar), so lexing the whole script
 * only to render it back was most of the preprocessing time of an ordinary script.
 */
function untouched(text: string, library: ReadonlyMap<string, MacroDecl> | undefined): boolean {
  if (/[$@][0-9#]|%[(?:)]|@define/.test(text)) return false;
  if (library !== undefined && library.size > 0) {
    // the lexer's @word: '@' and identifier characters ('$' included)
    for (const m of text.matchAll(/@([A-Za-z0-9_$]*)/g)) if (library.has(m[1])) return false;
  }
  return true;
}

/** Runs the preprocessor over a script; throws DiagnosticError with stap's message on failure. */
export function preprocess(text: string, file: string, options: PreprocessOptions = {}): Preprocessed {
  const args = options.args ?? [];
  const source = new SourceText(text, file);
  const lexer = new Lexer(source, args);
  let library: Map<string, MacroDecl> | undefined;
  const tokens: Token[] = [];
  try {
    if (options.tapsets?.length) library = loadLibraryMacros(options.tapsets);
    if (untouched(text, library)) return { text, identity: true, locAt: (offset) => source.locAt(offset), junkAt: () => undefined };
    const macros = new MacroExpander(lexer, options.warnings, library);
    let facts = options.facts;
    const pp = new Conditionals(macros, () => (facts ??= hostFacts()));
    for (let t = pp.scan(); t !== null; t = pp.scan()) tokens.push(t);
  } catch (e) {
    if (!(e instanceof PreprocessError)) throw e;
    const diags: Diagnostic[] = [];
    for (let x: PreprocessError | undefined = e; x !== undefined; x = x.chain) {
      const tok = x.tok;
      // as in stap, a junk token's own error (e.g. a bad $N) overrides the parser's
      const message = tok?.junk !== undefined ? junkMessage(tok.junk, args.length) : x.message;
      diags.push(diagnostic('parse error', message, tok ? tok.loc : source.locAt(text.length)));
    }
    throw new DiagnosticError(diags);
  }

  const r = new Renderer(source);
  let prev: Token | undefined;
  for (const t of tokens) {
    const next = prev !== undefined && t.seq === prev.seq + 1 && !t.pasteBefore; // lexed right after prev
    if (prev === undefined) {
      if (verbatim(t) && t.seq === 0 && !t.pasteBefore) r.copy(0, t.start!);
    } else if (next && verbatim(prev) && verbatim(t)) {
      r.copy(prev.end!, t.start!); // the whitespace and comments between them
    } else if (prev.junk === 'unclosed_quote') {
      r.fixed('\n', t.loc); // an unclosed string runs to the end of its line
    } else if (!t.ws && (next || joins(prev, t))) {
      // no whitespace between them, as in `syscall.$1` with "open*": keep it that way where
      // the two still read as the same two tokens (probe point components depend on it)
    } else {
      r.fixed(' ', t.loc);
    }
    if (isArgJunk(t)) {
      r.junk.set(r.text.length, { loc: t.loc, message: junkMessage(t.junk!, args.length) });
      r.fixed(JUNK_CHAR, t.loc);
    } else if (verbatim(t)) {
      r.copy(t.start!, t.end!);
    } else {
      r.fixed(t.spell, t.loc);
    }
    prev = t;
  }
  // Trailing whitespace and comments after the script's last token (or the whole script when
  // it has no tokens at all) are kept, so that e.g. an unterminated comment is still reported.
  if (prev === undefined) {
    if (lexer.sequence === 0 && !lexer.pastedSinceLastToken) r.copy(0, text.length);
  } else if (verbatim(prev) && prev.seq === lexer.sequence - 1 && !lexer.pastedSinceLastToken) {
    r.copy(prev.end!, text.length);
  }

  const identity = r.identity && r.text === text;
  return {
    text: identity ? text : r.text,
    identity,
    locAt: (offset) => (identity ? source.locAt(offset) : r.locAt(offset)),
    junkAt: (offset) => r.junk.get(offset),
  };
}
