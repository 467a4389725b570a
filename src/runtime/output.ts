// Turns print events into text (stap's printf semantics) and errors into stap's messages.
//
// Kernel PRINT records are formatted straight from their bytes in the ring batch: every format
// is compiled once into a list of steps, and the common conversions (%d %i %u %x %X %p %c %s
// without flags, width or precision) write their output bytes directly, with no bigint, string
// or event object per record. Any other conversion formats just its own arguments through
// formatValues (src/output/format.ts), which stays the reference: the output is byte for byte
// the same (test/runtime/output.spec.ts checks both against each other).
//
// Output is latin1: every char formatValues produces is one byte (U+0000-U+00FF).
import type { ProgramImage } from '../image/image';
import type { VmEvent } from '../vm/backend';
import { ERR } from '../isa/opcodes';
import { ERROR_MESSAGES } from '../isa/errors';
import { parseFormat, formatValues, type ParsedFormat, type Conversion } from '../output/format';
import { REC_HDR_SIZE } from './layout';
import { expandSyscallText } from '../probes/syscall-format';

const CHUNK = 65536;
const TWO32 = 4294967296;

/** Appends bytes to 64 KiB chunks; take() hands out what was written since the last take(). */
export class ByteWriter {
  buf = Buffer.allocUnsafe(CHUNK);
  pos = 0;
  /** start of the bytes not yet handed out */
  private start = 0;
  private full: Buffer[] = [];
  private fullBytes = 0;

  /** Room for n more bytes (a new chunk when the current one is short). */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    if (this.pos > this.start) {
      this.full.push(this.buf.subarray(this.start, this.pos));
      this.fullBytes += this.pos - this.start;
    }
    this.buf = Buffer.allocUnsafe(Math.max(CHUNK, n));
    this.pos = this.start = 0;
  }

  /** bytes buffered and not yet handed out */
  get pending(): number {
    return this.fullBytes + this.pos - this.start;
  }

  byte(c: number): void {
    if (this.pos === this.buf.length) this.ensure(1);
    this.buf[this.pos++] = c;
  }

  copy(src: Buffer, from: number, to: number): void {
    const n = to - from;
    this.ensure(n);
    const b = this.buf;
    let p = this.pos;
    if (n <= 24) for (let i = from; i < to; i++) b[p++] = src[i];
    else p += src.copy(b, p, from, to);
    this.pos = p;
  }

  latin1(s: string): void {
    const n = s.length;
    this.ensure(n);
    if (n <= 24) {
      const b = this.buf;
      let p = this.pos;
      for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
      this.pos = p;
    } else {
      this.pos += this.buf.write(s, this.pos, 'latin1');
    }
  }

  /** An unsigned 32-bit integer in decimal (integer arithmetic only). */
  u32(v: number): void {
    this.ensure(10);
    let digits = 1;
    for (let pow = 10; digits < 10 && v >= pow; pow *= 10) digits++;
    const b = this.buf;
    let q = this.pos + digits - 1;
    while (v >= 10) {
      const t = (v / 10) >>> 0;
      b[q--] = 48 + v - t * 10;
      v = t;
    }
    b[q] = 48 + v;
    this.pos += digits;
  }

  /** A safe integer (|v| <= 2^53) in decimal. */
  decimal(v: number): void {
    if (v < 0) {
      this.byte(45); // '-'
      v = -v;
    }
    if (v < TWO32) return this.u32(v);
    // split into <= 7 high digits and exactly 9 low ones, both exact
    const hi = Math.floor(v / 1e9);
    let lo = v - hi * 1e9;
    this.u32(hi);
    this.ensure(9);
    const b = this.buf;
    for (let q = this.pos + 8; q >= this.pos; q--) {
      const t = (lo / 10) >>> 0;
      b[q] = 48 + lo - t * 10;
      lo = t;
    }
    this.pos += 9;
  }

  /** A 32-bit unsigned value in hex, `min` digits at least (zero-padded), `a` = 'a' or 'A'. */
  hex32(v: number, min: number, a: number): void {
    this.ensure(8);
    let digits = 1;
    while (digits < 8 && v >>> (4 * digits) !== 0) digits++;
    if (digits < min) digits = min;
    const b = this.buf;
    const p = this.pos;
    for (let i = digits - 1; i >= 0; i--) {
      const d = (v >>> (4 * (digits - 1 - i))) & 15;
      b[p + i] = d < 10 ? 48 + d : a - 10 + d;
    }
    this.pos = p + digits;
  }

  /** Everything not yet handed out, or null; later bytes go to fresh memory. */
  take(): Buffer | null {
    if (this.pos > this.start) {
      this.full.push(this.buf.subarray(this.start, this.pos));
      this.fullBytes += this.pos - this.start;
      this.start = this.pos;
    }
    if (!this.full.length) return null;
    const out = this.full.length === 1 ? this.full[0] : Buffer.concat(this.full, this.fullBytes);
    this.full = [];
    this.fullBytes = 0;
    return out;
  }
}

