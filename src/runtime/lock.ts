// A host-wide lock around loading the interpreter and claiming session slots: bpffs cannot
// hold a lock file, so it lives in /run (or the temp dir).
import * as fs from 'fs';
import * as os from 'os';

const LOCK = fs.existsSync('/run') ? '/run/tapvm.lock' : `${os.tmpdir()}/tapvm.lock`;

function alive(pid: number): boolean {
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

export function withLock<T>(fn: () => T): T {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      fs.writeFileSync(LOCK, String(process.pid), { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number(fs.readFileSync(LOCK, 'utf8').trim() || '0');
      // a holder that died (SIGKILL) leaves the file behind
      if (!owner || !alive(owner)) {
        fs.rmSync(LOCK, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${LOCK} (held by pid ${owner})`);
      sleep(5);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(LOCK, { force: true });
  }
}
