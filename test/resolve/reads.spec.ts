// Which globals stap would print at exit: written somewhere, read nowhere.
import { describe, it, expect } from 'vitest';
import { parseScript } from '../../src/parse';
import { resolve } from '../../src/resolve/resolve';
import { writtenNotRead } from '../../src/resolve/reads';

const display = (src: string) => writtenNotRead(resolve(parseScript(src, 'r.stp')));

describe('globals displayed at exit', () => {
  it('counts ++, += and = as writes, and only rvalue uses as reads', () => {
    expect(display('global n, m, c, s\nprobe begin { n++; m += 2; c["k"]++; s = "x" }')).toEqual(['n', 'm', 'c', 's']);
  });

  it('leaves out what is read anywhere: in an expression, an index, `in`, foreach, a function', () => {
    const src = `global a, b, c, d, e, f
function g() { return f }
probe begin { a = 1; b = 1; c[1] = 1; d[1] = 1; e[1] = 1; f = 1; x = a }
probe end { if (b) {} ; if (1 in c) {} ; foreach (k in d) {} ; z = e[1]; g() }`;
    expect(display(src)).toEqual([]);
  });

  it('ignores globals that are never used, and locals named like nothing global', () => {
    expect(display('global unused, w\nprobe begin { w = 1; local = 2 }')).toEqual(['w']);
  });

  it('counts ++, -- and += as a use where their value is taken, as stap does', () => {
    // stap's varuse_collecting_visitor: a read-modify-write is "used" only in a value context
    const valued = `global a, b, c, d, e, f, g, h, i, k, l, m
function r() { return l++ }
probe begin { if (++a == 2) {} ; x = b++; y = (c += 1); printf("%d", d--); e[1] = 1; z = e[1]++; while (f++ < 3) {} ; for (;g--;) {} ; q = h++ ? 1 : 2; e[i++] = 1; delete k; r(); m = 1; v = 1 + (m += 2) }`;
    expect(display(valued)).toEqual([]);
    // statements on their own, in a for's init/step, a ternary's branch or an expression
    // statement's operand are not value contexts
    const statements = `global a, b, c, d, e, f
probe begin { a++; --b; c += 1; d[1]++; for (e = 0; 0; e++) {} ; 1 + f++ }`;
    expect(display(statements)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('reads the indices of an assignment target', () => {
    expect(display('global k, a\nprobe begin { k = 1; a[k] = 2 }')).toEqual(['a']);
  });
});
