// One running script: claims a slot in the pinned interpreter, writes code and maps, arms the
// probes, runs begin/timer/end in the user-space interpreter, formats kernel records, and
// cleans up on exit(), an error, Ctrl-C or SIGTERM.
import * as fs from 'fs';
import type { ChildProcess } from 'child_process';
import { addon, BPF_ANY, BPF_MAP_TYPE, type Addon, type Link, type RingBufferReader } from '../native';
import type { ProgramImage, ProbeInfo } from '../image/image';
import { LIMITS, REC, ARRAY_CLASSES } from '../isa/opcodes';
import type { VmEvent } from '../vm/backend';
import { runHandler, type UserContextValues } from '../vm/interp';
import { openInterpreter, type Interpreter } from './interpreter';
import { withLock } from './lock';
import { KernelBackend, clearMap, createInnerMap, outerKey } from './kernel-backend';
import {
  SESSION_SIZE, GLOBALS_BLOB_SIZE, GSTR_BLOB_SIZE, COUNTERS_SIZE, encodeSession, decodeSession,
  encodeCodeBlob, sumCounters, type Counters,
} from './layout';
import { decodeRecordAt, REC_HDR_SIZE } from './records';
import { OutputFormatter, errorMessage } from './output';
import { readTracepoint } from '../kernel/tracefs';
import { globalDisplay } from './display';

export interface SessionOptions {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  maxAction: number;
  maxErrors: number;
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
}

export interface SessionResult {
  exitCode: number;
  counters: Counters;
}

export function procStart(pid: number): bigint {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // field 22 (starttime), counted after the ")" that ends the command name
    return BigInt(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  } catch {
    return 0n;
  }
}

/**
 * The ring buffer is also drained on a timer: the kernel submits print records with
 * BPF_RB_NO_WAKEUP until the unread data crosses 64 KiB (vm/tapvm.bpf.c emit()), so this
 * bounds how long a trickle of output waits. EXIT and ERROR records wake us at once.
 */
const RING_POLL_MS = 20;

/**
 * After a wake-up that brought little (< 64 KiB), the ring is not polled for this long, so
 * that at low rates records gather into one batch instead of costing a kernel wake-up, a
 * batch and a write each (bench/RESULTS.md, wake-up cost). At 2M records/s of ~56 bytes a
 * pause fills ~0.6 MiB of the ring, so it is only used with rings of 2 MiB or more.
 *
 * Not from the start: until V8 has optimized the formatting code a record costs ~10x more,
 * and a burst that meets a cold consumer fills the ring. While we poll eagerly, the kernel's
 * wake-ups slow such a producer down (bench/RESULTS.md); after RING_WARM_RECORDS records
 * the consumer is fast enough to do without that.
 */
const RING_COALESCE_MS = 5;
const RING_WARM_RECORDS = 20_000;

export const slotKeyOf = (slot: number) => {
  const k = Buffer.alloc(4);
  k.writeUInt32LE(slot);
  return k;
};

export class Session {
  readonly vm: Interpreter;
  slot = -1;
  private links: Link[] = [];
  private ring: number = -1;
  private reader: RingBufferReader | undefined;
  /** records delivered by the ring, and the count at which coalescing starts */
  private delivered = 0;
  private coalesceAt = Infinity;
  private timers: NodeJS.Timeout[] = [];
  private backend!: KernelBackend;
  private output: OutputFormatter;
  private errors = 0;
  private stopping = false;
  private done!: (r: SessionResult) => void;
  private finished: Promise<SessionResult>;
  private ncpus = addon().numPossibleCpus();
  private ctx: UserContextValues;
  /** whether the -c command was let run (a command that never ran is killed at the end) */
  private continued = false;
  private get target(): number {
    return this.opts.command?.pid ?? this.opts.targetPid ?? 0;
  }

