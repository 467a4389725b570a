// `foreach (b in @hist_log(x))`, `foreach ([v =] b in @hist_linear(x[k], 0, 100, 10) limit n)`:
// stap's translator (c_unparser::visit_foreach_loop, the histogram branch) runs
//   for (b = 0; b < buckets; b++) { if (limitv++ >= limit) break; v = hist[b]; body }
// over every bucket in index order, empty or not, also in an empty statistic (128 for @hist_log, (stop - start) / interval
// + 3 for @hist_linear); a sort directive is accepted and ignored; the bucket variable is a
// long, and more than one is its 'Invalid indexing of histogram'.
//
// Both interpreters already run `@hist_*(x)[i]` (STHIST), so each such foreach becomes that
// for loop, in place, before type checking: no new instruction. The statistic's indices and a
// limit that is not a literal are evaluated once, before the loop (as stap's load_aggregate
// and res_limit), into locals named __tapvm_hf*, which -p2 does not list. One difference:
// stap reads the buckets from one aggregate taken before the loop, this loop reads each bucket
// when it gets there, so a `x <<< v` in the body shows in later buckets.
import type * as A from '../parse/ast';
import { forEachChild } from '../parse/walk';
import { histFree } from '../parse';
import { histBuckets } from '../vm/stats';

/** The prefix of the locals this pass adds: hidden from -p2 (they are stap's C temporaries). */
export const HIST_FOREACH_TEMP = '__tapvm_hf';

/** The number of buckets a histogram has (0 for parameters the resolver refuses). */
function bucketCount(h: A.HistOpExpr): bigint {
  if (h.op === 'hist_log') return histBuckets(h.op, h.params);
  const [start, stop, interval] = h.params;
  return interval > 0n && stop > start ? histBuckets(h.op, h.params) : 0n;
}

/**
 * Replaces every foreach over a histogram in the script's probes, aliases and functions by its
 * for loop; reports stap's error for a foreach with more than one bucket variable.
 */
export function desugarHistForeach(script: A.Script, err: (msg: string, loc: A.Loc) => void): void {
  let n = 0;
  const rewrite = (s: A.ForeachStmt): A.Stmt => {
    const h = s.hist!;
    const loc = s.loc;
    if (s.keys.length !== 1) {
      err('Invalid indexing of histogram', loc);
      return { kind: 'empty', loc };
    }
    const id = n++;
    const ident = (name: string, at = loc): A.Ident => ({ kind: 'ident', name, loc: at });
    const num = (v: bigint): A.NumberLit => ({ kind: 'number', value: v, loc });
    const assign = (target: A.Ident, value: A.Expr): A.Stmt => ({ kind: 'exprstmt', expr: { kind: 'assign', op: '=', target, value, loc }, loc });
    const pre: A.Stmt[] = [];
    // the statistic's indices: evaluated once, in order, before the limit (load_aggregate)
    let stat: A.Ident | A.IndexExpr = h.stat;
    if (h.stat.kind === 'index') {
      const indices = h.stat.indices.map((k, i): A.Expr => {
        if (k.kind === 'number' || k.kind === 'string') return k;
        const t = ident(`${HIST_FOREACH_TEMP}${id}_k${i}`, k.loc);
        pre.push(assign(t, k));
        return ident(t.name, k.loc);
      });
      stat = { ...h.stat, indices };
    }
    const b = s.keys[0];
    const body: A.Stmt[] = [];
    if (s.limit) {
      let limit: A.Expr = s.limit;
      if (limit.kind !== 'number') {
        const l = ident(`${HIST_FOREACH_TEMP}${id}_l`, s.limit.loc);
        pre.push(assign(l, s.limit));
        limit = ident(l.name, s.limit.loc);
      }
      const c = ident(`${HIST_FOREACH_TEMP}${id}_c`);
      pre.push(assign(c, num(0n)));
      const over: A.Expr = { kind: 'binary', op: '>=', left: { kind: 'incdec', op: '++', prefix: false, target: ident(c.name), loc }, right: limit, loc };
      body.push({ kind: 'if', cond: over, then: { kind: 'break', loc }, loc });
    }
    // the value is the bucket's count, 0 in an empty statistic (which @hist_*(x)[b] refuses with
    // 'empty aggregate': stap's foreach reads the aggregate without that check)
    const bucket = (index: A.Expr): A.Expr => ({
      kind: 'ternary',
      cond: { kind: 'statop', op: 'count', stat, loc: h.loc },
      then: { kind: 'histindex', hist: { ...h, stat }, index, loc: h.loc },
      else: num(0n),
      loc: h.loc,
    });
    if (s.value) body.push(assign(ident(s.value.name, s.value.loc), bucket(ident(b.name, b.loc))));
    // without a value the loop reads no bucket, but the foreach still reads the statistic and
    // asks it for this histogram (its kind is checked, it is not elided nor displayed at exit):
    // one read before the loop says so
    else pre.push(assign(ident(`${HIST_FOREACH_TEMP}${id}_h`), bucket(num(0n))));
    body.push(s.body);
    const loop: A.ForStmt = {
      kind: 'for',
      init: { kind: 'assign', op: '=', target: ident(b.name, b.loc), value: num(0n), loc: b.loc },
      cond: { kind: 'binary', op: '<', left: ident(b.name, b.loc), right: num(bucketCount(h)), loc: b.loc },
      step: { kind: 'incdec', op: '++', prefix: false, target: ident(b.name, b.loc), loc },
      body: { kind: 'block', stmts: body, loc },
      loc,
    };
    return pre.length ? { kind: 'block', stmts: [...pre, loop], loc } : loop;
  };
  const visit = (n: unknown): void => {
    if (!n || typeof n !== 'object') return;
    if (Array.isArray(n)) return n.forEach(visit);
    const o = n as Record<string, unknown>;
    forEachChild(o, (v, k) => {
      visit(v);
      // replace after visiting, so that a foreach nested in the body is rewritten too
      if (isHistForeach(v)) o[k] = rewrite(v);
      else if (Array.isArray(v)) v.forEach((x, i) => isHistForeach(x) && (v[i] = rewrite(x)));
    });
  };
  for (const item of script.items) if ((item.kind === 'probe' || item.kind === 'alias' || item.kind === 'function') && !histFree(item)) visit(item);
}

function isHistForeach(v: unknown): v is A.ForeachStmt {
  return typeof v === 'object' && v !== null && (v as A.Stmt).kind === 'foreach' && (v as A.ForeachStmt).hist !== undefined;
}
