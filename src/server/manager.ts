// The warm server (`node dist/server/manager.js`, started in the background by native/client.c):
// keeps one worker (src/server/worker.ts) loaded and warmed up, hands it the next client's
// connection, and warms a successor meanwhile. The workers are its children, so it reports
// the exact exit status, a death by signal included, to the client. It exits after
// TAPVM_SERVER_IDLE_MS (10 minutes) without a client, when its build changes or on SIGTERM
// (`tapvm server stop`). Runs as root; the socket is root's (directory 0700, socket 0600).
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { fork, type ChildProcess } from 'child_process';
import { exitFrame, fnv1a64, infoPath, PACKAGE_ROOT, runDir, serverKey, socketPath, type ServerInfo } from './paths';

const WORKER = path.join(__dirname, 'worker.js');
const IDLE_MS = Number(process.env.TAPVM_SERVER_IDLE_MS) || 10 * 60_000;
/** a worker warms up at this nice value (back to 0 once ready); it takes its client's when it gets one */
const WARMING_NICE = 10;

interface Worker {
  child: ChildProcess;
  exited: boolean;
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

function spawnWorker() {
  if (stopping) return;
  const child = fork(WORKER, [], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'], detached: true, execArgv: [] });
  const w: Worker = { child, exited: false };
  warming = w;
  try {
    os.setPriority(child.pid!, WARMING_NICE);
  } catch {
    // gone already: its exit says so
  }
  child.on('message', (m: { type?: string }) => {
    if (m?.type === 'ready' && warming === w) {
      // waiting costs nothing, and the handoff must not queue behind other work at nice 10
      try {
        os.setPriority(child.pid!, 0);
      } catch {
        // gone: its exit says so
      }
      warming = undefined;
      ready = w;
      failures = 0;
      writeInfo();
    } else if (m?.type === 'started' && w.socket) {
      // the request is read: from now on the connection only closes, and a client that went away
      // (killed) ends its session as a hang-up ends a direct run's
      const s = w.socket;
      s.on('data', () => {});
      s.on('end', () => {
        if (!w.exited) signal(w, 'SIGHUP');
      });
      s.resume();
    }
  });
  child.on('error', () => {});
  child.on('exit', (code, sig) => {
    w.exited = true;
    if (ready === w) {
      // killed while waiting (by hand, the OOM killer): warm another
      ready = undefined;
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
    if (w.socket) {
      if (!w.socket.destroyed) w.socket.end(exitFrame(code ?? 0, sig ? os.constants.signals[sig] : 0));
      busy.delete(w);
      lastClient = Date.now();
      writeInfo();
    }
  });
}

function signal(w: Worker, sig: NodeJS.Signals) {
  try {
    process.kill(w.child.pid!, sig);
  } catch {
    // already gone
  }
}

function onConnection(socket: net.Socket) {
  socket.on('error', () => {});
  lastClient = Date.now();
  const w = ready;
  if (!w) {
    // the successor is still warming: the client runs the command directly rather than wait
    socket.end(Buffer.from('TVMB', 'latin1'));
    return;
  }
  ready = undefined;
  w.socket = socket;
  busy.add(w);
  served++;
  // keepOpen: this process keeps the connection to write the exit status on it
  w.child.send({ type: 'client' }, socket, { keepOpen: true }, (err) => {
    if (err) {
      signal(w, 'SIGKILL');
      socket.destroy();
    }
  });
  spawnWorker();
  writeInfo();
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
  const server = net.createServer({ pauseOnConnect: true }, onConnection);
  if (!(await listen(server, sock))) process.exit(1);
  fs.chmodSync(sock, 0o600);
  sockIno = fs.statSync(sock, { bigint: true }).ino;
  for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(s, shutdown);
  setInterval(check, Math.min(10_000, IDLE_MS)).unref();
  spawnWorker();
  writeInfo();
}

void main();
