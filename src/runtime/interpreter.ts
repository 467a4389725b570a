// The pinned interpreter: the first run loads and verifies vm/tapvm.bpf.o and pins its programs
// and shared maps under /sys/fs/bpf/tapvm/<hash>; later runs only open the pins (no verifier).
// Only the tracepoint entry program and its stubs are loaded up front (begin/end, kernel.trace
// and system call probes); the perf-event and uprobe entry programs, ~100k verified
// instructions each, are loaded and pinned the first time a script attaches one (prog()).
// Scripts with -D MAXSTRINGLEN above 128 use vm/tapvm-512.bpf.o instead (src/isa/strlen.ts):
// its own hash, its own pins, so sessions of both run side by side.
import * as fs from 'fs';
import * as path from 'path';
import * as crypto from 'crypto';
import { execFileSync } from 'child_process';
import { addon, BPF_ANY, BPF_MAP_TYPE } from '../native';
import { withLock } from './lock';
import { ARRAY_CLASSES, LIMITS } from '../isa/opcodes';
import { variantSuffix } from '../isa/strlen';
import { ownerAlive, sessionSlots } from './generation';

export const BPFFS = '/sys/fs/bpf';
export const VM_OBJECT = path.join(__dirname, '..', '..', 'vm', 'tapvm.bpf.o');
/** The object with this string slot size (128: VM_OBJECT, 512: tapvm-512.bpf.o). */
export const vmObject = (slot: number = LIMITS.MAXSTRINGLEN): string => path.join(__dirname, '..', '..', 'vm', `tapvm${variantSuffix(slot)}.bpf.o`);
/** Every object's slot size, for what looks at all sessions (--sessions). */
export const VM_SLOTS: number[] = [LIMITS.MAXSTRINGLEN, LIMITS.MAXSTRINGLEN_MAX];

/** Tracepoint entry stubs (vm/tapvm.bpf.c TP_STUB): stub00..07, stub10..17, ... stub37. */
export const TP_STUBS = Array.from({ length: 32 }, (_, i) => `tapvm_tp_stub${Math.floor(i / 8)}${i % 8}`);
export const PROGRAMS = ['tapvm_tp', 'tapvm_perf', 'tapvm_uprobe', 'tapvm_uprobe_multi', 'tapvm_raw_tp'] as const;
/** Entry programs loaded when first used (Interpreter.prog), not on a cold start. */
export const LAZY_PROGRAMS: readonly ProgName[] = ['tapvm_perf', 'tapvm_uprobe', 'tapvm_uprobe_multi', 'tapvm_raw_tp'];
export const SHARED_MAPS = [
  'code',
  'sessions',
  'globals',
  'gstrs',
  'counters',
  'scratch',
  'rings',
  'tp_interp',
  // foreach's per-CPU scratch: pinned so that a lazily loaded program shares the one copy
  'iter_states',
  'iter_slots',
] as const;

/** One outer hash-of-maps per array class (vm/isa.json arrayClasses), by class index. */
export const CLASS_MAPS = ARRAY_CLASSES.map((c) => `arrays_${c.name}`);

export type ProgName = (typeof PROGRAMS)[number];
export type SharedMapName = (typeof SHARED_MAPS)[number];

export interface Interpreter {
  /** the entry program's fd; a lazy one is loaded (verified) and pinned on first use */
  prog(name: ProgName): number;
  /** tracepoint entry stubs, tried in order: a tracepoint takes each program once */
  stubs: number[];
  maps: Record<SharedMapName, number>;
  /** outer map fd of each array class, by class index */
  classMaps: number[];
  pinDir: string;
  /** true when this run loaded (and the kernel verified) the programs */
  loaded: boolean;
  loadMs: number;
  verifiedInsns: Record<string, number>;
  /** Counts a slot claim of this process in the host-wide count (call under withLock); returns
   * othersClaims() as of that claim. */
  countClaim(): number;
  /** The slot claims other processes have made in this interpreter's `sessions` map (a number
   * that only grows while the pins live; NaN when it cannot be read, which equals nothing). */
  othersClaims(): number;
}

/** statfs's f_type of bpffs (BPF_FS_MAGIC) */
const BPF_FS_MAGIC = 0xcafe4a11;

