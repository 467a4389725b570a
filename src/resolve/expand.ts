// Expands probe declarations into ordinary probes, as stap's derive_probes does: aliases
// (`=` prologue, `+=` epilogue, with suffixes), wildcards `*`/`**` against the aliases and the
// providers' listings, optional `?`, sufficient `!` and `if (cond)` arming conditions. Every
// result is one resolved point with its own copy of the body, so codegen sees plain probes.
import type * as A from '../parse/ast';
import { resolvePoint, listPoints, providerOf, familyNames, similar, levenshteinSuggest, type ResolvedPoint } from '../probes';
import { isMismatch, pointText } from '../probes/provider';
import { cloneTree } from '../parse/walk';

/** One probe after expansion: the point the handler attaches to, and the body it runs. */
export interface ExpandedProbe {
  /** a synthesized declaration: the alias bodies wrapped around the user's, conditions first */
  decl: A.ProbeDecl;
  /** the point as written in the probe (for locations and -p2) */
  pointNode: A.ProbePoint;
  point: ResolvedPoint;
  /** the points it came through, outermost first: `syscall.getppid <- myalias` */
  derivation: string[];
  /** for -p2's derivation chain: the aliases it went through (the user's first), the point resolved, the arming conditions (the user's first) */
  via: { aliases: A.AliasDecl[]; point: A.ProbePoint; conditions: A.Expr[] };
}

/** Aliases nest at most this deep (a cycle stops here with an error). */
const MAX_DEPTH = 32;
/** Wildcard expansion of one point gives at most this many probes. */
const MAX_MATCHES = 4096;

interface Frame {
  /** alias bodies from the outermost (the user's probe) inwards */
  wrap: { alias: A.AliasDecl }[];
  conditions: A.Expr[];
  optional: boolean;
  /** a `?` or `!` was written on the way here (wildcard matches are optional without one) */
  written: boolean;
  derivation: string[];
}

