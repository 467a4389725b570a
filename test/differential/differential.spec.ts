// Differential tests: the same handler bodies run by the TypeScript interpreter (probe begin,
// user space) and by the eBPF interpreter (probe syscall.getppid, in the kernel, fired once by
// the test's own trigger process) must give the same stdout, stderr and exit code.
// The corpus is ./cases.ts; ./harness.ts builds and runs the two scripts.
import { describe, it, expect, beforeAll } from 'vitest';
import { kernelTestsPossible, buildTrigger } from '../kernel/helpers';
import { GROUPS, type Group } from './cases';
import { RANDOM_GROUPS } from './random';
import { runGroup, linesOf, type GroupRun } from './harness';

const can = kernelTestsPossible();
if (!can.ok && process.env.CI) throw new Error(`kernel tests cannot run in CI: ${can.why}`);
const d = can.ok ? describe : describe.skip;

/** One run per group, shared by that group's tests (started on first use). */
const runs = new Map<Group, Promise<GroupRun>>();
const runOf = (g: Group) => {
  let r = runs.get(g);
  if (!r) runs.set(g, (r = runGroup(g)));
  return r;
};

function show(r: GroupRun): string {
  return [
    `--- user script${r.userMaxAction !== undefined ? ` (MAXACTION=${r.userMaxAction})` : ''}:\n${r.userScript}`,
    `--- kernel script${r.kernelMaxAction !== undefined ? ` (MAXACTION=${r.kernelMaxAction})` : ''}:\n${r.kernelScript}`,
    `--- user:   code ${r.user.code}\nstdout:\n${r.user.stdout}\nstderr:\n${r.user.stderr}`,
    `--- kernel: code ${r.kernel.code}\nstdout:\n${r.kernel.stdout}\nstderr:\n${r.kernel.stderr}`,
  ].join('\n');
}

d('differential: TypeScript interpreter (begin) vs eBPF interpreter (kernel probe)', () => {
  beforeAll(() => {
    buildTrigger();
  });

  for (const g of [...GROUPS, ...RANDOM_GROUPS]) {
    describe(g.name, () => {
      it('prints the same stdout and stderr and exits with the same code in both interpreters', async () => {
        const r = await runOf(g);
        const ctx = show(r);
        expect(r.kernel.stdout, ctx).toBe(r.user.stdout);
        expect(r.kernel.stderr, ctx).toBe(r.user.stderr);
        expect(r.kernel.code, ctx).toBe(r.user.code);
        // the comparison must be able to fail: every case printed something
        for (const c of g.cases) expect(linesOf(r.user.stdout, c.label), `case ${c.label} printed nothing\n${ctx}`).not.toBe('');
      }, 30_000);

      it('prints what stap prints', async () => {
        const r = await runOf(g);
        const ctx = show(r);
        for (const run of [r.user, r.kernel]) {
          for (const c of g.cases) if (c.expect !== undefined) expect(linesOf(run.stdout, c.label), `case ${c.label}\n${ctx}`).toBe(c.expect);
          expect(run.code, ctx).toBe(g.expectCode ?? 0);
          if (g.expectStderr !== undefined) expect(run.stderr, ctx).toBe(g.expectStderr);
          else if (g.expectStderrMatch) expect(run.stderr, ctx).toMatch(g.expectStderrMatch);
          else if ((g.expectCode ?? 0) === 0) expect(run.stderr, ctx).toBe('');
        }
      }, 30_000);
    });
  }
});
