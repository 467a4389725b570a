// tapset/indent.stp: thread_indent/indent and their _depth forms, written in the language itself.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'child_process';
import * as path from 'path';

const TAPVM = path.join(__dirname, '../../bin/tapvm');

describe('tapset/indent.stp', () => {
  it('thread_indent: microseconds since the thread first indented, execname(tid), one space per level', () => {
    const r = spawnSync(
      TAPVM,
      ['-e', `probe begin { printf("%s-> a\\n", thread_indent(1)); printf("%s-> b\\n", thread_indent(1))
        printf("%s<- b\\n", thread_indent(-1)); printf("%s<- a\\n", thread_indent(-1))
        printf("d %d %d %d\\n", thread_indent_depth(1), thread_indent_depth(1), thread_indent_depth(-2)) }
        probe end { printf("[%s] [%s] %d\\n", indent(1), indent(1), indent_depth(-2)) }`],
      { encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    const re = /^ *(\d+) ([^(]+)\((\d+)\):( *)([-<>]+ \w)$/;
    const m = lines.slice(0, 4).map((l) => re.exec(l));
    expect(m.every((x) => x !== null)).toBe(true);
    expect(lines[0]).toMatch(/^     0 /); // %6d, starting at 0
    expect(m.map((x) => [x![4].length, x![5]])).toEqual([[0, '-> a'], [1, '-> b'], [1, '<- b'], [0, '<- a']]);
    const ts = m.map((x) => Number(x![1]));
    expect(ts).toEqual([...ts].sort((a, b) => a - b));
    expect(new Set(m.map((x) => x![3])).size).toBe(1);
    expect(lines[4]).toBe('d 0 1 1');
    expect(lines.length).toBe(7);
    expect(lines[5]).toMatch(/^\[ +\d+ :\] \[ +\d+ : \] 1$/);
  });
});
