// Resolves probe points through the providers, builds the symbol table (globals, arrays,
// functions, locals per handler) and infers every symbol's type as stap does: from use,
// across probes and functions, until nothing changes.
import { desugarHistSprint } from './hist-sprint';
import { desugarHistForeach } from './hist-foreach';
import { histBuckets } from '../vm/stats';
import { embeddedFree } from '../parse';
import type * as A from '../parse/ast';
import type { ScalarType } from '../image/image';
import { diagnostic, DiagnosticError, type Diagnostic } from '../diag/diagnostic';
import { resolvePoint, levenshteinSuggest, type ResolvedPoint } from '../probes';
import { isMismatch, pointText } from '../probes/provider';
import type { TracepointField } from '../kernel/tracefs';
import { expandProbes, type ExpandedProbe } from './expand';
import { elaborationWarnings } from './warnings';
import { BUILTINS, OUTPUT_BUILTINS, SPRINT_BUILTINS, findBuiltin } from './builtins';
import { parseFormat, FormatError } from '../output/format';
import { compileEre, RegexError } from '../regex/ere';
import { castAccess, tvarAccess, varAccess, type KernelAccess } from './kaccess';
import { checkForeachWrites } from './foreach-writes';
import { cloneTree, everyChild, forEachChild } from '../parse/walk';

type T = ScalarType | undefined;

export interface GlobalSym {
  name: string;
  decl: A.GlobalDecl;
  type: T;
  /** set when used with [..]: the types of its indices */
  keyTypes?: T[];
  /** where keyTypes' length (stap's arity) was first inferred */
  arityLoc?: A.Loc;
  /** `global a[N]`: N, the array's maximum number of elements */
  maxEntries?: number;
  /** a statistic (`<<<`, @count...): how it accumulates */
  stat?: StatUse;
}

/** What a statistic's uses ask it to keep: a histogram, the variance terms. */
export interface StatUse {
  hist?: { op: 'hist_log' | 'hist_linear'; params: bigint[]; loc: A.Loc };
  variance?: boolean;
  /** @variance(x, shift) */
  shift?: number;
}

const STAT_OPS = '@count, @sum, @min, @max, @avg, @variance';

/** The function a call `name(nargs args)` runs first: the head of its overload chain. */
export function findFunction(functions: Map<string, FunctionSym>, name: string, nargs: number): FunctionSym | undefined {
  const f = functions.get(name);
  if (f) return f;
  return functions.get(`${name}/${nargs}`);
}

/** Declared an array (`global a[N]`, `global a%`) or used as one. */
export function isArray(g: GlobalSym): boolean {
  return g.keyTypes !== undefined || g.decl.size !== undefined || g.decl.wrap === true;
}

export interface LocalSym {
  name: string;
  type: T;
  loc: A.Loc;
  param: boolean;
  /** a parameter declared `name:type` */
  declared?: boolean;
  /** a tapset variable of the probe point (set on entry from the point's TapsetVar) */
  tapset?: boolean;
}

export interface FunctionSym {
  /** `name`, or `name/arity` (`name/arity#i` after the first) when the name is overloaded */
  key: string;
  /** the next function of the same name and arity (by priority): where `next` continues */
  next?: string;
  decl: A.FunctionDecl;
  /** seeded by a declared `function f:type` */
  ret: T | 'void';
  locals: Map<string, LocalSym>;
}

export interface ResolvedProbe {
  /** after alias expansion: the body is the alias prologues/epilogues around the user's */
  decl: A.ProbeDecl;
  pointNode: A.ProbePoint;
  point: ResolvedPoint;
  locals: Map<string, LocalSym>;
  /** the points it was derived through, the written one first (for -p2) */
  derivation: string[];
  via: ExpandedProbe['via'];
}

export interface ResolvedProgram {
  script: A.Script;
  globals: Map<string, GlobalSym>;
  functions: Map<string, FunctionSym>;
  /** one per probe point (a probe with two points gives two entries sharing the decl) */
  probes: ResolvedProbe[];
  /** the `never` probes: type-checked, never compiled; -l and -p2 still show them, as stap does */
  never: ResolvedProbe[];
  /** stap's elaboration warnings (never-assigned locals, unused globals) */
  warnings: Diagnostic[];
}

interface Scope {
  locals: Map<string, LocalSym>;
  probe?: ResolvedProbe;
  fn?: FunctionSym;
}

/** One sentence: why `%{ %}` cannot run here (`-g` changes nothing). */
export const EMBEDDED_C = 'embedded C code is not supported: tapvm runs scripts on its bytecode interpreter and has no kernel-module runtime to compile C into (-g changes nothing)';