  constructor(
    private img: ProgramImage,
    private opts: SessionOptions,
  ) {
    this.vm = openInterpreter();
    this.output = new OutputFormatter(img, opts.out);
    // a reader that goes away (`tapvm ... | head`) ends the session quietly, as stap does
    opts.out.on('error', (e: NodeJS.ErrnoException) => {
      this.output.closed = true;
      if (e.code !== 'EPIPE') opts.err.write(`ERROR: cannot write output: ${e.message}\n`);
      this.requestStop();
    });
    this.finished = new Promise((r) => (this.done = r));
    this.ctx = {
      pid: BigInt(process.pid),
      tid: BigInt(process.pid),
      ppid: BigInt(process.ppid),
      uid: BigInt(process.getuid?.() ?? 0),
      gid: BigInt(process.getgid?.() ?? 0),
      cpu: 0n,
      execname: 'tapvm',
      target: BigInt(this.target),
    };
  }

  /** Claims a free slot: unused, or owned by a process that no longer exists. */
  private claimSlot(): number {
    return withLock(() => {
      const a = addon();
      for (let slot = 0; slot < LIMITS.NSESSIONS; slot++) {
        const cur = a.mapLookup(this.vm.maps.sessions, slotKeyOf(slot), SESSION_SIZE);
        const s = cur ? decodeSession(cur) : undefined;
        if (s && s.ownerPid !== 0n && procStart(Number(s.ownerPid)) === s.ownerStart && s.ownerStart !== 0n) continue;
        this.resetCounters(slot);
        a.mapUpdate(
          this.vm.maps.sessions,
          slotKeyOf(slot),
          encodeSession({
            active: 0,
            maxaction: this.opts.maxAction,
            realtimeOff: realtimeOffset(),
            ownerPid: BigInt(process.pid),
            ownerStart: procStart(process.pid),
            target: BigInt(this.target),
          }),
          BPF_ANY,
        );
        return slot;
      }
      throw new Error(`all ${LIMITS.NSESSIONS} session slots are in use`);
    });
  }

  /**
   * Resets a slot's counters. Its ring buffer and array maps stay in the outer maps for the
   * next session of the slot to reuse: replacing or deleting a map-in-map element waits for an
   * RCU grace period (~8 ms each here), reusing one costs a lookup.
   */
  private resetCounters(slot: number) {
    addon().mapUpdate(this.vm.maps.counters, slotKeyOf(slot), Buffer.alloc(COUNTERS_SIZE * this.ncpus), BPF_ANY);
  }

  /** The map at `key` of a map-in-map, as an fd, when `fits` accepts it. */
  private reuseInner(outer: number, key: Buffer, fits: (info: ReturnType<Addon['mapInfo']>) => boolean): number | undefined {
    const a = addon();
    const id = a.mapLookup(outer, key, 4);
    if (!id) return undefined;
    let fd: number;
    try {
      fd = a.mapFdById(id.readUInt32LE(0));
    } catch {
      return undefined; // freed in between
    }
    if (fits(a.mapInfo(fd))) return fd;
    a.close(fd);
    return undefined;
  }

  /** Puts a fresh map at `key`; this is the path that waits for an RCU grace period. */
  private installInner(outer: number, key: Buffer, fd: number) {
    const fdv = Buffer.alloc(4);
    fdv.writeUInt32LE(fd);
    addon().mapUpdate(outer, key, fdv, BPF_ANY);
  }

  private setActive(active: number) {
    const a = addon();
    const cur = a.mapLookup(this.vm.maps.sessions, slotKeyOf(this.slot), SESSION_SIZE)!;
    const s = decodeSession(cur);
    s.active = active;
    a.mapUpdate(this.vm.maps.sessions, slotKeyOf(this.slot), encodeSession(s), BPF_ANY);
  }

