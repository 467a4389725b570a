// Start-up: wall time from the command to "probes armed" and to the first event delivered,
// cold (no pinned interpreter, no server, empty code cache), warm (pinned; node bin/tapvm, no
// server) and through the warm server (./bin/tapvm: the sh launcher, the C client and a warm
// worker; the successor worker is ready before each run), side by side with bpftrace on the
// same one-liners. Also the launcher's and the client's own cost (launcherOverhead).
'use strict';
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { spawn, execFileSync } = require('child_process');
const { CLI, startTrigger, launch, sleep, benchServer } = require('./lib');

const ONE_LINERS = [
  { name: 'begin one-liner', stp: 'probe begin { printf("x\\n"); exit() }', bt: 'BEGIN { printf("x\\n"); exit(); }' },
  {
    name: 'kernel.trace one-liner',
    stp: 'probe kernel.trace("syscalls:sys_enter_getppid") { printf("x\\n"); exit() }',
    bt: 'tracepoint:syscalls:sys_enter_getppid { printf("x\\n"); exit(); }',
    needsEvents: true,
  },
  {
    name: 'syscall.getppid one-liner',
    stp: 'probe syscall.getppid { printf("x\\n"); exit() }',
    bt: 'tracepoint:syscalls:sys_enter_getppid { printf("x\\n"); exit(); }',
    needsEvents: true,
  },
  {
    // every system call: tapvm attaches raw_syscalls once and dispatches by number in the kernel;
    // bpftrace attaches ~350 tracepoints (seconds to detach), hence fewer runs (3 gave medians
    // of 12 and 17 ms for the same tree)
    name: 'syscall.* one-liner',
    stp: 'probe syscall.* { printf("x\\n"); exit() }',
    bt: 'tracepoint:syscalls:sys_enter_* { printf("x\\n"); exit(); }',
    needsEvents: true,
    reps: 7,
  },
];

/** getppid() calls a second of the trigger while the start-up runs */
const TRIGGER_RATE = 20000;

/**
 * The pause before every measured run, of either tracer: the run before it may have left work
 * behind (a cold run verifies the interpreter, ~0.7 s of CPU, and its programs and maps are
 * freed after an RCU grace period; bpftrace's exit detaches and frees too). Each start-up is
 * measured on a machine that is not still busy with another one.
 */
const SETTLE_MS = 500;

// cold runs compile our JavaScript from scratch too: an empty V8 code cache (src/cli/code-cache.ts)
const COLD_CACHE = path.join(os.tmpdir(), 'tapvm-bench-cold-cache');

async function once(tracer, line, cold) {
  await sleep(SETTLE_MS);
  let env = process.env;
  if (tracer === 'tapvm' && cold) {
    fs.rmSync('/sys/fs/bpf/tapvm', { recursive: true, force: true });
    fs.rmSync(COLD_CACHE, { recursive: true, force: true });
    env = { ...process.env, TAPVM_CACHE_DIR: COLD_CACHE };
  }
  if (tracer === 'server') {
    const before = (await benchServer.ready()).served;
    const r = await launchTapvm(line, CLI, [], benchServer.env);
    // counted when the worker says it accepted, which a short command can outrun: settled once ready
    if ((await benchServer.ready()).served !== before + 1) throw new Error(`the server did not serve '${line.name}'`);
    return r;
  }
  if (tracer === 'tapvm') return launchTapvm(line, process.execPath, [CLI], env);
  // bpftrace prints "Attaching N probes..." before it attaches them, and runs BEGIN once all
  // are attached: a BEGIN that prints "armed" marks the moment (a BEGIN one-liner's own output)
  const bt = line.bt.startsWith('BEGIN') ? line.bt : `BEGIN { printf("armed\\n") } ${line.bt}`;
  return measure(tracer, launch('bpftrace', ['-e', bt], /^(armed|x)$/m, { env }), line);
}

// armed: "kernel probes armed" (src/runtime/session.ts, with -v) is printed once the probes are
// attached and the slot is active, as bpftrace's BEGIN runs after attaching; a begin one-liner
// has no kernel probe (and exits in begin, so nothing says armed): its first event is the mark,
// as for bpftrace's BEGIN one-liner. ("Pass 5: starting run." comes before the slot is claimed.)
function launchTapvm(line, cmd, pre, env) {
  const armed = line.needsEvents ? /kernel probes armed/ : /^x$/m;
  return measure('tapvm', launch(cmd, [...pre, '-v', '-e', line.stp], armed, { env }), line);
}