export function resolve(script: A.Script): ResolvedProgram {
  const diags: Diagnostic[] = [];
  const err = (msg: string, loc?: A.Loc, chain?: Diagnostic) => {
    if (!diags.some((d) => d.message === msg && d.loc?.offset === loc?.offset)) diags.push({ ...diagnostic('semantic error', msg, loc), ...(chain && { chain }) });
  };
  /** stap's vardecl::set_arity: the mismatch where it is found, then where the arity came from */
  const arityErr = (g: GlobalSym, n: number, loc: A.Loc) =>
    err(`inconsistent arity (${g.keyTypes!.length} vs ${n})`, loc, g.arityLoc && diagnostic('semantic error', `arity ${g.keyTypes!.length} first inferred here`, g.arityLoc));
  /** An array used as a scalar: stap's set_arity(0), or its 'inconsistent arity' at the
   * declaration of a sized array whose indices nothing has used yet */
  const scalarUse = (g: GlobalSym, loc: A.Loc) => {
    if (g.keyTypes) arityErr(g, 0, loc);
    else if (g.decl.size) err('inconsistent arity', g.decl.loc);
    else err(`array '${g.name}' used as a scalar`, loc);
  };

  const globals = new Map<string, GlobalSym>();
  const functions = new Map<string, FunctionSym>();
  const probes: ResolvedProbe[] = [];
  desugarHistSprint(script);
  desugarHistForeach(script, err);

  for (const item of script.items) {
    if (item.kind === 'global') {
      if (globals.has(item.name)) err(`duplicate global '${item.name}'`, item.loc);
      const type: T = item.init ? (item.init.kind === 'number' ? 'long' : 'string') : undefined;
      const g: GlobalSym = { name: item.name, decl: item, type };
      if (item.size) g.maxEntries = Number(item.size.value);
      globals.set(item.name, g);
    } else if (item.kind === 'function') {
      if (BUILTINS.has(item.name) || OUTPUT_BUILTINS.has(item.name) || SPRINT_BUILTINS.has(item.name)) err(`duplicate function '${item.name}'`, item.loc);
    }
  }
  declareFunctions(script.items, functions);
  for (const item of script.items) {
    if (item.kind === 'embedded') err(EMBEDDED_C, item.loc);
    else if (item.kind === 'function' && item.embedded) err(EMBEDDED_C, item.embedded.loc);
    // `%{ %}` inside a probe, alias or function body: the same sentence, once each
    else if ((item.kind === 'probe' || item.kind === 'alias' || item.kind === 'function') && !embeddedFree(item)) {
      const visit = (n: unknown): void => {
        if (!n || typeof n !== 'object') return;
        if (Array.isArray(n)) return n.forEach(visit);
        const e = n as A.Expr;
        if (e.kind === 'embedded') return err(EMBEDDED_C, e.loc);
        forEachChild(e, visit);
      };
      visit(item.body);
    }
  }
  for (const x of expandProbes(script.items, err)) {
    foldDefined(x.decl.body, x.point);
    probes.push({ ...x, locals: new Map() });
  }
  entryVariables(probes);
  desugarEntry(probes, globals, err);
  for (const f of functions.values()) foldDefined(f.decl.body, undefined);
  checkConditions(script.items, globals, err);
  if (diags.length) throw new DiagnosticError(diags);

  let changed = true;
  let final = false;

  /** `note` names a declaration the mismatch conflicts with */
  const setType = (cur: T, t: T, loc: A.Loc, what: string, note = ''): T => {
    if (!t) return cur;
    if (!cur) {
      changed = true;
      return t;
    }
    if (cur !== t) err(`type mismatch for ${what}: ${cur} vs. ${t}${note}`, loc);
    return cur;
  };

  /** Where a declared type came from, for a mismatch message that names both places. */
  const declaredAt = (type: T | 'void', loc: A.Loc) => ` (declared ${type} at ${loc.file}:${loc.line}:${loc.col})`;

  /**
   * A use of the variable `name` (a global, or a local created at its first use) that wants type
   * `want` pushed into it; its type after that. A type is set only where it changes: setType's
   * message texts were built for every use.
   */
  const useVar = (name: string, loc: A.Loc, scope: Scope, want: T): T => {
    const local = scope.locals.get(name);
    if (!local) {
      const g = globals.get(name);
      if (g) {
        if (isArray(g) && final) scalarUse(g, loc);
        if (want && want !== g.type) g.type = setType(g.type, want, loc, `global '${name}'`);
        return g.type;
      }
    }
    let l = local;
    if (!l) {
      // stap's tapset variables (name, argstr, ...) are locals its probe alias sets on entry
      const tv = scope.probe?.point.tapsetVars?.get(name);
      l = { name, type: tv?.type, loc, param: false, tapset: tv !== undefined };
      scope.locals.set(name, l);
    }
    if (want && want !== l.type) l.type = setType(l.type, want, loc, `identifier '${name}'`, l.declared ? declaredAt(l.type, l.loc) : '');
    return l.type;
  };

  const arrayOf = (id: A.Ident, nkeys: number): GlobalSym | undefined => {
    const g = globals.get(id.name);
    if (!g) {
      // stap's symresolution_info::visit_arrayindex (tapvm has no local arrays)
      err(`unresolved arity-${nkeys} global array ${id.name}, missing global declaration?`, id.loc);
      return undefined;
    }
    if (!g.keyTypes) {
      g.keyTypes = Array(nkeys).fill(undefined);
      g.arityLoc = id.loc;
      changed = true;
    } else if (g.keyTypes.length !== nkeys) {
      arityErr(g, nkeys, id.loc);
      return undefined;
    }
    return g;
  };

  /** Types the indices (a slice's `*` says nothing about its index's type). */
  const keysOf = (g: GlobalSym, keys: A.Expr[], scope: Scope) => {
    keys.forEach((k, i) => {
      if (k.kind === 'wildcard') return;
      const t = expr(k, scope, g.keyTypes![i]);
      if (t && t !== g.keyTypes![i]) g.keyTypes![i] = setType(g.keyTypes![i], t, k.loc, `index ${i + 1} of array '${g.name}'`);
    });
  };

  /** The statistic a `<<<`, @op or @hist_op applies to: a global scalar or array element. */
  const statOf = (target: A.Ident | A.IndexExpr, scope: Scope, loc: A.Loc): GlobalSym | undefined => {
    let g: GlobalSym | undefined;
    if (target.kind === 'index') {
      noWildcard(target);
      g = arrayOf(target.array, target.indices.length);
      if (g) keysOf(g, target.indices, scope);
    } else {
      g = scope.locals.has(target.name) ? undefined : globals.get(target.name);
      if (!g) {
        err(`aggregate operation on local variable '${target.name}': statistics must be declared global`, target.loc);
        return undefined;
      }
      if (isArray(g) && final) scalarUse(g, target.loc);
    }
    if (!g) return undefined;
    if (!g.stat) {
      g.stat = {};
      changed = true;
    }
    if (g.type && g.type !== 'long') err(`type mismatch for global '${g.name}': ${g.type} vs. stats`, loc);
    return g;
  };

  /** stap's symresolution: `*` only in `in`, `delete` and a foreach slice. */
  const noWildcard = (e: A.IndexExpr) => {
    if (e.indices.some((k) => k.kind === 'wildcard')) err('wildcard not allowed in array index', e.loc);
  };

  /** A statistic used where a value is: stap's "stats vs. long". */
  const notStat = (g: GlobalSym | undefined, loc: A.Loc, t: T) => {
    if (final && g?.stat) err(`type mismatch for global '${g.name}': stats vs. ${t ?? 'long'} (a statistic is read with ${STAT_OPS} or @hist_*)`, loc);
  };

  /** The `[i]` expressions of a `->` path are longs. */
  const pathIndices = (path: A.TargetPathStep[] | undefined, scope: Scope) => {
    for (const step of path ?? []) if (step.kind === 'subscript') {
      expr(step.index, scope, 'long');
      checkIs(step.index, scope, 'long');
    }
  };

  /** A BTF access's error, or kernel memory read where only user space runs. */
  const kernelAccessOk = (a: KernelAccess | string, what: string, loc: A.Loc, scope: Scope) => {
    if (typeof a === 'string') err(a, loc);
    else if (a.reads && scope.probe?.point.target === 'user') err(`${what} reads kernel memory, which only kernel probes can do`, loc);
  };

  /** The expression of the statement being checked: a void call is fine there. */
  let voidOk: A.Expr | undefined;
  const isVoid = (e: A.CallExpr) =>
    OUTPUT_BUILTINS.has(e.name) || BUILTINS.get(e.name)?.[0].ret === 'void' || findFunction(functions, e.name, e.args.length)?.ret === 'void';
  const stmtExpr = (e: A.Expr, scope: Scope) => {
    voidOk = e;
    expr(e, scope);
  };

  /** Infers e's type; `want` pushes a known type down into symbols whose type is unknown. */
  function expr(e: A.Expr, scope: Scope, want?: T): T {
    switch (e.kind) {
      case 'number':
        return 'long';
      case 'string':
        return 'string';
      case 'ident': {
        if (!scope.locals.has(e.name)) notStat(globals.get(e.name), e.loc, want);
        return useVar(e.name, e.loc, scope, want);
      }
      case 'at':
        for (const a of e.args) expr(a, scope, e.op === 'cast' && a === e.args[0] ? 'long' : undefined);
        if (e.op === 'cast') {
          pathIndices(e.path, scope);
          if (final) kernelAccessOk(castAccess(e), `@cast(..., "${(e.args[1] as A.StringLit).value}")`, e.loc, scope);
          return 'long';
        }
        if (e.op === 'var') {
          pathIndices(e.path, scope);
          if (final) {
            const a = varAccess(e, scope.probe?.point);
            const what = `@var("${(e.args[0] as A.StringLit).value}")`;
            if (typeof a !== 'string' && a.kind === 'user' && scope.probe?.point.target === 'user') err(`${what} reads a process's memory, which only kernel probes can do`, e.loc);
            else kernelAccessOk(a, what, e.loc, scope);
          }
          return 'long';
        }
        err(AT_UNSUPPORTED[e.op], e.loc);
        return undefined;
      case 'tvar': {
        // $$vars & co. were expanded to sprintf calls by foldDefined where the point has them
        if (e.name.startsWith('$')) {
          const x = prettyExpansion(e, scope.probe?.point);
          err(typeof x === 'string' ? x : `'$${e.name}' cannot be used here`, e.loc);
          return undefined;
        }
        const conflict = scope.probe?.point.varConflict?.(e.name);
        if (conflict) {
          err(conflict, e.loc);
          return undefined;
        }
        // `$ptr->field`, `&$p->f`: through BTF when the variable's type is known there
        const access = (e.path || e.addressOf) && !e.pretty && scope.probe ? tvarAccess(e, scope.probe.point) : undefined;
        if (access !== undefined) {
          pathIndices(e.path, scope);
          if (final) kernelAccessOk(access, `$${e.name}`, e.loc, scope);
          return 'long';
        }
        const unsupported = tvarUnsupported(e);
        if (unsupported) {
          err(unsupported, e.loc);
          return undefined;
        }
        const f = scope.probe?.point.contextVars.get(e.name);
        if (!f) {
          if (!scope.probe) err(`context variable '$${e.name}' used outside a probe`, e.loc);
          else {
            const names = [...scope.probe.point.contextVars.keys()];
            const hint = names.length ? ` (alternatives: ${names.map((n) => '$' + n).join(' ')})` : '';
            err(`unable to find context variable '$${e.name}' in ${scope.probe.point.pp}${hint}`, e.loc);
          }
          return undefined;
        }
        if (f.kind === 'int') return 'long';
        if (f.kind === 'dataloc_string' || f.kind === 'char_array') return 'string';
        err(`context variable '$${e.name}' has type '${f.ctype}', which tapvm cannot read yet`, e.loc);
        return undefined;
      }
      case 'index': {
        noWildcard(e);
        const g = arrayOf(e.array, e.indices.length);
        if (!g) return undefined;
        notStat(g, e.loc, want);
        keysOf(g, e.indices, scope);
        if (want && want !== g.type) g.type = setType(g.type, want, e.loc, `array '${g.name}'`);
        return g.type;
      }
      case 'binary': {
        if (e.op === '.') {
          expr(e.left, scope, 'string');
          expr(e.right, scope, 'string');
          checkIs(e.left, scope, 'string');
          checkIs(e.right, scope, 'string');
          return 'string';
        }
        if (e.op === '=~' || e.op === '!~') {
          expr(e.left, scope, 'string');
          checkIs(e.left, scope, 'string');
          // the grammar makes the right operand a string literal; an invalid or too large
          // pattern is a compile-time error, as in stap
          if (e.right.kind === 'string') {
            try {
              compileEre(e.right.value);
            } catch (x) {
              if (x instanceof RegexError) err(`regex compilation error: ${x.message}`, e.right.loc);
              else throw x;
            }
          }
          return 'long';
        }
        if (['<', '<=', '>', '>=', '==', '!='].includes(e.op)) {
          const l = expr(e.left, scope);
          const r = expr(e.right, scope, l);
          if (!l && r) expr(e.left, scope, r);
          if (l && r && l !== r) err(`type mismatch: comparing ${l} with ${r}${declNote(e.left, scope) || declNote(e.right, scope)}`, e.loc);
          return 'long';
        }
        expr(e.left, scope, 'long');
        expr(e.right, scope, 'long');
        checkIs(e.left, scope, 'long');
        checkIs(e.right, scope, 'long');
        return 'long';
      }
      case 'logical':
        expr(e.left, scope, 'long');
        expr(e.right, scope, 'long');
        checkIs(e.left, scope, 'long');
        checkIs(e.right, scope, 'long');
        return 'long';
      case 'unary':
        expectType(e.operand, scope, 'long');
        return 'long';
      case 'incdec':
        expectType(e.target, scope, 'long');
        return 'long';
      case 'assign': {
        if (e.op === '<<<') {
          statOf(e.target, scope, e.loc);
          expectType(e.value, scope, 'long');
          return 'long';
        }
        if (e.op === '.=') {
          expr(e.target, scope, 'string');
          expectType(e.value, scope, 'string');
          return 'string';
        }
        if (e.op !== '=') {
          expr(e.target, scope, 'long');
          expectType(e.value, scope, 'long');
          return 'long';
        }
        const vt = expr(e.value, scope, want);
        const tt = expr(e.target, scope, vt);
        if (!vt && tt) expr(e.value, scope, tt);
        if (vt && tt && vt !== tt) err(`type mismatch in assignment: ${tt} = ${vt}${declNote(e.value, scope) || declNote(e.target, scope)}`, e.loc);
        return tt ?? vt;
      }
      case 'ternary': {
        expr(e.cond, scope, 'long');
        // without this a string condition compiled to a JZ on the string slot's number
        checkIs(e.cond, scope, 'long');
        const a = expr(e.then, scope, want);
        const b = expr(e.else, scope, want ?? a);
        if (!a && b) expr(e.then, scope, b);
        if (a && b && a !== b) err(`type mismatch in ?: branches: ${a} vs. ${b}`, e.loc);
        return a ?? b;
      }
      case 'in': {
        const g = arrayOf(e.array, e.keys.length);
        if (g) keysOf(g, e.keys, scope);
        return 'long';
      }
      case 'statop': {
        const g = statOf(e.stat, scope, e.loc);
        if (g && e.op === 'variance') {
          const shift = e.shift === undefined ? 0 : Number(e.shift);
          if (shift < 0 || shift > 62) err('@variance bit shift must be between 0 and 62', e.loc);
          if (!g.stat!.variance) changed = true;
          g.stat!.variance = true;
          if (g.stat!.shift !== undefined && g.stat!.shift !== shift) err(`multiple @variance bit shifts declared on '${g.name}'`, e.loc);
          g.stat!.shift = shift;
        }
        return 'long';
      }
      case 'histop':
        histOf(e, scope);
        if (final) err(`@${e.op} can only be printed (print, println) or indexed`, e.loc);
        return undefined;
      case 'histindex':
        histOf(e.hist, scope);
        expectType(e.index, scope, 'long');
        return 'long';
      case 'embedded':
        return undefined; // refused before type checking
      case 'wildcard':
        return undefined; // only in index lists, which skip it
      case 'call': {
        const t = call(e, scope, want);
        // a void call is only allowed as a statement: the code generator has no value to use
        if (final && t === undefined && e !== voidOk && isVoid(e)) err(`function '${e.name}' returns no value: its result cannot be used`, e.loc);
        return t;
      }
    }
  }


  /** Records the histogram a @hist_* asks its statistic to keep (one kind per statistic). */
  function histOf(e: A.HistOpExpr, scope: Scope) {
    const g = statOf(e.stat, scope, e.loc);
    if (!g) return;
    if (e.op === 'hist_linear') {
      const [start, stop, interval] = e.params;
      const i32 = (v: bigint) => v >= -(1n << 31n) && v < 1n << 31n;
      if (![start, stop, interval].every(i32) || interval <= 0n) err('histogram: interval must be a positive int', e.loc);
      else {
        const buckets = histBuckets('hist_linear', e.params);
        if (buckets > 128n || buckets < 3n) err('histogram: Number of buckets must be between 1 and 126', e.loc);
      }
    }
    const h = g.stat!.hist;
    if (!h) {
      g.stat!.hist = { op: e.op, params: e.params, loc: e.loc };
      changed = true;
    } else if (h.op !== e.op || h.params.join() !== e.params.join()) err(`multiple histogram types declared on '${g.name}'`, e.loc);
  }

  /** e must be of type t: pushes t into e's symbols, and reports a mismatch once settled. */
  function expectType(e: A.Expr, scope: Scope, t: ScalarType) {
    expr(e, scope, t);
    checkIs(e, scope, t);
  }

  /** After inference settles, reports an expression of the wrong type. */
  function checkIs(e: A.Expr, scope: Scope, t: ScalarType) {
    if (!final) return;
    const saved = changed;
    const got = expr(e, scope);
    changed = saved;
    if (got && got !== t) err(`type mismatch: expected ${t}, found ${got}${declNote(e, scope)}`, e.loc);
  }

  /** The declaration whose type e has, when declared: a `function f:type` call or a `p:type` parameter. */
  function declNote(e: A.Expr, scope: Scope): string {
    if (e.kind === 'call') {
      const d = findFunction(functions, e.name, e.args.length)?.decl;
      if (d?.type && !findBuiltin(e.name, e.args.length)) return declaredAt(d.type, d.loc);
    } else if (e.kind === 'ident') {
      const l = scope.locals.get(e.name);
      if (l?.declared) return declaredAt(l.type, l.loc);
    }
    return '';
  }

  function call(e: A.CallExpr, scope: Scope, want?: T): T {
    const sprint = SPRINT_BUILTINS.has(e.name);
    if (OUTPUT_BUILTINS.has(e.name) || sprint) {
      if (e.name === 'printf' || e.name === 'sprintf') {
        const [fmt, ...rest] = e.args;
        if (!fmt || fmt.kind !== 'string') {
          err(`${e.name} needs a literal format string`, e.loc);
          return sprint ? 'string' : undefined;
        }
        try {
          const pf = parseFormat(fmt.value);
          if (pf.args.length !== rest.length) err(`${e.name} format expects ${pf.args.length} argument(s), got ${rest.length}`, e.loc);
          // the kernel formats sprintf's string itself: only the conversions that make text
          for (const p of pf.pieces)
            if (sprint && typeof p !== 'string' && 'bmM'.includes(p.conv))
              err(`sprintf cannot format %${p.conv} in this build (printf can)`, fmt.loc);
          rest.forEach((a, i) => {
            const t = pf.args[i];
            expr(a, scope, t);
            if (t) checkIs(a, scope, t);
          });
        } catch (x) {
          if (x instanceof FormatError) err(`invalid format string: ${x.message}`, fmt.loc);
          else throw x;
        }
      } else {
        for (const a of e.args) {
          // print(@hist_log(x)): the one place a histogram is a value
          if (a.kind === 'histop' && e.args.length === 1 && e.name !== 'printf' && !sprint) histOf(a, scope);
          else expr(a, scope);
        }
      }
      return sprint ? 'string' : undefined;
    }
    const b = findBuiltin(e.name, e.args.length);
    if (b) {
      if (e.args.length !== b.params.length) err(`function '${e.name}' takes ${b.params.length} argument(s), got ${e.args.length}`, e.loc);
      e.args.forEach((a, i) => {
        if (b.params[i]) {
          expr(a, scope, b.params[i]);
          checkIs(a, scope, b.params[i]);
        }
      });
      if (b.only === 'kernel' && scope.probe?.point.target === 'user') err(`function '${e.name}' can only be used in kernel probes`, e.loc);
      if (b.only === 'user' && scope.probe?.point.target === 'kernel')
        err(`function '${e.name}' can only be used in begin, end, error and timer probes (it reads /proc/kallsyms): collect addresses in the kernel, name them there`, e.loc);
      else if (b.family && scope.probe && scope.probe.point.attach.family !== b.family)
        err(`function '${e.name}' can only be used in ${b.family} probes (process("PATH").function(...)), not in ${scope.probe.point.pp}`, e.loc);
      const bad = b.check?.(e.args);
      if (bad) err(bad, e.loc);
      return b.ret === 'void' ? undefined : b.ret;
    }
    const f = findFunction(functions, e.name, e.args.length);
    if (!f) {
      const overloads = [...functions.values()].filter((x) => x.decl.name === e.name);
      if (overloads.length) {
        const arities = [...new Set(overloads.map((x) => x.decl.params.length))].sort((a, b) => a - b);
        err(`function '${e.name}' takes ${arities.join(' or ')} argument(s), got ${e.args.length}`, e.loc);
        return undefined;
      }
      // stap's wording; the caret under the call names the function
      const close = levenshteinSuggest(e.name, [...[...functions.values()].map((x) => x.decl.name), ...BUILTINS.keys(), ...OUTPUT_BUILTINS, ...SPRINT_BUILTINS]);
      err(`unresolved function${close.length ? ` (similar: ${close.join(', ')})` : ''}`, e.loc);
      return undefined;
    }
    if (e.args.length !== f.decl.params.length) {
      err(`function '${e.name}' takes ${f.decl.params.length} argument(s), got ${e.args.length}`, e.loc);
      return undefined;
    }
    e.args.forEach((a, i) => {
      const p = f.locals.get(f.decl.params[i].name)!;
      const t = expr(a, scope, p.type);
      if (t && t !== p.type) p.type = setType(p.type, t, a.loc, `parameter '${p.name}' of '${e.name}'`, p.declared ? declaredAt(p.type, p.loc) : '');
    });
    if (want && f.ret === undefined) {
      f.ret = want;
      changed = true;
    }
    // `next` moves on to the rest of the chain with the same arguments: one signature for all
    for (let g = f.next ? functions.get(f.next) : undefined; g; g = g.next ? functions.get(g.next) : undefined) {
      g.decl.params.forEach((gp, i) => {
        const p = f.locals.get(f.decl.params[i].name)!;
        const q = g.locals.get(gp.name)!;
        q.type = setType(q.type, p.type, gp.loc, `parameter '${q.name}' of '${e.name}'`);
        p.type = setType(p.type, q.type, f.decl.params[i].loc, `parameter '${p.name}' of '${e.name}'`);
      });
      if (g.ret !== f.ret) {
        if (g.ret === undefined) {
          g.ret = f.ret;
          changed = true;
        } else if (f.ret === undefined) {
          f.ret = g.ret;
          changed = true;
        } else err(`type mismatch for return value of overloaded function '${e.name}': ${f.ret} vs. ${g.ret}`, g.decl.loc);
      }
    }
    return f.ret === 'void' ? undefined : f.ret;
  }

  function stmt(s: A.Stmt, scope: Scope, inLoop: boolean): void {
    switch (s.kind) {
      case 'block':
        for (const x of s.stmts) stmt(x, scope, inLoop);
        return;
      case 'exprstmt':
        stmtExpr(s.expr, scope);
        return;
      case 'if':
        expectType(s.cond, scope, 'long');
        stmt(s.then, scope, inLoop);
        if (s.else) stmt(s.else, scope, inLoop);
        return;
      case 'while':
        expectType(s.cond, scope, 'long');
        stmt(s.body, scope, true);
        return;
      case 'for':
        if (s.init) stmtExpr(s.init, scope);
        if (s.cond) {
          expectType(s.cond, scope, 'long');
        }
        if (s.step) stmtExpr(s.step, scope);
        stmt(s.body, scope, true);
        return;
      case 'foreach': {
        const g = arrayOf(s.array, s.keys.length);
        // stap's symresolution_info::visit_foreach_loop: a slice has one entry per index
        if (g && s.slice && s.slice.length !== s.keys.length)
          err(`unresolved arity-${s.slice.length} global array ${s.array.name}, missing global declaration?`, s.array.loc);
        else if (g && s.slice) keysOf(g, s.slice, scope);
        if (g) {
          s.keys.forEach((k, i) => {
            const t = useVar(k.name, k.loc, scope, g.keyTypes![i]);
            g.keyTypes![i] = setType(g.keyTypes![i], t, k.loc, `index ${i + 1} of array '${g.name}'`);
          });
          if (s.value && g.stat && final) err(`foreach value of statistics array '${g.name}': read its elements with ${STAT_OPS}`, s.value.loc);
          if (s.sort?.aggr && !g.stat && final) err(`@${s.sort.aggr} sorting of array '${g.name}', which is not a statistic`, s.sort.loc);
          if (s.value) {
            const t = useVar(s.value.name, s.value.loc, scope, g.type);
            g.type = setType(g.type, t, s.value.loc, `array '${g.name}'`);
          }
        }
        if (s.limit) {
          expectType(s.limit, scope, 'long'); // a string limit compiled to a GE on the slot's number
        }
        stmt(s.body, scope, true);
        return;
      }
      case 'next':
        // in a function: the next overload of the same arity runs, or the probe handler ends
        return;
      case 'break':
      case 'continue':
        if (final && !inLoop) err(`'${s.kind}' outside a loop`, s.loc);
        return;
      case 'return':
        if (!scope.fn) {
          if (final) err("'return' outside a function", s.loc);
          return;
        }
        if (s.value) {
          const t = expr(s.value, scope, scope.fn.ret === 'void' ? undefined : scope.fn.ret);
          if (t) {
            if (scope.fn.ret === undefined) {
              scope.fn.ret = t;
              changed = true;
            } else if (scope.fn.ret !== t) {
              const decl = scope.fn.decl;
              const at = decl.type ? declaredAt(decl.type, decl.loc) : '';
              err(`type mismatch for return value of '${decl.name}': ${scope.fn.ret} vs. ${t}${at}`, s.loc);
            }
          }
        }
        return;
      case 'delete': {
        // an element or a slice (`*` allowed) of an array or statistic: not a value use
        if (s.target.kind === 'index') {
          const a = arrayOf(s.target.array, s.target.indices.length);
          if (a) keysOf(a, s.target.indices, scope);
          return;
        }
        const g = globals.get(s.target.name);
        if (g?.stat && !scope.locals.has(s.target.name)) return;
        if (!g || !isArray(g)) expr(s.target, scope);
        return;
      }
      case 'try':
        stmt(s.body, scope, inLoop);
        if (s.var) {
          useVar(s.var.name, s.var.loc, scope, 'string');
        }
        stmt(s.handler, scope, inLoop);
        return;
      case 'empty':
        return;
    }
  }

  const pass = () => {
    for (const p of probes) stmt(p.decl.body, { locals: p.locals, probe: p }, false);
    for (const f of functions.values()) stmt(f.decl.body, { locals: f.locals, fn: f }, false);
  };
  for (let i = 0; changed && i < 50; i++) {
    changed = false;
    pass();
  }
  // functions still without a return type are void; done before the final pass so that it
  // can report their result being used as a value
  for (const f of functions.values()) if (f.ret === undefined) f.ret = 'void';
  final = true;
  pass();
  checkForeachWrites(probes, functions, err);
  specializePoints(probes, err);

  for (const f of functions.values()) {
    for (const l of f.locals.values()) if (!l.type) err(`unresolved type for identifier '${l.name}'`, l.loc);
  }
  for (const p of probes) for (const l of p.locals.values()) if (!l.type) err(`unresolved type for identifier '${l.name}'`, l.loc);
  for (const g of globals.values()) {
    // an unused global is elided by stap with a warning; tapvm keeps it as a long
    if (!g.type) g.type = 'long';
    // stap's statistics are globals only and never values: a long here only sizes the slot
    g.keyTypes?.forEach((t, i) => {
      if (!t) err(`unresolved type for index ${i + 1} of array '${g.name}'`, g.decl.loc);
    });
  }
  // `never` probes are checked like the others, then set apart: never compiled, still listed
  const never = probes.filter((p) => p.point.never);
  for (let i = probes.length - 1; i >= 0; i--) if (probes[i].point.never) probes.splice(i, 1);
  if (diags.length) throw new DiagnosticError(diags.sort((a, b) => (a.loc?.offset ?? 0) - (b.loc?.offset ?? 0)));
  const prog: ResolvedProgram = { script, globals, functions, probes, never, warnings: [] };
  prog.warnings = elaborationWarnings(prog);
  return prog;
}