  private install() {
    const a = addon();
    const key = slotKeyOf(this.slot);
    a.mapUpdate(this.vm.maps.code, key, encodeCodeBlob(this.img.code, this.img.data), BPF_ANY);
    const nums = Buffer.alloc(GLOBALS_BLOB_SIZE);
    const strs = Buffer.alloc(GSTR_BLOB_SIZE);
    for (const g of this.img.globals) {
      if (g.init === undefined) continue;
      if (g.type === 'long') nums.writeBigInt64LE(BigInt.asIntN(64, g.init as bigint), g.slot * 8);
      else Buffer.from(String(g.init), 'latin1').subarray(0, LIMITS.MAXSTRINGLEN - 1).copy(strs, g.slot * LIMITS.MAXSTRINGLEN);
    }
    a.mapUpdate(this.vm.maps.globals, key, nums, BPF_ANY);
    a.mapUpdate(this.vm.maps.gstrs, key, strs, BPF_ANY);

    const inner = new Map<number, number>();
    for (const arr of this.img.arrays) {
      const okey = outerKey(this.slot, arr.id);
      const cls = ARRAY_CLASSES[arr.cls];
      let fd = this.reuseInner(
        this.vm.classMaps[arr.cls],
        okey,
        (m) => m.type === BPF_MAP_TYPE.HASH && m.keySize === cls.keySize && m.valueSize === cls.valueSize && m.maxEntries === arr.maxEntries,
      );
      if (fd === undefined) {
        fd = createInnerMap(arr);
        this.installInner(this.vm.classMaps[arr.cls], okey, fd);
      } else clearMap(fd, cls.keySize);
      inner.set(arr.id, fd);
    }
    const outer = this.vm.classMaps;
    this.backend = new KernelBackend(this.slot, { globals: this.vm.maps.globals, gstrs: this.vm.maps.gstrs, outer }, inner, (ev) => this.onEvent(ev));

    const ringBytes = this.opts.ringBytes ?? 1 << 22;
    const reused = this.reuseInner(this.vm.maps.rings, key, (m) => m.type === BPF_MAP_TYPE.RINGBUF && m.maxEntries === ringBytes);
    this.ring = reused ?? a.mapCreate(BPF_MAP_TYPE.RINGBUF, 'tapvm_ring', 0, 0, ringBytes, 0, -1);
    if (reused === undefined) this.installInner(this.vm.maps.rings, key, this.ring);
    // records a previous owner of the slot left unread are not this session's output
    const stale = a.ringBuffer(this.ring, () => undefined);
    stale.consume();
    stale.close();
    this.reader = a.ringBuffer(this.ring, (batch) => this.onBatch(batch), { pollMs: RING_POLL_MS });
    this.coalesceAt = ringBytes >= 1 << 21 ? RING_WARM_RECORDS : Infinity;
  }

  private cookie(p: ProbeInfo): bigint {
    return (BigInt(this.slot) << 48n) | (BigInt(p.index) << 32n) | BigInt(p.pc);
  }

  private attachKernelProbes() {
    for (const p of this.img.probes) {
      if (p.attach.family === 'perf') {
        const { type, config, period, freq } = p.attach;
        try {
          this.links.push(addon().attachPerfEvent(this.vm.progs.tapvm_perf, type, config, period, freq, this.cookie(p)));
        } catch (e) {
          const errno = (e as { errno?: number }).errno;
          if (errno === 2 || errno === 95 || errno === 19)
            throw new Error(`probe ${p.pp}: this machine has no such perf event (no hardware PMU?): ${(e as Error).message}`);
          throw e;
        }
        continue;
      }
      if (p.attach.family === 'uprobe') {
        this.links.push(this.attachUprobe(p, p.attach));
        continue;
      }
      if (p.attach.family !== 'tracepoint') continue;
      const tp = readTracepoint(p.attach.system, p.attach.event);
      if (!tp) throw new Error(`tracepoint ${p.attach.system}:${p.attach.event} disappeared`);
      this.links.push(this.attachThroughStub(tp.id, this.cookie(p), `${p.attach.system}:${p.attach.event}`));
    }
  }