async function measure(tracer, run, line) {
  let first;
  const firstEvent = new Promise((r) => {
    // from before the spawn, as armed is (launch's t0): the spawn itself takes ms under load
    run.proc.stdout.on('data', (d) => {
      if (first === undefined && /x\n/.test(String(d))) r((first = Number(process.hrtime.bigint() - run.t0) / 1e6));
    });
  });
  const armedMs = await run.ready;
  const r = await run.done;
  await Promise.race([firstEvent, Promise.resolve()]);
  if (r.code !== 0) throw new Error(`${tracer} '${line.name}' exited ${r.code}: ${r.err.trim().split('\n').pop()}`);
  return { armedMs, firstEventMs: first, totalMs: r.ms };
}

function wall(cmd, args, env) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const p = spawn(cmd, args, { env, stdio: 'ignore' });
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve(Number(process.hrtime.bigint() - t0) / 1e6) : reject(new Error(`${cmd} exited ${code}`))));
  });
}

/**
 * What ./bin/tapvm adds before any tapvm code runs, with `node` on PATH replaced by /bin/true:
 * exec of /bin/true alone; the sh launcher (TAPVM_SERVER=0: sh, then exec node); the launcher and
 * the C client up to its fallback exec, against a fake server that answers busy (connect, the
 * greeting, exec). Medians of `reps` runs, ms.
 */
async function launcherOverhead(reps = 40) {
  const fake = fs.mkdtempSync(path.join(os.tmpdir(), 'tapvm-bench-launcher-'));
  fs.symlinkSync('/bin/true', path.join(fake, 'node'));
  const env = { ...process.env, PATH: `${fake}:${process.env.PATH}`, TAPVM_RUN_DIR: fake };
  delete env.TAPVM_SERVER;
  // the client's key names the socket: take it from the server code itself
  const key = execFileSync(process.execPath, ['-p', `require(${JSON.stringify(path.join(__dirname, '..', 'dist', 'server', 'paths.js'))}).serverKey()`], { encoding: 'utf8' }).trim();
  const busy = net.createServer((c) => c.end(Buffer.from('TVMB'))).listen(path.join(fake, `server-${key}.sock`));
  await new Promise((r) => busy.once('listening', r));
  const med = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
  const runs = { trueExec: [], launcher: [], launcherAndClient: [] };
  try {
    for (let i = 0; i < reps; i++) {
      runs.trueExec.push(await wall('/bin/true', [], env));
      runs.launcher.push(await wall(CLI, [], { ...env, TAPVM_SERVER: '0' }));
      runs.launcherAndClient.push(await wall(CLI, [], env));
    }
  } finally {
    busy.close();
    fs.rmSync(fake, { recursive: true, force: true });
  }
  return { trueExec: med(runs.trueExec), launcher: med(runs.launcher), launcherAndClient: med(runs.launcherAndClient), reps };
}

async function runStartup({ reps = 7, log = console.error, withBpftrace = true } = {}) {
  const results = [];
  // a process that calls getppid steadily, so kernel one-liners see an event within ~50 us of
  // arming; paced (TRIGGER_RATE calls a second, sleeping in between) rather than flat out, which
  // would take one of the 2 CPUs from both tracers for the whole run
  const t = await startTrigger('getppid', '-1', String(TRIGGER_RATE));
  t.go();
  benchServer.start();
  try {
    for (const line of ONE_LINERS) {
      const row = { name: line.name, tapvmCold: [], tapvmWarm: [], tapvmServer: [], bpftrace: [] };
      const n = line.reps ?? reps;
      // the machine is shared: the 1-min load average seen during the row goes with it
      const load = () => (row.loadavg = Math.max(row.loadavg ?? 0, os.loadavg()[0]));
      // The cold runs first: each deletes the pins, which the server's warm worker opened while
      // it warmed up (a command checks them, and opens them again when they were replaced). A
      // server run right after a cold run took 11.5 ms to a kernel.trace one-liner's first event,
      // after a warm run 10.3 (medians of 11, 0.5 s apart). A host keeps its pins from one
      // command to the next, and the warm figures are for that. One unmeasured server run then
      // leaves a successor that opened the new pins.
      for (let i = 0; i < n; i++) {
        load();
        row.tapvmCold.push(await once('tapvm', line, true));
      }
      await once('server', line, false);
      for (let i = 0; i < n; i++) {
        load();
        row.tapvmWarm.push(await once('tapvm', line, false));
        row.tapvmServer.push(await once('server', line, false));
        if (withBpftrace) row.bpftrace.push(await once('bpftrace', line, false));
      }
      log(`  ${line.name}: done`);
      results.push(row);
    }
  } finally {
    t.proc.kill('SIGKILL');
    benchServer.stop();
  }
  return results;
}

module.exports = { runStartup, launcherOverhead, ONE_LINERS, TRIGGER_RATE, SETTLE_MS };
