// argstr of the flag-decoding calls formatted in the kernel (FLAGSTR over a flag table) when a
// handler compares or measures it: the same text user space gives a handler that only prints
// it, for the open, mmap and mprotect calls a shell makes.
import { describe, it, expect, afterAll } from 'vitest';
import * as fs from 'fs';
import { kernelTestsPossible, runTapvm, runTapvmSync } from './helpers';

const can = kernelTestsPossible();
if (!can.ok && process.env.CI) throw new Error(`kernel tests cannot run in CI: ${can.why}`);
const d = can.ok ? describe : describe.skip;

const FILE = `/tmp/tapvm-test-argstr-${process.pid}`;
const MINE = 'pid() == target() || ppid() == target()';

d('argstr decoded in the kernel', { timeout: 30_000 }, () => {
  afterAll(() => fs.rmSync(FILE, { force: true }));

  it('gives the text user space gives, so a handler can compare and measure it', async () => {
    const r = await runTapvm([
      '-c',
      `sh -c ": > ${FILE}"`,
      '-e',
      `probe syscall.openat, syscall.mmap, syscall.mprotect { if (${MINE}) printf("user %s(%s)\\n", name, argstr) }
       probe syscall.openat, syscall.mmap, syscall.mprotect { if (${MINE}) printf("kernel %s(%s) %d\\n", name, argstr, strlen(argstr)) }
       probe syscall.openat { if (${MINE} && argstr == "AT_FDCWD, \\"${FILE}\\", O_WRONLY|O_CREAT|O_TRUNC, 0666") println("created") }`,
    ]).done;
    expect(r.stderr).toBe('');
    const lines = r.stdout.trimEnd().split('\n');
    const user = lines.filter((l) => l.startsWith('user ')).map((l) => l.slice(5));
    const kernel = lines.filter((l) => l.startsWith('kernel ')).map((l) => l.slice(7));
    expect(user.length).toBeGreaterThan(5);
    expect(kernel.map((l) => l.replace(/ \d+$/, ''))).toEqual(user);
    for (const l of kernel) {
      const m = /^\w+\((.*)\) (\d+)$/.exec(l)!;
      expect(Number(m[2])).toBe(m[1].length);
    }
    // each formatter took part: open flags with the octal mode, protections, mmap flags
    expect(user).toContain(`openat(AT_FDCWD, "${FILE}", O_WRONLY|O_CREAT|O_TRUNC, 0666)`);
    expect(user.some((u) => /^openat\(.*, O_RDONLY\|O_CLOEXEC\)$/.test(u))).toBe(true);
    expect(user.some((u) => /^mmap\(.*, PROT_READ\|PROT_EXEC, MAP_PRIVATE\|MAP_FIXED\|MAP_DENYWRITE, 3, \d+\)$/.test(u))).toBe(true);
    expect(user.some((u) => /^mprotect\(0x[0-9a-f]+, \d+, PROT_READ\)$/.test(u))).toBe(true);
    expect(lines).toContain('created');
  });

  it('argstr of a call tapvm decodes only in user space is still refused when compared', () => {
    const r = runTapvmSync(['-p4', '-e', 'probe syscall.clone { if (argstr == "x") println(1) }']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('argstr of syscall.clone can only be printed');
  });
});
