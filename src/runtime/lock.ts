// A host-wide lock around loading the interpreter and claiming session slots: flock(2) on a
// file in /run (or the temp dir), as bpffs cannot hold a lock file. The kernel gives the lock
// back when its holder's file is closed, also when the holder dies (SIGKILL): no lock is ever
// left behind for the next command to find and judge. Taking and giving it back is a syscall
// each, on a file opened once per process (a warm worker opens it ahead: src/server/warmup.ts).
// Before, a file holding the pid was linked into place and unlinked: 0.3 ms of a warm start on
// an ext4 /run, and a dead holder's file to recognise.
import * as fs from 'fs';
import * as os from 'os';
import { addon } from '../native';

/** Not /run/tapvm.lock, the linked pid file of earlier builds: to one of those, a file there
 * is a held lock (this one stays) */
export const LOCK_FILE = fs.existsSync('/run') ? '/run/tapvm.flock' : `${os.tmpdir()}/tapvm.flock`;
/** how long withLock waits for the holder before it gives up */
const LOCK_TIMEOUT_MS = 10_000;

function sleep(ms: number) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The lock files this process opened (open for its life: closing one would give the lock back). */
const opened = new Map<string, number>();
let held = false;

/** Opens the lock file (once a process): before the first withLock, off its time. */
export function openLock(file = LOCK_FILE): number {
  let fd = opened.get(file);
  if (fd === undefined) {
    // close-on-exec (libuv's default): a -c command does not inherit, and so never holds, it
    fd = fs.openSync(file, 'a', 0o600);
    opened.set(file, fd);
  }
  return fd;
}

/** " (held by pid N)", from /proc/locks, for the time-out's message. */
function holderText(fd: number): string {
  try {
    const ino = fs.fstatSync(fd).ino;
    for (const line of fs.readFileSync('/proc/locks', 'utf8').split('\n')) {
      // "1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF": pid, then major:minor:inode
      const f = line.trim().split(/\s+/);
      if (f[1] === 'FLOCK' && f[5]?.endsWith(`:${ino}`)) return ` (held by pid ${f[4]})`;
    }
  } catch {
    // no /proc/locks: the message names no holder
  }
  return '';
}

/** Runs fn holding the host-wide lock (`file` for tests). Not re-entrant. */
export function withLock<T>(fn: () => T, file = LOCK_FILE, timeoutMs = LOCK_TIMEOUT_MS): T {
  if (held) throw new Error('withLock is not re-entrant');
  const a = addon();
  const fd = openLock(file);
  const deadline = Date.now() + timeoutMs;
  while (!a.flock(fd, true)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${file}${holderText(fd)}`);
    sleep(1);
  }
  held = true;
  try {
    return fn();
  } finally {
    held = false;
    a.flock(fd, false);
  }
}
