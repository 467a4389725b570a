// A warm server worker's warm-up of the run's pure paths (src/runtime/generation.ts warmRuntime):
// begin and end probes, printf and kernel records are formatted, and nothing reaches the
// standard streams, which a worker must not touch before its client's fds are in place.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { compileSource } from '../../src/compile';
import { warmRuntime } from '../../src/runtime/generation';

afterEach(() => vi.restoreAllMocks());

describe('warmRuntime', () => {
  it('runs begin and end probes and formats a record of each format into a sink, not to stdout/stderr', () => {
    const out = vi.spyOn(process.stdout, 'write');
    const err = vi.spyOn(process.stderr, 'write');
    const img = compileSource('global n = 3 probe begin { printf("hello %d %s\\n", n, "x"); exit() } probe end { printf("end %d\\n", n + 1) }', '<input>', 3).image!;
    // begin's printf, each format as a kernel record (zeros, empty strings), then end's printf
    expect(warmRuntime(img)).toBe('hello 3 x\nhello 0 \nend 0\nend 4\n');
    expect(out).not.toHaveBeenCalled();
    expect(err).not.toHaveBeenCalled();
  });
});
