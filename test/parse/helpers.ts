// Shared by the parser tests.

/** The AST without locations (`loc`, `opLoc`, `nameLoc`), to compare shapes. */
export function strip<T>(x: T): T {
  if (Array.isArray(x)) return x.map(strip) as T;
  if (x !== null && typeof x === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) if (k !== 'loc' && k !== 'opLoc' && k !== 'nameLoc') out[k] = strip(v);
    return out as T;
  }
  return x;
}
