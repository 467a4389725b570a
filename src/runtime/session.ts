// One running session: a generation (src/runtime/generation.ts) claims a slot in the pinned
// interpreter, writes code and maps, arms the probes, runs begin/timer/end in the user-space
// interpreter and formats kernel records; the session owns the process-level parts: signals,
// -c/-x/-T, the control socket (swap, attach, stop) and the stop sequence. A hot swap runs a
// second generation in a second slot and retires the first (swap()).
import type { ChildProcess } from 'child_process';
import { Writable } from 'stream';
import type { ProgramImage } from '../image/image';
import { ERR } from '../isa/opcodes';
import { backtraceText } from '../kernel/kallsyms';
import { ubacktraceText } from '../kernel/usyms';
import type { VmEvent } from '../vm/backend';
import { openInterpreter, type Interpreter } from './interpreter';
import { imageMaxStr, slotSize } from '../isa/strlen';
import type { Counters } from './layout';
import { errorMessage } from './output';
import { histogramText } from './display';
import { Generation } from './generation';
import { ControlServer, type OutputTap } from './control';

export { procStart, realtimeOffset, slotKeyOf } from './generation';

export interface SessionOptions {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  maxAction: number;
  maxErrors: number;
  /** -D MAXSKIPPED: more skipped kernel firings end the session in error (stap's default 100) */
  maxSkipped?: number;
  /** -v: called with each phase's description */
  verbose?: (msg: string) => void;
  ringBytes?: number;
  /** print the globals written and never read at exit (stap's default) */
  globalDisplay?: boolean;
  /** -c: a command started stopped (runtime/target.ts): continued once armed; its exit ends the session */
  command?: ChildProcess;
  /** -x: target() without a command */
  targetPid?: number;
  /** -T: end the session after this many ms */
  timeoutMs?: number;
  /** listen on /run/tapvm/ID.sock for swap/attach/stop (default true) */
  control?: boolean;
  /** the flight recorder's buffer, for `tapvm attach` */
  tap?: OutputTap;
  /** called once the probes are live and the control socket listens */
  onReady?: (id: string) => void;
  /**
   * The process exits as soon as run() resolves (the CLI): the slot is then not freed by hand
   * (unless a control client follows the session), since a slot whose owner is gone is free
   * and the exit closes the links first; the end waits neither for the links' closing nor for
   * release's lock and write.
   */
  exitsAfterRun?: boolean;
}

export interface SessionResult {
  exitCode: number;
  counters: Counters;
}

export interface SwapOptions {
  /** copy the globals whose name and type match (stap has no swap; tapvm's --keep-globals) */
  keepGlobals?: boolean;
}

export interface SwapResult {
  /** request to the new script's probes being live, ms */
  latencyMs: number;
  /** request to the old script detached, drained and released, ms */
  totalMs: number;
  oldSlot: number;
  slot: number;
  kept: string[];
}

/** Output that is held back until open(): the new script's, until the old one's is out. */
class HeldOutput extends Writable {
  private held: Buffer[] | null = [];

  constructor(private target: NodeJS.WritableStream) {
    super();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void) {
    if (this.held) this.held.push(chunk);
    else this.target.write(chunk);
    cb();
  }

  open() {
    const held = this.held ?? [];
    this.held = null;
    for (const c of held) this.target.write(c);
  }
}

let sessionsInProcess = 0;

export class Session {
  readonly vm: Interpreter;
  /** the session's id: the owner's pid (and .N for a second session in one process) */
  readonly id: string;
  private gen!: Generation;
  private stopping = false;
  private swapping: Promise<unknown> | undefined;
  private done!: (r: SessionResult) => void;
  private finished: Promise<SessionResult>;
  private control: ControlServer | undefined;
  private timeout: NodeJS.Timeout | undefined;
  /** whether the -c command was let run (a command that never ran is killed at the end) */
  private continued = false;
  private get target(): number {
    return this.opts.command?.pid ?? this.opts.targetPid ?? 0;
  }