const AT_UNSUPPORTED: Record<A.AtExpr['op'], string> = {
  defined: '@defined is folded before type checking', // never reached
  choose_defined: '@choose_defined is folded before type checking',
  // the ones in .return probes were desugared by desugarEntry: what is left is misplaced
  entry: '@entry is only valid in .return probes',
  cast: '@cast is resolved through BTF', // never reached
  var: '@var is resolved through BTF and kallsyms', // never reached
};

/** Why tapvm cannot evaluate a context variable of this form, or undefined when it can. */
function tvarUnsupported(e: A.TargetVar): string | undefined {
  const text = `${e.addressOf ? '&' : ''}$${e.name}${e.pretty ?? ''}`;
  if (e.pretty) return `'${text}' is not supported yet: tapvm has no pretty-printer for context variables`;
  if (e.addressOf) return `'${text}': tapvm cannot take the address of a context variable`;
  if (e.path) return `'${text}${e.path[0].kind === 'member' ? '->' + e.path[0].name : '[...]'}': tapvm has no type information to follow fields, pointers or arrays of context variables`;
  return undefined;
}

/** Whether every context variable in e exists at `point` in a form tapvm can read. */
function isDefined(e: unknown, point: ResolvedPoint | undefined): boolean {
  if (!e || typeof e !== 'object') return true;
  if (Array.isArray(e)) return e.every((x) => isDefined(x, point));
  const n = e as A.Expr;
  if (n.kind === 'tvar' && n.name.startsWith('$')) return typeof prettyExpansion(n, point) !== 'string';
  if (n.kind === 'tvar' && (n.path || n.addressOf) && point) {
    const a = tvarAccess(n, point);
    if (a !== undefined) return typeof a !== 'string' && isDefined(n.path, point);
  }
  if (n.kind === 'tvar') return !!point && !tvarUnsupported(n) && point.contextVars.has(n.name);
  if (n.kind === 'at' && n.op === 'cast') return typeof castAccess(n) !== 'string' && isDefined(n.args, point) && isDefined(n.path, point);
  if (n.kind === 'at' && n.op === 'var') return typeof varAccess(n, point) !== 'string' && isDefined(n.path, point);
  if (n.kind === 'at' && n.op === 'entry') return false;
  return everyChild(n, (v) => isDefined(v, point));
}

