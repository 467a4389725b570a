// A V8 code cache for the CommonJS modules tapvm loads (Node 20 has no module.enableCompileCache):
// compiling our JavaScript (the peggy parser, the compiler, commander) is a large part of a warm
// start, and V8 can skip it with the code it serialised after an earlier run.
//
// One file per installation and Node (the package directory, Node's version, architecture and
// options make the key) under /var/cache/tapvm: [u32 n][n bytes of JSON: the data's sha1 and an index][the modules'
// cached data]. An entry is used only when the sha1 of the module's source matches (V8 itself
// checks little more than the length). The file is rewritten, atomically (temporary file + rename), only at the exit of a
// run that compiled a module without usable data, with the code of the functions that run ran.
// A missing, damaged or unwritable cache only costs the compile time it would have saved.
// A write also prunes other keys' files unused for a week, keeping at most 8 (prune below).
// TAPVM_CODE_CACHE=0 turns it off; TAPVM_CACHE_DIR moves it.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as vm from 'vm';
import * as v8 from 'v8';
import Module = require('module');

interface Entry {
  sha1: string;
  /** offset and length of the cached data after the index */
  off: number;
  len: number;
}

interface Loaded {
  sha1: string;
  script: vm.Script;
  /** the data it was compiled with, when V8 accepted it */
  data?: Buffer;
}

/** What a run did with the cache (the tests read it through TAPVM_CODE_CACHE_STATS). */
export const stats = { hits: 0, misses: 0, rejected: 0 };

const PACKAGE_ROOT = path.join(__dirname, '..', '..');

const sha1 = (b: string | Buffer) => crypto.createHash('sha1').update(b).digest('hex');

export function cacheFile(dir = process.env.TAPVM_CACHE_DIR ?? '/var/cache/tapvm', eager = false): string {
  // V8 rejects data made under other flags: node's own options (the shebang's, -r ...) are in the key
  const key = sha1([PACKAGE_ROOT, process.version, process.arch, ...process.execArgv, ...(eager ? ['eager'] : [])].join('\0')).slice(0, 16);
  return path.join(dir, `v8-${key}.bin`);
}

interface CacheFile {
  modules: Record<string, Entry>;
  data: Buffer;
}

function readCache(file: string): CacheFile {
  try {
    const buf = fs.readFileSync(file);
    const n = buf.readUInt32LE(0);
    const head = JSON.parse(buf.toString('utf8', 4, 4 + n)) as { sum: string; modules: Record<string, Entry> };
    const data = buf.subarray(4 + n);
    // V8 checks a code cache's header, not all of its contents: a damaged file is not used
    if (sha1(data) === head.sum) return { modules: head.modules, data };
  } catch {
    // missing or damaged
  }
  return { modules: {}, data: Buffer.alloc(0) };
}

function writeCache(file: string, old: CacheFile, loaded: Map<string, Loaded>) {
  const parts: Buffer[] = [];
  const modules: Record<string, Entry> = {};
  let off = 0;
  const add = (name: string, sha1: string, data: Buffer) => {
    modules[name] = { sha1, off, len: data.length };
    parts.push(data);
    off += data.length;
  };
  for (const [name, l] of loaded) add(name, l.sha1, l.data ?? l.script.createCachedData());
  // modules other commands load stay, unless their file is gone
  for (const [name, e] of Object.entries(old.modules)) {
    if (!loaded.has(name) && fs.existsSync(name)) add(name, e.sha1, old.data.subarray(e.off, e.off + e.len));
  }
  const data = Buffer.concat(parts);
  const head = Buffer.from(JSON.stringify({ sum: sha1(data), modules }));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(head.length);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, Buffer.concat([len, head, data]));
    fs.renameSync(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  prune(path.dirname(file), file);
}

/** Other keys' files unused this long go (a key is one installation path and Node build). */
export const PRUNE_AGE_MS = 7 * 24 * 3600 * 1000;
/** and at most this many files stay, the most recently used first */
export const PRUNE_KEEP = 8;

/**
 * Removes the cache files of other keys that were not used for PRUNE_AGE_MS, and all but the
 * PRUNE_KEEP most recently used: every checkout, upgrade or Node version made a file of its
 * own, and nothing removed them. It runs only here, after a write (a warm run writes nothing,
 * so it costs a warm run nothing); a file's last use is its atime (the kernel's relatime
 * updates it about once a day for a file that is read) or its mtime, whichever is later. A file
 * removed while another process reads it stays readable to that process (unlinked, still
 * open); one removed in use is just written again by its next run. Leftover temporary files
 * of killed writers go after an hour.
 */
