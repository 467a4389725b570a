// tapvm's user-space interpreter: vm/tapvm.bpf.c in TypeScript. It runs begin/end probes (and
// anything else user space runs) against a VmBackend. The cases of step() are the C's, in the
// same order and with the same names, so the two read side by side; the foreach opcodes
// and slices (ACLR, ITBEGIN, ITSLICE, KMASK, ASLIN, ASLDEL, ITNEXT, ITSORT, ITEND: vm/iter.h in the
// kernel) come last, before default.
//
// Registers are a BigInt64Array, so every store wraps to signed 64 bits like the kernel's __s64.
// Strings are byte strings (see ./strings): one char per byte, at most MAXSTRINGLEN-1 bytes.
import { ARRAY_CLASSES, CTX, ERR, LIMITS, Op, SCMP } from '../isa/opcodes';
import type { ArrayInfo, ProgramImage } from '../image/image';
import type { VmBackend } from './backend';
import { cstr, readStr, strBytes, toByteString, writeStr } from './strings';
import * as fs from 'fs';
import { symdata, symname } from '../kernel/kallsyms';
import { AGG, aggregate, bucketCount, readStatVal, statAdd, statDescAt, writeStatVal, STAT_VAL_SIZE, type StatAgg } from './stats';
import * as SF from './strfuncs';
import { decodeConversion } from '../isa/sprintf';
import { formatValues, type FormatValue } from '../output/format';
import { runTable } from '../regex/ere';
import { arrayClass, imageMaxStr, keyMax, slotSize } from '../isa/strlen';
import { runTdfa, UNSET } from '../regex/tdfa';

const { NREGS, NSTRS, MAXNESTING, CODE_INSNS, DATA_BYTES, NGLOBALS, NGSTRS, OUTMAX, NPROBES, MAXTRY } = LIMITS;
/** the key buffer: the wide interpreter's KEYMAX (a 128-byte image uses its first 272 bytes) */
const KEYMAX = keyMax(LIMITS.MAXSTRINGLEN_MAX);

/** What CTX/CTXS answer in user space (realtime comes from the clock, pp() from the image). */
export interface UserContextValues {
  pid: bigint;
  tid: bigint;
  ppid: bigint;
  uid: bigint;
  gid: bigint;
  cpu: bigint;
  /** text; CTXS gives its UTF-8 bytes, at most 15 like the kernel's comm */
  execname: string;
  /** CLOCK_REALTIME in ns; defaults to the process clock (tests pin it) */
  realtimeNs?: () => bigint;
  /** target(): the -c command's or the -x process's pid (0 without either) */
  target?: bigint;
  /** euid(), egid(), pexecname(): the process's own by default */
  euid?: bigint;
  egid?: bigint;
  pexecname?: string;
}

export interface RunOptions {
  /** MAXACTION: statements per handler, as ACT charges them (the session's maxaction) */
  maxAction: number;
}

export interface RunResult {
  status: 'halted' | 'error' | 'maxaction';
  /** instructions executed (step() calls), the one that halted or failed included */
  steps: number;
}

const ST_RUNNING = 0;
const ST_HALTED = 1;
const ST_ERROR = 2;
const ST_MAXACTION = 3;
/** A guard only: every loop and call runs an ACT, so MAXACTION ends a handler long before. */
const MAX_STEPS = 1 << 26;

/** sizeof(struct rec_hdr): OBEGIN's outlen, so OUTPUT errors happen where the kernel's do */
const REC_HDR = 16;

interface Frame {
  retPc: number;
  fp: number;
  sfp: number;
}

/** A pending try block (vm/trycatch.h): where to go, and the frame to unwind to. */
interface Handler {
  pc: number;
  depth: number;
  fp: number;
  sfp: number;
}

/** The output record being built: what the kernel writes into st->out. */
interface OutRecord {
  /** false until the first OBEGIN (the kernel's header is then stale: OEND sends nothing) */
  begun: boolean;
  format: number;
  pc: number;
  values: (bigint | string)[];
}

interface KeyIterator {
  /** the array ITBEGIN snapshot (null: no such array, no keys); ITSORT reads its values */
  arr: ArrayInfo | null;
  keys: Uint8Array[];
  pos: number;
}

/** struct vm_state */
interface VmState {
  r: BigInt64Array;
  s: string[];
  key: Uint8Array;
  keyView: DataView;
  out: OutRecord;
  frames: Frame[];
  handlers: Handler[];
  /** the caught error: its code, and error()'s message */
  errcode: number;
  errmsg: string;
  /** the handler's last tagged match (RETMATCH): tags, the string; null: failed or none yet */
  re: { tags: number[]; str: string } | null;
  iters: KeyIterator[];
  /** KMASK's data offset: the mask the next slice instruction compares keys under */
  kmask: number;
  pc: number;
  fp: number;
  sfp: number;
  depth: number;
  status: number;
  outlen: number;
  probe: number;
  /** statements charged by ACT in this handler (the kernel's st->steps) */
  actions: number;
}

/** The image, decoded once: the code blob as the kernel sees it (zeros, i.e. HALT, after the
 * last instruction, CODE_INSNS long) and the arrays by id. An image is plain immutable data. */
interface Decoded {
  code: bigint[];
  codeLen: number;
  arraysSrc: ArrayInfo[];
  op: Uint8Array;
  d: Uint8Array;
  a: Uint8Array;
  b: Uint8Array;
  imm: Int32Array;
  arrays: Map<number, ArrayInfo>;
}

const decodedCache = new WeakMap<ProgramImage, Decoded>();

