// tapvm's stap-like command line: stap's options where they make sense, one sentence per
// failure, never a JavaScript stack trace.
import * as fs from 'fs';
import { Command, CommanderError } from 'commander';
import { compileSource, type Compiled } from '../compile';
import type { CompileOptions } from '../compile/codegen';
import { DiagnosticError, formatDiagnostic, type Diagnostic } from '../diag/diagnostic';
import { DEFAULT_TAPSET_DIR } from '../parse/tapsets';
import { printScript } from '../parse/print';
import { normalizeMachine, SYSTEMTAP_COMPAT_VERSION, TAPVM_RUNTIME, type Facts } from '../parse/facts';
import { disassembleAll } from '../isa/disasm';
import { liveSessions, formatSessions } from '../runtime/sessions';
import { kernelFacts, withKernelFacts, hostKernelFacts, factsFromSnapshot, type KernelFacts, type UsedFacts } from '../kernel/facts';
import { writeModule, encodeModule, moduleFileName, validModuleName, isaHash } from '../module/module';
import { printResolved } from './p2';
import { listingScript, formatListing } from './listing';
import { PassTimer } from './passes';
import { runImage, parseDefines, setGlobals, type RuntimeFlags } from './runner';
import { startFlight } from './flight';
import { parseSizeOption } from '../runtime/recorder';
import { missingPrivilege } from '../runtime/privilege';
import type { ProgramImage } from '../image/image';

interface Options extends RuntimeFlags {
  e?: string;
  p?: string;
  w?: boolean;
  I: string[];
  m?: string;
  r?: string;
  F?: boolean;
  sessions?: boolean;
  l: string[];
  L: string[];
}

/** The preprocessor's view (kernel_v, arch, CONFIG_*) of the kernel facts being compiled for. */
export function preprocessorFacts(): Facts {
  const kf = kernelFacts();
  return {
    kernelRelease: kf.release(),
    arch: normalizeMachine(kf.machine()),
    config: (name) => kernelFacts().config(name),
    systemtapVersion: SYSTEMTAP_COMPAT_VERSION,
    runtime: TAPVM_RUNTIME,
    privilege: 'stapdev',
    guruMode: 0,
  };
}

