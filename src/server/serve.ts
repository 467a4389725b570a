// A warm worker of the tapvm server (forked by src/server/manager.ts): loads and warms up
// (src/server/warmup.ts), says 'ready', then serves exactly one client: it accepts the
// connection itself on the listening socket the manager gave it at fork (LISTEN_FD), hands a
// copy to the manager (STATUS_FD), greets the client with its pid, reads the request (argv,
// environment, umask, nice, cwd and fds 0/1/2 as SCM_RIGHTS; the protocol is in
// native/client.c), puts it all in place of its own and runs the CLI's main as a direct run
// does. It sends its exit status itself as it exits; the manager, which sees it die, sends it
// too (the only report when it died of a signal). The process is never reused.
import * as fs from 'fs';
import * as path from 'path';
import * as v8 from 'v8';
import * as vm from 'vm';
import { addon } from '../native';
import { forgetTapsets } from '../parse/tapsets';
import { tapsetWatch, warmUp } from './warmup';
import { exitFrame, PACKAGE_ROOT, setProcessNice } from './paths';
import { run } from '../cli/main';

/** how long the client may take to send its request after the greeting */
const REQUEST_TIMEOUT_MS = 10_000;
/** the fds the manager forks a worker with (stdio 3-5): Node's IPC channel, the server's
 * listening socket, and this worker's end of a socket pair for passing the connection back */
const IPC_FD = 3;
const LISTEN_FD = 4;
const STATUS_FD = 5;

interface Request {
  mask: number;
  umask: number;
  nice: number;
  argv: string[];
  env: string[];
}

function decode(b: Buffer): Request {
  let off = 0;
  const u32 = () => {
    const v = b.readUInt32LE(off);
    off += 4;
    return v;
  };
  const strings = (n: number) => {
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      const end = b.indexOf(0, off);
      if (end < 0) throw new Error('truncated request');
      out.push(b.toString('utf8', off, end));
      off = end + 1;
    }
    return out;
  };
  if (u32() !== 1) throw new Error('unknown request version');
  const mask = u32();
  const umask = u32();
  const nice = b.readInt32LE(off);
  off += 4;
  const argv = strings(u32());
  const env = strings(u32());
  return { mask, umask, nice, argv, env };
}

/** The client's environment in place of this process's. */
function setEnvironment(env: string[]) {
  for (const k of Object.keys(process.env)) delete process.env[k];
  for (const e of env) {
    const i = e.indexOf('=');
    if (i > 0) process.env[e.slice(0, i)] = e.slice(i + 1);
  }
}

/** -I: the tapsets read during warm-up were linked against the default directory only; -r:
 * they were parsed against this host's facts (a tapset's %( kernel_v ... %) reads them) */
const needsOwnTapsets = (argv: string[]) => argv.some((x) => /^-[^-]*[Ir]/.test(x));

/**
 * A request's pure steps, done once ahead of the client with this process's own values (the
 * environment is set to itself): run first on the command's time, each paid V8's cold start
 * (lazy compilation, interpreted bytecode, cold inline caches; Node's Buffer reads too), ~0.7
 * ms in all between the request and main's start.
 */
function warmRequestPath() {
  const env = Object.entries(process.env).map(([k, v]) => `${k}=${v}`);
  const strings = (xs: string[]) => xs.map((x) => x + '\0').join('');
  const argv = ['-v', '-e', 'probe begin {}'];
  const head = Buffer.alloc(20);
  [1, 7, 0o022, 0, argv.length].forEach((v, i) => head.writeUInt32LE(v, i * 4));
  const envc = Buffer.alloc(4);
  envc.writeUInt32LE(env.length);
  const req = decode(Buffer.concat([head, Buffer.from(strings(argv)), envc, Buffer.from(strings(env))]));
  setEnvironment(req.env);
  needsOwnTapsets(req.argv);
}

let serving = false;

/** Waits (blocking: nothing else to do) for the one client, then serves it. */
function waitForClient() {
  const a = addon();
  const fd = a.serverAccept(LISTEN_FD, IPC_FD);
  if (fd < 0) {
    // the manager is gone (the 'disconnect' listener exits) or said something: the event loop
    // reads it, then wait again
    setTimeout(waitForClient, 10);
    return;
  }
  serve(fd);
}

