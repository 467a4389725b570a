// Output path: printf records per second from the kernel to a file (`tapvm -o FILE`), and how
// many are lost, at fixed offered rates and at saturation.
//
// The event source is bench/fixtures/rate.c: getppid() at N calls/s for T seconds (N = 0: as
// fast as it can). The script prints one line per call of that process only:
//   probe syscall.getppid { if (pid() == P) printf("%d %d %s\n", pid(), tid(), execname()) }
// Each run checks lines written + records tapvm reports lost == calls made, so nothing goes
// missing without being counted. Standalone: `node bench/output.js [--quick]` prints JSON.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn, execFileSync } = require('child_process');
const { CLI, launch } = require('./lib');

const RATE = '/tmp/tapvm-bench-rate';
const RATES = [50_000, 100_000, 200_000, 400_000, 0]; // 0 = saturation

function buildRate() {
  execFileSync('cc', ['-O2', '-o', RATE, path.join(__dirname, 'fixtures', 'rate.c')]);
  return RATE;
}

/** Starts the rate process; resolves once it waits for SIGUSR1. */
function startRate(perSec, secs) {
  return new Promise((resolve, reject) => {
    const proc = spawn(RATE, [String(perSec), String(secs)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let ready = false;
    const exited = new Promise((r) => proc.on('exit', () => r(out)));
    proc.stdout.on('data', (d) => {
      out += d;
      if (!ready && /ready \d+\n/.test(out)) {
        ready = true;
        resolve({ pid: proc.pid, proc, go: () => proc.kill('SIGUSR1'), exited });
      }
    });
    proc.once('error', reject);
  });
}

/** utime + stime of a process in seconds (0 once it is gone). */
function cpuSeconds(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return 0;
  }
}

/** Counts the lines of a file and those that are not the expected line. */
function countLines(file, expected) {
  const b = fs.readFileSync(file);
  let lines = 0;
  let bad = 0;
  let start = 0;
  const want = Buffer.from(expected + '\n', 'latin1');
  for (let i = b.indexOf(10); i >= 0; i = b.indexOf(10, start)) {
    lines++;
    if (i + 1 - start !== want.length || b.compare(want, 0, want.length, start, i + 1) !== 0) bad++;
    start = i + 1;
  }
  return { lines, bad, bytes: b.length };
}

async function once(perSec, secs, cli = CLI) {
  const file = path.join(os.tmpdir(), `tapvm-bench-output-${process.pid}.txt`);
  fs.rmSync(file, { force: true });
  const src = await startRate(perSec, secs);
  const comm = fs.readFileSync(`/proc/${src.pid}/comm`, 'latin1').trim();
  const stp = `probe syscall.getppid { if (pid() == ${src.pid}) printf("%d %d %s\\n", pid(), tid(), execname()) }`;
  const run = launch(process.execPath, [cli, '-v', '-o', file, '-e', stp], /probes armed/);
  const armed = await run.ready;
  if (armed === undefined) {
    src.proc.kill('SIGKILL');
    const r = await run.done;
    throw new Error(`tapvm failed: ${r.err.trim().split('\n').slice(-3).join(' | ')}`);
  }
  const cpu0 = cpuSeconds(run.proc.pid);
  const t0 = process.hrtime.bigint();
  src.go();
  const done = /done (\d+) (\d+) (\d+)/.exec(await src.exited);
  const cpu1 = cpuSeconds(run.proc.pid);
  const tEnd = process.hrtime.bigint();
  run.proc.kill('SIGTERM');
  const r = await run.done;
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  if (!done) throw new Error('the rate process did not report');
  const calls = Number(done[1]);
  const srcS = Number(done[2]) / 1e9;
  const lost = Number(/(\d+) output record\(s\) lost/.exec(r.err)?.[1] ?? 0);
  const { lines, bad } = countLines(file, `${src.pid} ${src.pid} ${comm}`);
  fs.rmSync(file, { force: true });
  if (r.code !== 0) throw new Error(`tapvm exited ${r.code}: ${r.err.trim().split('\n').pop()}`);
  return {
    target: perSec,
    calls,
    offeredPerSec: calls / srcS,
    lines,
    malformed: bad,
    lost,
    unaccounted: calls - lines - lost,
    // everything written, from the first call until tapvm exited after draining the ring
    writtenPerSec: lines / wallS,
    drainMs: Number(process.hrtime.bigint() - tEnd) / 1e6,
    consumerCpu: (cpu1 - cpu0) / (Number(tEnd - t0) / 1e9),
  };
}

/** `cli`: the tapvm to measure (another checkout's bin/tapvm for a before/after comparison). */
async function runOutput({ reps = 3, secs = 2, rates = RATES, log = console.error, cli = CLI } = {}) {
  buildRate();
  const results = [];
  for (const perSec of rates) {
    const row = { target: perSec, runs: [] };
    for (let i = 0; i < reps; i++) row.runs.push(await once(perSec, secs, cli));
    const lossPct = row.runs.map((x) => ((100 * x.lost) / x.calls).toFixed(1)).join('/');
    const k = (x) => (x / 1000).toFixed(0);
    log(
      `  ${perSec ? `${k(perSec)}k/s` : 'saturation'}: offered ${row.runs.map((x) => k(x.offeredPerSec)).join('/')}k/s, ` +
        `written ${row.runs.map((x) => k(x.writtenPerSec)).join('/')}k/s, lost ${lossPct}%`,
    );
    results.push(row);
  }
  return results;
}

// ---------------------------------------------------------------------------------------------
// Wake-up cost: test/native/fixtures/batch.bpf.c on the same getppid tracepoint, emitting one
// record per call of the rate process with the wake-up flags of each policy, consumed in this
// process through the addon (ringBuffer with a counting onBatch). Per policy and rate: what a
// call costs the producer (rate.c's busy ns per call: syscall + handler + the interrupt work
// of the wake-up on that CPU), the handler's own run time (bpf_stats), the consumer's CPU per
// record and how often it is woken (batches per second).

const WAKE_THRESHOLD = 64 * 1024;
const POLICIES = [
  { name: 'no record (handler returns at once)', mode: 0, off: true },
  { name: 'flags 0 (wake when the consumer had caught up), consumer polls at once', mode: 0 },
  { name: 'flags 0, consumer pauses polling 5 ms after a small wake-up (coalesceMs: tapvm once warm)', mode: 0, coalesceMs: 5 },
  { name: 'BPF_RB_FORCE_WAKEUP (wake on every record)', mode: 2 },
  { name: 'BPF_RB_NO_WAKEUP + 20 ms consumer timer', mode: 1, pollMs: 20 },
  { name: `FORCE on crossing ${WAKE_THRESHOLD / 1024} KiB unread, else NO_WAKEUP + 20 ms timer`, mode: 3, pollMs: 20 },
];
const WAKE_RATES = [50_000, 200_000, 0];

function compileBatchFixture() {
  const triple = { x64: 'x86_64', arm64: 'aarch64' }[os.arch()] ?? os.arch();
  const inc = fs.existsSync(`/usr/include/${triple}-linux-gnu`) ? ['-I', `/usr/include/${triple}-linux-gnu`] : [];
  const out = path.join(os.tmpdir(), `tapvm-bench-batch-${process.pid}.bpf.o`);
  const src = path.join(__dirname, '..', 'test', 'native', 'fixtures', 'batch.bpf.c');
  execFileSync('clang', ['-O2', '-g', '-target', 'bpf', ...inc, '-c', src, '-o', out], { stdio: 'pipe' });
  return out;
}

async function wakeOnce(a, obj, policy, perSec, secs) {
  const key = Buffer.alloc(4);
  a.mapUpdate(obj.maps.counters, key, Buffer.alloc(24), 0);
  let records = 0;
  let batches = 0;
  const reader = a.ringBuffer(obj.maps.events, (b) => {
    batches++;
    let off = 0;
    while (off < b.length) {
      off += 4 + b.readUInt32LE(off);
      records++;
    }
  }, { pollMs: policy.pollMs ?? 0, coalesceMs: policy.coalesceMs ?? 0 });
  reader.consume(); // start from an empty ring
  records = batches = 0;
  const src = await startRate(perSec, secs);
  const cfg = Buffer.alloc(16);
  cfg.writeUInt32LE(policy.off ? 0 : src.pid, 0);
  cfg.writeUInt32LE(policy.mode, 4);
  cfg.writeBigUInt64LE(BigInt(WAKE_THRESHOLD), 8);
  a.mapUpdate(obj.maps.config, key, cfg, 0);
  const prog0 = a.progInfo(obj.progs.on_getppid);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  src.go();
  const done = /done (\d+) (\d+) (\d+)/.exec(await src.exited);
  const prog1 = a.progInfo(obj.progs.on_getppid);
  // what is still unread (below the threshold, waiting for the timer) arrives within pollMs
  const counters = () => {
    const c = a.mapLookup(obj.maps.counters, key, 24);
    return { seq: Number(c.readBigUInt64LE(0)), lost: Number(c.readBigUInt64LE(8)), forced: Number(c.readBigUInt64LE(16)) };
  };
  const deadline = Date.now() + 2000;
  while (records < counters().seq - counters().lost && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  const cpu = process.cpuUsage(cpu0);
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  reader.close();
  a.mapUpdate(obj.maps.config, key, Buffer.alloc(16), 0);
  const c = counters();
  const calls = Number(done[1]);
  const runs = prog1.runCnt - prog0.runCnt;
  return {
    calls,
    offeredPerSec: calls / (Number(done[2]) / 1e9),
    producerNsPerCall: Number(done[3]) / calls,
    handlerNs: runs ? (prog1.runTimeNs - prog0.runTimeNs) / runs : NaN,
    records,
    lost: c.lost,
    unaccounted: policy.off ? 0 : calls - records - c.lost,
    consumerUsPerRecord: records ? (cpu.user + cpu.system) / records : NaN,
    consumerCpu: (cpu.user + cpu.system) / 1e6 / wallS,
    batchesPerSec: batches / wallS,
    recordsPerBatch: batches ? records / batches : 0,
    forced: c.forced,
  };
}

async function runWakeup({ reps = 3, secs = 2, rates = WAKE_RATES, log = console.error } = {}) {
  buildRate();
  const { addon } = require('../dist/native');
  const a = addon();
  const objPath = compileBatchFixture();
  const obj = a.loadObject(objPath, {});
  const stats = a.enableStats();
  const tpId = Number(fs.readFileSync('/sys/kernel/tracing/events/syscalls/sys_enter_getppid/id', 'utf8'));
  const link = a.attachTracepoint(obj.progs.on_getppid, tpId, 0n);
  const results = [];
  try {
    for (const perSec of rates) {
      for (const policy of POLICIES) {
        const row = { policy: policy.name, target: perSec, runs: [] };
        for (let i = 0; i < reps; i++) row.runs.push(await wakeOnce(a, obj, policy, perSec, secs));
        const med = (f) => row.runs.map(f).sort((x, y) => x - y)[row.runs.length >> 1];
        log(
          `  ${perSec ? `${perSec / 1000}k/s` : 'saturation'} ${policy.name}: ${med((x) => x.producerNsPerCall).toFixed(0)} ns/call, ` +
            `handler ${med((x) => x.handlerNs).toFixed(0)} ns, consumer ${med((x) => x.consumerUsPerRecord).toFixed(2)} us/record, ` +
            `${med((x) => x.batchesPerSec).toFixed(0)} wake-ups/s, lost ${med((x) => x.lost)}`,
        );
        results.push(row);
      }
    }
  } finally {
    link.close();
    a.close(stats);
    for (const fd of [...Object.values(obj.progs), ...Object.values(obj.maps)]) a.close(fd);
    fs.rmSync(objPath, { force: true });
  }
  return results;
}

module.exports = { runOutput, runWakeup, RATES, POLICIES, WAKE_THRESHOLD };

if (require.main === module) {
  const quick = process.argv.includes('--quick');
  const opts = { reps: quick ? 1 : 3, secs: quick ? 1 : 2 };
  (async () => ({ output: await runOutput(opts), wakeup: await runWakeup(opts) }))()
    .then((r) => console.log(JSON.stringify(r, null, 2)))
    .catch((e) => {
      console.error(`bench/output: ${e.message}`);
      process.exit(1);
    });
}
