// Finds the globals a script writes but never uses: stap prints those at exit
// (`count=0x5`, `c["bash"]=0x3`). This follows stap's varuse_collecting_visitor
// (staptree.cxx) and add_global_var_display (elaborate.cxx): `=` and `<<<` write; `++`, `--`,
// `+=` and the like write and count as a use only where their value is taken (an if, while or
// for condition, a call's argument, a return value, an index, a `?:` condition, the right side
// of an assignment...), so `n++;` alone still leaves n displayed while `if (++n == 2)` does not;
// `delete` counts as a use; every other rvalue mention uses.
import type * as A from '../parse/ast';
import type { ResolvedProgram } from './resolve';
import { forEachChild } from '../parse/walk';

export function writtenNotRead(prog: ResolvedProgram): string[] {
  const used = new Set<string>();
  const written = new Set<string>();
  const isGlobal = (name: string, locals: Map<string, unknown>) => !locals.has(name) && prog.globals.has(name);

  const bodies: { body: A.Stmt; locals: Map<string, unknown> }[] = [
    ...prog.probes.map((p) => ({ body: p.decl.body as A.Stmt, locals: p.locals as Map<string, unknown> })),
    ...[...prog.functions.values()].map((f) => ({ body: f.decl.body as A.Stmt, locals: f.locals as Map<string, unknown> })),
  ];

  for (const { body, locals } of bodies) {
    const use = (name: string) => {
      if (isGlobal(name, locals)) used.add(name);
    };
    /** an assignment or `++` target; `lr`: also read (read-modify-write), `valued`: its value is taken */
    const target = (t: A.Ident | A.IndexExpr, lr: boolean, valued: boolean) => {
      const name = t.kind === 'ident' ? t.name : t.array.name;
      if (isGlobal(name, locals)) written.add(name);
      if (lr && valued) use(name);
      if (t.kind === 'index') t.indices.forEach((i) => visit(i, true));
    };
    /** `valued`: stap's current_lvalue_read, whether the value of the expression being visited is taken */
    const visit = (n: unknown, valued: boolean): void => {
      if (!n || typeof n !== 'object') return;
      if (Array.isArray(n)) return n.forEach((c) => visit(c, valued));
      const e = n as A.Expr | A.Stmt;
      switch (e.kind) {
        case 'ident':
          return use(e.name);
        case 'index':
          use(e.array.name);
          return e.indices.forEach((i) => visit(i, true));
        case 'in':
          use(e.array.name);
          return e.keys.forEach((k) => visit(k, true));
        case 'assign':
          if (e.op === '=' || e.op === '<<<') {
            target(e.target, false, true);
            return visit(e.value, true);
          }
          target(e.target, true, valued);
          return visit(e.value, valued);
        case 'incdec':
          return target(e.target, true, valued);
        case 'delete':
          return target(e.target, true, true);
        case 'if':
          visit(e.cond, true);
          visit(e.then, false);
          return visit(e.else, false);
        case 'while':
          visit(e.cond, true);
          return visit(e.body, false);
        case 'for':
          visit(e.init, false);
          visit(e.cond, true);
          visit(e.step, false);
          return visit(e.body, false);
        case 'return':
          return visit(e.value, true);
        case 'call':
          return visit(e.args, true);
        case 'ternary':
          visit(e.cond, true);
          visit(e.then, valued);
          return visit(e.else, valued);
        case 'try':
          if (e.var && isGlobal(e.var.name, locals)) written.add(e.var.name);
          visit(e.body, false);
          return visit(e.handler, false);
        case 'foreach':
          use(e.array.name);
          for (const k of [...e.keys, ...(e.value ? [e.value] : [])]) if (isGlobal(k.name, locals)) written.add(k.name);
          visit(e.slice, true);
          visit(e.limit, true);
          return visit(e.body, false);
      }
      forEachChild(n, (c) => visit(c, valued));
    };
    visit(body, false);
  }
  return [...prog.globals.keys()].filter((g) => written.has(g) && !used.has(g));
}
