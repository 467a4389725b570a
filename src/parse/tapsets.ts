// Tapset libraries, loaded the way stap loads them: every `.stp` file of the tapset
// directories is parsed, and a file joins the script only when it defines something the
// script (or a file already joined) uses: a probe alias its points name, or a function it
// calls. The default directory is the repository's tapset/; `-I DIR` adds more. The `.stpm`
// files of the same directories hold library macros (src/parse/macros.ts).
//
// A file is parsed only when it may define something the script wants: its text is first read
// for the names it could define (a superset), so a script that uses no tapset parses none.
import * as fs from 'fs';
import * as path from 'path';
import type * as A from './ast';
import { parseScript, type ParseOptions } from './index';
import { loadLibraryMacros } from './macros';
import { forEachChild } from './walk';

/** The repository's tapset/ directory (next to src/ and dist/). */
export const DEFAULT_TAPSET_DIR = path.join(__dirname, '../../tapset');

export interface TapsetFile {
  file: string;
  text: string;
  /** The names the file may define, from its text; undefined when anything (it calls a library macro). */
  mayDefine: Set<string> | undefined;
  /** parsed on first use */
  script: A.Script;
}

const IDENT = /[A-Za-z_][A-Za-z0-9_]*/g;

/**
 * A superset of the functions and alias name components `text` defines, without parsing it: the
 * word after each `function` and the words between each `probe` and its `=` or `{`. A library
 * macro's body could define anything, so a file that calls one gives undefined.
 */
function definableNames(text: string, macros: ReadonlySet<string>): Set<string> | undefined {
  for (const m of text.matchAll(/@([A-Za-z_][A-Za-z0-9_]*)/g)) if (macros.has(m[1])) return undefined;
  const names = new Set<string>();
  for (const m of text.matchAll(/\bfunction\s+([A-Za-z_][A-Za-z0-9_]*)/g)) names.add(m[1]);
  for (const m of text.matchAll(/\bprobe\b([^{=]*)/g)) for (const w of m[1].matchAll(IDENT)) names.add(w[0]);
  return names;
}

class LazyTapsetFile implements TapsetFile {
  private parsed: A.Script | undefined;
  constructor(
    readonly file: string,
    readonly text: string,
    readonly mayDefine: Set<string> | undefined,
    private options: ParseOptions,
  ) {}
  get script(): A.Script {
    return (this.parsed ??= parseScript(this.text, this.file, this.options));
  }
}

const cache = new Map<string, TapsetFile[]>();

/** Drops the files read so far (the warm server's worker, when they may have changed since). */
export function forgetTapsets(): void {
  cache.clear();
}

/** Every .stp file of `dirs` (sorted by name; read once per process, each parsed when first used). */
export function loadTapsets(dirs: string[], options: ParseOptions = {}): TapsetFile[] {
  const out: TapsetFile[] = [];
  let macros: Set<string> | undefined;
  for (const dir of dirs) {
    let files = cache.get(dir);
    if (!files) {
      files = [];
      let names: string[] = [];
      try {
        names = fs.readdirSync(dir).filter((n) => n.endsWith('.stp')).sort();
      } catch {
        names = [];
      }
      for (const n of names) {
        const file = path.join(dir, n);
        const text = fs.readFileSync(file, 'latin1');
        macros ??= new Set(loadLibraryMacros(dirs).keys());
        files.push(new LazyTapsetFile(file, text, definableNames(text, macros), { facts: options.facts, tapsets: dirs }));
      }
      cache.set(dir, files);
    }
    out.push(...files);
  }
  return out;
}

const pointKey = (p: A.ProbePoint) => p.components.map((c) => c.name).join('.');

/** The user's script with the library files it needs appended (their items after its own). */
export function linkTapsets(script: A.Script, library: TapsetFile[]): { script: A.Script; used: TapsetFile[] } {
  const used: TapsetFile[] = [];
  const items = [...script.items];
  const defined = new Set<string>();
  let changed = true;
  while (changed) {
    changed = false;
    const wanted = needs(items);
    for (const it of items) if (it.kind === 'function') defined.add(it.name);
    // what a file must define to be of use: a called function, an alias's first component
    const names = [...wanted.calls].filter((n) => !defined.has(n));
    const firsts = wanted.points.map((p) => p.split('.')[0]);
    const anyName = firsts.some((c) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(c));
    names.push(...firsts);
    for (const f of library) {
      if (used.includes(f)) continue;
      if (!anyName && f.mayDefine && !names.some((n) => f.mayDefine!.has(n))) continue;
      const provides = f.script.items.some(
        (it) =>
          (it.kind === 'function' && wanted.calls.has(it.name) && !defined.has(it.name)) ||
          (it.kind === 'alias' && it.names.some((n) => wanted.points.some((p) => matches(pointKey(n), p)))),
      );
      if (provides) {
        used.push(f);
        items.push(...f.script.items);
        changed = true;
      }
    }
  }
  return { script: { ...script, items }, used };
}

/** A written point (component names) may use an alias `name` (equal, prefix, or by wildcard). */
function matches(name: string, point: string): boolean {
  if (point === name || point.startsWith(name + '.')) return true;
  if (!point.includes('*')) return false;
  const re = new RegExp('^' + point.split('**').map((x) => x.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^.]*')).join('.*') + '(\\..*)?$');
  return re.test(name);
}

function needs(items: A.TopLevel[]): { calls: Set<string>; points: string[] } {
  const calls = new Set<string>();
  const points: string[] = [];
  const visit = (n: unknown): void => {
    if (!n || typeof n !== 'object') return;
    if (Array.isArray(n)) return n.forEach(visit);
    const e = n as { kind?: string; name?: string };
    if (e.kind === 'call') calls.add(e.name!);
    forEachChild(n, visit);
  };
  for (const it of items) {
    if (it.kind === 'probe' || it.kind === 'alias') for (const p of it.points) points.push(pointKey(p));
    visit(it);
  }
  return { calls, points };
}
