// Paired A/B of interpreter objects: each object runs in its own copy of the package (so its own
// pins, programs and maps), all sessions attached at once to the same event, so every variant
// sees the same machine state; per trigger run, each session's ns per firing from the bpf_stats
// of its own programs. On the loaded shared machine the run-to-run noise of bench/handlers.js is
// ~5-20%; the paired differences here are stable to ~1 ns (docs/ARCHITECTURE.md, Performance).
//
//   node bench/paired.js [--script=STP] [--reps=N] [--events=N] [--rots=N] A.bpf.o B.bpf.o ...
//
// The first object is the reference; the attach order is rotated --rots times. Every object gets a
// cold load (its own hash) the first time; its pins stay until a later cold start prunes them.
// The script is compiled by this checkout: every object must know the opcodes it emits (an
// older object runs a newer superinstruction as a bad opcode).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { ROOT, buildTrigger, startTrigger, launch, progStats, linkedProgs, summary } = require('./lib');

/** A runnable copy of the package whose interpreter object is `obj`. */
function packageWith(obj, i) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tapvm-paired-${i}-`));
  for (const d of ['bin', 'dist', 'vm', 'tapset', 'package.json']) fs.cpSync(path.join(ROOT, d), path.join(dir, d), { recursive: true });
  fs.cpSync(path.join(ROOT, 'native', 'build'), path.join(dir, 'native', 'build'), { recursive: true });
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  fs.copyFileSync(obj, path.join(dir, 'vm', 'tapvm.bpf.o'));
  return dir;
}

function statsOf(ids) {
  let t = 0;
  let c = 0;
  for (const p of progStats()) {
    if (!ids.has(p.id)) continue;
    t += p.runTimeNs;
    c += p.runCnt;
  }
  return { t, c };
}

async function paired({ objects, script, reps, events, rots }) {
  const dirs = objects.map(packageWith);
  const ns = objects.map(() => []);
  const statsFile = '/proc/sys/kernel/bpf_stats_enabled';
  const old = fs.readFileSync(statsFile, 'utf8').trim();
  fs.writeFileSync(statsFile, '1');
  try {
    for (let rot = 0; rot < rots; rot++) {
      const k0 = Math.floor((rot * objects.length) / rots);
      const order = objects.map((_, i) => (i + k0) % objects.length);
      const runs = [];
      try {
        for (const i of order) {
          const r = launch(process.execPath, [path.join(dirs[i], 'bin', 'tapvm'), '-v', '-o', '/dev/null', '-e', script], /probes armed/);
          runs.push({ i, r });
          if ((await r.ready) === undefined) throw new Error(`${objects[i]}: ${(await r.done).err.trim()}`);
        }
        for (const x of runs) x.ids = linkedProgs(x.r.proc.pid).progIds;
        for (let k = 0; k < reps; k++) {
          const before = runs.map((x) => statsOf(x.ids));
          const t = await startTrigger('getppid', String(events));
          t.go();
          await t.exited;
          runs.forEach((x, j) => {
            const s = statsOf(x.ids);
            ns[x.i].push((s.t - before[j].t) / (s.c - before[j].c));
          });
        }
      } finally {
        for (const x of runs) await x.r.stop('SIGTERM');
      }
    }
  } finally {
    fs.writeFileSync(statsFile, old);
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  }
  return objects.map((o, i) => ({
    object: o,
    nsPerFiring: summary(ns[i]),
    pairedDiff: summary(ns[i].map((x, k) => x - ns[0][k])),
    runs: ns[i],
  }));
}

module.exports = { paired };

if (require.main === module) {
  const argv = process.argv.slice(2);
  const opt = (k, d) => argv.find((a) => a.startsWith(`--${k}=`))?.slice(k.length + 3) ?? d;
  const objects = argv.filter((a) => !a.startsWith('--'));
  if (objects.length < 2) {
    console.error('usage: node bench/paired.js [--script=STP] [--reps=N] [--events=N] [--rots=N] A.bpf.o B.bpf.o ...');
    process.exit(2);
  }
  buildTrigger();
  paired({ objects, script: opt('script', 'probe syscall.getppid { }'), reps: Number(opt('reps', 4)), events: Number(opt('events', 1_000_000)), rots: Number(opt('rots', 2)) })
    .then((rows) => {
      for (const r of rows)
        console.log(`${r.object}\tmedian ${r.nsPerFiring.median.toFixed(1)} ns\tpaired diff ${r.pairedDiff.median.toFixed(1)} ns\t${r.runs.map((x) => x.toFixed(0)).join('/')}`);
    })
    .catch((e) => {
      console.error(e.message);
      process.exit(1);
    });
}
