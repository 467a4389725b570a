// One script of a session in one slot: its code, globals, arrays, ring buffer, links, timers
// and output formatter. A session runs one generation, and two for the moment of a swap
// (src/runtime/session.ts): each generation has its own slot, so neither the interpreter nor
// the record format needs to know about swaps.
import * as fs from 'fs';
import { Writable } from 'stream';
import { addon, BPF_ANY, BPF_MAP_TYPE, type Addon, type Link, type RingBufferReader } from '../native';
import type { ProgramImage, ProbeInfo } from '../image/image';
import { LIMITS, REC, ERR } from '../isa/opcodes';
import { arrayClass, imageMaxStr, slotSize } from '../isa/strlen';
import type { VmEvent } from '../vm/backend';
import { runHandler, type UserContextValues } from '../vm/interp';
import type { Interpreter } from './interpreter';
import { withLock } from './lock';
import { KernelBackend, clearMap, createInnerMap, innerMapKind, outerKey } from './kernel-backend';
import {
  SESSION_SIZE, GLOBALS_BLOB_SIZE, gstrBlobSize, COUNTERS_SIZE, encodeSession, decodeSession, sessionOwned,
  encodeCodeBlob, sumCounters, type Counters, type SessionRecord,
} from './layout';
import { decodeRecordAt, REC_HDR_SIZE } from './records';
import { OutputFormatter, errorMessage } from './output';
import { MemoryBackend } from '../vm/memory-backend';
import { readTracepoint } from '../kernel/tracefs';
import { globalDisplay } from './display';
import { isStatClass, STAT_VAL_SIZE } from '../vm/stats';
import { readElf } from '../kernel/elf';
import { kernelFunctionUnavailable } from '../probes/kfunc';

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

/** Each slot of a `sessions` map with its record (undefined where the slot has none, or one
 * without an owner: to every reader that slot is free). */
export function* sessionSlots(sessionsFd: number): Generator<{ slot: number; s: SessionRecord | undefined }> {
  const a = addon();
  // every slot in one syscall (an array: slot i is entry i); a lookup per slot cost 64
  let all: { values: Buffer; count: number } | undefined;
  try {
    all = a.mapLookupBatch(sessionsFd, 4, SESSION_SIZE, LIMITS.NSESSIONS);
  } catch {
    // a kernel without batch lookups (before 5.6): one lookup per slot
  }
  for (let slot = 0; slot < LIMITS.NSESSIONS; slot++) {
    const raw = all ? (slot < all.count ? all.values.subarray(slot * SESSION_SIZE, (slot + 1) * SESSION_SIZE) : undefined) : a.mapLookup(sessionsFd, slotKeyOf(slot), SESSION_SIZE);
    yield { slot, s: raw && sessionOwned(raw) ? decodeSession(raw) : undefined };
  }
}

