// -F, the flight recorder: the command compiles the script, then hands it as a module to a
// detached child (a new session and process group, no terminal) that runs it with its output
// in memory (MemoryRecorder, -S MB) or in rotating files (-o FILE -S MB,COUNT). The child's
// pid is the session's id: `tapvm attach ID`, `tapvm stop ID`.
import * as fs from 'fs';
import * as path from 'path';
import { spawn } from 'child_process';
import { decodeModule } from '../module/module';
import { Session } from '../runtime/session';
import { MemoryRecorder, RotatingFile } from '../runtime/recorder';
import { parseDefines } from './runner';

/** What the child needs besides the module (which it reads from stdin). */
export interface FlightConfig {
  o?: string;
  bytes: number;
  count: number;
  D: string[];
  T?: string;
  x?: string;
  v?: number;
  globalVarDisplay?: boolean;
}

const CLI = path.join(__dirname, '..', '..', 'bin', 'tapvm');

/** Starts the detached child; resolves with its pid once its probes are live, or throws its error. */
export async function startFlight(module: Buffer, cfg: FlightConfig, script: string): Promise<number> {
  // the script's name in the arguments is for `tapvm --sessions`
  const child = spawn(process.execPath, [CLI, '__flight', script, JSON.stringify(cfg)], { detached: true, stdio: ['pipe', 'ignore', 'ignore', 'pipe'] });
  child.stdin!.end(module);
  const status = child.stdio[3] as NodeJS.ReadableStream;
  let text = '';
  await new Promise<void>((res) => {
    status.on('data', (b) => (text += b));
    status.on('end', () => res());
    status.on('error', () => res());
  });
  child.unref();
  if (text.startsWith('ok')) return child.pid!;
  throw new Error(text.replace(/^error /, '').trim() || 'the background session did not start');
}

/** The child: `tapvm __flight SCRIPT CONFIG` with the module on stdin and a status pipe on fd 3. */
export async function main(argv: string[]): Promise<number> {
  let reported = false;
  const report = (s: string) => {
    if (reported) return;
    reported = true;
    try {
      fs.writeSync(3, s + '\n');
      fs.closeSync(3);
    } catch {
      // the starting command went away; nobody to tell
    }
  };
  try {
    const cfg = JSON.parse(argv[1]) as FlightConfig;
    const mod = decodeModule(fs.readFileSync(0), 'the script');
    const limits = parseDefines(cfg.D);
    const sink = cfg.o ? new RotatingFile(cfg.o, cfg.bytes, cfg.count) : new MemoryRecorder(cfg.bytes);
    const session = new Session(mod.image, {
      out: sink,
      err: sink,
      maxAction: limits.MAXACTION,
      maxErrors: limits.MAXERRORS,
      maxSkipped: limits.MAXSKIPPED,
      globalDisplay: cfg.globalVarDisplay !== false,
      verbose: (cfg.v ?? 0) > 0 ? (s) => sink.write(`Pass 5: ${s}\n`) : undefined,
      targetPid: cfg.x === undefined ? undefined : Number(cfg.x),
      timeoutMs: cfg.T === undefined ? undefined : Number(cfg.T) * 1000,
      tap: sink,
      onReady: () => report('ok'),
    });
    const r = await session.run();
    report('ok');
    await new Promise<void>((res) => sink.end(res));
    return r.exitCode;
  } catch (e) {
    report(`error ${(e as Error).message}`);
    return 1;
  }
}
