// Handler cost in the kernel: ns per event from kernel.bpf_stats_enabled (run_time_ns / run_cnt)
// for tapvm's interpreter and bpftrace's compiled program, on the same getppid tracepoint, in
// the same run; plus the cost per syscall the trigger process sees, and each tracer's peak RSS.
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const { ROOT, CLI, startTrigger, launch, peakRss, progStats, linkedProgs, foreignLinks, sleep, have } = require('./lib');

const TP = 'tracepoint:syscalls:sys_enter_getppid';
/** the uprobe case's target: test/kernel/fixtures/uprobe-target.c, calling tapvm_target N times */
const UPROBE_SRC = path.join(ROOT, 'test', 'kernel', 'fixtures', 'uprobe-target.c');
const UPROBE_BIN = '/tmp/tapvm-bench-uprobe-target';

const HANDLERS = [
  { name: 'empty handler', stp: 'probe syscall.getppid { }', bt: `${TP} { }` },
  { name: 'n++', stp: 'global n; probe syscall.getppid { n++ }', bt: `${TP} { @n++ }` },
  { name: 'c[execname()]++', stp: 'global c; probe syscall.getppid { c[execname()]++ }', bt: `${TP} { @c[comm]++ }` },
  {
    // statistics keyed like issue 7's `c[pid(), execname()] <<< $count`: a syscall with a
    // numeric argument (openat's flags), driven by the trigger's openat loop
    name: 'c[pid(), execname()] <<< $flags',
    stp: 'global c; probe syscall.openat { c[pid(), execname()] <<< $flags }',
    bt: 'tracepoint:syscalls:sys_enter_openat { @c[pid, comm] = stats(args->flags) }',
    open: true,
  },
  {
    name: 'printf 2 ints + string',
    stp: 'probe syscall.getppid { printf("%d %d %s\\n", pid(), tid(), execname()) }',
    bt: `${TP} { printf("%d %d %s\\n", pid, tid, comm) }`,
    events: 200_000,
  },
  {
    name: '20 statements, branches, string compares',
    stp: `global a, b, s
probe syscall.getppid {
  x = pid(); y = tid(); z = x + y
  if (z > 10) a++ else b++
  n = execname()
  if (n == "tapvm-bench-tr") s++
  if (n != "bash") a += 2
  w = z * 3 - x / 7
  if (w % 2 == 0) b += w & 255 else b -= 1
  i = 0
  while (i < 3) { a += i; i++ }
  if (x == y && y > 0) a++
  if (n < "m") s += 2 else s -= 1
  t = w ^ z; u = t << 2; v = u >> 1
  b += v & 7
}`,
    bt: `${TP} {
  $x = pid; $y = tid; $z = $x + $y;
  if ($z > 10) { @a++ } else { @b++ }
  $n = comm;
  if ($n == "tapvm-bench-tr") { @s++ }
  if ($n != "bash") { @a += 2 }
  $w = $z * 3 - $x / 7;
  if ($w % 2 == 0) { @b += $w & 255 } else { @b -= 1 }
  $i = 0;
  while ($i < 3) { @a += $i; $i++ }
  if ($x == $y && $y > 0) { @a++ }
  if ($n == "m") { @s += 2 } else { @s -= 1 }
  $t = $w ^ $z; $u = $t << 2; $v = $u >> 1;
  @b += $v & 7;
}`,
  },
  {
    // latency: entry/return pair; ns per event averages the entry and the return handler. The
    // end probe's @hist_log makes each `<<<` count its log bucket, as bpftrace's hist() does
    name: '@hist_log of a latency (entry/return)',
    stp: `global s, h
probe syscall.getppid { s[tid()] = gettimeofday_ns() }
probe syscall.getppid.return { h <<< gettimeofday_ns() - s[tid()] }
probe end { print(@hist_log(h)) }`,
    bt: `${TP} { @s[tid] = nsecs } tracepoint:syscalls:sys_exit_getppid { @h = hist(nsecs - @s[tid]) }`,
  },
  {
    // vm/iter.h: ITBEGIN's bpf_for_each_map_elem snapshot of 100 keys, ITSORT's merge sort
    // (by the value), 100 ITNEXTs and AGETs; bpftrace 0.17 has no loop over a map
    name: 'foreach over 100 elements, sorted by value',
    stp: `global a
probe begin { for (i = 0; i < 100; i++) a[i] = i * 7 % 100 }
probe syscall.getppid { t = 0; foreach (k in a-) t += a[k] }`,
    events: 20_000,
  },
  {
    name: 'foreach over 100 elements, unsorted',
    stp: `global a
probe begin { for (i = 0; i < 100; i++) a[i] = i }
probe syscall.getppid { t = 0; foreach (k in a) t += a[k] }`,
    events: 20_000,
  },
  {
    // src/resolve/hist-sprint.ts: the generated function reads 128 log buckets (STHIST each),
    // then rows until the 127-byte string is full; bpftrace has no histogram as a string
    name: 'sprint(@hist_log(h)) of 100 values',
    stp: `global h
probe begin { for (i = 0; i < 100; i++) h <<< i * i }
probe syscall.getppid { s = sprint(@hist_log(h)) }`,
    events: 20_000,
  },
  {
    // vm/iter.h: ITSLICE's snapshot matches each key (iter_match), 10 of 100 kept
    name: 'foreach over a slice: 10 of 100 elements',
    stp: `global a
probe begin { for (i = 0; i < 100; i++) a[i % 10, i] = i }
probe syscall.getppid { t = 0; foreach ([k, j] in a[3, *]) t += a[k, j] }`,
    events: 20_000,
  },
  {
    // ASLIN walks the map until the first match (here: none, every bucket)
    name: 'slice membership [k, *] in a, no match among 100 elements',
    stp: `global a
probe begin { for (i = 0; i < 100; i++) a[i % 10, i] = i }
probe syscall.getppid { t = [42, *] in a }`,
    events: 20_000,
  },
  {
    name: 'empty uprobe handler',
    uprobe: true,
    stp: `probe process("${UPROBE_BIN}").function("tapvm_target") { }`,
    bt: `uprobe:${UPROBE_BIN}:tapvm_target { }`,
    events: 200_000,
  },
];