function ensureBpffs() {
  // one statfs, not a read of /proc/mounts: a start's only question is whether this is bpffs
  try {
    if (fs.statfsSync(BPFFS).type === BPF_FS_MAGIC) return;
  } catch {
    // no such directory: mount says so below
  }
  const mounts = fs.readFileSync('/proc/mounts', 'utf8');
  if (mounts.split('\n').some((l) => l.split(' ')[1] === BPFFS && l.split(' ')[2] === 'bpf')) return;
  try {
    execFileSync('mount', ['-t', 'bpf', 'bpf', BPFFS], { stdio: 'ignore' });
  } catch {
    throw new Error(`bpffs is not mounted at ${BPFFS} and could not be mounted (are you root?)`);
  }
}

// A warm server worker hashes the objects during its warm-up (src/server/warmup.ts): hashing
// ~480 KB is ~1 ms of every start; a stat tells whether the file is still the one hashed.
const hashes = new Map<string, { stamp: string; hash: string }>();

export function vmHash(slot: number = LIMITS.MAXSTRINGLEN): string {
  const file = vmObject(slot);
  const st = fs.statSync(file);
  const stamp = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
  const known = hashes.get(file);
  if (known?.stamp === stamp) return known.hash;
  const hash = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex').slice(0, 16);
  hashes.set(file, { stamp, hash });
  return hash;
}

const isEnoent = (e: unknown) => (e as { errno?: number }).errno === 2;

export type Pinned = Pick<Interpreter, 'maps' | 'stubs' | 'classMaps'> & { progs: Partial<Record<ProgName, number>>; claims: number };

function openPinned(dir: string): Pinned | undefined {
  const a = addon();
  const opened: number[] = [];
  try {
    const progs: Partial<Record<ProgName, number>> = {};
    const maps = {} as Record<SharedMapName, number>;
    for (const p of PROGRAMS) {
      try {
        opened.push((progs[p] = a.objGet(`${dir}/${p}`)));
      } catch (e) {
        // a lazy program is pinned only once some session has used it
        if (!isEnoent(e) || !LAZY_PROGRAMS.includes(p)) throw e;
      }
    }
    for (const m of SHARED_MAPS) opened.push((maps[m] = a.objGet(`${dir}/${m}`)));
    const classMaps = CLASS_MAPS.map((m) => a.objGet(`${dir}/${m}`));
    opened.push(...classMaps);
    const stubs = TP_STUBS.map((s) => a.objGet(`${dir}/${s}`));
    opened.push(...stubs);
    return { progs, maps, stubs, classMaps, claims: claimsPin(dir, false) };
  } catch (e) {
    for (const fd of opened) a.close(fd);
    if (isEnoent(e)) return undefined; // not pinned (completely) yet
    throw e;
  }
}

// Slot claims counted host-wide, per interpreter (a session tells from the count whether another
// one started since it last looked, even one that has ended again: src/runtime/generation.ts,
// recursion misses). The count is a one-element array map pinned next to `sessions` by the
// first claim (`claims`; not part of the object, so a cold load need not make it) and written
// under the host lock: a lookup and an update inside the claim's lock step, where a file next
// to the lock cost a read, a write and a rename. A session of the other object (MAXSTRINGLEN)
// runs other programs, so its claims say nothing about this one's misses.
const CLAIMS_PIN = 'claims';
/** this process's claims, by pin directory (every Session opens its own fds of the same map) */
const ownClaims = new Map<string, number>();
const ZERO_KEY = Buffer.alloc(4);

/** The claims map's fd, or -1 when it is not pinned yet and `create` is false. */
function claimsPin(dir: string, create: boolean): number {
  const a = addon();
  try {
    return a.objGet(`${dir}/${CLAIMS_PIN}`);
  } catch (e) {
    if (!isEnoent(e) || !create) return -1;
  }
  const fd = a.mapCreate(BPF_MAP_TYPE.ARRAY, 'tapvm_claims', 4, 8, 1, 0, -1);
  try {
    a.pin(fd, `${dir}/${CLAIMS_PIN}`);
  } catch {
    // the directory was pruned meanwhile: the count is this process's alone, as its maps are
  }
  return fd;
}

function claimCounter(p: Pinned, dir: string): Pick<Interpreter, 'countClaim' | 'othersClaims'> {
  const read = (): number => {
    if (p.claims < 0) p.claims = claimsPin(dir, false);
    if (p.claims < 0) return 0; // nobody has claimed a slot of these pins yet
    return Number(addon().mapLookup(p.claims, ZERO_KEY, 8)!.readBigUInt64LE(0));
  };
  const others = () => {
    try {
      return read() - (ownClaims.get(dir) ?? 0);
    } catch {
      return NaN;
    }
  };
  return {
    countClaim() {
      try {
        if (p.claims < 0) p.claims = claimsPin(dir, true);
        const n = read() + 1;
        const v = Buffer.alloc(8);
        v.writeBigUInt64LE(BigInt(n));
        addon().mapUpdate(p.claims, ZERO_KEY, v, BPF_ANY);
        const own = (ownClaims.get(dir) ?? 0) + 1;
        ownClaims.set(dir, own);
        return n - own;
      } catch {
        // not worth failing a start for: the looks then attribute no miss to this session
        return NaN;
      }
    },
    othersClaims: others,
  };
}

