// The run-time half of the command line, shared by `tapvm SCRIPT` and `tapvm run MODULE`:
// -o -D -c -x -T -G, the privilege check, then one Session until it ends.
import * as fs from 'fs';
import { Session } from '../runtime/session';
import { startStopped } from '../runtime/target';
import { missingPrivilege } from '../runtime/privilege';
import { RotatingFile, parseSizeOption } from '../runtime/recorder';
import { DEFAULT_MAXNESTING, type ProgramImage } from '../image/image';
import { LIMITS } from '../isa/opcodes';
import type { PassTimer } from './passes';
import { DEFAULT_MAXSTRINGLEN, checkMaxStr, imageMaxStr } from '../isa/strlen';

export interface RuntimeFlags {
  v?: number;
  o?: string;
  D: string[];
  c?: string;
  x?: string;
  T?: string;
  G: string[];
  /** -S SIZE[,COUNT] with -o: rotating output files */
  S?: string;
  /** false with --no-global-var-display: globals written and never read are not printed at exit */
  globalVarDisplay?: boolean;
}

export function parseDefines(defs: string[]): Record<string, number> {
  const limits: Record<string, number> = { MAXACTION: 1000, MAXERRORS: 0, MAXSKIPPED: 100, MAXSTRINGLEN: DEFAULT_MAXSTRINGLEN, MAXNESTING: DEFAULT_MAXNESTING };
  for (const d of defs) {
    const m = /^([A-Z_][A-Z0-9_]*)=(\d+)$/.exec(d);
    if (!m) throw new Error(`invalid -D option '${d}': expected NAME=NUMBER`);
    // the compiler uses it (cuts, key widths); the runtime picks the interpreter object by it
    if (m[1] === 'MAXSTRINGLEN') {
      const err = checkMaxStr(Number(m[2]));
      if (err) throw new Error(err);
    }
    if (!(m[1] in limits)) throw new Error(`-D ${m[1]} is not supported yet (supported: ${Object.keys(limits).join(', ')})`);
    limits[m[1]] = Number(m[2]);
  }
  if (limits.MAXACTION < 1 || limits.MAXACTION > 1 << 23) throw new Error('MAXACTION must be between 1 and 8388608');
  // both interpreters have a fixed call stack of LIMITS.MAXNESTING frames, the probe's included
  const maxNesting = LIMITS.MAXNESTING - 1;
  if (limits.MAXNESTING > maxNesting)
    throw new Error(`MAXNESTING=${limits.MAXNESTING} is more than tapvm's interpreters allow: at most ${maxNesting} nested function calls`);
  return limits;
}

/** -G name=value: a declared scalar global's initial value, typed like the global. */
export function setGlobals(img: ProgramImage, defs: string[], flag = '-G'): string | undefined {
  for (const d of defs) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(d);
    if (!m) return `invalid ${flag} '${d}': expected NAME=VALUE`;
    const g = img.globals.find((x) => x.name === m[1]);
    if (!g) return `${flag} ${m[1]}: the script has no scalar global '${m[1]}'`;
    if (g.type === 'long') {
      if (!/^-?(0x[0-9a-fA-F]+|\d+)$/.test(m[2])) return `${flag} ${m[1]}: '${m[2]}' is not a number, and '${m[1]}' is a long`;
      const neg = m[2].startsWith('-');
      g.init = BigInt.asIntN(64, (neg ? -1n : 1n) * BigInt(neg ? m[2].slice(1) : m[2]));
    } else g.init = Buffer.from(m[2], 'utf8').toString('latin1');
  }
  return undefined;
}

/** Runs an image as a session (pass 4 stops after opening the interpreter); returns the exit code. */
export async function runImage(img: ProgramImage, o: RuntimeFlags, timer: PassTimer, lastPass: number, flag = '-G'): Promise<number> {
  const setErr = setGlobals(img, o.G, flag);
  if (setErr) {
    process.stderr.write(`tapvm: ${setErr}\n`);
    return 1;
  }
  const limits = parseDefines(o.D);
  if (o.D.some((d) => d.startsWith('MAXSTRINGLEN=')) && limits.MAXSTRINGLEN !== imageMaxStr(img)) {
    process.stderr.write(`tapvm: MAXSTRINGLEN is fixed when a script is compiled: this one was compiled with MAXSTRINGLEN=${imageMaxStr(img)} (-D MAXSTRINGLEN=${limits.MAXSTRINGLEN})\n`);
    return 1;
  }
  const targetPid = o.x === undefined ? undefined : Number(o.x);
  if (targetPid !== undefined && !(Number.isInteger(targetPid) && targetPid > 0)) {
    process.stderr.write(`tapvm: invalid -x '${o.x}': expected a process id\n`);
    return 1;
  }
  const timeoutSec = o.T === undefined ? undefined : Number(o.T);
  if (timeoutSec !== undefined && !(timeoutSec > 0)) {
    process.stderr.write(`tapvm: invalid -T '${o.T}': expected a positive number of seconds\n`);
    return 1;
  }
  const priv = missingPrivilege();
  if (priv) {
    process.stderr.write(`tapvm: ${priv}\n`);
    return 1;
  }
  const command = o.c !== undefined && lastPass === 5 ? await startStopped(o.c) : undefined;
  const size = o.S !== undefined && o.o ? parseSizeOption(o.S) : undefined;
  const out = o.o ? (size ? new RotatingFile(o.o, size.bytes, size.count) : fs.createWriteStream(o.o)) : process.stdout;
  const verbose = o.v ?? 0;
  let session: Session;
  try {
    session = new Session(img, {
      out,
      err: process.stderr,
      maxAction: limits.MAXACTION,
      maxErrors: limits.MAXERRORS,
      maxSkipped: limits.MAXSKIPPED,
      globalDisplay: o.globalVarDisplay !== false,
      verbose: verbose > 0 ? (s) => process.stderr.write(`Pass 5: ${s}\n`) : undefined,
      command,
      targetPid,
      timeoutMs: timeoutSec === undefined ? undefined : timeoutSec * 1000,
      // main.ts exits once this returns: the exit frees the slot
      exitsAfterRun: true,
    });
  } catch (e) {
    command?.kill('SIGKILL');
    throw e;
  }
  timer.interpreter(session.vm);
  if (lastPass === 4) return 0;
  timer.startRun();
  const r = await session.run().catch((e) => {
    command?.kill('SIGKILL');
    throw e;
  });
  timer.runDone();
  if (out !== process.stdout) await new Promise<void>((res) => (out as NodeJS.WritableStream).end(res));
  return r.exitCode;
}
