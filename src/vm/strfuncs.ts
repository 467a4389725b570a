// stap's string tapset (tapset/string.stp, tapset/tokenize.stp, runtime/stp_string.c) on byte
// strings: what the STRLEN..ISDIGIT opcodes compute. vm/strings.h is the same in eBPF C; the
// differential suite holds them together. Inputs are byte strings of at most MAXSTRINGLEN-1
// bytes (./strings); results are cut to that too. MAXSTRINGLEN is the interpreter's slot size
// (`slot`: 128, or 512 in the wide object; the compiler cuts at a smaller -D MAXSTRINGLEN).
import { LIMITS } from '../isa/opcodes';

const SLOT: number = LIMITS.MAXSTRINGLEN;

/** substr(str, start, length): stap's clamp_t(length + 1, 0, MAXSTRINGLEN) and strlcpy. */
export function substr(s: string, start: bigint, length: bigint, slot = SLOT): string {
  const size = BigInt.asIntN(64, length + 1n); // the C addition wraps: length = INT64_MAX gives ""
  const n = size < 0n ? 0 : size > BigInt(slot) ? slot : Number(size);
  if (start < 0n || start >= BigInt(s.length) || n === 0) return '';
  const st = Number(start);
  return s.slice(st, st + n - 1);
}

/** stringat: the byte as a signed char, or null when pos is outside [0, strlen). */
export function stringAt(s: string, pos: bigint): bigint | null {
  if (pos < 0n || pos >= BigInt(s.length)) return null;
  return BigInt(((s.charCodeAt(Number(pos)) & 0xff) << 24) >> 24);
}

/** strstr's offset, or -1 (an empty needle is found at 0). */
export function strpos(hay: string, needle: string): bigint {
  return BigInt(hay.indexOf(needle));
}

/** str_replace: every non-overlapping needle, left to right; strlcat keeps MAXSTRINGLEN-1 bytes. */
export function strReplace(s: string, needle: string, repl: string, slot = SLOT): string {
  if (needle === '') return s;
  return s.split(needle).join(repl).slice(0, slot - 1);
}

/** tokenize's static state: a copy of the input and where strsep continues (null: done). */
export interface TokenizeState {
  str: string;
  pos: number | null;
}

export function newTokenizeState(): TokenizeState {
  return { str: '', pos: null };
}

/** tokenize(input, delim): strsep until a non-empty token, as tapset/tokenize.stp does. */
export function tokenize(t: TokenizeState, input: string, delim: string): string {
  if (input !== '') {
    t.str = input;
    t.pos = 0;
  }
  const isDelim = (c: string) => delim.includes(c);
  for (;;) {
    if (t.pos === null) return '';
    const from = t.pos;
    let k = from;
    while (k < t.str.length && !isDelim(t.str[k])) k++;
    t.pos = k < t.str.length ? k + 1 : null;
    if (k > from) return t.str.slice(from, k);
  }
}

const SIMPLE: Record<number, string> = { 7: 'a', 8: 'b', 12: 'f', 10: 'n', 13: 'r', 9: 't', 11: 'v', 0x22: '"', 0x5c: '\\' };
const hex = (c: number, digits: number) => c.toString(16).padStart(digits, '0');

/** _stp_decode_utf8 on in[i..]: [bytes consumed, code point]; invalid sequences are one byte. */
function decodeUtf8(s: string, i: number, size: number): [number, number] {
  const b = s.charCodeAt(i) & 0xff;
  let n: number;
  let c: number;
  if ((b & 0xe0) === 0xc0 && size - 1 >= 1) {
    n = 2;
    c = b & 0x1f;
  } else if ((b & 0xf0) === 0xe0 && size - 1 >= 2) {
    n = 3;
    c = b & 0xf;
  } else if ((b & 0xf8) === 0xf0 && size - 1 >= 3) {
    n = 4;
    c = b & 0x7;
  } else return [1, b];
  for (let k = 1; k < n; k++) {
    const b2 = i + k < s.length ? s.charCodeAt(i + k) & 0xff : 0;
    if ((b2 & 0xc0) !== 0x80) return [1, b];
    c = (c << 6) | (b2 & 0x3f);
  }
  if ((c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff) return [1, b];
  if (c < 0x80 || (n === 3 && c < 0x800) || (n === 4 && c < 0x10000)) return [1, b];
  return [n, c];
}

/**
 * _stp_text_str(out, in, 0, len, quoted, 0): text_str is (s, 0, 0), text_strn (s, len, quoted),
 * string_quoted (s, 0, 1). Non-printing bytes become C escapes or \ooo, valid UTF-8 \uXXXX or
 * \UXXXXXXXX; a quoted result that had to stop early ends in `"...`.
 */
export function textStr(s: string, len: bigint, quoted: bigint, slot = SLOT): string {
  const SMAX = slot - 1;
  let outlen = len <= 0n || len > BigInt(SMAX) ? SMAX : Number(len);
  let out = '';
  if (quoted) {
    outlen = Math.max(outlen, 5) - 2;
    out = '"';
  }
  let inlen = SMAX;
  let i = 0;
  let c = 0;
  while (inlen > 0) {
    let num = 1;
    const [n, cp] = i < s.length ? decodeUtf8(s, i, inlen) : [1, 0];
    c = cp;
    if (c === 0 || outlen <= 0) break;
    i += n;
    inlen -= n;
    if (n > 1) {
      num = c <= 0xffff ? 6 : 10;
      if (outlen < num) break;
      out += c <= 0xffff ? '\\u' + hex(c, 4) : '\\U' + hex(c, 8);
    } else if (c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c) {
      out += String.fromCharCode(c);
    } else {
      const e = SIMPLE[c];
      num = e !== undefined ? 2 : 4;
      if (outlen < num) break;
      out += e !== undefined ? '\\' + e : '\\' + ((c >> 6) & 3).toString() + ((c >> 3) & 7).toString() + (c & 7).toString();
    }
    outlen -= num;
  }
  if (quoted) {
    if (c && inlen > 0) out = out.slice(0, out.length - 3 + outlen) + '"...';
    else out += '"';
  }
  return out;
}

/** The Linux kernel's simple_strtol(cp, NULL, base): no spaces, '-' only, digits up to 'f'. */
export function strtol(s: string, base: bigint): bigint {
  if (s[0] === '-') return BigInt.asIntN(64, -strtoull(s.slice(1), base));
  return BigInt.asIntN(64, strtoull(s, base));
}

function strtoull(s: string, base64: bigint): bigint {
  let base = Number(BigInt.asUintN(32, base64));
  let i = 0;
  const lower = (k: number) => (k < s.length ? s[k].toLowerCase() : '');
  if (base === 0) {
    if (s[0] === '0') base = lower(1) === 'x' && /[0-9a-f]/.test(lower(2)) ? 16 : 8;
    else base = 10;
  }
  if (base === 16 && s[0] === '0' && lower(1) === 'x') i = 2;
  let v = 0n;
  for (; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    const lc = ch | 0x20;
    let d: number;
    if (ch >= 0x30 && ch <= 0x39) d = ch - 0x30;
    else if (lc >= 0x61 && lc <= 0x66) d = lc - 0x61 + 10;
    else break;
    if (d >= base) break;
    v = BigInt.asUintN(64, v * BigInt(base) + BigInt(d));
  }
  return v;
}

export function isDigit(s: string): bigint {
  const c = s.charCodeAt(0);
  return c >= 0x30 && c <= 0x39 ? 1n : 0n;
}
