// The pinned interpreter: the first run loads and verifies vm/tapvm.bpf.o and pins its programs
// and shared maps under /sys/fs/bpf/tapvm/<hash>; later runs only open the pins (no verifier).
// Scripts with -D MAXSTRINGLEN above 128 use vm/tapvm-512.bpf.o instead (src/isa/strlen.ts):
// its own hash, its own pins, so sessions of both run side by side.
import * as fs from 'fs';
import * as path from 'path';
import * as crypto from 'crypto';
import { execFileSync } from 'child_process';
import { addon, BPF_ANY } from '../native';
import { withLock } from './lock';
import { ARRAY_CLASSES, LIMITS } from '../isa/opcodes';
import { variantSuffix } from '../isa/strlen';

export const BPFFS = '/sys/fs/bpf';
export const VM_OBJECT = path.join(__dirname, '..', '..', 'vm', 'tapvm.bpf.o');
/** The object with this string slot size (128: VM_OBJECT, 512: tapvm-512.bpf.o). */
export const vmObject = (slot: number = LIMITS.MAXSTRINGLEN): string => path.join(__dirname, '..', '..', 'vm', `tapvm${variantSuffix(slot)}.bpf.o`);
/** Every object's slot size, for what looks at all sessions (--sessions). */
export const VM_SLOTS: number[] = [LIMITS.MAXSTRINGLEN, LIMITS.MAXSTRINGLEN_MAX];

/** Tracepoint entry stubs (vm/tapvm.bpf.c TP_STUB): stub00..07, stub10..17, ... stub37. */
export const TP_STUBS = Array.from({ length: 32 }, (_, i) => `tapvm_tp_stub${Math.floor(i / 8)}${i % 8}`);
export const PROGRAMS = ['tapvm_tp', 'tapvm_perf', 'tapvm_uprobe', 'tapvm_uprobe_multi'] as const;
export const SHARED_MAPS = [
  'code',
  'sessions',
  'globals',
  'gstrs',
  'counters',
  'scratch',
  'rings',
  'tp_interp',
] as const;

/** One outer hash-of-maps per array class (vm/isa.json arrayClasses), by class index. */
export const CLASS_MAPS = ARRAY_CLASSES.map((c) => `arrays_${c.name}`);

export type ProgName = (typeof PROGRAMS)[number];
export type SharedMapName = (typeof SHARED_MAPS)[number];

export interface Interpreter {
  progs: Record<ProgName, number>;
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
}

function ensureBpffs() {
  const mounts = fs.readFileSync('/proc/mounts', 'utf8');
  if (mounts.split('\n').some((l) => l.split(' ')[1] === BPFFS && l.split(' ')[2] === 'bpf')) return;
  try {
    execFileSync('mount', ['-t', 'bpf', 'bpf', BPFFS], { stdio: 'ignore' });
  } catch {
    throw new Error(`bpffs is not mounted at ${BPFFS} and could not be mounted (are you root?)`);
  }
}

export function vmHash(slot: number = LIMITS.MAXSTRINGLEN): string {
  return crypto.createHash('sha256').update(fs.readFileSync(vmObject(slot))).digest('hex').slice(0, 16);
}

function openPinned(dir: string): Pick<Interpreter, 'progs' | 'maps' | 'stubs' | 'classMaps'> | undefined {
  const a = addon();
  const opened: number[] = [];
  try {
    const progs = {} as Record<ProgName, number>;
    const maps = {} as Record<SharedMapName, number>;
    for (const p of PROGRAMS) opened.push((progs[p] = a.objGet(`${dir}/${p}`)));
    for (const m of SHARED_MAPS) opened.push((maps[m] = a.objGet(`${dir}/${m}`)));
    const classMaps = CLASS_MAPS.map((m) => a.objGet(`${dir}/${m}`));
    opened.push(...classMaps);
    const stubs = TP_STUBS.map((s) => a.objGet(`${dir}/${s}`));
    opened.push(...stubs);
    return { progs, maps, stubs, classMaps };
  } catch (e) {
    for (const fd of opened) a.close(fd);
    if ((e as { errno?: number }).errno === 2) return undefined; // ENOENT: not pinned (completely) yet
    throw e;
  }
}

export function openInterpreter(slot: number = LIMITS.MAXSTRINGLEN): Interpreter {
  ensureBpffs();
  const dir = path.join(BPFFS, 'tapvm', vmHash(slot));
  const warm = openPinned(dir);
  if (warm) return { ...warm, pinDir: dir, loaded: false, loadMs: 0, verifiedInsns: {} };
  return withLock(() => {
    // another tapvm may have pinned it while we waited for the lock
    const raced = openPinned(dir);
    if (raced) return { ...raced, pinDir: dir, loaded: false, loadMs: 0, verifiedInsns: {} };
    const t0 = process.hrtime.bigint();
    const obj = addon().loadObject(vmObject(slot), {});
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
    for (const p of PROGRAMS) addon().pin(obj.progs[p], `${dir}/${p}`);
    for (const p of TP_STUBS) addon().pin(obj.progs[p], `${dir}/${p}`);
    const progs = Object.fromEntries(PROGRAMS.map((p) => [p, obj.progs[p]])) as Record<ProgName, number>;
    const maps = Object.fromEntries(SHARED_MAPS.map((m) => [m, obj.maps[m]])) as Record<SharedMapName, number>;
    const stubs = TP_STUBS.map((p) => obj.progs[p]);
    const classMaps = CLASS_MAPS.map((m) => obj.maps[m]);
    for (const [name, fd] of Object.entries(obj.progs)) if (!(PROGRAMS as readonly string[]).includes(name) && !TP_STUBS.includes(name)) addon().close(fd);
    return { progs, maps, stubs, classMaps, pinDir: dir, loaded: true, loadMs, verifiedInsns: obj.verifiedInsns };
  });
}
