// The control channel of a running session: the tapvm process that owns a session holds its
// links and ring buffer, so `tapvm swap|attach|stop ID` ask that process, through a unix stream
// socket /run/tapvm/ID.sock (directory 0700, socket 0600: root's, like the session).
//
// Frames in both directions: [u32 big-endian length][msgpackr value].
//   client -> owner  {op: 'swap', module: <a .tvm file's bytes>, keepGlobals}
//                    {op: 'attach', replay: true}   buffered output, then follow it
//                    {op: 'stop'}                    end probes run; follows the output to the end
//   owner -> client  {type: 'out', data}  {type: 'swapped', result}  {type: 'error', message}
//                    {type: 'end', exitCode}  (the session ended; the owner closes the socket)
//                    {type: 'dropped', bytes}  (a slow follower's oldest output was let go)
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import type { ProgramImage } from '../image/image';
import type { SwapOptions, SwapResult } from './session';
import { decodeModule, factsMismatch, msgpackr } from '../module/module';
import { hostKernelFacts } from '../kernel/facts';

/**
 * unlink(2) of a file that may be gone, and nothing else: fs.rmSync(f, { force: true }) lstats
 * first and runs Node's rimraf, a lazily loaded module (1-4 ms cold in a warm worker); the
 * control socket's path is cleared once a run.
 */
