import { describe, expect, it } from 'vitest';
import {
  type Conversion,
  FormatError,
  FormatRuntimeError,
  STP_BUFFER_SIZE,
  formatBytes,
  formatPrint,
  formatValues,
  memoryReadLength,
  parseFormat,
} from '../../src/output/format';
import type { FormatValue } from '../../src/output/format';

const fmt = (f: string, ...values: FormatValue[]): string => formatValues(parseFormat(f), values);

function parseError(f: string): FormatError {
  try {
    parseFormat(f);
  } catch (e) {
    expect(e).toBeInstanceOf(FormatError);
    return e as FormatError;
  }
  throw new Error(`no error for ${JSON.stringify(f)}`);
}

const bytes = (s: string): number[] => Array.from(s, (ch) => ch.charCodeAt(0));

describe('parseFormat', () => {
  it('keeps plain text as one literal piece', () => {
    expect(parseFormat('hello world')).toEqual({ pieces: ['hello world'], args: [] });
    expect(parseFormat('')).toEqual({ pieces: [], args: [] });
  });

  it('reduces %% to a literal % and merges it with the surrounding text', () => {
    const p = parseFormat('a%%b%d%%');
    expect(p.pieces.length).toBe(3);
    expect(p.pieces[0]).toBe('a%b');
    expect(p.pieces[2]).toBe('%');
    expect(p.args).toEqual(['long']);
  });

  it('treats a % at the very end as a literal % (as stap does)', () => {
    expect(parseFormat('100%')).toEqual({ pieces: ['100%'], args: [] });
    expect(fmt('50%')).toBe('50%');
  });

  it('lists argument types: %s takes a string, everything else a long', () => {
    expect(parseFormat('%d %i %u %x %X %o %s %c %p %b %m %M').args).toEqual([
      'long', 'long', 'long', 'long', 'long', 'long', 'string', 'long', 'long', 'long', 'long', 'long',
    ]);
  });

  it("puts '*' width and precision longs before the value", () => {
    const p = parseFormat('%*.*s|%.*M');
    expect(p.args).toEqual(['long', 'long', 'string', 'long', 'long']);
    const c = p.pieces[0] as Conversion;
    expect(c.widthStar).toBe(true);
    expect(c.precisionStar).toBe(true);
    expect(c.width).toBeUndefined();
    expect(c.precision).toBeUndefined();
  });

  it('records conversion, flag, width, precision and offset', () => {
    const p = parseFormat('ab%-12.3x');
    const c = p.pieces[1] as Conversion;
    expect(c).toEqual({
      conv: 'x',
      flags: { minus: true, plus: false, space: false, hash: false, zero: false },
      width: 12,
      precision: 3,
      widthStar: false,
      precisionStar: false,
      offset: 2,
    });
  });

  it("takes only one flag: in %#08x the 0 belongs to the width", () => {
    const c = parseFormat('%#08x').pieces[0] as Conversion;
    expect(c.flags.hash).toBe(true);
    expect(c.flags.zero).toBe(false);
    expect(c.width).toBe(8);
  });

  it('accepts and ignores one l modifier', () => {
    expect(parseFormat('%ld').args).toEqual(['long']);
    expect(fmt('%ld %lx', 5n, 255n)).toBe('5 ff');
  });

  it("'.' without digits leaves the precision unspecified", () => {
    const c = parseFormat('%.d').pieces[0] as Conversion;
    expect(c.precision).toBeUndefined();
    expect(fmt('%.s', 'abc')).toBe('abc');
  });

  it('rejects an unknown conversion with its offset', () => {
    const e = parseError('x = %q');
    expect(e.message).toBe('invalid or missing conversion specifier');
    expect(e.offset).toBe(5);
    expect(parseError('%f').offset).toBe(1);
    expect(parseError('%n').offset).toBe(1);
    expect(parseError('%5.2z').offset).toBe(4);
  });

  it('rejects %llu (stap allows a single l)', () => {
    const e = parseError('abc %llu');
    expect(e.message).toBe('invalid or missing conversion specifier');
    expect(e.offset).toBe(6);
  });

  it('rejects a second flag', () => {
    expect(parseError('%-#x').offset).toBe(2);
    expect(parseError('%+ d').offset).toBe(2);
    expect(parseError('%-+d').offset).toBe(2);
  });

  it('rejects a conversion cut off by the end of the format', () => {
    for (const [f, off] of [['%5', 0], ['x%-', 1], ['ab%.', 2], ['%.5', 0], ['%*', 0], ['%l', 0], ['%-5.*', 0]] as const) {
      const e = parseError(f);
      expect(e.message).toBe('trailing incomplete print format conversion');
      expect(e.offset).toBe(off);
    }
  });
});