function decodeImage(img: ProgramImage): Decoded {
  const hit = decodedCache.get(img);
  if (hit && hit.code === img.code && hit.codeLen === img.code.length && hit.arraysSrc === img.arrays) return hit;
  const dec: Decoded = {
    code: img.code,
    codeLen: img.code.length,
    arraysSrc: img.arrays,
    op: new Uint8Array(CODE_INSNS),
    d: new Uint8Array(CODE_INSNS),
    a: new Uint8Array(CODE_INSNS),
    b: new Uint8Array(CODE_INSNS),
    imm: new Int32Array(CODE_INSNS),
    arrays: new Map(),
  };
  const n = Math.min(img.code.length, CODE_INSNS);
  for (let i = 0; i < n; i++) {
    const w = BigInt.asUintN(64, img.code[i]);
    const lo = Number(w & 0xffffffffn);
    dec.op[i] = lo & 0xff;
    dec.d[i] = (lo >>> 8) & 0xff;
    dec.a[i] = (lo >>> 16) & 0xff;
    dec.b[i] = lo >>> 24;
    dec.imm[i] = Number(BigInt.asIntN(32, w >> 32n));
  }
  for (const arr of img.arrays) if (!dec.arrays.has(arr.id & 0xffff)) dec.arrays.set(arr.id & 0xffff, arr);
  decodedCache.set(img, dec);
  return dec;
}

/** tokenize's state lives with the backend (one per session): the kernel keeps it per CPU. */
const tokenizeStates = new WeakMap<VmBackend, SF.TokenizeState>();
function tokenizeState(backend: VmBackend): SF.TokenizeState {
  let t = tokenizeStates.get(backend);
  if (!t) tokenizeStates.set(backend, (t = SF.newTokenizeState()));
  return t;
}

/** struct loop_ctx */
interface LoopCtx {
  st: VmState;
  code: Decoded;
  img: ProgramImage;
  backend: VmBackend;
  ctx: UserContextValues;
  /** the session's MAXACTION: statements (ACT's counts) per handler */
  maxAction: number;
  /** the string slot size of the kernel object this image runs on (128 or 512): the C's
   * MAXSTRINGLEN (-D MAXSTRINGLEN below it is cut by the compiler's SUBSTRs) */
  slot: number;
}

// CLOCK_REALTIME = a monotonic clock + an offset taken once, like the kernel's
// bpf_ktime_get_ns() + session->realtime_off.
let realtimeOff: bigint | undefined;
function defaultRealtimeNs(): bigint {
  const mono = process.hrtime.bigint();
  if (realtimeOff === undefined) {
    const ms = performance.timeOrigin + performance.now();
    const whole = Math.floor(ms);
    realtimeOff = BigInt(whole) * 1000000n + BigInt(Math.floor((ms - whole) * 1e6)) - mono;
  }
  return mono + realtimeOff;
}

/** pp() of the running probe: the image's probe with that index, as bytes. */
function probePp(img: ProgramImage, probe: number, slot: number): string {
  const p = img.probes[probe]?.index === probe ? img.probes[probe] : img.probes.find((x) => x.index === probe);
  return p ? cstr(toByteString(p.pp), Math.min(slot, imageMaxStr(img))) : '';
}

/** array_inner(): the array whose id is the instruction's, if it lives in class cls. */
function arrayInner(lc: LoopCtx, cls: number, id: number): ArrayInfo | null {
  const arr = lc.code.arrays.get(id);
  return arr !== undefined && arr.cls === cls && cls < ARRAY_CLASSES.length ? arr : null;
}

/** The first statistics class (vm/isa.json: the value classes come first). */
const ACLASS_STAT = ARRAY_CLASSES.findIndex((c) => (c as { stat?: boolean }).stat === true);

/**
 * vm/wrap.h wrap_insert(): number the new key in the order array; when that is full, the element
 * with the smallest number (the oldest) leaves both arrays first. false: still no room.
 */
function wrapInsert(backend: VmBackend, arr: ArrayInfo, order: ArrayInfo, key: Uint8Array, seq: bigint): boolean {
  if (backend.arrayGet(order, key) !== null || backend.arraySet(order, key, i64Bytes(seq))) return true;
  let oldest: Uint8Array | null = null;
  let min = 0n;
  for (const k of backend.arrayKeys(order)) {
    const v = backend.arrayGet(order, k);
    if (v === null) continue;
    const n = readI64(v);
    if (oldest === null || n < min) {
      oldest = k;
      min = n;
    }
  }
  if (oldest === null) return false;
  backend.arrayDelete(arr, oldest);
  backend.arrayDelete(order, oldest);
  return backend.arraySet(order, key, i64Bytes(seq));
}

/**
 * vm/iter.h's iter_match: whether key k of arr equals the key buffer in every byte the KMASK
 * mask keeps (0xff under a fixed index, 0 under `*`).
 */
function sliceMatch(lc: LoopCtx, arr: ArrayInfo, k: Uint8Array): boolean {
  const size = arrayClass(arr).keySize;
  const off = Math.min(lc.st.kmask & (DATA_BYTES - 1), DATA_BYTES - 2 - size);
  const data = lc.img.data;
  for (let i = 0; i < size; i++) if (((k[i] ?? 0) ^ lc.st.key[i]) & (data[off + 2 + i] ?? 0)) return false;
  return true;
}

/** The key the map sees: the key buffer's first keySize bytes (a copy: backends may keep it). */
function keyOf(st: VmState, arr: ArrayInfo): Uint8Array {
  return st.key.slice(0, arrayClass(arr).keySize);
}

function i64Bytes(v: bigint): Uint8Array {
  const buf = new Uint8Array(8);
  new DataView(buf.buffer).setBigInt64(0, v, true);
  return buf;
}

function readI64(buf: Uint8Array): bigint {
  if (buf.length < 8) {
    const tmp = new Uint8Array(8);
    tmp.set(buf);
    buf = tmp;
  }
  return new DataView(buf.buffer, buf.byteOffset, 8).getBigInt64(0, true);
}