export function expandProbes(
  items: A.TopLevel[],
  report: (msg: string, loc?: A.Loc) => void,
): ExpandedProbe[] {
  let errors = 0;
  const err = (msg: string, loc?: A.Loc) => {
    errors++;
    report(msg, loc);
  };
  const aliases = items.filter((i): i is A.AliasDecl => i.kind === 'alias');
  const aliasNames = aliases.flatMap((a) => a.names.map((n) => ({ text: pointText(n), name: n, alias: a })));
  const out: ExpandedProbe[] = [];
  /** the alias points that derived nothing, inner first, until the user's point reports them */
  const noMatchChain: A.ProbePoint[] = [];

  /** Resolves the list `points` (a probe's or an alias's); false when a mandatory point failed. */
  const expandList = (points: A.ProbePoint[], frame: Frame, depth: number, user: A.ProbeDecl, userPoint: A.ProbePoint | undefined): number => {
    let total = 0;
    for (const p of points) {
      const n = expandPoint(p, frame, depth, user, userPoint ?? p);
      total += n;
      if (p.sufficient && n > 0) break; // `!`: resolved, so the alternatives after it are not needed
    }
    return total;
  };

  /** Expands one point; the number of probes it produced. */
  const expandPoint = (p: A.ProbePoint, outer: Frame, depth: number, user: A.ProbeDecl, userPoint: A.ProbePoint): number => {
    const frame: Frame = {
      ...outer,
      optional: outer.optional || p.optional,
      written: outer.written || p.optional,
      conditions: p.condition ? [...outer.conditions, p.condition] : outer.conditions,
    };
    const fail = (msg: string) => {
      if (!frame.optional) err(msg, p.loc);
      return 0;
    };
    if (depth > MAX_DEPTH) return fail(`probe alias expansion is nested more than ${MAX_DEPTH} deep (a recursive alias?): ${pointText(p)}`);

    if (hasWildcard(p)) {
      const re = wildcardRegExp(p);
      const matches: A.ProbePoint[] = [];
      const seen = new Set<string>();
      const add = (text: string, comps: A.ProbeComponent[]) => {
        if (!seen.has(text) && re.test(text) && matches.length < MAX_MATCHES) {
          seen.add(text);
          matches.push({ ...p, components: comps, optional: false, sufficient: false, condition: undefined });
        }
      };
      for (const a of aliasNames) add(a.text, a.name.components.map((c) => ({ ...c, loc: p.loc })));
      const first = p.components[0].name;
      // `*` in the first component: every family that can begin the match (`sys**open`, `*.getppid`)
      const lead = first.slice(0, first.indexOf('*'));
      const families = first.includes('*') ? familyNames().filter((f) => f.startsWith(lead) || globRegExp(first).test(f)) : [first];
      // a family that resolves its own wildcards gets the point whole (syscall.*: one attachment)
      const own = !first.includes('*') && providerOf(first)?.resolvesWildcards === true;
      if (own) {
        let n = 0;
        for (const m of matches) n += expandPoint(m, { ...frame, optional: true }, depth + 1, user, userPoint);
        return n + resolveAt(p, { ...frame, optional: frame.optional || n > 0 }, user, userPoint);
      }
      for (const f of families) for (const text of listPoints(f)) add(text, parsePointText(text, p.loc));
      if (matches.length === 0) {
        // a provider without a listing may still understand its own patterns
        if (providerOf(first)) return resolveAt(p, frame, user, userPoint);
        if (!first.includes('*') && !aliasNames.some((a) => a.name.components[0].name === first)) return unknownFamily(p, frame);
        return fail(`probe point mismatch: didn't find any wildcard matches${wildcardSuggestions(p, aliasNames.map((a) => a.text))}`);
      }
      let n = 0;
      for (const m of matches) n += expandPoint(m, { ...frame, optional: true }, depth + 1, user, userPoint);
      return n || fail(`probe point mismatch: didn't find any wildcard matches${wildcardSuggestions(p, aliasNames.map((a) => a.text))}`);
    }

    // aliases whose name is this point, or a prefix of it (the rest is a suffix for its points)
    const text = pointText(p);
    let n = 0;
    let matched = false;
    // the longest alias name wins: `vfs.read.return` is its own alias, not `vfs.read` + suffix
    // (the first component's name first: most aliases fail there, without building texts)
    const prefixOf = (a: (typeof aliasNames)[number]) =>
      a.name.components[0].name === p.components[0].name &&
      a.name.components.length <= p.components.length &&
      pointText({ ...p, components: p.components.slice(0, a.name.components.length) }) === a.text;
    const longest = Math.max(0, ...aliasNames.filter(prefixOf).map((a) => a.name.components.length));
    const errorsBefore = errors;
    for (const a of aliasNames) {
      const k = a.name.components.length;
      if (k !== longest || !prefixOf(a)) continue;
      matched = true;
      const suffix = p.components.slice(k);
      const inner: Frame = { ...frame, wrap: [...frame.wrap, { alias: a.alias }], derivation: [...frame.derivation, text] };
      const points = a.alias.points.map((ap) => (suffix.length ? { ...ap, components: [...ap.components, ...suffix] } : ap));
      n += expandList(points, inner, depth + 1, user, userPoint);
    }
    if (matched) {
      // an alias whose points are all optional and absent: stap's derive_probes finds nothing
      // new for a required point, "no match", under the point it was resolving (the alias's
      // own failures, when it had any, were reported instead)
      if (n === 0 && !frame.optional && errors === errorsBefore) {
        // each alias level wraps the error as stap rethrows it: outermost (the user's) first
        noMatchChain.unshift(p);
        if (depth === 0) {
          for (const q of noMatchChain) err(`while resolving probe point: identifier '${q.components[0].name}'`, q.loc);
          err('no match');
          noMatchChain.length = 0;
        }
      }
      return n;
    }
    return resolveAt(p, frame, user, userPoint);
  };

  /** stap's two errors for a first component nothing knows: where, then what it is close to. */
  const unknownFamily = (p: A.ProbePoint, frame: Frame): number => {
    if (frame.optional) return 0;
    const first = p.components[0];
    err(`while resolving probe point: identifier '${first.name}'`, p.loc);
    const close = levenshteinSuggest(first.name, [...familyNames(), ...aliasNames.map((a) => a.name.components[0].name)]);
    err(`probe point mismatch${close.length ? ` (similar: ${close.join(', ')})` : ''}`, first.loc);
    return 0;
  };

  const resolveAt = (p: A.ProbePoint, frame: Frame, user: A.ProbeDecl, userPoint: A.ProbePoint): number => {
    if (!providerOf(p.components[0].name)) return unknownFamily(p, frame);
    const r = resolvePoint(p);
    if (isMismatch(r)) {
      if (frame.optional) return 0;
      if (r.resolving) {
        // stap's two-part form: where, then what
        err(`while resolving probe point: identifier '${p.components[0].name}'`, p.loc);
        err(r.error, r.loc);
      } else err(r.error + suggestions(p, aliasNames.map((a) => a.text)), p.loc);
      return 0;
    }
    // an optional point the kernel cannot arm is skipped, as stap skips one that does not resolve
    const points = (Array.isArray(r) ? r : [r]).filter((pt) => !(frame.written && pt.unattachable));
    if (!points.length) return 0;
    const via = { aliases: frame.wrap.map((w) => w.alias), point: p, conditions: frame.conditions };
    for (const point of points) out.push({ decl: buildDecl(user, frame), pointNode: userPoint, point, derivation: [...frame.derivation, point.pp], via });
    return points.length;
  };

  for (const item of items) {
    if (item.kind !== 'probe') continue;
    expandList(item.points, { wrap: [], conditions: [], optional: false, written: false, derivation: [] }, 0, item, undefined);
  }
  return out;
}

