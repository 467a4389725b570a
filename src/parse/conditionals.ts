// Preprocessing pass 2: conditional compilation (stap's parser::scan_pp / skip_pp /
// eval_pp_conditional).
//
//   %( CONDITION %? TRUE-TOKENS %)
//   %( CONDITION %? TRUE-TOKENS %: FALSE-TOKENS %)
//
// CONDITION is `A op B` terms joined by && and || (&& binds tighter, no parentheses), where
// A op B is one of
//   kernel_v / kernel_vr / systemtap_v  <,<=,==,!=,>,>=  "version"   (strverscmp; with == and !=
//                                                                     a pattern with * ? [ is an fnmatch)
//   arch / runtime                      == !=  "pattern"              (fnmatch)
//   systemtap_privilege                 == !=  "stapusr|stapsys|stapdev"
//   guru_mode                           == !=  0 | 1
//   CONFIG_X                            == !=  "pattern"   (an unset option is "")
//   CONFIG_X                            op     number      (the option's value as a C integer)
//   CONFIG_X                            op     CONFIG_Y    (as numbers if both are, else strings)
//   "string" op "string",  number op number   (e.g. $# > 1, @1 == "x")
// Every term is evaluated (no short circuit), so each must be well formed. Skipped text is
// only scanned for nested %( %: %? %) (and its macro invocations), never parsed; errors in it
// are ignored, as in stap.
import type { Facts } from './facts';
import { PreprocessError, type Token } from './lexer';
import type { MacroExpander } from './macros';

type PPState = 'keep_then' | 'skip_then' | 'keep_else' | 'skip_else';

const isOp = (t: Token | null, op: string): boolean => t !== null && t.type === 'op' && t.content === op;

/** glibc strverscmp(): compare strings holding version numbers (result -1, 0 or 1). */
export function strverscmp(s1: string, s2: string): number {
  const S_N = 0;
  const S_I = 3;
  const S_F = 6;
  const S_Z = 9;
  const CMP = 2;
  const LEN = 3;
  // prettier-ignore
  const nextState = [
    /* S_N */ S_N, S_I, S_Z,
    /* S_I */ S_N, S_I, S_I,
    /* S_F */ S_N, S_F, S_F,
    /* S_Z */ S_N, S_F, S_Z,
  ];
  // prettier-ignore
  const resultType = [
    /* S_N */ CMP, CMP, CMP, CMP, LEN, CMP, CMP, CMP, CMP,
    /* S_I */ CMP, -1, -1, +1, LEN, LEN, +1, LEN, LEN,
    /* S_F */ CMP, CMP, CMP, CMP, CMP, CMP, CMP, CMP, CMP,
    /* S_Z */ CMP, +1, +1, -1, CMP, CMP, -1, CMP, CMP,
  ];
  const at = (s: string, i: number): number => (i < s.length ? s.charCodeAt(i) & 0xff : 0);
  const digit = (c: number): boolean => c >= 48 && c <= 57;
  const cls = (c: number): number => (c === 48 ? 1 : 0) + (digit(c) ? 1 : 0);
  const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);

  let i1 = 0;
  let i2 = 0;
  let c1 = at(s1, i1++);
  let c2 = at(s2, i2++);
  let state = S_N + cls(c1);
  let diff: number;
  while ((diff = c1 - c2) === 0) {
    if (c1 === 0) return 0;
    state = nextState[state];
    c1 = at(s1, i1++);
    c2 = at(s2, i2++);
    state += cls(c1);
  }
  const r = resultType[state * 3 + cls(c2)];
  if (r === CMP) return sign(diff);
  if (r === LEN) {
    while (digit(at(s1, i1++))) if (!digit(at(s2, i2++))) return 1;
    return digit(at(s2, i2)) ? -1 : sign(diff);
  }
  return r;
}