/** try_catch(): a pending handler takes any error but MAXACTION; the VM goes on there. */
function tryCatch(st: VmState, code: number, msg?: string): boolean {
  const h = st.handlers.pop();
  if (!h) return false;
  if (code === ERR.MAXACTION) {
    st.handlers.push(h);
    return false;
  }
  st.pc = h.pc;
  st.depth = h.depth;
  st.fp = h.fp;
  st.sfp = h.sfp;
  st.errcode = code;
  st.errmsg = msg ?? '';
  return true;
}

/** errno_str(): the compiler's table (u32 count, u32 offsets), else E#n, as vm/context.h. */
function errnoStr(data: Uint8Array, v: bigint, table: number): string {
  const u32 = (at: number) => (at + 4 <= data.length ? (data[at] | (data[at + 1] << 8) | (data[at + 2] << 16) | (data[at + 3] << 24)) >>> 0 : 0);
  const e = v < 0n ? -v : v;
  const cnt = u32(table & (DATA_BYTES - 4));
  if (e > 0n && e < BigInt(cnt)) {
    const name = readStr(data, u32((table + 4 + 4 * Number(e)) & (DATA_BYTES - 4)) & (DATA_BYTES - 1));
    if (name) return name;
  }
  return `E#${BigInt.asIntN(64, e)}`;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** ctime(): stap's "%s %s%3d %02d:%02d:%02d %d" in UTC, as vm/context.h ctime_str(). */
export function ctime(t: bigint): string {
  if (t < 0n) return 'a long, long time ago...';
  if (t > 2147483647n) return 'far far in the future...';
  const d = new Date(Number(t) * 1000);
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]}${String(d.getUTCDate()).padStart(3)} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

/** jiffies(): the kernel's counter, from /proc/timer_list (user space has no cheaper view). */
function jiffies(): bigint {
  try {
    const m = /^jiffies: (\d+)$/m.exec(fs.readFileSync('/proc/timer_list', 'latin1'));
    return m ? BigInt(m[1]) : 0n;
  } catch {
    return 0n;
  }
}

function parentComm(): string {
  try {
    return fs.readFileSync(`/proc/${process.ppid}/comm`, 'latin1').replace(/\n$/, '');
  } catch {
    return '';
  }
}

/** catch_message(): error()'s own text, else the compiler's message table entry. */
function catchMessage(lc: LoopCtx, table: number): string {
  const st = lc.st;
  if (st.errcode === ERR.USER) return st.errmsg;
  const data = lc.img.data;
  const at = (table + 4 * (st.errcode & 63)) & (DATA_BYTES - 4);
  const off = at + 4 <= data.length ? (data[at] | (data[at + 1] << 8) | (data[at + 2] << 16) | (data[at + 3] << 24)) >>> 0 : 0;
  return readStr(data, off & (DATA_BYTES - 1));
}

/** Ends the handler with an error record (message only for ERROR's USER), unless caught. */
function raise(lc: LoopCtx, code: number, pc: number, msg?: string): number {
  if (tryCatch(lc.st, code, msg)) return 0;
  if (msg === undefined) lc.backend.emit({ type: 'error', code, pc });
  else lc.backend.emit({ type: 'error', code, pc, message: msg });
  lc.st.status = ST_ERROR;
  return 1;
}

/** The C's str_cmp: bytes compared unsigned, up to MAXSTRINGLEN (strings are shorter). */
function strCmp(x: string, y: string): number {
  for (let i = 0; i < LIMITS.MAXSTRINGLEN_MAX; i++) {
    const cx = i < x.length ? x.charCodeAt(i) : 0;
    const cy = i < y.length ? y.charCodeAt(i) : 0;

    if (cx !== cy) return cx < cy ? -1 : 1;
    if (!cx) return 0;
  }
  return 0;
}

const b2n = (v: boolean): bigint => (v ? 1n : 0n);

/** ITSORT imm >> 9: the aggregate a statistics array sorts by */
const ITSORT_AGG_SHIFT = 9;

/** stap's aggregate by STGET's / ITSORT's number */
function aggField(a: StatAgg, which: number): bigint {
  switch (which) {
    case AGG.count: return a.count;
    case AGG.sum: return a.sum;
    case AGG.min: return a.min;
    case AGG.max: return a.max;
    case AGG.avg: return a.avg;
    default: return a.variance;
  }
}

/** A statistic's element added up over the backend's CPUs (the descriptor from the data area). */
function statAgg(lc: LoopCtx, arr: ArrayInfo, key: Uint8Array): StatAgg {
  const copies = lc.backend.statGet(arr, key) ?? [];
  return aggregate(copies.map(readStatVal), statDescAt(lc.img.data, arr.id));
}

/** ITSORT imm: bit 8 = descending; bits 0-7 = the column */
const ITSORT_DESC = 0x100;

/**
 * ITSORT: orders the iterator's keys as stap's _stp_map_sort (runtime/map.c) does: by the value
 * (column 0) or index `column`, longs as signed numbers, strings bytewise (strcmp), and stable:
 * equal elements keep the map's order in both directions. False for a column the array lacks.
 */
