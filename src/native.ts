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
}

export interface Link {
  close(): void;
}

export interface RingBufferReader {
  /** Consume everything available now (synchronously calls the callback per record). */
  consume(): number;
  /** Stop polling and free the ring buffer manager. The map fd is not closed. */
  close(): void;
}

export interface Addon {
  /**
   * Open and load a BPF ELF object with libbpf. `reuseMaps` maps a map name to an fd that
   * must be reused instead of creating that map (bpf_map__reuse_fd). Returns fds that stay
   * open after the bpf_object is closed (dup'ed).
   */
  loadObject(file: string, reuseMaps: Record<string, number>): LoadedObject;
  /** BPF_OBJ_PIN */
  pin(fd: number, path: string): void;
  /** BPF_OBJ_GET; throws (errno ENOENT) when the pin does not exist. */
  objGet(path: string): number;
  close(fd: number): void;
  /** bpf_map_create; innerMapFd only for *_OF_MAPS types (else -1). */
  mapCreate(type: number, name: string, keySize: number, valueSize: number, maxEntries: number, flags: number, innerMapFd: number): number;
  /** Returns a Buffer of valueSize bytes, or null when the key is absent (ENOENT). */
  mapLookup(fd: number, key: Buffer, valueSize: number): Buffer | null;
  /** flags: 0 = BPF_ANY, 1 = BPF_NOEXIST, 2 = BPF_EXIST */
  mapUpdate(fd: number, key: Buffer, value: Buffer, flags: number): void;
  /** Returns false when the key was absent. */
  mapDelete(fd: number, key: Buffer): boolean;
  /** BPF_MAP_GET_NEXT_KEY; key null for the first key; returns null at the end. */
  mapNextKey(fd: number, key: Buffer | null, keySize: number): Buffer | null;
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
   * Polls the ring buffer map from Node's event loop (uv_poll on ring_buffer__epoll_fd):
   * when readable, consumes all records and calls onRecord(data) for each, with a copy.
   */
  ringBuffer(mapFd: number, onRecord: (data: Buffer) => void): RingBufferReader;
  /** BPF_ENABLE_STATS(BPF_STATS_RUN_TIME); returns an fd that keeps stats on while open. */
  enableStats(): number;
  /** libbpf_num_possible_cpus() */
  numPossibleCpus(): number;
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
  PERCPU_ARRAY: 6,
  ARRAY_OF_MAPS: 12,
  HASH_OF_MAPS: 13,
  RINGBUF: 27,
} as const;

export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;
