// -c CMD: the command starts stopped, so target() is known before it runs and no event of
// its start is missed; the session continues it once the probes are armed.
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';

function state(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

/** Starts CMD through a shell that stops itself, then execs CMD in place (same pid). */
export async function startStopped(cmd: string): Promise<ChildProcess> {
  // a plain word list is exec'ed directly, so target() is the command itself; anything with
  // shell syntax runs under /bin/sh -c, as stap does
  const plain = /^[\w@%+=:,./-]+(\s+[\w@%+=:,./-]+)*$/.test(cmd.trim());
  const argv = plain ? cmd.trim().split(/\s+/) : ['/bin/sh', '-c', cmd];
  const child = spawn('/bin/sh', ['-c', 'kill -STOP $$; exec "$@"', 'sh', ...argv], { stdio: 'inherit' });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`cannot start '${cmd}'`);
  for (let i = 0; i < 2000; i++) {
    const s = state(pid);
    if (s === 'T' || s === 't') return child;
    if (s === undefined || s === 'Z') throw new Error(`'${cmd}' exited before it could be traced`);
    await new Promise((r) => setTimeout(r, 1));
  }
  child.kill('SIGKILL');
  throw new Error(`'${cmd}' did not start`);
}
