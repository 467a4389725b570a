// `tapvm kernel-facts > host.facts`: the facts a compilation may ask about this kernel
// (src/kernel/facts.ts), as JSON, for `tapvm -r host.facts -p4 -m NAME` on another machine.
import { snapshotHost } from '../kernel/facts';

export async function main(argv: string[]): Promise<number> {
  if (argv.length) {
    process.stderr.write(`tapvm: kernel-facts takes no arguments (usage: tapvm kernel-facts > FILE)\n`);
    return 1;
  }
  const json = JSON.stringify(snapshotHost());
  await new Promise<void>((res) => process.stdout.write(json + '\n', () => res()));
  return 0;
}
