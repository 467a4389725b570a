// Key widths: every string index is bounded soundly, so keys use the smallest array class.
import { describe, it, expect } from 'vitest';
import { parseScript } from '../../src/parse';
import { resolve } from '../../src/resolve/resolve';
import { keyWidths } from '../../src/resolve/widths';

const widths = (src: string) => Object.fromEntries(keyWidths(resolve(parseScript(src, 'w.stp'))));

describe('key widths', () => {
  it('bounds execname() by TASK_COMM_LEN and a literal by its length', () => {
    expect(widths('global c\nprobe begin { c[execname()]++; c["ab"]++ }')).toEqual({ c: [16] });
    expect(widths('global c\nprobe begin { c["a long literal of 27 b"]++ }')).toEqual({ c: [23] });
  });

  it('takes the widest use, and 8 bytes for a long index', () => {
    expect(widths('global c\nprobe begin { c[1, "x"]++ }\nprobe end { c[2, execname()]++ }')).toEqual({ c: [8, 16] });
  });

  it('adds the parts of a concatenation (one NUL) and takes the wider branch of ?:', () => {
    expect(widths('global c\nprobe begin { c["ab" . execname()]++ }')).toEqual({ c: [18] });
    expect(widths('global c\nprobe begin { c[1 ? "a" : "abcd"]++ }')).toEqual({ c: [5] });
  });

  it('follows locals through assignments, and foreach keys from the array they iterate', () => {
    expect(widths('global c, d\nprobe begin { s = "abc"; s = execname(); c[s]++ }\nprobe end { foreach (k in c) d[k] = 1 }')).toEqual({
      c: [16],
      d: [16],
    });
  });

  it('gives MAXSTRINGLEN to what it cannot bound: globals, parameters, function results, .=, array values', () => {
    expect(widths('global g, c\nprobe begin { g = "x"; c[g]++ }')).toEqual({ c: [128] });
    expect(widths('global c\nfunction f(s) { c[s]++ }\nprobe begin { f("x") }')).toEqual({ c: [128] });
    expect(widths('global c\nfunction f() { return "x" }\nprobe begin { c[f()]++ }')).toEqual({ c: [128] });
    expect(widths('global c\nprobe begin { s = "a"; s .= "b"; c[s]++ }')).toEqual({ c: [128] });
    expect(widths('global c, v\nprobe begin { v[1] = "x"; c[v[1]]++ }')).toEqual({ c: [128], v: [8] });
  });

  it('widens a foreach key bound later by another use of the iterated array (fixed point)', () => {
    const src = 'global a, b\nprobe begin { foreach (k in a) b[k] = 1 }\nprobe end { a[execname() . execname()]++ }';
    expect(widths(src)).toEqual({ a: [31], b: [31] });
  });
});