/**
 * `@defined(e)` becomes 1 or 0 and `@choose_defined(a, b)` becomes a or b, in place, for the
 * probe point the body belongs to (each derived probe has its own copy of the body).
 */
function foldDefined(n: unknown, point: ResolvedPoint | undefined): void {
  foldPoint = point;
  foldIn(n);
}

/** foldDefined's point while it walks (one visitor for every node, not a closure per node). */
let foldPoint: ResolvedPoint | undefined;

function foldIn(n: unknown): void {
  if (!n || typeof n !== 'object') return;
  const point = foldPoint;
  if (Array.isArray(n)) return n.forEach(foldIn);
  const node = n as Record<string, unknown>;
  if (node.kind === 'at') {
    const at = node as unknown as A.AtExpr;
    let repl: A.Expr | undefined;
    if (at.op === 'defined') repl = { kind: 'number', value: isDefined(at.args[0], point) ? 1n : 0n, loc: at.loc };
    else if (at.op === 'choose_defined') repl = isDefined(at.args[0], point) ? at.args[0] : at.args[1];
    if (repl) {
      for (const k of Object.keys(node)) delete node[k];
      Object.assign(node, repl);
      return foldIn(node);
    }
  }
  if (node.kind === 'tvar' && (node as unknown as A.TargetVar).name.startsWith('$')) {
    const x = prettyExpansion(node as unknown as A.TargetVar, point);
    if (typeof x !== 'string') {
      for (const k of Object.keys(node)) delete node[k];
      Object.assign(node, x);
    }
    return;
  }
  forEachChild(node, foldIn);
}

