// `tapvm swap [-v] [--keep-globals] ID (NEW.stp | -e SCRIPT) [ARGS...]`: compiles the new script
// here and hands it, as a module, to the process that owns session ID (src/runtime/control.ts),
// which replaces the running script without loading any BPF program.
import { Command, CommanderError } from 'commander';
import { hostKernelFacts } from '../kernel/facts';
import { encodeModule, isaHash } from '../module/module';
import { swapSession } from '../runtime/control';
import { missingPrivilege } from '../runtime/privilege';
import { PassTimer } from './passes';
import { readScript, compileWithFacts } from './stap';

export async function main(argv: string[]): Promise<number> {
  const program = new Command('tapvm swap')
    .usage('[options] ID (NEW.stp | -e SCRIPT) [ARGS...]')
    .description("Replace the script of running session ID (tapvm --sessions) without loading a BPF program.")
    .option('-e <script>', 'the new script text')
    .option('-v', 'more verbose: pass timings and the swap latency', (_: string, prev: number) => prev + 1, 0)
    .option('--keep-globals', 'carry over the globals whose name and type match (default: the new script starts fresh)')
    .argument('<id>')
    .argument('[script]')
    .argument('[args...]')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .allowExcessArguments(true);
  try {
    program.parse(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 1;
    throw e;
  }
  const o = program.opts<{ e?: string; v?: number; keepGlobals?: boolean }>();
  const [id, ...rest] = program.args;
  const t0 = process.hrtime.bigint();
  const script = readScript(o.e, rest);
  if (!script) return 1;
  const verbose = o.v ?? 0;
  const timer = new PassTimer(verbose > 0 ? (s) => process.stderr.write(s + '\n') : undefined);
  const facts = hostKernelFacts();
  const c = compileWithFacts(script.text, script.file, 3, timer, script.args, facts);
  if (!c) return 1;
  const priv = missingPrivilege();
  if (priv) {
    process.stderr.write(`tapvm: ${priv}\n`);
    return 1;
  }
  const module = encodeModule({ name: 'swap', isa: isaHash(), factsOrigin: facts.origin, facts: c.used, image: c.compiled.image! });
  const tSend = process.hrtime.bigint();
  const r = await swapSession(id, module, { keepGlobals: o.keepGlobals });
  if (verbose > 0) {
    const sinceStart = Number(process.hrtime.bigint() - t0) / 1e6;
    const rtt = Number(process.hrtime.bigint() - tSend) / 1e6;
    process.stderr.write(
      `Pass 5: swapped session ${id} to ${script.file}: new probes live in slot ${r.slot} ${r.latencyMs.toFixed(2)}ms after the request reached it, ` +
        `old slot ${r.oldSlot} freed after ${r.totalMs.toFixed(1)}ms; ${rtt.toFixed(1)}ms request to reply, ${sinceStart.toFixed(1)}ms since this command started` +
        `${r.kept.length ? `; kept ${r.kept.join(', ')}` : ''}\n`,
    );
  }
  return 0;
}
