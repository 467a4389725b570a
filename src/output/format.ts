// SystemTap's printf format language: parsed once at compile time (parseFormat), applied in
// user space to the values a print event carries (formatValues / formatBytes).
//
// The reference is stap itself, not C:
//  - parsing follows print_format::string_to_components (staptree.cxx): at most ONE flag
//    character, then an optional width ('*' or digits), an optional precision ('.' then '*' or
//    digits), an optional single 'l', then one of b c s m M d i o u x X p.  So "%-#x" and
//    "%+ d" are errors, and in "%#08x" / "%+05d" the '0' is part of the width, not a flag.
//    A '%' as the very last character is a literal '%'.
//  - formatting follows the runtime the generated code calls (runtime/vsprintf.c): number(),
//    _stp_vsprint_char(), _stp_vsprint_memory(), _stp_vsprint_binary().  Where that code is
//    the Linux kernel's vsprintf and differs from C, we do what stap does:
//      * '#' always adds the prefix, also for 0: %#x of 0 is "0x0", %#o of 0 is "00";
//      * '0' still pads with zeros when a precision is given: %05.3d of 42 is "00042";
//      * a precision of 0 still prints a 0 value as "0" (and "%.d" means no precision);
//      * %p is %#x of the 64-bit value (stap >= 1.3): 0x1234abcd, 0x0 - no fixed width;
//      * a '*' width or precision is truncated to int and clamped to [0, STP_BUFFER_SIZE]
//        (a negative '*' width does NOT left-justify, unlike C);
//      * %0s / %0m / %0M append a NUL byte after the (padded) field.

export type FormatArgType = 'long' | 'string';

export type ConvChar = 'd' | 'i' | 'u' | 'x' | 'X' | 'o' | 's' | 'c' | 'p' | 'b' | 'm' | 'M';

export interface ConversionFlags {
  minus: boolean;
  plus: boolean;
  space: boolean;
  hash: boolean;
  zero: boolean;
}

export interface Conversion {
  conv: ConvChar;
  flags: ConversionFlags;
  /** static width, when given as digits */
  width?: number;
  /** static precision, when given as '.' followed by digits */
  precision?: number;
  /** width comes from a 'long' argument before the value */
  widthStar: boolean;
  /** precision comes from a 'long' argument before the value (after a '*' width) */
  precisionStar: boolean;
  /** offset of the conversion's '%' in the format text */
  offset?: number;
}

export interface ParsedFormat {
  /** literal text (with "%%" already reduced to "%") and conversions, in order */
  pieces: (string | Conversion)[];
  /** type of every argument the format consumes, in order ('*' values come first) */
  args: FormatArgType[];
}

/** A malformed format string; offset is the index in the format text the error refers to. */
export class FormatError extends Error {
  offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.name = 'FormatError';
    this.offset = offset;
  }
}

/** Formatting failed at run time: missing/mistyped value, or a %m/%M memory read fault. */
export class FormatRuntimeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FormatRuntimeError';
  }
}

/**
 * A value handed to the formatter.  Longs are bigints (taken modulo 2^64), %s takes a string.
 * %m/%M take a long address (that is what stap type-checks), read through
 * FormatOptions.readMemory; the runtime may instead pass the bytes it captured at probe time,
 * as a Uint8Array or a string whose char codes are bytes (only the first bytes are used).
 */
export type FormatValue = bigint | string | Uint8Array;

export interface FormatOptions {
  /**
   * Read `len` bytes at `addr` for %m/%M (`user` is true for %#m/%#M).  Return null/undefined
   * on a fault, which fails the whole print like stap's deref fault does.
   */
  readMemory?: (addr: bigint, len: number, user: boolean) => Uint8Array | null | undefined;
}

/** stap's print buffer size: widths and precisions are clamped to it. */
export const STP_BUFFER_SIZE = 8192;

const CONV_CHARS = 'bcsmMdiouxXp';

// ---------------------------------------------------------------------------------------------
// Parsing