function sortIterator(backend: VmBackend, it: KeyIterator, spec: number): boolean {
  const arr = it.arr;
  if (!arr) return true;
  const column = spec & 0xff;
  const desc = (spec & ITSORT_DESC) !== 0;
  if (column > arr.keyTypes.length) return false;
  if (arr.stat && column === 0) {
    // a statistics array sorts by one of its aggregates (stap's default: @count)
    const which = (spec >> ITSORT_AGG_SHIFT) & 7;
    const by = it.keys.map((k, i) => ({ k, v: aggField(aggregate((backend.statGet(arr, k) ?? []).map(readStatVal), arr.stat!), which), i }));
    by.sort((x, y) => (desc ? -1 : 1) * (x.v < y.v ? -1 : x.v > y.v ? 1 : 0) || x.i - y.i);
    it.keys = by.map((e) => e.k);
    return true;
  }
  const type = column === 0 ? arr.valueType : arr.keyTypes[column - 1];
  const off = column === 0 ? 0 : arr.keyOffsets[column - 1];
  const by = it.keys.map((k, i) => {
    const bytes = column === 0 ? backend.arrayGet(arr, k) : k;
    let v: bigint | string;
    if (type === 'long') v = bytes ? readI64(bytes.subarray(off, off + 8)) : 0n;
    else v = bytes ? readStr(bytes, off) : '';
    return { k, v, i };
  });
  by.sort((x, y) => {
    const c = typeof x.v === 'bigint' ? (x.v < (y.v as bigint) ? -1 : x.v > (y.v as bigint) ? 1 : 0) : strCmp(x.v, y.v as string);
    return (desc ? -c : c) || x.i - y.i;
  });
  it.keys = by.map((e) => e.k);
  return true;
}

/** The string constant SEQC/SNEC compare with: the C's data_str() (offsets past
 * DATA_BYTES - MAXSTRINGLEN are clamped; the compiler never emits them). */
function dataStr(lc: LoopCtx, imm: number): string {
  const off = Math.min((imm >>> 0) & (DATA_BYTES - 1), DATA_BYTES - lc.slot);
  return readStr(lc.img.data, off, lc.slot);
}

/** A key offset as the C's KEYOFF masks it: one byte with 128-byte strings, 11 bits in the wide build. */
const keyOff = (lc: LoopCtx, imm: number): number => (imm >>> 0) & (lc.slot === LIMITS.MAXSTRINGLEN ? 255 : 2047);

