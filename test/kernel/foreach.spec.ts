// foreach and `delete arr` in kernel probes (vm/iter.h): a syscall.getppid probe filtered on the
// test's own trigger counts its calls, then iterates the counts sorted; the same body in a begin
// probe (the TypeScript interpreter) must print the same. The limits of the kernel's per-CPU
// key slots are clear run-time errors.
import { describe, it, expect, beforeAll } from 'vitest';
import { kernelTestsPossible, runTapvm, runTapvmSync, startTrigger, buildTrigger } from './helpers';
import { LIMITS } from '../../src/isa/opcodes';

const can = kernelTestsPossible();
if (!can.ok && process.env.CI) throw new Error(`kernel tests cannot run in CI: ${can.why}`);
const d = can.ok ? describe : describe.skip;

/** A kernel run of BODY in a getppid probe of a trigger calling getppid N times. */
async function kernelRun(decls: string, body: string, calls: number, extra: string[] = []) {
  const t = await startTrigger('getppid', String(calls));
  const run = runTapvm([
    ...extra,
    '-e',
    `${decls}
     probe syscall.getppid { if (pid() == ${t.pid}) { ${body} } }
     probe kernel.trace("sched:sched_process_exit") { if (pid() == ${t.pid}) exit() }`,
  ]);
  await run.armed;
  t.go();
  return run.done;
}