function prune(dir: string, keep: string) {
  try {
    const now = Date.now();
    const files: { name: string; used: number }[] = [];
    for (const name of fs.readdirSync(dir)) {
      const full = path.join(dir, name);
      if (full === keep || !name.startsWith('v8-')) continue;
      let st: fs.Stats;
      try {
        st = fs.statSync(full);
      } catch {
        continue; // gone meanwhile
      }
      const used = Math.max(st.atimeMs, st.mtimeMs);
      if (name.endsWith('.tmp')) {
        if (now - used > 3600 * 1000) fs.rmSync(full, { force: true });
      } else if (name.endsWith('.bin')) files.push({ name: full, used });
    }
    files.sort((a, b) => b.used - a.used);
    files.forEach((f, i) => {
      // ours is one of the PRUNE_KEEP
      if (i >= PRUNE_KEEP - 1 || now - f.used > PRUNE_AGE_MS) fs.rmSync(f.name, { force: true });
    });
  } catch {
    // an unreadable directory: nothing pruned, nothing else changes
  }
}

interface CjsModule {
  require(id: string): unknown;
  exports: unknown;
}

interface ModuleInternals {
  prototype: { _compile(this: CjsModule, content: string, filename: string, format?: string): unknown };
  wrap(content: string): string;
  _resolveFilename(request: string, parent: CjsModule, isMain: boolean, options?: unknown): string;
  _extensions: unknown;
  _cache: unknown;
}

/** Writes the cache now if it changed (see install); a no-op without install or change. */
export let writeNow: () => void = () => {};

/**
 * Compiles CommonJS modules loaded from now on with the cache; writes it back at exit when it changed.
 *
 * eager (the server's workers): a module without usable data is compiled whole, every function
 * of it (V8's --no-lazy, for that compile only), into a cache file of its own. A worker loads
 * its modules while it warms up, off any command's time; what its command then runs for the
 * first time would otherwise be compiled lazily, on the command's time, and a lazy cache holds
 * only the functions the run that wrote it happened to run. Measured (bench trigger, 11-21
 * alternating runs through a server): a begin one-liner's first output 15.5 -> 12.1 ms against
 * a lazy cache written by an early run. A direct run keeps the lazy cache: it loads its modules
 * on its own time, and an eager file is several times bigger.
 */
export function install(opts: { eager?: boolean } = {}): void {
  if (process.env.TAPVM_CODE_CACHE === '0') return;
  const eager = opts.eager === true;
  const file = cacheFile(undefined, eager);
  const cache = readCache(file);
  const loaded = new Map<string, Loaded>();
  let dirty = false;
  const M = Module as unknown as ModuleInternals;
  const compile = M.prototype._compile;
  M.prototype._compile = function (this: CjsModule, content: string, filename: string, format?: string) {
    // ES modules and scripts with a #! line go the ordinary way
    if (format === 'module' || content.startsWith('#!')) return compile.call(this, content, filename, format);
    const sum = sha1(content);
    const e = cache.modules[filename];
    const data = e && e.sha1 === sum ? cache.data.subarray(e.off, e.off + e.len) : undefined;
    // the flag is set back before anything else compiles, and before any createCachedData():
    // V8 stamps its data with a hash of the flags and rejects data of another flag set
    if (eager && !data) v8.setFlagsFromString('--no-lazy');
    let script: vm.Script;
    try {
      script = new vm.Script(M.wrap(content), { filename, cachedData: data });
    } finally {
      if (eager && !data) v8.setFlagsFromString('--lazy');
    }
    if (!data) stats.misses++;
    else if (script.cachedDataRejected) stats.rejected++;
    else stats.hits++;
    const accepted = data !== undefined && !script.cachedDataRejected;
    if (!accepted) dirty = true;
    loaded.set(filename, { sha1: sum, script, data: accepted ? data : undefined });
    const fn = script.runInThisContext({ displayErrors: true }) as (...args: unknown[]) => unknown;
    const req = Object.assign((id: string) => this.require(id), {
      resolve: (request: string, options?: unknown) => M._resolveFilename(request, this, false, options),
      main: require.main,
      extensions: M._extensions,
      cache: M._cache,
    });
    return fn.call(this.exports, this.exports, req, this, filename, path.dirname(filename));
  };
  let written = false;
  writeNow = () => {
    if (!dirty) return;
    dirty = false;
    written = true;
    try {
      writeCache(file, cache, loaded);
    } catch {
      // read-only or full file system: run without the cache
    }
  };
  process.once('exit', () => {
    if (process.env.TAPVM_CODE_CACHE_STATS) process.stderr.write(`code cache: ${JSON.stringify({ ...stats, written: written || dirty })}\n`);
    writeNow();
  });
}
