// sprint(@hist_log(x)) / sprint(@hist_linear(x, ...)) (and sprintln, which stap treats the same:
// its print_format with a histogram ignores the newline): stap's parser accepts a histogram as
// the one argument of print, println, sprint and sprintln, and its translator formats the
// string with _stp_stat_print_histogram_buf into MAXSTRINGLEN bytes, so the result is the
// histogram's text cut at MAXSTRINGLEN-1; an empty statistic is the error "empty aggregate" at
// the print's token.
//
// print() keeps its HIST record (user space formats the whole histogram). sprint() needs the
// text as a string value in both interpreters, so each such call becomes a call of a function
// generated here, in the language itself, over `@hist_*(x)[i]` (STHIST, which both VMs run):
// the same text as src/output/histogram.ts, built with sprintf, and no new kernel code. The
// statistic's indices are the function's parameters (evaluated once, at the call). The
// function is marked internal: its statements are not charged to MAXACTION (stap's is C) and
// its run-time error names the sprint, as stap's does. Rows stop once the string is full.
import type * as A from '../parse/ast';
import { histFree, parseScript } from '../parse';
import { forEachChild, isLocKey } from '../parse/walk';
import { LOG_BUCKET0, histBuckets } from '../vm/stats';

const HIST_WIDTH = 50;

function isHistSprint(e: A.CallExpr): e is A.CallExpr & { args: [A.HistOpExpr] } {
  return (e.name === 'sprint' || e.name === 'sprintln') && e.args.length === 1 && e.args[0].kind === 'histop';
}

/** The generated function's text for histogram `h` with `nkeys` indices. */
function functionText(name: string, h: A.HistOpExpr, nkeys: number): string {
  const keys = Array.from({ length: nkeys }, (_, i) => `__hs_k${i}`);
  const ref = h.stat.kind === 'index' ? `${h.stat.array.name}[${keys.join(', ')}]` : h.stat.name;
  const log = h.op === 'hist_log';
  const [start, stop, interval] = h.params.map((p) => `(${p})`);
  const hop = log ? `@hist_log(${ref})` : `@hist_linear(${ref}, ${h.params.join(', ')})`;
  const buckets = log ? String(histBuckets(h.op, h.params)) : `(${stop} - ${start}) / ${interval} + 3`;
  // _stp_bucket_to_val: 0 for bucket 64, -2^63 >> n below it, 1 << (n - 65) above
  const logVal = (v: string) => `(${v} == ${LOG_BUCKET0} ? 0 : ${v} < ${LOG_BUCKET0} ? (-9223372036854775807 - 1) >> ${v} : 1 << (${v} - ${LOG_BUCKET0 + 1}))`;
  const len = (v: string) => `strlen(sprint(${v}))`;
  // __stp_stat_add's bucket of __hs_v into `to`: _stp_val_to_bucket (64 +- the bit length of
  // |v|, shifted logically so -2^63 ends), or linear: 0 below start, then (v - start) /
  // interval + 1, at most the overflow bucket
  const bucketOf = (to: string) =>
    log
      ? `__hs_u = __hs_v < 0 ? -__hs_v : __hs_v; __hs_n = 0
  while (__hs_u != 0) { __hs_n++; __hs_u = (__hs_u >> 1) & 0x7fffffffffffffff }
  ${to} = __hs_v == 0 ? ${LOG_BUCKET0} : __hs_v < 0 ? ${LOG_BUCKET0} - __hs_n : ${LOG_BUCKET0} + __hs_n`
      : `__hs_u = __hs_v - ${start}
  ${to} = __hs_u < 0 ? 0 : __hs_u / ${interval} + 1
  if (${to} > __hs_b - 1) ${to} = __hs_b - 1`;
  const bars = '@'.repeat(HIST_WIDTH);
  return `function ${name}:string (${keys.join(', ')}) {
  if (@count(${ref}) == 0) error("empty aggregate")
  __hs_b = ${buckets}; __hs_max = 0
  // the first and last non-empty buckets are those of @min and @max: only they and the
  // buckets between are read (STHIST adds up every CPU's copy)
  __hs_v = @min(${ref})
  ${bucketOf('__hs_low')}
  __hs_v = @max(${ref})
  ${bucketOf('__hs_high')}
  for (__hs_i = __hs_low; __hs_i <= __hs_high; __hs_i++) {
    __hs_c = ${hop}[__hs_i]
    if (__hs_c > __hs_max) __hs_max = __hs_c
  }
  for (__hs_i = 0; __hs_i < 2; __hs_i++) {
    ${log ? `if (__hs_low != ${LOG_BUCKET0} && __hs_low > 0) __hs_low--` : 'if (__hs_low > 0) __hs_low--'}
    if (__hs_high < __hs_b - 1) __hs_high++
  }
  ${
    log
      ? `__hs_vs = ${len(logVal('__hs_high'))}; __hs_v = ${len(logVal('__hs_low'))}`
      : `if (__hs_low == 0 && ${hop}[0] == 0) __hs_low++
  if (__hs_high == __hs_b - 1 && ${hop}[__hs_high] == 0) __hs_high--
  __hs_vs = ${len(start)} + (__hs_low == 0); __hs_v = ${len(`${start} + ${interval} * __hs_high`)} + (__hs_high == __hs_b - 1)`
  }
  if (__hs_v > __hs_vs) __hs_vs = __hs_v
  if (__hs_vs < 5) __hs_vs = 5
  __hs_scale = __hs_max <= ${HIST_WIDTH} ? 1 : (__hs_max + ${HIST_WIDTH - 1}) / ${HIST_WIDTH}
  __hs_cs = ${len('__hs_max')}
  __hs_s = sprintf("%*s |${'-'.repeat(HIST_WIDTH)} count\\n", __hs_vs, "value")
  __hs_el = 0
  for (__hs_i = __hs_low; __hs_i <= __hs_high; __hs_i++) {
    if (strlen(__hs_s . "x") == strlen(__hs_s)) break
    __hs_e = 1
    for (__hs_k = __hs_i - 2 < __hs_low ? __hs_low : __hs_i - 2; __hs_k <= __hs_i + 2 && __hs_k <= __hs_high; __hs_k++)
      if (${hop}[__hs_k] != 0) { __hs_e = 0; break }
    if (__hs_e) { __hs_el = 1; continue }
    if (__hs_el) { __hs_s .= sprintf("%*s ~\\n", __hs_vs, ""); __hs_el = 0 }
    ${
      log
        ? `__hs_val = ${logVal('__hs_i')}; __hs_p = ""`
        : `if (__hs_i == 0) { __hs_val = ${start}; __hs_p = "<" }
    else if (__hs_i == __hs_b - 1) { __hs_val = ${start} + (__hs_i - 2) * ${interval}; __hs_p = ">" }
    else { __hs_val = ${start} + (__hs_i - 1) * ${interval}; __hs_p = "" }`
    }
    __hs_c = ${hop}[__hs_i]
    __hs_w = __hs_c / __hs_scale
    __hs_s .= sprintf("%*s%d |", __hs_vs - ${len('__hs_val')}, __hs_p, __hs_val)
    __hs_s .= sprintf("%s%*d\\n", substr("${bars}", 0, __hs_w), ${HIST_WIDTH + 1} - __hs_w + __hs_cs, __hs_c)
  }
  return __hs_s . "\\n"
}
`;
}

