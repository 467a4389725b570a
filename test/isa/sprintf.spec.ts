// SFMT's immediate: a printf conversion packed for vm/format.h, and back.
import { describe, expect, it } from 'vitest';
import { decodeConversion, encodeConversion } from '../../src/isa/sprintf';
import { parseFormat, type Conversion } from '../../src/output/format';

const conv = (f: string) => parseFormat(f).pieces[0] as Conversion;
const strip = (c: Conversion) => ({ ...c, offset: undefined });

describe('sprintf conversion immediates', () => {
  it.each(['%d', '%-5i', '%+u', '% o', '%#x', '%08X', '%p', '%c', '%#c', '%.3s', '%-*.*s', '%*d', '%.*d', '%255.254d', '%1022.1021d', '%-300.400s', '%0s'])(
    '%s survives encode/decode',
    (f) => {
      const c = conv(f);
      const v = encodeConversion(c);
      expect(v >>> 31).toBe(0);
      expect(strip(decodeConversion(v))).toEqual(strip(c));
    },
  );

  it('clamps widths and precisions above 1022 (the result is cut at MAXSTRINGLEN-1 <= 511 bytes anyway)', () => {
    const d = decodeConversion(encodeConversion(conv('%5000.1023d')));
    expect([d.width, d.precision]).toEqual([1022, 1022]);
  });

  it('refuses the binary and memory conversions', () => {
    for (const f of ['%b', '%m', '%M']) expect(() => encodeConversion(conv(f))).toThrow();
  });
});