describe('integer conversions', () => {
  it('pads and justifies', () => {
    expect(fmt('%5d|%-5d|%05d', 42n, 42n, 42n)).toBe('   42|42   |00042');
    expect(fmt('%05d', -42n)).toBe('-0042');
    expect(fmt('%5d|%-5d|', -42n, -42n)).toBe('  -42|-42  |');
    expect(fmt('%2d', 12345n)).toBe('12345');
    expect(fmt('%010x', 255n)).toBe('00000000ff');
  });

  it('prints signed and unsigned 64-bit values', () => {
    expect(fmt('%d', -1n)).toBe('-1');
    expect(fmt('%i', -3n)).toBe('-3');
    expect(fmt('%u', -1n)).toBe('18446744073709551615');
    expect(fmt('%d', -(2n ** 63n))).toBe('-9223372036854775808');
    expect(fmt('%d', 2n ** 63n - 1n)).toBe('9223372036854775807');
    expect(fmt('%u', -(2n ** 63n))).toBe('9223372036854775808');
    // values are taken modulo 2^64
    expect(fmt('%d', 2n ** 64n + 5n)).toBe('5');
  });

  it('prints hex and octal of the two’s complement', () => {
    expect(fmt('%x', -1n)).toBe('ffffffffffffffff');
    expect(fmt('%X', -1n)).toBe('FFFFFFFFFFFFFFFF');
    expect(fmt('%o', -1n)).toBe('1777777777777777777777');
    expect(fmt('%x|%X|%o', 0x7fan, 0x7fan, 392n)).toBe('7fa|7FA|610');
  });

  it("'#' adds 0x / 0X / 0 prefixes", () => {
    expect(fmt('%#x', 255n)).toBe('0xff');
    expect(fmt('%#X', 255n)).toBe('0XFF');
    expect(fmt('%#o', 8n)).toBe('010');
    // stap(1) example: printf("%#o %#x %#X\n", 1, 2, 3)
    expect(fmt('%#o %#x %#X\n', 1n, 2n, 3n)).toBe('01 0x2 0X3\n');
    expect(fmt('%#10x|', 255n)).toBe('      0xff|');
    expect(fmt('%#08x', 255n)).toBe('    0xff');
    expect(fmt('%#d', 5n)).toBe('5');
  });

  it("'#' prefixes zero too (kernel vsprintf, unlike C)", () => {
    expect(fmt('%#x', 0n)).toBe('0x0');
    expect(fmt('%#o', 0n)).toBe('00');
  });

  it("'+' and ' ' apply to signed conversions only", () => {
    expect(fmt('%+d|%+d|%+d', 5n, -5n, 0n)).toBe('+5|-5|+0');
    expect(fmt('% d|% d', 5n, -5n)).toBe(' 5|-5');
    expect(fmt('%+u|%+x|% o', 5n, 255n, 8n)).toBe('5|ff|10');
    expect(fmt('%+5d|', 42n)).toBe('  +42|');
    // the 0 after '+' is part of the width, not a zero-pad flag
    expect(fmt('%+05d|', 42n)).toBe('  +42|');
  });

  it('precision is a minimum digit count', () => {
    expect(fmt('%.3d', 7n)).toBe('007');
    expect(fmt('%.3d', -7n)).toBe('-007');
    expect(fmt('%8.3d|', 7n)).toBe('     007|');
    expect(fmt('%-8.3d|', 7n)).toBe('007     |');
    expect(fmt('%.5x', 255n)).toBe('000ff');
    expect(fmt('%.2d', 12345n)).toBe('12345');
  });

  it('follows the stap runtime where it differs from C', () => {
    // zero padding is kept with a precision
    expect(fmt('%05.3d', 42n)).toBe('00042');
    // precision 0 still prints a zero value
    expect(fmt('%.0d', 0n)).toBe('0');
  });

  it("'-' wins over '0'", () => {
    expect(fmt('%-05d|', 42n)).toBe('42   |');
  });

  it('takes * width and precision from the values', () => {
    expect(fmt('%*d', 6n, 42n)).toBe('    42');
    expect(fmt('%-*d|', 6n, 42n)).toBe('42    |');
    expect(fmt('%*.*d', 6n, 3n, 5n)).toBe('   005');
    expect(fmt('%.*d', 4n, 5n)).toBe('0005');
  });

  it('truncates * values to int and clamps them to [0, STP_BUFFER_SIZE]', () => {
    // a negative '*' width does not left-justify in stap
    expect(fmt('%*d|', -6n, 42n)).toBe('42|');
    expect(fmt('%*d', 0x100000006n, 42n)).toBe('    42');
    expect(fmt('%*d', 100000n, 1n).length).toBe(STP_BUFFER_SIZE);
    expect(fmt('%99999d', 1n).length).toBe(STP_BUFFER_SIZE);
  });
});