/** Every location in `n` set to `loc`: errors in generated code point at the user's call. */
function relocate(n: unknown, loc: A.Loc): void {
  if (!n || typeof n !== 'object') return;
  if (Array.isArray(n)) return n.forEach((x) => relocate(x, loc));
  for (const [k, v] of Object.entries(n as Record<string, unknown>)) {
    if (isLocKey(k)) (n as Record<string, unknown>)[k] = loc;
    else relocate(v, loc);
  }
}

/**
 * Turns each sprint/sprintln of a histogram in the script's probes, aliases and functions into
 * a call of a generated function (added to script.items). A histogram of anything but a
 * global's name or element is left alone for the resolver to refuse.
 */
export function desugarHistSprint(script: A.Script): void {
  const added: A.FunctionDecl[] = [];
  const visit = (n: unknown): void => {
    if (!n || typeof n !== 'object') return;
    if (Array.isArray(n)) return n.forEach(visit);
    const o = n as Record<string, unknown>;
    forEachChild(o, visit);
    const e = n as A.CallExpr;
    if (e.kind !== 'call' || !isHistSprint(e)) return;
    const h = e.args[0];
    if (h.stat.kind !== 'ident' && h.stat.kind !== 'index') return;
    const keys = h.stat.kind === 'index' ? h.stat.indices : [];
    const name = `__tapvm_hist_sprint${added.length}`;
    const fn = parseScript(functionText(name, h, keys.length), '<hist_sprint>').items[0] as A.FunctionDecl;
    relocate(fn, e.loc);
    fn.internal = { near: `identifier '${e.name}'` };
    added.push(fn);
    e.name = name;
    (e as A.CallExpr).args = keys;
  };
  for (const item of script.items) if ((item.kind === 'probe' || item.kind === 'alias' || item.kind === 'function') && !histFree(item)) visit(item.body);
  script.items.push(...added);
}
