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
        if (holder() === owner) fs.rmSync(LOCK, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${LOCK} (held by pid ${owner})`);
      sleep(2);
    }
  } finally {
    fs.rmSync(mine, { force: true });
  }
  try {
    return fn();
  } finally {
    fs.rmSync(LOCK, { force: true });
  }
}

// Session slot claims counted host-wide, in a file next to the lock (written under it): a
// session tells from the count whether another one started since it last looked, even one
// that has ended again (src/runtime/generation.ts, recursion misses).
const CLAIMS = `${LOCK}.claims`;
let ownClaims = 0;

function claimCount(): number {
  try {
    return Number(fs.readFileSync(CLAIMS, 'utf8')) || 0;
  } catch {
    return 0;
  }
}

/** Counts a slot claim of this process; call under withLock. */
export function countClaim() {
  const tmp = `${CLAIMS}.${process.pid}`;
  try {
    fs.writeFileSync(tmp, String(claimCount() + 1));
    fs.renameSync(tmp, CLAIMS);
    ownClaims++;
  } catch {
    // the lock's directory took the lock file: a failure here is not worth failing a start
    // for; the slots seen at each look still tell most of it
  }
}

/** The slot claims other processes have made (a number that only grows, while the host is up). */
export function othersClaims(): number {
  return claimCount() - ownClaims;
}