  constructor(
    private img: ProgramImage,
    private opts: SessionOptions,
  ) {
    this.vm = openInterpreter(slotSize(imageMaxStr(img)));
    this.id = sessionsInProcess++ === 0 ? String(process.pid) : `${process.pid}.${sessionsInProcess - 1}`;
    // a reader that goes away (`tapvm ... | head`) ends the session quietly, as stap does
    opts.out.on('error', (e: NodeJS.ErrnoException) => {
      if (this.gen) this.gen.output.closed = true;
      if (e.code !== 'EPIPE') opts.err.write(`ERROR: cannot write output: ${e.message}\n`);
      this.requestStop();
    });
    this.finished = new Promise((r) => (this.done = r));
  }

  /** The slot the current script runs in. */
  get slot(): number {
    return this.gen?.slot ?? -1;
  }

  private newGeneration(img: ProgramImage, out: NodeJS.WritableStream): Generation {
    const o = { maxAction: this.opts.maxAction, maxErrors: this.opts.maxErrors, maxSkipped: this.opts.maxSkipped ?? 100 };
    return new Generation(this.vm, img, { ...o, ringBytes: this.opts.ringBytes, target: this.target }, out, (g, ev) => this.onEvent(g, ev));
  }

  private onEvent(gen: Generation, ev: VmEvent) {
    if (ev.type === 'print') gen.output.print(ev);
    else if (ev.type === 'stack') gen.output.text(backtraceText(ev.frames));
    else if (ev.type === 'ustack') gen.output.text(ubacktraceText(ev.pid, ev.frames, ev.brief ? 'brief' : 'full'));
    else if (ev.type === 'hist') {
      // print(@hist_*(x)): the statistic as it is now, added up over the CPUs
      const h = histogramText(gen.img, gen.backend, ev);
      if (typeof h === 'string') gen.output.text(h);
      else this.onEvent(gen, h);
    } else if (ev.type === 'exit') {
      if (gen.state === 'running') gen.state = 'stopping';
      // the retiring script of a swap ends anyway; its exit() does not end the session
      if (gen === this.gen && !this.stopping) {
        // what the script printed before it: out now, not after the stop's first steps (the
        // batch's write was due at the next turn of the event loop, behind the stop)
        gen.output.flush();
        this.requestStop();
      }
    } else {
      // too many skipped firings is the session's error, not a handler's: not counted
      if (ev.code !== ERR.SKIPPED) gen.errors++;
      else gen.noteError(ev.code);
      gen.output.flush();
      this.opts.err.write(errorMessage(gen.img, ev) + '\n');
      if (ev.code === ERR.SKIPPED || gen.errors > this.opts.maxErrors) {
        gen.state = 'error';
        if (gen === this.gen) this.requestStop();
      }
    }
  }

  /** Ends the session: end probes run (error probes after errors), then everything is detached. */
  requestStop() {
    if (this.stopping) return;
    this.stopping = true;
    setImmediate(() =>
      this.stop().catch((e: Error) => {
        this.opts.err.write(`ERROR: ${e.message}\n`);
        this.finish({ exitCode: 1, counters: { lost: 0n, skipped: 0n, errors: 0n, runs: 0n } });
      }),
    );
  }

  private finish(r: SessionResult) {
    this.control?.close(r.exitCode);
    this.done(r);
  }

