// The kallsyms table: binary search, sizes from the next symbol, aliases, modules.
import { describe, it, expect, afterAll } from 'vitest';
import { setKallsyms, kernelSymbol, symname, symdata, backtraceText } from '../../src/kernel/kallsyms';

describe('kallsyms', () => {
  afterAll(() => setKallsyms(undefined));

  it('finds the symbol containing an address, with stap-style names and data', () => {
    setKallsyms(
      [
        'ffffffff81000000 T _stext',
        'ffffffff81000000 T _text',
        'ffffffff81000100 t helper',
        'ffffffff81000180 D some_data',
        'ffffffff81000200 T next_fn',
        'ffffffffc0001000 t mod_fn\t[mymod]',
        'ffffffffc0001040 t mod_end\t[mymod]',
        '0000000000000000 A zero',
      ].join('\n'),
    );
    expect(kernelSymbol(0xffffffff81000000n)).toEqual({ name: '_stext', addr: 0xffffffff81000000n, size: 0x100n, module: 'kernel' });
    expect(symname(0xffffffff81000104n)).toBe('helper');
    // data symbols are not in the table: helper extends to the next text symbol
    expect(symdata(0xffffffff81000190n)).toBe('helper+0x90/0x100 [kernel]');
    expect(symdata(0xffffffffc0001004n)).toBe('mod_fn+0x4/0x40 [mymod]');
    expect(symname(0x10n)).toBe('0x10');
    expect(symname(-1n)).toBe('mod_end');
    expect(backtraceText([0xffffffff81000204n, 5n])).toBe(' 0xffffffff81000204 : next_fn+0x4/0x3f000e00 [kernel]\n 0x0000000000000005\n');
  });
});
