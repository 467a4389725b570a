// Shared by the execution tests: compile a script and run its begin (then end) probes with
// the TypeScript interpreter on a MemoryBackend, formatting print events as the runtime does.
import { compileSource } from '../../src/compile/index';
import type { ProgramImage } from '../../src/image/image';
import { formatValues, parseFormat } from '../../src/output/format';
import type { VmEvent } from '../../src/vm/backend';
import { runHandler, type RunResult, type UserContextValues } from '../../src/vm/interp';
import { MemoryBackend } from '../../src/vm/memory-backend';

export const CTX: UserContextValues = {
  pid: 4242n,
  tid: 4243n,
  ppid: 1n,
  uid: 1000n,
  gid: 100n,
  cpu: 3n,
  execname: 'stapio',
  realtimeNs: () => 1_700_000_000_123_456_789n,
};

export interface Ran {
  img: ProgramImage;
  /** every print event formatted, concatenated (byte string: one char per byte) */
  out: string;
  events: VmEvent[];
  results: RunResult[];
}

/** Compiles src and runs its begin probes, then (with `end`) its end probes, in order. */
export function runScript(src: string, file: string, opts: { end?: boolean; maxAction?: number } = {}): Ran {
  const img = compileSource(src, file).image!;
  const be = new MemoryBackend(img);
  const families = opts.end ? ['begin', 'end'] : ['begin'];
  const results: RunResult[] = [];
  for (const family of families)
    for (const p of img.probes)
      if (p.attach.family === family) results.push(runHandler(img, p.pc, p.index, be, CTX, { maxAction: opts.maxAction ?? 100_000 }));
  let out = '';
  for (const ev of be.events) if (ev.type === 'print') out += formatValues(parseFormat(img.formats[ev.format].text), ev.values);
  return { img, out, events: be.events, results };
}
