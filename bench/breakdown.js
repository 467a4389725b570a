// Where a warm start's wall time goes: `node -e 0` (Node's floor), Node's bootstrap, loading
// tapvm's modules, passes 1-4, attaching, the first event. tapvm runs with
// bench/fixtures/stamp.js preloaded, which timestamps each line it prints (ms since the
// process started). Standalone: `node bench/breakdown.js` prints JSON.
'use strict';
const { execFileSync, spawnSync } = require('child_process');
const path = require('path');
const { CLI, startTrigger, summary } = require('./lib');

const STAMP = path.join(__dirname, 'fixtures', 'stamp.js');
const LINES = {
  'kernel.trace': 'probe kernel.trace("syscalls:sys_enter_getppid") { printf("x\\n"); exit() }',
  'syscall.getppid': 'probe syscall.getppid { printf("x\\n"); exit() }',
  begin: 'probe begin { printf("x\\n"); exit() }',
};

function nodeFloor(reps) {
  const out = [];
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    execFileSync(process.execPath, ['-e', '0']);
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return out;
}

function once(stp) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['-r', STAMP, CLI, '-v', '-e', stp], { encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  const text = r.stdout + r.stderr;
  const at = (re) => {
    const m = new RegExp(`@([\\d.]+) ${re}`, 'm').exec(text);
    return m ? Number(m[1]) : NaN;
  };
  const boot = at('preload'); // when the preload ran: Node's start-up before tapvm's modules
  const p1 = at('Pass 1');
  const p4 = at('Pass 4');
  const armed = at('(?:Pass 5: .*probes armed|Pass 5: attached)');
  const first = at('x$');
  return {
    wall,
    nodeBootstrap: boot,
    modulesAndPass1: p1 - boot,
    pass2: at('Pass 2') - p1,
    pass3: at('Pass 3') - at('Pass 2'),
    pass4: p4 - at('Pass 3'),
    attach: armed - p4,
    firstEvent: first - armed,
    exit: wall - first,
  };
}

async function runBreakdown({ reps = 7, log = console.error } = {}) {
  const t = await startTrigger('getppid', '-1');
  t.go();
  const rows = [];
  try {
    const floor = nodeFloor(reps);
    log(`  node -e 0: ${summary(floor).median.toFixed(0)} ms`);
    for (const [name, stp] of Object.entries(LINES)) {
      once(stp); // warm: pins exist, page cache hot
      const runs = [];
      for (let i = 0; i < reps; i++) runs.push(once(stp));
      rows.push({ name, runs });
      log(`  ${name}: wall ${summary(runs.map((x) => x.wall)).median.toFixed(0)} ms`);
    }
    return { nodeFloorMs: floor, rows };
  } finally {
    t.proc.kill('SIGKILL');
  }
}

module.exports = { runBreakdown };

if (require.main === module) runBreakdown({ reps: 5 }).then((r) => console.log(JSON.stringify(r, null, 2)));
