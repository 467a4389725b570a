// The ELF symbol reader against real files: a fixture gcc builds (PIE and non-PIE, compared
// with nm), the system's libc (.dynsym) and /bin/true (stripped: no defined functions).
import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { readElf, fileOffset, globMatcher, ElfError } from '../../src/kernel/elf';
import { buildFixture, fixturePath } from './helpers';

const SRC = path.join(__dirname, 'fixtures', 'uprobe-target.c');
const PIE = fixturePath('tapvm-test-elf-pie');
const NOPIE = fixturePath('tapvm-test-elf-nopie');
const LIBC = '/usr/lib/x86_64-linux-gnu/libc.so.6';

/** nm's defined text symbols: name -> address */
function nmText(file: string): Map<string, bigint> {
  const out = execFileSync('nm', ['--defined-only', file], { encoding: 'utf8' });
  const m = new Map<string, bigint>();
  for (const line of out.split('\n')) {
    const [addr, type, name] = line.split(' ');
    if (name && (type === 'T' || type === 't')) m.set(name, BigInt('0x' + addr));
  }
  return m;
}

/** the first 4 code bytes objdump shows at addr */
function objdumpBytes(file: string, addr: bigint): string {
  const out = execFileSync('objdump', ['-d', `--start-address=0x${addr.toString(16)}`, `--stop-address=0x${(addr + 16n).toString(16)}`, file], { encoding: 'utf8' });
  const hex = [...out.matchAll(/^\s*[0-9a-f]+:\t((?:[0-9a-f]{2} )+)/gm)].map((m) => m[1].replace(/ /g, '')).join('');
  return hex.slice(0, 8);
}

describe('readElf', () => {
  beforeAll(() => {
    buildFixture('tapvm-test-elf-pie', 'uprobe-target.c');
    buildFixture('tapvm-test-elf-nopie', 'uprobe-target.c', ['-O2', '-no-pie']);
  });

  it('lists the fixture functions of .symtab at the addresses nm gives', () => {
    for (const file of [PIE, NOPIE]) {
      const elf = readElf(file);
      const nm = nmText(file);
      for (const name of ['tapvm_target', 'tapvm_tick', 'tapvm_eight', 'main']) {
        const f = elf.functions.find((x) => x.name === name);
        expect(f, `${name} in ${file}`).toBeDefined();
        expect(f!.addr).toBe(nm.get(name));
      }
    }
  });

  it('lists the fixture data objects at the addresses and sizes nm gives, and tells executables from libraries', () => {
    for (const file of [PIE, NOPIE]) {
      const elf = readElf(file);
      expect(elf.library).toBe(false);
      const nm = execFileSync('nm', ['-S', '--defined-only', file], { encoding: 'utf8' });
      for (const [name, size] of [['tapvm_counter', 4n], ['tapvm_small', 2n], ['tapvm_big', 8n], ['tapvm_buf', 24n]] as const) {
        const o = elf.objects.find((x) => x.name === name);
        expect(o, `${name} in ${file}`).toBeDefined();
        expect(o!.size).toBe(size);
        expect(nm).toContain(`${o!.addr.toString(16).padStart(16, '0')} ${size.toString(16).padStart(16, '0')} `);
      }
      expect(elf.functions.some((x) => x.name === 'tapvm_counter')).toBe(false);
    }
    // libc has a program interpreter too (it runs), and a soname
    expect(readElf(LIBC).library).toBe(true);
    expect(readElf('/bin/true').library).toBe(false);
  });

  it('turns an address into a file offset through the executable PT_LOAD segment', () => {
    const elf = readElf(NOPIE);
    expect(elf.type).toBe(2); // ET_EXEC
    const f = elf.functions.find((x) => x.name === 'tapvm_target')!;
    expect(f.addr >= 0x400000n).toBe(true);
    // non-PIE: the text segment maps file offset X at 0x400000 + X
    expect(fileOffset(elf, f.addr)).toBe(f.addr - 0x400000n);
    // in both builds the file holds, at that offset, the bytes objdump disassembles at the address
    for (const file of [NOPIE, PIE]) {
      const e = readElf(file);
      const t = e.functions.find((x) => x.name === 'tapvm_target')!;
      const off = Number(fileOffset(e, t.addr)!);
      expect(fs.readFileSync(file).subarray(off, off + 4).toString('hex')).toBe(objdumpBytes(file, t.addr));
    }
  });

  it('has no offset for an address outside the executable segments', () => {
    const elf = readElf(NOPIE);
    expect(fileOffset(elf, 0x400000n)).toBeUndefined(); // the read-only headers segment
    expect(fileOffset(elf, 0x10n)).toBeUndefined();
  });

  it('reads libc .dynsym: getpid and its alias __getpid, at the syscall stub', () => {
    const elf = readElf(LIBC);
    expect(elf.type).toBe(3); // ET_DYN
    const getpid = elf.functions.find((x) => x.name === 'getpid')!;
    const alias = elf.functions.find((x) => x.name === '__getpid')!;
    expect(getpid.addr).toBe(alias.addr);
    const off = fileOffset(elf, getpid.addr)!;
    // mov $39 (__NR_getpid), %eax; syscall
    expect(fs.readFileSync(LIBC).subarray(Number(off), Number(off) + 7).toString('hex')).toBe('b8270000000f05');
    // undefined (imported) symbols are not functions of the file
    expect(elf.functions.some((x) => x.name === '_dl_catch_exception' && x.addr === 0n)).toBe(false);
  });

  it('reads the GNU build-id note, as readelf -n shows it', () => {
    for (const f of [LIBC, '/bin/true', PIE]) {
      const m = /Build ID: ([0-9a-f]+)/.exec(execFileSync('readelf', ['-n', f], { encoding: 'utf8' }));
      expect(readElf(f).buildId).toBe(m![1]);
    }
  });

  it('reads a stripped executable: segments, but no defined function symbols', () => {
    const elf = readElf('/bin/true');
    expect(elf.segments.some((s) => s.executable)).toBe(true);
    expect(elf.functions).toEqual([]);
  });

  it('says why a file cannot be read', () => {
    expect(() => readElf('/nonexistent')).toThrow(new ElfError('cannot read /nonexistent: ENOENT'));
    expect(() => readElf(SRC)).toThrow(new ElfError(`${SRC} is not an ELF file`));
  });
});

describe('globMatcher', () => {
  it('matches * and ? as stap does, and everything else literally', () => {
    expect(globMatcher('tapvm_t*')('tapvm_target')).toBe(true);
    expect(globMatcher('tapvm_t*')('tapvm_eight')).toBe(false);
    expect(globMatcher('get?id')('getpid')).toBe(true);
    expect(globMatcher('a.b')('axb')).toBe(false);
    expect(globMatcher('main')('main2')).toBe(false);
  });
});