function serve(fd: number) {
  serving = true;
  const a = addon();
  // the listening socket is the server's, not the command's (a -c child would inherit it)
  fs.closeSync(LISTEN_FD);
  const hello = Buffer.alloc(8);
  hello.write('TVMW', 0, 'latin1');
  hello.writeUInt32LE(process.pid, 4);
  if (!a.serverSend(fd, hello)) process.exit(0);
  // the manager gets the connection (it writes the exit status there if this process dies of a
  // signal) and answers the next clients busy, and warms a successor, until that one is ready
  a.serverSendFd(STATUS_FD, fd);
  fs.closeSync(STATUS_FD);
  process.send?.({ type: 'accepted' });
  const got = a.serverRecvRequest(fd, REQUEST_TIMEOUT_MS);
  // the client timed out or went away before sending: it runs the command itself
  if (!got) process.exit(0);
  let req: Request;
  try {
    req = decode(got.data);
  } catch {
    process.exit(0);
  }
  // the manager watches the connection for the client's hang-up from 'started' on: told at the
  // first turn of the event loop, off the command's start (a client gone meanwhile reads as
  // ended then)
  setImmediate(() => {
    process.send?.({ type: 'started' });
    process.channel?.unref();
  });
  // stdio first: nothing has made process.stdout/stderr/stdin yet (warmup.ts), so Node makes them
  // for the client's tty, pipe or file as in a direct run
  const fds = [...got.fds];
  for (let i = 0; i < 3; i++) {
    if (!(req.mask & (1 << i))) continue;
    const f = fds.shift()!;
    a.dup2(f, i);
    fs.closeSync(f);
  }
  if (req.mask & 8) {
    const f = fds.shift()!;
    a.fchdir(f);
    fs.closeSync(f);
    // Node caches process.cwd(); chdir drops the cache
    process.chdir('.');
  }
  for (const f of fds) fs.closeSync(f);
  setEnvironment(req.env);
  process.umask(req.umask);
  // every thread, as in a direct run started at that value (not allowed to raise it: stays lower)
  if (req.nice !== readyNice) setProcessNice(0, req.nice);
  process.argv = [process.execPath, path.join(PACKAGE_ROOT, 'bin', 'tapvm'), ...req.argv];
  if (needsOwnTapsets(req.argv) || tapsetsChanged()) forgetTapsets();
  // process.exit() (main.ts always ends with it) calls process.reallyExit once the 'exit'
  // listeners ran: all output is written then (stdio is synchronous for files, pipes and ttys on
  // Linux), so the client may go. The client's fds are let go first, so a reader of its pipe
  // sees the end now rather than after Node's teardown. A worker that dies otherwise (a signal,
  // a crash) is reported by the manager, which sees it die; the client takes the first status.
  const proc = process as unknown as { reallyExit(code: number): never };
  const reallyExit = proc.reallyExit;
  proc.reallyExit = (code: number) => {
    try {
      // the manager hangs up a worker whose client went away: this one is done already
      process.on('SIGHUP', () => {});
      const nul = fs.openSync('/dev/null', 'r+');
      for (let i = 0; i < 3; i++) a.dup2(nul, i);
      a.serverSend(fd, exitFrame(code));
    } catch {
      // the manager reports it
    }
    return reallyExit.call(process, code);
  };
  run(process.argv);
}

// from before the warm-up reads them
const tapsetsChanged = tapsetWatch();
warmUp();
warmRequestPath();
// a new cache is written now, at the warming priority, rather than after the command (at exit)
(require('../cli/code-cache') as typeof import('../cli/code-cache')).writeNow();
// a full collection now, at the warming priority: the warm-up's garbage and V8's pending GC work
// would otherwise be done on the command's time (the worker leaves the event loop while it
// waits for its client, so no idle-time task runs meanwhile)
v8.setFlagsFromString('--expose-gc');
(vm.runInNewContext('gc') as () => void)();
// and back: code cache data made under a changed flag set (at this worker's exit) is rejected by
// every other process, which then rewrote the cache at its own exit (8 modules, 20-45 ms before
// each command's exit frame)
v8.setFlagsFromString('--no-expose-gc');
// the manager is gone before this worker got a client
process.on('disconnect', () => {
  if (!serving) process.exit(0);
});
// warmed up at a low priority (the manager forks workers at nice 19, so that a warm-up does not
// compete with the command running meanwhile); a client waits on this one now
// (every thread: V8's compiler and GC helpers started at 19 too)
const readyNice = setProcessNice(0, 0) ? 0 : undefined;
// once the manager has 'ready' (it then stops answering busy), the event loop is left for good
process.send?.({ type: 'ready' }, undefined, undefined, () => waitForClient());
