// Module files (src/module/module.ts) and the facts check, on made-up facts: no kernel needed.
import { describe, it, expect } from 'vitest';
import { encodeModule, decodeModule, factsMismatch, isaHash, type ModuleBody } from '../../src/module/module';
import { factsFromSnapshot, withKernelFacts, kernelFacts, type FactsSnapshot } from '../../src/kernel/facts';
import { compileSource } from '../../src/compile';
import { missingPrivilege } from '../../src/runtime/privilege';
import { sampleBtf } from '../kernel/btf-builder';
import { gzipSync } from 'zlib';

const snapshot = (over: Partial<FactsSnapshot> = {}): FactsSnapshot => ({
  format: 'tapvm-kernel-facts',
  version: 1,
  release: '6.18.0',
  machine: 'x86_64',
  kprobes: false,
  config: { CONFIG_BPF: 'y' },
  syscalls: { getppid: 110 },
  tracepoints: {
    'sched:sched_process_exec': [
      300,
      [
        ['common_pid', 'int', 4, 4, true],
        ['filename', '__data_loc char[]', 8, 4, false],
        ['pid', 'pid_t', 12, 4, true],
        ['old_pid', 'pid_t', 16, 4, true],
      ],
    ],
  },
  ...over,
});

function compileFor(s: FactsSnapshot, text: string): ModuleBody {
  const facts = factsFromSnapshot(s, 'test.facts');
  const { result, used } = withKernelFacts(facts, () => compileSource(text, '<input>', 3, undefined, { facts: undefined }));
  return { name: 'm', isa: isaHash(), factsOrigin: facts.origin, facts: used, image: result.image! };
}

const SCRIPT = 'probe kernel.trace("sched:sched_process_exec") { printf("%d\\n", $pid) }';

describe('modules', () => {
  it('round-trips the image and facts through the file format', () => {
    const m = compileFor(snapshot(), SCRIPT);
    const back = decodeModule(encodeModule(m), 'm.tvm');
    expect(back).toEqual(m);
    expect(back.image.code.every((w) => typeof w === 'bigint')).toBe(true);
  });

  it('records only the tracepoint fields the code reads', () => {
    const m = compileFor(snapshot(), SCRIPT);
    expect(m.facts.tracepoints).toEqual({ 'sched:sched_process_exec': { pid: [12, 4, true] } });
    expect(m.facts.release).toBe('6.18.0');
  });

  it('refuses a damaged file with one sentence', () => {
    const bytes = encodeModule(compileFor(snapshot(), SCRIPT));
    bytes[bytes.length - 20] ^= 0xff;
    expect(() => decodeModule(bytes, 'm.tvm')).toThrow(/^m\.tvm is damaged: its checksum does not match its contents$/);
    expect(() => decodeModule(Buffer.from('hello'), 'x.tvm')).toThrow(/^x\.tvm is not a tapvm module$/);
  });

  it('accepts the facts it was compiled against and names the first difference otherwise', () => {
    const m = compileFor(snapshot(), SCRIPT);
    expect(factsMismatch(m, factsFromSnapshot(snapshot(), 'h'), 'm.tvm')).toBeUndefined();
    // a field the script does not read may move
    const moved = snapshot();
    moved.tracepoints['sched:sched_process_exec'][1][3][2] = 20;
    expect(factsMismatch(m, factsFromSnapshot(moved, 'h'), 'm.tvm')).toBeUndefined();
    moved.tracepoints['sched:sched_process_exec'][1][2][2] = 16;
    expect(factsMismatch(m, factsFromSnapshot(moved, 'h'), 'm.tvm')).toBe(
      'module m.tvm reads field pid of tracepoint sched:sched_process_exec at offset 12 (4 bytes, signed), and this kernel has it at offset 16 (4 bytes, signed)',
    );
    expect(factsMismatch(m, factsFromSnapshot(snapshot({ release: '6.1.0' }), 'h'), 'm.tvm')).toBe('module m.tvm was compiled for kernel 6.18.0, and this kernel is 6.1.0');
    expect(factsMismatch(m, factsFromSnapshot(snapshot({ tracepoints: {} }), 'h'), 'm.tvm')).toBe(
      'module m.tvm uses tracepoint sched:sched_process_exec, which this kernel does not have',
    );
    expect(factsMismatch({ ...m, isa: '0123456789abcdef' }, factsFromSnapshot(snapshot(), 'h'), 'm.tvm')).toMatch(/^module m\.tvm was compiled for tapvm ISA 0123456789abcdef, and this tapvm's ISA is [0-9a-f]{16}/);
  });

  it('records the BTF members and types @cast uses, and refuses a kernel where they moved', () => {
    const withBtf = (parentBit?: number) => snapshot({ btf: gzipSync(sampleBtf(parentBit)).toString('base64') });
    const m = compileFor(withBtf(), 'probe kernel.trace("sched:sched_process_exec") { printf("%d\\n", @cast($pid, "task")->parent->pid) }');
    expect(m.facts.types).toEqual({ 'type task': 'struct task size 48', 'member struct task->parent': 'bit 192 struct task*', 'member struct task->pid': 'bit 0 pid_t const' });
    expect(factsMismatch(m, factsFromSnapshot(withBtf(), 'h'), 'm.tvm')).toBeUndefined();
    expect(factsMismatch(m, factsFromSnapshot(withBtf(128), 'h'), 'm.tvm')).toBe(
      'module m.tvm was compiled with member struct task->parent as bit 192 struct task*, and this kernel has bit 128 struct task*',
    );
    expect(factsMismatch(m, factsFromSnapshot(snapshot(), 'h'), 'm.tvm')).toBe('module m.tvm uses kernel types (BTF), and this kernel has no BTF');
  });

  it('records the CONFIG_ options and system call numbers looked up through the facts', () => {
    const facts = factsFromSnapshot(snapshot(), 'h');
    const { used } = withKernelFacts(facts, () => {
      kernelFacts().config('CONFIG_BPF');
      kernelFacts().syscallNumber('getppid');
    });
    expect(used.config).toEqual({ CONFIG_BPF: 'y' });
    expect(used.syscalls).toEqual({ getppid: 110 });
    const m = compileFor(snapshot(), 'probe begin { exit() }');
    m.facts = used;
    expect(factsMismatch(m, factsFromSnapshot(snapshot({ syscalls: { getppid: 111 } }), 'h'), 'm.tvm')).toBe(
      'module m.tvm was compiled with system call getppid as number 110, and here it is 111',
    );
    expect(factsMismatch(m, factsFromSnapshot(snapshot({ config: {} }), 'h'), 'm.tvm')).toBe(
      'module m.tvm was compiled for a kernel with CONFIG_BPF=y, and this kernel has CONFIG_BPF=(unset)',
    );
  });
});

describe('privilege', () => {
  it('names the missing capabilities in one sentence', () => {
    expect(missingPrivilege(0n)).toBe('running a script needs root or the CAP_BPF and CAP_PERFMON capabilities, and this process lacks CAP_BPF and CAP_PERFMON');
    expect(missingPrivilege(1n << 39n)).toMatch(/lacks CAP_PERFMON$/);
    expect(missingPrivilege((1n << 39n) | (1n << 38n))).toBeUndefined();
    expect(missingPrivilege(0x1ffffffffffn)).toBeUndefined();
  });
});
