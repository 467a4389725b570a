// A host-wide lock around loading the interpreter and claiming session slots: bpffs cannot
// hold a lock file, so it lives in /run (or the temp dir).
import * as fs from 'fs';
import * as os from 'os';

const LOCK = fs.existsSync('/run') ? '/run/tapvm.lock' : `${os.tmpdir()}/tapvm.lock`;

/** Whether process `pid` exists (EPERM: it does, someone else's). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * unlink(2) of a file that may be gone, and nothing else: fs.rmSync(f, { force: true }) lstats
 * first and runs Node's rimraf, a lazily loaded module (1-4 ms cold in a warm worker); the lock
 * is taken twice a run and the control socket's path cleared once.
 */
export function unlinkIfPresent(file: string) {
  try {
    fs.unlinkSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

function sleep(ms: number) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The lock's holder, or undefined when the lock is free (ENOENT). */
function holder(): number | undefined {
  try {
    return Number(fs.readFileSync(LOCK, 'utf8').trim());
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

export function withLock<T>(fn: () => T): T {
  const deadline = Date.now() + 10_000;
  // link() publishes a file that already holds our pid: nobody ever sees an empty lock
  const mine = `${LOCK}.${process.pid}`;
  fs.writeFileSync(mine, String(process.pid));
  try {
    for (;;) {
      try {
        fs.linkSync(mine, LOCK);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const owner = holder();
      if (owner === undefined) continue;
      // a holder that died (SIGKILL) leaves the file behind; remove it only if it is still that one's
      if (!alive(owner)) {
        if (holder() === owner) unlinkIfPresent(LOCK);
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${LOCK} (held by pid ${owner})`);
      sleep(2);
    }
  } finally {
    unlinkIfPresent(mine);
  }
  try {
    return fn();
  } finally {
    unlinkIfPresent(LOCK);
  }
}
