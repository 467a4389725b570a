// A small BTF encoder for tests: builds the raw format (Documentation/bpf/btf.rst) that
// src/kernel/btf.ts reads, so the reader and the access planner are tested on known types.
export interface MemberSpec {
  name: string;
  type: number;
  bitOffset: number;
  bitSize?: number;
}

export class BtfBuilder {
  private strs: Buffer[] = [Buffer.from([0])];
  private strLen = 1;
  private types: Buffer[] = [];

  str(s: string): number {
    if (!s) return 0;
    const off = this.strLen;
    const b = Buffer.from(s + '\0', 'latin1');
    this.strs.push(b);
    this.strLen += b.length;
    return off;
  }

  private add(name: string, kind: number, vlen: number, kflag: boolean, sizeOrType: number, extra: number[]): number {
    const b = Buffer.alloc(12 + 4 * extra.length);
    b.writeUInt32LE(this.str(name), 0);
    b.writeUInt32LE((((kflag ? 1 : 0) << 31) | (kind << 24) | vlen) >>> 0, 4);
    b.writeUInt32LE(sizeOrType, 8);
    extra.forEach((w, i) => b.writeUInt32LE(w >>> 0, 12 + 4 * i));
    this.types.push(b);
    return this.types.length;
  }

  int(name: string, size: number, signed: boolean, char = false): number {
    return this.add(name, 1, 0, false, size, [((signed ? 1 : 0) | (char ? 2 : 0)) << 24 | (size * 8)]);
  }
  ptr(to: number): number {
    return this.add('', 2, 0, false, to, []);
  }
  array(elem: number, index: number, n: number): number {
    return this.add('', 3, 0, false, 0, [elem, index, n]);
  }
  struct(name: string, size: number, members: MemberSpec[], union = false): number {
    const bitfields = members.some((m) => m.bitSize);
    const extra = members.flatMap((m) => [this.str(m.name), m.type, bitfields ? ((m.bitSize ?? 0) << 24) | m.bitOffset : m.bitOffset]);
    return this.add(name, union ? 5 : 4, members.length, bitfields, size, extra);
  }
  enum(name: string, size: number, values: [string, number][], signed = false): number {
    return this.add(name, 6, values.length, signed, size, values.flatMap(([n, v]) => [this.str(n), v]));
  }
  enum64(name: string, values: [string, bigint][]): number {
    return this.add(name, 19, values.length, false, 8, values.flatMap(([n, v]) => [this.str(n), Number(v & 0xffffffffn), Number(v >> 32n)]));
  }
  fwd(name: string): number {
    return this.add(name, 7, 0, false, 0, []);
  }
  typedef(name: string, to: number): number {
    return this.add(name, 8, 0, false, to, []);
  }
  volatile(to: number): number {
    return this.add('', 9, 0, false, to, []);
  }
  const(to: number): number {
    return this.add('', 10, 0, false, to, []);
  }
  funcProto(ret: number, params: [string, number][]): number {
    return this.add('', 13, params.length, false, ret, params.flatMap(([n, t]) => [this.str(n), t]));
  }
  func(name: string, proto: number): number {
    return this.add(name, 12, 1, false, proto, []);
  }

  /** a global variable (linkage 1: global) */
  var(name: string, type: number): number {
    return this.add(name, 14, 0, false, type, [1]);
  }
  datasec(name: string, size: number, vars: [number, number, number][]): number {
    return this.add(name, 15, vars.length, false, size, vars.flat());
  }

  build(): Buffer {
    const types = Buffer.concat(this.types);
    const strs = Buffer.concat(this.strs);
    const hdr = Buffer.alloc(24);
    hdr.writeUInt16LE(0xeb9f, 0);
    hdr.writeUInt8(1, 2);
    hdr.writeUInt32LE(24, 4);
    hdr.writeUInt32LE(0, 8);
    hdr.writeUInt32LE(types.length, 12);
    hdr.writeUInt32LE(types.length, 16);
    hdr.writeUInt32LE(strs.length, 20);
    return Buffer.concat([hdr, types, strs]);
  }
}

/** A kernel-like set of types: struct task with an anonymous union, bitfields, a char array, a parent pointer. */
export function sampleBtf(parentBit = 192): Buffer {
  const b = new BtfBuilder();
  const int = b.int('int', 4, true); // 1
  const uint = b.int('unsigned int', 4, false); // 2
  const long = b.int('long int', 8, true); // 3
  const char = b.int('char', 1, true, true); // 4
  const fwdTask = b.fwd('task'); // 5
  const pTask = b.ptr(fwdTask); // 6
  const comm = b.array(char, int, 16); // 7
  const pid = b.typedef('pid_t', int); // 8
  const anon = b.struct('', 8, [{ name: 'a', type: long, bitOffset: 0 }, { name: 'b', type: int, bitOffset: 0 }], true); // 9
  const state = b.enum('state', 4, [['RUNNING', 0], ['SLEEPING', 1]]); // 10
  const cpid = b.const(pid); // 11
  const task = b.struct('task', 48, [
    { name: 'pid', type: cpid, bitOffset: 0 },
    { name: 'comm', type: comm, bitOffset: 32 },
    { name: 'parent', type: pTask, bitOffset: parentBit },
    { name: '', type: anon, bitOffset: 256 },
    { name: 'flag', type: uint, bitOffset: 320, bitSize: 1 },
    { name: 'mode', type: uint, bitOffset: 321, bitSize: 3 },
    { name: 'neg', type: int, bitOffset: 324, bitSize: 4 },
    { name: 'st', type: state, bitOffset: 352 },
  ]); // 12
  const pvoid = b.ptr(0); // 13
  const ptask2 = b.ptr(task); // 14
  const proto = b.funcProto(long, [['t', ptask2], ['buf', b.ptr(char)], ['n', b.typedef('size_t', b.int('long unsigned int', 8, false))]]);
  b.func('do_task', proto);
  b.enum64('big', [['HUGE', 1n << 40n]]);
  b.volatile(pvoid);
  return b.build();
}