  /** A uprobe takes the interpreter directly: each uprobe perf event has its own program list. */
  private attachUprobe(p: ProbeInfo, u: Extract<ProbeInfo['attach'], { family: 'uprobe' }>): Link {
    try {
      return addon().attachUprobe(this.vm.progs.tapvm_uprobe, { path: u.path, offset: u.offset, pid: u.pid, retprobe: u.retprobe, cookie: this.cookie(p) });
    } catch (e) {
      const errno = (e as { errno?: number }).errno;
      if (errno === 3 /* ESRCH */) throw new Error(`probe ${p.pp}: process ${u.pid} is gone`);
      throw new Error(`probe ${p.pp}: cannot attach a uprobe at offset 0x${u.offset.toString(16)} of ${u.path}: ${(e as Error).message}`);
    }
  }

  /** The first stub not yet on this tracepoint takes the link (the kernel answers EEXIST). */
  private attachThroughStub(tpId: number, cookie: bigint, name: string): Link {
    for (const stub of this.vm.stubs) {
      try {
        return addon().attachTracepoint(stub, tpId, cookie);
      } catch (e) {
        if ((e as { errno?: number }).errno !== 17 /* EEXIST */) throw e;
      }
    }
    throw new Error(`tracepoint ${name} already carries ${this.vm.stubs.length} tapvm probes, the most one host can attach`);
  }

  private runUser(p: ProbeInfo) {
    runHandler(this.img, p.pc, p.index, this.backend, this.ctx, { maxAction: this.opts.maxAction });
  }

  /**
   * A ring batch (src/native.ts RingBatch): PRINT records are formatted straight from the
   * batch's bytes; EXIT and ERROR records become events, in order with the prints.
   */
  private onBatch(batch: Buffer) {
    const out = this.output;
    const n = batch.length;
    let off = 0;
    let records = 0;
    try {
      while (off + 4 <= n) {
        // u32 LE reads by indexing (this loop runs per record)
        const len = (batch[off] | (batch[off + 1] << 8) | (batch[off + 2] << 16) | (batch[off + 3] << 24)) >>> 0;
        off += 4;
        if (off + len > n) break;
        const type = batch[off] | (batch[off + 1] << 8) | (batch[off + 2] << 16) | (batch[off + 3] << 24);
        if (type === REC.PRINT && len >= REC_HDR_SIZE) out.printRecord(batch, off, len);
        else this.onEvent(decodeRecordAt(this.img, batch, off, len));
        off += len;
        records++;
      }
    } finally {
      out.written();
      this.delivered += records;
      if (this.delivered >= this.coalesceAt) {
        this.coalesceAt = Infinity;
        this.reader?.setCoalesceMs(RING_COALESCE_MS);
      }
    }
  }

  private onEvent(ev: VmEvent) {
    if (ev.type === 'print') this.output.print(ev);
    else if (ev.type === 'exit') this.requestStop();
    else {
      this.errors++;
      this.output.flush();
      this.opts.err.write(errorMessage(this.img, ev) + '\n');
      if (this.errors > this.opts.maxErrors) this.requestStop();
    }
  }

  /** Ends the session as exit() would: end probes run, then everything is detached. */
  requestStop() {
    if (this.stopping) return;
    this.stopping = true;
    setImmediate(() =>
      this.stop().catch((e: Error) => {
        this.opts.err.write(`ERROR: ${e.message}\n`);
        this.done({ exitCode: 1, counters: { lost: 0n, skipped: 0n, errors: 0n, runs: 0n } });
      }),
    );
  }