function loadFacts(file: string): KernelFacts {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read kernel facts '${file}': ${(e as Error).message.replace(/^.*?: /, '').split(',')[0]}`);
  }
  try {
    return factsFromSnapshot(JSON.parse(text), file);
  } catch (e) {
    if (e instanceof SyntaxError) throw new Error(`${file} is not a tapvm kernel-facts file (make one with 'tapvm kernel-facts > FILE')`);
    throw e;
  }
}

const VERSION = require('../../package.json').version as string;

/** -F: hands the compiled script to a detached child and says how to reach it. */
async function startFlightRecorder(img: ProgramImage, o: Options, facts: KernelFacts, used: UsedFacts, file: string): Promise<number> {
  if (o.c !== undefined) {
    process.stderr.write('tapvm: -F runs the session in the background and cannot run a -c command\n');
    return 1;
  }
  const setErr = setGlobals(img, o.G);
  if (setErr) {
    process.stderr.write(`tapvm: ${setErr}\n`);
    return 1;
  }
  const size = o.S !== undefined ? parseSizeOption(o.S) : { bytes: 1 << 20, count: 0 };
  const priv = missingPrivilege();
  if (priv) {
    process.stderr.write(`tapvm: ${priv}\n`);
    return 1;
  }
  const module = encodeModule({ name: 'flight', isa: isaHash(), factsOrigin: facts.origin, facts: used, image: img });
  const pid = await startFlight(module, { o: o.o, bytes: size.bytes, count: size.count, D: o.D, T: o.T, x: o.x, v: o.v, globalVarDisplay: o.globalVarDisplay }, file);
  // stap's wording: the pid alone in file mode, how to reconnect in memory mode
  if (o.o) process.stdout.write(`${pid}\n`);
  else process.stdout.write(`Disconnecting from tapvm session ${pid}.\nTo reconnect, type "tapvm attach ${pid}"; to end it, "tapvm stop ${pid}".\n`);
  return 0;
}

export interface ScriptText {
  text: string;
  file: string;
  /** $1 .. $N, @1 .. @N as byte strings */
  args: string[];
}

/** The script (from -e or the first positional, '-' = stdin) and its arguments; undefined after printing why not. */
export function readScript(e: string | undefined, positionals: string[]): ScriptText | undefined {
  const [scriptArg] = positionals;
  // Script arguments: the positionals after the script file, or all of them with -e
  const args = (e !== undefined ? positionals : positionals.slice(1)).map((a) => Buffer.from(a, 'utf8').toString('latin1'));
  // scripts are byte strings (latin1 round-trips every byte), as stap treats them
  if (e !== undefined) return { text: Buffer.from(e, 'utf8').toString('latin1'), file: '<input>', args };
  if (!scriptArg) {
    process.stderr.write('tapvm: no script given: use SCRIPT.stp or -e SCRIPT (see --help)\n');
    return undefined;
  }
  try {
    return { text: scriptArg === '-' ? fs.readFileSync(0, 'latin1') : fs.readFileSync(scriptArg, 'latin1'), file: scriptArg, args };
  } catch (err) {
    process.stderr.write(`tapvm: cannot read script file '${scriptArg}': ${(err as Error).message.replace(/^.*?: /, '').split(',')[0]}\n`);
    return undefined;
  }
}

/** Passes 1 to min(lastPass, 3) against `facts`; undefined after printing the diagnostics. */
export function compileWithFacts(
  text: string,
  file: string,
  lastPass: number,
  timer: PassTimer,
  args: string[],
  facts: KernelFacts,
  /** -w: no warnings */
  quiet = false,
  /** -I DIR: more tapset directories */
  tapsetDirs: string[] = [],
  /** -D MAXSTRINGLEN */
  maxStringLen?: number,
  options: CompileOptions = {},
): { compiled: Partial<Compiled>; used: UsedFacts } | undefined {
  const warnings: Diagnostic[] = [];
  const sources = new Map([[file, text]]);
  // a location in a tapset file (a .stpm macro body, a library .stp) shows that file's line
  const withFile = (d: Diagnostic): Diagnostic => {
    const f = d.loc?.file;
    if (f !== undefined && !sources.has(f) && /\.stpm?$/.test(f)) {
      try {
        sources.set(f, fs.readFileSync(f, 'latin1'));
      } catch {
        sources.set(f, '');
      }
    }
    return d;
  };
  const printWarnings = () => {
    if (!quiet) for (const d of warnings) process.stderr.write(formatDiagnostic(withFile(d), sources));
  };
  try {
    const { result, used } = withKernelFacts(facts, () =>
      compileSource(text, file, Math.min(lastPass, 3), (pass, partial) => timer.passDone(pass, partial), { args, facts: preprocessorFacts(), warnings, tapsets: [DEFAULT_TAPSET_DIR, ...tapsetDirs] }, { maxStringLen, ...options }),
    );
    printWarnings();
    return { compiled: result, used };
  } catch (e) {
    if (e instanceof DiagnosticError) {
      printWarnings();
      for (const d of e.diagnostics) for (let x: Diagnostic | undefined = d; x; x = x.chain) process.stderr.write(formatDiagnostic(withFile(x), sources));
      const stage = e.diagnostics[0]?.severity === 'parse error' ? 1 : 2;
      process.stderr.write(`Pass ${stage}: analysis failed.  [man error::pass${stage}]\n`);
      return undefined;
    }
    throw e;
  }
}

/** -l / -L: passes 1 and 2 over `probe PATTERN {}`, then the listing; no kernel attachment. */
function listProbes(o: Options): number {
  const withVars = o.L.length > 0;
  const script = listingScript([...o.l, ...o.L]);
  const facts = o.r !== undefined ? loadFacts(o.r) : hostKernelFacts();
  const timer = new PassTimer((o.v ?? 0) > 0 ? (s) => process.stderr.write(s + '\n') : undefined);
  // stap suppresses warnings in listing mode
  const c = compileWithFacts(script, '<input>', 2, timer, [], facts, true, o.I);
  if (!c) return 1;
  const out = withKernelFacts(facts, () => formatListing(c.compiled.resolved!, withVars)).result;
  process.stdout.write(out);
  return out ? 0 : 1;
}

/** stap's command line as a commander program (one per command: it keeps the parsed values). */
export function stapProgram(): Command {
  return new Command('tapvm')
    .usage('[options] SCRIPT.stp [ARGS...]  |  tapvm [options] -e SCRIPT [ARGS...]')
    .description('Run a SystemTap script on the pre-verified tapvm eBPF interpreter.')
    .option('-e <script>', 'run the given script text instead of a file')
    .option('-p <pass>', 'stop after pass NUM (1 parse, 2 resolve, 3 translate to bytecode, 4 load interpreter)')
    .option('-v', 'more verbose: pass timings (repeat for more)', (_: string, prev: number) => prev + 1, 0)
    .option('-o <file>', 'send standard output to FILE')
    .option('-D <NAME=VALUE>', 'set a limit (MAXACTION, MAXERRORS, MAXSKIPPED, MAXSTRINGLEN, MAXNESTING)', (v: string, prev: string[]) => prev.concat(v), [] as string[])
    .option('-w', 'suppress warnings')
    .option('-I <dir>', 'add a tapset directory (after the built-in tapset/)', (v: string, prev: string[]) => prev.concat(v), [] as string[])
    .option('--no-global-var-display', 'do not print the globals written and never read at exit')
    .option('-k', 'keep the temporary directory: accepted for stap compatibility; tapvm makes none')
    .option('-g', 'guru mode: accepted for stap compatibility; changes nothing (tapvm runs no embedded C)')
    .option('-l <probe>', 'list the probe points PROBE matches (aliases, wildcards), one per line, and exit', (v: string, prev: string[]) => prev.concat(v), [] as string[])
    .option('-L <probe>', 'like -l, with each point\'s variables and their types', (v: string, prev: string[]) => prev.concat(v), [] as string[])
    .option('--sessions', 'list the live tapvm sessions on this host and exit')
    .option('-c <command>', 'start COMMAND once the probes are armed and stop when it exits; target() is its pid')
    .option('-x <pid>', 'set target() to PID')
    .option('-T <seconds>', 'stop after SECONDS seconds')
    .option('-G <name=value>', 'set global NAME to VALUE before the begin probes', (v: string, prev: string[]) => prev.concat(v), [] as string[])
    .option('-F', 'flight recorder: run in the background, keeping the newest output in memory (or in -o files); tapvm attach ID')
    .option('-S <size[,count]>', 'with -F: the memory buffer in MB (default 1); with -o: switch to FILE.N after SIZE MB, keep the newest COUNT files')
    .option('-m <name>', 'with -p4: write the compiled module NAME.tvm (run it with tapvm run NAME.tvm)')
    .option('-r <facts>', 'compile for the kernel described by FACTS (made there with tapvm kernel-facts)')
    .version(VERSION, '-V, --version')
    .argument('[script]')
    .argument('[args...]')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .allowExcessArguments(true);
}

/** The program a warm worker built during its warm-up (src/server/warmup.ts); its command takes it. */
let prepared: Command | undefined;

/** Builds the program for the next command ahead of time (~0.5-2 ms of commander's set-up). */
export function prepareProgram(): void {
  prepared = stapProgram();
}

export async function main(argv: string[]): Promise<number> {
  const program = prepared ?? stapProgram();
  prepared = undefined;
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
  if (o.l.length || o.L.length) return listProbes(o);
  const script = readScript(o.e, program.args);
  if (!script) return 1;
  const { text, file, args: scriptArgs } = script;
  const lastPass = o.p ? Number(o.p) : 5;
  if (!(lastPass >= 1 && lastPass <= 5)) {
    process.stderr.write(`tapvm: invalid pass number '${o.p}': expected 1 to 5\n`);
    return 1;
  }
  const defines = parseDefines(o.D);
  if (o.S !== undefined) parseSizeOption(o.S);
  if (o.S !== undefined && !o.F && !o.o) {
    process.stderr.write('tapvm: -S needs -F (the memory buffer) or -o FILE (rotating files)\n');
    return 1;
  }
  if (o.m !== undefined && !validModuleName(o.m)) {
    process.stderr.write(`tapvm: invalid module name '${o.m}': use letters, digits and '_' (stap's rule for -m)\n`);
    return 1;
  }
  if (o.r !== undefined && o.m === undefined && lastPass >= 4) {
    process.stderr.write(`tapvm: -r compiles for another kernel: use it with -p4 -m NAME (or -p1 to -p3)\n`);
    return 1;
  }
  const facts = o.r !== undefined ? loadFacts(o.r) : hostKernelFacts();
  const verbose = o.v ?? 0;
  const timer = new PassTimer(verbose > 0 ? (s) => process.stderr.write(s + '\n') : undefined);

  const c = compileWithFacts(text, file, lastPass, timer, scriptArgs, facts, o.w === true, o.I, defines.MAXSTRINGLEN, { maxNesting: defines.MAXNESTING });
  if (!c) return 1;
  const { compiled, used } = c;
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

  if (o.m !== undefined) {
    const out = moduleFileName(o.m);
    writeModule(out, { name: o.m, isa: isaHash(), factsOrigin: facts.origin, facts: used, image: compiled.image! });
    if (verbose > 0) process.stderr.write(`Pass 4: wrote module ${out} (kernel ${used.release}, ${Object.keys(used.tracepoints).length} tracepoint(s), facts from ${facts.origin})\n`);
    else if (lastPass === 4) process.stdout.write(`${out}\n`);
    if (lastPass === 4) return 0;
  }
  if (o.F && lastPass === 5) return startFlightRecorder(compiled.image!, o, facts, used, file);
  return runImage(compiled.image!, o, timer, lastPass);
}
