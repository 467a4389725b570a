// The warm server (`node dist/server/manager.js`, started in the background by native/client.c):
// keeps one worker (src/server/serve.ts) loaded and warmed up. It makes the listening socket and
// gives it to every worker at fork; the warm worker accepts the next client itself (no hop
// through this process on the way), passes the connection back here and says 'accepted', and
// this process then answers further clients busy (they run directly) and warms a successor
// until it is ready. The workers are its children, so it reports the exact exit status, a death
// by signal included, to the client. It exits after TAPVM_SERVER_IDLE_MS (10 minutes) without a
// client, when its build changes or on SIGTERM (`tapvm server stop`). Runs as root; the socket
// is root's (directory 0700, socket 0600).
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { fork, type ChildProcess } from 'child_process';
import { addon } from '../native';
import { exitFrame, fnv1a64, infoPath, PACKAGE_ROOT, runDir, serverKey, setProcessNice, socketPath, type ServerInfo } from './paths';

const WORKER = path.join(__dirname, 'worker.js');
const IDLE_MS = Number(process.env.TAPVM_SERVER_IDLE_MS) || 10 * 60_000;
/**
 * A worker warms up at this nice value, from its fork on: it does so while the previous worker
 * runs a command, and must not take CPU from it (2 CPUs, the tracee and the client's parent
 * compete too). It goes to 0 once ready (serve.ts), or as soon as a client waits for a warm
 * worker (a busy answer) or the command is done; it takes its client's value on a request.
 */
const WARMING_NICE = 19;
/**
 * And, where it can be undone (root), in SCHED_IDLE too: a task of the idle policy gives way to
 * any other that wakes, where a nice-19 one can keep its CPU for the rest of its slice (3-4 ms
 * here, seen with sched_switch while a command's worker waited runnable behind a warming
 * successor). Leaving SCHED_IDLE needs CAP_SYS_NICE: without it a worker would stay there.
 */
const WARM_IDLE = process.geteuid?.() === 0;

interface Worker {
  child: ChildProcess;
  exited: boolean;
  /** the manager's end of the socket pair on which the worker passes its client's connection */
  status: number;
  /** it took a client */
  accepted?: boolean;
  /** the client's connection, once the worker passed it */
  conn?: number;
  socket?: net.Socket;
}

const key = serverKey();
const dir = runDir();
const sock = socketPath(key, dir);
const started = Date.now();
let ready: Worker | undefined;
let warming: Worker | undefined;
const busy = new Set<Worker>();
let served = 0;
let lastClient = Date.now();
let failures = 0;
let stopping = false;
let sockIno: bigint | undefined;
let listenFd = -1;
let busyServer: net.Server | undefined;

function writeInfo() {
  if (stopping) return;
  const info: ServerInfo = { pid: process.pid, key, pkg: fs.realpathSync(PACKAGE_ROOT), started, ready: ready !== undefined, busy: busy.size, served };
  const file = infoPath(key, dir);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, JSON.stringify(info) + '\n', { mode: 0o600 });
    fs.renameSync(tmp, file);
  } catch {
    // the run directory went away: the next check stops the server
  }
}

/** the manager's main thread only: fork() copies the calling thread's nice value (and policy) */
function setOwnNice(nice: number) {
  try {
    os.setPriority(nice);
  } catch {
    // not allowed to raise it back (not root): the manager stays lower
  }
}

function spawnWorker() {
  if (stopping) return;
  const a = addon();
  const [status, theirs] = a.socketPair();
  // nice from the fork on (children inherit it): an os.setPriority() after fork() returns would
  // leave node's exec and early start-up at the manager's priority
  const nice = os.getPriority();
  setOwnNice(WARMING_NICE);
  const idle = WARM_IDLE && a.schedIdle(0, true);
  let child: ChildProcess;
  try {
    // fds 3-5 of the worker: Node's IPC channel, the listening socket, its end of the pair
    child = fork(WORKER, [], { stdio: ['ignore', 'ignore', 'ignore', 'ipc', listenFd, theirs], detached: true, execArgv: [] });
  } finally {
    if (idle) a.schedIdle(0, false);
    setOwnNice(nice);
    fs.closeSync(theirs);
  }
  const w: Worker = { child, exited: false, status };
  warming = w;
  child.on('message', (m: { type?: string }) => {
    if (m?.type === 'ready' && warming === w) {
      warming = undefined;
      ready = w;
      failures = 0;
      // the worker accepts the next client itself
      answerBusy(false);
      writeInfo();
    } else if (m?.type === 'accepted') {
      onAccepted(w);
    } else if (m?.type === 'started') {
      // the request is read: from now on the connection only closes, and a client that went away
      // (killed) ends its session as a hang-up ends a direct run's
      if (w.exited) return;
      takeConnection(w);
      if (w.conn === undefined) return;
      const s = new net.Socket({ fd: w.conn, readable: true, writable: true });
      w.socket = s;
      s.on('error', () => {});
      s.on('data', () => {});
      s.on('end', () => {
        if (!w.exited) signal(w, 'SIGHUP');
      });
    }
  });
  child.on('error', () => {});
  child.on('exit', (code, sig) => {
    w.exited = true;
    // it may have accepted a client just before it died (its 'accepted' then comes after this)
    takeConnection(w);
    fs.closeSync(w.status);
    w.status = -1;
    if (w.conn !== undefined) onAccepted(w);
    if (ready === w) {
      // killed while waiting (by hand, the OOM killer): warm another
      ready = undefined;
      answerBusy(true);
      writeInfo();
      if (!stopping) spawnWorker();
    }
    if (warming === w) {
      // a worker that died warming up (a broken build?): retry a few times, then give up, and
      // clients run directly
      warming = undefined;
      if (!stopping && ++failures < 3) setTimeout(spawnWorker, 1000 * failures);
      else if (!stopping) shutdown();
    }
    if (w.conn !== undefined) {
      const frame = exitFrame(code ?? 0, sig ? os.constants.signals[sig] : 0);
      if (w.socket) {
        if (!w.socket.destroyed) w.socket.end(frame);
      } else {
        addon().serverSend(w.conn, frame);
        fs.closeSync(w.conn);
      }
      busy.delete(w);
      lastClient = Date.now();
      // the command is done: the successor may take the CPUs now
      if (warming) setProcessNice(warming.child.pid!, 0);
      writeInfo();
    }
  });
}

