// The parameters in a .return probe are their values at entry, as stap's are: $param and
// $$parms / $$vars in syscall.NAME.return, evaluated in a synthesized entry probe (@entry).
import { describe, it, expect } from 'vitest';
import { kernelTestsPossible, runTapvm, runTapvmSync, startTrigger } from './helpers';

const can = kernelTestsPossible();
if (!can.ok && process.env.CI) throw new Error(`kernel tests cannot run in CI: ${can.why}`);
const d = can.ok ? describe : describe.skip;

d('parameters in .return probes', { timeout: 30_000 }, () => {
  it('$$parms, $$vars and $param in syscall.openat.return are the entry values; $$return the result', async () => {
    const t = await startTrigger('open', '/etc/hostname', '2');
    const run = runTapvm([
      '-e',
      `global n
       probe syscall.openat { if (pid() == ${t.pid}) printf("entry %s\\n", $$parms$) }
       probe syscall.openat.return { if (pid() == ${t.pid}) { printf("return %s|%s|%s|%d|%s\\n", $$parms$, $$vars$, $$return, $dfd, user_string($filename)); if (++n == 2) exit() } }`,
    ]);
    await run.armed;
    t.go();
    const r = await run.done;
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n').filter((l) => /^(entry|return) /.test(l));
    expect(lines.length).toBe(4);
    const entry = lines[0].slice('entry '.length);
    expect(entry).toMatch(/^dfd=0x[0-9a-f]+ filename="\/etc\/hostname" flags=0x0 mode=0x0$/);
    for (const l of [lines[1], lines[3]]) {
      const [parms, vars, ret, dfd, name] = l.slice('return '.length).split('|');
      expect(parms).toBe(entry);
      expect(vars).toBe(entry);
      expect(ret).toMatch(/^return=0x[0-9a-f]+$/);
      expect(dfd).toBe('-100');
      expect(name).toBe('/etc/hostname');
    }
  });

  it('a uprobe .return has no parameter names without debug information: one sentence', () => {
    const libc = '/usr/lib/x86_64-linux-gnu/libc.so.6';
    const r = runTapvmSync(['-p2', '-e', `probe process("${libc}").function("getppid").return { println($$parms) }`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`'$$parms' is not available in process("${libc}").function("getppid").return: without debug information the function's parameters have no names`);
  });
});
