// sprintf's conversions as SFMT/SFMTS immediates: one printf conversion (conv, flags, width,
// precision, '*') packed into 29 bits. vm/format.h decodes the same layout in the kernel; the
// TypeScript interpreter turns it back into a Conversion for src/output/format.ts.
//
// Widths and precisions are clamped to 255: the result is cut at MAXSTRINGLEN-1 = 127 bytes,
// and a field of 255 already fills that whatever sits before it, so the cut output is the same.
import type { Conversion, ConvChar } from '../output/format';

/** conversion characters sprintf supports, by code (bits 0-3) */
export const SPRINTF_CONVS: ConvChar[] = ['d', 'i', 'u', 'o', 'x', 'X', 'p', 'c', 's'];

const MINUS = 1 << 4;
const PLUS = 1 << 5;
const SPACE = 1 << 6;
const HASH = 1 << 7;
const ZERO = 1 << 8;
const HAS_WIDTH = 1 << 9;
const WIDTH_SHIFT = 10;
const HAS_PREC = 1 << 18;
const PREC_SHIFT = 19;
const WIDTH_STAR = 1 << 27;
const PREC_STAR = 1 << 28;
export const FIELD_MAX = 255;

export function encodeConversion(c: Conversion): number {
  const code = SPRINTF_CONVS.indexOf(c.conv);
  if (code < 0) throw new Error(`%${c.conv} cannot be encoded`);
  let v = code;
  if (c.flags.minus) v |= MINUS;
  if (c.flags.plus) v |= PLUS;
  if (c.flags.space) v |= SPACE;
  if (c.flags.hash) v |= HASH;
  if (c.flags.zero) v |= ZERO;
  if (c.width !== undefined) v |= HAS_WIDTH | (Math.min(c.width, FIELD_MAX) << WIDTH_SHIFT);
  if (c.precision !== undefined) v |= HAS_PREC | (Math.min(c.precision, FIELD_MAX) << PREC_SHIFT);
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
  if (v & HAS_WIDTH) c.width = (v >>> WIDTH_SHIFT) & 0xff;
  if (v & HAS_PREC) c.precision = (v >>> PREC_SHIFT) & 0xff;
  return c;
}
