// -c CMD: the command starts stopped, so target() is known before it runs and no event of
// its start is missed; the session continues it once the probes are armed.
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';

function state(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

/**
 * CMD's words, as stap's staprun takes them (wordexp): split at blanks, with '...', "..." and
 * backslash quoting, so that `python3 -c 'print(1)'` is exec'ed directly and target() is
 * python3 from its exec on, not a `sh -c` first. 'shell' where stap runs `sh -c CMD` instead:
 * an unquoted | & ; < > ( ) { } or newline (wordexp's WRDE_BADCHAR); and here also where the
 * shell is left the expansions wordexp would do itself ($, `, globs, a leading ~).
 */
export function commandWords(cmd: string): string[] | 'shell' {
  const words: string[] = [];
  let word: string | undefined;
  const add = (c: string) => (word = (word ?? '') + c);
  for (let i = 0; i < cmd.length; i++) {
    const c = cmd[i];
    if (c === ' ' || c === '\t') {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if ('|&;<>(){}\n'.includes(c) || '$`*?['.includes(c) || (c === '~' && word === undefined)) {
      return 'shell';
    } else if (c === '\\') {
      if (i + 1 >= cmd.length) return 'shell';
      add(cmd[++i]);
    } else if (c === "'") {
      const end = cmd.indexOf("'", i + 1);
      if (end < 0) throw new Error('wordexp: syntax error (unmatched quotes?) in -c COMMAND');
      add(cmd.slice(i + 1, end));
      i = end;
    } else if (c === '"') {
      add('');
      for (i++; ; i++) {
        if (i >= cmd.length) throw new Error('wordexp: syntax error (unmatched quotes?) in -c COMMAND');
        const d = cmd[i];
        if (d === '"') break;
        if (d === '$' || d === '`') return 'shell';
        if (d === '\\' && i + 1 < cmd.length && '$`"\\\n'.includes(cmd[i + 1])) add(cmd[++i]);
        else add(d);
      }
    } else add(c);
  }
  if (word !== undefined) words.push(word);
  if (!words.length) throw new Error('empty -c COMMAND');
  return words;
}

/** Starts CMD through a shell that stops itself, then execs CMD in place (same pid). */
export async function startStopped(cmd: string): Promise<ChildProcess> {
  // a word list is exec'ed directly, so target() is the command itself; anything with shell
  // syntax runs under /bin/sh -c, as stap does
  const words = commandWords(cmd);
  const argv = words === 'shell' ? ['/bin/sh', '-c', cmd] : words;
  const child = spawn('/bin/sh', ['-c', 'kill -STOP $$; exec "$@"', 'sh', ...argv], { stdio: 'inherit' });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`cannot start '${cmd}'`);
  for (let i = 0; i < 2000; i++) {
    const s = state(pid);
    if (s === 'T' || s === 't') return child;
    if (s === undefined || s === 'Z') throw new Error(`'${cmd}' exited before it could be traced`);
    await new Promise((r) => setTimeout(r, 1));
  }
  child.kill('SIGKILL');
  throw new Error(`'${cmd}' did not start`);
}
