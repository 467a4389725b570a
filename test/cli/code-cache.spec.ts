// The V8 code cache (src/cli/code-cache.ts): a second run compiles from the cache, a changed
// module (even of the same length) is compiled from its new source, and a damaged or unwritable
// cache changes nothing but the speed. Needs `npm run build` (the runner loads dist/).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, it, expect } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tapvm-code-cache-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const CACHE = path.join(tmp, 'cache');
const MOD = path.join(tmp, 'm.js');
const RUNNER = path.join(tmp, 'runner.js');
fs.writeFileSync(RUNNER, `require(${JSON.stringify(path.join(ROOT, 'dist/cli/code-cache.js'))}).install();\nprocess.stdout.write(require('./m.js').value);\n`);
// as a server worker installs it
const EAGER_RUNNER = path.join(tmp, 'eager-runner.js');
fs.writeFileSync(EAGER_RUNNER, `require(${JSON.stringify(path.join(ROOT, 'dist/cli/code-cache.js'))}).install({ eager: true });\nprocess.stdout.write(require('./m.js').value);\n`);

/** The length of a module's cached code in a cache file ([u32 n][n bytes of JSON index][data]). */
function cachedLength(file: string, module: string): number {
  const b = fs.readFileSync(file);
  const index = JSON.parse(b.toString('utf8', 4, 4 + b.readUInt32LE(0))) as { modules: Record<string, { len: number }> };
  return index.modules[module].len;
}

interface Stats {
  hits: number;
  misses: number;
  rejected: number;
  written: boolean;
}

function run(cacheDir = CACHE, cmd = [RUNNER]): { stdout: string; stats: Stats; code: number | null; stderr: string } {
  const r = spawnSync(process.execPath, cmd, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, TAPVM_CACHE_DIR: cacheDir, TAPVM_CODE_CACHE_STATS: '1' } });
  const m = /^code cache: (.*)$/m.exec(r.stderr);
  return { stdout: r.stdout, stats: JSON.parse(m![1]) as Stats, code: r.status, stderr: r.stderr.replace(/^code cache: .*\n/m, '') };
}

function cacheFiles(dir = CACHE): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

