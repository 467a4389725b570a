// Shared setup for the native addon tests: compiling the BPF fixtures with clang and
// locating tracepoints in tracefs. Everything runs against the real kernel (root).
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const FIXTURES = path.join(__dirname, 'fixtures');

// <linux/bpf.h> pulls <asm/types.h>, which Debian keeps in the multiarch include dir
// that `clang -target bpf` does not search by itself.
function multiarchInclude(): string[] {
  const triple = { x64: 'x86_64', arm64: 'aarch64' }[os.arch() as string] ?? os.arch();
  const dir = `/usr/include/${triple}-linux-gnu`;
  return fs.existsSync(dir) ? ['-I', dir] : [];
}

/** Compiles fixtures/<name>.bpf.c to a temp .o and returns its path; throws clearly if clang is missing. */
export function compileFixture(name: string): string {
  const probe = spawnSync('clang', ['--version']);
  if (probe.error || probe.status !== 0) {
    throw new Error('clang is required to build the BPF test fixtures (apt-get install clang)');
  }
  const out = path.join(os.tmpdir(), `tapvm-${name}-${process.pid}.bpf.o`);
  execFileSync('clang', ['-O2', '-g', '-target', 'bpf', ...multiarchInclude(), '-c',
    path.join(FIXTURES, `${name}.bpf.c`), '-o', out], { stdio: 'pipe' });
  return out;
}

const TRACEFS = '/sys/kernel/tracing';

/** Numeric id of a tracepoint such as 'syscalls/sys_enter_getppid', mounting tracefs if needed. */
export function tracepointId(name: string): number {
  if (!fs.existsSync(path.join(TRACEFS, 'events'))) {
    execFileSync('mount', ['-t', 'tracefs', 'nodev', TRACEFS]);
  }
  return Number(fs.readFileSync(path.join(TRACEFS, 'events', name, 'id'), 'utf8').trim());
}

/** Resolves with whatever `check` returns once it is truthy; rejects after `ms`. */
export function waitFor<T>(check: () => T | undefined | false, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const tick = (): void => {
      const v = check();
      if (v) return resolve(v);
      if (Date.now() - start > ms) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 10);
    };
    tick();
  });
}

/** Sleeps without blocking the event loop (ring buffer records keep arriving meanwhile). */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
