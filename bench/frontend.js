// Front-end throughput: parse + resolve + compile (pass 1-3, the optimizer included) in source
// lines per second, with the `benchmark` package, on generated scripts; parse+resolve of all of
// tapset/ with a 2,000-line script in ms; and the user-space interpreter's instructions per
// second. Standalone: `node bench/frontend.js [--tapset]` prints JSON.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const Benchmark = require('benchmark');
const { DEFAULT_TAPSET_DIR } = require('../dist/parse/tapsets');
const { compileSource } = require('../dist/compile/index');
const { runHandler } = require('../dist/vm/interp');
const { MemoryBackend } = require('../dist/vm/memory-backend');

/** A script of about `lines` lines in the shapes real scripts use: globals, arrays, functions,
 * branches, loops, string operations, printf; user-space probes only (no kernel facts read). */
function generate(lines) {
  const out = ['global total, counts, names, last'];
  let i = 0;
  while (out.length < lines) {
    out.push(
      `function f${i}:long(a:long, b:string) {`,
      `  if (a > ${i} && b != "x${i}") { total += a * ${i % 7 + 1}; return a % ${i % 5 + 2} }`,
      `  else if (a < 0) return -a`,
      `  s = b . "-${i}"; n = 0`,
      `  while (n < 3) { counts[b, n] += a; n++ }`,
      `  names[s] = b; last = s`,
      `  return total / ${i % 9 + 1}`,
      '}',
      `probe timer.ms(${(i % 50) + 100}) {`,
      `  x = f${i}(${i}, "p${i}")`,
      `  printf("%s %d %d\\n", last, x, counts["p${i}", 1])`,
      '}',
    );
    i++;
  }
  return out.join('\n') + '\n';
}

function frontEnd({ log = console.error, maxTime = 3 } = {}) {
  const results = [];
  for (const lines of [100, 500, 1000]) {
    const text = generate(lines);
    const n = text.split('\n').length - 1;
    const img = compileSource(text, 'gen.stp').image;
    const suite = new Benchmark.Suite();
    const runs = {};
    suite.add(`parse ${n} lines`, () => compileSource(text, 'gen.stp', 1), { maxTime });
    suite.add(`parse+resolve ${n} lines`, () => compileSource(text, 'gen.stp', 2), { maxTime });
    suite.add(`parse+resolve+compile ${n} lines`, () => compileSource(text, 'gen.stp', 3), { maxTime });
    suite.on('cycle', (e) => {
      const b = e.target;
      const per = b.stats.sample.map((s) => n / s).sort((x, y) => x - y);
      runs[b.name.split(' ')[0]] = { linesPerSec: per, hz: b.hz, rme: b.stats.rme };
      log(`  ${b.name}: ${(n * b.hz).toFixed(0)} lines/s (±${b.stats.rme.toFixed(1)}%)`);
    });
    suite.run();
    results.push({ lines: n, instructions: img.code.length, runs });
  }
  return results;
}

/**
 * The issue's front-end budget: parse + resolve (pass 2) of every tapset/ file together with a
 * 2,000-line script, in one compilation: the files' text is joined after the script, so every
 * alias and function is parsed and type-checked (with a script that only uses some, stap's
 * lazy linking parses fewer). Wall ms per compilation, `reps` times after one warm-up.
 */
function tapsetPlusScript({ reps = 15, log = console.error } = {}) {
  const dir = DEFAULT_TAPSET_DIR;
  const files = fs.readdirSync(dir).filter((n) => n.endsWith('.stp')).sort();
  const tapsetText = files.map((n) => fs.readFileSync(path.join(dir, n), 'latin1')).join('\n');
  const script = generate(2000);
  const text = script + tapsetText;
  const lines = text.split('\n').length - 1;
  const compile = () => {
    const r = compileSource(text, 'gen.stp', 2);
    if (!r.resolved) throw new Error('tapset + script did not resolve');
  };
  compile();
  const ms = [];
  // CPU time too: on a shared machine the wall time mostly measures the other processes
  const cpuMs = [];
  for (let k = 0; k < reps; k++) {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    compile();
    const c = process.cpuUsage(c0);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    cpuMs.push((c.user + c.system) / 1e3);
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  log(
    `  parse+resolve of tapset/ (${files.length} files) + a ${script.split('\n').length - 1}-line script (${lines} lines): ` +
      `${median(ms).toFixed(1)} ms wall, ${median(cpuMs).toFixed(1)} ms CPU (medians; load average ${os.loadavg()[0].toFixed(1)})`,
  );
  return { files: files.length, lines, ms, cpuMs, load: os.loadavg()[0] };
}

/** User-space interpreter: a begin probe's loop, instructions (steps) per second. */
function userVm({ reps = 5, log = console.error } = {}) {
  const img = compileSource('global s\nprobe begin { i = 0; while (i < 300000) { s += i * 3; if (i % 7 == 0) s -= 1; i++ } }', 'vm.stp').image;
  const p = img.probes[0];
  const ctx = { pid: 1n, tid: 1n, ppid: 0n, uid: 0n, gid: 0n, cpu: 0n, execname: 'bench' };
  const out = [];
  for (let k = 0; k < reps; k++) {
    const be = new MemoryBackend(img);
    const t0 = process.hrtime.bigint();
    const r = runHandler(img, p.pc, p.index, be, ctx, { maxAction: 1 << 23 });
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    out.push({ steps: r.steps, perSec: r.steps / s });
  }
  log(`  user-space VM: ${out.map((x) => (x.perSec / 1e6).toFixed(1)).join('/')} M instructions/s`);
  return out;
}

module.exports = { frontEnd, userVm, generate, tapsetPlusScript };

if (require.main === module) {
  // `node bench/frontend.js --tapset`: only the tapset/ + 2,000-line figure
  if (process.argv.includes('--tapset')) console.log(JSON.stringify({ tapsetPlusScript: tapsetPlusScript() }, null, 2));
  else console.log(JSON.stringify({ frontEnd: frontEnd(), tapsetPlusScript: tapsetPlusScript(), userVm: userVm() }, null, 2));
}