export function parseFormat(fmt: string): ParsedFormat {
  const pieces: (string | Conversion)[] = [];
  const args: FormatArgType[] = [];
  let literal = '';
  const n = fmt.length;
  let i = 0;

  const readNumber = (): number => {
    let v = 0;
    while (i < n && fmt[i] >= '0' && fmt[i] <= '9') {
      // keep it a safe integer; anything this large is clamped when formatting anyway
      v = Math.min(v * 10 + (fmt.charCodeAt(i) - 48), 1e9);
      i++;
    }
    return v;
  };

  while (i < n) {
    const ch = fmt[i];
    if (ch !== '%') {
      literal += ch;
      i++;
      continue;
    }
    // stap: "%%" is a literal '%', and so is a '%' that ends the format
    if (i + 1 === n || fmt[i + 1] === '%') {
      literal += '%';
      i += 2;
      continue;
    }

    const start = i;
    i++;
    const incomplete = (): never => {
      throw new FormatError('trailing incomplete print format conversion', start);
    };
    const flags: ConversionFlags = { minus: false, plus: false, space: false, hash: false, zero: false };
    // exactly one optional flag, as stap parses it
    switch (fmt[i]) {
      case '0': flags.zero = true; i++; break;
      case '+': flags.plus = true; i++; break;
      case '-': flags.minus = true; i++; break;
      case ' ': flags.space = true; i++; break;
      case '#': flags.hash = true; i++; break;
    }
    if (i === n) incomplete();

    let width: number | undefined;
    let widthStar = false;
    if (fmt[i] === '*') {
      widthStar = true;
      i++;
    } else if (fmt[i] >= '0' && fmt[i] <= '9') {
      width = readNumber();
    }
    if (i === n) incomplete();

    let precision: number | undefined;
    let precisionStar = false;
    if (fmt[i] === '.') {
      i++;
      if (i === n) incomplete();
      if (fmt[i] === '*') {
        precisionStar = true;
        i++;
      } else if (fmt[i] >= '0' && fmt[i] <= '9') {
        precision = readNumber();
      }
      // '.' followed by anything else: stap leaves the precision unspecified
    }
    if (i === n) incomplete();

    if (fmt[i] === 'l') i++; // one 'l' is accepted and ignored; "%llu" is invalid in stap
    if (i === n) incomplete();

    const c = fmt[i];
    if (!CONV_CHARS.includes(c)) {
      throw new FormatError('invalid or missing conversion specifier', i);
    }
    i++;

    if (literal) {
      pieces.push(literal);
      literal = '';
    }
    const conv: Conversion = { conv: c as ConvChar, flags, widthStar, precisionStar, offset: start };
    if (width !== undefined) conv.width = width;
    if (precision !== undefined) conv.precision = precision;
    pieces.push(conv);

    if (widthStar) args.push('long');
    if (precisionStar) args.push('long');
    args.push(c === 's' ? 'string' : 'long');
  }
  if (literal) pieces.push(literal);
  return { pieces, args };
}

/** How many bytes %m/%M read for a given precision (stap: the precision, default 1). */
export function memoryReadLength(precision: number | undefined): number {
  return precision !== undefined && precision > 0 ? precision : 1;
}

// ---------------------------------------------------------------------------------------------
// Formatting

/** Where formatted output goes: text (what %s and literals produce) or raw bytes. */
interface Sink {
  text(s: string): void;
  bytes(b: ArrayLike<number>): void;
}

class StringSink implements Sink {
  out = '';
  text(s: string): void {
    this.out += s;
  }
  bytes(b: ArrayLike<number>): void {
    for (let k = 0; k < b.length; k++) this.out += String.fromCharCode(b[k] & 0xff);
  }
}

class ByteSink implements Sink {
  private chunks: Uint8Array[] = [];
  private size = 0;
  private static enc = new TextEncoder();
  text(s: string): void {
    if (!s) return;
    this.push(ByteSink.enc.encode(s));
  }
  bytes(b: ArrayLike<number>): void {
    const u = new Uint8Array(b.length);
    for (let k = 0; k < b.length; k++) u[k] = b[k] & 0xff;
    this.push(u);
  }
  private push(u: Uint8Array): void {
    this.chunks.push(u);
    this.size += u.length;
  }
  result(): Uint8Array {
    const r = new Uint8Array(this.size);
    let off = 0;
    for (const c of this.chunks) {
      r.set(c, off);
      off += c.length;
    }
    return r;
  }
}

/**
 * Apply a parsed format.  Raw bytes (%b, %c, %m, the NUL of %0s) appear as chars U+0000-U+00FF;
 * use formatBytes to get the exact output bytes (text UTF-8 encoded, raw bytes as they are).
 */
export function formatValues(f: ParsedFormat, values: readonly FormatValue[], opts: FormatOptions = {}): string {
  const sink = new StringSink();
  run(f, values, opts, sink);
  return sink.out;
}

/** Like formatValues, but the bytes stap would write: text as UTF-8, binary output raw. */
export function formatBytes(f: ParsedFormat, values: readonly FormatValue[], opts: FormatOptions = {}): Uint8Array {
  const sink = new ByteSink();
  run(f, values, opts, sink);
  return sink.result();
}

