// -p2: the resolved program in stap's layout (printscript in stap's main.cxx): globals as
// vardecl::printsig, the functions probes call (sorted by name) as functiondecl::printsig, then
// every derived probe with its derivation chain `/* <- alias = points <- user's points */`, each
// followed by its locals. Unused globals and functions are left out, as stap elides them.
import type * as A from '../parse/ast';
import { pointText } from '../probes/provider';
import { quote, expr } from '../parse/print';
import { findFunction, type FunctionSym, type LocalSym, type ResolvedProbe, type ResolvedProgram } from '../resolve/resolve';

export function printResolved(r: ResolvedProgram): string {
  const out: string[] = [];
  const elided = new Set(r.warnings.map((w) => /^Eliding unused variable '(.*)'$/.exec(w.message)?.[1]).filter((n) => n !== undefined));
  const globals = [...r.globals.values()].filter((g) => !elided.has(g.name));
  if (globals.length) out.push('# globals');
  for (const g of globals) {
    const size = (g.decl.wrap ? '%' : '') + (g.decl.size ? `[${g.decl.size.value}]` : '');
    const keys = g.keyTypes ? ` [${g.keyTypes.map((t) => t ?? 'unknown').join(', ')}]` : '';
    out.push(`${g.name}${size}:${g.stat ? 'stats' : (g.type ?? 'unknown')}${keys}`);
  }
  // a function tapvm generated (sprint of a histogram) is stap's C: not listed
  const functions = calledFunctions(r).filter((f) => !f.decl.internal).sort((a, b) => (a.decl.name < b.decl.name ? -1 : a.decl.name > b.decl.name ? 1 : 0));
  if (functions.length) out.push('# functions');
  for (const f of functions) {
    const params = f.decl.params.map((p) => `${p.name}:${f.locals.get(p.name)?.type ?? 'unknown'}`).join(', ');
    // a function that returns nothing has stap's type "unknown"
    out.push(`${f.decl.name}:${f.ret === 'void' || !f.ret ? 'unknown' : f.ret} (${params})`);
    out.push(...locals([...f.locals.values()].filter((l) => !l.param)));
  }
  // stap keeps a never probe among the derived probes (it just never arms it); here they come last
  const probes = [...r.probes, ...r.never];
  if (probes.length) out.push('# probes');
  for (const p of probes) {
    out.push(`${derivedPoint(p)} /* <- ${chain(p)} */`);
    out.push(...locals([...p.locals.values()]));
  }
  return out.length ? out.join('\n') + '\n' : '';
}

function locals(ls: LocalSym[]): string[] {
  return ls.length ? ['  # locals', ...ls.map((l) => `  ${l.name}:${l.type ?? 'unknown'}`)] : [];
}

/** The functions reachable from the probes (stap elides the others before -p2 prints). */
function calledFunctions(r: ResolvedProgram): FunctionSym[] {
  const seen = new Set<FunctionSym>();
  const visit = (n: unknown): void => {
    if (!n || typeof n !== 'object') return;
    if (Array.isArray(n)) return n.forEach(visit);
    const e = n as { kind?: string; name?: string; args?: A.Expr[] };
    if (e.kind === 'call' && e.name !== undefined && e.args) {
      // the whole overload chain of a name and arity can run (`next`)
      for (let f = findFunction(r.functions, e.name, e.args.length); f && !seen.has(f); f = f.next ? r.functions.get(f.next) : undefined) {
        seen.add(f);
        visit(f.decl.body);
      }
    }
    for (const [k, v] of Object.entries(e)) if (k !== 'loc' && k !== 'opLoc') visit(v);
  };
  for (const p of r.probes) visit(p.decl.body);
  return [...r.functions.values()].filter((f) => seen.has(f));
}

/** The point the probe attaches to, with the `?`/`!` of the point it was resolved from and the arming conditions. */
function derivedPoint(p: ResolvedProbe): string {
  const { point, conditions } = p.via;
  // stap joins an alias point's condition before the use's: c_k && (... && c_1)
  let cond: string | undefined;
  for (const c of conditions) cond = cond === undefined ? stapExpr(c) : `(${stapExpr(c)}) && (${cond})`;
  // stap names a tracepoint probe by its system and event (tracepoint_derived_probe)
  const a = p.point.attach;
  const pp = a.family === 'tracepoint' && !p.point.pp.includes('*') ? `kernel.trace(${quote(`${a.system}:${a.event}`)})` : p.point.pp;
  return pp + mark(point) + (cond !== undefined ? ` if (${cond})` : '');
}

/** stap's derivation chain: the aliases from the innermost out (`names = points`), then the user's probe. */
function chain(p: ResolvedProbe): string {
  const steps = [...p.via.aliases].reverse().map((a) => `${a.names.map(written).join(' = ')} ${a.epilogue ? '+=' : '='} ${a.points.map(written).join(', ')}`);
  steps.push(p.decl.points.map(written).join(','));
  return steps.join(' <- ');
}

const mark = (p: A.ProbePoint) => (p.sufficient ? '!' : p.optional ? '?' : '');

/** A probe point as stap's probe_point::print writes it. */
function written(p: A.ProbePoint): string {
  return pointText(p) + mark(p) + (p.condition ? ` if (${stapExpr(p.condition)})` : '');
}

/** An expression as stap's print methods write it: every operand of an operator parenthesised. */
export function stapExpr(e: A.Expr): string {
  switch (e.kind) {
    case 'number':
      return e.value.toString();
    case 'string':
      return quote(e.value);
    case 'ident':
      return e.name;
    case 'binary':
    case 'logical':
      return `(${stapExpr(e.left)}) ${e.op} (${stapExpr(e.right)})`;
    case 'assign':
      return `(${stapExpr(e.target)}) ${e.op} (${stapExpr(e.value)})`;
    case 'unary':
      return `${e.op}(${stapExpr(e.operand)})`;
    case 'incdec':
      return e.prefix ? `${e.op}(${stapExpr(e.target)})` : `(${stapExpr(e.target)})${e.op}`;
    case 'ternary':
      return `(${stapExpr(e.cond)})?(${stapExpr(e.then)}):(${stapExpr(e.else)})`;
    case 'call':
      return `${e.name}(${e.args.map(stapExpr).join(', ')})`;
    case 'index':
      return `${e.array.name}[${e.indices.map(stapExpr).join(', ')}]`;
    case 'in':
      return `[${e.keys.map(stapExpr).join(', ')}] in ${e.array.name}`;
    case 'tvar':
      return `${e.addressOf ? '&' : ''}$${e.name}${e.pretty ?? ''}`;
    default:
      return expr(e);
  }
}