describe('%p', () => {
  it('is %#x of the 64-bit value', () => {
    expect(fmt('%p', 0x1234abcdn)).toBe('0x1234abcd');
    expect(fmt('%p', 0n)).toBe('0x0');
    expect(fmt('%p', -1n)).toBe('0xffffffffffffffff');
  });

  it('honours width, zero pad and left justification', () => {
    expect(fmt('%018p', 0x1234abcdn)).toBe('0x000000001234abcd');
    expect(fmt('%14p|', 0x1234abcdn)).toBe('    0x1234abcd|');
    expect(fmt('%-14p|', 0x1234abcdn)).toBe('0x1234abcd    |');
  });

  it('matches the stap(1) example line', () => {
    const p = 0x1234abcdn;
    expect(fmt('%c is %s; %x or %X or %p; %d or %u\n', 97n, 'alice', p, p, p, -1n, -1n)).toBe(
      'a is alice; 1234abcd or 1234ABCD or 0x1234abcd; -1 or 18446744073709551615\n',
    );
  });
});

describe('%c', () => {
  it('prints the byte with that code', () => {
    expect(fmt('%c', 65n)).toBe('A');
    expect(fmt('%c%c', 104n, 105n)).toBe('hi');
    expect(fmt('%c', 0x141n)).toBe('A');
    expect(fmt('%3c|%-3c|', 65n, 66n)).toBe('  A|B  |');
    expect(fmt('%03c', 65n)).toBe('  A');
  });

  it("'#' escapes non-printing bytes, quote and backslash", () => {
    // stap(1) example: printf("%#c %#c %#c\n", 0, 9, 42)
    expect(fmt('%#c %#c %#c\n', 0n, 9n, 42n)).toBe('\\000 \\t *\n');
    expect(fmt('%#c', 39n)).toBe("\\'");
    expect(fmt('%#c', 92n)).toBe('\\\\');
    expect(fmt('%#c', 10n)).toBe('\\n');
    expect(fmt('%#c', 27n)).toBe('\\033');
    expect(fmt('%#c', 200n)).toBe('\\310');
    expect(fmt('%#c', 127n)).toBe('\\177');
  });

  it('pads escapes to the width', () => {
    expect(fmt('%#5c|', 10n)).toBe('   \\n|');
    expect(fmt('%5c|', 10n)).toBe('    \n|');
  });
});

describe('%s', () => {
  it('prints strings with width and precision', () => {
    expect(fmt('%s', 'abc')).toBe('abc');
    expect(fmt('%5s|%-5s|', 'abc', 'abc')).toBe('  abc|abc  |');
    expect(fmt('%.3s', 'abcdef')).toBe('abc');
    expect(fmt('%5.1s|', 'abc')).toBe('    a|');
    expect(fmt('%.0s|', 'abc')).toBe('|');
    expect(fmt('%2s', 'abcdef')).toBe('abcdef');
    expect(fmt('%.*s', 2n, 'abcdef')).toBe('ab');
    expect(fmt('%*s|', 5n, 'ab')).toBe('   ab|');
    expect(fmt('[%s]', '')).toBe('[]');
  });

  it("'0' appends a NUL after the field", () => {
    expect(fmt('%0s', 'ab')).toBe('ab\0');
    expect(fmt('%05s', 'ab')).toBe('   ab\0');
  });

  it("'#' does nothing for strings", () => {
    expect(fmt('%#s', 'a\nb')).toBe('a\nb');
  });
});

