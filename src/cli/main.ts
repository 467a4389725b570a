// tapvm's command line: stap's options where they make sense, one sentence per failure,
// never a JavaScript stack trace.
import * as fs from 'fs';
import { Command, CommanderError } from 'commander';
import { compileSource, type Compiled } from '../compile';
import { DiagnosticError, formatDiagnostic } from '../diag/diagnostic';
import { printScript } from '../parse/print';
import { hostFacts } from '../parse';
import { disassembleAll } from '../isa/disasm';
import { Session } from '../runtime/session';
import { startStopped } from '../runtime/target';
import { liveSessions, formatSessions } from '../runtime/sessions';
import type { ProgramImage } from '../image/image';
import { printResolved } from './p2';
import { friendlyError } from './errors';
import { PassTimer } from './passes';

interface Options {
  e?: string;
  p?: string;
  v?: number;
  o?: string;
  D: string[];
  w?: boolean;
  c?: string;
  x?: string;
  T?: string;
  G: string[];
  sessions?: boolean;
}

const VERSION = require('../../package.json').version as string;

function parseDefines(defs: string[]): Record<string, number> {
  const limits: Record<string, number> = { MAXACTION: 10000, MAXERRORS: 0 };
  for (const d of defs) {
    const m = /^([A-Z_][A-Z0-9_]*)=(\d+)$/.exec(d);
    if (!m) throw new Error(`invalid -D option '${d}': expected NAME=NUMBER`);
    if (!(m[1] in limits)) throw new Error(`-D ${m[1]} is not supported yet (supported: ${Object.keys(limits).join(', ')})`);
    limits[m[1]] = Number(m[2]);
  }
  if (limits.MAXACTION < 1 || limits.MAXACTION > 1 << 23) throw new Error('MAXACTION must be between 1 and 8388608');
  return limits;
}

/** -G name=value: a declared scalar global's initial value, typed like the global. */
function setGlobals(img: ProgramImage, defs: string[]): string | undefined {
  for (const d of defs) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(d);
    if (!m) return `invalid -G '${d}': expected NAME=VALUE`;
    const g = img.globals.find((x) => x.name === m[1]);
    if (!g) return `-G ${m[1]}: the script has no scalar global '${m[1]}'`;
    if (g.type === 'long') {
      if (!/^-?(0x[0-9a-fA-F]+|\d+)$/.test(m[2])) return `-G ${m[1]}: '${m[2]}' is not a number, and '${m[1]}' is a long`;
      const neg = m[2].startsWith('-');
      g.init = BigInt.asIntN(64, (neg ? -1n : 1n) * BigInt(neg ? m[2].slice(1) : m[2]));
    } else g.init = Buffer.from(m[2], 'utf8').toString('latin1');
  }
  return undefined;
}

