// Front-end throughput: parse + resolve + compile (pass 1-3, the optimizer included) in source
// lines per second, with the `benchmark` package, on generated scripts; and the user-space
// interpreter's instructions per second. Standalone: `node bench/frontend.js` prints JSON.
'use strict';
const Benchmark = require('benchmark');
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

module.exports = { frontEnd, userVm, generate };

if (require.main === module) console.log(JSON.stringify({ frontEnd: frontEnd(), userVm: userVm() }, null, 2));