/** Whether the process that claimed a slot still exists (its pid is not a newer process). */
export function ownerAlive(s: SessionRecord): boolean {
  return s.ownerPid !== 0n && s.ownerStart !== 0n && procStart(Number(s.ownerPid)) === s.ownerStart;
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

/** CLOCK_REALTIME - CLOCK_MONOTONIC in ns: the kernel adds it to bpf_ktime_get_ns(). */
export function realtimeOffset(): bigint {
  const mono = process.hrtime.bigint();
  const real = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
  return real - mono;
}

export interface GenerationOptions {
  maxAction: number;
  /** the kernel stops this script's probes itself past these (struct session) */
  maxErrors: number;
  maxSkipped: number;
  ringBytes?: number;
  target: number;
}

/** A program's recursion_misses (0 from an addon built before it reported them). */
const misses = (fd: number): number => addon().progInfo(fd).recursionMisses ?? 0;

/** Probe families that run in user space only (no kernel program, no recursion misses). */
const USER_FAMILIES: readonly string[] = ['begin', 'end', 'error', 'timer'];

const NO_COUNTERS: Counters = { lost: 0n, skipped: 0n, errors: 0n, runs: 0n };

export class Generation {
  slot = -1;
  readonly output: OutputFormatter;
  backend!: KernelBackend;
  /** errors reported by this script (user space and kernel records) */
  errors = 0;
  /** stap's session states: begin and kernel probes run while 'running'; exit() makes it
   * 'stopping' (end probes run); more than MAXERRORS errors or MAXSKIPPED skipped firings
   * make it 'error' (end probes are skipped, error probes run instead) */
  state: 'running' | 'stopping' | 'error' = 'running';
  private links: Link[] = [];
  /** build-ids of the files uprobes attach to, read once */
  private buildIds = new Map<string, string | undefined>();
  /** whether the kernel took a uprobe_multi link (undefined: not tried yet) */
  private uprobeMulti: boolean | undefined;
  private ring = -1;
  private reader: RingBufferReader | undefined;
  private delivered = 0;
  private coalesceAt = Infinity;
  private timers: NodeJS.Timeout[] = [];
  private ncpus = addon().numPossibleCpus();
  private ctx: UserContextValues;
  /** set once the generation stops running handlers (timers cleared, deactivated) */
  ended = false;
  /** the programs this script's links run, each with its recursion_misses when last looked at */
  private missSeen = new Map<number, number>();
  /** recursion misses counted as this script's (no other tapvm session was running) */
  private missOwn = 0;
  /** recursion misses while another session shared the programs: nobody's for sure, not counted */
  missShared = 0;
  /** at the last look at the misses: whether another process held a slot, and its claims so far */
  private othersAtLook = true;
  private claimsAtLook = -1;
  /** MAXSKIPPED was reported (by the kernel or by checkSkipped) */
  private skippedReported = false;

  constructor(
    private vm: Interpreter,
    readonly img: ProgramImage,
    private opts: GenerationOptions,
    out: NodeJS.WritableStream,
    private onEvent: (gen: Generation, ev: VmEvent) => void,
  ) {
    this.output = new OutputFormatter(img, out);
    this.ctx = {
      pid: BigInt(process.pid),
      tid: BigInt(process.pid),
      ppid: BigInt(process.ppid),
      uid: BigInt(process.getuid?.() ?? 0),
      gid: BigInt(process.getgid?.() ?? 0),
      cpu: 0n,
      execname: 'tapvm',
      target: BigInt(opts.target),
    };
  }

  get linkCount(): number {
    return this.links.length;
  }

  /** Whether this script links kernel programs, whose recursion misses it then watches. */
  private get linksKernel(): boolean {
    return (this.img.syscallDispatch?.length ?? 0) > 0 || this.img.probes.some((p) => !USER_FAMILIES.includes(p.attach.family));
  }

  /**
   * Claims a free slot: unused, or owned by a process that no longer exists. A script with
   * kernel probes takes its first look at the other sessions (takeMisses) in the same scan,
   * under the same lock, with the claim count its own claim was counted against: no second
   * scan of the 64 slots, and nobody can claim or free a slot between the claim and the look.
   */
  claim(): number {
    const look = this.linksKernel;
    let others = false;
    let claims = -1;
    this.slot = withLock(() => {
      const a = addon();
      let free = -1;
      for (const { slot, s } of sessionSlots(this.vm.maps.sessions)) {
        if (s && ownerAlive(s)) {
          // a swap's other slot is this process's own, not another session
          if (Number(s.ownerPid) !== process.pid) others = true;
        } else if (free < 0) free = slot;
        // left by an owner that is gone (a command exits without freeing its slot, a killed
        // one cannot): cleared, so that later scans need not look its pid up again
        else if (s && s.ownerPid !== 0n) a.mapUpdate(this.vm.maps.sessions, slotKeyOf(slot), Buffer.alloc(SESSION_SIZE), BPF_ANY);
        // a begin/timer-only script needs no look; a look needs only the first other session
        if (free >= 0 && (!look || others)) break;
      }
      if (free < 0) throw new Error(`all ${LIMITS.NSESSIONS} session slots are in use`);
      this.resetCounters(free);
      a.mapUpdate(
        this.vm.maps.sessions,
        slotKeyOf(free),
        encodeSession({
          active: 0,
          maxaction: this.opts.maxAction,
          realtimeOff: realtimeOffset(),
          ownerPid: BigInt(process.pid),
          ownerStart: procStart(process.pid),
          target: BigInt(this.opts.target),
          maxskipped: Math.min(this.opts.maxSkipped, 0xffffffff),
          skipped: 0,
          maxerrors: Math.min(this.opts.maxErrors, 0xffffffff),
          errors: 0,
        }),
        BPF_ANY,
      );
      claims = this.vm.countClaim();
      return free;
    });
    if (look) {
      this.othersAtLook = others;
      this.claimsAtLook = claims;
    }
    return this.slot;
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

  setActive(active: number) {
    const a = addon();
    const cur = a.mapLookup(this.vm.maps.sessions, slotKeyOf(this.slot), SESSION_SIZE)!;
    const s = decodeSession(cur);
    s.active = active;
    a.mapUpdate(this.vm.maps.sessions, slotKeyOf(this.slot), encodeSession(s), BPF_ANY);
  }

  /** Writes code, globals and arrays into the slot and opens its ring buffer (if kernel probes can write it). */
  install() {
    const a = addon();
    const key = slotKeyOf(this.slot);
    a.mapUpdate(this.vm.maps.code, key, encodeCodeBlob(this.img.code, this.img.data), BPF_ANY);
    const nums = Buffer.alloc(GLOBALS_BLOB_SIZE);
    const maxStr = imageMaxStr(this.img);
    const slot = slotSize(maxStr);
    const strs = Buffer.alloc(gstrBlobSize(slot));
    for (const g of this.img.globals) {
      if (g.init === undefined) continue;
      if (g.type === 'long') nums.writeBigInt64LE(BigInt.asIntN(64, g.init as bigint), g.slot * 8);
      else Buffer.from(String(g.init), 'latin1').subarray(0, maxStr - 1).copy(strs, g.slot * slot);
    }
    a.mapUpdate(this.vm.maps.globals, key, nums, BPF_ANY);
    a.mapUpdate(this.vm.maps.gstrs, key, strs, BPF_ANY);

    const inner = new Map<number, number>();
    for (const arr of this.img.arrays) {
      const okey = outerKey(this.slot, arr.id);
      const cls = arrayClass(arr);
      let fd = this.reuseInner(
        this.vm.classMaps[arr.cls],
        okey,
        (m) => m.type === innerMapKind(arr.cls).type && m.keySize === cls.keySize && m.valueSize === cls.valueSize && m.maxEntries === arr.maxEntries,
      );
      if (fd === undefined) {
        fd = createInnerMap(arr);
        this.installInner(this.vm.classMaps[arr.cls], okey, fd);
      } else clearMap(fd, cls.keySize);
      inner.set(arr.id, fd);
    }
    const outer = this.vm.classMaps;
    this.backend = new KernelBackend(this.slot, { globals: this.vm.maps.globals, gstrs: this.vm.maps.gstrs, outer }, inner, (ev) => this.onEvent(this, ev), {
      slot,
      maxStr,
    });

    // only kernel handlers write the ring: a begin/end/timer script's output goes from the
    // user-space interpreter to the formatter, so it opens no ring (a reader is an mmap and an
    // epoll set-up)
    if (!this.linksKernel) return;
    const ringBytes = this.opts.ringBytes ?? 1 << 22;
    const reused = this.reuseInner(this.vm.maps.rings, key, (m) => m.type === BPF_MAP_TYPE.RINGBUF && m.maxEntries === ringBytes);
    this.ring = reused ?? a.mapCreate(BPF_MAP_TYPE.RINGBUF, 'tapvm_ring', 0, 0, ringBytes, 0, -1);
    if (reused === undefined) this.installInner(this.vm.maps.rings, key, this.ring);
    // records a previous owner of the slot left unread are not this session's output: one reader
    // drops them (a fresh ring has none), then delivers
    let stale = reused !== undefined;
    this.reader = a.ringBuffer(this.ring, (batch) => !stale && this.onBatch(batch), { pollMs: RING_POLL_MS });
    if (stale) {
      this.reader.consume();
      stale = false;
    }
    this.coalesceAt = ringBytes >= 1 << 21 ? RING_WARM_RECORDS : Infinity;
  }

  private cookie(p: ProbeInfo): bigint {
    return (BigInt(this.slot) << 48n) | (BigInt(p.index) << 32n) | BigInt(p.pc);
  }

  /** Attaches the kernel probes; they return at once until the slot is made active. */
  attachKernelProbes() {
    const uprobes = new Map<string, ProbeInfo[]>();
    for (const p of this.img.probes) {
      if (p.attach.family === 'perf') {
        const { type, config, period, freq } = p.attach;
        const prog = this.vm.prog('tapvm_perf'); // outside the try: a load error is not an unsupported event
        try {
          this.links.push(addon().attachPerfEvent(prog, type, config, period, freq, this.cookie(p)));
          this.watchMisses(prog);
        } catch (e) {
          const errno = (e as { errno?: number }).errno;
          if (errno === 2 || errno === 95 || errno === 19)
            throw new Error(`probe ${p.pp}: this machine has no such perf event (no hardware PMU?): ${(e as Error).message}`);
          throw e;
        }
        continue;
      }
      if (p.attach.family === 'uprobe') {
        const key = `${p.attach.path}\0${p.attach.pid ?? ''}\0${p.attach.retprobe}`;
        uprobes.set(key, [...(uprobes.get(key) ?? []), p]);
        continue;
      }
      if (p.attach.family === 'kprobe') throw new Error(kernelFunctionUnavailable(p.pp));
      if (p.attach.family !== 'tracepoint') continue; // syscall probes: through the dispatch tables below
      if (p.attach.raw) {
        this.links.push(addon().attachRawTracepoint(this.vm.prog('tapvm_raw_tp'), p.attach.event, this.cookie(p)));
        this.watchMisses(this.vm.prog('tapvm_raw_tp'));
        continue;
      }
      const tp = readTracepoint(p.attach.system, p.attach.event);
      if (!tp) throw new Error(`tracepoint ${p.attach.system}:${p.attach.event} disappeared`);
      this.links.push(this.attachToTracepoint(tp.id, this.cookie(p), `${p.attach.system}:${p.attach.event}`));
    }
    for (const d of this.img.syscallDispatch ?? []) {
      const cookie = (BigInt(this.slot) << 48n) | (BigInt(LIMITS.DISPATCH_PROBE) << 32n) | BigInt(d.table);
      for (const t of d.tracepoints) {
        const tp = readTracepoint(t.system, t.event);
        if (!tp) throw new Error(`tracepoint ${t.system}:${t.event} disappeared`);
        this.links.push(this.attachToTracepoint(tp.id, cookie, `${t.system}:${t.event}`));
      }
    }
    for (const group of uprobes.values()) this.attachUprobes(group);
  }

  /**
   * Uprobes on one file (same pid filter, entry or return): several go through one
   * uprobe_multi link, whose detach waits for one uprobe grace period (~0.1 s here) instead of
   * one per probe; a single one, or a kernel without uprobe_multi, uses uprobe perf events.
   */
  private attachUprobes(group: ProbeInfo[]) {
    type U = Extract<ProbeInfo['attach'], { family: 'uprobe' }>;
    for (const p of group) this.checkBuildId(p, p.attach as U);
    const u = group[0].attach as U;
    if (group.length > 1 && this.uprobeMulti !== false) {
      try {
        const offsets = group.map((p) => (p.attach as U).offset);
        this.links.push(addon().attachUprobeMulti(this.vm.prog('tapvm_uprobe_multi'), { path: u.path, offsets, cookies: group.map((p) => this.cookie(p)), pid: u.pid, retprobe: u.retprobe }));
        this.watchMisses(this.vm.prog('tapvm_uprobe_multi'));
        this.uprobeMulti = true;
        return;
      } catch (e) {
        const errno = (e as { errno?: number }).errno;
        if (errno === 3 /* ESRCH */) throw new Error(`probe ${group[0].pp}: process ${u.pid} is gone`);
        // EINVAL/EOPNOTSUPP from a kernel before 6.6: per-probe perf events below
        if (this.uprobeMulti === true || (errno !== 22 && errno !== 95 && errno !== 524)) throw new Error(`probe ${group[0].pp}: cannot attach uprobes to ${u.path}: ${(e as Error).message}`);
        this.uprobeMulti = false;
      }
    }
    for (const p of group) this.links.push(this.attachUprobe(p, p.attach as U));
  }

  /** The file must be the one the script was compiled against (a module may run elsewhere). */
  private checkBuildId(p: ProbeInfo, u: Extract<ProbeInfo['attach'], { family: 'uprobe' }>) {
    if (!u.buildId) return;
    let now: string | undefined;
    try {
      now = this.buildIds.has(u.path) ? this.buildIds.get(u.path) : readElf(u.path).buildId;
    } catch (e) {
      throw new Error(`probe ${p.pp}: ${(e as Error).message}`);
    }
    this.buildIds.set(u.path, now);
    if (now !== u.buildId)
      throw new Error(`probe ${p.pp}: ${u.path} is not the file the script was compiled against (build-id ${now ?? 'none'}, expected ${u.buildId})`);
  }

  /** A uprobe takes the interpreter directly: each uprobe perf event has its own program list. */
  private attachUprobe(p: ProbeInfo, u: Extract<ProbeInfo['attach'], { family: 'uprobe' }>): Link {
    try {
      this.watchMisses(this.vm.prog('tapvm_uprobe'));
      return addon().attachUprobe(this.vm.prog('tapvm_uprobe'), { path: u.path, offset: u.offset, pid: u.pid, retprobe: u.retprobe, cookie: this.cookie(p) });
    } catch (e) {
      const errno = (e as { errno?: number }).errno;
      if (errno === 3 /* ESRCH */) throw new Error(`probe ${p.pp}: process ${u.pid} is gone`);
      throw new Error(`probe ${p.pp}: cannot attach a uprobe at offset 0x${u.offset.toString(16)} of ${u.path}: ${(e as Error).message}`);
    }
  }

  /**
   * The interpreter itself takes the first tapvm link on a tracepoint (no stub and no tail
   * call per firing: ~10% of the empty handler's samples), then the first stub not yet on it
   * (the kernel answers EEXIST for a program already there).
   */
  private attachToTracepoint(tpId: number, cookie: bigint, name: string): Link {
    for (const prog of [this.vm.prog('tapvm_tp'), ...this.vm.stubs]) {
      try {
        const link = addon().attachTracepoint(prog, tpId, cookie);
        this.watchMisses(prog);
        return link;
      } catch (e) {
        if ((e as { errno?: number }).errno !== 17 /* EEXIST */) throw e;
      }
    }
    throw new Error(`tracepoint ${name} already carries ${this.vm.stubs.length + 1} tapvm probes, the most one host can attach`);
  }

  /**
   * The kernel refuses a tracing program's run while another BPF program runs on the CPU
   * (bpf_prog_active; tapvm_tp, the tracepoint stubs, perf and uprobe programs alike) and counts it in
   * the program's recursion_misses, before tapvm's busy flag could see it. Those are skipped
   * probes too: each program's count is taken when this script first links it, and the growth
   * is added to the kernel's own skipped count. The programs are shared (tapvm_tp and a stub serve
   * every session on other tracepoints, tapvm_perf every perf probe of the host) and a miss does not
   * say whose firing it refused, so the growth seen at a look (once a second, and at the end)
   * counts as this script's only when no other process's session held a slot at any time
   * since the last look: none at the last look, none now, and no slot claimed by another
   * process in between (the host-wide claim count, src/runtime/lock.ts; a session that started
   * and ended between two looks is seen only there). Otherwise the growth goes to missShared,
   * which is not reported as skipped probes (a concurrent session's misses must not push this
   * one past MAXSKIPPED, nor show in its closing line).
   */
  private watchMisses(fd: number) {
    if (!this.missSeen.has(fd)) this.missSeen.set(fd, misses(fd));
  }

  /** Takes the growth of the programs' recursion_misses since the last look. */
  private takeMisses() {
    // nothing linked, nothing to attribute (and no scan of the slots: a begin one-liner's end)
    if (this.missSeen.size === 0) return;
    let grown = 0;
    for (const [fd, seen] of this.missSeen) {
      const now = misses(fd);
      grown += now - seen;
      this.missSeen.set(fd, now);
    }
    const others = this.othersPresent();
    const claims = this.vm.othersClaims();
    const alone = !others && !this.othersAtLook && claims === this.claimsAtLook;
    this.othersAtLook = others;
    this.claimsAtLook = claims;
    if (grown === 0) return;
    if (alone) this.missOwn += grown;
    else this.missShared += grown;
  }

  /** Whether a live process other than this one holds a slot (a swap's two slots are ours; a
   * killed owner's slot is nobody's). Held, not only active: a session's links can be refused
   * from its attach, before it is armed, to its detach. */
  private othersPresent(): boolean {
    for (const { slot, s } of sessionSlots(this.vm.maps.sessions))
      if (slot !== this.slot && s && Number(s.ownerPid) !== process.pid && ownerAlive(s)) return true;
    return false;
  }

  /** recursion misses counted as this script's skipped probes so far */
  recursionMisses(): number {
    this.takeMisses();
    return this.missOwn;
  }

  /** The kernel's skipped count (its busy flag) plus the recursion misses. */
  private skippedNow(): bigint {
    if (this.slot < 0) return 0n;
    const raw = addon().mapLookup(this.vm.maps.counters, slotKeyOf(this.slot), COUNTERS_SIZE * this.ncpus);
    return (raw ? sumCounters(raw, this.ncpus).skipped : 0n) + BigInt(this.recursionMisses());
  }

  /** Past MAXSKIPPED counting the misses: stap's "Skipped too many probes" error (once; the
   * kernel reports it itself when its own count passes first). */
  checkSkipped() {
    if (this.skippedReported || this.state === 'error' || this.missSeen.size === 0) return;
    if (this.skippedNow() <= BigInt(this.opts.maxSkipped)) return;
    this.skippedReported = true;
    this.onEvent(this, { type: 'error', code: ERR.SKIPPED, pc: 0 });
  }

  /** An ERROR record came: a SKIPPED one from the kernel is reported once. */
  noteError(code: number) {
    if (code === ERR.SKIPPED) this.skippedReported = true;
  }

  runUser(p: ProbeInfo) {
    runHandler(this.img, p.pc, p.index, this.backend, this.ctx, { maxAction: this.opts.maxAction });
  }

  private byOrder(fam: 'begin' | 'end' | 'error'): ProbeInfo[] {
    return this.img.probes
      .filter((p) => p.attach.family === fam)
      .sort((x, y) => (x.attach as { order: number }).order - (y.attach as { order: number }).order);
  }

  /** Runs the begin probes in order; exit() or an error past MAXERRORS skips the rest. */
  runBegin() {
    for (const p of this.byOrder('begin')) {
      if (this.state !== 'running') break;
      this.runUser(p);
    }
  }

  /** Starts the user-space timer probes. */
  startTimers() {
    // MAXSKIPPED counts the kernel's recursion misses too: looked at once a second
    if (this.missSeen.size) this.timers.push(setInterval(() => !this.ended && this.checkSkipped(), 1000));
    for (const p of this.img.probes) {
      if (p.attach.family !== 'timer') continue;
      const periodMs = Number(p.attach.periodNs) / 1e6;
      this.timers.push(setInterval(() => !this.ended && this.runUser(p), periodMs));
    }
  }

  /** Whether anything but begin/end probes runs: a script of only those ends after begin. */
  get hasWork(): boolean {
    return this.img.probes.some((p) => !['begin', 'end', 'error'].includes(p.attach.family));
  }

  /** Inactive (kernel handlers that start from now on return at once), timers cleared. */
  deactivate() {
    this.ended = true;
    this.setActive(0);
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  /** Delivers the records in the ring now. */
  drain() {
    this.reader?.consume();
  }

  /**
   * End probes while the state is 'stopping' (an error past MAXERRORS in one ends them), or
   * the error probes once it is 'error'; then the globals written and never read, as stap
   * prints them at exit.
   */
  runEnd(display: boolean) {
    if (this.state === 'running') this.state = 'stopping';
    for (const p of this.byOrder('end')) {
      if (this.state !== 'stopping') break;
      this.runUser(p);
    }
    if (this.state === 'error') for (const p of this.byOrder('error')) this.runUser(p);
    if (display) this.output.text(globalDisplay(this.img, this.backend));
    this.output.flush();
  }

  /**
   * Closes the links. Detaching waits for each tracepoint's grace period (~80 ms for the
   * faultable syscall tracepoints); once it returns no handler of this generation is
   * running, and whatever one emitted is in the ring.
   */
  async detach() {
    const links = this.links;
    this.links = [];
    await Promise.all(links.map((l) => l.closeAsync()));
  }

  /**
   * Detaches, and resolves as soon as no handler of this generation can still run or emit,
   * which comes before the links are closed: deactivate() came first, so after one RCU grace
   * period (the addon's quiesce(), 8-25 ms here) every handler that saw the slot active has
   * returned, and every later one sees it inactive and returns at once; closing a link of a
   * syscall tracepoint waits for an RCU tasks-trace grace period as well (60-80 ms). Both run
   * at once; the first to finish will do. `detached` is the links' closing: the slot must not
   * be freed before it (release), or another session could claim the slot and make it active
   * while these links still run its handlers.
   */
  async stopHandlers(): Promise<{ detached: Promise<void> }> {
    const linked = this.links.length > 0;
    const detached = this.detach();
    const quiesce = addon().quiesce;
    if (!linked || !quiesce) await detached;
    else await Promise.race([detached, quiesce().then((ok) => (ok ? undefined : detached))]);
    return { detached };
  }

  /** The slot's counters with this script's recursion misses (final once its handlers stopped). */
  counters(): Counters {
    if (this.slot < 0) return { ...NO_COUNTERS };
    const raw = addon().mapLookup(this.vm.maps.counters, slotKeyOf(this.slot), COUNTERS_SIZE * this.ncpus);
    const counters = raw ? sumCounters(raw, this.ncpus) : { ...NO_COUNTERS };
    counters.skipped += BigInt(this.recursionMisses());
    return counters;
  }

  /** Frees the slot (its ring and array maps stay in the outer maps for reuse); returns its counters. */
  release(counters: Counters = this.counters()): Counters {
    if (this.slot < 0) return NO_COUNTERS;
    const a = addon();
    const key = slotKeyOf(this.slot);
    this.reader?.close();
    this.reader = undefined;
    withLock(() => a.mapUpdate(this.vm.maps.sessions, key, Buffer.alloc(SESSION_SIZE), BPF_ANY));
    for (const fd of this.backend?.inner.values() ?? []) a.close(fd);
    if (this.ring >= 0) a.close(this.ring);
    this.ring = -1;
    this.slot = -1;
    return counters;
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
        else this.onEvent(this, decodeRecordAt(this.img, batch, off, len));
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

  /**
   * Copies the globals of `from` whose name and type match into this generation (hot swap
   * with --keep-globals): scalars by value, arrays element by element when their key layout
   * is the same. Returns the names kept.
   */
  keepGlobalsOf(from: Generation): string[] {
    const kept: string[] = [];
    for (const g of this.img.globals) {
      const o = from.img.globals.find((x) => x.name === g.name && x.type === g.type);
      if (!o) continue;
      if (g.type === 'long') this.backend.globalSet(g.slot, from.backend.globalGet(o.slot));
      else this.backend.gstrSet(g.slot, from.backend.gstrGet(o.slot));
      kept.push(g.name);
    }
    const a = addon();
    for (const arr of this.img.arrays) {
      const o = from.img.arrays.find(
        (x) =>
          x.name === arr.name &&
          x.cls === arr.cls &&
          x.valueType === arr.valueType &&
          x.keyTypes.join() === arr.keyTypes.join() &&
          x.keyOffsets.join() === arr.keyOffsets.join() &&
          x.keyWidths.join() === arr.keyWidths.join() &&
          JSON.stringify(x.stat) === JSON.stringify(arr.stat),
      );
      if (!o) continue;
      const { keySize, valueSize: classValue } = arrayClass(arr);
      // a statistic's per-CPU value: every CPU's copy back to back
      const valueSize = isStatClass(arr.cls) ? STAT_VAL_SIZE * a.numPossibleCpus() : classValue;
      const src = from.backend.inner.get(o.id)!;
      const dst = this.backend.inner.get(arr.id)!;
      for (let k = a.mapNextKey(src, null, keySize); k; k = a.mapNextKey(src, k, keySize)) {
        const v = a.mapLookup(src, k, valueSize);
        if (v) a.mapUpdate(dst, k, v, BPF_ANY);
      }
      kept.push(arr.name);
    }
    return kept;
  }
}

/**
 * Runs the pure paths of a run's start and end once over `img`, with no BPF object and no
 * standard stream (a warm server worker's warm-up, src/server/warmup.ts): the begin and end
 * probes in the user-space interpreter on a memory backend, their printf output and a kernel
 * record of each format through the output formatter into a sink, the session and code blobs.
 * A command's begin one-liner otherwise ran all of this for the first time in the process.
 * Returns the text it formatted.
 */
export function warmRuntime(img: ProgramImage): string {
  const out: Buffer[] = [];
  const sink = new Writable({ write: (c: Buffer, _e, cb) => (out.push(c), cb()) });
  const gen = new Generation(undefined as unknown as Interpreter, img, { maxAction: 1000, maxErrors: 0, maxSkipped: 100, target: 0 }, sink, (g, ev) => {
    if (ev.type === 'print') g.output.print(ev);
    else if (ev.type === 'error') errorMessage(g.img, ev);
  });
  const be = new MemoryBackend(img);
  gen.backend = be as unknown as KernelBackend;
  const events = () => be.events.splice(0).forEach((ev) => gen['onEvent'](gen, ev));
  gen.runBegin();
  events();
  // every format as the kernel's PRINT record (zeros and empty strings), then an EXIT record
  const recs = img.formats.map((f, i) => {
    const r = Buffer.alloc(4 + REC_HDR_SIZE + f.args.reduce((n, t) => n + (t === 'long' ? 8 : 2), 0));
    r.writeUInt32LE(r.length - 4, 0);
    r.writeUInt32LE(REC.PRINT, 4);
    r.writeUInt32LE(i, 8);
    return r;
  });
  const exit = Buffer.alloc(4 + REC_HDR_SIZE);
  exit.writeUInt32LE(REC_HDR_SIZE, 0);
  exit.writeUInt32LE(REC.EXIT, 4);
  gen['onBatch'](Buffer.concat([...recs, exit]));
  gen.runEnd(true);
  events();
  gen.output.flush();
  decodeSession(encodeSession({ active: 0, maxaction: 1000, realtimeOff: realtimeOffset(), ownerPid: 1n, ownerStart: procStart(process.pid), target: 0n, maxskipped: 100, skipped: 0, maxerrors: 0, errors: 0 }));
  encodeCodeBlob(img.code, img.data);
  // what the run printed, for a test to tell that it ran
  return Buffer.concat(out).toString('latin1');
}