/**
 * `$$vars`, `$$parms`, `$$locals`, `$$return` (and the `$`/`$$` suffixes) as stap prints them:
 * a `sprintf` of `name=value` pairs separated by spaces, numbers as `%#x`, strings quoted;
 * or the sentence saying why the point has none. The result is cut at MAXSTRINGLEN like any
 * string (stap cuts too).
 */
function prettyExpansion(e: A.TargetVar, point: ResolvedPoint | undefined): A.Expr | string {
  const text = `${e.addressOf ? '&' : ''}$${e.name}${e.pretty ?? ''}`;
  const what = e.name.slice(1);
  if (!['vars', 'parms', 'locals', 'return'].includes(what)) return `unknown context variable '${text}' (expected $$vars, $$parms, $$locals or $$return)`;
  if (e.addressOf) return `'${text}': tapvm cannot take the address of a context variable`;
  if (e.path) return `'${text}' is a string: it has no fields or elements`;
  if (!point) return `context variable '${text}' used outside a probe`;
  const p = point.pretty;
  if (!p && point.attach.family === 'syscall')
    return `'${text}' is not available in ${point.pp}: the point covers system calls with different arguments (name one system call)`;
  if (!p) return `'${text}' is not available in ${point.pp}: the probe point has no named context variables`;
  let fields: TracepointField[];
  if (what === 'return') {
    if (!p.ret) return `'${text}' is only available in a .return probe`;
    fields = [p.ret];
  } else if (what === 'locals') fields = p.locals;
  else {
    if (!p.parms)
      return point.attach.family === 'uprobe'
        ? `'${text}' is not available in ${point.pp}: without debug information the function's parameters have no names (use $$return, or @entry(int_arg(n)))`
        : `'${text}' is not available in ${point.pp}: the entry point's arguments differ by system call (name one system call)`;
    fields = what === 'parms' ? p.parms : [...p.parms, ...p.locals];
  }
  const pieces: string[] = [];
  const args: A.Expr[] = [];
  const loc = e.loc;
  for (const f of fields) {
    const tv: A.TargetVar = { kind: 'tvar', name: f.name, loc };
    if (f.kind === 'dataloc_string' || f.kind === 'char_array') {
      pieces.push(`${f.name}="%s"`);
      args.push(tv);
    } else if (f.kind === 'int' && e.pretty && p.userStrings && /char\s*\*/.test(f.ctype)) {
      pieces.push(`${f.name}="%s"`);
      args.push({ kind: 'call', name: 'user_string', args: [tv, { kind: 'string', value: '', loc }], loc });
    } else if (f.kind === 'int') {
      pieces.push(`${f.name}=%#x`);
      args.push(tv);
    }
    // fields tapvm cannot read (kind 'other') are left out
  }
  if (!args.length) return { kind: 'string', value: '', loc };
  return { kind: 'call', name: 'sprintf', args: [{ kind: 'string', value: pieces.join(' '), loc }, ...args], loc };
}