/** fnmatch(pattern, s, FNM_NOESCAPE): * ? [...] ([!...] / [^...] negated, ranges, [:class:]). */
export function fnmatch(pattern: string, s: string): boolean {
  const CLASSES: Record<string, (c: string) => boolean> = {
    alnum: (c) => /[A-Za-z0-9]/.test(c),
    alpha: (c) => /[A-Za-z]/.test(c),
    blank: (c) => c === ' ' || c === '\t',
    cntrl: (c) => c.charCodeAt(0) < 32 || c.charCodeAt(0) === 127,
    digit: (c) => /[0-9]/.test(c),
    graph: (c) => c.charCodeAt(0) > 32 && c.charCodeAt(0) < 127,
    lower: (c) => /[a-z]/.test(c),
    print: (c) => c.charCodeAt(0) >= 32 && c.charCodeAt(0) < 127,
    punct: (c) => /[!-/:-@[-`{-~]/.test(c),
    space: (c) => /[ \t\n\v\f\r]/.test(c),
    upper: (c) => /[A-Z]/.test(c),
    xdigit: (c) => /[0-9A-Fa-f]/.test(c),
  };

  /** Matches a bracket expression starting at pattern[p] === '['; returns [matched, index after] or null if unclosed. */
  const bracket = (p: number, c: string): [boolean, number] | null => {
    let i = p + 1;
    let negate = false;
    if (pattern[i] === '!' || pattern[i] === '^') {
      negate = true;
      i++;
    }
    let matched = false;
    let first = true;
    while (i < pattern.length && (first || pattern[i] !== ']')) {
      first = false;
      if (pattern[i] === '[' && pattern[i + 1] === ':') {
        const end = pattern.indexOf(':]', i + 2);
        if (end > 0) {
          const fn = CLASSES[pattern.slice(i + 2, end)];
          if (fn && fn(c)) matched = true;
          i = end + 2;
          continue;
        }
      }
      const lo = pattern[i];
      if (pattern[i + 1] === '-' && i + 2 < pattern.length && pattern[i + 2] !== ']') {
        const hi = pattern[i + 2];
        if (lo <= c && c <= hi) matched = true;
        i += 3;
      } else {
        if (lo === c) matched = true;
        i++;
      }
    }
    if (i >= pattern.length) return null; // no closing ']': the '[' is an ordinary character
    return [matched !== negate, i + 1];
  };

  const match = (p: number, i: number): boolean => {
    while (p < pattern.length) {
      const pc = pattern[p];
      if (pc === '*') {
        while (pattern[p] === '*') p++;
        if (p === pattern.length) return true;
        for (let k = i; k <= s.length; k++) if (match(p, k)) return true;
        return false;
      }
      if (i >= s.length) return false;
      if (pc === '?') {
        p++;
        i++;
        continue;
      }
      if (pc === '[') {
        const r = bracket(p, s[i]);
        if (r !== null) {
          if (!r[0]) return false;
          p = r[1];
          i++;
          continue;
        }
      }
      if (pc !== s[i]) return false;
      p++;
      i++;
    }
    return i === s.length;
  };
  return match(0, 0);
}

/** stap's lex_cast<int64_t>() of a number token: decimal digits only, in range. */
function lexCastInt(t: Token): bigint {
  if (!/^[0-9]+$/.test(t.content)) throw new PreprocessError('bad lexical cast', t);
  const v = BigInt(t.content);
  if (v > (1n << 63n) - 1n) throw new PreprocessError('bad lexical cast', t);
  return v;
}

/** strtoll(s, &end, 0) that must consume all of s; null when it does not (or overflows). */
function strtoll(s: string): bigint | null {
  if (s === '') return 0n;
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (!m) return null;
  const digits = m[2];
  const mag = /^0[xX]/.test(digits) ? BigInt(digits) : digits.length > 1 && digits[0] === '0' ? BigInt('0o' + digits.slice(1)) : BigInt(digits);
  const v = m[1] === '-' ? -mag : mag;
  if (v > (1n << 63n) - 1n || v < -(1n << 63n)) return null;
  return v;
}

function compare<T extends bigint | string>(lhs: T, op: Token, rhs: T): boolean {
  if (op.type === 'op') {
    switch (op.content) {
      case '<=':
        return lhs <= rhs;
      case '>=':
        return lhs >= rhs;
      case '<':
        return lhs < rhs;
      case '>':
        return lhs > rhs;
      case '==':
        return lhs === rhs;
      case '!=':
        return lhs !== rhs;
    }
  }
  throw new PreprocessError('expected comparison operator', op);
}

/** == / != over a match result. */
function equality(matched: boolean, op: Token): boolean {
  if (isOp(op, '==')) return matched;
  if (isOp(op, '!=')) return !matched;
  throw new PreprocessError("expected '==' or '!='", op);
}

/** stap's eval_pp_conditional(): one `l op r` term. */
export function evalCondition(facts: Facts, l: Token, op: Token, r: Token): boolean {
  const ident = l.type === 'ident' ? l.content : null;

  if (ident === 'kernel_v' || ident === 'kernel_vr' || ident === 'systemtap_v') {
    if (r.type !== 'string') throw new PreprocessError('expected string literal', r);
    const release = facts.kernelRelease;
    const dash = release.indexOf('-');
    const target =
      ident === 'kernel_v' ? (dash < 0 ? release : release.slice(0, dash)) : ident === 'kernel_vr' ? release : facts.systemtapVersion;
    const query = r.content;
    const wildcard = /[*?[]/.test(query);
    let ok: [number, number];
    let wcOk = false;
    switch (op.type === 'op' ? op.content : '') {
      case '<=':
        ok = [-1, 0];
        break;
      case '>=':
        ok = [1, 0];
        break;
      case '<':
        ok = [-1, -1];
        break;
      case '>':
        ok = [1, 1];
        break;
      case '==':
        ok = [0, 0];
        wcOk = true;
        break;
      case '!=':
        ok = [-1, 1];
        wcOk = true;
        break;
      default:
        throw new PreprocessError('expected comparison operator', op);
    }
    if (!wcOk && wildcard) throw new PreprocessError('wildcard not allowed with order comparison operators', op);
    if (wildcard) return fnmatch(query, target) === (op.content === '==');
    const rvc = strverscmp(target, query);
    return rvc === ok[0] || rvc === ok[1];
  }

  if (ident === 'systemtap_privilege') {
    if (r.type !== 'string') throw new PreprocessError('expected string literal', r);
    return equality(facts.privilege === r.content, op);
  }

  if (ident === 'guru_mode') {
    if (r.type !== 'number') throw new PreprocessError('expected number', r);
    const rhs = lexCastInt(r);
    if (rhs !== 0n && rhs !== 1n) throw new PreprocessError('expected 0 or 1', op);
    if (!isOp(op, '==') && !isOp(op, '!=')) throw new PreprocessError("expected '==' or '!='", op);
    return compare(BigInt(facts.guruMode), op, rhs);
  }

  if (ident === 'arch' || ident === 'runtime') {
    if (r.type !== 'string') throw new PreprocessError('expected string literal', r);
    return equality(fnmatch(r.content, ident === 'arch' ? facts.arch : facts.runtime), op);
  }

  if (ident !== null && ident.startsWith('CONFIG_')) {
    const lhs = facts.config(ident);
    if (r.type === 'string') return equality(fnmatch(r.content, lhs), op);
    if (r.type === 'number') {
      const n = strtoll(lhs);
      if (n === null) throw new PreprocessError('Config option value not a number', l);
      return compare(n, op, lexCastInt(r));
    }
    if (r.type === 'ident' && r.content.startsWith('CONFIG_')) {
      const rhs = facts.config(r.content);
      const a = strtoll(lhs);
      const b = a === null ? null : strtoll(rhs);
      if (a !== null && b !== null) return compare(a, op, b);
      return compare(lhs, op, rhs);
    }
    throw new PreprocessError('expected string, number literal or other CONFIG_... as right side operand', r);
  }

  if (l.type === 'string' && r.type === 'string') return compare(l.content, op, r.content);
  if (l.type === 'number' && r.type === 'number') return compare(lexCastInt(l), op, lexCastInt(r));
  if (l.type === 'string' && r.type === 'number' && op.type === 'op') throw new PreprocessError('expected string literal as right value', r);
  if (l.type === 'number' && r.type === 'string' && op.type === 'op') throw new PreprocessError('expected number literal as right value', r);
  throw new PreprocessError(
    "expected 'arch', 'kernel_v', 'kernel_vr', 'systemtap_v',\n" +
      "             'runtime', 'systemtap_privilege', 'CONFIG_...', or\n" +
      '             comparison between strings or integers',
    l,
  );
}

export class Conditionals {
  private readonly state: { tok: Token; pp: PPState }[] = [];

  constructor(
    private readonly macros: MacroExpander,
    private readonly facts: () => Facts,
  ) {}

  /** The next token of the kept text, or null at the end of the input. */
  scan(): Token | null {
    for (;;) {
      const top = this.state[this.state.length - 1];
      const pp = top?.pp;
      const t = pp === 'skip_then' || pp === 'skip_else' ? this.skip() : this.macros.scan();

      if (t === null) {
        if (top !== undefined) {
          this.state.pop();
          throw new PreprocessError('incomplete conditional at end of file', top.tok);
        }
        return null;
      }
      if (isOp(t, '%?')) throw new PreprocessError("incomplete conditional - missing '%('", t);
      if (isOp(t, '%:')) {
        if (top === undefined) throw new PreprocessError("incomplete conditional - missing '%('", t);
        if (pp === 'keep_else' || pp === 'skip_else') throw new PreprocessError("invalid conditional - duplicate '%:'", t);
        top.pp = pp === 'keep_then' ? 'skip_else' : 'keep_else';
        continue;
      }
      if (isOp(t, '%)')) {
        if (top === undefined) throw new PreprocessError("incomplete conditional - missing '%('", t);
        this.state.pop();
        continue;
      }
      if (!isOp(t, '%(')) return t;

      // %( CONDITION %?
      let result = false;
      let andResult = true;
      let n: Token | null;
      for (;;) {
        const l = this.macros.scan();
        const op = this.macros.scan();
        const r = this.macros.scan();
        if (l === null || op === null || r === null) throw new PreprocessError("incomplete condition after '%('", t);
        andResult = evalCondition(this.facts(), l, op, r) && andResult;
        n = this.macros.scan();
        if (isOp(n, '&&')) continue;
        result ||= andResult;
        andResult = true;
        if (!isOp(n, '||')) break;
      }
      if (!isOp(n, '%?')) throw new PreprocessError("expected '%?' marker for conditional", t);
      this.state.push({ tok: t, pp: result ? 'keep_then' : 'skip_then' });
    }
  }

  /** Skips tokens (and any errors) up to the %: %? or %) that ends this branch. */
  private skip(): Token | null {
    let nesting = 0;
    for (;;) {
      let t: Token | null;
      try {
        t = this.macros.scan(true);
      } catch (e) {
        if (e instanceof PreprocessError) continue;
        throw e;
      }
      if (t === null) return null;
      if (isOp(t, '%(')) nesting++;
      else if (nesting > 0 && isOp(t, '%)')) nesting--;
      else if (nesting === 0 && (isOp(t, '%:') || isOp(t, '%?') || isOp(t, '%)'))) return t;
    }
  }
}
