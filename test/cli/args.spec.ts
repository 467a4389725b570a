// The CLI passes the script arguments to the parser: `tapvm [opts] SCRIPT.stp ARGS...` or
// `tapvm [opts] -e SCRIPT ARGS...`. Pass 1 only (no root, no BPF): -p1 prints the script after
// preprocessing. Needs `npm run build` (bin/tapvm runs dist/).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, it, expect } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin/tapvm');

function tapvm(...argv: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...argv], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tapvm-cli-args-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('tapvm -p1 with script arguments', () => {
  it('pastes $1 into an -e script', () => {
    const r = tapvm('-p1', '-e', 'probe begin { printf("%d\\n", $1 + 1) }', '41');
    expect(r).toEqual({ code: 0, stdout: 'probe begin {\n  printf("%d\\n", 41 + 1);\n}\n', stderr: '' });
  });

  it('passes every positional after the script file, with @N, $# and @#', () => {
    const file = path.join(tmp, 'args.stp');
    fs.writeFileSync(file, '#! /usr/bin/env stap\nprobe begin { printf("%s %s %d %s\\n", @1, @2, $#, @#) }\n');
    const r = tapvm('-p1', file, 'one', 'two words');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('probe begin {\n  printf("%s %s %d %s\\n", "one", "two words", 2, "2");\n}\n');
  });

  it('reports a missing argument as stap does, with its location', () => {
    const r = tapvm('-p1', '-e', 'probe begin { printf("%d\\n", $2) }', '41');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'parse error: command line argument out of range [1-1]\n' +
        '        at: <input>:1:30\n' +
        '     source: probe begin { printf("%d\\n", $2) }\n' +
        '                                          ^\n' +
        'Pass 1: analysis failed.  [man error::pass1]\n',
    );
  });

  it('a script file without arguments has none', () => {
    const file = path.join(tmp, 'noargs.stp');
    fs.writeFileSync(file, 'probe begin {\n  x = @1\n}\n');
    const r = tapvm('-p1', file);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('parse error: command line argument out of range [1-0]\n');
    expect(r.stderr).toContain(`        at: ${file}:2:7\n`);
  });

  it('takes arguments that look like options after --', () => {
    const r = tapvm('-p1', '-e', 'probe begin { x = $1 y = @2 }', '--', '-5', '-v');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('probe begin {\n  x = -5;\n  y = "-v";\n}\n');
  });

  it('selects conditional text by the number of arguments', () => {
    const script = 'probe begin { x = %( $# >= 2 %? @2 %: "default" %) }';
    expect(tapvm('-p1', '-e', script, 'a', 'b').stdout).toBe('probe begin {\n  x = "b";\n}\n');
    expect(tapvm('-p1', '-e', script, 'a').stdout).toBe('probe begin {\n  x = "default";\n}\n');
  });

  it('prints the script after preprocessing: macros expanded, skipped text gone', () => {
    const script =
      '@define twice(e) %( ((@e) * 2) %)\n' +
      'probe begin { x = @twice($1) %( systemtap_v >= "4.0" && runtime == "bpf" %? y = 1 %: this would not parse %) }';
    const r = tapvm('-p1', '-e', script, '21');
    expect(r).toEqual({ code: 0, stdout: 'probe begin {\n  x = 21 * 2;\n  y = 1;\n}\n', stderr: '' });
  });

  it('a non-numeric argument where a number belongs is a parse error', () => {
    const r = tapvm('-p1', '-e', 'probe timer.ms($1) { }', 'soon');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^parse error: expected literal string or number\n {8}at: <input>:1:16\n/);
  });

  it('reports preprocessor errors in pass 1', () => {
    const r = tapvm('-p1', '-e', 'probe begin { x = %( kernel_v < "6.*" %? 1 %) }');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'parse error: wildcard not allowed with order comparison operators\n' +
        '        at: <input>:1:31\n' +
        '     source: probe begin { x = %( kernel_v < "6.*" %? 1 %) }\n' +
        '                                           ^\n' +
        'Pass 1: analysis failed.  [man error::pass1]\n',
    );
  });
});

describe('-D MAXSTRINGLEN', () => {
  it('accepts the default (128)', () => {
    expect(tapvm('-D', 'MAXSTRINGLEN=128', '-e', 'probe begin { printf("%d\\n", strlen("ab")); exit() }')).toEqual({ code: 0, stdout: '2\n', stderr: '' });
  });
  it.each([1, 16, 64, 128, 200, 512])('cuts every string at N-1 bytes (N = %d)', (n) => {
    const script = 'probe begin { s = "x"; for (i = 0; i < 10; i++) s .= s; printf("%d %d\\n", strlen(s), strlen(sprintf("%s", s))); exit() }';
    expect(tapvm('-D', `MAXSTRINGLEN=${n}`, '-e', script)).toEqual({ code: 0, stdout: `${n - 1} ${n - 1}\n`, stderr: '' });
  });
});

describe('bad command lines: one sentence, exit 1, no stack trace', () => {
  it.each([
    [[] as string[], 'tapvm: no script given: use SCRIPT.stp or -e SCRIPT (see --help)\n'],
    [['/nonexistent/x.stp'], "tapvm: cannot read script file '/nonexistent/x.stp': no such file or directory\n"],
    [['-p', '9', '-e', 'probe begin {}'], "tapvm: invalid pass number '9': expected 1 to 5\n"],
    [['--bogus', '-e', 'probe begin {}'], "error: unknown option '--bogus'\n"],
    [['-D', 'FOO=1', '-e', 'probe begin {}'], 'ERROR: -D FOO is not supported yet (supported: MAXACTION, MAXERRORS, MAXSKIPPED, MAXSTRINGLEN, MAXNESTING)\n'],
    [['-D', 'MAXSTRINGLEN=513', '-e', 'probe begin {}'], 'ERROR: MAXSTRINGLEN must be between 1 and 512 in tapvm: its widest interpreter has 512-byte strings (-D MAXSTRINGLEN=513)\n'],
    [['-D', 'MAXSTRINGLEN=0', '-e', 'probe begin {}'], 'ERROR: MAXSTRINGLEN must be between 1 and 512 in tapvm: its widest interpreter has 512-byte strings (-D MAXSTRINGLEN=0)\n'],
  ])('%j', (argv, stderr) => {
    expect(tapvm(...argv)).toEqual({ code: 1, stdout: '', stderr });
  });
});

describe('stap options for the end of the run (user-space probes only: needs root for the maps)', () => {
  const script = 'global n, a probe begin { n = 5; a["x"] = 2; exit() }';
  it('prints the globals written and never read at exit by default', () => {
    const r = tapvm('-e', script);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('n=0x5\na["x"]=0x2\n');
  });

  it('--no-global-var-display prints none of them; -k is accepted and changes nothing', () => {
    const r = tapvm('--no-global-var-display', '-k', '-e', script);
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
  });
});