/** Polls cond every 20 ms; resolves 0 when it holds, undefined when `ended` settles first. */
async function waitFor(cond, ended) {
  let over = false;
  ended.then(() => (over = true));
  while (!over) {
    if (cond()) return 0;
    await sleep(20);
  }
  return undefined;
}

function statsFor(filter) {
  let runTimeNs = 0;
  let runCnt = 0;
  for (const p of progStats().filter(filter)) {
    runTimeNs += p.runTimeNs;
    runCnt += p.runCnt;
  }
  return { runTimeNs, runCnt };
}

/** Runs the uprobe fixture for `events` calls of tapvm_target; returns its wall time per call in ns. */
function driveUprobe(events) {
  const t0 = process.hrtime.bigint();
  execFileSync(UPROBE_BIN, [String(events)]);
  return Number(process.hrtime.bigint() - t0) / events;
}

/** Runs the trigger for `events` getppid (or openat of /dev/null) calls; returns its wall time per call in ns. */
async function drive(events, open = false) {
  const t = open ? await startTrigger('open', '/dev/null', String(events)) : await startTrigger('getppid', String(events));
  const t0 = process.hrtime.bigint();
  t.go();
  await t.exited;
  return Number(process.hrtime.bigint() - t0) / events;
}

async function measure(tracer, h, events) {
  let run;
  let filter;
  if (h.uprobe && (!fs.existsSync(UPROBE_BIN) || fs.statSync(UPROBE_BIN).mtimeMs < fs.statSync(UPROBE_SRC).mtimeMs))
    execFileSync('gcc', ['-O2', '-o', UPROBE_BIN, UPROBE_SRC]);
  if (tracer === 'tapvm') {
    run = launch(process.execPath, [CLI, '-v', '-o', '/dev/null', '-e', h.stp], /probes armed/);
  } else {
    // with -o, bpftrace's "Attaching N probes" goes to the file: wait for its program instead
    // bpftool here cannot name a program's owner pid: bpftrace's programs are the new ones
    const existing = new Set(progStats().map((p) => p.id));
    run = launch('bpftrace', ['-o', '/dev/null', '-e', h.bt], /^$/);
    filter = (p) => !existing.has(p.id) && p.type === (h.uprobe ? 'kprobe' : 'tracepoint');
    run.ready = waitFor(() => progStats().some(filter), run.done);
  }
  const armed = await run.ready;
  if (armed === undefined) {
    const r = await run.done;
    throw new Error(`${tracer} failed for '${h.name}': ${r.err.trim().split('\n').slice(-3).join(' | ')}`);
  }
  if (tracer === 'bpftrace') await sleep(300); // bpftrace prints "Attaching" before the link exists
  let own;
  if (tracer === 'tapvm') {
    // only the programs behind this session's links (a stub or the interpreter itself): the
    // pinned programs are shared with every other tapvm session on the host
    own = linkedProgs(run.proc.pid);
    filter = (p) => own.progIds.has(p.id);
  }
  // another session's link on one of these programs during the run would add its firings
  let shared = own ? foreignLinks(own.progIds, own.linkIds) : 0;
  const before = statsFor(filter);
  const nsPerCall = h.uprobe ? driveUprobe(events) : await drive(events, h.open === true);
  const after = statsFor(filter);
  if (own) shared = Math.max(shared, foreignLinks(own.progIds, own.linkIds));
  const rss = peakRss(run.proc.pid);
  const r = await run.stop(tracer === 'tapvm' ? 'SIGTERM' : 'SIGINT');
  const cnt = after.runCnt - before.runCnt;
  return {
    nsPerEvent: cnt ? (after.runTimeNs - before.runTimeNs) / cnt : NaN,
    events: cnt,
    nsPerSyscall: nsPerCall,
    peakRssKb: rss,
    ...(shared ? { sharedLinks: shared } : {}),
    lost: /(\d+) output record\(s\) lost/.exec(r.err)?.[1],
  };
}

