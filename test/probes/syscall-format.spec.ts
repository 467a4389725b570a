// argstr / retstr as stap's syscall tapset prints them, from raw argument values.
import { describe, it, expect } from 'vitest';
import { openFlagStr, mmapFlagStr, protStr, cloneFlagStr, retstr, argstr, type NamedArg } from '../../src/probes/syscall-format';
import { argWidth } from '../../src/kernel/syscalls';

const arg = (name: string, ctype: string, value: NamedArg['value']): NamedArg => ({ field: { name, ctype, ...argWidth(ctype) }, value });

describe('syscall argstr formatting', () => {
  it('decodes open flags: the access mode first, then the flags in stap order, leftovers in hex', () => {
    expect(openFlagStr(0n)).toBe('O_RDONLY');
    expect(openFlagStr(0o2000000n)).toBe('O_RDONLY|O_CLOEXEC');
    expect(openFlagStr(0o1101n)).toBe('O_WRONLY|O_CREAT|O_TRUNC');
    expect(openFlagStr(0o2n | 0o2000n)).toBe('O_RDWR|O_APPEND');
    expect(openFlagStr(0o4010002n)).toBe('O_RDWR|O_SYNC');
    expect(openFlagStr(0o20200000n)).toBe('O_RDONLY|O_TMPFILE');
  });

  it('decodes mmap prot and flags and clone flags with the exit signal', () => {
    expect(protStr(0n)).toBe('PROT_NONE');
    expect(protStr(3n)).toBe('PROT_READ|PROT_WRITE');
    expect(mmapFlagStr(0x22n)).toBe('MAP_PRIVATE|MAP_ANONYMOUS');
    expect(cloneFlagStr(0x1200011n)).toBe('CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD');
  });

  it('formats openat with AT_FDCWD, the quoted file name and flags; the mode only with O_CREAT', () => {
    const at = (flags: bigint) => [
      arg('dfd', 'int', BigInt.asUintN(64, -100n)),
      arg('filename', 'const char *', { str: '/etc/passwd' }),
      arg('flags', 'int', flags),
      arg('mode', 'umode_t', 0o644n),
    ];
    expect(argstr('openat', at(0o2000000n))).toBe('AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC');
    expect(argstr('openat', at(0o1101n))).toBe('AT_FDCWD, "/etc/passwd", O_WRONLY|O_CREAT|O_TRUNC, 0644');
  });

  it('formats read/write as fd, buffer pointer in hex, count; close as the fd; no arguments as ""', () => {
    const rw = [arg('fd', 'unsigned int', 3n), arg('buf', 'char *', 0x7ffd1234n), arg('count', 'size_t', 4096n)];
    expect(argstr('read', rw)).toBe('3, 0x7ffd1234, 4096');
    expect(argstr('close', [arg('fd', 'unsigned int', 1n)])).toBe('1');
    expect(argstr('getppid', [])).toBe('');
  });

  it('prints a faulting or NULL user string as the pointer or NULL', () => {
    expect(argstr('unlink', [arg('pathname', 'const char *', { fault: 0n })])).toBe('NULL');
    expect(argstr('unlink', [arg('pathname', 'const char *', { fault: 0x10n })])).toBe('0x10');
  });

  it('retstr: the value, "-2 (ENOENT)" for an error, hex for mmap', () => {
    expect(retstr('read', 832n)).toBe('832');
    expect(retstr('openat', BigInt.asUintN(64, -2n))).toBe('-2 (ENOENT)');
    expect(retstr('openat', BigInt.asUintN(64, -13n))).toBe('-13 (EACCES)');
    expect(retstr('mmap', 0x7f0000001000n)).toBe('0x7f0000001000');
  });
});
