// Checks stap's rule for an array being iterated (elaborate.cxx semantic_pass_vars): inside a
// foreach over `a`, no element of `a` may be written (=, +=, ++, <<<) or deleted (`a[k]` or a
// slice), and no function that does so itself may be called. `delete a` of the whole array
// stays allowed, as in stap (it is not an element). Both VMs iterate a snapshot of the keys,
// so this is a language rule, not a safety net.
import type * as A from '../parse/ast';
import { findFunction, type FunctionSym, type ResolvedProbe } from './resolve';
import { forEachChild } from '../parse/walk';

type Report = (msg: string, loc: A.Loc) => void;

/** The index expression an assignment, ++/-- or delete writes (stap's active lvalue), if any. */
function written(n: A.Expr | A.Stmt): A.IndexExpr | undefined {
  if ((n.kind === 'assign' || n.kind === 'incdec' || n.kind === 'delete') && n.target.kind === 'index') return n.target;
  return undefined;
}

/** stap's mutated_var_collector: the arrays a body writes an element of, directly. */
function mutatedArrays(body: A.Stmt): Set<string> {
  const out = new Set<string>();
  const visit = (n: unknown): void => {
    if (!n || typeof n !== 'object') return;
    if (Array.isArray(n)) return n.forEach(visit);
    const w = written(n as A.Expr);
    if (w) out.add(w.array.name);
    forEachChild(n, visit);
  };
  visit(body);
  return out;
}

export function checkForeachWrites(probes: ResolvedProbe[], functions: Map<string, FunctionSym>, report: Report): void {
  // a function's writes matter only where it is called inside a foreach: collected on demand
  const mutates = new Map<FunctionSym, Set<string>>();
  const mutatedBy = (f: FunctionSym): Set<string> => {
    let m = mutates.get(f);
    if (m === undefined) mutates.set(f, (m = mutatedArrays(f.decl.body)));
    return m;
  };

  // stap's no_var_mutation_during_iteration_check over one body; `iterated` is the arrays of the
  // loops around the node (one visitor and a stack: a closure per node was a measurable cost)
  const iterated: string[] = [];
  const check = (n: unknown): void => {
    if (!n || typeof n !== 'object') return;
    if (Array.isArray(n)) return n.forEach(check);
    const e = n as A.Expr | A.Stmt;
    const w = written(e);
    if (w && iterated.includes(w.array.name)) report(`variable '${w.array.name}' modified during 'foreach' iteration`, w.loc);
    if (e.kind === 'call' && iterated.length > 0) {
      const f = findFunction(functions, e.name, e.args.length);
      const m = f && mutatedBy(f);
      for (const a of iterated) if (m?.has(a)) report(`function call modifies var '${a}' during 'foreach' iteration`, e.loc);
    }
    if (e.kind === 'foreach') {
      iterated.push(e.array.name);
      forEachChild(e, check);
      iterated.pop();
      return;
    }
    forEachChild(e, check);
  };
  for (const p of probes) check(p.decl.body);
  for (const f of functions.values()) check(f.decl.body);
}
