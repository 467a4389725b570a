// MAXSKIPPED end to end: firings the kernel itself refuses (a BPF program already running on
// the CPU: bpf_prog_active, counted in the refused program's recursion_misses) are skipped
// probes too. A fixture perf_event program calls bpf_trace_printk on every cpu-clock tick; its
// tracepoint fires inside that program, so the kernel never runs tapvm's probe on
// bpf_trace:bpf_trace_printk and counts a miss on tapvm's stub instead.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { kernelTestsPossible, runTapvm, startTrigger, buildTrigger, type Trigger } from './helpers';
import { compileFixture } from '../native/helpers';
import { addon, type Link } from '../../src/native';

const can = kernelTestsPossible();
if (!can.ok && process.env.CI) throw new Error(`kernel tests cannot run in CI: ${can.why}`);
const d = can.ok ? describe : describe.skip;

const PERF_TYPE_SOFTWARE = 1;
const PERF_COUNT_SW_CPU_CLOCK = 0;
const SCRIPT = 'global n probe kernel.trace("bpf_trace:bpf_trace_printk") { n++ } probe end { printf("ran %d\\n", n) }';

d('skipped probes: the kernel refuses nested BPF runs (recursion_misses)', () => {
  let link: Link | undefined;
  let busy: Trigger | undefined;

  beforeAll(async () => {
    buildTrigger();
    const obj = addon().loadObject(compileFixture('nested'), {});
    link = addon().attachPerfEvent(obj.progs.printk_on_tick, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK, 1000, true, 0n);
    // an idle CPU does not tick (NOHZ): keep one busy
    busy = await startTrigger('getppid', '-1');
  }, 30_000);

  afterAll(() => {
    busy?.proc.kill('SIGKILL');
    link?.close();
  });

  // A miss does not say whose firing the kernel refused, and the programs are shared by every
  // session, so misses seen while another process's session ran (other test files, here) are
  // not this script's skipped probes; -v reports them. Either way every miss is accounted for.
  const SHARED = /^Pass 5: (\d+) firing\(s\) refused by the kernel .* while other tapvm sessions ran; not counted as this script's skipped probes$/m;
  const shared = (stderr: string) => Number(SHARED.exec(stderr)?.[1] ?? 0);

  it('counts them in the closing line (or, while other sessions ran, in -v): the probe never ran', async () => {
    const r = await runTapvm(['-v', '-D', 'MAXSKIPPED=100000000', '-T', '1', '-e', SCRIPT]).done;
    expect(r.stdout).toBe('ran 0\n');
    const m = /^WARNING: Number of errors: 0, skipped probes: (\d+)\n$/m.exec(r.stderr);
    const own = m ? Number(m[1]) : 0;
    if (!m) expect(r.stderr).not.toMatch(/WARNING: Number of errors/);
    // ~1000 ticks a second on the busy CPU
    expect(own + shared(r.stderr), r.stderr).toBeGreaterThan(100);
    expect(r.code).toBe(0);
  }, 30_000);

  it('past MAXSKIPPED the session ends in error, long before -T: error probes run, end probes do not', async () => {
    const t0 = Date.now();
    const r = await runTapvm(['-v', '-D', 'MAXSKIPPED=5', '-T', '10', '-e', SCRIPT + ' probe error { printf("error probe\\n") }']).done;
    if (r.stdout === 'error probe\n') {
      expect(r.stderr).toMatch(/^ERROR: Skipped too many probes, check MAXSKIPPED or try again with stap -t for more details\.\nWARNING: Number of errors: 0, skipped probes: \d+\n/m);
      expect(r.code).toBe(1);
      // the misses are looked at once a second
      expect(Date.now() - t0).toBeLessThan(8000);
    } else {
      // every look found another session running: nothing was this script's, all was reported
      expect(r.stdout).toBe('ran 0\n');
      expect(shared(r.stderr), r.stderr).toBeGreaterThan(5);
      expect(r.code).toBe(0);
    }
  }, 30_000);
});
