// Bounds the byte width of every string index of every array, so keys use the smallest array
// class: execname() is at most 16 bytes, a literal its own length, a foreach key the width of
// the index it came from; anything this pass cannot bound gets MAXSTRINGLEN (the script's
// -D MAXSTRINGLEN). A key string is stored truncated to its width, so every bound here must be sound.
import type * as A from '../parse/ast';
import { LIMITS } from '../isa/opcodes';
import type { ResolvedProgram } from './resolve';

/** TASK_COMM_LEN: the kernel's comm, NUL included */
const COMM = 16;

/** array name -> width in bytes of each index (8 for longs, NUL included for strings) */
export type KeyWidths = Map<string, number[]>;

interface Scope {
  /** string locals -> widest value ever assigned (NUL included); absent = not a local */
  locals: Map<string, number>;
  params: Set<string>;
  contextVars?: Map<string, { kind: string; size: number }>;
}

export function keyWidths(prog: ResolvedProgram, MAX: number = LIMITS.MAXSTRINGLEN): KeyWidths {
  const widths: KeyWidths = new Map();
  for (const g of prog.globals.values()) if (g.keyTypes) widths.set(g.name, g.keyTypes.map((t) => (t === 'long' ? 8 : 1)));

  const scopes: { body: A.Stmt; scope: Scope }[] = [];
  for (const p of prog.probes) {
    // a tapset variable (name, argstr, ...) holds whatever its probe alias put there
    const locals = new Map([...p.locals.values()].filter((l) => l.type === 'string').map((l) => [l.name, l.tapset ? MAX : 1]));
    scopes.push({ body: p.decl.body, scope: { locals, params: new Set(), contextVars: p.point.contextVars } });
  }
  for (const f of prog.functions.values()) {
    const locals = new Map([...f.locals.values()].filter((l) => l.type === 'string' && !l.param).map((l) => [l.name, 1]));
    scopes.push({ body: f.decl.body, scope: { locals, params: new Set(f.decl.params.map((p) => p.name)) } });
  }

  let changed = true;
  const raise = (cur: number, w: number): number => {
    const n = Math.min(MAX, Math.max(cur, w));
    if (n !== cur) changed = true;
    return n;
  };

  function bound(e: A.Expr, sc: Scope): number {
    switch (e.kind) {
      case 'string':
        return Math.min(MAX, Buffer.byteLength(e.value, 'latin1') + 1);
      case 'ident':
        if (sc.params.has(e.name)) return MAX;
        return sc.locals.get(e.name) ?? MAX;
      case 'call':
        return e.name === 'execname' ? Math.min(MAX, COMM) : MAX;
      case 'tvar': {
        const f = sc.contextVars?.get(e.name);
        return f?.kind === 'char_array' ? Math.min(MAX, f.size + 1) : MAX;
      }
      case 'binary':
        return e.op === '.' ? Math.min(MAX, bound(e.left, sc) + bound(e.right, sc) - 1) : MAX;
      case 'ternary':
        return Math.max(bound(e.then, sc), bound(e.else, sc));
      case 'assign':
        return e.op === '=' ? bound(e.value, sc) : MAX;
      default:
        return MAX;
    }
  }

  function useKeys(array: string, keys: A.Expr[], sc: Scope) {
    const w = widths.get(array);
    const types = prog.globals.get(array)?.keyTypes;
    if (!w || !types) return;
    keys.forEach((k, i) => {
      if (types[i] === 'string' && k.kind !== 'wildcard') w[i] = raise(w[i], bound(k, sc));
    });
  }

  function expr(e: A.Expr, sc: Scope): void {
    switch (e.kind) {
      case 'index':
        useKeys(e.array.name, e.indices, sc);
        e.indices.forEach((x) => expr(x, sc));
        return;
      case 'in':
        useKeys(e.array.name, e.keys, sc);
        e.keys.forEach((x) => expr(x, sc));
        return;
      case 'assign':
        if (e.target.kind === 'ident' && sc.locals.has(e.target.name))
          sc.locals.set(e.target.name, raise(sc.locals.get(e.target.name)!, e.op === '=' ? bound(e.value, sc) : MAX));
        expr(e.target, sc);
        expr(e.value, sc);
        return;
      case 'binary':
      case 'logical':
        expr(e.left, sc);
        expr(e.right, sc);
        return;
      case 'unary':
        expr(e.operand, sc);
        return;
      case 'incdec':
        expr(e.target, sc);
        return;
      case 'ternary':
        expr(e.cond, sc);
        expr(e.then, sc);
        expr(e.else, sc);
        return;
      case 'call':
        e.args.forEach((x) => expr(x, sc));
        return;
      case 'statop':
      case 'histop':
        expr(e.stat, sc);
        return;
      case 'histindex':
        expr(e.hist, sc);
        expr(e.index, sc);
        return;
      default:
        return;
    }
  }

  function stmt(s: A.Stmt, sc: Scope): void {
    switch (s.kind) {
      case 'block':
        s.stmts.forEach((x) => stmt(x, sc));
        return;
      case 'exprstmt':
        expr(s.expr, sc);
        return;
      case 'if':
        expr(s.cond, sc);
        stmt(s.then, sc);
        if (s.else) stmt(s.else, sc);
        return;
      case 'while':
        expr(s.cond, sc);
        stmt(s.body, sc);
        return;
      case 'for':
        for (const x of [s.init, s.cond, s.step]) if (x) expr(x, sc);
        stmt(s.body, sc);
        return;
      case 'foreach': {
        const w = widths.get(s.array.name);
        s.keys.forEach((k, i) => {
          if (sc.locals.has(k.name)) sc.locals.set(k.name, raise(sc.locals.get(k.name)!, w?.[i] ?? MAX));
        });
        if (s.value && sc.locals.has(s.value.name)) sc.locals.set(s.value.name, raise(sc.locals.get(s.value.name)!, MAX));
        if (s.slice) {
          useKeys(s.array.name, s.slice, sc);
          s.slice.forEach((x) => expr(x, sc));
        }
        if (s.limit) expr(s.limit, sc);
        stmt(s.body, sc);
        return;
      }
      case 'return':
        if (s.value) expr(s.value, sc);
        return;
      case 'try':
        if (s.var && sc.locals.has(s.var.name)) sc.locals.set(s.var.name, raise(sc.locals.get(s.var.name)!, MAX));
        stmt(s.body, sc);
        stmt(s.handler, sc);
        return;
      case 'delete':
        if (s.target.kind === 'index') expr(s.target, sc);
        else if (sc.locals.has(s.target.name)) sc.locals.set(s.target.name, raise(sc.locals.get(s.target.name)!, 1));
        return;
      default:
        return;
    }
  }

  // widths only grow and are capped at MAX: this terminates
  while (changed) {
    changed = false;
    for (const { body, scope } of scopes) stmt(body, scope);
  }
  return widths;
}
