// -v: one line per pass in stap's layout ("Pass 1: parsed user script ... in Xusr/Ysys/Zreal ms.").
import type { Compiled } from '../compile';
import type { Interpreter } from '../runtime/interpreter';

export class PassTimer {
  private real = process.hrtime.bigint();
  private cpu = process.cpuUsage();

  constructor(private log?: (line: string) => void) {}

  /** The figures since the last restart(); they stop before the memory figure is read. */
  private lap(): string {
    const now = process.hrtime.bigint();
    const cpu = process.cpuUsage(this.cpu);
    // rss alone: memoryUsage() also gathers V8's heap statistics, which the line does not show
    return `using ${Math.round(process.memoryUsage.rss() / 1024)}res kb, in ${Math.round(cpu.user / 1000)}usr/${Math.round(cpu.system / 1000)}sys/${Math.round(Number(now - this.real) / 1e6)}real ms.`;
  }

  /**
   * The next pass starts now: after its predecessor's line was written, so writing it (the first
   * write makes process.stderr, ~1-5 ms in a warm worker) and the memory figure are not charged
   * to the next pass, as stap's pass times are the passes' own.
   */
  private restart() {
    this.real = process.hrtime.bigint();
    this.cpu = process.cpuUsage();
  }

  private report(line: string) {
    this.log!(line);
    this.restart();
  }

  passDone(pass: number, c: Partial<Compiled> | undefined) {
    if (!this.log) return;
    if (pass === 1) this.report(`Pass 1: parsed user script and 0 library scripts ${this.lap()}`);
    else if (pass === 2) {
      const r = c?.resolved;
      this.report(`Pass 2: analyzed script: ${r?.probes.length ?? 0} probe(s), ${r?.functions.size ?? 0} function(s), 0 embeds, ${r?.globals.size ?? 0} global(s) ${this.lap()}`);
    } else if (pass === 3) {
      const img = c?.image;
      this.report(`Pass 3: translated to bytecode: ${img?.code.length ?? 0} instructions, ${img?.formats.length ?? 0} formats ${this.lap()}`);
    }
  }

  interpreter(vm: Interpreter) {
    if (!this.log) return;
    if (vm.loaded) {
      const stubs = Object.keys(vm.verifiedInsns).filter((p) => p.startsWith('tapvm_tp_stub'));
      const main = Object.entries(vm.verifiedInsns).filter(([p]) => !stubs.includes(p));
      const insns = main.map(([p, n]) => `${p} ${n}`).join(', ') + `, ${stubs.length} tracepoint stubs ${vm.verifiedInsns[stubs[0]] ?? 0} each`;
      this.report(`Pass 4: loaded and verified the interpreter (cold start: ${vm.loadMs.toFixed(1)}ms in the verifier; processed insns: ${insns}), pinned at ${vm.pinDir} ${this.lap()}`);
    } else this.report(`Pass 4: reused the pinned interpreter at ${vm.pinDir} (warm start: no program loaded or verified) ${this.lap()}`);
  }

  startRun() {
    this.log?.('Pass 5: starting run.');
    this.restart();
  }

  runDone() {
    this.log?.(`Pass 5: run completed ${this.lap()}`);
  }
}
