// -p2: the resolved program in stap's layout (printscript in stap's main.cxx): globals as
// vardecl::printsig, the functions probes call (sorted by name, built-in ones too: stap's are
// tapset functions) as functiondecl::printsig, then
// every derived probe with its derivation chain `/* <- alias = points <- user's points */`, each
// followed by its locals. Unused globals and functions are left out, as stap elides them.
import type * as A from '../parse/ast';
import { pointText } from '../probes/provider';
import { quote, expr } from '../parse/print';
import { HIST_FOREACH_TEMP } from '../resolve/hist-foreach';
import { findFunction, type FunctionSym, type LocalSym, type ResolvedProbe, type ResolvedProgram } from '../resolve/resolve';
import { BUILTINS, type Builtin } from '../resolve/builtins';

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
  const { script, builtins } = calledFunctions(r);
  // stap's session.functions is one map by name: script, tapset and built-in functions together
  const listed: { name: string; lines: string[] }[] = [];
  // a function tapvm generated (sprint of a histogram) is stap's C: not listed
  for (const f of script) {
    if (f.decl.internal) continue;
    const params = f.decl.params.map((p) => `${p.name}:${f.locals.get(p.name)?.type ?? 'unknown'}`).join(', ');
    // a function that returns nothing has stap's type "unknown"
    listed.push({ name: f.decl.name, lines: [`${f.decl.name}:${f.ret === 'void' || !f.ret ? 'unknown' : f.ret} (${params})`, ...locals([...f.locals.values()].filter((l) => !l.param))] });
  }
  for (const b of builtins) listed.push({ name: b.name, lines: [builtinSig(b)] });
  listed.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (listed.length) out.push('# functions');
  for (const f of listed) out.push(...f.lines);
  // stap keeps a never probe among the derived probes (it just never arms it); here they come last
  const probes = [...r.probes, ...r.never];
  if (probes.length) out.push('# probes');
  for (const p of probes) {
    out.push(`${derivedPoint(p)} /* <- ${chain(p)} */`);
    out.push(...locals([...p.locals.values()]));
  }
  return out.length ? out.join('\n') + '\n' : '';
}

function locals(all: LocalSym[]): string[] {
  // a foreach over a histogram's temporaries are stap's C ones: not listed
  const ls = all.filter((l) => !l.name.startsWith(HIST_FOREACH_TEMP));
  return ls.length ? ['  # locals', ...ls.map((l) => `  ${l.name}:${l.type ?? 'unknown'}`)] : [];
}

/**
 * stap's parameter names of the tapset functions tapvm builds in (functiondecl::printsig
 * prints them), from stap's tapset sources; by name and arity.
 */
const STAP_PARAMS: Record<string, string[]> = {
  strlen: ['s'],
  substr: ['str', 'start', 'length'],
  stringat: ['str', 'pos'],
  strpos: ['s1', 's2'],
  isinstr: ['s1', 's2'],
  str_replace: ['prnt_str', 'srch_str', 'rplc_str'],
  tokenize: ['input', 'delim'],
  text_str: ['input'],
  text_strn: ['input', 'len', 'quoted'],
  string_quoted: ['str'],
  strtol: ['str', 'base'],
  isdigit: ['str'],
  error: ['msg'],
  register: ['name'],
  u_register: ['name'],
  'user_string/2': ['addr', 'err_msg'],
  kernel_string_n: ['addr', 'n'],
  user_string_n: ['addr', 'n'],
  errno_str: ['err'],
  ctime: ['epochsecs'],
  task_pid: ['task'],
  task_tgid: ['task'],
  task_parent: ['task'],
  cpu_clock_ns: ['cpu'],
  cpu_clock_us: ['cpu'],
  cpu_clock_ms: ['cpu'],
  cpu_clock_s: ['cpu'],
};

/** `name:type (param:type, ...)` of a built-in function, as stap prints its tapset function. */
function builtinSig(b: Builtin): string {
  const names = STAP_PARAMS[`${b.name}/${b.params.length}`] ?? STAP_PARAMS[b.name];
  // the *_arg(n) register readers take n; the memory readers (kernel_long, user_int8, ...) addr
  const fallback = (i: number) => (b.params.length === 1 ? (/_arg$/.test(b.name) ? 'n' : 'addr') : `arg${i + 1}`);
  const params = b.params.map((t, i) => `${names?.[i] ?? fallback(i)}:${t}`).join(', ');
  return `${b.name}:${b.ret === 'void' ? 'unknown' : b.ret} (${params})`;
}

/**
 * The functions reachable from the probes (stap elides the others before -p2 prints): the
 * script's and tapsets' in declaration order, and the built-in ones they call (tapvm's
 * `__` helpers stand for stap's embedded C, which -p2 does not show).
 */
function calledFunctions(r: ResolvedProgram): { script: FunctionSym[]; builtins: Builtin[] } {
  const seen = new Set<FunctionSym>();
  const builtins = new Set<Builtin>();
  const visit = (n: unknown, internal: boolean): void => {
    if (!n || typeof n !== 'object') return;
    if (Array.isArray(n)) return n.forEach((x) => visit(x, internal));
    const e = n as { kind?: string; name?: string; args?: A.Expr[] };
    if (e.kind === 'call' && e.name !== undefined && e.args) {
      const arity = e.args.length;
      const f0 = findFunction(r.functions, e.name, arity);
      // the whole overload chain of a name and arity can run (`next`)
      for (let f = f0; f && !seen.has(f); f = f.next ? r.functions.get(f.next) : undefined) {
        seen.add(f);
        visit(f.decl.body, internal || !!f.decl.internal);
      }
      const b = f0 || internal || e.name.startsWith('__') ? undefined : BUILTINS.get(e.name)?.find((x) => x.params.length === arity);
      if (b) builtins.add(b);
    }
    for (const [k, v] of Object.entries(e)) if (k !== 'loc' && k !== 'opLoc') visit(v, internal);
  };
  for (const p of r.probes) visit(p.decl.body, false);
  return { script: [...r.functions.values()].filter((f) => seen.has(f)), builtins: [...builtins] };
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