/** The body a derived probe runs: `if (!(c)) next` for each condition, then the alias bodies around the user's. */
function buildDecl(user: A.ProbeDecl, frame: Frame): A.ProbeDecl {
  let body: A.Block = cloneTree(user.body);
  // the innermost alias (the one resolved last) is the outermost wrapper: its prologue runs first
  for (const { alias } of frame.wrap) {
    const ab = cloneTree(alias.body);
    body = { kind: 'block', stmts: alias.epilogue ? [body, ab] : [ab, body], loc: body.loc };
  }
  const checks: A.Stmt[] = frame.conditions.map((c) => ({
    kind: 'if',
    cond: { kind: 'unary', op: '!', operand: cloneTree(c), loc: c.loc },
    then: { kind: 'next', loc: c.loc },
    loc: c.loc,
  }));
  if (checks.length) body = { kind: 'block', stmts: [...checks, body], loc: body.loc };
  return { kind: 'probe', points: user.points, body, loc: user.loc };
}

function hasWildcard(p: A.ProbePoint): boolean {
  return p.components.some((c) => c.name.includes('*') || (c.arg?.kind === 'string' && c.arg.value.includes('*')));
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A component glob: `*` within one component, `**` across components. */
function globRegExp(name: string): RegExp {
  return new RegExp('^' + globSource(name, '[^.(]*') + '$');
}

function globSource(s: string, star: string): string {
  return s
    .split('**')
    .map((part) => part.split('*').map(escape).join(star))
    .join('.*');
}

/** Matches pointText() spellings: names glob per component, string arguments glob within the quotes. */
function wildcardRegExp(p: A.ProbePoint): RegExp {
  const parts = p.components.map((c) => {
    const name = globSource(c.name, '[^.(]*');
    if (!c.arg) return name;
    if (c.arg.kind === 'number') return `${name}\\(${c.arg.value}\\)`;
    const quoted = JSON.stringify(c.arg.value);
    return `${name}\\(${globSource(quoted, '[^"]*')}\\)`;
  });
  return new RegExp('^' + parts.join('\\.') + '$');
}

/** pointText() back into components (for listed points): `a.b("x:y").c(3)`. */
export function parsePointText(text: string, loc: A.Loc): A.ProbeComponent[] {
  const comps: A.ProbeComponent[] = [];
  const re = /([^.("]+)(?:\(("(?:[^"\\]|\\.)*"|-?\d+)\))?(?:\.|$)/y;
  for (let m; re.lastIndex < text.length && (m = re.exec(text)); ) {
    const c: A.ProbeComponent = { name: m[1], loc };
    if (m[2] !== undefined)
      c.arg = m[2].startsWith('"') ? { kind: 'string', value: JSON.parse(m[2]) as string, loc } : { kind: 'number', value: BigInt(m[2]), loc };
    comps.push(c);
  }
  return comps;
}

/** ` (similar: a, b)` from the alias names and the family's listing, as stap suggests. */
function suggestions(p: A.ProbePoint, aliasTexts: string[]): string {
  const text = pointText(p);
  const first = p.components[0].name;
  const pool = new Set<string>(aliasTexts);
  for (const t of listPoints(first)) pool.add(t);
  let close = similar(text, pool, 5);
  if (close.length === 0 && !providerOf(first)) close = similar(first, new Set([...familyNames(), ...aliasTexts.map((t) => t.split('.')[0])]), 5);
  return close.length ? ` (similar: ${close.join(', ')})` : '';
}

/**
 * stap's suggest_functors for a wildcard that matched nothing: the names the first globbing
 * component could have had (its text before the `*`, when there is some), closest first.
 */
function wildcardSuggestions(p: A.ProbePoint, aliasTexts: string[]): string {
  const k = p.components.findIndex((c) => c.name.includes('*'));
  if (k < 0) return '';
  const target = p.components[k].name.slice(0, p.components[k].name.indexOf('*'));
  if (target === '') return '';
  const before = p.components.slice(0, k).map((c) => c.name);
  const names = new Set<string>();
  for (const text of [...aliasTexts, ...(k > 0 ? listPoints(before[0]) : familyNames())]) {
    const comps = parsePointText(text, p.loc);
    if (comps.length > k && before.every((n, i) => comps[i].name === n)) names.add(comps[k].name);
  }
  const close = levenshteinSuggest(target, names);
  return close.length ? ` (similar: ${close.join(', ')})` : '';
}
