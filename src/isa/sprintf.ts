// sprintf's conversions as SFMT/SFMTS immediates: one printf conversion (conv, flags, width,
// precision, '*') packed into 31 bits. vm/format.h decodes the same layout in the kernel; the
// TypeScript interpreter turns it back into a Conversion for src/output/format.ts.
//
// A width or precision is stored plus one in 10 bits (0: none), so at most 1022: the result is
// cut at MAXSTRINGLEN-1 bytes (511 at the largest -D MAXSTRINGLEN, 512), and a field of 1022
// pads past that cut even before its widest digits or prefix, so the cut output is stap's
// (which clamps at its 8 KiB buffer). The kernel clamps a '*' value there too.
import type { Conversion, ConvChar } from '../output/format';

/** conversion characters sprintf supports, by code (bits 0-3) */
export const SPRINTF_CONVS: ConvChar[] = ['d', 'i', 'u', 'o', 'x', 'X', 'p', 'c', 's'];

const MINUS = 1 << 4;
const PLUS = 1 << 5;
const SPACE = 1 << 6;
const HASH = 1 << 7;
const ZERO = 1 << 8;
const WIDTH_SHIFT = 9;
const PREC_SHIFT = 19;
const FIELD_BITS = 0x3ff;
const WIDTH_STAR = 1 << 29;
const PREC_STAR = 1 << 30;
export const FIELD_MAX = FIELD_BITS - 1;

export function encodeConversion(c: Conversion): number {
  const code = SPRINTF_CONVS.indexOf(c.conv);
  if (code < 0) throw new Error(`%${c.conv} cannot be encoded`);
  let v = code;
  if (c.flags.minus) v |= MINUS;
  if (c.flags.plus) v |= PLUS;
  if (c.flags.space) v |= SPACE;
  if (c.flags.hash) v |= HASH;
  if (c.flags.zero) v |= ZERO;
  if (c.width !== undefined) v |= (Math.min(c.width, FIELD_MAX) + 1) << WIDTH_SHIFT;
  if (c.precision !== undefined) v |= (Math.min(c.precision, FIELD_MAX) + 1) << PREC_SHIFT;
  if (c.widthStar) v |= WIDTH_STAR;
  if (c.precisionStar) v |= PREC_STAR;
  return v;
}

export function decodeConversion(v: number): Conversion {
  const c: Conversion = {
    conv: SPRINTF_CONVS[v & 0xf] ?? 'd',
    flags: { minus: !!(v & MINUS), plus: !!(v & PLUS), space: !!(v & SPACE), hash: !!(v & HASH), zero: !!(v & ZERO) },
    widthStar: !!(v & WIDTH_STAR),
    precisionStar: !!(v & PREC_STAR),
  };
  const w = (v >>> WIDTH_SHIFT) & FIELD_BITS;
  const p = (v >>> PREC_SHIFT) & FIELD_BITS;
  if (w) c.width = w - 1;
  if (p) c.precision = p - 1;
  return c;
}