  async run(): Promise<SessionResult> {
    const v = this.opts.verbose;
    const t0 = process.hrtime.bigint();
    const gen = (this.gen = this.newGeneration(this.img, this.opts.out));
    gen.claim();
    gen.install();
    const verified = new Set(Object.keys(this.vm.verifiedInsns));
    gen.attachKernelProbes();
    // an entry program a script family uses first on this host is verified while attaching
    const lazy = Object.entries(this.vm.verifiedInsns).filter(([p]) => !verified.has(p));
    const loadedNow = lazy.length ? ` (first use on this host: loaded and verified ${lazy.map(([p, n]) => `${p}, ${n} insns`).join('; ')})` : '';
    v?.(`attached ${gen.linkCount} kernel probe(s) in slot ${gen.slot} in ${ms(t0)}ms${loadedNow}`);

    const onSignal = () => this.requestStop();
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('SIGHUP', onSignal);

    gen.runBegin();
    if (!this.stopping) {
      gen.setActive(1);
      v?.(`kernel probes armed ${ms(t0)}ms after start of run`);
      const cmd = this.opts.command;
      if (cmd) {
        // the command's end is the session's end, as with stap -c
        if (cmd.exitCode !== null || cmd.signalCode !== null) this.requestStop();
        else cmd.once('exit', () => this.requestStop());
        cmd.kill('SIGCONT');
        this.continued = true;
      }
      if (this.opts.timeoutMs !== undefined) this.timeout = setTimeout(() => this.requestStop(), this.opts.timeoutMs);
      gen.startTimers();
      // a script of only begin/end probes ends after begin, as stap's does (unless -c / -T)
      if (!gen.hasWork && !cmd && this.opts.timeoutMs === undefined) this.requestStop();
      else if (this.opts.control !== false) {
        // a turn of the event loop first (a timer: after a poll of the ring): the first events,
        // there within microseconds on a busy probe, reach the output before the control socket
        // is made (mkdir, unlink, a readdir for stale sockets, bind, listen, chmod: ~0.5 ms)
        await new Promise((r) => setTimeout(r, 0));
        // (an exit() in those events: the session is ending, and nothing could close it)
        if (!this.stopping) {
          this.control = new ControlServer(this.id, { swap: (img, o) => this.swap(img, o), stop: () => this.requestStop(), tap: this.opts.tap });
          await this.control.listen();
          v?.(`control socket ${this.control.path}`);
        }
      }
      this.opts.onReady?.(this.id);
    }
    const r = await this.finished;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    return r;
  }

  /**
   * Hot swap: the new script gets a second slot (code, globals, arrays, ring), its probes are
   * attached and made live, then the old script's are made inactive and detached. Both are
   * live for the few microseconds between two map updates, so no event goes unseen; the old
   * script's records are drained and printed before any of the new one's (which are held
   * until then). Without keepGlobals the old script ends as at exit() (end probes run); with
   * it, its matching globals are copied into the new script, which carries on with them.
   */
  async swap(img: ProgramImage, o: SwapOptions = {}): Promise<SwapResult> {
    if (this.stopping) throw new Error(`session ${this.id} is ending`);
    if (this.swapping) throw new Error(`session ${this.id} is already swapping scripts`);
    let release!: () => void;
    this.swapping = new Promise<void>((r) => (release = r));
    try {
      return await this.swapNow(img, o);
    } finally {
      this.swapping = undefined;
      release();
    }
  }

