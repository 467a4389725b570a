// -c COMMAND's words, as stap's staprun splits them (wordexp) before exec'ing the command
// directly; shell syntax goes to `sh -c`.
import { describe, it, expect } from 'vitest';
import { commandWords } from '../../src/runtime/target';

describe('-c COMMAND words', () => {
  it('splits at blanks and takes quotes and backslashes off, as wordexp does', () => {
    expect(commandWords('/bin/echo a  b')).toEqual(['/bin/echo', 'a', 'b']);
    expect(commandWords(`python3 -c 'import os; print(os.getpid())'`)).toEqual(['python3', '-c', 'import os; print(os.getpid())']);
    expect(commandWords(`echo "a 'b' \\"c\\" \\\\ \\x" x\\ y '' ""`)).toEqual(['echo', `a 'b' "c" \\ \\x`, 'x y', '', '']);
    expect(commandWords(`a'b'"c"d`)).toEqual(['abcd']);
  });

  it("leaves shell syntax and expansions to sh -c, as stap does for wordexp's bad characters", () => {
    for (const cmd of ['ls | wc', 'a; b', 'a && b', 'a > f', '(a)', 'echo $HOME', 'echo "$HOME"', 'ls *.c', 'cat ~/x', 'echo `id`', 'a\nb'])
      expect(commandWords(cmd), cmd).toBe('shell');
  });

  it("says stap's words for an unmatched quote and an empty command", () => {
    expect(() => commandWords(`echo 'a`)).toThrow('wordexp: syntax error (unmatched quotes?) in -c COMMAND');
    expect(() => commandWords(`echo "a`)).toThrow('wordexp: syntax error (unmatched quotes?) in -c COMMAND');
    expect(() => commandWords('  ')).toThrow('empty -c COMMAND');
  });
});