// Little-endian reads by indexing: these run per argument, and Buffer's readUInt32LE
// validates its offset argument on every call.
const u32 = (b: Buffer, o: number): number => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
const i32 = (b: Buffer, o: number): number => b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24);

/** Writes the arguments at buf[off...] as the format says; returns the offset after them. */
type Step = (buf: Buffer, off: number, end: number, w: ByteWriter) => number;

function tooShort(): never {
  throw new Error('ring record: argument past the end of the record');
}

function literalStep(text: string): Step {
  const bytes = Buffer.from(text, 'latin1');
  const n = bytes.length;
  if (n === 1) {
    const c = bytes[0];
    return (_b, off, _e, w) => (w.byte(c), off);
  }
  return (_b, off, _e, w) => (w.copy(bytes, 0, n), off);
}

const isPlain = (c: Conversion): boolean =>
  !c.flags.minus && !c.flags.plus && !c.flags.space && !c.flags.hash && !c.flags.zero &&
  c.width === undefined && c.precision === undefined && !c.widthStar && !c.precisionStar;

/** The step for a plain conversion, or undefined when it must go through formatValues. */
function fastStep(c: Conversion): Step | undefined {
  if (!isPlain(c)) return undefined;
  switch (c.conv) {
    case 'd':
    case 'i':
      return (b, off, end, w) => {
        if (off + 8 > end) tooShort();
        const hi = i32(b, off + 4);
        const lo = u32(b, off);
        if (hi === 0) w.u32(lo);
        else if (hi === -1 && lo !== 0) {
          w.byte(45); // '-'
          w.u32(TWO32 - lo);
        } else if (hi >= -0x200000 && hi < 0x200000) w.decimal(hi * TWO32 + lo); // |v| < 2^53
        else w.latin1(b.readBigInt64LE(off).toString());
        return off + 8;
      };
    case 'u':
      return (b, off, end, w) => {
        if (off + 8 > end) tooShort();
        const hi = u32(b, off + 4);
        if (hi === 0) w.u32(u32(b, off));
        else if (hi < 0x200000) w.decimal(hi * TWO32 + u32(b, off));
        else w.latin1(b.readBigUInt64LE(off).toString());
        return off + 8;
      };
    case 'x':
    case 'X':
    case 'p': {
      const a = c.conv === 'X' ? 65 : 97;
      const prefix = c.conv === 'p';
      return (b, off, end, w) => {
        if (off + 8 > end) tooShort();
        if (prefix) {
          w.byte(48);
          w.byte(120); // "0x"
        }
        const hi = u32(b, off + 4);
        const lo = u32(b, off);
        if (hi === 0) w.hex32(lo, 1, a);
        else {
          w.hex32(hi, 1, a);
          w.hex32(lo, 8, a);
        }
        return off + 8;
      };
    }
    case 'c':
      return (b, off, end, w) => {
        if (off + 8 > end) tooShort();
        w.byte(b[off]); // the low byte of the little-endian long
        return off + 8;
      };
    case 's':
      return (b, off, end, w) => {
        if (off + 2 > end) tooShort();
        const n = b[off] | (b[off + 1] << 8);
        if (off + 2 + n > end) tooShort();
        w.copy(b, off + 2, off + 2 + n);
        return off + 2 + n;
      };
  }
  return undefined;
}

/** Any conversion: its arguments decoded, then formatValues on a format of just that conversion. */
function slowStep(c: Conversion): Step {
  const args: ParsedFormat['args'] = [];
  if (c.widthStar) args.push('long');
  if (c.precisionStar) args.push('long');
  args.push(c.conv === 's' ? 'string' : 'long');
  const one: ParsedFormat = { pieces: [c], args };
  return (b, off, end, w) => {
    const values: (bigint | string)[] = [];
    for (const t of args) {
      if (t === 'long') {
        if (off + 8 > end) tooShort();
        values.push(b.readBigInt64LE(off));
        off += 8;
      } else {
        if (off + 2 > end) tooShort();
        const n = b.readUInt16LE(off);
        if (off + 2 + n > end) tooShort();
        values.push(b.toString('latin1', off + 2, off + 2 + n));
        off += 2 + n;
      }
    }
    w.latin1(formatValues(one, values));
    return off;
  };
}