/** The worker took a client: the manager answers busy and warms a successor. */
function onAccepted(w: Worker) {
  if (w.accepted) return;
  w.accepted = true;
  takeConnection(w);
  served++;
  lastClient = Date.now();
  if (!w.exited) busy.add(w);
  const wasReady = ready === w;
  if (wasReady) {
    ready = undefined;
    answerBusy(true);
  }
  // before the fork: a short command may be done soon
  writeInfo();
  if (wasReady) spawnWorker();
}

/** The client's connection, which the worker sent on the socket pair right after accepting it. */
function takeConnection(w: Worker) {
  if (w.conn !== undefined || w.status < 0) return;
  // sent before 'accepted', so there already (a dead worker's end reads as closed: no wait)
  const got = addon().serverRecvRequest(w.status, 100);
  if (!got) return;
  [w.conn] = got.fds;
  for (const f of got.fds.slice(1)) fs.closeSync(f);
}

function signal(w: Worker, sig: NodeJS.Signals) {
  try {
    process.kill(w.child.pid!, sig);
  } catch {
    // already gone
  }
}

/**
 * While no worker waits on the listening socket, this process accepts on it (a copy of the fd,
 * which a net.Server closes without unlinking the path) and answers busy: the client runs the
 * command directly rather than wait. A client that connects meanwhile waits in the backlog for
 * whichever accepts first; one that the manager takes while a worker has just got ready runs
 * directly too.
 */
function answerBusy(on: boolean) {
  if (on && !busyServer && !stopping) {
    const s = net.createServer({ pauseOnConnect: true }, onBusy);
    s.on('error', () => {});
    s.listen({ fd: addon().dupFd(listenFd) });
    busyServer = s;
  } else if (!on && busyServer) {
    busyServer.close();
    busyServer = undefined;
  }
}

function onBusy(socket: net.Socket) {
  socket.on('error', () => {});
  lastClient = Date.now();
  socket.end(Buffer.from('TVMB', 'latin1'));
  // someone is waiting for a warm worker now
  if (warming) setProcessNice(warming.child.pid!, 0);
}

function shutdown() {
  if (stopping) return;
  stopping = true;
  // a worker running a command goes on: it reports its own exit status once this process is gone
  for (const w of [ready, warming]) if (w) signal(w, 'SIGKILL');
  try {
    if (fs.statSync(sock, { bigint: true }).ino === sockIno) fs.rmSync(sock);
  } catch {
    // gone already
  }
  fs.rmSync(infoPath(key, dir), { force: true });
  process.exit(0);
}

/** Still the server for this socket and build? (a rebuild changes the key, the directory may be removed) */
function check() {
  let ours = false;
  try {
    ours = serverKey() === key && fs.statSync(sock, { bigint: true }).ino === sockIno;
  } catch {
    ours = false;
  }
  if (!ours || (busy.size === 0 && Date.now() - lastClient > IDLE_MS)) shutdown();
}

function listen(server: net.Server, where: string): Promise<boolean> {
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(where, () => resolve(true));
  });
}

async function main() {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  // one manager per socket path: an abstract socket's name is the lock (the kernel frees it with
  // the process), then the path's old socket file, if any, is a dead server's
  const lock = net.createServer();
  if (!(await listen(lock, `\0tapvm-server-${fnv1a64(sock).toString(16)}`))) process.exit(0);
  lock.unref();
  fs.rmSync(sock, { force: true });
  try {
    listenFd = addon().serverListen(sock);
  } catch {
    process.exit(1);
  }
  fs.chmodSync(sock, 0o600);
  sockIno = fs.statSync(sock, { bigint: true }).ino;
  for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(s, shutdown);
  setInterval(check, Math.min(10_000, IDLE_MS)).unref();
  answerBusy(true);
  spawnWorker();
  writeInfo();
}

void main();
