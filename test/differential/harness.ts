// Runs one corpus group twice: its body in a begin probe (the TypeScript interpreter, user
// space) and in a syscall.getppid probe filtered on a trigger process (the eBPF interpreter,
// in the kernel). Both scripts put the body at the same line and column, so error locations
// ("near ... at <input>:L:C") can be compared byte for byte.
import { runTapvm, startTrigger, type RunResult } from '../kernel/helpers';
import type { Group } from './cases';

export interface GroupRun {
  user: RunResult;
  kernel: RunResult;
  userScript: string;
  kernelScript: string;
  /** MAXACTION given to each run */
  userMaxAction?: number;
  kernelMaxAction?: number;
}

export function bodyOf(g: Group): string {
  return g.cases.map((c) => c.body).join('\n');
}

/** DECLS, then the probe header on its own line, the body from column 1, then exit(). */
export function userScript(g: Group): string {
  return `${g.decls ?? ''}\nprobe begin {\n${bodyOf(g)}\nexit() }\n`;
}

export function kernelScript(g: Group, pid: number): string {
  return `${g.decls ?? ''}\nprobe syscall.getppid { if (pid() == ${pid}) {\n${bodyOf(g)}\nexit() } }\n`;
}

/** Statements the script's ACTs charge, from its -p3 listing (the CLI's own compiler, as the
 * runs use): MAXACTION counts these (straight-line code runs each ACT once). */
async function actionCount(script: string, defines: string[]): Promise<number> {
  const r = await runTapvm([...defines, '-p3', '-e', script], { verbose: false }).done;
  if (r.code !== 0) throw new Error(`-p3 failed (${r.code}): ${r.stderr}`);
  return r.stdout
    .split('\n')
    .map((l) => /^\d{4} {2}ACTH? +(\d+)$/.exec(l)) // ACTH: ACT + HALT at a handler's end
    .reduce((n, m) => n + (m ? Number(m[1]) : 0), 0);
}

function defineArgs(g: Group, maxAction?: number): string[] {
  const d: string[] = [];
  if (maxAction !== undefined) d.push('-D', `MAXACTION=${maxAction}`);
  for (const x of g.defines ?? []) d.push('-D', x);
  return d;
}

/**
 * The kernel handler runs the pid filter (an `if`: one statement) before the body: when a
 * group counts on MAXACTION (where the error happens depends on how many statements ran), the
 * kernel run gets that many more, so the body itself has the same budget in both.
 * The difference is measured from the two -p3 listings, not assumed.
 */
async function budgets(g: Group, pid: number): Promise<{ user?: number; kernel?: number }> {
  if (g.maxActionRelative === undefined && (g.maxAction === undefined || !g.equalizeMaxAction)) return { user: g.maxAction, kernel: g.maxAction };
  // the whole image's length: with no functions or other probes (maxActionRelative's groups
  // have no decls) that is the handler's
  if (g.maxActionRelative !== undefined && g.decls) throw new Error('maxActionRelative needs a group without decls');
  const [userActs, kernelActs] = await Promise.all([actionCount(userScript(g), defineArgs(g)), actionCount(kernelScript(g, pid), defineArgs(g))]);
  const extra = kernelActs - userActs;
  if (extra !== 1) throw new Error(`unexpected pid filter of ${extra} statements`);
  const user = g.maxActionRelative !== undefined ? userActs + g.maxActionRelative : g.maxAction!;
  return { user, kernel: user + extra };
}

/**
 * The two runs go one after the other, not at once: this file is about the interpreters, and
 * two tapvm processes that start or stop at the same moment can race in withLock
 * (src/runtime/lock.ts): a reader that finds the lock file just created but still empty
 * removes it and takes the lock too (both then claim the same session slot), and one that
 * finds it just removed dies with ENOENT.
 */
export async function runGroup(g: Group): Promise<GroupRun> {
  const us = userScript(g);
  const t = await startTrigger('getppid', '1');
  try {
    const ks = kernelScript(g, t.pid);
    const budget = await budgets(g, t.pid);
    const user = await runTapvm([...defineArgs(g, budget.user), '-e', us]).done;
    const run = runTapvm([...defineArgs(g, budget.kernel), '-e', ks]);
    await run.armed;
    t.go();
    const kernel = await run.done;
    return { user, kernel, userScript: us, kernelScript: ks, userMaxAction: budget.user, kernelMaxAction: budget.kernel };
  } finally {
    if (t.proc.exitCode === null) t.proc.kill('SIGKILL');
    await t.exited;
  }
}

/** The stdout lines a case printed: those starting with "label:". */
export function linesOf(stdout: string, label: string): string {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith(label + ':'))
    .map((l) => l + '\n')
    .join('');
}
