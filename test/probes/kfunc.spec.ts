// kernel.function's compile path on a known BTF (test/kernel/btf-builder.ts): prototype ->
// parameters in pt_regs registers -> bytecode, `$param->field` through BTF, `$return`, -L
// types, optional points skipped where the kernel cannot arm them, and the facts a module keeps.
import * as fs from 'fs';
import { describe, it, expect } from 'vitest';
import { formatListing, listingScript } from '../../src/cli/listing';
import { sampleBtf } from '../kernel/btf-builder';
import { btfCompiler } from './btf-compile';

const { compile, code, errors } = btfCompiler(sampleBtf());

describe('kernel.function compile path', () => {
  it('reads parameters from the argument registers with their widths, and follows pointers through BTF', () => {
    // do_task(struct task* t, char* buf, size_t n): rdi, rsi, rdx
    expect(code('probe kernel.function("do_task") { printf("%d %d %d %d\\n", $t, $n, $t->pid, $t->parent->comm[1]) }')).toEqual([
      'TPLD r1, +112:8',
      'TPLD r2, +96:8',
      'TPLD r3, +112:8',
      'KREAD r3, r3, +0:4s',
      'TPLD r4, +112:8',
      'ADDI r4, r4, 24',
      'KREAD r4, r4, +0:8',
      'ADDI r4, r4, 4',
      'MOVI r5, 1',
      'MOVI r6, 1',
      'MUL r6, r5, r6',
      'ADD r4, r4, r6',
      'KREAD r4, r4, +0:1s',
      'OBEGIN "%d %d %d %d\\n"',
      'OINT r1',
      'OINT r2',
      'OINT r3',
      'OINT r4',
      'OEND',
      'ACT 1',
      'HALT',
    ]);
  });

  it('$return in rax on .return, with the return type\'s sign', () => {
    expect(code('probe kernel.function("do_task").return { println($return) }')).toEqual(['TPLD r1, +80:8s', 'OBEGIN "%d\\n"', 'OINT r1', 'OEND', 'ACT 1', 'HALT']);
    expect(errors('probe kernel.function("do_task").return { println($nosuch) }')[0]).toBe(
      "unable to find context variable '$nosuch' in kernel.function(\"do_task\").return (alternatives: $return)",
    );
    // a parameter is its value at entry, as stap's: saved by a synthesized entry probe (@entry)
    expect(errors('probe kernel.function("do_task").return { println($t) }')).toEqual([]);
  });

  it('$$parms prints every parameter as stap does', () => {
    const c = code('probe kernel.function("do_task") { print($$parms) }');
    expect(c.filter((l) => l.startsWith('SCONST'))).toEqual(['SCONST s2, "t="', 'SCONST s2, " buf="', 'SCONST s2, " n="']);
  });

  it("gives stap's errors for unknown functions, members and types", () => {
    expect(errors('probe kernel.function("nosuch") { }')).toEqual(['no match for probe point kernel.function("nosuch"): this kernel\'s BTF has no function nosuch']);
    expect(errors('probe kernel.function("do_task") { println($t->zz) }')).toEqual([
      "unable to find member 'zz' for struct task (alternatives: pid comm parent a b flag mode neg st)",
    ]);
    expect(errors('probe kernel.function("do_*") { println(@cast($t, "nosuch")->x) }')).toEqual(["type definition 'nosuch' not found in 'kernel'"]);
  });

  it('compiles where it cannot attach, and drops the point when it is optional', () => {
    const r = compile('probe kernel.function("do_task") { }', 2).result.resolved!;
    expect(r.probes.map((p) => [p.point.pp, p.point.attach])).toEqual([['kernel.function("do_task")', { family: 'kprobe', func: 'do_task', retprobe: false }]]);
    expect(r.probes[0].point.unattachable).toMatch(/^cannot attach kernel\.function\("do_task"\): this kernel has no kprobes/);
    expect(compile('probe kernel.function("do_task").call { }', 2).result.resolved!.probes[0].point.pp).toBe('kernel.function("do_task").call');
    const opt = compile('probe kernel.function("do_task")?, begin { }', 2).result.resolved!;
    expect(opt.probes.map((p) => p.point.pp)).toEqual(['begin']);
  });

  it('module("M").function("F"): no match with the reason when the module is absent, skipped when optional, a mismatch after module("M")', () => {
    // the host's /proc/modules decides which reason (the test machine's kernel has no module support)
    const reason = fs.existsSync('/proc/modules')
      ? 'no module "tapvm_no_such_mod" is loaded'
      : 'this kernel was built without loadable module support (no /proc/modules), so it has no module "tapvm_no_such_mod"';
    expect(errors('probe module("tapvm_no_such_mod").function("f") { }')).toEqual([`no match for probe point module("tapvm_no_such_mod").function("f"): ${reason}`]);
    expect(compile('probe module("tapvm_no_such_mod").function("f").return?, begin { }', 2).result.resolved!.probes.map((p) => p.point.pp)).toEqual(['begin']);
    expect(errors('probe module("tapvm_no_such_mod").foo { }')).toEqual(["while resolving probe point: identifier 'module'", 'probe point mismatch']);
  });

  it('-L lists parameters with stap-spelled types', () => {
    const r = compile(listingScript(['kernel.function("do_*")', 'kernel.function("do_task").return']), 2).result.resolved!;
    expect(formatListing(r, true)).toBe('kernel.function("do_task") $buf:char* $n:size_t $t:struct task*\nkernel.function("do_task").return $return:long int\n');
  });

  it('records the prototype and members as facts for a module', () => {
    const { used } = compile('probe kernel.function("do_task") { println($t->pid) }');
    expect(used.types).toEqual({
      'func do_task': 'long int do_task(struct task* t, char* buf, size_t n)',
      'member struct task->pid': 'bit 0 pid_t const',
    });
  });
});
