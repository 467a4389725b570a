// tapvm's entry point, run(process.argv) (bin/tapvm; a warm worker, src/server/serve.ts, which
// loads this module ahead of its client): `tapvm run|swap|attach|stop|kernel-facts ...` are
// subcommands, anything else is stap's command line (src/cli/stap.ts). Each command is
// required only when used, so `tapvm run MODULE` never loads the compiler front-end.
import { friendlyError } from './errors';

type Command = (argv: string[]) => Promise<number>;

const SUBCOMMANDS: Record<string, () => Command> = {
  run: () => require('./run-module').main,
  'kernel-facts': () => require('./kernel-facts').main,
  swap: () => require('./swap').main,
  attach: () => require('./attach').attach,
  stop: () => require('./attach').stop,
  // the warm server of ./bin/tapvm's client (src/server/)
  server: () => require('./server').main,
  // the detached child of -F (src/cli/flight.ts)
  __flight: () => require('./flight').main,
};

async function main(argv: string[]): Promise<number> {
  const sub = SUBCOMMANDS[argv[2]];
  if (sub) return sub()(argv.slice(3));
  return (require('./stap') as { main(argv: string[]): Promise<number> }).main(argv);
}

/** Runs the command line `argv` (node, script, args...) and exits with its status. */
export function run(argv: string[]): void {
  void main(argv).then(
    (code) => {
      process.exitCode = code;
      // the addon's ring buffer poller is closed; nothing else should keep the loop alive. Output
      // still queued for a slow pipe (a -L of 56k kernel functions) is flushed first.
      const exit = () => setImmediate(() => process.exit(code));
      if (process.stdout.writableLength > 0) {
        process.stdout.once('drain', exit);
        process.stdout.once('error', exit); // EPIPE: the reader is gone (`| head`)
      } else exit();
    },
    (err) => {
      process.stderr.write(`ERROR: ${friendlyError(err)}\n`);
      if (process.env.TAPVM_DEBUG) process.stderr.write(String((err as Error).stack) + '\n');
      process.exit(1);
    },
  );
}
