// The N-API addon (native/): the only code that makes bpf(), perf_event_open() and ring-buffer
// calls. Every function throws a JS Error whose message is one sentence ending with
// strerror(errno) (e.g. "bpf_map_create: Operation not permitted"); `err.errno` holds errno.
import * as path from 'path';

export interface LoadedObject {
  /** program name (C function name) -> fd */
  progs: Record<string, number>;
  /** map name -> fd */
  maps: Record<string, number>;
  /** program name -> verifier's processed instruction count (from the log's "processed N insns") */
  verifiedInsns: Record<string, number>;
}

export interface ProgInfo {
  name: string;
  runTimeNs: number;
  runCnt: number;
  verifiedInsns: number;
  xlatedLen: number;
  jitedLen: number;
  /** bpf_prog_info.recursion_misses: runs the kernel skipped (a BPF program already running on the CPU) */
  recursionMisses: number;
}

export interface UprobeOptions {
  path: string;
  /** file offset of the probed instruction */
  offset: number;
  pid?: number;
  retprobe?: boolean;
  cookie: bigint;
}

export interface UprobeMultiOptions {
  path: string;
  offsets: number[];
  cookies: bigint[];
  pid?: number;
  retprobe?: boolean;
}

export interface Link {
  close(): void;
  /** Closes on libuv's thread pool (detaching may wait ~80 ms for a grace period). */
  closeAsync(): Promise<void>;
}

export interface RingBufferReader {
  /**
   * Consume everything available now, synchronously calling onBatch for each batch, until
   * the ring is seen empty; returns the number of records delivered. Returns 0 when called
   * from inside onBatch or after close(). An exception thrown by onBatch comes out of here
   * (the batch counts as delivered; the records after it stay in the ring).
   */
  consume(): number;
  /** Stop polling and free the ring buffer manager. The map fd is not closed. */
  close(): void;
  /** Changes the coalesceMs option (0 to 1000) from the next wake-up on; 0 turns it off. */
  setCoalesceMs(ms: number): void;
}

/**
 * A batch handed to ringBuffer's onBatch, records back to back in ring order, no padding:
 * `[u32 len little-endian][len bytes of the record]` repeated. The Buffer is a copy the
 * callback may keep.
 */
export type RingBatch = Buffer;

export interface RingBufferOptions {
  /**
   * Most bytes in one batch, counting the 4-byte length words (default 1 MiB). A record
   * larger than this is delivered alone in its own batch.
   */
  batchBytes?: number;
  /**
   * Also drain every pollMs milliseconds (0 = never, the default). Needed when the
   * producer submits with BPF_RB_NO_WAKEUP: those records wake nobody.
   */
  pollMs?: number;
  /**
   * After a poll wake-up that delivered less than 64 KiB, stop polling for coalesceMs
   * milliseconds (0 = never, the default): at low rates every record would otherwise be a
   * wake-up and a batch of its own. Output waits at most that much longer; a wake-up that
   * found more than 64 KiB (a busy producer) does not pause.
   */
  coalesceMs?: number;
}

/** Walks a RingBatch: fn(offset of the record's first byte, its length) for each record. */
export function forEachRecord(batch: Buffer, fn: (off: number, len: number) => void): void {
  const n = batch.length;
  let off = 0;
  while (off < n) {
    if (off + 4 > n) throw new Error(`ring batch: ${n - off} stray byte(s) at ${off}`);
    const len = batch.readUInt32LE(off);
    off += 4;
    if (off + len > n) throw new Error(`ring batch: record of ${len} bytes at ${off - 4} runs past the end (${n})`);
    fn(off, len);
    off += len;
  }
}

