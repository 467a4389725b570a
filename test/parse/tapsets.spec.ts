// Tapset linking (src/parse/tapsets.ts): only the library files whose aliases or functions the
// script uses join it; -I adds directories; the repository's tapsets attach in the kernel.
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { compileSource } from '../../src/compile/index';
import { DEFAULT_TAPSET_DIR, linkTapsets, loadTapsets } from '../../src/parse/tapsets';
import { parseScript } from '../../src/parse/index';

const TAPVM = path.join(__dirname, '../../bin/tapvm');

describe('tapset linking', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tapset-'));
  fs.writeFileSync(path.join(dir, 'a.stp'), 'probe lib.start = begin { who = "lib" }\nfunction helper() { return deeper() }');
  fs.writeFileSync(path.join(dir, 'b.stp'), 'function deeper() { return 7 }');
  fs.writeFileSync(path.join(dir, 'c.stp'), 'probe begin { println("never linked") }');

  it('links only the files that define what is used, transitively', () => {
    const { used } = linkTapsets(parseScript('probe lib.start { println(who, helper()) }', 'u.stp'), loadTapsets([dir]));
    expect(used.map((f) => path.basename(f.file))).toEqual(['a.stp', 'b.stp']);
    const r = compileSource('probe lib.* { printf("%s %d\\n", who, helper()) }', 'u.stp', 2, undefined, { tapsets: [dir] }).resolved!;
    expect(r.probes.map((p) => p.point.pp)).toEqual(['begin']);
    expect([...r.functions.keys()].sort()).toEqual(['deeper', 'helper']);
  });

  it('lets the script define a function a tapset also defines', () => {
    const { used } = linkTapsets(parseScript('function deeper() { return 1 }\nprobe begin { deeper() }', 'u.stp'), loadTapsets([dir]));
    expect(used).toEqual([]);
  });

  it('parses only the files that may define what the script wants', () => {
    const lazy = fs.mkdtempSync(path.join(os.tmpdir(), 'tapset-lazy-'));
    fs.writeFileSync(path.join(lazy, 'broken.stp'), 'function broken_fn() { return ( }');
    fs.writeFileSync(path.join(lazy, 'good.stp'), 'probe good.point = begin { }\nfunction good_fn() { return 3 }');
    const ok = compileSource('probe good.point { println(good_fn()) }', 'u.stp', 2, undefined, { tapsets: [lazy] }).resolved!;
    expect([...ok.functions.keys()]).toEqual(['good_fn']);
    expect(() => compileSource('probe begin { println(broken_fn()) }', 'u.stp', 2, undefined, { tapsets: [lazy] })).toThrow(/parse error/);
  });

  it('parses a file that calls a library macro, whose body may define anything', () => {
    const macro = fs.mkdtempSync(path.join(os.tmpdir(), 'tapset-macro-'));
    fs.writeFileSync(path.join(macro, 'defs.stpm'), '@define make_fn %( function from_macro() { return 5 } %)');
    fs.writeFileSync(path.join(macro, 'uses.stp'), '@make_fn');
    const r = compileSource('probe begin { println(from_macro()) }', 'u.stp', 2, undefined, { tapsets: [macro] }).resolved!;
    expect([...r.functions.keys()]).toEqual(['from_macro']);
  });

  it('parses every file of the repository tapset/', () => {
    const files = loadTapsets([DEFAULT_TAPSET_DIR]);
    expect(files.map((f) => path.basename(f.file))).toEqual(['indent.stp', 'kprocess.stp', 'networking.stp', 'oneshot.stp', 'regex.stp', 'scheduler.stp', 'signal.stp', 'tcp.stp', 'udp.stp', 'vfs.stp']);
    for (const f of files) expect(f.script.items.length).toBeGreaterThan(0);
  });

  it('finds functions in -I directories from the command line; oneshot runs once and ends', () => {
    const extra = fs.mkdtempSync(path.join(os.tmpdir(), 'tapset-I-'));
    fs.writeFileSync(path.join(extra, 'extra.stp'), 'function extra_fn() { return 41 + 1 }');
    expect(execFileSync(TAPVM, ['-I', extra, '-e', 'probe oneshot { println(extra_fn()) }'], { encoding: 'utf8' })).toBe('42\n');
  }, 30_000);
});

describe('repository tapsets in the kernel', () => {
  it('kprocess.exec_complete and signal.send attach and see the command\'s exec and its SIGCONT', () => {
    const exec = spawnSync(TAPVM, ['-e', 'probe kprocess.exec_complete { if (pid == target()) { println("exec ", filename); exit() } }', '-c', '/bin/true'], { encoding: 'utf8', timeout: 20_000 });
    expect(exec.stdout).toBe('exec /bin/true\n');
    // tapvm continues the stopped command with SIGCONT once the probes are armed
    const sig = spawnSync(TAPVM, ['-e', 'probe signal.send { if (sig_pid == target() && sig == 18) printf("sig %d %s\\n", sig, pid_name) }', '-c', '/bin/true'], { encoding: 'utf8', timeout: 20_000 });
    expect(sig.stdout).toBe('sig 18 sh\n');
  }, 60_000);

  it('scheduler.cpu_on sees context switches', () => {
    const r = spawnSync(TAPVM, ['-e', 'global n; probe scheduler.cpu_on { n++; if (n == 3) { printf("%d switches, next %s\\n", n, next_task_name != "" ? "named" : "?"); exit() } }'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.stdout).toBe('3 switches, next named\n');
  }, 30_000);
});