/** What print(x) / sprint(x) emit for one value; println/sprintln append "\n". */
export function formatPrint(value: bigint | string): string {
  return typeof value === 'bigint' ? BigInt.asIntN(64, value).toString() : value;
}

function clampField(v: number): number {
  return v < 0 ? 0 : v > STP_BUFFER_SIZE ? STP_BUFFER_SIZE : v;
}

function run(f: ParsedFormat, values: readonly FormatValue[], opts: FormatOptions, sink: Sink): void {
  let ix = 0;
  const next = (c: Conversion): FormatValue => {
    if (ix >= values.length) {
      throw new FormatRuntimeError(`too few values for format: %${c.conv} needs value #${ix + 1}`);
    }
    return values[ix++];
  };
  const nextLong = (c: Conversion, what: string): bigint => {
    const v = next(c);
    if (typeof v !== 'bigint') {
      throw new FormatRuntimeError(`%${c.conv}: ${what} #${ix} must be a long, got ${describe(v)}`);
    }
    return v;
  };

  for (const p of f.pieces) {
    if (typeof p === 'string') {
      sink.text(p);
      continue;
    }
    // stap: clamp_t(int, arg, 0, ...) - truncated to int, then clamped; -1 means unspecified
    let width = -1;
    if (p.widthStar) width = clampField(Number(BigInt.asIntN(32, nextLong(p, 'width'))));
    else if (p.width !== undefined) width = clampField(p.width);
    let precision = -1;
    if (p.precisionStar) precision = clampField(Number(BigInt.asIntN(32, nextLong(p, 'precision'))));
    else if (p.precision !== undefined) precision = clampField(p.precision);

    switch (p.conv) {
      case 'd':
      case 'i':
      case 'u':
      case 'o':
      case 'x':
      case 'X':
      case 'p': {
        const v = nextLong(p, 'value');
        const base = p.conv === 'o' ? 8 : p.conv === 'x' || p.conv === 'X' || p.conv === 'p' ? 16 : 10;
        sink.text(
          formatNumber(BigInt.asUintN(64, v), base, width, precision, {
            left: p.flags.minus,
            zero: p.flags.zero,
            plus: p.flags.plus,
            space: p.flags.space,
            special: p.flags.hash || p.conv === 'p',
            sign: p.conv === 'd' || p.conv === 'i',
            large: p.conv === 'X',
          }),
        );
        break;
      }
      case 'c':
        formatChar(sink, Number(BigInt.asUintN(8, nextLong(p, 'value'))), width, p.flags);
        break;
      case 's': {
        const v = next(p);
        if (typeof v !== 'string') {
          throw new FormatRuntimeError(`%s: value #${ix} must be a string, got ${describe(v)}`);
        }
        const s = precision >= 0 ? v.slice(0, precision) : v;
        padded(sink, s.length, width, p.flags, () => sink.text(s));
        break;
      }
      case 'm':
      case 'M': {
        const v = next(p);
        const len = memoryReadLength(precision >= 0 ? precision : undefined);
        const mem = readMemory(v, len, p, opts, ix);
        if (p.conv === 'm') {
          padded(sink, mem.length, width, p.flags, () => sink.bytes(mem));
        } else {
          let hex = '';
          for (const b of mem) hex += b.toString(16).padStart(2, '0');
          padded(sink, hex.length, width, p.flags, () => sink.text(hex));
        }
        break;
      }
      case 'b':
        formatBinary(sink, nextLong(p, 'value'), width, precision, p.flags.minus);
        break;
    }
  }
}

function describe(v: FormatValue): string {
  return typeof v === 'bigint' ? 'a long' : typeof v === 'string' ? 'a string' : 'bytes';
}

/**
 * The kernel-style number() of runtime/vsprintf.c.  `num` is the unsigned 64-bit value;
 * width/precision are -1 when unspecified.
 */