function unlinkIfPresent(file: string) {
  try {
    fs.unlinkSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

export const CONTROL_DIR = fs.existsSync('/run') ? '/run/tapvm' : path.join(require('os').tmpdir(), 'tapvm');

export function controlPath(id: string): string {
  return path.join(CONTROL_DIR, `${id}.sock`);
}

/** The flight recorder's view for attach: output so far (replay) and from now on. */
export interface OutputTap {
  /** Calls fn with each chunk of output; with replay, first with what is buffered. Returns unsubscribe. */
  subscribe(fn: (chunk: Buffer) => void, replay: boolean): () => void;
  /** the most output held for one client that does not keep up (the recorder's own size) */
  readonly holdBytes?: number;
}

/** A follower's held output when the tap names no size */
const DEFAULT_HOLD = 8 * 1024 * 1024;

export interface ControlHandlers {
  swap(img: ProgramImage, o: SwapOptions): Promise<SwapResult>;
  stop(): void;
  tap?: OutputTap;
}

export type ControlMessage =
  | { op: 'swap'; module: Uint8Array; keepGlobals?: boolean }
  | { op: 'attach'; replay?: boolean }
  | { op: 'stop' };

export type ControlReply =
  | { type: 'out'; data: Uint8Array }
  | { type: 'swapped'; result: SwapResult }
  | { type: 'error'; message: string }
  | { type: 'end'; exitCode: number }
  /** output dropped for this client before the next 'out' (it fell behind; the oldest went) */
  | { type: 'dropped'; bytes: number };

export function frame(v: unknown): Buffer {
  const body = msgpackr().pack(v);
  const hdr = Buffer.alloc(4);
  hdr.writeUInt32BE(body.length);
  return Buffer.concat([hdr, body]);
}

/** Calls onFrame for each complete frame arriving on the socket. */
export function readFrames(sock: net.Socket, onFrame: (v: unknown) => void) {
  let buf: Buffer = Buffer.alloc(0);
  sock.on('data', (d: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    while (buf.length >= 4) {
      const n = buf.readUInt32BE(0);
      if (buf.length < 4 + n) break;
      const body = buf.subarray(4, 4 + n);
      buf = buf.subarray(4 + n);
      onFrame(msgpackr().unpack(body));
    }
  });
}

/**
 * One client that follows the output (attach, stop). Its output waits here, not in the
 * socket's own unbounded buffer, while the socket is backed up: past `hold` bytes the oldest
 * chunks go (the recorder keeps the newest output, so does each client) and the client is
 * told how much it missed before the output that follows the gap.
 */
class Follower {
  private queue: Buffer[] = [];
  private queued = 0;
  private dropped = 0;
  unsubscribe: () => void = () => undefined;

  constructor(
    private sock: net.Socket,
    private hold: number,
  ) {
    sock.on('drain', () => this.pump());
  }

  push(chunk: Buffer) {
    this.queue.push(chunk);
    this.queued += chunk.length;
    while (this.queued > this.hold && this.queue.length > 1) {
      const old = this.queue.shift()!;
      this.queued -= old.length;
      this.dropped += old.length;
    }
    this.pump();
  }

  /** Writes while the socket takes more (write() returned true); 'drain' calls again. */
  pump() {
    while (this.queue.length && !this.sock.destroyed && !this.sock.writableNeedDrain) {
      if (this.dropped) {
        this.sock.write(frame({ type: 'dropped', bytes: this.dropped } satisfies ControlReply));
        this.dropped = 0;
      }
      const chunk = this.queue.shift()!;
      this.queued -= chunk.length;
      this.sock.write(frame({ type: 'out', data: chunk } satisfies ControlReply));
    }
  }

  /** At the end everything held goes out (at most `hold` bytes), then the end. */
  finish(r: ControlReply) {
    if (this.dropped) this.sock.write(frame({ type: 'dropped', bytes: this.dropped } satisfies ControlReply));
    for (const chunk of this.queue) this.sock.write(frame({ type: 'out', data: chunk } satisfies ControlReply));
    this.queue = [];
    this.queued = 0;
    this.dropped = 0;
    if (!this.sock.destroyed) this.sock.write(frame(r));
  }
}

export class ControlServer {
  readonly path: string;
  private server: net.Server;
  /** clients that get the output and the end of the session (attach, stop) */
  private followers = new Map<net.Socket, Follower>();

  constructor(
    id: string,
    private h: ControlHandlers,
  ) {
    this.path = controlPath(id);
    this.server = net.createServer((sock) => this.onClient(sock));
  }

  async listen(): Promise<void> {
    fs.mkdirSync(CONTROL_DIR, { recursive: true, mode: 0o700 });
    // a socket left by a killed owner with our pid (pids are reused) is stale
    unlinkIfPresent(this.path);
    removeStaleSockets();
    await new Promise<void>((res, rej) => {
      this.server.once('error', rej);
      this.server.listen(this.path, () => res());
    });
    fs.chmodSync(this.path, 0o600);
    // the socket must not keep a finished session's process alive
    this.server.unref();
  }

  private send(sock: net.Socket, r: ControlReply) {
    if (!sock.destroyed) sock.write(frame(r));
  }

  private onClient(sock: net.Socket) {
    sock.on('error', () => this.unfollow(sock));
    sock.on('close', () => this.unfollow(sock));
    readFrames(sock, (v) => {
      const m = v as ControlMessage;
      if (m.op === 'swap') {
        let img: ProgramImage;
        try {
          const mod = decodeModule(Buffer.from(m.module), 'the new script');
          const why = factsMismatch(mod, hostKernelFacts(), 'the new script');
          if (why) throw new Error(why);
          img = mod.image;
        } catch (e) {
          this.send(sock, { type: 'error', message: (e as Error).message });
          sock.end();
          return;
        }
        this.h.swap(img, { keepGlobals: m.keepGlobals }).then(
          (result) => {
            this.send(sock, { type: 'swapped', result });
            sock.end();
          },
          (e: Error) => {
            this.send(sock, { type: 'error', message: e.message });
            sock.end();
          },
        );
      } else if (m.op === 'attach' || m.op === 'stop') {
        if (m.op === 'attach' && !this.h.tap) {
          this.send(sock, { type: 'error', message: 'this session prints to its own terminal or file; only flight recorder sessions (-F) can be attached' });
          sock.end();
          return;
        }
        const f = new Follower(sock, this.h.tap?.holdBytes || DEFAULT_HOLD);
        this.followers.set(sock, f);
        if (this.h.tap) f.unsubscribe = this.h.tap.subscribe((data) => f.push(data), m.op === 'attach' && m.replay !== false);
        if (m.op === 'stop') this.h.stop();
      } else {
        this.send(sock, { type: 'error', message: `unknown request ${JSON.stringify((v as { op?: unknown })?.op)}` });
        sock.end();
      }
    });
  }

  private unfollow(sock: net.Socket) {
    this.followers.get(sock)?.unsubscribe();
    this.followers.delete(sock);
  }

  /** whether a client follows the session to its end (attach, stop) */
  get following(): boolean {
    return this.followers.size > 0;
  }

  /** The session ended: followers get what is held for them and the end; the socket goes away. */
  close(exitCode: number) {
    for (const [sock, f] of this.followers) {
      f.finish({ type: 'end', exitCode });
      sock.end();
      this.unfollow(sock);
    }
    this.server.close();
    unlinkIfPresent(this.path);
  }
}

/** Removes the sockets of owners that died without removing theirs (SIGKILL). */
function removeStaleSockets() {
  let names: string[];
  try {
    names = fs.readdirSync(CONTROL_DIR);
  } catch {
    return;
  }
  for (const n of names) {
    const m = /^(\d+)(?:\.\d+)?\.sock$/.exec(n);
    if (!m) continue;
    try {
      process.kill(Number(m[1]), 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') unlinkIfPresent(path.join(CONTROL_DIR, n));
    }
  }
}

/** One sentence for a session id that does not answer. */
function noSession(id: string): Error {
  return new Error(`no tapvm session ${id} on this host (tapvm --sessions lists them)`);
}

/**
 * Sends one request to session `id` and calls onReply for each reply until the owner closes
 * the connection (resolves) or onReply returns true (the caller is done; the connection closes).
 */
export function request(id: string, msg: ControlMessage, onReply: (r: ControlReply, sock: net.Socket) => boolean | void): Promise<void> {
  if (!/^\d+(\.\d+)?$/.test(id)) return Promise.reject(new Error(`invalid session id '${id}': expected a number as tapvm --sessions prints it`));
  return new Promise((res, rej) => {
    const sock = net.connect(controlPath(id));
    let connected = false;
    sock.on('connect', () => {
      connected = true;
      sock.write(frame(msg));
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      if (!connected && (e.code === 'ENOENT' || e.code === 'ECONNREFUSED')) rej(noSession(id));
      else if (e.code === 'EACCES') rej(new Error(`cannot reach session ${id}: ${controlPath(id)} belongs to root`));
      else rej(e);
    });
    sock.on('close', () => res());
    readFrames(sock, (v) => {
      if (onReply(v as ControlReply, sock)) sock.destroy();
    });
  });
}

/** Asks session `id` to replace its script by the module `moduleBytes` (a .tvm file's bytes). */
export async function swapSession(id: string, moduleBytes: Uint8Array, o: SwapOptions = {}): Promise<SwapResult> {
  let result: SwapResult | undefined;
  let error: string | undefined;
  await request(id, { op: 'swap', module: moduleBytes, keepGlobals: o.keepGlobals }, (r) => {
    if (r.type === 'swapped') result = r.result;
    else if (r.type === 'error') error = r.message;
  });
  if (error !== undefined) throw new Error(error);
  if (!result) throw new Error(`session ${id} ended before it swapped`);
  return result;
}
