// -p2: the resolved program in stap's layout: globals, functions, probes.
import type { ResolvedProgram } from '../resolve/resolve';

export function printResolved(r: ResolvedProgram): string {
  const out: string[] = [];
  if (r.globals.size) {
    out.push('# globals');
    for (const g of r.globals.values()) {
      const keys = g.keyTypes ? `[${g.keyTypes.join(', ')}]` : '';
      // stap's vardecl::printsig: name, '%' for wrap-around, '[N]' for a declared size
      const decl = `${g.decl.wrap ? '%' : ''}${g.decl.size ? `[${g.decl.size.value}]` : ''}`;
      out.push(`${g.name}${decl}:${g.type}${keys}`);
    }
  }
  if (r.functions.size) {
    out.push('# functions');
    for (const f of r.functions.values()) {
      const params = f.decl.params.map((p) => `${p.name}:${f.locals.get(p.name)?.type}`).join(', ');
      out.push(`${f.decl.name}:${f.ret} (${params})`);
      const locals = [...f.locals.values()].filter((l) => !l.param);
      if (locals.length) out.push(`# locals\n${locals.map((l) => `${l.name}:${l.type}`).join('\n')}`);
    }
  }
  out.push('# probes');
  for (const p of r.probes) {
    const where = p.point.attach.family === 'tracepoint' ? ` /* tracepoint ${p.point.attach.system}:${p.point.attach.event}, ${p.point.target} */` : ` /* ${p.point.target} */`;
    out.push(`${p.point.pp}${where}`);
    const locals = [...p.locals.values()];
    if (locals.length) out.push(`# locals\n${locals.map((l) => `${l.name}:${l.type}`).join('\n')}`);
  }
  return out.join('\n') + '\n';
}
