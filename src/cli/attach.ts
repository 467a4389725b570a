// `tapvm attach ID`: prints what a flight recorder session (-F) kept, then follows its output;
// Ctrl-C detaches and leaves the session running. `tapvm stop ID`: ends a session as exit()
// would (end probes run) and prints its output from then on to the end.
import { request } from '../runtime/control';

async function follow(id: string, op: 'attach' | 'stop'): Promise<number> {
  let code = 0;
  let error: string | undefined;
  const p = request(id, op === 'attach' ? { op, replay: true } : { op }, (r, sock) => {
    if (r.type === 'out') {
      // a slow stdout stops the reading, so the session holds (and drops) the output, not us
      if (!process.stdout.write(r.data)) {
        sock.pause();
        process.stdout.once('drain', () => sock.resume());
      }
    } else if (r.type === 'dropped') process.stderr.write(`tapvm: this client fell behind session ${id}: ${r.bytes} bytes of its output were dropped here\n`);
    else if (r.type === 'error') error = r.message;
    else if (r.type === 'end') code = r.exitCode;
  });
  // Ctrl-C detaches: the session goes on; so does a reader that went away (`tapvm attach ID | head`)
  const detach = () => process.exit(0);
  process.on('SIGINT', detach);
  process.on('SIGTERM', detach);
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    detach();
  });
  await p;
  if (error !== undefined) {
    process.stderr.write(`tapvm: ${error}\n`);
    return 1;
  }
  await new Promise<void>((res) => process.stdout.write('', () => res()));
  return code;
}

function usage(cmd: string, argv: string[]): string | undefined {
  if (argv.length !== 1) {
    process.stderr.write(`tapvm: usage: tapvm ${cmd} ID (the ids: tapvm --sessions)\n`);
    return undefined;
  }
  return argv[0];
}

export async function attach(argv: string[]): Promise<number> {
  const id = usage('attach', argv);
  return id === undefined ? 1 : follow(id, 'attach');
}

export async function stop(argv: string[]): Promise<number> {
  const id = usage('stop', argv);
  return id === undefined ? 1 : follow(id, 'stop');
}