/** stap: arming conditions may only read global variables. */
function checkConditions(items: A.TopLevel[], globals: Map<string, GlobalSym>, err: (msg: string, loc?: A.Loc) => void) {
  const visit = (n: unknown): void => {
    if (!n || typeof n !== 'object') return;
    if (Array.isArray(n)) return n.forEach(visit);
    const e = n as A.Expr;
    if (e.kind === 'ident' && !globals.has(e.name)) err(`probe condition must only reference global variables: '${e.name}' is not a global`, e.loc);
    if (e.kind === 'tvar') err('probe condition must only reference global variables: context variables cannot be used', e.loc);
    forEachChild(e, visit);
  };
  for (const item of items) {
    const points = item.kind === 'probe' ? item.points : item.kind === 'alias' ? item.points : [];
    for (const p of points) if (p.condition) visit(p.condition);
  }
}

/**
 * The function's parameters in a `.return` probe are their values at entry, as stap's are:
 * `$param` (a variable of the entry point that the return point lacks) and `$$parms` /
 * `$$vars` (when the return point has no parameters of its own) become `@entry(...)` of
 * themselves, which desugarEntry() then evaluates in a synthesized entry probe. Only for
 * an entry point that resolves to one point that has them (syscall.NAME.return); elsewhere
 * the variable keeps its error.
 */
