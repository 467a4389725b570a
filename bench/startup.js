// Start-up: wall time from the command to "probes armed" and to the first event delivered,
// cold (no pinned interpreter) and warm, side by side with bpftrace on the same one-liners.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { CLI, startTrigger, launch } = require('./lib');

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
    // bpftrace attaches ~350 tracepoints (seconds), hence fewer runs
    name: 'syscall.* one-liner',
    stp: 'probe syscall.* { printf("x\\n"); exit() }',
    bt: 'tracepoint:syscalls:sys_enter_* { printf("x\\n"); exit(); }',
    needsEvents: true,
    reps: 3,
  },
];

// cold runs compile our JavaScript from scratch too: an empty V8 code cache (src/cli/code-cache.ts)
const COLD_CACHE = path.join(os.tmpdir(), 'tapvm-bench-cold-cache');

async function once(tracer, line, cold) {
  let env = process.env;
  if (tracer === 'tapvm' && cold) {
    fs.rmSync('/sys/fs/bpf/tapvm', { recursive: true, force: true });
    fs.rmSync(COLD_CACHE, { recursive: true, force: true });
    env = { ...process.env, TAPVM_CACHE_DIR: COLD_CACHE };
  }
  // bpftrace prints "Attaching N probes..." before it attaches them, and runs BEGIN once all
  // are attached: a BEGIN that prints "armed" marks the moment (a BEGIN one-liner's own output)
  const bt = line.bt.startsWith('BEGIN') ? line.bt : `BEGIN { printf("armed\\n") } ${line.bt}`;
  const args = tracer === 'tapvm' ? [CLI, '-v', '-e', line.stp] : ['-e', bt];
  const armedRe = tracer === 'tapvm' ? /probes armed|Pass 5: starting run/ : /^(armed|x)$/m;
  const run = launch(tracer === 'tapvm' ? process.execPath : 'bpftrace', args, armedRe, { env });
  let first;
  const firstEvent = new Promise((r) => {
    const t0 = process.hrtime.bigint();
    run.proc.stdout.on('data', (d) => {
      if (first === undefined && /x\n/.test(String(d))) r((first = Number(process.hrtime.bigint() - t0) / 1e6));
    });
  });
  const armedMs = await run.ready;
  const r = await run.done;
  await Promise.race([firstEvent, Promise.resolve()]);
  if (r.code !== 0) throw new Error(`${tracer} '${line.name}' exited ${r.code}: ${r.err.trim().split('\n').pop()}`);
  return { armedMs, firstEventMs: first, totalMs: r.ms };
}

async function runStartup({ reps = 7, log = console.error, withBpftrace = true } = {}) {
  const results = [];
  // a process that calls getppid all the time, so kernel one-liners see an event at once
  const t = await startTrigger('getppid', '-1');
  t.go();
  try {
    for (const line of ONE_LINERS) {
      const row = { name: line.name, tapvmCold: [], tapvmWarm: [], bpftrace: [] };
      for (let i = 0; i < (line.reps ?? reps); i++) {
        row.tapvmCold.push(await once('tapvm', line, true));
        row.tapvmWarm.push(await once('tapvm', line, false));
        if (withBpftrace) row.bpftrace.push(await once('bpftrace', line, false));
      }
      log(`  ${line.name}: done`);
      results.push(row);
    }
  } finally {
    t.proc.kill('SIGKILL');
  }
  return results;
}

module.exports = { runStartup, ONE_LINERS };
