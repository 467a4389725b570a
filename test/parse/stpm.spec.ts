// Library macros (src/parse/macros.ts loadLibraryMacros): every *.stpm file of the tapset
// directories and -I directories defines @macros usable in scripts and tapset files.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseScript } from '../../src/parse/index';
import { compileSource } from '../../src/compile/index';
import { DiagnosticError } from '../../src/diag/diagnostic';

const TAPVM = path.join(__dirname, '../../bin/tapvm');

function libDir(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stpm-'));
  for (const [n, t] of Object.entries(files)) fs.writeFileSync(path.join(dir, n), t);
  return dir;
}

function parseError(text: string, dirs: string[]): DiagnosticError {
  try {
    parseScript(text, 'u.stp', { tapsets: dirs });
  } catch (e) {
    if (e instanceof DiagnosticError) return e;
    throw e;
  }
  throw new Error('expected a parse error');
}

describe('.stpm library macros', () => {
  const dir = libDir({
    'a.stpm': '// library\n@define twice(x) %( (2 * (@x)) %)\n@define greeting %( "hi" %)\n',
    'b.stpm': '@define bad %( (1 + * 2) %)\n@define quad(x) %( @twice(@twice(@x)) %)\n',
    'ignored.stp': 'function from_lib() { return @twice(5) }',
  });

  it('makes a .stpm macro usable in a script, also one built on another file\'s macro', () => {
    const r = spawnSync(TAPVM, ['-I', dir, '-e', 'probe begin { println(@twice(21), " ", @quad(1), " ", @greeting); exit() }'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('42 4 hi\n');
  });

  it('makes .stpm macros usable in tapset .stp files of the same directories', () => {
    const r = spawnSync(TAPVM, ['-I', dir, '-e', 'probe begin { println(from_lib()); exit() }'], { encoding: 'utf8' });
    expect(r.stdout).toBe('10\n');
  });

  it('lets a script define a macro of the same name as a library macro', () => {
    const r = compileSource('@define greeting %( "mine" %)\nprobe begin { println(@greeting) }', 'u.stp', 1, undefined, { tapsets: [dir] });
    expect(JSON.stringify(r.ast)).toContain('mine');
  });

  it('is not visible without the directory', () => {
    const e = parseError('probe begin { println(@twice(2)) }', []);
    expect(e.diagnostics[0].loc!.file).toBe('u.stp');
  });

  it('points an error inside a macro body into the .stpm file', () => {
    const e = parseError('probe begin {\n  println(@bad)\n}', [dir]);
    expect(e.diagnostics[0].message).toBe('expected expression');
    expect(e.diagnostics[0].loc).toMatchObject({ file: path.join(dir, 'b.stpm'), line: 1, col: 21 });
    const r = spawnSync(TAPVM, ['-I', dir, '-p1', '-e', 'probe begin { println(@bad) }'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`at: ${path.join(dir, 'b.stpm')}:1:21\n     source: @define bad %( (1 + * 2) %)\n`);
  });

  it('rejects anything but definitions in a .stpm file', () => {
    const bad = libDir({ 'x.stpm': '@define ok %( 1 %)\nprobe begin { }\n' });
    const e = parseError('probe begin { }', [bad]);
    expect(e.diagnostics[0].message).toBe(`unexpected token in library macro file '${path.join(bad, 'x.stpm')}'`);
    expect(e.diagnostics[0].loc).toMatchObject({ line: 2, col: 1 });
  });

  it('rejects a macro defined by two library files, naming both', () => {
    const dup = libDir({ 'p.stpm': '@define m %( 1 %)\n', 'q.stpm': '\n@define m %( 2 %)\n' });
    const e = parseError('probe begin { }', [dup]);
    expect(e.diagnostics.map((d) => [d.message, path.basename(d.loc!.file), d.loc!.line])).toEqual([
      ["duplicate definition of library macro '@m'", 'q.stpm', 2],
      ["macro '@m' first defined here", 'p.stpm', 1],
    ]);
  });
});