// The C's R(x) and S(x) are r[rd], r[ra], r[rb] and s[sd], s[sa], s[sb] below.
function step(lc: LoopCtx): number {
  const st = lc.st;
  const code = lc.code;
  const pc = st.pc;
  const at = pc & (CODE_INSNS - 1);
  const op = code.op[at], d = code.d[at], a = code.a[at], b = code.b[at];
  const imm = code.imm[at];
  const fp = st.fp, sfp = st.sfp;
  const r = st.r, s = st.s;
  const rd = (fp + d) & (NREGS - 1), ra = (fp + a) & (NREGS - 1), rb = (fp + b) & (NREGS - 1);
  const sd = (sfp + d) & (NSTRS - 1), sa = (sfp + a) & (NSTRS - 1), sb = (sfp + b) & (NSTRS - 1);
  const okey = imm & 0xffff;
  const backend = lc.backend;
  let arr: ArrayInfo | null;
  let vp: Uint8Array | null;
  let x: bigint, y: bigint;

  st.pc = (pc + 1) >>> 0;
  switch (op) {
    case Op.HALT:
      st.status = ST_HALTED;
      return 1;
    case Op.ACT:
    case Op.ACTH: // ACT imm; HALT (the optimizer's fusion at a handler's end)
      // stap's `c->actionremaining -= n; if (<= 0) MAXACTION`: the error's pc is this ACT
      st.actions += imm;
      if (st.actions >= lc.maxAction) {
        st.pc = pc;
        st.status = ST_MAXACTION;
        return 1;
      }
      if (op === Op.ACT) break;
      st.status = ST_HALTED;
      return 1;
    case Op.MOVI:
      r[rd] = BigInt(imm);
      break;
    case Op.MOVHI:
      r[rd] = (r[rd] & 0xffffffffn) | (BigInt(imm >>> 0) << 32n);
      break;
    case Op.MOV:
      r[rd] = r[ra];
      break;
    case Op.ADD:
      r[rd] = r[ra] + r[rb];
      break;
    case Op.SUB:
      r[rd] = r[ra] - r[rb];
      break;
    case Op.MUL:
      r[rd] = r[ra] * r[rb];
      break;
    case Op.DIV:
    case Op.MOD:
    case Op.DIVI:
    case Op.MODI: {
      /* the kernel divides magnitudes, then fixes the sign: INT64_MIN / -1 == INT64_MIN */
      x = r[ra];
      y = op >= Op.DIVI ? BigInt(imm) : r[rb];
      if (y === 0n) return raise(lc, ERR.DIV0, pc);
      const ux = x < 0n ? -x : x;
      const uy = y < 0n ? -y : y;
      if (op === Op.DIV || op === Op.DIVI) {
        const q = ux / uy;
        r[rd] = x < 0n !== y < 0n ? -q : q;
      } else {
        const q = ux % uy;
        r[rd] = x < 0n ? -q : q;
      }
      break;
    }
    case Op.AND:
      r[rd] = r[ra] & r[rb];
      break;
    case Op.OR:
      r[rd] = r[ra] | r[rb];
      break;
    case Op.XOR:
      r[rd] = r[ra] ^ r[rb];
      break;
    case Op.SHL:
      r[rd] = r[ra] << (r[rb] & 63n);
      break;
    case Op.SHR:
      r[rd] = r[ra] >> (r[rb] & 63n);
      break;
    case Op.ADDI:
      r[rd] = r[ra] + BigInt(imm);
      break;
    case Op.NEG:
      r[rd] = -r[ra];
      break;
    case Op.BNOT:
      r[rd] = ~r[ra];
      break;
    case Op.LNOT:
      r[rd] = b2n(!r[ra]);
      break;
    case Op.EQ:
      r[rd] = b2n(r[ra] === r[rb]);
      break;
    case Op.NE:
      r[rd] = b2n(r[ra] !== r[rb]);
      break;
    case Op.LT:
      r[rd] = b2n(r[ra] < r[rb]);
      break;
    case Op.LE:
      r[rd] = b2n(r[ra] <= r[rb]);
      break;
    case Op.GT:
      r[rd] = b2n(r[ra] > r[rb]);
      break;
    case Op.GE:
      r[rd] = b2n(r[ra] >= r[rb]);
      break;
    case Op.JMP:
      st.pc = imm >>> 0;
      break;
    case Op.JZ:
      if (!r[ra]) st.pc = imm >>> 0;
      break;
    case Op.JNZ:
      if (r[ra]) st.pc = imm >>> 0;
      break;
    case Op.CALL: {
      const dep = st.depth;

      if (dep >= MAXNESTING - 1 || fp + a > NREGS - 64 || sfp + b > NSTRS - 8) return raise(lc, ERR.NESTING, pc);
      const f = st.frames[dep & (MAXNESTING - 1)];
      f.retPc = (pc + 1) >>> 0;
      f.fp = fp;
      f.sfp = sfp;
      st.depth = dep + 1;
      st.fp = fp + a;
      st.sfp = sfp + b;
      st.pc = imm >>> 0;
      break;
    }
    case Op.RET: {
      let dep = st.depth;

      if (dep === 0) {
        st.status = ST_HALTED;
        return 1;
      }
      dep--;
      st.depth = dep;
      const f = st.frames[dep & (MAXNESTING - 1)];
      st.pc = f.retPc;
      st.fp = f.fp;
      st.sfp = f.sfp;
      break;
    }
    case Op.SCONST:
      s[sd] = readStr(lc.img.data, (imm >>> 0) & (DATA_BYTES - 1), lc.slot);
      break;
    case Op.SMOV:
      if (d !== a) s[sd] = s[sa];
      break;
    case Op.SCAT: {
      /* sa, then as much of sb as fits in MAXSTRINGLEN-1 bytes */
      const n = s[sa].length & (lc.slot - 1);
      s[sd] = s[sa].slice(0, n) + s[sb].slice(0, lc.slot - n - 1);
      break;
    }
    case Op.SCMP: {
      const c = strCmp(s[sa], s[sb]);

      switch (imm) {
        case SCMP.EQ: r[rd] = b2n(c === 0); break;
        case SCMP.NE: r[rd] = b2n(c !== 0); break;
        case SCMP.LT: r[rd] = b2n(c < 0); break;
        case SCMP.LE: r[rd] = b2n(c <= 0); break;
        case SCMP.GT: r[rd] = b2n(c > 0); break;
        default: r[rd] = b2n(c >= 0); break;
      }
      break;
    }
    case Op.SCLR:
      s[sd] = '';
      break;
    case Op.GLD:
      r[rd] = backend.globalGet((imm >>> 0) & (NGLOBALS - 1));
      break;
    case Op.GST:
      backend.globalSet((imm >>> 0) & (NGLOBALS - 1), r[ra]);
      break;
    case Op.GADD:
      x = r[ra];
      r[rd] = backend.globalAdd((imm >>> 0) & (NGLOBALS - 1), x);
      break;
    case Op.GLDS:
    case Op.GSTS:
      if (op === Op.GLDS) s[sd] = cstr(backend.gstrGet((imm >>> 0) & (NGSTRS - 1)), lc.slot);
      else backend.gstrSet((imm >>> 0) & (NGSTRS - 1), s[sa]);
      break;
    case Op.KCLR:
      // the C clears 16, 32, 64 or KEYMAX bytes: the smallest of those that covers imm
      st.key.fill(0, 0, imm <= 16 ? 16 : imm <= 32 ? 32 : imm <= 64 ? 64 : KEYMAX);
      break;
    case Op.KPUTI:
      st.keyView.setBigInt64(keyOff(lc, imm), r[ra], true);
      break;
    case Op.KINT:
      st.key.fill(0, 0, imm <= 16 ? 16 : imm <= 32 ? 32 : imm <= 64 ? 64 : KEYMAX);
      st.keyView.setBigInt64(0, r[ra], true);
      break;
    case Op.KPUTS:
      writeStr(st.key, keyOff(lc, imm), s[sa], b === 0 || b > lc.slot ? lc.slot : b);
      break;
    case Op.KCOMM:
      /* bpf_get_current_comm(&key[imm], 16): CTXS execname + KPUTS of width 0 or >= 16 */
      st.key.fill(0, keyOff(lc, imm), keyOff(lc, imm) + 16);
      writeStr(st.key, keyOff(lc, imm), cstr(toByteString(lc.ctx.execname), 16), 16);
      break;
    case Op.KGETI:
      r[rd] = st.keyView.getBigInt64(keyOff(lc, imm), true);
      break;
    case Op.KGETS:
      s[sd] = readStr(st.key, keyOff(lc, imm), lc.slot);
      break;
    case Op.AGET:
    case Op.AGETS:
    case Op.AIN:
      /* class bit 0 = string values: AGET sees only long-valued classes, AGETS string ones */
      arr = arrayInner(lc, op === Op.AGET ? b & ~1 : op === Op.AGETS ? b | 1 : b, okey);
      vp = arr ? backend.arrayGet(arr, keyOf(st, arr)) : null;
      if (op === Op.AIN) r[rd] = b2n(vp !== null);
      else if (op === Op.AGET) r[rd] = vp ? readI64(vp) : 0n;
      else if (vp) s[sd] = readStr(vp, 0, lc.slot);
      else s[sd] = '';
      break;
    case Op.ASET:
    case Op.ASETS:
      arr = arrayInner(lc, op === Op.ASET ? b & ~1 : b | 1, okey);
      if (
        !arr ||
        !backend.arraySet(
          arr,
          keyOf(st, arr),
          op === Op.ASET ? i64Bytes(r[ra]) : strBytes(s[sa], arrayClass(arr).valueSize),
        )
      )
        return raise(lc, ERR.OVERFLOW, pc);
      break;
    case Op.AADD: {
      arr = arrayInner(lc, b & ~1, okey);
      if (!arr) return raise(lc, ERR.OVERFLOW, pc);
      const k = keyOf(st, arr);
      vp = backend.arrayGet(arr, k);
      if (!vp) {
        if (!backend.arraySet(arr, k, i64Bytes(0n))) return raise(lc, ERR.OVERFLOW, pc);
        vp = backend.arrayGet(arr, k);
        if (!vp) return raise(lc, ERR.OVERFLOW, pc);
      }
      x = r[ra];
      const nv = BigInt.asIntN(64, readI64(vp) + x);
      if (!backend.arraySet(arr, k, i64Bytes(nv))) return raise(lc, ERR.OVERFLOW, pc);
      r[rd] = nv;
      break;
    }
    case Op.AWRAP: {
      // stap's map->wrap: a key already there keeps its place; a new one is numbered
      arr = arrayInner(lc, b, okey);
      if (!arr) return raise(lc, ERR.OVERFLOW, pc);
      const k = keyOf(st, arr);
      if ((arr.stat ? backend.statGet(arr, k) : backend.arrayGet(arr, k)) !== null) break;
      const seq = backend.globalAdd(a & (NGLOBALS - 1), 1n) - 1n;
      const order = arrayInner(lc, b >= ACLASS_STAT ? (b - ACLASS_STAT) * 2 : b & ~1, d & 63);
      if (!order || !wrapInsert(backend, arr, order, k, seq)) return raise(lc, ERR.OVERFLOW, pc);
      break;
    }
    case Op.ADEL:
      arr = arrayInner(lc, b, okey);
      if (arr) backend.arrayDelete(arr, keyOf(st, arr));
      break;
    case Op.CTX:
      switch (imm) {
        case CTX.PID:
          r[rd] = lc.ctx.pid;
          break;
        case CTX.TID:
          r[rd] = lc.ctx.tid;
          break;
        case CTX.PPID:
          r[rd] = lc.ctx.ppid;
          break;
        case CTX.UID:
          r[rd] = lc.ctx.uid;
          break;
        case CTX.GID:
          r[rd] = lc.ctx.gid;
          break;
        case CTX.CPU:
          r[rd] = lc.ctx.cpu;
          break;
        case CTX.REALTIME_NS:
          r[rd] = (lc.ctx.realtimeNs ?? defaultRealtimeNs)();
          break;
        case CTX.TARGET:
          r[rd] = lc.ctx.target ?? 0n;
          break;
        case CTX.EUID:
          r[rd] = lc.ctx.euid ?? BigInt(process.geteuid?.() ?? 0);
          break;
        case CTX.EGID:
          r[rd] = lc.ctx.egid ?? BigInt(process.getegid?.() ?? 0);
          break;
        case CTX.LOCAL_CLOCK_NS:
          /* bpf_ktime_get_ns() is CLOCK_MONOTONIC, as hrtime is */
          r[rd] = process.hrtime.bigint();
          break;
        case CTX.JIFFIES:
          r[rd] = jiffies();
          break;
        default:
          return raise(lc, ERR.OPCODE, pc);
      }
      break;
    case Op.CTXS:
      if (imm === CTX.EXECNAME) {
        /* bpf_get_current_comm(S(d), 16) */
        s[sd] = cstr(toByteString(lc.ctx.execname), 16);
      } else if (imm === CTX.PP) {
        s[sd] = probePp(lc.img, st.probe & (NPROBES - 1), lc.slot);
      } else if (imm === CTX.PEXECNAME) {
        s[sd] = cstr(toByteString(lc.ctx.pexecname ?? parentComm()), 16);
      } else {
        return raise(lc, ERR.OPCODE, pc);
      }
      break;
    case Op.TPLD:
    case Op.TPSTR:
    case Op.USTR:
      /* kernel only: no tracepoint record nor user memory here */
      return raise(lc, ERR.OPCODE, pc);
    case Op.OBEGIN: {
      const h = st.out;

      h.begun = true;
      h.format = imm >>> 0;
      h.pc = pc;
      h.values = [];
      st.outlen = REC_HDR;
      break;
    }
    case Op.OINT: {
      const off = st.outlen;

      if (off > OUTMAX - 8) return raise(lc, ERR.OUTPUT, pc);
      st.out.values.push(r[ra]);
      st.outlen = off + 8;
      break;
    }
    case Op.OSTR: {
      const off = st.outlen;

      if (off > OUTMAX - lc.slot - 2) return raise(lc, ERR.OUTPUT, pc);
      const n = s[sa].length;
      st.out.values.push(s[sa]);
      st.outlen = off + 2 + n;
      break;
    }
    case Op.OMEM: {
      /* %m/%M: the kernel copies the bytes into its record; user space cannot read kernel
       * memory, so here it is always the fault stap would report for an unreadable address */
      if (r[rb] > BigInt(lc.slot)) return raise(lc, ERR.USER, pc, `${r[rb]} is too many bytes for a memory dump`);
      if (st.outlen > OUTMAX - lc.slot - 2) return raise(lc, ERR.OUTPUT, pc);
      return raise(lc, ERR.USER, pc, `kernel read fault at 0x${BigInt.asUintN(64, r[ra]).toString(16).padStart(16, '0')} (addr)`);
    }
    case Op.OEND: {
      const len = st.outlen;

      if (len > OUTMAX) return raise(lc, ERR.OUTPUT, pc);
      const h = st.out;
      if (h.begun) backend.emit({ type: 'print', format: h.format, values: h.values.slice(), pc: h.pc });
      break;
    }
    case Op.EXIT:
      backend.emit({ type: 'exit', pc });
      break;
    case Op.ERROR:
      return raise(lc, ERR.USER, pc, s[sa]);
    case Op.STADD: {
      /* user space is CPU 0: its copy of the element, created zeroed on first use */
      arr = arrayInner(lc, b, okey);
      if (!arr) return raise(lc, ERR.OVERFLOW, pc);
      const k = keyOf(st, arr);
      const copy = backend.statGet(arr, k)?.[0] ?? new Uint8Array(STAT_VAL_SIZE);
      const sv = readStatVal(copy);
      statAdd(sv, statDescAt(lc.img.data, okey), r[ra]);
      if (!backend.statPut(arr, k, writeStatVal(sv))) return raise(lc, ERR.OVERFLOW, pc);
      break;
    }
    case Op.STGET:
    case Op.STHIST: {
      arr = arrayInner(lc, b, okey);
      const desc = statDescAt(lc.img.data, okey);
      if (op === Op.STHIST && (r[ra] < 0n || r[ra] >= BigInt(bucketCount(desc)))) return raise(lc, ERR.USER, pc, 'histogram index out of range');
      const agg = arr ? statAgg(lc, arr, keyOf(st, arr)) : aggregate([], desc);
      if (op === Op.STHIST) {
        if (agg.count === 0n) return raise(lc, ERR.USER, pc, 'empty aggregate');
        r[rd] = agg.hist[Number(r[ra])];
      } else {
        if (agg.count === 0n && a !== AGG.count && a !== AGG.sum) return raise(lc, ERR.USER, pc, 'empty aggregate');
        r[rd] = aggField(agg, a);
      }
      break;
    }
    case Op.STPRINT:
      arr = arrayInner(lc, b, okey);
      backend.emit({ type: 'hist', id: okey & 63, key: st.key.slice(0, arr ? arrayClass(arr).keySize : 16), pc });
      break;
    case Op.TRY:
      if (st.handlers.length >= MAXTRY) return raise(lc, ERR.NESTING, pc);
      st.handlers.push({ pc: imm >>> 0, depth: st.depth, fp: st.fp, sfp: st.sfp });
      break;
    case Op.TRYEND:
      st.handlers.length = imm >= st.handlers.length ? 0 : st.handlers.length - imm;
      break;
    case Op.CATCH:
      s[sd] = catchMessage(lc, imm >>> 0);
      break;
    /* ---- string tapset (./strfuncs) ---- */
    case Op.STRLEN:
      r[rd] = BigInt(s[sa].length);
      break;
    case Op.SUBSTR:
      s[sd] = SF.substr(s[sa], r[rb], r[(rb + 1) & (NREGS - 1)], lc.slot);
      break;
    case Op.STRAT: {
      const c = SF.stringAt(s[sa], r[rb]);
      if (c === null) return raise(lc, ERR.POSITION, pc);
      r[rd] = c;
      break;
    }
    case Op.STRPOS:
      r[rd] = SF.strpos(s[sa], s[sb]);
      break;
    case Op.STRREPL:
      s[sd] = SF.strReplace(s[sa], s[sb], s[(sb + 1) & (NSTRS - 1)], lc.slot);
      break;
    case Op.TOKEN:
      s[sd] = SF.tokenize(tokenizeState(backend), s[sa], s[sb]);
      break;
    case Op.TEXTSTR:
      s[sd] = SF.textStr(s[sa], r[rb], r[(rb + 1) & (NREGS - 1)], lc.slot);
      break;
    case Op.STRTOL:
      r[rd] = SF.strtol(s[sa], r[rb]);
      break;
    case Op.ISDIGIT:
      r[rd] = SF.isDigit(s[sa]);
      break;
    case Op.SFMT:
    case Op.SFMTS: {
      /* one conversion of sprintf, formatted by src/output/format.ts as printf does */
      const c = decodeConversion(imm >>> 0);
      const vals: FormatValue[] = [];
      if (c.widthStar) vals.push(r[rb]);
      if (c.precisionStar) vals.push(r[(rb + 1) & (NREGS - 1)]);
      vals.push(op === Op.SFMTS ? s[sa] : r[ra]);
      s[sd] = cstr(s[sd] + formatValues({ pieces: [c], args: [] }, vals), lc.slot);
      break;
    }
    case Op.REMATCH:
      r[rd] = runTable(lc.img.data, imm >>> 0, Buffer.from(s[sa], 'latin1')) ? 1n : 0n;
      break;
    case Op.RETMATCH: {
      const tags = runTdfa(lc.img.data, imm >>> 0, Buffer.from(s[sa], 'latin1'));
      st.re = tags && { tags, str: s[sa] };
      r[rd] = tags ? 1n : 0n;
      break;
    }
    case Op.RENGROUPS:
      r[rd] = st.re ? BigInt(st.re.tags.length / 2) : -1n;
      break;
    case Op.RESUBEXPR:
      s[sd] = st.re ? subexpr(st.re, r[ra]) : '';
      break;
    case Op.ERRNOSTR:
      s[sd] = errnoStr(lc.img.data, r[ra], imm >>> 0);
      break;
    case Op.CTIME:
      s[sd] = ctime(r[ra]);
      break;
    case Op.SYMNAME:
      s[sd] = cstr(toByteString(imm ? symdata(r[ra]) : symname(r[ra])), lc.slot);
      break;
    /* KREAD, UREAD, KSTR, USTRN, TASKF, KSTACK, KBTSTR, USTACK, UBTSTR, USYMENC: kernel memory, tasks and stacks, the default case (OPCODE) */
    /* superinstructions (src/compile/optimize.ts fuses the shapes the code generator emits) */
    case Op.MULI:
      r[rd] = r[ra] * BigInt(imm);
      break;
    case Op.ANDI:
      r[rd] = r[ra] & BigInt(imm);
      break;
    case Op.ORI:
      r[rd] = r[ra] | BigInt(imm);
      break;
    case Op.XORI:
      r[rd] = r[ra] ^ BigInt(imm);
      break;
    case Op.SHLI:
      r[rd] = r[ra] << BigInt(imm & 63);
      break;
    case Op.SHRI:
      r[rd] = r[ra] >> BigInt(imm & 63);
      break;
    case Op.JEQ:
      if (r[ra] === r[rb]) st.pc = imm >>> 0;
      break;
    case Op.JNE:
      if (r[ra] !== r[rb]) st.pc = imm >>> 0;
      break;
    case Op.JLT:
      if (r[ra] < r[rb]) st.pc = imm >>> 0;
      break;
    case Op.JLE:
      if (r[ra] <= r[rb]) st.pc = imm >>> 0;
      break;
    case Op.JGT:
      if (r[ra] > r[rb]) st.pc = imm >>> 0;
      break;
    case Op.JGE:
      if (r[ra] >= r[rb]) st.pc = imm >>> 0;
      break;
    case Op.SEQC:
    case Op.SNEC:
      r[rd] = b2n((s[sa] === dataStr(lc, imm)) === (op === Op.SEQC));
      break;
    /* ---- foreach and delete of a whole array (vm/iter.h in the kernel) ---- */
    case Op.ACLR:
      arr = arrayInner(lc, b, okey);
      if (arr) backend.arrayClear(arr);
      break;
    case Op.ITBEGIN:
    case Op.ITSLICE: {
      arr = arrayInner(lc, b, okey);
      let keys = arr ? backend.arrayKeys(arr).map((k) => k.slice()) : [];
      if (arr && op === Op.ITSLICE) keys = keys.filter((k) => sliceMatch(lc, arr!, k));
      r[rd] = BigInt(st.iters.length);
      st.iters.push({ arr, keys, pos: 0 });
      break;
    }
    case Op.KMASK:
      st.kmask = imm >>> 0;
      break;
    case Op.ASLIN:
    case Op.ASLDEL: {
      arr = arrayInner(lc, b, okey);
      const hits = arr ? backend.arrayKeys(arr).filter((k) => sliceMatch(lc, arr!, k)) : [];
      if (op === Op.ASLIN) r[rd] = b2n(hits.length > 0);
      else for (const k of hits) backend.arrayDelete(arr!, k);
      break;
    }
    case Op.ITNEXT: {
      x = r[ra];
      const it = x >= 0n && x < BigInt(st.iters.length) ? st.iters[Number(x)] : undefined;

      if (!it) return raise(lc, ERR.FAULT, pc);
      if (it.pos < it.keys.length) {
        const k = it.keys[it.pos++];
        st.key.fill(0);
        st.key.set(k.length > KEYMAX ? k.subarray(0, KEYMAX) : k);
      } else {
        st.pc = imm >>> 0;
      }
      break;
    }
    case Op.ITSORT: {
      x = r[ra];
      const it = x >= 0n && x < BigInt(st.iters.length) ? st.iters[Number(x)] : undefined;

      if (!it) return raise(lc, ERR.FAULT, pc);
      if (!sortIterator(backend, it, imm)) return raise(lc, ERR.OPCODE, pc);
      break;
    }
    case Op.ITEND:
      // the kernel frees its key slots here; user space keeps every snapshot until the handler ends
      break;
    default:
      return raise(lc, ERR.OPCODE, pc);
  }
  return 0;
}