async function runHandlers({ reps = 3, events = 1_000_000, log = console.error, only, bpftrace = true } = {}) {
  const results = [];
  const statsFile = '/proc/sys/kernel/bpf_stats_enabled';
  const old = fs.readFileSync(statsFile, 'utf8').trim();
  fs.writeFileSync(statsFile, '1');
  try {
    const baseline = [];
    for (let i = 0; i < reps; i++) baseline.push(await drive(events));
    results.push({ name: 'no probe (trigger baseline)', baselineNsPerSyscall: baseline });
    for (const h of HANDLERS) {
      if (only && !only.some((w) => h.name.includes(w))) continue;
      const row = { name: h.name, tapvm: [], bpftrace: [] };
      for (let i = 0; i < reps; i++) {
        row.tapvm.push(await measure('tapvm', h, h.events ?? events));
        if (bpftrace && have('bpftrace') && h.bt) row.bpftrace.push(await measure('bpftrace', h, h.events ?? events));
      }
      log(`  ${h.name}: tapvm ${row.tapvm.map((x) => x.nsPerEvent.toFixed(0)).join('/')} ns, bpftrace ${row.bpftrace.map((x) => x.nsPerEvent.toFixed(0)).join('/')} ns`);
      const shared = row.tapvm.filter((x) => x.sharedLinks).length;
      if (shared) log(`  warning: in ${shared} run(s) another session had links on the same tapvm programs: those figures include its firings`);
      results.push(row);
    }
  } finally {
    fs.writeFileSync(statsFile, old);
  }
  return results;
}

module.exports = { runHandlers, HANDLERS, measure };

// `node bench/handlers.js [NAME-PART...] [--reps=N] [--events=N] [--no-bpftrace]`: some rows
// only, printed, nothing written (bench/run.js --only=handlers writes the results).
if (require.main === module) {
  const argv = process.argv.slice(2);
  const opt = (k, d) => Number(argv.find((a) => a.startsWith(`--${k}=`))?.slice(k.length + 3) ?? d);
  const only = argv.filter((a) => !a.startsWith('--'));
  require('./lib').buildTrigger();
  runHandlers({ reps: opt('reps', 3), events: opt('events', 1_000_000), only: only.length ? only : undefined, bpftrace: !argv.includes('--no-bpftrace') })
    .then((rows) => {
      for (const r of rows.filter((x) => x.tapvm)) {
        const med = (v) => v.map((x) => x.nsPerEvent).sort((a, b) => a - b)[v.length >> 1];
        const bt = r.bpftrace.length ? med(r.bpftrace) : NaN;
        console.log(`${r.name}\ttapvm ${med(r.tapvm).toFixed(0)}\tbpftrace ${bt.toFixed(0)}\tratio ${(med(r.tapvm) / bt).toFixed(2)}`);
      }
    })
    .catch((e) => {
      console.error(e.message);
      process.exit(1);
    });
}
