// tapvm as a library: compile a script, run it as a session, swap a running session's script
// (in this process through Session.swap, or in another tapvm process through swapSession),
// and read or write modules.
import { compileSource } from './compile';
import { hostKernelFacts, withKernelFacts } from './kernel/facts';
import { encodeModule, isaHash } from './module/module';
import type { ProgramImage } from './image/image';

export { compileSource } from './compile';
export { Session, type SessionOptions, type SessionResult, type SwapOptions, type SwapResult } from './runtime/session';
export { swapSession, controlPath } from './runtime/control';
export { liveSessions, type LiveSession } from './runtime/sessions';
export { readModule, writeModule, decodeModule, encodeModule, factsMismatch, type ModuleBody } from './module/module';
export { kernelFacts, hostKernelFacts, factsFromSnapshot, snapshotHost, withKernelFacts, type KernelFacts, type UsedFacts } from './kernel/facts';
export type { ProgramImage } from './image/image';

/** Compiles script text for this host; throws DiagnosticError on parse or semantic errors. */
export function compileScript(text: string, file = '<input>', args: string[] = []): ProgramImage {
  return compileSource(text, file, 3, undefined, { args }).image!;
}

/** The module bytes for script text compiled on this host (what `tapvm swap` sends). */
export function compileModule(text: string, file = '<input>', args: string[] = []): Buffer {
  const facts = hostKernelFacts();
  const { result, used } = withKernelFacts(facts, () => compileSource(text, file, 3, undefined, { args }));
  return encodeModule({ name: 'swap', isa: isaHash(), factsOrigin: facts.origin, facts: used, image: result.image! });
}
