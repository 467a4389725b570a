// Compiling against a hand-built BTF (test/kernel/btf-builder.ts) instead of the host's: a
// kernel-facts snapshot that carries only the BTF, and the compile / disassembly / error views
// the kernel.function and @var specs read.
import { gzipSync } from 'zlib';
import { compileSource } from '../../src/compile';
import { factsFromSnapshot, withKernelFacts, type FactsSnapshot } from '../../src/kernel/facts';
import { disassembleAll } from '../../src/isa/disasm';
import { DiagnosticError } from '../../src/diag/diagnostic';

export function btfCompiler(btf: Buffer, kprobes = false) {
  const snapshot: FactsSnapshot = {
    format: 'tapvm-kernel-facts',
    version: 1,
    release: '6.18.0',
    machine: 'x86_64',
    kprobes,
    config: {},
    syscalls: {},
    tracepoints: {},
    btf: gzipSync(btf).toString('base64'),
  };
  const compile = (text: string, pass = 3) =>
    withKernelFacts(factsFromSnapshot(snapshot, 'test.facts'), () => compileSource(text, '<input>', pass, undefined, {}, { optimize: false }));
  /** the instructions only: opcode and operands */
  const code = (text: string) =>
    disassembleAll(compile(text).result.image!)
      .split('\n')
      .filter((l) => /^\d{4} /.test(l))
      .map((l) => l.slice(6).replace(/\s+/g, ' ').trim());
  /** the diagnostics of a script that fails, as `line:col message` with `located`, else the message */
  const errors = (text: string, located = false): string[] => {
    try {
      compile(text);
    } catch (e) {
      if (e instanceof DiagnosticError) return e.diagnostics.map((d) => (located ? `${d.loc?.line}:${d.loc?.col} ` : '') + d.message);
      throw e;
    }
    return [];
  };
  return { compile, code, errors };
}
