// The warm server (src/server/, native/client.c): ./bin/tapvm run as a program hands the command
// to a pre-warmed worker, and everything must be as in a direct run (`node bin/tapvm`): output,
// exit status, signals, stdin, -c, relative -o. The server runs in a private TAPVM_RUN_DIR, so
// these tests never reach (or stop) a user's server, and is stopped in afterAll.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { kernelTestsPossible, buildTrigger, startTrigger, CLI, ROOT } from './helpers';

const can = kernelTestsPossible();
if (!can.ok && process.env.CI) throw new Error(`kernel tests cannot run in CI: ${can.why}`);
const d = can.ok ? describe : describe.skip;

const CLIENT = path.join(ROOT, 'native', 'build', 'Release', 'tapvm-client');
const RUN_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'tapvm-server-test-'));
const ENV: NodeJS.ProcessEnv = { ...process.env, TAPVM_RUN_DIR: RUN_DIR };
delete ENV.TAPVM_SERVER;

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface Run {
  pid: number;
  /** stdout so far */
  out(): string;
  armed: Promise<void>;
  done: Promise<Result>;
  kill(sig: NodeJS.Signals): void;
}

/** `client`: ./bin/tapvm as a program (the sh launcher, then the C client); else `node bin/tapvm`. */
function start(how: 'client' | 'direct', args: string[], opts: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Run {
  const [cmd, argv] = how === 'client' ? [CLI, args] : [process.execPath, [CLI, ...args]];
  const proc = spawn(cmd, argv, { cwd: opts.cwd, env: opts.env ?? ENV, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  if (opts.input !== undefined) proc.stdin!.end(opts.input);
  let stdout = '';
  let stderr = '';
  let armed!: () => void;
  const armedP = new Promise<void>((r) => (armed = r));
  proc.stdout!.on('data', (b) => (stdout += b));
  proc.stderr!.on('data', (b) => {
    stderr += b;
    if (/probes armed/.test(stderr)) armed();
  });
  const timer = setTimeout(() => proc.kill('SIGKILL'), 25_000);
  const done = new Promise<Result>((res) =>
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      armed();
      res({ code, signal, stdout, stderr });
    }),
  );
  return { pid: proc.pid!, out: () => stdout, armed: armedP, done, kill: (s) => proc.kill(s) };
}

interface Info {
  pid: number;
  key: string;
  ready: boolean;
  busy: number;
  served: number;
}

function info(): Info | undefined {
  const f = fs.readdirSync(RUN_DIR).find((n) => /^server-[0-9a-f]{16}\.json$/.test(n));
  if (!f) return undefined;
  try {
    return JSON.parse(fs.readFileSync(path.join(RUN_DIR, f), 'utf8')) as Info;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the server has a warm worker (the previous command's successor). */
async function ready(): Promise<Info> {
  for (let i = 0; i < 400; i++) {
    const s = info();
    if (s?.ready && s.busy === 0) return s;
    await sleep(50);
  }
  throw new Error('the server did not get a warm worker within 20 s');
}

/** Runs through the server (asserting it served the command) and directly; returns both. */
async function both(args: string[], opts: { input?: string; cwd?: string } = {}): Promise<[Result, Result]> {
  const before = (await ready()).served;
  const viaServer = await start('client', args, opts).done;
  // the manager counts a command when the worker says it accepted it, which a short command can
  // outrun: the count is settled once the successor is ready
  expect((await ready()).served).toBe(before + 1);
  const direct = await start('direct', args, opts).done;
  return [viaServer, direct];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A /proc stat file's fields from the third (the state) on: [0] state, [1] ppid, [38] policy.
 * Counted after the last ")", which ends the command name (a name may hold ") " itself).
 */
function statFields(file: string): string[] {
  const stat = fs.readFileSync(file, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** The server's processes: the manager and its workers (children found through /proc). */
function serverPids(manager: number): number[] {
  const pids = [manager];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const ppid = Number(statFields(`/proc/${p}/stat`)[1]);
      if (ppid === manager) pids.push(Number(p));
    } catch {
      // gone
    }
  }
  return pids;
}

function serverCmd(sub: string, env = ENV): Promise<Result> {
  return start('direct', ['server', sub], { env }).done;
}

d('the warm server behind ./bin/tapvm', () => {
  beforeAll(async () => {
    buildTrigger();
    if (!fs.existsSync(CLIENT)) throw new Error(`${CLIENT} is not built (npm install builds it: node-gyp rebuild --directory native)`);
    const r = await serverCmd('start');
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^tapvm server pid \d+ \(this build of .*\): ready/);
  }, 60_000);

  afterAll(async () => {
    const s = info();
    await serverCmd('stop');
    if (s) for (const p of serverPids(s.pid)) if (alive(p)) process.kill(p, 'SIGKILL');
    fs.rmSync(RUN_DIR, { recursive: true, force: true });
  });

  it('a begin one-liner: the same output and exit status as a direct run', async () => {
    const [s, dr] = await both(['-e', 'probe begin { printf("hello %s %d\\n", "world", 42); exit() }']);
    expect(s).toEqual({ code: 0, signal: null, stdout: 'hello world 42\n', stderr: '' });
    expect(s).toEqual(dr);
  });

  it('a warning and a global shown at exit, as a direct run (the warm-up parsed -w, -o and --no-global-var-display on a program of its own)', async () => {
    const [s, dr] = await both(['-e', 'global g; probe begin { g = 2; printf("x%d\\n", y); exit() }']);
    expect(s.code).toBe(0);
    expect(s.stdout).toBe('x0\ng=0x2\n');
    expect(s.stderr).toContain("WARNING: never-assigned local variable 'y'");
    expect(s).toEqual(dr);
  });

  it('a syscall one-liner sees the events of its trigger, as a direct run does', async () => {
    const runOne = async (how: 'client' | 'direct') => {
      const t = await startTrigger('getppid', '7');
      const r = start(how, [
        '-v',
        '-e',
        `global n; probe syscall.getppid { if (pid() == ${t.pid}) n++ }
         probe kernel.trace("sched:sched_process_exit") { if (pid() == ${t.pid}) exit() }
         probe end { printf("%s %d\\n", "getppid", n) }`,
      ]);
      await r.armed;
      t.go();
      return r.done;
    };
    const before = (await ready()).served;
    const s = await runOne('client');
    expect((await ready()).served).toBe(before + 1);
    const dr = await runOne('direct');
    expect(s.stdout).toBe('getppid 7\n');
    expect(s.code).toBe(0);
    expect(s.stdout).toBe(dr.stdout);
  });

  it('commands through the server keep the code cache (none rejected, none rewritten at their exit)', async () => {
    // A worker turns --expose-gc on for its collection after the warm-up, then off again: data
    // it writes under a changed flag set is rejected by every other process, which then rewrote
    // the cache at its own exit. Without this build's cache file a worker writes one at its exit.
    // (the key of src/cli/code-cache.ts for a worker: forked with no node options, eager)
    const key = crypto.createHash('sha1').update([ROOT, process.version, process.arch, 'eager'].join('\0')).digest('hex').slice(0, 16);
    fs.rmSync(path.join(process.env.TAPVM_CACHE_DIR ?? '/var/cache/tapvm', `v8-${key}.bin`), { force: true });
    const env = { ...ENV, TAPVM_CODE_CACHE_STATS: '1' };
    const stats: string[] = [];
    for (let i = 0; i < 5; i++) {
      await ready();
      const r = await start('client', ['-e', 'probe begin { exit() }'], { env }).done;
      expect(r.code).toBe(0);
      stats.push(/^code cache: (.*)$/m.exec(r.stderr)?.[1] ?? r.stderr);
    }
    // the workers warmed up before a good file was written miss or write; the later ones do not
    for (const s of stats.slice(3)) expect(JSON.parse(s), stats.join('\n')).toMatchObject({ rejected: 0, written: false });
  });

  it('a successor warms up in SCHED_IDLE, every thread of it, and waits for its client in SCHED_OTHER', async () => {
    // /proc/PID/task/TID/stat field 41: the scheduling policy (SCHED_OTHER 0, SCHED_IDLE 5)
    const policies = (pid: number): number[] => {
      try {
        return fs.readdirSync(`/proc/${pid}/task`).map((t) => Number(statFields(`/proc/${pid}/task/${t}/stat`)[38]));
      } catch {
        return [];
      }
    };
    await ready();
    const manager = info()!.pid;
    const before = new Set(serverPids(manager));
    const run = start('client', ['-e', 'probe timer.ms(400) { exit() }']);
    let successor: number | undefined;
    const seen: number[][] = [];
    // (the manager writes 'not ready' before it forks the successor)
    for (let i = 0; i < 2000; i++) {
      successor ??= serverPids(manager).find((p) => !before.has(p));
      if (successor) {
        seen.push(policies(successor));
        if (info()?.ready) break;
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    expect(successor).toBeDefined();
    // seen warming: all of its threads (node starts its own at once) idle
    expect(seen.some((p) => p.length > 1 && p.every((x) => x === 5)), JSON.stringify(seen)).toBe(true);
    await ready();
    expect(new Set(policies(successor!))).toEqual(new Set([0]));
    expect((await run.done).code).toBe(0);
  });

  it('a parse error: exit status 1 and the diagnostic on stderr, as a direct run', async () => {
    const [s, dr] = await both(['-e', 'probe begin { exit( }']);
    expect(s.code).toBe(1);
    expect(s.stderr).toContain('parse error');
    expect(s.stderr).toContain('Pass 1: analysis failed.');
    expect(s).toEqual(dr);
  });

  it('SIGINT to the client ends the session: the end probe runs', async () => {
    await ready();
    const r = start('client', ['-v', '-e', 'probe begin { println("begin") } probe timer.s(60) { } probe syscall.getppid { } probe end { println("end") }']);
    await r.armed;
    r.kill('SIGINT');
    const res = await r.done;
    expect(res.stdout).toBe('begin\nend\n');
    expect(res.code).toBe(0);
  });

  it('a client killed (SIGKILL) hangs up its worker: the session ends as on SIGHUP, end probe included', async () => {
    await ready();
    const r = start('client', ['-v', '-e', 'probe timer.s(60) { } probe syscall.getppid { } probe end { println("end") }']);
    await r.armed;
    r.kill('SIGKILL');
    // the worker holds the client's stdout: the pipe closes once it is done
    const res = await r.done;
    expect(res.signal).toBe('SIGKILL');
    expect(res.stdout).toBe('end\n');
  });

  it('a worker killed by a signal: the client dies of the same signal', async () => {
    await ready();
    const r = start('client', ['-v', '-e', 'probe timer.s(60) { } probe syscall.getppid { }']);
    await r.armed;
    // Node's default action for SIGUSR2 ends the worker: the client re-raises it
    r.kill('SIGUSR2');
    const res = await r.done;
    expect(res.signal).toBe('SIGUSR2');
  });

  it('-c /bin/true: the command runs and its exit ends the session', async () => {
    const [s, dr] = await both(['-c', '/bin/true', '-e', 'probe begin { println("begin") } probe end { println("end") }']);
    expect(s.stdout).toBe('begin\nend\n');
    expect(s.code).toBe(0);
    expect(s).toEqual(dr);
  });

  it('-c: the command inherits the client\'s stdout', async () => {
    const [s, dr] = await both(['-c', 'echo from-the-command', '-e', 'probe end { println("end") }']);
    expect(s.stdout).toContain('from-the-command\n');
    expect(s.stdout).toBe(dr.stdout);
  });

  it('- reads the script from the client\'s stdin', async () => {
    const [s, dr] = await both(['-'], { input: 'probe begin { println("from stdin"); exit() }\n' });
    expect(s).toEqual({ code: 0, signal: null, stdout: 'from stdin\n', stderr: '' });
    expect(s).toEqual(dr);
  });

  it('-o FILE relative to the client\'s working directory', async () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'tapvm-server-cwd-'));
    try {
      await ready();
      const s = await start('client', ['-o', 'out.txt', '-e', 'probe begin { println("to the file"); exit() }'], { cwd }).done;
      expect(s.code).toBe(0);
      expect(s.stdout).toBe('');
      expect(fs.readFileSync(path.join(cwd, 'out.txt'), 'utf8')).toBe('to the file\n');
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('TAPVM_SERVER=0 runs directly: the server serves nothing', async () => {
    const before = (await ready()).served;
    const r = await start('client', ['-e', 'probe begin { println("direct"); exit() }'], { env: { ...ENV, TAPVM_SERVER: '0' } }).done;
    expect(r).toEqual({ code: 0, signal: null, stdout: 'direct\n', stderr: '' });
    expect((await ready()).served).toBe(before);
  });

  it('SIGTSTP stops the client and its worker where it stops a direct run (no output meanwhile); SIGCONT continues both', async () => {
    // The kernel discards SIGTSTP in an orphaned process group (no job-control shell above it,
    // as under some CI runners): then a direct run goes on, and so must the client and worker.
    await ready();
    const script = ['-v', '-e', 'probe timer.ms(50) { println("tick") } probe syscall.getppid { }'];
    const state = (pid: number) => statFields(`/proc/${pid}/stat`)[0];
    const runs = [start('client', script), start('direct', script)];
    await Promise.all(runs.map((r) => r.armed));
    await sleep(300);
    for (const r of runs) r.kill('SIGTSTP');
    await sleep(300);
    const [viaServer, direct] = runs.map((r) => state(r.pid));
    expect(viaServer).toBe(direct);
    const lines = (r: Run) => r.out().split('\n').length;
    const before = runs.map(lines);
    await sleep(500);
    if (direct === 'T') expect(runs.map(lines)).toEqual(before);
    else runs.forEach((r, i) => expect(lines(r)).toBeGreaterThan(before[i]));
    const mid = runs.map(lines);
    for (const r of runs) r.kill('SIGCONT');
    await sleep(500);
    runs.forEach((r, i) => expect(lines(r)).toBeGreaterThan(mid[i]));
    for (const r of runs) r.kill('SIGINT');
    for (const r of runs) expect((await r.done).code).toBe(0);
  });

  it('-F through the client: the session goes on in the background; attach and stop reach it through the client too', async () => {
    await ready();
    const f = await start('client', ['-F', '-e', 'probe timer.ms(50) { println("tick") }']).done;
    expect(f.code).toBe(0);
    const id = /tapvm attach (\d+)/.exec(f.stdout)?.[1];
    expect(id).toBeDefined();
    await sleep(300);
    await ready();
    const att = start('client', ['attach', id!]);
    await sleep(1000);
    att.kill('SIGINT');
    const a = await att.done;
    expect(a.stdout).toMatch(/^(tick\n)+$/);
    await ready();
    const st = await start('client', ['stop', id!]).done;
    expect(st.code).toBe(0);
    await ready();
    const list = await start('client', ['--sessions']).done;
    expect(list.stdout).not.toMatch(new RegExp(`^\\d+\\s+${id}\\s`, 'm'));
  });

  it('clients at once: the warm worker serves one, the others run directly (busy answer); none is lost', async () => {
    const before = (await ready()).served;
    const runs = [0, 1, 2].map((i) => start('client', ['-e', `probe begin { printf("client %d\\n", ${i}); exit() }`]));
    const res = await Promise.all(runs.map((r) => r.done));
    res.forEach((r, i) => expect(r).toEqual({ code: 0, signal: null, stdout: `client ${i}\n`, stderr: '' }));
    // the first to connect is served; the successor is not warm before the others are answered
    const s = await ready();
    expect(s.served).toBeGreaterThanOrEqual(before + 1);
    expect(s.served).toBeLessThan(before + 3);
    // and the successor serves the next command
    const [next] = await both(['-e', 'probe begin { println("next"); exit() }']);
    expect(next.stdout).toBe('next\n');
  });

  it('a warm worker killed while it waits: clients meanwhile run directly, and a new one is warmed', async () => {
    const s = await ready();
    const waiting = serverPids(s.pid).filter((p) => p !== s.pid);
    expect(waiting.length).toBe(1);
    process.kill(waiting[0], 'SIGKILL');
    const r = await start('client', ['-e', 'probe begin { println("meanwhile"); exit() }']).done;
    expect(r).toEqual({ code: 0, signal: null, stdout: 'meanwhile\n', stderr: '' });
    const again = await ready();
    expect(again.pid).toBe(s.pid);
    expect(serverPids(s.pid)).not.toContain(waiting[0]);
    const [next] = await both(['-e', 'probe begin { println("after"); exit() }']);
    expect(next.stdout).toBe('after\n');
  });

  it('a warm worker does not keep the listening socket or its pipe to the manager for the command\'s children', async () => {
    // -c's command lists its own fds (ls's own directory fd aside): the same as a direct run's
    const fds = (r: Result) =>
      [...r.stdout.matchAll(/ (\d+) -> (.*)$/gm)].filter(([, , to]) => !to.startsWith('/proc/')).map(([, n]) => Number(n));
    const [s, dr] = await both(['-c', 'ls -l /proc/self/fd', '-e', 'probe end { println("end") }']);
    expect(s.code).toBe(0);
    expect(fds(s)).toContain(1);
    expect(fds(s)).toEqual(fds(dr));
  });

  it('a tapset file edited between two commands: the next command through the server sees the edit', async () => {
    // a file of its own in the package's tapset directory (a function name nothing else uses)
    const file = path.join(ROOT, 'tapset', `zz_server_test_${process.pid}.stp`);
    const fn = `server_test_value_${process.pid}`;
    const args = ['-e', `probe begin { printf("%d\\n", ${fn}()); exit() }`];
    try {
      fs.writeFileSync(file, `function ${fn}() { return 1 }\n`);
      // a worker warmed up before the file existed
      const [first] = await both(args);
      expect(first).toEqual({ code: 0, signal: null, stdout: '1\n', stderr: '' });
      // the successor read it while warming up; written in place, same size
      await ready();
      fs.writeFileSync(file, `function ${fn}() { return 2 }\n`);
      const [second, direct] = await both(args);
      expect(second).toEqual({ code: 0, signal: null, stdout: '2\n', stderr: '' });
      expect(second).toEqual(direct);
    } finally {
      fs.rmSync(file, { force: true });
    }
  });

  it('a server exits after TAPVM_SERVER_IDLE_MS without a client, leaving no process or file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tapvm-server-idle-'));
    try {
      const env = { ...ENV, TAPVM_RUN_DIR: dir, TAPVM_SERVER_IDLE_MS: '1500' };
      const r = await serverCmd('start', env);
      const pid = Number(/pid (\d+)/.exec(r.stdout)?.[1]);
      expect(pid).toBeGreaterThan(0);
      const pids = serverPids(pid);
      for (let i = 0; i < 200 && pids.some(alive); i++) await sleep(50);
      expect(pids.filter(alive)).toEqual([]);
      expect(fs.readdirSync(dir)).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('server stop leaves no process; a stale socket file falls back to a direct run, which starts a new server', async () => {
    const s = await ready();
    const pids = serverPids(s.pid);
    expect(pids.length).toBeGreaterThan(1); // the manager and its warm worker
    const stop = await serverCmd('stop');
    expect(stop.stdout).toBe(`stopped tapvm server pid ${s.pid}\n`);
    for (let i = 0; i < 100 && pids.some(alive); i++) await sleep(50);
    expect(pids.filter(alive)).toEqual([]);
    expect(info()).toBeUndefined();

    // a dead server's socket file: connect() is refused
    const sock = path.join(RUN_DIR, `server-${s.key}.sock`);
    // a server killed by SIGKILL leaves its socket file, on which nobody listens
    const dead = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(sock)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    await new Promise((r) => dead.once('exit', r));
    expect(fs.existsSync(sock)).toBe(true);

    const r = await start('client', ['-e', 'probe begin { println("fallback"); exit() }']).done;
    expect(r).toEqual({ code: 0, signal: null, stdout: 'fallback\n', stderr: '' });
    const again = await ready();
    expect(again.pid).not.toBe(s.pid);
    expect(again.served).toBe(0);
    // and the new server serves the next command
    const [next] = await both(['-e', 'probe begin { println("served"); exit() }']);
    expect(next.stdout).toBe('served\n');
  });
});
