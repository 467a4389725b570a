// Byte strings: how the user-space interpreter holds script strings.
//
// The kernel's strings are C strings of bytes (at most MAXSTRINGLEN-1 bytes + NUL). In user
// space a script string is a JS string with one char per byte (latin1, char codes 0..255) and
// no NUL, so lengths, truncation and comparisons are the kernel's byte for byte. Every string
// the interpreter hands out (VmEvent values and messages, VmBackend.gstrSet) is such a byte
// string; turn one into text with fromByteString (UTF-8) or write it with
// Buffer.from(s, 'latin1').
import { LIMITS } from '../isa/opcodes';

const { MAXSTRINGLEN } = LIMITS;

/** Reads a NUL-terminated string like bpf_probe_read_kernel_str(dst, size, buf + off): at most
 * size-1 bytes, stopping at a NUL or at the end of buf. */
export function readStr(buf: Uint8Array, off: number, size: number = MAXSTRINGLEN): string {
  const end = Math.min(buf.length, off + size - 1);
  let out = '';
  for (let i = off; i < end; i++) {
    const c = buf[i];
    if (c === 0) break;
    out += String.fromCharCode(c);
  }
  return out;
}

/** Writes s like bpf_probe_read_kernel_str(buf + off, size, s): at most size-1 bytes, then one
 * NUL, nothing beyond (clipped at the end of buf). Returns the bytes written, NUL included. */
export function writeStr(buf: Uint8Array, off: number, s: string, size: number = MAXSTRINGLEN): number {
  const n = Math.min(s.length, size - 1);
  let i = 0;
  for (; i < n && off + i < buf.length; i++) buf[off + i] = s.charCodeAt(i) & 0xff;
  if (off + i < buf.length) buf[off + i] = 0;
  return n + 1;
}

/** s as size bytes, NUL-padded (at most size-1 bytes of s): a string array value. */
export function strBytes(s: string, size: number = MAXSTRINGLEN): Uint8Array {
  const buf = new Uint8Array(size);
  writeStr(buf, 0, s, size);
  return buf;
}

/** Text (UTF-16 JS string) -> byte string of its UTF-8 encoding, cut at the first NUL. */
export function toByteString(text: string): string {
  const b = Buffer.from(text, 'utf8').toString('latin1');
  const z = b.indexOf('\0');
  return z < 0 ? b : b.slice(0, z);
}

/** Byte string -> text, decoding the bytes as UTF-8. */
export function fromByteString(bytes: string): string {
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

/** Normalizes a string that comes from outside (a backend): cut at NUL, at most size-1 bytes;
 * text with chars above 0xff is taken as text and UTF-8 encoded first. */
export function cstr(s: string, size: number = MAXSTRINGLEN): string {
   
  if (/[^\x00-\xff]/.test(s)) s = toByteString(s);
  const z = s.indexOf('\0');
  if (z >= 0) s = s.slice(0, z);
  return s.length > size - 1 ? s.slice(0, size - 1) : s;
}