async function main(argv: string[]): Promise<number> {
  const program = new Command('tapvm')
    .usage('[options] SCRIPT.stp [ARGS...]  |  tapvm [options] -e SCRIPT [ARGS...]')
    .description('Run a SystemTap script on the pre-verified tapvm eBPF interpreter.')
    .option('-e <script>', 'run the given script text instead of a file')
    .option('-p <pass>', 'stop after pass NUM (1 parse, 2 resolve, 3 translate to bytecode, 4 load interpreter)')
    .option('-v', 'more verbose: pass timings (repeat for more)', (_: string, prev: number) => prev + 1, 0)
    .option('-o <file>', 'send standard output to FILE')
    .option('-D <NAME=VALUE>', 'set a limit (MAXACTION, MAXERRORS)', (v: string, prev: string[]) => prev.concat(v), [] as string[])
    .option('-w', 'suppress warnings')
    .option('--sessions', 'list the live tapvm sessions on this host and exit')
    .option('-c <command>', 'start COMMAND once the probes are armed and stop when it exits; target() is its pid')
    .option('-x <pid>', 'set target() to PID')
    .option('-T <seconds>', 'stop after SECONDS seconds')
    .option('-G <name=value>', 'set global NAME to VALUE before the begin probes', (v: string, prev: string[]) => prev.concat(v), [] as string[])
    .version(VERSION, '-V, --version')
    .argument('[script]')
    .argument('[args...]')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .allowExcessArguments(true);
  try {
    program.parse(argv);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 1;
    throw e;
  }
  const o = program.opts<Options>();
  if (o.sessions) {
    process.stdout.write(formatSessions(liveSessions()));
    return 0;
  }
  const [scriptArg] = program.args;
  // Script arguments ($1 .. $N, @1 .. @N): the positionals after the script file, or all of
  // them with -e. Byte strings, like the script text.
  const scriptArgs = (o.e !== undefined ? program.args : program.args.slice(1)).map((a) => Buffer.from(a, 'utf8').toString('latin1'));
  let text: string;
  let file: string;
  if (o.e !== undefined) {
    // scripts are byte strings (latin1 round-trips every byte), as stap treats them
    text = Buffer.from(o.e, 'utf8').toString('latin1');
    file = '<input>';
  } else if (scriptArg) {
    file = scriptArg;
    try {
      text = scriptArg === '-' ? fs.readFileSync(0, 'latin1') : fs.readFileSync(scriptArg, 'latin1');
    } catch (err) {
      process.stderr.write(`tapvm: cannot read script file '${scriptArg}': ${(err as Error).message.replace(/^.*?: /, '').split(',')[0]}\n`);
      return 1;
    }
  } else {
    process.stderr.write('tapvm: no script given: use SCRIPT.stp or -e SCRIPT (see --help)\n');
    return 1;
  }
  const lastPass = o.p ? Number(o.p) : 5;
  if (!(lastPass >= 1 && lastPass <= 5)) {
    process.stderr.write(`tapvm: invalid pass number '${o.p}': expected 1 to 5\n`);
    return 1;
  }
  const limits = parseDefines(o.D);
  const verbose = o.v ?? 0;
  const timer = new PassTimer(verbose > 0 ? (s) => process.stderr.write(s + '\n') : undefined);

  let compiled: Partial<Compiled> = {};
  try {
    compiled = compileSource(text, file, Math.min(lastPass, 3), (pass, partial) => timer.passDone(pass, partial), {
      args: scriptArgs,
      facts: hostFacts(),
    });
  } catch (e) {
    if (e instanceof DiagnosticError) {
      const sources = new Map([[file, text]]);
      for (const d of e.diagnostics) process.stderr.write(formatDiagnostic(d, sources));
      const stage = e.diagnostics[0]?.severity === 'parse error' ? 1 : 2;
      process.stderr.write(`Pass ${stage}: analysis failed.  [man error::pass${stage}]\n`);
      return 1;
    }
    throw e;
  }
  if (lastPass === 1) {
    process.stdout.write(Buffer.from(printScript(compiled.ast!), 'latin1'));
    return 0;
  }
  if (lastPass === 2) {
    process.stdout.write(printResolved(compiled.resolved!));
    return 0;
  }
  if (lastPass === 3) {
    process.stdout.write(disassembleAll(compiled.image!));
    return 0;
  }

  const setErr = setGlobals(compiled.image!, o.G);
  if (setErr) {
    process.stderr.write(`tapvm: ${setErr}\n`);
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
  const command = o.c !== undefined && lastPass === 5 ? await startStopped(o.c) : undefined;
  const out = o.o ? fs.createWriteStream(o.o) : process.stdout;
  let session: Session;
  try {
    session = new Session(compiled.image!, {
      out,
      err: process.stderr,
      maxAction: limits.MAXACTION,
      maxErrors: limits.MAXERRORS,
      verbose: verbose > 0 ? (s) => process.stderr.write(`Pass 5: ${s}\n`) : undefined,
      command,
      targetPid,
      timeoutMs: timeoutSec === undefined ? undefined : timeoutSec * 1000,
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
  if (out !== process.stdout) await new Promise<void>((res) => (out as fs.WriteStream).end(res));
  return r.exitCode;
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
    // the addon's ring buffer poller is closed; nothing else should keep the loop alive
    setImmediate(() => process.exit(code));
  },
  (err) => {
    process.stderr.write(`ERROR: ${friendlyError(err)}\n`);
    if (process.env.TAPVM_DEBUG) process.stderr.write(String((err as Error).stack) + '\n');
    process.exit(1);
  },
);
