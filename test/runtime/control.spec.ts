// The control socket's output followers (tapvm attach): a client that does not keep up gets the
// newest output and a count of what it missed, and the session holds a bounded amount for it.
// Pure user space: a ControlServer over a MemoryRecorder, a raw socket client.
import { describe, it, expect } from 'vitest';
import * as net from 'net';
import { ControlServer, controlPath, frame, readFrames, type ControlReply } from '../../src/runtime/control';
import { MemoryRecorder } from '../../src/runtime/recorder';

const write = (w: NodeJS.WritableStream, b: Buffer) => new Promise<void>((res) => w.write(b, () => res()));
const tick = () => new Promise((r) => setImmediate(r));

describe('control socket followers', () => {
  it('a slow attach client gets the newest output and how much it missed; the owner holds at most the recorder size for it', async () => {
    const HOLD = 64 * 1024;
    const rec = new MemoryRecorder(HOLD);
    const id = String(process.pid);
    const server = new ControlServer(id, { swap: () => Promise.reject(new Error('no')), stop: () => undefined, tap: rec });
    await server.listen();
    const sock = net.connect(controlPath(id));
    await new Promise((r) => sock.once('connect', r));
    const replies: ControlReply[] = [];
    readFrames(sock, (v) => replies.push(v as ControlReply));
    sock.pause(); // a client that reads nothing for now
    sock.write(frame({ op: 'attach', replay: true }));
    // wait until the owner has the follower (its replay of nothing) and then write 8 MB
    await new Promise((r) => setTimeout(r, 100));
    const line = (i: number) => Buffer.from(`line ${String(i).padStart(8, '0')} ${'x'.repeat(1009)}\n`); // 1024 bytes
    const N = 8192;
    for (let i = 0; i < N; i++) {
      await write(rec, line(i));
      if (i % 64 === 0) await tick();
    }
    const ended = new Promise((r) => sock.once('close', r));
    sock.resume();
    await new Promise((r) => setTimeout(r, 200));
    server.close(0);
    await ended;
    const out = Buffer.concat(replies.filter((r) => r.type === 'out').map((r) => Buffer.from((r as { data: Uint8Array }).data)));
    const dropped = replies.filter((r) => r.type === 'dropped').reduce((n, r) => n + (r as { bytes: number }).bytes, 0);
    // every byte is either delivered or counted as dropped
    expect(out.length + dropped).toBe(N * 1024);
    expect(dropped).toBeGreaterThan(0);
    // what was held for the client is bounded by the recorder's size (plus what the socket
    // itself buffers), not the 8 MB written
    expect(out.length).toBeLessThan(HOLD + 1024 * 1024);
    // the newest output arrives, whole lines, the last one last
    expect(out.subarray(out.length - 1024).equals(line(N - 1))).toBe(true);
    expect(replies[replies.length - 1]).toEqual({ type: 'end', exitCode: 0 });
    // the dropped count comes before the output that follows the gap
    expect(replies.findIndex((r) => r.type === 'dropped')).toBeLessThan(replies.length - 2);
  });
});
