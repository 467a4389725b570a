// Reads tracepoint ids and record layouts from tracefs (mounting it when the host has not).
import * as fs from 'fs';
import { execFileSync } from 'child_process';

export const TRACEFS_CANDIDATES = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];

export interface TracepointField {
  name: string;
  /** C type as the format file spells it, e.g. "unsigned short", "__data_loc char[]", "char[16]" */
  ctype: string;
  offset: number;
  size: number;
  signed: boolean;
  /** how the interpreter reads it */
  kind: 'int' | 'dataloc_string' | 'char_array' | 'other';
  /** its BTF type id, when it comes from BTF (kernel.function parameters), for `->` paths */
  btf?: number;
}

export interface TracepointFormat {
  system: string;
  event: string;
  id: number;
  fields: TracepointField[];
}

let root: string | undefined;

/** The tracefs mount point; mounts tracefs at /sys/kernel/tracing when nothing is mounted. */
export function tracefsRoot(): string {
  if (root) return root;
  for (const dir of TRACEFS_CANDIDATES) {
    if (fs.existsSync(`${dir}/events`)) return (root = dir);
  }
  try {
    execFileSync('mount', ['-t', 'tracefs', 'nodev', TRACEFS_CANDIDATES[0]], { stdio: 'ignore' });
  } catch {
    throw new Error('tracefs is not mounted and could not be mounted at /sys/kernel/tracing (are you root?)');
  }
  return (root = TRACEFS_CANDIDATES[0]);
}

function classify(ctype: string, size: number): TracepointField['kind'] {
  if (/^__data_loc\b.*char\s*\[\]$/.test(ctype)) return 'dataloc_string';
  if (/\bchar\s*\[\d+\]$/.test(ctype)) return 'char_array';
  if (/\[/.test(ctype) || /^__data_loc/.test(ctype)) return 'other';
  return size === 1 || size === 2 || size === 4 || size === 8 ? 'int' : 'other';
}

/** Parses one `format` file's text (exported for unit tests). */
export function parseFormat(system: string, event: string, text: string): TracepointFormat {
  const idMatch = /^ID:\s*(\d+)/m.exec(text);
  const fields: TracepointField[] = [];
  const re = /field:(.+?);\s*offset:(\d+);\s*size:(\d+);\s*signed:(\d+);/g;
  for (let m; (m = re.exec(text)); ) {
    const decl = m[1].trim();
    // "unsigned long args[6]" -> name "args", ctype "unsigned long[6]"; "char comm[16]" likewise
    const dm = /^(.*?)([A-Za-z_][A-Za-z0-9_]*)\s*(\[[^\]]*\])?$/.exec(decl);
    if (!dm) continue;
    const ctype = (dm[1].trim() + (dm[3] ?? '')).trim();
    const size = Number(m[3]);
    fields.push({ name: dm[2], ctype, offset: Number(m[2]), size, signed: m[4] === '1', kind: classify(ctype, size) });
  }
  return { system, event, id: idMatch ? Number(idMatch[1]) : -1, fields };
}

const cache = new Map<string, TracepointFormat | null>();

/** The format of `system:event`, or null when the kernel has no such tracepoint. */
export function readTracepoint(system: string, event: string): TracepointFormat | null {
  const key = `${system}:${event}`;
  if (cache.has(key)) return cache.get(key)!;
  let result: TracepointFormat | null = null;
  try {
    const text = fs.readFileSync(`${tracefsRoot()}/events/${system}/${event}/format`, 'utf8');
    result = parseFormat(system, event, text);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  cache.set(key, result);
  return result;
}

/** All event names of a tracepoint system (for suggestions and wildcards). */
export function listEvents(system: string): string[] {
  try {
    return fs.readdirSync(`${tracefsRoot()}/events/${system}`).filter((n) => n !== 'enable' && n !== 'filter');
  } catch {
    return [];
  }
}

/** All tracepoint systems (the directories of tracefs events/). */
export function listSystems(): string[] {
  try {
    return fs.readdirSync(`${tracefsRoot()}/events`, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return [];
  }
}
