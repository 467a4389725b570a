// Where the warm server of this package and build listens (native/client.c computes the same):
// ${TAPVM_RUN_DIR:-/run/tapvm}/server-<key>.sock, key = FNV-1a 64 of the package's real path and
// the mtime and size of three build outputs. A rebuilt tree or another checkout has another key,
// so a client never reaches a server running other code.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { addon } from '../native';

/** dist/server -> the package directory */
export const PACKAGE_ROOT = path.join(__dirname, '..', '..');

/** The files whose identity is the build's: the CLI, the worker and the addon. */
const BUILD_FILES = ['dist/cli/main.js', 'dist/server/worker.js', 'native/build/Release/tapvm.node'];

export function runDir(): string {
  return process.env.TAPVM_RUN_DIR || '/run/tapvm';
}

export function fnv1a64(text: string, h = 0xcbf29ce484222325n): bigint {
  for (const b of Buffer.from(text, 'utf8')) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  return h;
}

export function serverKey(): string {
  const pkg = fs.realpathSync(PACKAGE_ROOT);
  let text = pkg;
  for (const f of BUILD_FILES) {
    try {
      const st = fs.statSync(path.join(pkg, f), { bigint: true });
      text += `\n${st.mtimeNs}:${st.size}`;
    } catch {
      text += '\n-';
    }
  }
  return fnv1a64(text).toString(16).padStart(16, '0');
}

export const socketPath = (key: string, dir = runDir()) => path.join(dir, `server-${key}.sock`);
/** JSON ServerInfo, written by the manager while it runs */
export const infoPath = (key: string, dir = runDir()) => path.join(dir, `server-${key}.json`);

export interface ServerInfo {
  pid: number;
  key: string;
  pkg: string;
  /** ms since the epoch */
  started: number;
  /** a worker is warm and waiting for a client */
  ready: boolean;
  /** workers running a client's command */
  busy: number;
  /** commands served */
  served: number;
}

/** Whether process `pid` exists (EPERM: it does, someone else's). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Every server's info in the run directory (a dead server's file included: check its pid). */
export function listServers(dir = runDir()): ServerInfo[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: ServerInfo[] = [];
  for (const n of names) {
    if (!/^server-[0-9a-f]{16}\.json$/.test(n)) continue;
    try {
      out.push(JSON.parse(fs.readFileSync(path.join(dir, n), 'utf8')) as ServerInfo);
    } catch {
      // being rewritten or damaged
    }
  }
  return out;
}

/** The "worker ended" frame of the client protocol (native/client.c): "TVMX" i32 code i32 signal. */
export function exitFrame(code: number, signal = 0): Buffer {
  const b = Buffer.alloc(12);
  b.write('TVMX', 0, 'latin1');
  b.writeInt32LE(code, 4);
  b.writeInt32LE(signal, 8);
  return b;
}

/**
 * Sets the nice value of every thread of process `pid` (0: this one). Linux keeps nice per
 * thread, and setpriority(PRIO_PROCESS, pid) changes the one thread `pid` names: V8's and
 * libuv's threads, started at a worker's warming nice value, would stay there. False when
 * not allowed (raising priority needs root) or the process is gone. A thread in SCHED_IDLE goes
 * back to SCHED_OTHER first.
 */
export function setProcessNice(pid: number, nice: number): boolean {
  const dir = `/proc/${pid === 0 ? 'self' : pid}/task`;
  let ok = true;
  let tids: string[];
  try {
    tids = fs.readdirSync(dir);
  } catch {
    tids = [String(pid)];
  }
  const a = addon();
  for (const t of tids) {
    try {
      // a warming worker runs SCHED_IDLE (manager.ts), where nice does not count
      if (!a.schedIdle(Number(t), false)) ok = false;
      os.setPriority(Number(t), nice);
    } catch {
      ok = false;
    }
  }
  return ok;
}
