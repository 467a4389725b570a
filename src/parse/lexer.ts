// Preprocessing pass 0: stap's lexer (parse.cxx lexer::scan), including the pasting of
// command-line arguments.
//
// The peggy grammar is scannerless, but stap's preprocessor (macros, %( %) conditionals,
// $1/@1/$#/@#) works on tokens, so the preprocessing passes need stap's own tokenisation:
// the same token boundaries, the same comments, the same "junk" tokens.
//
// Arguments: `$N` (`@N`) at the beginning of a token inserts argument N (quoted as a string
// literal) into the input character stream, where it is tokenised like any other text and may
// even run into the following source characters. `$#` / `@#` insert the number of arguments.
// Every token lexed from inserted characters is located at the `$N` that inserted them, as in
// stap. A `$N` out of range, or one inside inserted text, becomes a junk token that reports
// its error only if the parser (or the preprocessor) actually reaches it, as in stap.
import type { Loc } from './ast';

export type TokenType = 'ident' | 'keyword' | 'op' | 'string' | 'number' | 'embedded' | 'junk';

export type JunkKind = 'unknown' | 'nested_arg' | 'invalid_arg' | 'unclosed_quote' | 'unclosed_embedded';

export interface Token {
  type: TokenType;
  /**
   * stap's token content: the identifier/keyword/number/operator text (`@name` for @-words);
   * for strings the text between the quotes with stap's escape handling (unknown escapes lose
   * their backslash); for embedded code the text between %{ and %}.
   */
  content: string;
  /** The characters the token was lexed from, quotes and all: what the grammar will see. */
  spell: string;
  loc: Loc;
  /** [start, end) in the source text, when the whole token was lexed from it (not pasted). */
  start?: number;
  end?: number;
  /** Lexer order; tokens whose seq differ by one were lexed one after the other. */
  seq: number;
  /** Whitespace or a comment came before this token (stap's lexer::ate_whitespace). */
  ws: boolean;
  /** An argument ($N, @N, $#, @#) was pasted between the previous token and this one. */
  pasteBefore: boolean;
  junk?: JunkKind;
  /** The macro invocation this token was expanded from (stap's token::chain). */
  chain?: Token;
}

/** A preprocessing error: stap's PARSE_ERROR(message, token); a null token means end of input. */
export class PreprocessError extends Error {
  /** A second error printed after this one (stap's parse_error::chain). */
  chain?: PreprocessError;

  constructor(
    message: string,
    readonly tok: Token | null,
  ) {
    super(message);
  }
}

/** stap's token::junk_message(). */
export function junkMessage(kind: JunkKind, nargs: number): string {
  switch (kind) {
    case 'nested_arg':
      return 'invalid nested substitution of command line arguments';
    case 'invalid_arg':
      return `command line argument out of range [1-${nargs}]`;
    case 'unclosed_quote':
      return 'Could not find matching closing quote';
    case 'unclosed_embedded':
      return "Could not find matching '%}' to close embedded function block";
    case 'unknown':
      return 'unknown junk token';
  }
}

/** The script text with its file name and a line table, for offset -> Loc. */
export class SourceText {
  private readonly lineStarts: number[] = [0];

  constructor(
    readonly text: string,
    readonly file: string,
  ) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }

  locAt(offset: number): Loc {
    const o = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= o) lo = mid;
      else hi = mid - 1;
    }
    return { file: this.file, line: lo + 1, col: o - this.lineStarts[lo] + 1, offset: o };
  }
}

// stap 5.0's keyword set (lexer::lexer with compatible >= 3.0).
const KEYWORDS = new Set([
  'probe', 'global', 'private', 'function', 'if', 'else', 'for', 'foreach', 'in', 'limit',
  'return', 'delete', 'while', 'break', 'continue', 'next', 'string', 'long', 'try', 'catch',
]);

/** stap's built-in @operators (lexer::atwords); a macro of the same name draws a warning. */
export const ATWORDS = new Set([
  'cast', 'defined', 'probewrite', 'entry', 'perf', 'var', 'avg', 'count', 'sum', 'min', 'max',
  'hist_linear', 'hist_log', 'const', 'variance', 'kregister', 'uregister', 'kderef', 'uderef',
]);

