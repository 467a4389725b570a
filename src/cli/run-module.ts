// `tapvm run [options] NAME.tvm [GLOBAL=VALUE...]`: runs a compiled module without the compiler
// front-end, after checking that the kernel facts it was compiled against hold here. As with
// staprun, the arguments after the module set its globals.
import { Command, CommanderError } from 'commander';
import { readModule, factsMismatch } from '../module/module';
import { hostKernelFacts } from '../kernel/facts';
import { PassTimer } from './passes';
import { runImage, type RuntimeFlags } from './runner';

export async function main(argv: string[]): Promise<number> {
  const program = new Command('tapvm run')
    .usage('[options] MODULE.tvm [NAME=VALUE...]')
    .description('Run a module written by tapvm -p4 -m NAME; NAME=VALUE sets a global, as staprun does.')
    .option('-v', 'more verbose', (_: string, prev: number) => prev + 1, 0)
    .option('-o <file>', 'send standard output to FILE')
    .option('-D <NAME=VALUE>', 'set a limit (MAXACTION, MAXERRORS, MAXSKIPPED; MAXSTRINGLEN is the module\'s)', (v: string, prev: string[]) => prev.concat(v), [] as string[])
    .option('-c <command>', 'start COMMAND once the probes are armed and stop when it exits; target() is its pid')
    .option('-x <pid>', 'set target() to PID')
    .option('-T <seconds>', 'stop after SECONDS seconds')
    .option('--no-global-var-display', 'do not print the globals written and never read at exit')
    .argument('<module>')
    .argument('[globals...]')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .allowExcessArguments(true);
  try {
    program.parse(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 1;
    throw e;
  }
  const o = program.opts<Omit<RuntimeFlags, 'G'>>();
  const [file, ...globals] = program.args;
  const timer = new PassTimer((o.v ?? 0) > 0 ? (s) => process.stderr.write(s + '\n') : undefined);
  const mod = readModule(file);
  const why = factsMismatch(mod, hostKernelFacts(), file);
  if (why) {
    process.stderr.write(`tapvm: ${why}.\n`);
    return 1;
  }
  if ((o.v ?? 0) > 0) process.stderr.write(`Pass 1-3: skipped: module ${file} (${mod.image.code.length} instructions, facts from ${mod.factsOrigin}) matches this kernel\n`);
  return runImage(mod.image, { ...o, G: globals }, timer, 5, 'argument');
}
