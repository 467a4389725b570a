// MAXSKIPPED end to end: firings the kernel itself refuses (a BPF program already running on
// the CPU: bpf_prog_active, counted in the refused program's recursion_misses) are skipped
// probes too. A fixture perf_event program calls bpf_trace_printk on every cpu-clock tick; its
// tracepoint fires inside that program, so the kernel never runs tapvm's probe on
// bpf_trace:bpf_trace_printk and counts a miss on tapvm's stub instead.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { kernelTestsPossible, runTapvm, startTrigger, buildTrigger, stripPasses, type Trigger } from './helpers';
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
  // (The runs keep their -v lines: runTapvm's default strips them.)
  const tapvm = (args: string[]) => runTapvm(['-v', ...args], { verbose: false }).done;
  const SHARED = /^Pass 5: (\d+) firing\(s\) refused by the kernel .* while other tapvm sessions ran; not counted as this script's skipped probes$/m;
  const shared = (stderr: string) => Number(SHARED.exec(stderr)?.[1] ?? 0);

  it('counts them in the closing line (or, while other sessions ran, in -v): the probe never ran', async () => {
    const r = await tapvm(['-D', 'MAXSKIPPED=100000000', '-T', '1', '-e', SCRIPT]);
    expect(r.stdout).toBe('ran 0\n');
    const m = /^WARNING: Number of errors: 0, skipped probes: (\d+)\n$/m.exec(stripPasses(r.stderr));
    const own = m ? Number(m[1]) : 0;
    if (!m) expect(r.stderr).not.toMatch(/WARNING: Number of errors/);
    // ~1000 ticks a second on the busy CPU
    expect(own + shared(r.stderr), r.stderr).toBeGreaterThan(100);
    expect(r.code).toBe(0);
  }, 30_000);

  it('a session does not count the misses of another one that ran and ended meanwhile', async () => {
    // the other session's probe is refused on tapvm_tp, which this one's getppid probe runs too:
    // the misses grow while it runs and this one's last look comes after it ended
    const t = await startTrigger('getppid', '50');
    const mine = runTapvm(
      ['-v', '-e', `global n probe syscall.getppid { if (pid() == ${t.pid}) n++ } probe kernel.trace("sched:sched_process_exit") { if (pid() == ${t.pid}) exit() } probe end { printf("n %d\\n", n) }`],
      { verbose: false },
    );
    await mine.armed;
    const other = await tapvm(['-D', 'MAXSKIPPED=100000000', '-T', '1', '-e', SCRIPT]);
    expect(other.stdout).toBe('ran 0\n');
    t.go();
    await t.exited;
    const r = await mine.done;
    expect(r.stdout).toBe('n 50\n');
    expect(stripPasses(r.stderr)).toBe('');
    expect(r.code).toBe(0);
  }, 30_000);

  it('a session holding a slot when this one claims its own makes the misses until the first look shared, even in a later slot and ended by then', async () => {
    // The first look at the other sessions is taken in the claim's own scan of the slots
    // (src/runtime/generation.ts claim): that scan goes on past the free slot it takes. Two
    // holders take two slots, the first ends, this session takes the freed (lower) slot while
    // the second still holds a later one, and the second ends before this one's first look.
    const hold = () => {
      const r = runTapvm(['-T', '30', '-e', 'probe begin { }']);
      let err = '';
      r.proc.stderr!.on('data', (b) => (err += b));
      return { ...r, slot: async () => (await r.armed, Number(/in slot (\d+)/.exec(err)![1])) };
    };
    const a = hold();
    await a.slot();
    const b = hold();
    const later = await b.slot();
    a.proc.kill('SIGTERM');
    expect((await a.done).code).toBe(0);
    let err = '';
    const mine = runTapvm(['-v', '-D', 'MAXSKIPPED=100000000', '-T', '2', '-e', SCRIPT], { verbose: false });
    mine.proc.stderr!.on('data', (d) => (err += d));
    await mine.armed;
    const slot = Number(/in slot (\d+)/.exec(err)![1]);
    b.proc.kill('SIGTERM');
    expect((await b.done).code).toBe(0);
    const r = await mine.done;
    expect(r.stdout).toBe('ran 0\n');
    expect(r.code).toBe(0);
    // the claim saw the second holder (at a later slot, unless a session of another file took
    // the freed one first): the first second's misses (~1000) are nobody's for sure
    expect(slot < later ? shared(r.stderr) : 1, r.stderr).toBeGreaterThan(0);
  }, 30_000);

  it('past MAXSKIPPED the session ends in error, long before -T: error probes run, end probes do not', async () => {
    const r = await tapvm(['-D', 'MAXSKIPPED=5', '-T', '10', '-e', SCRIPT + ' probe error { printf("error probe\\n") }']);
    if (r.stdout === 'error probe\n') {
      // the error probe ran and the end probe did not: the session ended on MAXSKIPPED (at -T
      // it would have printed "ran 0")
      expect(stripPasses(r.stderr)).toMatch(/^ERROR: Skipped too many probes, check MAXSKIPPED or try again with stap -t for more details\.\nWARNING: Number of errors: 0, skipped probes: \d+\n/m);
      expect(r.code).toBe(1);
    } else {
      // every look found another session running: nothing was this script's, all was reported
      expect(r.stdout).toBe('ran 0\n');
      expect(shared(r.stderr), r.stderr).toBeGreaterThan(5);
      expect(r.code).toBe(0);
    }
  }, 30_000);
});