  async run(): Promise<SessionResult> {
    const v = this.opts.verbose;
    const t0 = process.hrtime.bigint();
    this.slot = this.claimSlot();
    this.install();
    this.attachKernelProbes();
    v?.(`attached ${this.links.length} kernel probe(s) in slot ${this.slot} in ${ms(t0)}ms`);

    const onSignal = () => this.requestStop();
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('SIGHUP', onSignal);

    const byOrder = (fam: 'begin' | 'end') =>
      this.img.probes
        .filter((p) => p.attach.family === fam)
        .sort((x, y) => (x.attach as { order: number }).order - (y.attach as { order: number }).order);
    for (const p of byOrder('begin')) {
      if (this.errors > this.opts.maxErrors) break;
      this.runUser(p);
    }
    if (!this.stopping) {
      this.setActive(1);
      v?.(`kernel probes armed ${ms(t0)}ms after start of run`);
      const cmd = this.opts.command;
      if (cmd) {
        // the command's end is the session's end, as with stap -c
        if (cmd.exitCode !== null || cmd.signalCode !== null) this.requestStop();
        else cmd.once('exit', () => this.requestStop());
        cmd.kill('SIGCONT');
        this.continued = true;
      }
      if (this.opts.timeoutMs !== undefined) this.timers.push(setTimeout(() => this.requestStop(), this.opts.timeoutMs));
      for (const p of this.img.probes) {
        if (p.attach.family !== 'timer') continue;
        const periodMs = Number(p.attach.periodNs) / 1e6;
        this.timers.push(setInterval(() => !this.stopping && this.runUser(p), periodMs));
      }
      const hasWork = this.img.probes.some((p) => p.attach.family !== 'begin' && p.attach.family !== 'end');
      // a script of only begin/end probes ends after begin, as stap's does (unless -c / -T)
      if (!hasWork && !cmd && this.opts.timeoutMs === undefined) this.requestStop();
    }
    const r = await this.finished;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    return r;
  }

  private async stop() {
    // inactive first: a kernel handler that starts from now on returns at once
    this.setActive(0);
    if (this.opts.command && !this.continued) this.opts.command.kill('SIGKILL');
    for (const t of this.timers) clearInterval(t);
    this.reader?.consume();
    const endProbes = this.img.probes
      .filter((p) => p.attach.family === 'end')
      .sort((x, y) => (x.attach as { order: number }).order - (y.attach as { order: number }).order);
    for (const p of endProbes) this.runUser(p);
    if (this.opts.globalDisplay !== false) this.output.text(globalDisplay(this.img, this.backend));
    this.output.flush();
    // Detaching waits for each tracepoint's grace period (~80 ms for the faultable syscall
    // tracepoints), so it comes after the output is out. Once it returns, no handler of this
    // session is running: whatever one that was already running emitted is in the ring now.
    const links = this.links;
    this.links = [];
    await Promise.all(links.map((l) => l.closeAsync()));
    this.reader?.consume();
    const counters = this.release();
    const e = Number(counters.errors) > this.errors ? Number(counters.errors) : this.errors;
    this.output.flush();
    if (e || counters.skipped) this.opts.err.write(`WARNING: Number of errors: ${e}, skipped probes: ${counters.skipped}\n`);
    if (counters.lost) this.opts.err.write(`WARNING: ${counters.lost} output record(s) lost: the ring buffer was full\n`);
    this.done({ exitCode: e ? 1 : 0, counters });
  }

  /** Frees the slot: detach the arrays and ring buffer from the shared maps, drop ownership. */
  private release(): Counters {
    const a = addon();
    const key = slotKeyOf(this.slot);
    const raw = a.mapLookup(this.vm.maps.counters, key, COUNTERS_SIZE * this.ncpus);
    const counters = raw ? sumCounters(raw, this.ncpus) : { lost: 0n, skipped: 0n, errors: 0n, runs: 0n };
    this.reader?.close();
    withLock(() => a.mapUpdate(this.vm.maps.sessions, key, Buffer.alloc(SESSION_SIZE), BPF_ANY));
    for (const fd of this.backend.inner.values()) a.close(fd);
    if (this.ring >= 0) a.close(this.ring);
    return counters;
  }
}

function ms(t0: bigint): string {
  return (Number(process.hrtime.bigint() - t0) / 1e6).toFixed(1);
}

/** CLOCK_REALTIME - CLOCK_MONOTONIC in ns: the kernel adds it to bpf_ktime_get_ns(). */
export function realtimeOffset(): bigint {
  const mono = process.hrtime.bigint();
  const real = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
  return real - mono;
}