/** The Interpreter over pinned (or just loaded) objects; prog() loads a missing lazy program. */
function interpreter(p: Pinned, dir: string, slot: number, loaded: boolean, loadMs: number, verifiedInsns: Record<string, number>): Interpreter {
  const vm: Interpreter = {
    ...claimCounter(p, dir),
    maps: p.maps,
    stubs: p.stubs,
    classMaps: p.classMaps,
    pinDir: dir,
    loaded,
    loadMs,
    verifiedInsns,
    prog(name) {
      const fd = p.progs[name];
      if (fd !== undefined) return fd;
      const got = loadLazy(vm, name, slot);
      p.progs[name] = got;
      return got;
    },
  };
  return vm;
}

/**
 * Loads one lazy entry program against the pinned maps (libbpf reuses every shared map, so it
 * runs the same sessions' code and state) and pins it; under the host lock, so that two
 * sessions wanting it at once verify it once.
 */
function loadLazy(vm: Interpreter, name: ProgName, slot: number): number {
  const pin = `${vm.pinDir}/${name}`;
  const tryPin = () => {
    try {
      return addon().objGet(pin);
    } catch (e) {
      if (isEnoent(e)) return undefined;
      throw e;
    }
  };
  const have = tryPin();
  if (have !== undefined) return have;
  return withLock(() => {
    const raced = tryPin();
    if (raced !== undefined) return raced;
    const reuse: Record<string, number> = {};
    SHARED_MAPS.forEach((m) => (reuse[m] = vm.maps[m]));
    CLASS_MAPS.forEach((m, i) => (reuse[m] = vm.classMaps[i]));
    const t0 = process.hrtime.bigint();
    const obj = addon().loadObject(vmObject(slot), reuse, [name]);
    vm.loadMs += Number(process.hrtime.bigint() - t0) / 1e6;
    vm.verifiedInsns[name] = obj.verifiedInsns[name];
    for (const fd of Object.values(obj.maps)) addon().close(fd);
    // an addon without the program list loads every program: keep only this one
    for (const [p, fd] of Object.entries(obj.progs)) if (p !== name) addon().close(fd);
    try {
      addon().pin(obj.progs[name], pin);
    } catch (e) {
      // another build's cold start pruned this directory as stale meanwhile: run unpinned
      if (!isEnoent(e)) throw e;
    }
    return obj.progs[name];
  });
}

/** A pin directory this old with no live session is left over (a dir just pinned has none yet). */
const STALE_MS = 10 * 60 * 1000;

/**
 * Removes the pin directories of other interpreter builds (an upgraded or rebuilt vm/*.bpf.o
 * gets a new hash, and the old pins would stay in bpffs, with their maps' memory, until reboot)
 * once no live process owns a session in them. Runs after a cold load, under the host lock;
 * either build's current directory is kept.
 */
export function pruneStalePins(current: string): void {
  const root = path.dirname(current);
  const keep = new Set([current, ...VM_SLOTS.map((s) => path.join(root, vmHash(s)))]);
  for (const name of fs.readdirSync(root)) {
    const dir = path.join(root, name);
    try {
      if (keep.has(dir) || Date.now() - fs.statSync(dir).mtimeMs < STALE_MS) continue;
      let fd: number | undefined;
      try {
        fd = addon().objGet(`${dir}/sessions`);
      } catch (e) {
        if (!isEnoent(e)) throw e;
      }
      let live = false;
      if (fd !== undefined) {
        for (const { s } of sessionSlots(fd)) if (s && ownerAlive(s)) live = true;
        addon().close(fd);
      }
      if (!live) fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // pruning is housekeeping: a directory we cannot read or remove stays
    }
  }
}

// A warm server worker opens the pins during its warm-up (src/server/warmup.ts), ~60
// BPF_OBJ_GETs and a statfs that a command's start otherwise paid. Nothing is claimed or
// written: the fds only keep the objects they name. At the request, openInterpreter takes them
// if the object still hashes to the same directory and its `sessions` pin is still the map
// that was opened (a cold load replaces every pin of a directory, sessions included; the lazy
// programs and the claims map are looked up when first used either way); else it closes them
// and opens the pins as a direct run does.
let preopened: { dir: string; pinned: Pinned; sessionsId: number } | undefined;