// C-locale character classes over byte values.
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isAlpha = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isAlnum = (c: number): boolean => isDigit(c) || isAlpha(c);
const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13);
const isPunct = (c: number): boolean => c > 32 && c < 127 && !isAlnum(c);

// Operators of two characters, in stap's matching order (after the three-character ones).
const OPS2 = new Set([
  '==', '!=', '<=', '>=', '=~', '!~', '+=', '-=', '*=', '/=', '%=', '&=', '^=', '|=', '.=',
  '&&', '||', '++', '--', '->', '<<', '>>', '%(', '%?', '%:', '%)',
]);
const OPS3 = new Set(['<<<', '>>>', '<<=', '>>=']);

/** stap's lex_cast_qstring(): the argument as a string literal, non-printables as \ooo. */
export function quoteArg(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) & 0xff;
    if (c === 0) break; // a C string ends here
    if (c < 0x20 || c > 0x7e) out += '\\' + c.toString(8).padStart(3, '0');
    else if (c === 0x22 || c === 0x5c) out += '\\' + s[i];
    else out += s[i];
  }
  return out + '"';
}

export class Lexer {
  private pos = 0; // next character of the source text
  private pend = ''; // characters inserted by $N / @N / $# / @#, read before the source
  private pendPos = 0;
  private pendLoc: Loc | undefined; // where the inserted characters came from
  private seq = 0;
  private ws = false;
  private pasted = false;
  /** An argument was pasted after the last token handed out. */
  get pastedSinceLastToken(): boolean {
    return this.pasted;
  }

  readonly args: readonly string[];

  constructor(
    readonly src: SourceText,
    args: readonly string[],
  ) {
    // arguments are byte strings like the script; text with other characters becomes its UTF-8
    this.args = args.map((a) => (/^[\x00-\xff]*$/.test(a) ? a : Buffer.from(a, 'utf8').toString('latin1')));
  }

  /** Number of sequence numbers handed out so far. */
  get sequence(): number {
    return this.seq;
  }

  private get suspended(): boolean {
    return this.pendPos < this.pend.length;
  }

  private peek(n = 0): number {
    const inPend = this.pend.length - this.pendPos;
    if (n < inPend) return this.pend.charCodeAt(this.pendPos + n);
    const i = this.pos + (n - inPend);
    return i < this.src.text.length ? this.src.text.charCodeAt(i) : -1;
  }

  /** Reads one character; `pasted` tells whether it came from an inserted argument. */
  private get(): { c: number; pasted: boolean } {
    if (this.pendPos < this.pend.length) return { c: this.pend.charCodeAt(this.pendPos++), pasted: true };
    if (this.pos < this.src.text.length) return { c: this.src.text.charCodeAt(this.pos++), pasted: false };
    return { c: -1, pasted: false };
  }

  /** stap's lexer::input_put(): insert characters at the read position. */
  private put(chars: string, loc: Loc): void {
    this.pend = chars + this.pend.slice(this.pendPos);
    this.pendPos = 0;
    this.pendLoc = loc;
  }

