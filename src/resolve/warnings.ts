// The warnings stap prints after elaboration: a local read but never assigned, a global never
// used, an expression statement with no effect. `-w` silences them (the CLI's job).
import type * as A from '../parse/ast';
import { diagnostic, type Diagnostic } from '../diag/diagnostic';
import { similar } from '../probes';
import type { ResolvedProgram } from './resolve';
import { forEachChild } from '../parse/walk';

export function elaborationWarnings(prog: ResolvedProgram): Diagnostic[] {
  const out: Diagnostic[] = [];
  const usedGlobals = new Set<string>();
  const bodies: { body: A.Stmt; locals: Map<string, { param: boolean; tapset?: boolean }> }[] = [
    ...prog.probes.map((p) => ({ body: p.decl.body as A.Stmt, locals: p.locals })),
    ...[...prog.functions.values()].map((f) => ({ body: f.decl.body as A.Stmt, locals: f.locals })),
  ];
  for (const { body, locals } of bodies) {
    const written = new Set<string>();
    const firstRead = new Map<string, A.Loc>();
    const use = (name: string, loc: A.Loc, write: boolean) => {
      if (!locals.has(name)) {
        usedGlobals.add(name);
        return;
      }
      if (write) written.add(name);
      else if (!firstRead.has(name)) firstRead.set(name, loc);
    };
    const visit = (n: unknown): void => {
      if (!n || typeof n !== 'object') return;
      if (Array.isArray(n)) return n.forEach(visit);
      const e = n as A.Expr | A.Stmt;
      switch (e.kind) {
        case 'ident':
          return use(e.name, e.loc, false);
        case 'index':
        case 'in':
          usedGlobals.add(e.array.name);
          break;
        case 'assign':
        case 'incdec':
          if (e.target.kind === 'ident') {
            use(e.target.name, e.target.loc, true);
            if (e.kind === 'assign' && e.op !== '=') use(e.target.name, e.target.loc, false);
            if (e.kind === 'assign') visit(e.value);
            return;
          }
          break;
        case 'foreach':
          usedGlobals.add(e.array.name);
          for (const k of [...e.keys, ...(e.value ? [e.value] : [])]) use(k.name, k.loc, true);
          visit(e.limit);
          visit(e.slice);
          return visit(e.body);
        case 'try':
          if (e.var) use(e.var.name, e.var.loc, true);
          visit(e.body);
          return visit(e.handler);
        case 'exprstmt':
          if (e.expr.kind === 'number' || e.expr.kind === 'string' || e.expr.kind === 'ident')
            out.push(diagnostic('WARNING', 'Eliding side-effect-free expression', e.expr.loc));
          break;
      }
      forEachChild(e, visit);
    };
    visit(body);
    for (const [name, loc] of firstRead) {
      // a tapset variable (name, argstr, ...) is assigned by its probe point on entry
      if (written.has(name) || locals.get(name)?.param || locals.get(name)?.tapset) continue;
      const close = similar(name, [...locals.keys(), ...prog.globals.keys()].filter((n) => n !== name), 5);
      out.push(diagnostic('WARNING', `never-assigned local variable '${name}'${close.length ? ` (similar: ${close.join(', ')})` : ''}`, loc));
    }
  }
  for (const g of prog.globals.values()) if (!usedGlobals.has(g.name)) out.push(diagnostic('WARNING', `Eliding unused variable '${g.name}'`, g.decl.loc));
  return out.sort((a, b) => (a.loc?.file === b.loc?.file ? (a.loc?.offset ?? 0) - (b.loc?.offset ?? 0) : 0));
}
