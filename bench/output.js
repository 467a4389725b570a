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

async function once(perSec, secs) {
  const file = path.join(os.tmpdir(), `tapvm-bench-output-${process.pid}.txt`);
  fs.rmSync(file, { force: true });
  const src = await startRate(perSec, secs);
  const comm = fs.readFileSync(`/proc/${src.pid}/comm`, 'latin1').trim();
  const stp = `probe syscall.getppid { if (pid() == ${src.pid}) printf("%d %d %s\\n", pid(), tid(), execname()) }`;
  const run = launch(process.execPath, [CLI, '-v', '-o', file, '-e', stp], /probes armed/);
  const armed = await run.ready;
  if (armed === undefined) {
    src.proc.kill('SIGKILL');
    const r = await run.done;
    throw new Error(`tapvm failed: ${r.err.trim().split('\n').slice(-3).join(' | ')}`);
  }
  const cpu0 = cpuSeconds(run.proc.pid);
  const t0 = process.hrtime.bigint();
  src.go();
  const done = /done (\d+) (\d+)/.exec(await src.exited);
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

async function runOutput({ reps = 3, secs = 2, rates = RATES, log = console.error } = {}) {
  buildRate();
  const results = [];
  for (const perSec of rates) {
    const row = { target: perSec, runs: [] };
    for (let i = 0; i < reps; i++) row.runs.push(await once(perSec, secs));
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

module.exports = { runOutput, RATES };

if (require.main === module) {
  const quick = process.argv.includes('--quick');
  runOutput({ reps: quick ? 1 : 3, secs: quick ? 1 : 2 })
    .then((r) => console.log(JSON.stringify(r, null, 2)))
    .catch((e) => {
      console.error(`bench/output: ${e.message}`);
      process.exit(1);
    });
}