  private async swapNow(img: ProgramImage, o: SwapOptions): Promise<SwapResult> {
    // the session's slots, maps and programs belong to one interpreter object
    if (slotSize(imageMaxStr(img)) !== slotSize(imageMaxStr(this.img)))
      throw new Error(`cannot swap to a script with -D MAXSTRINGLEN=${imageMaxStr(img)}: this session runs the interpreter for MAXSTRINGLEN=${imageMaxStr(this.img)}, and a swap cannot change it`);
    const t0 = process.hrtime.bigint();
    const v = this.opts.verbose;
    const old = this.gen;
    const held = new HeldOutput(this.opts.out);
    // -v: where the time of a swap goes (the host-wide slot lock can wait on other tapvm processes)
    const phases: string[] = [];
    let last = t0;
    const lap = (what: string) => {
      const now = process.hrtime.bigint();
      phases.push(`${what} ${(Number(now - last) / 1e6).toFixed(2)}ms`);
      last = now;
    };
    const gen = this.newGeneration(img, held);
    try {
      gen.claim();
      lap('slot claimed');
      gen.install();
      lap('code and maps written');
      gen.attachKernelProbes();
      lap(`${gen.linkCount} probe(s) attached`);
      gen.runBegin();
    } catch (e) {
      await gen.detach();
      gen.release();
      throw e;
    }
    const kept = o.keepGlobals ? gen.keepGlobalsOf(old) : [];
    // new live, then old inactive: an event in between is seen by both scripts, none by neither
    gen.setActive(1);
    old.deactivate();
    const latencyMs = Number(process.hrtime.bigint() - t0) / 1e6;
    this.gen = gen;
    this.img = img;
    gen.startTimers();
    lap('begin, kept globals, switched');
    v?.(`swap: new script live in slot ${gen.slot} ${latencyMs.toFixed(2)}ms after the request (old slot ${old.slot} inactive): ${phases.join(', ')}`);

    old.drain();
    // once no old handler runs any more (inactive since the switch, then a grace period: see
    // stopHandlers), the old ring holds all the old script's output: the new script's, held
    // until then, follows it at once, not after the links' closing (20-35 ms more here)
    const { detached } = await old.stopHandlers();
    old.drain();
    if (!o.keepGlobals) old.runEnd(this.opts.globalDisplay !== false);
    old.output.flush();
    const counters = old.counters();
    held.open();
    // the slot is freed once its links are closed (before, another session could claim it and
    // make it active while they still run its handlers)
    await detached;
    const oldSlot = old.slot;
    old.release(counters);
    this.warnings(old, counters);
    const totalMs = Number(process.hrtime.bigint() - t0) / 1e6;
    v?.(`swap: old script detached and drained, slot ${oldSlot} freed, ${totalMs.toFixed(1)}ms after the request${kept.length ? `; kept ${kept.join(', ')}` : ''}`);
    if (!gen.hasWork && !this.opts.command && this.opts.timeoutMs === undefined) this.requestStop();
    return { latencyMs, totalMs, oldSlot, slot: gen.slot, kept };
  }

  private warnings(gen: Generation, counters: Counters): number {
    const e = Number(counters.errors) > gen.errors ? Number(counters.errors) : gen.errors;
    if (e || counters.skipped) this.opts.err.write(`WARNING: Number of errors: ${e}, skipped probes: ${counters.skipped}\n`);
    if (counters.lost) this.opts.err.write(`WARNING: ${counters.lost} output record(s) lost: the ring buffer was full\n`);
    return e;
  }

  private async stop() {
    await this.swapping;
    const gen = this.gen;
    clearTimeout(this.timeout);
    // inactive first: a kernel handler that starts from now on returns at once
    gen.deactivate();
    if (this.opts.command && !this.continued) this.opts.command.kill('SIGKILL');
    // once no handler runs any more, the ring holds all the kernel's output and the counters
    // are final (the links may still be closing: see stopHandlers)
    const { detached } = await gen.stopHandlers();
    gen.drain();
    // the recursion misses since the last look may pass MAXSKIPPED: error probes, not end ones
    gen.checkSkipped();
    gen.runEnd(this.opts.globalDisplay !== false);
    const counters = gen.counters();
    gen.output.flush();
    if (gen.missShared) this.opts.verbose?.(`${gen.missShared} firing(s) refused by the kernel (another BPF program running on the CPU) while other tapvm sessions ran; not counted as this script's skipped probes`);
    const e = this.warnings(gen, counters);
    // The slot is freed once the links are closed (freed earlier, another session could claim
    // it and make it active while these links still run its handlers). A command's process
    // exits right after this (exitsAfterRun), and its exit frees the slot once the kernel has
    // closed the links: its output and status need not wait for the closing (a warm worker
    // tells its client first). The library API's sessions, and a session a `tapvm stop` or
    // `attach` client follows (told the end, it must find the session gone), free it first.
    if (!this.opts.exitsAfterRun || this.control?.following) {
      await detached;
      gen.release(counters);
    } else detached.catch(() => undefined);
    this.finish({ exitCode: e || gen.state === 'error' ? 1 : 0, counters });
  }
}

function ms(t0: bigint): string {
  return (Number(process.hrtime.bigint() - t0) / 1e6).toFixed(1);
}