  /** The next token, or null at the end of the input. */
  scan(): Token | null {
    for (;;) {
      const suspended = this.suspended;
      if (!suspended) {
        // a run of the source's whitespace at once: the loop below takes one character per turn,
        // with a location and closures each, which made blank space a measurable cost
        const text = this.src.text;
        let p = this.pos;
        while (p < text.length && isSpace(text.charCodeAt(p))) p++;
        if (p !== this.pos) {
          this.pos = p;
          this.ws = true;
        }
      }
      const start = this.pos;
      const loc = suspended ? this.pendLoc! : this.src.locAt(this.pos);
      // the characters read for this token: a slice of the source unless it reads inserted
      // argument text (only put() inserts, and a token that follows one starts suspended)
      let pendSpell = '';
      const spelled = (): string => (suspended ? pendSpell : this.src.text.slice(start, this.pos));
      const get = (): number => {
        const { c } = this.get();
        if (c >= 0 && suspended) pendSpell += String.fromCharCode(c);
        return c;
      };
      const make = (type: TokenType, content: string, junk?: JunkKind): Token => {
        const t: Token = { type, content, spell: spelled(), loc, seq: this.seq++, ws: this.ws, pasteBefore: this.pasted };
        this.ws = false;
        this.pasted = false;
        if (!suspended) {
          t.start = start;
          t.end = this.pos;
        }
        if (junk) t.junk = junk;
        return t;
      };

      let c = get();
      if (c < 0) return null;
      if (isSpace(c)) {
        this.ws = true;
        continue;
      }
      let c2 = this.peek();

      // Command-line arguments, pasted as characters at the beginning of a token.
      if ((c === 36 || c === 64) && c2 === 35) {
        // $# @#
        get();
        if (suspended) return make('junk', spelled(), 'nested_arg');
        const n = String(this.args.length);
        this.put(c === 36 ? n : quoteArg(n), loc);
        this.pasted = true;
        continue;
      }
      if ((c === 36 || c === 64) && isDigit(c2)) {
        let idx = 0;
        do {
          get();
          idx = idx * 10 + (c2 - 48);
          c2 = this.peek();
        } while (c2 > 0 && isDigit(c2) && idx <= this.args.length);
        if (suspended) return make('junk', spelled(), 'nested_arg');
        if (idx === 0 || idx - 1 >= this.args.length) return make('junk', spelled(), 'invalid_arg');
        const arg = this.args[idx - 1];
        this.put(c === 36 ? arg : quoteArg(arg), loc);
        this.pasted = true;
        continue;
      }

      if (isAlpha(c) || c === 36 || c === 64 || c === 95) {
        let name = String.fromCharCode(c);
        while (isAlnum(c2) || c2 === 95 || c2 === 36) {
          name += String.fromCharCode(get());
          c2 = this.peek();
        }
        if (name[0] === '@') return make('op', name);
        return make(KEYWORDS.has(name) ? 'keyword' : 'ident', name);
      }

      if (isDigit(c)) {
        let text = String.fromCharCode(c);
        while (isAlnum(c2)) {
          text += String.fromCharCode(get());
          c2 = this.peek();
        }
        return make('number', text);
      }

      if (c === 34) {
        // string literal
        let content = '';
        for (;;) {
          c = get();
          if (c < 0 || c === 10) return make('junk', '"' + content, 'unclosed_quote');
          if (c === 34) break;
          if (c === 92) {
            c = get();
            if (c < 0) return make('junk', '"' + content, 'unclosed_quote');
            // known escapes keep their backslash; any other character stands for itself
            if ('xabtnvfr01234567\\'.includes(String.fromCharCode(c))) content += '\\';
            content += String.fromCharCode(c);
          } else {
            content += String.fromCharCode(c);
          }
        }
        return make('string', content);
      }

      if (isPunct(c)) {
        const c3 = this.peek(1);
        if (c === 35 || (c === 47 && c2 === 47)) {
          // # or // comment: to the end of the line (a newline of the source, not of an argument)
          for (;;) {
            const r = this.get();
            if (r.c < 0 || (r.c === 10 && !r.pasted)) break;
          }
          this.ws = true;
          continue;
        }
        if (c === 47 && c2 === 42) {
          // /* comment */ (an unterminated one silently runs to the end, as in stap)
          this.get();
          let a = this.get().c;
          let b = this.get().c;
          while (b >= 0) {
            if (a === 42 && b === 47) break;
            a = b;
            b = this.get().c;
          }
          this.ws = true;
          continue;
        }
        if (c === 37 && c2 === 123) {
          // %{ embedded code %}
          get();
          let body = '';
          let a = get();
          let b = get();
          while (b >= 0) {
            if (a === 37 && b === 125) return make('embedded', body);
            body += String.fromCharCode(a);
            a = b;
            b = get();
          }
          return make('junk', '%{' + body, 'unclosed_embedded');
        }
        let op = String.fromCharCode(c);
        const three = op + String.fromCharCode(c2 < 0 ? 0 : c2) + String.fromCharCode(c3 < 0 ? 0 : c3);
        if (OPS3.has(three)) {
          get();
          get();
          op = three;
        } else if (c2 >= 0 && OPS2.has(op + String.fromCharCode(c2))) {
          get();
          op += String.fromCharCode(c2);
        }
        return make('op', op);
      }

      return make('junk', '\\x' + c.toString(16).padStart(2, '0'), 'unknown');
    }
  }
}