/**
 * Compiles a format into the function that writes a PRINT record's output: `off` is where the
 * record's arguments start, `end` where the record ends.
 */
export function compileRecordFormat(f: ParsedFormat): (buf: Buffer, off: number, end: number, w: ByteWriter) => void {
  const steps: Step[] = f.pieces.map((p) => (typeof p === 'string' ? literalStep(p) : (fastStep(p) ?? slowStep(p))));
  const n = steps.length;
  if (n === 1) {
    const s0 = steps[0];
    return (b, off, end, w) => void s0(b, off, end, w);
  }
  return (b, off, end, w) => {
    for (let i = 0; i < n; i++) off = steps[i](b, off, end, w);
  };
}

export class OutputFormatter {
  private parsed: ParsedFormat[];
  private compiled: ((buf: Buffer, off: number, end: number, w: ByteWriter) => void)[];
  private w = new ByteWriter();
  private scheduled = false;
  private syscallText: boolean;

  /** set once the reader went away (EPIPE): further output is dropped */
  closed = false;

  constructor(
    img: ProgramImage,
    private out: NodeJS.WritableStream,
  ) {
    this.syscallText = img.syscallText === true;
    const maxLen = (img.maxStringLen ?? 128) - 1;
    this.expand = this.syscallText ? (s) => expandSyscallText(s, maxLen) : (s) => s;
    this.parsed = img.formats.map((f) => parseFormat(f.text));
    this.compiled = this.parsed.map((p, i) => {
      const want = img.formats[i].args;
      // the record holds what the image says; a format that disagrees is decoded by that
      if (!img.syscallText && p.args.length === want.length && p.args.every((t, k) => t === want[k])) return compileRecordFormat(p);
      return (b, off, end, w) => {
        const values: (bigint | string)[] = [];
        for (const t of want) {
          if (t === 'long') {
            values.push(b.readBigInt64LE(off));
            off += 8;
          } else {
            const n = b.readUInt16LE(off);
            values.push(this.expand(b.toString('latin1', off + 2, off + 2 + n)));
            off += 2 + n;
          }
        }
        void end;
        w.latin1(formatValues(p, values));
      };
    });
  }

  /** argstr/retstr values the kernel encoded (src/probes/syscall-format.ts), when the script has any */
  private expand: (s: string) => string;

  /** A print event of the user-space interpreter. */
  print(ev: Extract<VmEvent, { type: 'print' }>) {
    const values = this.syscallText ? ev.values.map((v) => (typeof v === 'string' ? this.expand(v) : v)) : ev.values;
    this.w.latin1(formatValues(this.parsed[ev.format], values));
    this.written();
  }

  /**
   * A kernel PRINT record in buf[off, off + len), formatted from its bytes. Call written()
   * after a run of these (once per batch).
   */
  printRecord(buf: Buffer, off: number, len: number) {
    const f = this.compiled[u32(buf, off + 4)];
    if (f) f(buf, off + REC_HDR_SIZE, off + len, this.w);
  }

  /** Write policy: at once past 64 KiB, else once per event-loop turn. */
  written() {
    if (this.w.pending >= CHUNK) this.flush();
    else if (!this.scheduled && this.w.pending > 0) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  /** Text that is not a print record (the globals stap displays at exit), after the rest. */
  text(s: string) {
    this.flush();
    if (s && !this.closed) this.out.write(Buffer.from(s, 'latin1'));
  }

  flush() {
    const b = this.w.take();
    if (!b || this.closed) return;
    this.out.write(b);
  }
}

/** stap's form: "ERROR: division by 0 near operator '/' at <input>:1:30" */
export function errorMessage(img: ProgramImage, ev: Extract<VmEvent, { type: 'error' }>): string {
  const what = ev.code === ERR.USER ? (ev.message ?? '') : (ERROR_MESSAGES[ev.code] ?? `error ${ev.code}`);
  // MAXSKIPPED is the session's error, not a statement's: stap names no place
  const src = ev.code === ERR.SKIPPED ? undefined : img.sourceMap[ev.pc];
  const where = src ? ` near ${src.near} at ${src.loc.file}:${src.loc.line}:${src.loc.col}` : '';
  return `ERROR: ${what}${where}`;
}
