// How a handler uses argstr / retstr. The kernel keeps them encoded (vm/syscalls.h) and user
// space expands the encoding when output shows it, which is exact and cheap, but anything else
// the kernel does with the text (compare it, take its length, search it) would see the
// encoding. The code generator formats the text in the kernel when a use needs it.
import type * as A from '../parse/ast';
import { forEachChild } from '../parse/walk';

/** 'output': only printed; 'stored': kept (assigned, an array key, passed on), so later code may
 * look at it; 'inspected': its text is looked at right here (compared, measured, searched). */
export type TextUse = 'output' | 'stored' | 'inspected';

const PRINTS = new Set(['print', 'println', 'printf', 'printd', 'printdln']);
const rank: Record<TextUse, number> = { output: 0, stored: 1, inspected: 2 };
const worse = (a: TextUse, b: TextUse) => (rank[b] > rank[a] ? b : a);

/** How `body` uses the identifier `name`, or with `call` the results of calls of the function `name`. */
export function textUse(body: A.Stmt, name: string, call = false): TextUse {
  let use: TextUse = 'output';
  // `ctx`: what the enclosing expression does with a value in this position
  const visit = (node: unknown, ctx: TextUse): void => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const n of node) visit(n, ctx);
      return;
    }
    const n = node as { kind?: string } & Record<string, unknown>;
    switch (n.kind) {
      case 'ident':
        if (!call && n.name === name) use = worse(use, ctx);
        return;
      case 'call': {
        const c = n as unknown as A.CallExpr;
        if (call && c.name === name) use = worse(use, ctx);
        const printed = PRINTS.has(c.name);
        for (const a of c.args) visit(a, printed ? 'output' : c.name === 'sprintf' || c.name === 'sprint' || c.name === 'sprintln' ? 'stored' : 'inspected');
        return;
      }
      case 'binary': {
        const b = n as unknown as A.BinaryExpr;
        // a concatenation carries the text on to its own use
        const inner = b.op === '.' ? ctx : 'inspected';
        visit(b.left, inner);
        visit(b.right, inner);
        return;
      }
      case 'assign': {
        const a = n as unknown as A.AssignExpr;
        visit(a.target, 'stored');
        visit(a.value, a.op === '=' || a.op === '.=' ? 'stored' : 'inspected');
        return;
      }
      case 'index':
        visit((n as unknown as A.IndexExpr).indices, 'stored');
        return;
      case 'in':
        visit((n as unknown as A.InExpr).keys, 'stored');
        return;
      case 'exprstmt':
        visit((n as unknown as A.ExprStmt).expr, 'output');
        return;
      case 'ternary': {
        const t = n as unknown as A.TernaryExpr;
        visit(t.cond, 'inspected');
        visit([t.then, t.else], ctx);
        return;
      }
      case 'return':
        visit((n as unknown as A.ReturnStmt).value, 'stored');
        return;
    }
    forEachChild(n, (v) => visit(v, 'inspected'));
  };
  visit(body, 'inspected');
  return use;
}