export interface Addon {
  /**
   * Open and load a BPF ELF object with libbpf. `reuseMaps` maps a map name to an fd that
   * must be reused instead of creating that map (bpf_map__reuse_fd). Returns fds that stay
   * open after the bpf_object is closed (dup'ed). `programs`, when given, names the programs to
   * load; the others are neither verified nor returned.
   */
  loadObject(file: string, reuseMaps: Record<string, number>, programs?: string[]): LoadedObject;
  /** BPF_OBJ_PIN */
  pin(fd: number, path: string): void;
  /** BPF_OBJ_GET; throws (errno ENOENT) when the pin does not exist. */
  objGet(path: string): number;
  close(fd: number): void;
  /** bpf_map_create; innerMapFd only for *_OF_MAPS types (else -1). */
  mapCreate(type: number, name: string, keySize: number, valueSize: number, maxEntries: number, flags: number, innerMapFd: number): number;
  /** Returns a Buffer of valueSize bytes, or null when the key is absent (ENOENT). */
  mapLookup(fd: number, key: Buffer, valueSize: number): Buffer | null;
  /** Up to `max` entries from the start of the map in one BPF_MAP_LOOKUP_BATCH (an array's in key order). */
  mapLookupBatch(fd: number, keySize: number, valueSize: number, max: number): { keys: Buffer; values: Buffer; count: number };
  /** flags: 0 = BPF_ANY, 1 = BPF_NOEXIST, 2 = BPF_EXIST */
  mapUpdate(fd: number, key: Buffer, value: Buffer, flags: number): void;
  /** Returns false when the key was absent. */
  mapDelete(fd: number, key: Buffer): boolean;
  /** BPF_MAP_GET_NEXT_KEY; key null for the first key; returns null at the end. */
  mapNextKey(fd: number, key: Buffer | null, keySize: number): Buffer | null;
  /** BPF_MAP_GET_FD_BY_ID: an fd for the map with this id (a map-in-map lookup yields ids). */
  mapFdById(id: number): number;
  /** Map fd -> kernel map id (BPF_OBJ_GET_INFO_BY_FD). */
  mapInfo(fd: number): { id: number; type: number; keySize: number; valueSize: number; maxEntries: number };
  progInfo(fd: number): ProgInfo;
  /** perf_event_open(PERF_TYPE_TRACEPOINT, config = tracepoint id, pid -1, cpu 0, ...) + BPF link with cookie. */
  attachTracepoint(progFd: number, tracepointId: number, cookie: bigint): Link;
  /**
   * perf_event_open(type, config) on every online CPU (pid -1), with sample_period = period
   * (or sample_freq = period when freq is true), then one BPF link per CPU with the cookie.
   */
  attachPerfEvent(progFd: number, type: number, config: number, period: number, freq: boolean, cookie: bigint): Link;
  /**
   * A uprobe (uretprobe with retprobe) perf event at a file offset of `path` (the uprobe PMU,
   * as libbpf's bpf_program__attach_uprobe_opts), for every process (pid -1 or absent) or one,
   * then a BPF link with the cookie.
   */
  attachUprobe(progFd: number, opts: UprobeOptions): Link;
  /**
   * One BPF_TRACE_UPROBE_MULTI link (Linux 6.6) at many file offsets of `path`, offsets[i]
   * firing with cookies[i]: attached and detached with one uprobe synchronisation in all.
   */
  attachUprobeMulti(progFd: number, opts: UprobeMultiOptions): Link;
  /** BPF_RAW_TRACEPOINT_OPEN with a cookie (Linux 6.10): the program sees the TP_PROTO arguments as u64 args[]. */
  attachRawTracepoint(progFd: number, name: string, cookie: bigint): Link;
  /**
   * Polls the ring buffer map from Node's event loop (uv_poll on ring_buffer__epoll_fd):
   * when readable, copies the available records into one batch and calls onBatch(batch)
   * once per batch (so once per wake-up unless more than batchBytes were waiting). A wake-up
   * delivers at most 4 batches, then yields to the event loop (the rest follows on the
   * next loop iteration). See RingBatch for the layout; forEachRecord walks it.
   */
  ringBuffer(mapFd: number, onBatch: (batch: Buffer) => void, opts?: RingBufferOptions): RingBufferReader;
  /**
   * An RCU grace period (membarrier MEMBARRIER_CMD_GLOBAL, on the thread pool): resolves once
   * every BPF program run that began before the call has returned; runs that begin later see
   * the map writes made before it. false where the kernel refuses it (nohz_full): no wait done.
   * Absent from an addon built before it.
   */
  quiesce?(): Promise<boolean>;
  /** BPF_ENABLE_STATS(BPF_STATS_RUN_TIME); returns an fd that keeps stats on while open. */
  enableStats(): number;
  /** libbpf_num_possible_cpus() */
  numPossibleCpus(): number;
  /**
   * The warm server's request (src/server/serve.ts): [u32 LE length][bytes] from a unix socket,
   * with the SCM_RIGHTS fds sent along (close-on-exec); null when the peer closed or was slower
   * than timeoutMs.
   */
  serverRecvRequest(fd: number, timeoutMs: number): { data: Buffer; fds: number[] } | null;
  /** Sends all of `data` (waiting on a non-blocking socket); false when the peer is gone. */
  serverSend(fd: number, data: Uint8Array): boolean;
  /** fcntl(F_DUPFD_CLOEXEC), >= 3 */
  dupFd(fd: number): number;
  dup2(from: number, to: number): void;
  fchdir(fd: number): void;
  /** flock(2) without waiting: LOCK_EX (take) or LOCK_UN; false when someone else holds it */
  flock(fd: number, take: boolean): boolean;
  /** A listening unix stream socket bound at path (close-on-exec). */
  serverListen(path: string): number;
  /**
   * Blocks until a connection arrives on listenFd (returns it, close-on-exec and non-blocking)
   * or watchFd is readable or hung up (returns -1).
   */
  serverAccept(listenFd: number, watchFd: number): number;
  /** Sends fd over a unix socket as a frame of length 0 (serverRecvRequest reads it). */
  serverSendFd(sock: number, fd: number): boolean;
  /** socketpair(AF_UNIX, SOCK_STREAM), both ends close-on-exec */
  socketPair(): [number, number];
  /** An inotify fd that becomes readable once anything in the directory (or it) changes. */
  watchDir(path: string): number;
  /** poll() without waiting: is fd readable? */
  fdReadable(fd: number): boolean;
  /**
   * SCHED_IDLE for one thread (0: the caller), or back to SCHED_OTHER from SCHED_IDLE (a thread
   * in another policy is left alone); false when not allowed.
   */
  schedIdle(tid: number, idle: boolean): boolean;
}

let cached: Addon | undefined;

export function addon(): Addon {
  if (!cached) {
    // dist/native.js and src/native.ts both sit one level below the package root.
    cached = require(path.join(__dirname, '..', 'native', 'build', 'Release', 'tapvm.node')) as Addon;
  }
  return cached;
}

export const BPF_MAP_TYPE = {
  HASH: 1,
  ARRAY: 2,
  PERCPU_HASH: 5,
  PERCPU_ARRAY: 6,
  ARRAY_OF_MAPS: 12,
  HASH_OF_MAPS: 13,
  RINGBUF: 27,
} as const;

export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;
