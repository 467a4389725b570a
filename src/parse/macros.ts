// Preprocessing pass 1: macro definition and expansion (stap's parser::scan_pp1).
//
//   @define NAME %( BODY %)
//   @define NAME(a, b, ...) %( BODY %)       body refers to parameters as @a, @b
//   @NAME   @NAME(arg1, arg2, ...)            invocation
//
// A macro is known textually after its definition; definitions do not nest and are forbidden
// inside macro bodies. Arguments are token lists split at top-level commas (nesting counted
// over () and []); an argument is expanded where the parameter is used, in the context of the
// invocation. A parameterless macro leaves a following "(...)" alone. Unknown @words pass
// through unchanged (they are operators like @cast). Expanded tokens keep the location of the
// body (or argument) text they come from, and `chain` names the invocation.
//
// Library macros (stap's parse_library_macros): every `*.stpm` file of the tapset directories
// (and -I directories) is read for @define definitions only; anything else a file produces is
// "unexpected token in library macro file". Their macros are visible in every script and
// tapset file, after the file's own (a file may define a macro of the same name). A name
// defined by two library files is an error naming both definitions. Body tokens keep their
// location in the .stpm file, so errors inside an expansion point there.
import * as fs from 'fs';
import * as path from 'path';
import type { Diagnostic } from '../diag/diagnostic';
import { diagnostic } from '../diag/diagnostic';
import { ATWORDS, Lexer, PreprocessError, SourceText, type Token } from './lexer';

export interface MacroDecl {
  tok: Token; // the name in the definition (or, for a parameter, the invocation)
  formalArgs: string[];
  body: Token[];
  /** For a parameter: the activation that was current where the macro was invoked. */
  parentAct?: Activation | null;
}

interface Activation {
  tok: Token; // the invocation
  cursor: number;
  params: Map<string, MacroDecl>;
  macro: MacroDecl;
}

const isOp = (t: Token | null, op: string): boolean => t !== null && t.type === 'op' && t.content === op;

export class MacroExpander {
  private readonly namespace = new Map<string, MacroDecl>();
  private readonly stack: Activation[] = [];

  constructor(
    private readonly input: Lexer,
    private readonly warnings: Diagnostic[] = [],
    private readonly library: ReadonlyMap<string, MacroDecl> = new Map(),
  ) {}

  /** The macros this input defined (for a library file). */
  get defined(): ReadonlyMap<string, MacroDecl> {
    return this.namespace;
  }

  /** Grab a token from the current input source: the file or the innermost macro body. */
  private next(): Token | null {
    const act = this.stack[this.stack.length - 1];
    if (act === undefined) return this.input.scan();
    if (act.cursor < act.macro.body.length) {
      const t = act.macro.body[act.cursor++];
      return { ...t, chain: act.tok };
    }
    return null; // end of the macro body
  }

  /** The next token after macro processing; `ignoreMacros` (in skipped conditional text) leaves @define alone. */
  scan(ignoreMacros = false): Token | null {
    for (;;) {
      let t = this.next();
      if (t === null) {
        if (this.stack.length === 0) return null; // end of file
        this.stack.pop(); // end of a macro body: continue after the invocation
        continue;
      }

      if (isOp(t, '@define') && !ignoreMacros) {
        if (this.stack.length > 0) throw new PreprocessError("'@define' forbidden inside macro body", t);
        this.define();
        continue;
      }

      if (t.type === 'op' && t.content[0] === '@') {
        const name = t.content.slice(1);
        const act = this.stack[this.stack.length - 1] ?? null;
        let decl: MacroDecl | undefined;
        if (act !== null && act.params.has(name)) decl = act.params.get(name);
        else decl = this.namespace.get(name) ?? this.library.get(name);
        if (decl === undefined) return t; // an ordinary @operator

        const inv: Activation = { tok: t, cursor: 0, params: new Map(), macro: decl };
        const n = decl.formalArgs.length;
        if (n === 0 && decl.parentAct) {
          // a parameter used inside a macro body: expand it where the macro was invoked
          inv.params = decl.parentAct.params;
        } else if (n > 0) {
          // arguments (no macro processing while collecting them, as in stap)
          t = this.next();
          if (!isOp(t, '(')) {
            throw new PreprocessError(
              `expected '(' in invocation of macro '@${name}' taking ${n} parameter${n === 1 ? '' : 's'}`,
              t,
            );
          }
          for (let i = 0; i < n; i++) {
            const param: MacroDecl = { tok: inv.tok, formalArgs: [], body: [], parentAct: act };
            inv.params.set(decl.formalArgs[i], param);
            t = this.slurpParam(param.body);
            if (t === null) throw new PreprocessError('could not find end of macro invocation', inv.tok);
            if (isOp(t, ',')) {
              if (i + 1 === n) throw new PreprocessError(`too many parameters for macro '@${name}' (expected ${n})`, t);
            } else if (isOp(t, ')')) {
              if (i + 1 !== n) throw new PreprocessError(`too few parameters for macro '@${name}' (expected ${n})`, t);
            } else {
              throw new PreprocessError("expected ',' or ')' after macro parameter", t);
            }
          }
        }
        this.stack.push(inv);
        continue;
      }

      return t;
    }
  }