d('foreach in kernel probes', () => {
  beforeAll(() => {
    buildTrigger();
  });

  it('counts calls, then iterates the counts sorted by value, by key, with limit and a value, as user space does', async () => {
    const decls = 'global n, c, names';
    // every call updates counters, and every 10th iterates them (so the last one sees all); no
    // sort has ties, whose order would be the hash map's
    const body = `n++; c[n % 7] += n; names[sprintf("k%02d", n % 15), n % 3] = sprintf("%02d", n * 7 % 15)
      if (n % 10 == 0) {
        printf("%d ", n)
        foreach (k in c-) printf("%d=%d ", k, c[k])
        foreach (v = k in c+ limit 3) printf("%d:%d ", k, v)
        foreach ([s-, m] in names) printf("%s,%d ", s, m)
        foreach ([s, m] in names+) print(names[s, m])
        println("")
      }`;
    const r = await kernelRun(decls, body, 30);
    expect(r.stderr).toBe('');
    const u = runTapvmSync(['-e', `${decls} probe begin { for (i = 0; i < 30; i++) { ${body} } exit() }`]);
    expect(u.stderr).toBe('');
    expect(r.stdout).toBe(u.stdout);
    expect(r.stdout.split('\n')[2]).toBe(
      '30 2=80 1=75 0=70 6=66 5=62 4=58 3=54 3:54 4:58 5:62 k14,2 k13,1 k12,0 k11,2 k10,1 k09,0 k08,2 k07,1 k06,0 k05,2 k04,1 k03,0 k02,2 k01,1 k00,0 ' +
        '000102030405060708091011121314',
    );
  }, 30_000);

  it('sorts a statistics array by an aggregate and nests loops in a kernel probe', async () => {
    const decls = 'global n, s';
    const body = `n++; s[n % 4] <<< n
      if (n == 20) {
        foreach (k in s @max-) printf("%d:%d ", k, @max(s[k]))
        foreach (k in s @sum+) foreach (j in s @min- limit 2) printf("%d%d ", k, j)
        println("")
      }`;
    const r = await kernelRun(decls, body, 20);
    expect(r.stderr).toBe('');
    const u = runTapvmSync(['-e', `${decls} probe begin { for (i = 0; i < 20; i++) { ${body} } exit() }`]);
    expect(r.stdout).toBe(u.stdout);
    expect(r.stdout).toBe('0:20 3:19 2:18 1:17 10 13 20 23 30 33 00 03 \n');
  }, 30_000);

  it('deletes whole arrays and statistics in a kernel probe, also while iterating them', async () => {
    const decls = 'global n, a, s';
    const body = `n++; a[n] = n; s[n % 3] <<< n
      if (n == 5) { delete a; delete s; printf("%d %d %d\\n", n in a, 1 in a, 1 in s) }
      if (n == 9) { foreach (k+ in a) { printf("%d ", k); delete a } printf("| %d\\n", 9 in a) }`;
    const r = await kernelRun(decls, body, 9);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('0 0 0\n6 7 8 9 | 0\n');
  }, 30_000);

  it('matches slices in a kernel probe as user space does: [n, *] in a, foreach over a[*, "k1"], delete of values and statistics', async () => {
    const decls = 'global n, a, s';
    // every call adds elements; every 4th queries, iterates and deletes slices of them
    const body = `n++; a[n % 5, sprintf("k%d", n % 2)] = n; s[n % 3, n] <<< n
      if (n % 4 == 0) {
        printf("%d %d %d %d |", n, [n % 5, *] in a, [*, "k9"] in a, [*, n] in s)
        foreach (v = [x, y] in a[*, "k1"]+) printf(" %d%s=%d", x, y, v)
        foreach ([p, q+] in s[1, *] limit 3) printf(" %d:%d", q, @sum(s[p, q]))
        delete a[*, "k0"]; delete s[n % 3, *]
        printf(" | %d %d\\n", [*, "k0"] in a, [n % 3, *] in s)
      }`;
    const r = await kernelRun(decls, body, 16);
    expect(r.stderr).toBe('');
    const u = runTapvmSync(['-e', `${decls} probe begin { for (i = 0; i < 16; i++) { ${body} } exit() }`]);
    expect(u.stderr).toBe('');
    expect(r.stdout).toBe(u.stdout);
    expect(r.stdout.split('\n')[3]).toBe('16 1 0 1 | 2k1=7 4k1=9 1k1=11 3k1=13 0k1=15 7:7 10:10 13:13 | 0 0');
  }, 30_000);

  it('runs foreach in a function a kernel probe calls', async () => {
    const r = await kernelRun(
      'global a, n\nfunction total() { t = 0; foreach (k in a) t += a[k]; return t }',
      'a[pid() % 3 + 10]++; a[n++]++; if (n == 4) printf("%d\\n", total())',
      4,
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('8\n');
  }, 30_000);

  it(`stops at ${LIMITS.MAXITERS} nested loops and at ${LIMITS.ITERKEYS} keys with a clear error`, async () => {
    const deep = Array.from({ length: LIMITS.MAXITERS + 1 }, (_, i) => `foreach (k${i} in a)`).join(' ');
    const r = await kernelRun('global a', `a[1] = 1; ${deep} println("never")`, 1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^ERROR: too many nested foreach loops \(at most 8 at once in a kernel probe\) near foreach at <input>:\d+:\d+\n/);
    expect(r.code).toBe(1);
    const fill = `for (i = 0; i < 2048; i++) a[i] = i; foreach (x in a) foreach (y in a) foreach (z in a) println("never")`;
    const r2 = await kernelRun('global a[2048]', fill, 1, ['-D', 'MAXACTION=100000']);
    expect(r2.stdout).toBe('');
    expect(r2.stderr).toMatch(/^ERROR: too many keys to iterate \(at most 4096 in all running foreach loops of a kernel probe\) near foreach/);
    // sequential loops free their slots at the exit (break, limit, the end), and try/catch
    // catches the limit with its message
    const seq = Array.from({ length: 12 }, (_, i) => `foreach (k${i} in a limit 1) { t++; break }`).join(' ');
    const r3 = await kernelRun(
      'global a, t',
      `a[1] = 1; a[2] = 2; ${seq} try { ${deep} println("never") } catch (msg) { printf("%d %s\\n", t, msg) }`,
      1,
    );
    expect(r3.stderr).toBe('');
    expect(r3.stdout).toBe('12 too many nested foreach loops (at most 8 at once in a kernel probe)\n');
  }, 30_000);
});
