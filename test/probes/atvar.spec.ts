// @var("name") on a known BTF (test/kernel/btf-builder.ts) and a known kallsyms: the global's
// type from its BTF VAR, its address from kallsyms, read through the @cast access path; stap's
// error for a name neither knows, tapvm's sentence for what this kernel cannot give.
import { describe, it, expect, afterEach } from 'vitest';
import { setKallsyms } from '../../src/kernel/kallsyms';
import { BtfBuilder } from '../kernel/btf-builder';
import { btfCompiler } from './btf-compile';

/** struct task { int pid; char comm[16]; struct task *real_parent; }; a global, a per-CPU one */
function varBtf(): Buffer {
  const b = new BtfBuilder();
  const int = b.int('int', 4, true);
  const char = b.int('char', 1, true, true);
  const fwd = b.fwd('task_struct');
  const task = b.struct('task_struct', 32, [
    { name: 'pid', type: int, bitOffset: 0 },
    { name: 'comm', type: b.array(char, int, 16), bitOffset: 32 },
    { name: 'real_parent', type: b.ptr(fwd), bitOffset: 192 },
  ]);
  const ulong = b.int('long unsigned int', 8, false);
  const gTask = b.var('sample_task', task);
  const gCount = b.var('sample_count', b.volatile(ulong));
  const pcpu = b.var('pcpu_count', int);
  b.datasec('.data', 40, [[gTask, 0, 32], [gCount, 32, 8]]);
  b.datasec('.data..percpu', 4, [[pcpu, 0, 4]]);
  b.func('do_x', b.funcProto(int, []));
  return b.build();
}

const { compile, code, errors: diags } = btfCompiler(varBtf());
/** the diagnostics as `line:col message` */
const errors = (text: string) => diags(text, true);

const KALLSYMS = 'ffffffff81000000 T _stext\nffffffff82000040 D sample_task\nffffffff82000060 D sample_count\nffffffff82000100 D jiffies\n';

describe('@var on a kernel with data symbols and BTF VARs', () => {
  afterEach(() => setKallsyms(undefined));

  it('reads a global at its kallsyms address with its BTF type, through members and arrays', () => {
    setKallsyms(KALLSYMS);
    const c = code('probe kernel.function("do_x") { printf("%d %d %d\\n", @var("sample_count"), @var("sample_task@kernel/x.c")->pid, @var("sample_task", "kernel")->comm[2]) }');
    expect(c.slice(0, 3)).toEqual(['MOVI r1, -2113929120', 'KREAD r1, r1, +0:8', 'MOVI r2, -2113929152']);
    expect(c.filter((l) => l.startsWith('KREAD'))).toEqual(['KREAD r1, r1, +0:8', 'KREAD r2, r2, +0:4s', 'KREAD r3, r3, +0:1s']);
  });

  it('records the address and type as kernel facts (a module compiled on another boot refuses to run)', () => {
    setKallsyms(KALLSYMS);
    const { used } = compile('probe kernel.function("do_x") { println(@var("sample_task")->pid) }');
    expect(used.types).toEqual({
      'func do_x': 'int do_x()',
      'var sample_task': '0xffffffff82000040 struct task_struct',
      'member struct task_struct->pid': 'bit 0 int',
    });
  });

  it('gives stap\'s error for an unknown global, tapvm\'s for a per-CPU one and for a whole struct', () => {
    setKallsyms(KALLSYMS);
    expect(errors('probe kernel.function("do_x") {\n  println(@var("nosuch"))\n}')).toEqual(["2:11 unable to find global 'nosuch' in kernel"]);
    expect(errors('probe kernel.function("do_x") { println(@var("pcpu_count")) }')).toEqual(["1:41 unable to find global 'pcpu_count' in kernel: 'pcpu_count' is a per-CPU variable, which tapvm cannot read"]);
    expect(errors('probe kernel.function("do_x") { println(@var("sample_task")) }')).toEqual(["1:41 'struct task_struct' is being accessed instead of a member"]);
    expect(errors('probe begin { println(@var("sample_task")->pid) }')).toEqual(['1:23 @var("sample_task") reads kernel memory, which only kernel probes can do']);
    // a user-space module: its ELF symbols (stripped /bin/true has none)
    expect(errors('probe begin { println(@var("x", "/bin/true")) }')).toEqual(["1:23 unable to find global 'x' in /bin/true"]);
    expect(errors('probe begin { printf("%d %d\\n", @defined(@var("nosuch")), @defined(@var("sample_count"))) }')).toEqual([]);
  });

  it('without data symbols in kallsyms: jiffies through the kernel\'s counter, init_task through ->real_parent, one sentence otherwise', () => {
    setKallsyms('ffffffff81000000 T _stext\n');
    expect(code('probe begin { println(@var("jiffies") + @var("jiffies_64")) }').filter((l) => l.startsWith('CTX'))).toEqual(['CTX r1, jiffies', 'CTX r2, jiffies']);
    const walk = code('probe kernel.function("do_x") { println(@var("init_task")->pid) }');
    expect(walk.slice(0, 9)).toEqual([
      'CTX r1, task_current',
      'MOVI r4, 64',
      'ADDI r2, r1, 24',
      'KREAD r2, r2, +0:8',
      'EQ r3, r2, r1',
      expect.stringMatching(/^JNZ r3, \d+$/),
      'MOV r1, r2',
      'ADDI r4, r4, -1',
      expect.stringMatching(/^JNZ r4, \d+$/),
    ]);
    expect(errors('probe kernel.function("do_x") { println(@var("sample_count")) }')).toEqual([
      "1:41 unable to find global 'sample_count' in kernel: this kernel lists no address for 'sample_count' (/proc/kallsyms has no data symbols: CONFIG_KALLSYMS_ALL is off)",
    ]);
    expect(errors('probe kernel.function("do_x") { println(&@var("jiffies")) }')[0]).toMatch(/^1:41 unable to find global 'jiffies' in kernel: this kernel lists no address/);
  });
});
