// Hot swap latency: wall time from the `tapvm swap ID -e NEW` command to the new script's
// first event delivered, the command run directly (`node bin/tapvm`) and through the warm
// server (`./bin/tapvm`), next to a warm start of the same script and bpftrace's start-up for
// the equivalent one-liner, all while a trigger calls getppid() steadily.
'use strict';
const { spawn } = require('child_process');
const os = require('os');
const { CLI, startTrigger, launch, sleep, benchServer } = require('./lib');

const RATE = '20000';

/** ms from spawning `cmd args` until `re` shows on `stream` (a session's stdout). */
function until(stream, re) {
  return new Promise((res) => {
    let s = '';
    const on = (d) => {
      s += d;
      if (re.test(s)) {
        stream.off('data', on);
        res();
      }
    };
    stream.on('data', on);
  });
}

/** One swap of a running session; `server`: the swap command goes through the bench's server. */
async function onceSwap(pid, server = false) {
  // through the server, the running session is a warm worker's too (its id is the worker's pid)
  const oldArgs = ['-v', '-e', `global n; probe syscall.getppid { if (pid() == ${pid}) n++ }`];
  if (server) await benchServer.ready();
  const old = server ? launch(CLI, oldArgs, /control socket/, { env: benchServer.env }) : launch(process.execPath, [CLI, ...oldArgs], /control socket/);
  await old.ready;
  const id = /control socket \S*\/([\d.]+)\.sock/.exec(old.text())?.[1];
  if (!id) throw new Error(`no session id in: ${old.text()}`);
  await sleep(100);
  // the next warm worker, while the session runs
  const before = server ? (await benchServer.ready(1)).served : 0;
  const got = until(old.proc.stdout, /new\n/);
  const swapArgs = ['swap', '-v', id, '-e', `probe syscall.getppid { if (pid() == ${pid}) { printf("new\\n"); exit() } }`];
  const t0 = process.hrtime.bigint();
  const sw = server
    ? spawn(CLI, swapArgs, { stdio: ['ignore', 'ignore', 'pipe'], env: benchServer.env })
    : spawn(process.execPath, [CLI, ...swapArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  sw.stderr.on('data', (d) => (err += d));
  await got;
  const firstEventMs = Number(process.hrtime.bigint() - t0) / 1e6;
  await new Promise((r) => sw.on('close', r));
  const r = await old.done;
  if (r.code !== 0) throw new Error(`swap session exited ${r.code}: ${r.err.trim().split('\n').pop()}`);
  const m = /new probes live in slot \d+ ([\d.]+)ms after the request reached it, old slot \d+ freed after ([\d.]+)ms/.exec(err);
  if (!m) throw new Error(`tapvm swap -v said: ${err}`);
  const claim = /slot claimed ([\d.]+)ms/.exec(r.err);
  if (server && (await benchServer.ready()).served !== before + 1) throw new Error('the bench server did not serve the swap');
  return { firstEventMs, liveMs: Number(m[1]), oldFreedMs: Number(m[2]), claimMs: claim ? Number(claim[1]) : NaN };
}

async function onceStart(tracer, pid) {
  const args =
    tracer === 'tapvm'
      ? [CLI, '-e', `probe syscall.getppid { if (pid() == ${pid}) { printf("new\\n"); exit() } }`]
      : ['-e', `tracepoint:syscalls:sys_enter_getppid /pid == ${pid}/ { printf("new\\n"); exit(); }`];
  const t0 = process.hrtime.bigint();
  const run = launch(tracer === 'tapvm' ? process.execPath : 'bpftrace', args, /new\n/);
  await run.ready;
  const firstEventMs = Number(process.hrtime.bigint() - t0) / 1e6;
  await run.done;
  return { firstEventMs };
}

async function runSwap({ reps = 7, log = console.error, withBpftrace = true } = {}) {
  const t = await startTrigger('getppid', '-1', RATE);
  t.go();
  const row = { name: `syscall.getppid one-liner, trigger at ${RATE}/s`, swap: [], swapServer: [], tapvmWarm: [], bpftrace: [], loadavg: os.loadavg()[0] };
  benchServer.start();
  try {
    for (let i = 0; i < reps; i++) {
      row.swap.push(await onceSwap(t.pid));
      row.swapServer.push(await onceSwap(t.pid, true));
      row.tapvmWarm.push(await onceStart('tapvm', t.pid));
      if (withBpftrace) row.bpftrace.push(await onceStart('bpftrace', t.pid));
    }
    row.loadavg = Math.max(row.loadavg, os.loadavg()[0]);
    log('  swap: done');
  } finally {
    t.proc.kill('SIGKILL');
    benchServer.stop();
  }
  return [row];
}

module.exports = { runSwap };
