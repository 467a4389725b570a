// The one generic AST child walk: many passes look at every node for one construct, and the
// front end's time went into Object.entries' per-node arrays (bench/frontend.js --tapset).

/** Keys that hold a location, never a node: walks skip them. */
export function isLocKey(k: string): boolean {
  return k === 'loc' || k === 'opLoc' || k === 'nameLoc';
}

/**
 * Calls f on each child of `n` that is an object (a node or an array of them), in key order,
 * skipping locations. f may replace `n[key]` or change the child in place.
 */
export function forEachChild(n: object, f: (v: object, key: string) => void): void {
  const o = n as Record<string, unknown>;
  for (const k in o) {
    if (isLocKey(k)) continue;
    const v = o[k];
    if (v !== null && typeof v === 'object') f(v, k);
  }
}

/** Whether pred holds for every object child of `n` (locations skipped), stopping at the first that fails. */
export function everyChild(n: object, pred: (v: object) => boolean): boolean {
  const o = n as Record<string, unknown>;
  for (const k in o) {
    if (isLocKey(k)) continue;
    const v = o[k];
    if (v !== null && typeof v === 'object' && !pred(v)) return false;
  }
  return true;
}

/**
 * A deep copy of an AST subtree, for passes that rewrite a derived probe's body in place
 * (structuredClone was the front end's biggest single cost). Locations are shared, not copied:
 * nothing changes a location in place.
 */
export function cloneTree<T>(n: T): T {
  if (n === null || typeof n !== 'object') return n;
  if (Array.isArray(n)) return n.map(cloneTree) as T;
  const o = n as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k in o) out[k] = isLocKey(k) ? o[k] : cloneTree(o[k]);
  return out as T;
}