/** Opens the pins of the object with this string slot size ahead of a run, if they exist. */
export function preopenInterpreter(slot: number = LIMITS.MAXSTRINGLEN): boolean {
  return preopenPins(path.join(BPFFS, 'tapvm', vmHash(slot)));
}

/** Opens the pins of `dir` ahead of a run (exported for tests: a private directory). */
export function preopenPins(dir: string): boolean {
  const pinned = openPinned(dir);
  if (!pinned) return false;
  dropPreopened();
  preopened = { dir, pinned, sessionsId: addon().mapInfo(pinned.maps.sessions).id };
  return true;
}

/**
 * The live sessions in the preopened pins' sessions map, read as a claim reads them (nothing
 * written): the warm-up runs the claim's scan once, which was ~0.6 ms cold on a command's time.
 */
export function livePreopenedSessions(): number {
  let live = 0;
  if (preopened) for (const { s } of sessionSlots(preopened.pinned.maps.sessions)) if (s && ownerAlive(s)) live++;
  return live;
}

function dropPreopened() {
  const p = preopened;
  preopened = undefined;
  if (!p) return;
  const a = addon();
  const { progs, maps, stubs, classMaps, claims } = p.pinned;
  for (const fd of [...Object.values(progs), ...Object.values(maps), ...stubs, ...classMaps, claims]) if (fd !== undefined && fd >= 0) a.close(fd);
}

/** The preopened pins of `dir` while they are still the pinned objects (taken once). */
export function takePreopened(dir: string): Pinned | undefined {
  const p = preopened;
  if (!p) return undefined;
  if (p.dir === dir) {
    try {
      const fd = addon().objGet(`${dir}/sessions`);
      const same = addon().mapInfo(fd).id === p.sessionsId;
      addon().close(fd);
      if (same) {
        preopened = undefined;
        return p.pinned;
      }
    } catch {
      // gone (ENOENT) or unreadable: opened anew below
    }
  }
  dropPreopened();
  return undefined;
}

export function openInterpreter(slot: number = LIMITS.MAXSTRINGLEN): Interpreter {
  const dir = path.join(BPFFS, 'tapvm', vmHash(slot));
  // still-valid pins from the warm-up: bpffs is mounted, since one of them was just re-got
  const pre = takePreopened(dir);
  if (pre) return interpreter(pre, dir, slot, false, 0, {});
  ensureBpffs();
  const warm = openPinned(dir);
  if (warm) return interpreter(warm, dir, slot, false, 0, {});
  return withLock(() => {
    // another tapvm may have pinned it while we waited for the lock
    const raced = openPinned(dir);
    if (raced) return interpreter(raced, dir, slot, false, 0, {});
    const t0 = process.hrtime.bigint();
    const eager = [...PROGRAMS.filter((p) => !LAZY_PROGRAMS.includes(p)), ...TP_STUBS];
    const obj = addon().loadObject(vmObject(slot), {}, eager);
    const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    // the stubs tail-call the interpreter through tp_interp[0]
    const zero = Buffer.alloc(4);
    const fdv = Buffer.alloc(4);
    fdv.writeUInt32LE(obj.progs.tapvm_tp);
    addon().mapUpdate(obj.maps.tp_interp, zero, fdv, BPF_ANY);
    // maps first, programs last: openPinned treats a missing program pin as "not pinned yet"
    for (const m of [...SHARED_MAPS, ...CLASS_MAPS]) addon().pin(obj.maps[m], `${dir}/${m}`);
    // an addon without the program list loaded the lazy programs too: pin them as well
    const progs: Partial<Record<ProgName, number>> = {};
    for (const p of PROGRAMS) if (obj.progs[p] !== undefined) addon().pin((progs[p] = obj.progs[p]), `${dir}/${p}`);
    for (const p of TP_STUBS) addon().pin(obj.progs[p], `${dir}/${p}`);
    const maps = Object.fromEntries(SHARED_MAPS.map((m) => [m, obj.maps[m]])) as Record<SharedMapName, number>;
    const stubs = TP_STUBS.map((p) => obj.progs[p]);
    const classMaps = CLASS_MAPS.map((m) => obj.maps[m]);
    for (const [name, fd] of Object.entries(obj.progs)) if (!(PROGRAMS as readonly string[]).includes(name) && !TP_STUBS.includes(name)) addon().close(fd);
    pruneStalePins(dir);
    return interpreter({ progs, maps, stubs, classMaps, claims: -1 }, dir, slot, true, loadMs, obj.verifiedInsns);
  });
}