/** RESUBEXPR: subexpression n of the last match, as vm/regex.h's tre_subexpr */
function subexpr(re: { tags: number[]; str: string }, n: bigint): string {
  if (n < 0n || n >= BigInt(re.tags.length / 2)) return '';
  const [b, e] = [re.tags[2 * Number(n)], re.tags[2 * Number(n) + 1]];
  return b === UNSET || e === UNSET || e <= b ? '' : re.str.slice(b, e);
}

function newState(): VmState {
  const key = new Uint8Array(KEYMAX);
  const frames: Frame[] = [];
  for (let i = 0; i < MAXNESTING; i++) frames.push({ retPc: 0, fp: 0, sfp: 0 });
  return {
    r: new BigInt64Array(NREGS),
    s: new Array<string>(NSTRS).fill(''),
    key,
    keyView: new DataView(key.buffer),
    out: { begun: false, format: 0, pc: 0, values: [] },
    frames,
    handlers: [],
    errcode: 0,
    errmsg: '',
    re: null,
    iters: [],
    kmask: 0,
    pc: 0,
    fp: 0,
    sfp: 0,
    depth: 0,
    status: ST_RUNNING,
    outlen: 0,
    probe: 0,
    actions: 0,
  };
}

/**
 * Runs one handler from pc, like the kernel's run(): until it ends, or its ACTs charged
 * opts.maxAction statements (a MAXACTION error at that ACT). Events go to backend.emit. Every
 * run starts from zeroed registers, empty strings and a zeroed key buffer.
 */
export function runHandler(
  img: ProgramImage,
  pc: number,
  probeIndex: number,
  backend: VmBackend,
  ctx: UserContextValues,
  opts: RunOptions,
): RunResult {
  const st = newState();
  const lc: LoopCtx = { st, code: decodeImage(img), img, backend, ctx, maxAction: opts.maxAction, slot: slotSize(imageMaxStr(img)) };
  st.pc = pc >>> 0;
  st.probe = probeIndex & 0xffff;

  let steps = 0;
  while (steps < MAX_STEPS) {
    steps++;
    if (step(lc)) break;
  }
  if (st.status === ST_RUNNING || st.status === ST_MAXACTION) {
    backend.emit({ type: 'error', code: ERR.MAXACTION, pc: st.pc });
    return { status: 'maxaction', steps };
  }
  return { status: st.status === ST_HALTED ? 'halted' : 'error', steps };
}