  /** `@define` was just read: the signature and body follow, straight from the lexer. */
  private define(): void {
    let t = this.input.scan();
    if (t === null || t.type !== 'ident') throw new PreprocessError('expected identifier', t);
    const name = t.content;
    const previous = this.namespace.get(name);
    if (previous !== undefined) {
      const e = new PreprocessError(`attempt to redefine macro '@${name}' in the same file`, t);
      e.chain = new PreprocessError(`macro '@${name}' first defined here`, previous.tok);
      throw e;
    }
    if (name === 'define') throw new PreprocessError("attempt to redefine '@define'", t);
    if (ATWORDS.has(name)) this.warnings.push(diagnostic('WARNING', `macro redefines built-in operator '@${name}'`, t.loc));

    const decl: MacroDecl = { tok: t, formalArgs: [], body: [] };
    this.namespace.set(name, decl);

    let sawParams = false;
    t = this.input.scan();
    if (isOp(t, '(')) {
      sawParams = true;
      for (;;) {
        t = this.input.scan();
        if (t === null || t.type !== 'ident') throw new PreprocessError('expected identifier', t);
        decl.formalArgs.push(t.content);
        t = this.input.scan();
        if (isOp(t, ',')) continue;
        if (isOp(t, ')')) {
          t = this.input.scan();
          break;
        }
        throw new PreprocessError("expected ',' or ')'", t);
      }
    }
    if (!isOp(t, '%(')) throw new PreprocessError(sawParams ? "expected '%('" : "expected '%(' or '('", t);
    if (this.slurpBody(decl.body) === null) throw new PreprocessError("incomplete macro definition - missing '%)'", decl.tok);
  }

  /** One invocation argument, up to an unnested ',' or ')' (returned; null at the end). */
  private slurpParam(out: Token[]): Token | null {
    let nesting = 0;
    for (;;) {
      const t = this.next();
      if (t === null) return null;
      if (isOp(t, '(') || isOp(t, '[')) nesting++;
      else if (nesting > 0 && (isOp(t, ')') || isOp(t, ']'))) nesting--;
      else if (nesting === 0 && (isOp(t, ')') || isOp(t, ','))) return t;
      out.push(t);
    }
  }

  /** A macro body, up to the '%)' matching its '%(' (returned; null at the end). */
  private slurpBody(out: Token[]): Token | null {
    let nesting = 0;
    for (;;) {
      const t = this.next();
      if (t === null) return null;
      if (isOp(t, '%(')) nesting++;
      else if (nesting > 0 && isOp(t, '%)')) nesting--;
      else if (nesting === 0 && isOp(t, '%)')) return t;
      out.push(t);
    }
  }
}

const libraryCache = new Map<string, Map<string, MacroDecl>>();

/**
 * The library macros of the `*.stpm` files in `dirs` (each directory's files sorted by name),
 * read once per process. Throws PreprocessError on an error in a file or a duplicate name.
 */
export function loadLibraryMacros(dirs: readonly string[]): Map<string, MacroDecl> {
  const key = dirs.join('\0');
  const cached = libraryCache.get(key);
  if (cached !== undefined) return cached;
  const all = new Map<string, MacroDecl>();
  for (const dir of dirs) {
    let names: string[];
    try {
      names = fs.readdirSync(dir).filter((n) => n.endsWith('.stpm')).sort();
    } catch {
      continue;
    }
    for (const n of names) {
      const file = path.join(dir, n);
      const lexer = new Lexer(new SourceText(fs.readFileSync(file, 'latin1'), file), []);
      const mx = new MacroExpander(lexer, [], all);
      const t = mx.scan();
      if (t !== null) throw new PreprocessError(`unexpected token in library macro file '${file}'`, t);
      for (const [name, decl] of mx.defined) {
        const first = all.get(name);
        if (first !== undefined) {
          const e = new PreprocessError(`duplicate definition of library macro '@${name}'`, decl.tok);
          e.chain = new PreprocessError(`macro '@${name}' first defined here`, first.tok);
          throw e;
        }
      }
      for (const [name, decl] of mx.defined) all.set(name, { ...decl, body: decl.body.map(foreign) });
    }
  }
  libraryCache.set(key, all);
  return all;
}

/** A token from another file: rendered from its spelling with its own location, never copied. */
const foreign = (t: Token): Token => ({ ...t, start: undefined, end: undefined, seq: -2 });
