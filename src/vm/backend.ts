// What the user-space interpreter reads and writes: the session's BPF maps through the addon
// (runtime/kernel-backend.ts), or plain memory (vm/memory-backend.ts) for tests and dry runs.
import type { ArrayInfo } from '../image/image';

/**
 * Output the interpreter produces; the kernel sends the same events as ring buffer records.
 * Strings (print values, error messages, and gstrGet/gstrSet below) are byte strings: one char
 * per byte (latin1), no NUL, at most MAXSTRINGLEN-1 bytes, exactly the kernel's bytes
 * (src/vm/strings.ts: fromByteString for text, Buffer.from(s, 'latin1') for output).
 */
export type VmEvent =
  | { type: 'print'; format: number; values: (bigint | string)[]; pc: number }
  | { type: 'exit'; pc: number }
  /** print(@hist_*(x)): the statistic (array id) and its element's key, formatted by the consumer */
  | { type: 'hist'; id: number; key: Uint8Array; pc: number }
  | { type: 'error'; code: number; pc: number; message?: string }
  /** print_backtrace(): kernel return addresses, innermost first, symbolized by the consumer */
  | { type: 'stack'; frames: bigint[]; pc: number }
  /** print_ubacktrace[_brief](): user return addresses of process `pid`, innermost first */
  | { type: 'ustack'; pid: number; frames: bigint[]; brief: boolean; pc: number };

export interface VmBackend {
  globalGet(slot: number): bigint;
  globalSet(slot: number, v: bigint): void;
  /** atomically add, returns the new value */
  globalAdd(slot: number, v: bigint): bigint;
  gstrGet(slot: number): string;
  gstrSet(slot: number, s: string): void;
  /** value bytes (8 for long arrays, MAXSTRINGLEN for string arrays) or null when absent */
  arrayGet(arr: ArrayInfo, key: Uint8Array): Uint8Array | null;
  /** false when the array is full */
  arraySet(arr: ArrayInfo, key: Uint8Array, value: Uint8Array): boolean;
  arrayDelete(arr: ArrayInfo, key: Uint8Array): void;
  arrayClear(arr: ArrayInfo): void;
  /** every key, each keySize bytes, in the map's iteration order */
  arrayKeys(arr: ArrayInfo): Uint8Array[];
  /** a statistic's element: every CPU's copy (struct stat_val), or null when absent */
  statGet(arr: ArrayInfo, key: Uint8Array): Uint8Array[] | null;
  /** writes user space's copy (CPU 0's) of a statistic's element; false when the array is full */
  statPut(arr: ArrayInfo, key: Uint8Array, copy: Uint8Array): boolean;
  emit(ev: VmEvent): void;
}

/** Context values the user-space interpreter answers for CTX/CTXS (pid() in begin is tapvm's). */
export interface UserContext {
  pp: string;
}