describe('code cache', () => {
  it('is written by the first run and used by the next', () => {
    fs.writeFileSync(MOD, "exports.value = 'aaa';\n");
    const first = run();
    expect(first.stdout).toBe('aaa');
    expect(first.stats).toEqual({ hits: 0, misses: 1, rejected: 0, written: true });
    expect(cacheFiles()).toEqual([expect.stringMatching(/^v8-[0-9a-f]{16}\.bin$/)]);
    const second = run();
    expect(second.stdout).toBe('aaa');
    expect(second.stats).toEqual({ hits: 1, misses: 0, rejected: 0, written: false });
  });

  it('compiles a module whose source changed (same length) from the new source', () => {
    fs.writeFileSync(MOD, "exports.value = 'aaa';\n");
    run();
    fs.writeFileSync(MOD, "exports.value = 'bbb';\n");
    const r = run();
    expect(r.stdout).toBe('bbb');
    expect(r.stats).toMatchObject({ hits: 0, misses: 1, written: true });
    expect(run().stats).toMatchObject({ hits: 1, misses: 0 });
  });

  it('ignores a damaged cache file and replaces it', () => {
    fs.writeFileSync(MOD, "exports.value = 'ccc';\n");
    run();
    const [name] = cacheFiles();
    fs.writeFileSync(path.join(CACHE, name), Buffer.from([0xff, 0xff, 0xff, 0x7f, 1, 2, 3]));
    const r = run();
    expect(r).toMatchObject({ code: 0, stdout: 'ccc', stderr: '' });
    expect(r.stats).toMatchObject({ hits: 0, misses: 1, written: true });
    expect(run().stats).toMatchObject({ hits: 1 });
    // a damaged byte in the code itself, behind an intact header
    const file = path.join(CACHE, name);
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 1] ^= 0x55;
    fs.writeFileSync(file, bytes);
    expect(run()).toMatchObject({ code: 0, stdout: 'ccc', stats: { hits: 0, misses: 1, written: true } });
  });

  it('keeps the code made under other node options in another file (V8 would reject it)', () => {
    fs.writeFileSync(MOD, "exports.value = 'eee';\n");
    run();
    const flagged = run(CACHE, ['--stack-size=900', RUNNER]);
    expect(flagged).toMatchObject({ stdout: 'eee', stats: { misses: 1, rejected: 0 } });
    expect(cacheFiles()).toHaveLength(2);
    expect(run().stats).toMatchObject({ hits: 1, rejected: 0 });
    expect(run(CACHE, ['--stack-size=900', RUNNER]).stats).toMatchObject({ hits: 1, rejected: 0 });
  });

  it('eager (a server worker): every function compiled, in a file of its own, which later eager runs use', () => {
    const dir = path.join(tmp, 'eager');
    // functions the run never calls: a lazy cache holds none of their code
    const unused = Array.from({ length: 20 }, (_, i) => `exports.f${i} = function (a) { return [a, ${i}].map((x) => x * 2).filter((x) => x > 3).join('-'); };`);
    fs.writeFileSync(MOD, `exports.value = 'ggg';\n${unused.join('\n')}\n`);
    expect(run(dir).stats).toMatchObject({ misses: 1, written: true });
    const [lazyFile] = cacheFiles(dir);
    const first = run(dir, [EAGER_RUNNER]);
    expect(first).toMatchObject({ code: 0, stdout: 'ggg', stderr: '', stats: { misses: 1, written: true } });
    const eagerFile = cacheFiles(dir).find((f) => f !== lazyFile)!;
    expect(cacheFiles(dir)).toHaveLength(2);
    expect(cachedLength(path.join(dir, eagerFile), MOD)).toBeGreaterThan(cachedLength(path.join(dir, lazyFile), MOD) * 2);
    // data written after the compile under --no-lazy carries the ordinary flag hash: accepted
    expect(run(dir, [EAGER_RUNNER]).stats).toEqual({ hits: 1, misses: 0, rejected: 0, written: false });
    expect(run(dir).stats).toEqual({ hits: 1, misses: 0, rejected: 0, written: false });
  });

  it('runs without a cache where it cannot write one', () => {
    fs.writeFileSync(MOD, "exports.value = 'ddd';\n");
    const r = run('/dev/null/cache');
    expect(r).toMatchObject({ code: 0, stdout: 'ddd', stderr: '' });
    expect(r.stats).toMatchObject({ hits: 0, misses: 1 });
  });

  it('serves the whole command line: the second tapvm -p1 compiles nothing', () => {
    const dir = path.join(tmp, 'cli');
    const cmd = [path.join(ROOT, 'bin/tapvm'), '-p1', '-e', 'probe begin { exit() }'];
    const first = run(dir, cmd);
    expect(first).toMatchObject({ code: 0, stdout: 'probe begin {\n  exit();\n}\n', stderr: '' });
    expect(first.stats.misses).toBeGreaterThan(10);
    const second = run(dir, cmd);
    expect(second).toMatchObject({ code: 0, stdout: first.stdout });
    expect(second.stats).toEqual({ hits: first.stats.misses, misses: 0, rejected: 0, written: false });
  });
  it('a write prunes other keys\' files unused for a week, and keeps at most 8, the most recently used', () => {
    const dir = path.join(tmp, 'prune');
    fs.mkdirSync(dir, { recursive: true });
    const day = 24 * 3600;
    const now = Date.now() / 1000;
    const make = (name: string, ageDays: number) => {
      fs.writeFileSync(path.join(dir, name), 'x');
      fs.utimesSync(path.join(dir, name), now - ageDays * day, now - ageDays * day);
    };
    for (let i = 0; i < 3; i++) make(`v8-old${i}.bin`, 30);
    for (let i = 0; i < 10; i++) make(`v8-recent${i}.bin`, i / 10);
    make('v8-dead.bin.123.tmp', 1);
    make('v8-busy.bin.456.tmp', 0);
    make('other-file', 30);
    fs.writeFileSync(MOD, "exports.value = 'ppp';\n");
    const r = run(dir);
    expect(r.stats.written).toBe(true);
    const ours = cacheFiles(dir).filter((f) => /^v8-[0-9a-f]{16}\.bin$/.test(f));
    expect(ours).toHaveLength(1);
    // ours and the 7 most recently used others; the month-old ones and the dead writer's file are gone
    expect(cacheFiles(dir).sort()).toEqual([ours[0], 'other-file', 'v8-busy.bin.456.tmp', ...[0, 1, 2, 3, 4, 5, 6].map((i) => `v8-recent${i}.bin`)].sort());
    // a warm run writes nothing and prunes nothing
    make('v8-old9.bin', 30);
    expect(run(dir).stats.written).toBe(false);
    expect(cacheFiles(dir)).toContain('v8-old9.bin');
  });
});
