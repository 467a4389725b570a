// Shared helpers for the benchmarks: processes, the trigger, BPF program stats, statistics.
'use strict';
const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.join(__dirname, '..');
const CLI = path.join(ROOT, 'bin', 'tapvm');
const TRIGGER = '/tmp/tapvm-bench-trigger';

function buildTrigger() {
  execFileSync('cc', ['-O2', '-o', TRIGGER, path.join(ROOT, 'test', 'kernel', 'fixtures', 'trigger.c')]);
  return TRIGGER;
}

/** Starts the trigger; resolves with {pid, go(), exited} once it waits for SIGUSR1. */
function startTrigger(...args) {
  return new Promise((resolve, reject) => {
    const proc = spawn(TRIGGER, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((r) => proc.on('exit', r));
    proc.stdout.once('data', () => resolve({ pid: proc.pid, proc, go: () => proc.kill('SIGUSR1'), exited }));
    proc.once('error', reject);
  });
}

/** Spawns a command; resolves `ready` when `readyRe` matches stdout or stderr. */
function launch(cmd, args, readyRe, opts = {}) {
  const t0 = process.hrtime.bigint();
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  let out = '';
  let err = '';
  let readyAt;
  let resolveReady;
  const ready = new Promise((r) => (resolveReady = r));
  const check = () => {
    if (readyAt === undefined && readyRe.test(out + err)) {
      readyAt = Number(process.hrtime.bigint() - t0) / 1e6;
      resolveReady(readyAt);
    }
  };
  proc.stdout.on('data', (d) => ((out += d), check()));
  proc.stderr.on('data', (d) => ((err += d), check()));
  const done = new Promise((r) =>
    proc.on('close', (code) => {
      resolveReady(undefined);
      r({ code, out, err, ms: Number(process.hrtime.bigint() - t0) / 1e6 });
    }),
  );
  // stop(sig): ask the tracer to finish (it may print its maps on the way out), and kill it if
  // it has not exited within graceMs: a tracer that missed the signal (bpftrace once sat in
  // epoll_wait after SIGINT for ten minutes) must not stall the whole suite
  const stop = (sig, graceMs = 15000) => {
    proc.kill(sig);
    const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    return done.then((r) => (clearTimeout(t), r));
  };
  // t0: taken before spawn(), so that a caller's own timings (first event) count the spawn as
  // `ready` and `done` do
  return { proc, ready, done, stop, t0, text: () => out + err };
}

function peakRss(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** All loaded BPF programs with their run-time stats (bpftool's JSON). */
function progStats() {
  const list = JSON.parse(execFileSync('bpftool', ['prog', 'show', '-j'], { encoding: 'utf8', maxBuffer: 64 << 20 }));
  return list.map((p) => ({ id: p.id, name: p.name, type: p.type, runTimeNs: p.run_time_ns ?? 0, runCnt: p.run_cnt ?? 0, pids: (p.pids ?? []).map((x) => x.pid) }));
}

/**
 * The BPF programs behind the links a process holds (their /proc fdinfo names link_id and
 * prog_id): the programs one tapvm session's probes run, whatever else is loaded.
 */
function linkedProgs(pid) {
  const ids = new Set();
  const links = new Set();
  for (const fd of fs.readdirSync(`/proc/${pid}/fdinfo`)) {
    let info;
    try {
      info = fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    } catch {
      continue;
    }
    const link = /^link_id:\s+(\d+)/m.exec(info);
    const prog = /^prog_id:\s+(\d+)/m.exec(info);
    if (link && prog) {
      links.add(Number(link[1]));
      ids.add(Number(prog[1]));
    }
  }
  return { progIds: ids, linkIds: links };
}

/** Links of other owners on these programs: their firings would be counted too. */
function foreignLinks(progIds, linkIds) {
  const all = JSON.parse(execFileSync('bpftool', ['link', 'show', '-j'], { encoding: 'utf8', maxBuffer: 64 << 20 }));
  return all.filter((l) => progIds.has(l.prog_id) && !linkIds.has(l.id)).length;
}

function summary(values) {
  // NaN went through results.json as null
  const v = values.filter((x) => typeof x === 'number' && !Number.isNaN(x)).sort((a, b) => a - b);
  if (!v.length) return { min: NaN, median: NaN, max: NaN, n: 0 };
  const mid = v.length >> 1;
  const median = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  return { min: v[0], median, max: v[v.length - 1], n: v.length };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function have(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * The bench's own warm server (`./bin/tapvm`'s path), in a private run directory so that the
 * bench neither uses nor stops a user's: start() and stop() it around a suite, run CLI with
 * `env`, and wait for ready() before each command (a warm worker and nothing running: the
 * previous command's successor is warm).
 */
const RUN_DIR = path.join(os.tmpdir(), 'tapvm-bench-server');
const SERVER_ENV = { ...process.env, TAPVM_RUN_DIR: RUN_DIR };
delete SERVER_ENV.TAPVM_SERVER;

function serverInfo() {
  try {
    const f = fs.readdirSync(RUN_DIR).find((n) => /^server-[0-9a-f]{16}\.json$/.test(n));
    return f && JSON.parse(fs.readFileSync(path.join(RUN_DIR, f), 'utf8'));
  } catch {
    return undefined;
  }
}

const benchServer = {
  env: SERVER_ENV,
  start() {
    fs.rmSync(RUN_DIR, { recursive: true, force: true });
    execFileSync(process.execPath, [CLI, 'server', 'start'], { env: SERVER_ENV, stdio: 'ignore' });
  },
  stop() {
    execFileSync(process.execPath, [CLI, 'server', 'stop'], { env: SERVER_ENV, stdio: 'ignore' });
  },
  /** Until the server has a warm worker and, unless `busy` allows as many, nothing running; its
   * info (`served`: commands so far). */
  async ready(busy = 0) {
    for (let i = 0; i < 1200; i++) {
      const s = serverInfo();
      if (s?.ready && s.busy <= busy) return s;
      await sleep(50);
    }
    throw new Error('the bench server did not get a warm worker within 60 s');
  },
};

module.exports = { ROOT, CLI, buildTrigger, startTrigger, launch, peakRss, progStats, linkedProgs, foreignLinks, summary, sleep, have, benchServer };
