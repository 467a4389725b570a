// The BTF reader (src/kernel/btf.ts) and the access planner (src/kernel/ktypes.ts) on a
// known synthetic BTF, then the reader against bpftool's view of this kernel's BTF.
import { describe, it, expect } from 'vitest';
import * as fs from 'fs';
import { execFileSync } from 'child_process';
import { Btf, BtfError, Kind, hostBtf } from '../../src/kernel/btf';
import { planAccess, lookupType, findMember, prototypeText, kernelTypeFact, AccessError, type AccessStep } from '../../src/kernel/ktypes';
import { sampleBtf } from './btf-builder';

const m = (name: string): AccessStep => ({ kind: 'member', name });
const ix = (literal?: bigint): AccessStep => ({ kind: 'index', literal });

describe('BTF reader', () => {
  const btf = new Btf(sampleBtf());

  it('reads every kind: ints, pointers, arrays, structs with bitfields, enums, typedefs, functions', () => {
    const task = btf.find('task', Kind.STRUCT)!;
    expect(btf.kind(task)).toBe(Kind.STRUCT);
    expect(btf.size(task)).toBe(48);
    expect(btf.members(task).map((x) => [x.name, x.bitOffset, x.bitSize])).toEqual([
      ['pid', 0, 0], ['comm', 32, 0], ['parent', 192, 0], ['', 256, 0], ['flag', 320, 1], ['mode', 321, 3], ['neg', 324, 4], ['st', 352, 0],
    ]);
    expect(btf.find('task', Kind.FWD)).toBe(5);
    expect(btf.int(btf.find('int', Kind.INT)!)).toEqual({ signed: true, char: false, bool: false, bits: 32, offset: 0 });
    expect(btf.int(btf.find('char', Kind.INT)!).char).toBe(true);
    expect(btf.typeName(btf.members(task)[0].type)).toBe('pid_t const');
    expect(btf.typeName(btf.members(task)[1].type)).toBe('char[]');
    expect(btf.typeName(btf.members(task)[2].type)).toBe('struct task*');
    expect(btf.size(btf.members(task)[1].type)).toBe(16);
    expect(btf.enumValues(btf.find('state', Kind.ENUM)!)).toEqual([{ name: 'RUNNING', value: 0n }, { name: 'SLEEPING', value: 1n }]);
    expect(btf.enumValues(btf.find('big', Kind.ENUM64)!)).toEqual([{ name: 'HUGE', value: 1n << 40n }]);
    const f = btf.find('do_task', Kind.FUNC)!;
    expect(prototypeText(btf, f)).toBe('long int do_task(struct task* t, char* buf, size_t n)');
    expect(btf.idsOf(Kind.FUNC).map((id) => btf.name(id))).toEqual(['do_task']);
    expect(btf.byName('nothing')).toEqual([]);
  });

  it('refuses data that is not BTF', () => {
    expect(() => new Btf(Buffer.alloc(10))).toThrow(BtfError);
    expect(() => new Btf(Buffer.alloc(64, 1))).toThrow(/bad BTF magic/);
  });

  it('finds members inside anonymous unions, as stap does', () => {
    const task = btf.find('task', Kind.STRUCT)!;
    expect(findMember(btf, task, 'b')).toEqual({ bitOffset: 256, bitSize: 0, type: 1 });
    expect(findMember(btf, task, 'zz')).toBeUndefined();
  });
});