function entryVariables(probes: ResolvedProbe[]) {
  for (const p of probes) {
    const comps = p.via.point.components;
    if (comps.length < 2 || comps[comps.length - 1].name !== 'return' || comps[comps.length - 1].arg) continue;
    let entry: ResolvedPoint | undefined | null = null;
    const entryPoint = (): ResolvedPoint | undefined => {
      if (entry === null) {
        const r = resolvePoint({ ...p.via.point, components: comps.slice(0, -1), optional: false, sufficient: false, condition: undefined });
        entry = !isMismatch(r) && (!Array.isArray(r) || r.length === 1) ? (Array.isArray(r) ? r[0] : r) : undefined;
      }
      return entry;
    };
    const wants = (v: A.TargetVar): boolean => {
      if (v.name.startsWith('$')) return (v.name === '$parms' || v.name === '$vars') && !p.point.pretty?.parms && !!entryPoint()?.pretty?.parms;
      return !p.point.contextVars.has(v.name) && !!entryPoint()?.contextVars.has(v.name);
    };
    const visit = (x: unknown): void => {
      if (!x || typeof x !== 'object') return;
      if (Array.isArray(x)) return x.forEach(visit);
      const e = x as A.Expr;
      if (e.kind === 'at' && e.op === 'entry') return;
      if (e.kind === 'tvar' && !e.addressOf && wants(e)) {
        // in place: the body is this probe's own copy
        const node = e as unknown as Record<string, unknown>;
        const inner = { ...e };
        for (const key of Object.keys(node)) delete node[key];
        Object.assign(node, { kind: 'at', op: 'entry', args: [inner], loc: inner.loc });
        return;
      }
      forEachChild(e, visit);
    };
    visit(p.decl.body);
  }
}