function formatNumber(
  num: bigint,
  base: 8 | 10 | 16,
  width: number,
  precision: number,
  f: { left: boolean; zero: boolean; plus: boolean; space: boolean; special: boolean; sign: boolean; large: boolean },
): string {
  const zero = f.zero && !f.left;
  let size = width;
  let sign = '';
  if (f.sign) {
    const s = BigInt.asIntN(64, num);
    if (s < 0n) {
      sign = '-';
      num = -s; // INT64_MIN stays 2^63, as the unsigned C negation does
      size--;
    } else if (f.plus) {
      sign = '+';
      size--;
    } else if (f.space) {
      sign = ' ';
      size--;
    }
  }
  let prefix = '';
  if (f.special) {
    if (base === 16) {
      prefix = f.large ? '0X' : '0x';
      size -= 2;
    } else if (base === 8) {
      prefix = '0';
      size--;
    }
  }
  let digits = num.toString(base);
  if (f.large) digits = digits.toUpperCase();
  if (digits.length > precision) precision = digits.length;
  size -= precision;

  let out = '';
  if (!zero && !f.left && size > 0) {
    out += ' '.repeat(size);
    size = 0;
  }
  out += sign + prefix;
  if (!f.left && size > 0) {
    out += '0'.repeat(size); // only reached with the zero flag
    size = 0;
  }
  out += '0'.repeat(precision - digits.length) + digits;
  if (size > 0) out += ' '.repeat(size);
  return out;
}

/** Emit a field of `len` columns padded to `width` with spaces, then the NUL of a '0' flag. */
function padded(sink: Sink, len: number, width: number, flags: ConversionFlags, body: () => void): void {
  const pad = width > len ? ' '.repeat(width - len) : '';
  if (!flags.minus) sink.text(pad);
  body();
  if (flags.minus) sink.text(pad);
  if (flags.zero) sink.bytes([0]);
}

const CHAR_ESCAPES: Record<number, string> = {
  0x07: 'a',
  0x08: 'b',
  0x0c: 'f',
  0x0a: 'n',
  0x0d: 'r',
  0x09: 't',
  0x0b: 'v',
  0x27: "'",
  0x5c: '\\',
};

/** _stp_vsprint_char: one byte; with '#', C escapes or \ooo for non-printing bytes, ' and \. */
function formatChar(sink: Sink, c: number, width: number, flags: ConversionFlags): void {
  let esc: string | undefined;
  if (flags.hash && (c < 0x20 || c > 0x7e || c === 0x27 || c === 0x5c)) {
    const e = CHAR_ESCAPES[c];
    esc = e !== undefined ? '\\' + e : '\\' + c.toString(8).padStart(3, '0');
  }
  const size = esc !== undefined ? esc.length : 1;
  const pad = width > size ? ' '.repeat(width - size) : '';
  if (!flags.minus) sink.text(pad);
  if (esc !== undefined) sink.text(esc);
  else sink.bytes([c]);
  if (flags.minus) sink.text(pad);
}

function readMemory(v: FormatValue, len: number, c: Conversion, opts: FormatOptions, ix: number): Uint8Array {
  if (typeof v === 'string') {
    const s = v.slice(0, len);
    const u = new Uint8Array(s.length);
    for (let k = 0; k < s.length; k++) u[k] = s.charCodeAt(k) & 0xff;
    return u;
  }
  if (v instanceof Uint8Array) return v.subarray(0, len);
  if (typeof v !== 'bigint') {
    throw new FormatRuntimeError(`%${c.conv}: value #${ix} must be an address, got ${describe(v)}`);
  }
  const user = c.flags.hash;
  const addr = BigInt.asUintN(64, v);
  const mem = opts.readMemory ? opts.readMemory(addr, len, user) : undefined;
  if (!mem) {
    throw new FormatRuntimeError(
      `${user ? 'user' : 'kernel'} read fault at 0x${addr.toString(16).padStart(16, '0')}`,
    );
  }
  return mem.subarray(0, len);
}

/**
 * _stp_vsprint_binary: the value as `precision` little-endian bytes (the machine's native
 * order; tapvm targets little-endian hosts), padded with NUL bytes to `width`.  Only 1, 2, 4
 * and 8 are valid byte counts; an unspecified width defaults to the precision and vice versa,
 * both defaulting to 8 ("%4b" writes 4 bytes, "%b" 8, "%3b" 8).
 */
function formatBinary(sink: Sink, v: bigint, width: number, precision: number, left: boolean): void {
  const valid = (n: number): number => (n === 1 || n === 2 || n === 4 || n === 8 ? n : -1);
  precision = valid(precision);
  if (width === -1) {
    if (precision === -1) {
      width = 8;
      precision = 8;
    } else {
      width = precision;
    }
  } else if (precision === -1) {
    precision = valid(width);
    if (precision === -1) precision = 8;
  }
  const pad = width > precision ? new Array<number>(width - precision).fill(0) : [];
  if (!left) sink.bytes(pad);
  const u = BigInt.asUintN(64, v);
  const b: number[] = [];
  for (let k = 0; k < precision; k++) b.push(Number((u >> BigInt(8 * k)) & 0xffn));
  sink.bytes(b);
  if (left) sink.bytes(pad);
}
