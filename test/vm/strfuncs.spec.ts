// The string tapset's semantics in TypeScript (src/vm/strfuncs.ts), case by case against what
// stap's C (tapset/string.stp, tokenize.stp, runtime/stp_string.c, the kernel's simple_strtol)
// computes. The differential suite checks that vm/strings.h agrees in the kernel.
import { describe, expect, it } from 'vitest';
import * as SF from '../../src/vm/strfuncs';

describe('substr', () => {
  it.each([
    ['hello', 1n, 3n, 'ell'],
    ['hello', 0n, 0n, ''],
    ['hello', 4n, 10n, 'o'],
    ['hello', 5n, 1n, ''],
    ['hello', -1n, 2n, ''],
    ['hello', 1n, -3n, ''],
    ['hello', 1n, 9223372036854775807n, ''], // length + 1 wraps to INT64_MIN: clamped to 0
    ['hello', 0n, 1000n, 'hello'],
  ])('substr(%j, %d, %d) = %j', (s, st, n, want) => expect(SF.substr(s, st, n)).toBe(want));

  it('keeps at most MAXSTRINGLEN-1 bytes', () => expect(SF.substr('x'.repeat(127), 0n, 500n).length).toBe(127));
});

describe('stringat', () => {
  it('is the byte as a signed char', () => {
    expect(SF.stringAt('a\xe9', 0n)).toBe(97n);
    expect(SF.stringAt('a\xe9', 1n)).toBe(-23n);
  });
  it('is null (the caller raises "Position out of bounds") outside [0, strlen)', () => {
    expect(SF.stringAt('ab', 2n)).toBeNull();
    expect(SF.stringAt('ab', -1n)).toBeNull();
    expect(SF.stringAt('', 0n)).toBeNull();
  });
});

describe('strpos / str_replace', () => {
  it('finds the first occurrence, an empty needle at 0', () => {
    expect(SF.strpos('abcabc', 'ca')).toBe(2n);
    expect(SF.strpos('abc', '')).toBe(0n);
    expect(SF.strpos('abc', 'abcd')).toBe(-1n);
  });
  it('replaces left to right without overlap, truncating at 127 bytes', () => {
    expect(SF.strReplace('aaaa', 'aa', 'b')).toBe('bb');
    expect(SF.strReplace('aaa', 'aa', 'b')).toBe('ba');
    expect(SF.strReplace('abc', '', 'x')).toBe('abc');
    expect(SF.strReplace('x'.repeat(100), 'x', 'yz')).toBe('yz'.repeat(63) + 'y');
  });
});

describe('tokenize', () => {
  it('continues with an empty input, skipping empty tokens, until "" for good', () => {
    const t = SF.newTokenizeState();
    expect(SF.tokenize(t, '', ',')).toBe(''); // nothing tokenized yet
    expect(SF.tokenize(t, ',a,,b,', ',')).toBe('a');
    expect(SF.tokenize(t, '', ',')).toBe('b');
    expect(SF.tokenize(t, '', ',')).toBe('');
    expect(SF.tokenize(t, '', ',')).toBe('');
    expect(SF.tokenize(t, 'x y', ' ')).toBe('x'); // a new input restarts
    expect(SF.tokenize(t, '', '')).toBe('y'); // empty delimiters: the rest
  });
});

describe('text_str / text_strn / string_quoted (_stp_text_str)', () => {
  it('escapes C escapes, other control and high bytes as \\ooo, valid UTF-8 as \\u / \\U', () => {
    expect(SF.textStr('a\tb"\\\x01\xff', 0n, 0n)).toBe('a\\tb\\"\\\\\\001\\377');
    expect(SF.textStr('\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80', 0n, 0n)).toBe('\\u00e9\\u20ac\\U0001f600');
    // overlong, surrogate and truncated sequences are bytes
    expect(SF.textStr('\xc0\x80\xed\xa0\x80\xc3', 0n, 0n)).toBe('\\300\\200\\355\\240\\200\\303');
  });
  it('stops before an escape that does not fit; quoted output that stopped ends in "...', () => {
    expect(SF.textStr('abcdefghij', 4n, 0n)).toBe('abcd');
    expect(SF.textStr('ab\ncd', 3n, 0n)).toBe('ab');
    expect(SF.textStr('abcdefghij', 8n, 1n)).toBe('"abc"...');
    expect(SF.textStr('abcdefghij', 5n, 1n)).toBe('""...');
    expect(SF.textStr('ab', 8n, 1n)).toBe('"ab"');
    expect(SF.textStr('', 0n, 1n)).toBe('""');
  });
});

describe('strtol (the kernel simple_strtol)', () => {
  it.each([
    ['123', 10n, 123n],
    ['-0x1f', 16n, -31n],
    ['0x1f', 0n, 31n],
    ['0X1F', 0n, 31n],
    ['017', 0n, 15n],
    ['0x', 0n, 0n], // no hex digit after 0x: base 8, stops at 'x'
    [' 5', 10n, 0n], // no leading spaces
    ['+5', 10n, 0n], // no '+'
    ['zz', 36n, 0n], // digits stop at 'f' whatever the base
    ['ff', 36n, 555n],
    ['18446744073709551615', 10n, -1n], // wraps modulo 2^64
    ['101', 2n, 5n],
  ])('strtol(%j, %d) = %d', (s, base, want) => expect(SF.strtol(s, base)).toBe(want));

  it('isdigit looks at the first byte', () => {
    expect(SF.isDigit('9x')).toBe(1n);
    expect(SF.isDigit('x9')).toBe(0n);
    expect(SF.isDigit('')).toBe(0n);
  });
});