describe('%m and %M', () => {
  it('read precision bytes (default 1)', () => {
    expect(memoryReadLength(undefined)).toBe(1);
    expect(memoryReadLength(0)).toBe(1);
    expect(memoryReadLength(4)).toBe(4);
    expect(fmt('%m', 'hello')).toBe('h');
    expect(fmt('%.3m', 'hello')).toBe('hel');
    expect(fmt('%5.2m|', 'hello')).toBe('   he|');
    expect(fmt('%-5.2m|', 'hello')).toBe('he   |');
  });

  it('%M hex-dumps the bytes; the width counts hex digits', () => {
    expect(fmt('%.4M', new Uint8Array([0xde, 0xad, 0xbe, 0xef]))).toBe('deadbeef');
    expect(fmt('%M', 'A')).toBe('41');
    expect(fmt('%10.2M|', 'AB')).toBe('      4142|');
    expect(fmt('%-6M|', 'A')).toBe('41    |');
    expect(fmt('%.*M', 3n, new Uint8Array([1, 2, 3, 4]))).toBe('010203');
  });

  it('reads an address through readMemory; # selects user memory', () => {
    const calls: [bigint, number, boolean][] = [];
    const readMemory = (addr: bigint, len: number, user: boolean): Uint8Array => {
      calls.push([addr, len, user]);
      return new Uint8Array(len).map((_, k) => 0x61 + k);
    };
    const f = parseFormat('%.3m %#.2M %m');
    expect(formatValues(f, [0x1000n, 0x2000n, 0x3000n], { readMemory })).toBe('abc 6162 a');
    expect(calls).toEqual([
      [0x1000n, 3, false],
      [0x2000n, 2, true],
      [0x3000n, 1, false],
    ]);
  });

  it('fails the print on a read fault', () => {
    expect(() => fmt('%m', 0x1000n)).toThrow(FormatRuntimeError);
    expect(() => fmt('%m', 0x1000n)).toThrow('kernel read fault at 0x0000000000001000');
    expect(() => formatValues(parseFormat('%#M'), [0x10n], { readMemory: () => null })).toThrow(
      'user read fault at 0x0000000000000010',
    );
  });
});

describe('%b', () => {
  it('writes 8 little-endian bytes by default', () => {
    expect(bytes(fmt('%b', 0x0102030405060708n))).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
    expect(bytes(fmt('%b', -1n))).toEqual(new Array(8).fill(0xff));
  });

  it('the width (or precision) selects 1, 2, 4 or 8 bytes', () => {
    expect(fmt('%1b', 0x41n)).toBe('A');
    expect(fmt('%2b', 0x4142n)).toBe('BA');
    expect(bytes(fmt('%4b', 0x1234abcdn))).toEqual([0xcd, 0xab, 0x34, 0x12]);
    expect(fmt('%.2b', 0x4142n)).toBe('BA');
    // an invalid byte count falls back to 8
    expect(fmt('%3b', 1n).length).toBe(8);
  });

  it('pads with NUL bytes to a larger width', () => {
    expect(fmt('%4.2b', 0x4142n)).toBe('\0\0BA');
    expect(fmt('%-4.2b', 0x4142n)).toBe('BA\0\0');
    expect(fmt('%10b', 0n)).toBe('\0'.repeat(10));
  });
});

describe('formatBytes', () => {
  it('encodes text as UTF-8 and writes binary output raw', () => {
    const f = parseFormat('é%1b%c|%s');
    expect(Array.from(formatBytes(f, [0xe9n, 0xffn, 'ü']))).toEqual([0xc3, 0xa9, 0xe9, 0xff, 0x7c, 0xc3, 0xbc]);
    expect(formatValues(f, [0xe9n, 0xffn, 'ü'])).toBe('é\u00e9\u00ff|ü');
  });

  it('gives the same bytes as formatValues for ASCII output', () => {
    const f = parseFormat('%5d|%-4s|%#x\n');
    const v = [42n, 'ab', 255n];
    expect(Buffer.from(formatBytes(f, v)).toString('latin1')).toBe(formatValues(f, v));
  });
});

describe('values', () => {
  it('formats several conversions in order', () => {
    expect(fmt('%s=%d (%#x)%s', 'n', 255n, 255n, '\n')).toBe('n=255 (0xff)\n');
  });

  it('can be applied many times to one parsed format', () => {
    const f = parseFormat('[%3d]');
    expect(formatValues(f, [1n])).toBe('[  1]');
    expect(formatValues(f, [22n])).toBe('[ 22]');
  });

  it('rejects missing or mistyped values', () => {
    expect(() => fmt('%d %d', 1n)).toThrow(FormatRuntimeError);
    expect(() => fmt('%d', 'x')).toThrow(FormatRuntimeError);
    expect(() => fmt('%s', 1n)).toThrow(FormatRuntimeError);
    expect(() => fmt('%*d', 'x', 1n)).toThrow(FormatRuntimeError);
  });
});

describe('formatPrint', () => {
  it('prints a long as %d and a string as is', () => {
    expect(formatPrint(42n)).toBe('42');
    expect(formatPrint(-1n)).toBe('-1');
    expect(formatPrint(2n ** 64n - 1n)).toBe('-1');
    expect(formatPrint('abc')).toBe('abc');
    expect(formatPrint('')).toBe('');
  });
});
