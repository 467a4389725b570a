// Kernel test harness: runs the real CLI against the real kernel, with a trigger process that
// makes the system calls a test counts, filtered on the trigger's own pid.
import { spawn, execFileSync, type ChildProcess } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const ROOT = path.join(__dirname, '..', '..');
export const CLI = path.join(ROOT, 'bin', 'tapvm');
const FIXTURES = path.join(__dirname, 'fixtures');

/** In CI a kernel test that cannot run fails; elsewhere it may be skipped with a reason. */
export function kernelTestsPossible(): { ok: boolean; why?: string } {
  if (process.getuid?.() !== 0) return { ok: false, why: 'kernel tests need root' };
  if (!fs.existsSync(path.join(ROOT, 'native', 'build', 'Release', 'tapvm.node'))) return { ok: false, why: 'native addon not built' };
  return { ok: true };
}

/**
 * This checkout's directory for built test programs. Per checkout (named by a hash of its
 * path): two checkouts testing at once each build their own, where one /tmp path shared by all
 * had one checkout's build replace the file under the other's running test.
 */
export const FIXTURE_DIR = path.join(os.tmpdir(), `tapvm-fixtures-${createHash('sha1').update(ROOT).digest('hex').slice(0, 10)}`);

/** Where buildFixture puts program `name` (for a test that names it before building it). */
export const fixturePath = (name: string) => path.join(FIXTURE_DIR, name);

/**
 * Builds fixtures/<src> into FIXTURE_DIR/<name> (again when the source, or the compiler flags,
 * changed) and returns its path. The build goes to a temporary file renamed into place, so test
 * files of one run building the same program at once never run a half-written one.
 */
export function buildFixture(name: string, src: string, flags: string[] = ['-O2']): string {
  const out = fixturePath(name);
  const source = path.join(FIXTURES, src);
  const stamp = `${out}.flags`;
  const want = flags.join(' ');
  const fresh = (() => {
    try {
      return fs.statSync(out).mtimeMs >= fs.statSync(source).mtimeMs && fs.readFileSync(stamp, 'utf8') === want;
    } catch {
      return false;
    }
  })();
  if (fresh) return out;
  fs.mkdirSync(FIXTURE_DIR, { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  execFileSync('cc', [...flags, '-o', tmp, source]);
  fs.writeFileSync(`${stamp}.${process.pid}`, want);
  fs.renameSync(`${stamp}.${process.pid}`, stamp);
  fs.renameSync(tmp, out);
  return out;
}

export function buildTrigger(): string {
  return buildFixture('tapvm-test-trigger', 'trigger.c');
}

export interface Trigger {
  pid: number;
  proc: ChildProcess;
  go(): void;
  exited: Promise<number | null>;
}

/** Starts a trigger and resolves once it is waiting for SIGUSR1. */
export async function startTrigger(...args: string[]): Promise<Trigger> {
  const proc = spawn(buildTrigger(), args, { stdio: ['ignore', 'pipe', 'inherit'] });
  // a test that times out never reaches its kill: the worker's exit does it
  const reap = () => proc.kill('SIGKILL');
  process.once('exit', reap);
  proc.once('exit', () => process.off('exit', reap));
  const exited = new Promise<number | null>((res) => proc.on('exit', (c) => res(c)));
  await new Promise<void>((res, rej) => {
    proc.stdout!.once('data', () => res());
    proc.once('error', rej);
  });
  return { pid: proc.pid!, proc, go: () => proc.kill('SIGUSR1'), exited };
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Running {
  proc: ChildProcess;
  /** resolves when the session's kernel probes are live (needs -v, added by runTapvm) */
  armed: Promise<void>;
  done: Promise<RunResult>;
}

export function runTapvm(args: string[], opts: { timeoutMs?: number; verbose?: boolean } = {}): Running {
  const full = opts.verbose === false ? args : ['-v', ...args];
  const proc = spawn(process.execPath, [CLI, ...full], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let armedResolve!: () => void;
  const armed = new Promise<void>((r) => (armedResolve = r));
  proc.stdout!.on('data', (d) => (stdout += d));
  proc.stderr!.on('data', (d) => {
    stderr += d;
    if (/probes armed/.test(stderr)) armedResolve();
  });
  const timer = setTimeout(() => proc.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
  const done = new Promise<RunResult>((res) =>
    proc.on('close', (code) => {
      clearTimeout(timer);
      armedResolve();
      res({ code, stdout, stderr: opts.verbose === false ? stderr : stripPasses(stderr) });
    }),
  );
  return { proc, armed, done };
}

/** -v lines ("Pass N: ...") are for the harness; tests assert on the rest of stderr. */
export function stripPasses(s: string): string {
  return s
    .split('\n')
    .filter((l) => !/^Pass \d/.test(l))
    .join('\n');
}

export function runTapvmSync(args: string[], input?: string): RunResult {
  try {
    const stdout = execFileSync(process.execPath, [CLI, ...args], { input, encoding: 'latin1', stdio: ['pipe', 'pipe', 'pipe'], timeout: 20_000 });
    return { code: 0, stdout, stderr: '' };
  } catch (e) {
    const x = e as { status: number | null; stdout: string; stderr: string };
    return { code: x.status, stdout: x.stdout, stderr: x.stderr };
  }
}
