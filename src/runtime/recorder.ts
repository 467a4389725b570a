// Where a flight recorder session's output goes (-F): the most recent output in memory (-S MB)
// for `tapvm attach` to replay, or rotating files (-o FILE -S MB,COUNT: FILE.0, FILE.1, ...
// of at most MB each, only the newest COUNT kept, as stap's -S does).
import * as fs from 'fs';
import { Writable } from 'stream';
import type { OutputTap } from './control';

type Subscriber = (chunk: Buffer) => void;

/** A cut point <= limit just after a newline, so that files and replays hold whole lines. */
function lineCut(b: Buffer, limit: number): number {
  const nl = b.lastIndexOf(0x0a, limit - 1);
  return nl >= 0 ? nl + 1 : limit;
}

abstract class TappedOutput extends Writable implements OutputTap {
  protected subscribers = new Set<Subscriber>();

  protected publish(chunk: Buffer) {
    for (const fn of this.subscribers) fn(chunk);
  }

  protected replay(): Buffer | undefined {
    return undefined;
  }

  subscribe(fn: Subscriber, replay: boolean): () => void {
    const held = replay ? this.replay() : undefined;
    if (held?.length) fn(held);
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }
}

/** Keeps the newest `capacity` bytes of output (whole lines where it can). */
export class MemoryRecorder extends TappedOutput {
  private chunks: Buffer[] = [];
  private bytes = 0;

  constructor(readonly capacity: number) {
    super();
  }

  /** a client that falls behind keeps the newest output, as much as the recorder does */
  get holdBytes(): number {
    return this.capacity;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void) {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    while (this.bytes > this.capacity) {
      const first = this.chunks[0];
      const excess = this.bytes - this.capacity;
      if (first.length <= excess) {
        this.chunks.shift();
        this.bytes -= first.length;
        continue;
      }
      // drop up to the end of the line that the excess falls in (a line with no end in this
      // chunk keeps its newest bytes)
      const nl = first.indexOf(0x0a, excess - 1);
      const cut = nl < 0 ? excess : nl + 1;
      if (cut === first.length) this.chunks.shift();
      else this.chunks[0] = first.subarray(cut);
      this.bytes -= cut;
    }
    this.publish(chunk);
    cb();
  }

  protected override replay(): Buffer {
    return Buffer.concat(this.chunks, this.bytes);
  }
}

/** FILE.0, FILE.1, ... each of at most maxBytes (0: one file FILE), keeping the newest `keep` (0: all). */
export class RotatingFile extends TappedOutput {
  private fd = -1;
  private index = -1;
  private size = 0;

  constructor(
    private base: string,
    private maxBytes: number,
    private keep: number,
  ) {
    super();
    this.open();
  }

  /** a client that falls behind keeps the newest output, one file's worth (the default without -S) */
  get holdBytes(): number | undefined {
    return this.maxBytes || undefined;
  }

  private name(i: number): string {
    return this.maxBytes > 0 ? `${this.base}.${i}` : this.base;
  }

  private open() {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.index++;
    this.fd = fs.openSync(this.name(this.index), 'w');
    this.size = 0;
    if (this.keep > 0 && this.index >= this.keep) fs.rmSync(this.name(this.index - this.keep), { force: true });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void) {
    try {
      let rest = chunk;
      while (this.maxBytes > 0 && this.size + rest.length > this.maxBytes) {
        const room = this.maxBytes - this.size;
        // whole lines in a file; only a line longer than a whole file is split
        let n = room > 0 ? lineCut(rest, room) : 0;
        if (n > 0 && rest[n - 1] !== 0x0a && this.size > 0) n = 0;
        if (n > 0) fs.writeSync(this.fd, rest, 0, n);
        rest = rest.subarray(n);
        this.open();
      }
      if (rest.length) {
        fs.writeSync(this.fd, rest);
        this.size += rest.length;
      }
      this.publish(chunk);
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }

  override _final(cb: (e?: Error | null) => void) {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
    cb();
  }
}

/** -S SIZE[,COUNT]: megabytes and file count; throws one sentence when malformed. */
export function parseSizeOption(s: string): { bytes: number; count: number } {
  const m = /^(\d+)(?:,(\d+))?$/.exec(s);
  if (!m || Number(m[1]) < 1) throw new Error(`invalid -S '${s}': expected SIZE[,COUNT] in megabytes, e.g. -S 1,2`);
  return { bytes: Number(m[1]) * 1024 * 1024, count: m[2] === undefined ? 0 : Number(m[2]) };
}