describe('access plans', () => {
  const btf = new Btf(sampleBtf());
  const task = lookupType(btf, 'struct task')!;

  it('compiles members, pointers, arrays, bitfields and addresses to adds and loads', () => {
    expect(planAccess(btf, task, true, [m('pid')], false).ops).toEqual([{ op: 'load', size: 4, signed: true }]);
    expect(planAccess(btf, task, true, [m('parent'), m('pid')], false).ops).toEqual([
      { op: 'add', k: 24 },
      { op: 'load', size: 8, signed: false },
      { op: 'load', size: 4, signed: true },
    ]);
    // a char array gives its address (kernel_string reads it), an element its value
    expect(planAccess(btf, task, true, [m('comm')], false).ops).toEqual([{ op: 'add', k: 4 }]);
    expect(planAccess(btf, task, true, [m('comm'), ix(2n)], false).ops).toEqual([
      { op: 'add', k: 4 },
      { op: 'index', step: 1, scale: 1 },
      { op: 'load', size: 1, signed: true },
    ]);
    expect(planAccess(btf, task, true, [m('b')], false).ops).toEqual([{ op: 'add', k: 32 }, { op: 'load', size: 4, signed: true }]);
    expect(planAccess(btf, task, true, [m('mode')], false).ops).toEqual([
      { op: 'add', k: 40 },
      { op: 'load', size: 1, signed: false },
      { op: 'bits', shift: 1, bits: 3, signed: false },
    ]);
    expect(planAccess(btf, task, true, [m('neg')], false).ops.at(-1)).toEqual({ op: 'bits', shift: 4, bits: 4, signed: true });
    expect(planAccess(btf, task, true, [m('st')], false).ops).toEqual([{ op: 'add', k: 44 }, { op: 'load', size: 4, signed: false }]);
    expect(planAccess(btf, task, true, [m('parent')], true).ops).toEqual([{ op: 'add', k: 24 }]);
    // a pointer value (a tracepoint field, a parameter): the first step loads through it
    expect(planAccess(btf, { ptr: task }, false, [m('pid')], false).ops).toEqual([{ op: 'load', size: 4, signed: true }]);
    expect(planAccess(btf, { ptr: task }, false, [ix(), m('pid')], false).ops).toEqual([
      { op: 'index', step: 0, scale: 48 },
      { op: 'load', size: 4, signed: true },
    ]);
  });

  it("gives stap's errors", () => {
    const err = (path: AccessStep[], addr = false) => {
      try {
        planAccess(btf, task, true, path, addr);
      } catch (e) {
        expect(e).toBeInstanceOf(AccessError);
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(err([m('zz')])).toBe("unable to find member 'zz' for struct task (alternatives: pid comm parent a b flag mode neg st)");
    expect(err([])).toBe("'struct task' is being accessed instead of a member");
    expect(err([m('pid'), m('x')])).toBe("invalid access '->x' vs. int");
    expect(err([m('comm'), m('x')])).toBe("invalid access '->x' for array type");
    expect(err([ix(1n)])).toBe("invalid access '[1]' for struct task");
    expect(err([m('flag')], true)).toBe('cannot take address of bit-field');
    expect(lookupType(btf, 'nosuch')).toBeUndefined();
    expect(() => planAccess(btf, lookupType(btf, 'void*')!, false, [m('x')], false)).toThrow("invalid access '->x' vs 'void*'");
  });

  it('states facts a module can check against another kernel', () => {
    expect(kernelTypeFact(btf, 'member struct task->parent')).toBe('bit 192 struct task*');
    expect(kernelTypeFact(btf, 'member struct task->mode')).toBe('bit 321:3 unsigned int');
    expect(kernelTypeFact(btf, 'member struct task->nope')).toBeNull();
    expect(kernelTypeFact(btf, 'type task')).toBe('struct task size 48');
    expect(kernelTypeFact(btf, 'func do_task')).toBe('long int do_task(struct task* t, char* buf, size_t n)');
  });
});

const host = fs.existsSync('/sys/kernel/btf/vmlinux') ? describe : describe.skip;
host("this kernel's BTF", () => {
  it('agrees with bpftool on task_struct members and on a function prototype', () => {
    const btf = hostBtf()!;
    const raw = execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'raw'], { encoding: 'latin1', maxBuffer: 1 << 28 });
    const id = btf.find('task_struct', Kind.STRUCT)!;
    const start = raw.indexOf(`[${id}] STRUCT 'task_struct' size=${btf.size(id)} vlen=${btf.vlen(id)}`);
    expect(start).toBeGreaterThanOrEqual(0);
    for (const name of ['pid', 'tgid', 'comm', 'real_parent']) {
      const want = new RegExp(`\\n\\t'${name}' type_id=(\\d+) bits_offset=(\\d+)\\n`).exec(raw.slice(start, start + 200_000))!;
      const got = btf.members(id).find((x) => x.name === name)!;
      expect([got.type, got.bitOffset]).toEqual([Number(want[1]), Number(want[2])]);
    }
    const last = raw.trimEnd().split('\n').filter((l) => l.startsWith('[')).at(-1)!;
    expect(btf.count).toBe(Number(/^\[(\d+)\]/.exec(last)![1]) + 1);
    expect(prototypeText(btf, btf.find('vfs_read', Kind.FUNC)!)).toBe('ssize_t vfs_read(struct file* file, char* buf, size_t count, loff_t* pos)');
  });

  it('a name prefix indexed at once (the server warm-up\'s __bpf_trace_) gives what a scan per name gives', () => {
    const data = fs.readFileSync('/sys/kernel/btf/vmlinux');
    const scanned = new Btf(data);
    const indexed = new Btf(data);
    indexed.indexPrefix('__bpf_trace_');
    // bpftool's list of the prefix's names: all of them found, in the same ids
    const raw = execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'raw'], { encoding: 'latin1', maxBuffer: 1 << 28 });
    const names = [...new Set([...raw.matchAll(/^\[\d+\] \w+ '(__bpf_trace_\w+)'/gm)].map((x) => x[1]))];
    expect(names.length).toBeGreaterThan(100);
    for (const n of [...names.slice(0, 20), ...names.slice(-20)]) expect(indexed.byName(n), n).toEqual(scanned.byName(n));
    // a syscalls: event has no probe function, a sched: one does
    expect(indexed.byName('__bpf_trace_sys_enter_getppid')).toEqual(scanned.byName('__bpf_trace_sys_enter_getppid'));
    expect(indexed.find('__bpf_trace_sched_switch', Kind.FUNC)).toBe(scanned.find('__bpf_trace_sched_switch', Kind.FUNC));
    expect(indexed.find('__bpf_trace_sched_switch', Kind.FUNC)).toBeDefined();
    // names without the prefix are still scanned for
    expect(indexed.find('vfs_read', Kind.FUNC)).toBe(scanned.find('vfs_read', Kind.FUNC));
  });
});
