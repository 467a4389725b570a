// Finds the globals a script writes but never reads: stap prints those at exit
// (`count=0x5`, `c["bash"]=0x3`). `++`, `+=` and the like write; only an rvalue use reads.
import type * as A from '../parse/ast';
import type { ResolvedProgram } from './resolve';
import { forEachChild } from '../parse/walk';

export function writtenNotRead(prog: ResolvedProgram): string[] {
  const read = new Set<string>();
  const written = new Set<string>();
  const isGlobal = (name: string, locals: Map<string, unknown>) => !locals.has(name) && prog.globals.has(name);

  const bodies: { body: A.Stmt; locals: Map<string, unknown> }[] = [
    ...prog.probes.map((p) => ({ body: p.decl.body as A.Stmt, locals: p.locals as Map<string, unknown> })),
    ...[...prog.functions.values()].map((f) => ({ body: f.decl.body as A.Stmt, locals: f.locals as Map<string, unknown> })),
  ];

  for (const { body, locals } of bodies) {
    const target = (t: A.Ident | A.IndexExpr) => {
      const name = t.kind === 'ident' ? t.name : t.array.name;
      if (isGlobal(name, locals)) written.add(name);
      if (t.kind === 'index') t.indices.forEach(rvalue);
    };
    const rvalue = (n: unknown): void => {
      if (!n || typeof n !== 'object') return;
      if (Array.isArray(n)) return n.forEach(rvalue);
      const e = n as A.Expr | A.Stmt;
      switch (e.kind) {
        case 'ident':
          if (isGlobal(e.name, locals)) read.add(e.name);
          return;
        case 'index':
          read.add(e.array.name);
          return e.indices.forEach(rvalue);
        case 'in':
          read.add(e.array.name);
          return e.keys.forEach(rvalue);
        case 'assign':
          target(e.target);
          return rvalue(e.value);
        case 'incdec':
          return target(e.target);
        case 'delete':
          return target(e.target);
        case 'try':
          if (e.var && isGlobal(e.var.name, locals)) written.add(e.var.name);
          rvalue(e.body);
          return rvalue(e.handler);
        case 'foreach':
          read.add(e.array.name);
          for (const k of [...e.keys, ...(e.value ? [e.value] : [])]) if (isGlobal(k.name, locals)) written.add(k.name);
          if (e.limit) rvalue(e.limit);
          if (e.slice) rvalue(e.slice);
          return rvalue(e.body);
      }
      forEachChild(n, rvalue);
    };
    rvalue(body);
  }
  return [...prog.globals.keys()].filter((g) => written.has(g) && !read.has(g));
}
