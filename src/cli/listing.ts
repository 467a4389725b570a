// -l / -L: the probe points a pattern resolves to, as stap lists them. Each pattern becomes
// `probe PATTERN {}` and goes through passes 1 and 2 exactly as a script would (tapsets,
// aliases, wildcards, providers); nothing is compiled or attached. A point reached through an
// alias is listed under the alias's name (stap's derivation chain, one step from the user's
// probe); syscall wildcards, which stay one attachment internally, are listed per system call.
import type { ResolvedProgram, ResolvedProbe } from '../resolve/resolve';
import { providerOf } from '../probes';
import { syscallCatalog } from '../kernel/syscalls';
import type { TracepointField } from '../kernel/tracefs';

/** The script -l/-L resolves: one empty probe per pattern. */
export function listingScript(patterns: string[]): string {
  return patterns.map((p) => `probe ${p} {}\n`).join('');
}

/** The names one resolved probe is listed under (several for a syscall wildcard). */
function listedNames(p: ResolvedProbe): string[] {
  const name = p.derivation[0] ?? p.point.pp;
  const a = p.point.attach;
  if (a.family === 'syscall' && name === p.point.pp && name.includes('*')) {
    const byNr = new Map(syscallCatalog().map((s) => [s.nr, s.name]));
    const first = name.slice(0, name.indexOf('.'));
    return a.nrs.map((nr) => byNr.get(nr)).filter((n): n is string => n !== undefined).map((n) => `${first}.${n}${a.exit ? '.return' : ''}`);
  }
  return [name];
}

/**
 * How -L spells a field's type, as stap's dwarf_type_name: BTF types already are; a format
 * file's C type gets qualifiers after the type, `*` and `[]` without spaces or sizes
 * (`const struct cred *` -> `struct cred const*`, `char[16]` and `__data_loc char[]` -> `char[]`).
 */
function fieldType(f: TracepointField): string {
  if (f.btf !== undefined) return f.ctype;
  let t = f.ctype.replace(/^__data_loc\s+/, '').replace(/\[\d*\]/g, '[]').trim();
  const quals: string[] = [];
  for (let m; (m = /^(const|volatile)\s+/.exec(t)); t = t.slice(m[0].length)) quals.push(m[1]);
  const star = t.indexOf('*');
  const base = (star < 0 ? t : t.slice(0, star)).trim();
  const rest = star < 0 ? '' : t.slice(star).replace(/\s+/g, '');
  return [base, ...quals].join(' ') + rest;
}

/** -L: the script-visible variables of one probe under one listed name: locals, then `$vars`. */
function variables(p: ResolvedProbe, name: string): string[] {
  const locals = [...p.locals.values()].filter((l) => !l.tapset && !l.name.startsWith('__')).map((l) => `${l.name}:${l.type}`);
  // a name reached through an alias: the provider describes the point underneath it
  const concrete = p.derivation.length > 1 ? p.point.pp : name;
  const described = providerOf(concrete.split(/[.(]/)[0])?.describe?.(concrete);
  if (described?.length) return [...locals, ...described];
  const vars = [...(p.point.tapsetVars ?? new Map()).entries()].map(([n, v]) => `${n}:${v.type}`);
  for (const f of [...Map.prototype.values.call(p.point.contextVars)] as TracepointField[]) vars.push(`$${f.name}:${fieldType(f)}`);
  return [...locals, ...vars];
}

/**
 * stap's listing: sorted, one line per name; with vars, the variables every derived probe of
 * that name has, `name:type` locals first, then `$name:type` context variables, each sorted.
 */
export function formatListing(r: ResolvedProgram, withVars: boolean): string {
  const byName = new Map<string, string[][]>();
  for (const p of [...r.probes, ...r.never]) {
    for (const name of listedNames(p)) {
      const list = byName.get(name) ?? [];
      if (withVars) list.push(variables(p, name));
      byName.set(name, list);
    }
  }
  const names = [...byName.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  let out = '';
  for (const name of names) {
    out += name;
    if (withVars) {
      const sets = byName.get(name)!;
      const common = [...new Set(sets[0])].filter((v) => sets.every((s) => s.includes(v)));
      const plain = common.filter((v) => !v.startsWith('$')).sort();
      const ctx = common.filter((v) => v.startsWith('$')).sort();
      for (const v of [...plain, ...ctx]) out += ` ${v}`;
    }
    out += '\n';
  }
  return out;
}