/**
 * `@entry(e)` in a `.return` probe, as stap does it without debug information: a synthesized
 * probe on the matching entry point (the same point without `.return`) stores e in a hidden
 * global keyed by tid(); the return probe's first statements move the value into a hidden
 * local and delete the element (before its arming conditions, so nothing is left behind),
 * and every @entry reads that local. Elsewhere @entry stays and is stap's error.
 */
function desugarEntry(probes: ResolvedProbe[], globals: Map<string, GlobalSym>, err: (msg: string, loc?: A.Loc) => void) {
  const n = probes.length;
  for (let i = 0; i < n; i++) {
    const p = probes[i];
    const uses: A.AtExpr[] = [];
    const visit = (x: unknown): void => {
      if (!x || typeof x !== 'object') return;
      if (Array.isArray(x)) return x.forEach(visit);
      const e = x as A.Expr;
      if (e.kind === 'at' && e.op === 'entry') uses.push(e);
      else forEachChild(e, visit);
    };
    visit(p.decl.body);
    const comps = p.via.point.components;
    if (uses.length === 0 || comps.length < 2 || comps[comps.length - 1].name !== 'return' || comps[comps.length - 1].arg) continue;
    const entryNode: A.ProbePoint = { ...p.via.point, components: comps.slice(0, -1), optional: false, sufficient: false, condition: undefined };
    const r = resolvePoint(entryNode);
    if (isMismatch(r)) {
      err(`@entry: the entry point ${pointText(entryNode)} cannot be probed: ${r.error}`, uses[0].loc);
      continue;
    }
    const loc = uses[0].loc;
    const tid = (): A.Expr => ({ kind: 'call', name: 'tid', args: [], loc });
    const saves: A.Stmt[] = [];
    const loads: A.Stmt[] = [];
    uses.forEach((use, k) => {
      const g = `__entry_${i}_${k}`;
      const local = `__entry_${k}`;
      const decl: A.GlobalDecl = { kind: 'global', name: g, loc: use.loc };
      globals.set(g, { name: g, decl, type: undefined });
      const elem = (): A.IndexExpr => ({ kind: 'index', array: { kind: 'ident', name: g, loc }, indices: [tid()], loc });
      saves.push({ kind: 'exprstmt', expr: { kind: 'assign', op: '=', target: elem(), value: use.args[0], loc: use.loc }, loc: use.loc });
      loads.push({ kind: 'exprstmt', expr: { kind: 'assign', op: '=', target: { kind: 'ident', name: local, loc }, value: elem(), loc }, loc });
      loads.push({ kind: 'delete', target: elem(), loc });
      // the @entry node becomes a read of the local, in place (the body is this probe's own copy)
      const node = use as unknown as Record<string, unknown>;
      for (const key of Object.keys(node)) delete node[key];
      Object.assign(node, { kind: 'ident', name: local, loc: use.loc });
    });
    p.decl.body = { kind: 'block', stmts: [...loads, p.decl.body], loc: p.decl.body.loc };
    for (const point of Array.isArray(r) ? r : [r]) {
      const body: A.Block = { kind: 'block', stmts: saves.map(cloneTree), loc };
      foldDefined(body, point);
      probes.push({
        decl: { kind: 'probe', points: [entryNode], body, loc: p.decl.loc },
        pointNode: entryNode,
        point,
        locals: new Map(),
        derivation: [point.pp],
        via: { aliases: [], point: entryNode, conditions: [] },
      });
    }
  }
}

/** Points that cover several system calls become one point per layout of the $variables used. */
function specializePoints(probes: ResolvedProbe[], err: (msg: string, loc?: A.Loc) => void) {
  for (let i = 0; i < probes.length; i++) {
    const p = probes[i];
    if (!p.point.specialize) continue;
    const used = new Set<string>([...p.locals.keys()]);
    const visit = (n: unknown): void => {
      if (!n || typeof n !== 'object') return;
      if (Array.isArray(n)) return n.forEach(visit);
      if ((n as A.Expr).kind === 'tvar') used.add('$' + (n as A.TargetVar).name);
      forEachChild(n, visit);
    };
    visit(p.decl.body);
    const r = p.point.specialize(used);
    if ('error' in r) {
      err(r.error, p.pointNode.loc);
      continue;
    }
    probes.splice(i, 1, ...r.map((point) => ({ ...p, point })));
    i += r.length - 1;
  }
}

/**
 * stap 3's overloading: functions of one name are told apart by arity at compile time; those
 * of the same arity form a chain ordered by priority (`:N`, default 1, lower first, then
 * declaration order) that a call runs from the head, `next` moving to the following one.
 */
function declareFunctions(items: A.TopLevel[], functions: Map<string, FunctionSym>) {
  const byName = new Map<string, A.FunctionDecl[]>();
  for (const item of items) if (item.kind === 'function') byName.set(item.name, [...(byName.get(item.name) ?? []), item]);
  for (const [name, decls] of byName) {
    const byArity = new Map<number, A.FunctionDecl[]>();
    for (const d of decls) byArity.set(d.params.length, [...(byArity.get(d.params.length) ?? []), d]);
    for (const [arity, chain] of byArity) {
      chain.sort((a, b) => Number((a.priority ?? 1n) - (b.priority ?? 1n)));
      const keys = chain.map((_, i) => (decls.length === 1 ? name : `${name}/${arity}${i ? `#${i}` : ''}`));
      chain.forEach((decl, i) => {
        const locals = new Map<string, LocalSym>();
        for (const p of decl.params) locals.set(p.name, { name: p.name, type: p.type, loc: p.loc, param: true, declared: p.type !== undefined });
        functions.set(keys[i], { key: keys[i], next: keys[i + 1], decl, ret: decl.type, locals });
      });
    }
  }
}

