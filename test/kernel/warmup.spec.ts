// A warm server worker's warm-up (src/server/warmup.ts) swallows a one-liner that does not compile
// (a kernel without one of its tracepoints warms up less, no more), so a one-liner broken by a
// change in the language or the tapsets would only make every command slower, silently. On this
// kernel each must compile, with the host's facts as the warm-up uses them.
import { describe, it, expect } from 'vitest';
import { compileSource } from '../../src/compile';
import { hostKernelFacts, withKernelFacts } from '../../src/kernel/facts';
import { DEFAULT_TAPSET_DIR } from '../../src/parse/tapsets';
import { preprocessorFacts } from '../../src/cli/stap';
import { ONE_LINERS } from '../../src/server/warmup';
import { kernelTestsPossible } from './helpers';

const can = kernelTestsPossible();
if (!can.ok && process.env.CI) throw new Error(`kernel tests cannot run in CI: ${can.why}`);
const d = can.ok ? describe : describe.skip;

d('the warm-up one-liners', () => {
  it.each(ONE_LINERS.map((t) => [t]))('compiles %s', (text) => {
    const { result, used } = withKernelFacts(hostKernelFacts(), () =>
      compileSource(text, '<input>', 3, undefined, { args: [], facts: preprocessorFacts(), warnings: [], tapsets: [DEFAULT_TAPSET_DIR] }),
    );
    expect(result.image!.code.length).toBeGreaterThan(0);
    // the kernel.trace one-liner's tracepoints all exist here (its BTF look-ups are what it warms)
    for (const [tp, fields] of Object.entries(used.tracepoints)) expect(fields, tp).not.toBeNull();
  });
});
