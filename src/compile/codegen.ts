// Lowers the resolved program to bytecode: one handler per probe point, one body per script
// function, registers allocated per frame, and the data area (pp() table, string constants).
import type * as A from '../parse/ast';
import { Op, LIMITS, ARRAY_CLASSES, SCMP, CTX } from '../isa/opcodes';
import type { ProgramImage, ScalarType, GlobalInfo, ArrayInfo, ProbeInfo, SourceEntry, FormatRef, Insn } from '../image/image';
import { encode, DEFAULT_MAXNESTING } from '../image/image';
import { diagnostic, DiagnosticError, type Diagnostic } from '../diag/diagnostic';
import { isArray, findFunction, type ResolvedProgram, type LocalSym, type ResolvedProbe, type FunctionSym } from '../resolve/resolve';
import { findBuiltin, type BuiltinEmitter } from '../resolve/builtins';
import { keyWidths } from '../resolve/widths';
import { writtenNotRead } from '../resolve/reads';
import { parseFormat, type Conversion } from '../output/format';
import { textUse } from './syscall-text';
import { SPECIAL, HEX_RETURN, ADDRESS_ARGS, DIRFD_ARGS, KERNEL_ARGSTR, FLAG_TABLES, O_CREAT_TMPFILE } from '../probes/syscall-format';
import { encodeConversion } from '../isa/sprintf';
import { AGG, HIST, STAT_DESC_SIZE, encodeStatDesc, histBuckets, type StatDesc } from '../vm/stats';
import type { GlobalSym } from '../resolve/resolve';

/** ITSORT's imm: a statistics array's aggregate, shifted */
const ITSORT_AGG_SHIFT = 9;
/** ITSORT's imm for the kernel (vm/iter.h): an index column's byte offset in the key, shifted */
const ITSORT_OFF_SHIFT = 12;
/** ITSORT's imm: the index column is a string */
const ITSORT_STR = 0x200000;
/** ITSORT's imm: a string index column's width (NUL included, at most MAXSTRINGLEN), shifted */
const ITSORT_WIDTH_SHIFT = 22;

/** How a statistic accumulates, from what its uses asked for (resolve's StatUse). */
function statDesc(g: GlobalSym): StatDesc {
  const u = g.stat!;
  const d: StatDesc = { hist: HIST.NONE, variance: u.variance === true, shift: u.shift ?? 0, start: 0, interval: 0, buckets: 0 };
  if (u.hist?.op === 'hist_log') d.hist = HIST.LOG;
  else if (u.hist?.op === 'hist_linear') {
    const [start, , interval] = u.hist.params;
    d.hist = HIST.LINEAR;
    d.start = Number(start);
    d.interval = Number(interval);
  }
  if (u.hist) d.buckets = Number(histBuckets(u.hist.op, u.hist.params));
  return d;
}
import { ERROR_MESSAGES, ERROR_TABLE_CODES, ERRNO_NAMES } from '../isa/errors';
import type { Guard } from '../probes/provider';
import type { TapsetInit } from '../probes/provider';
import { syscallCatalog, syscallArgs, isUserString, NR_FIELD, RET_FIELD, type SyscallDesc } from '../kernel/syscalls';
import { argInfo, u16Table, dispatchTables } from './syscall-tables';
import { optimize } from './optimize';
import { DEFAULT_MAXSTRINGLEN, arrayClass, classSizes, keyMax, slotSize } from '../isa/strlen';
import { compileEre, dfaTable, RegexError } from '../regex/ere';
import { compileTdfa, tdfaTable } from '../regex/tdfa';
import { REGEX_TAG_BUILTINS } from '../resolve/builtins';
import { castAccess, tvarAccess, varAccess, INIT_TASK_STEPS, type KernelAccess, type VarAccess } from '../resolve/kaccess';

/** the kernel's entry point of a system call (x86_64 since 4.17), what stap's probefunc() shows */
const SYSCALL_FUNC_PREFIX = '__x64_sys_';

/** Registers a frame may use: CALL refuses a frame base above NREGS-64 (vm/tapvm.bpf.c). */
/**
 * Where each index of an array key sits, and the key's size. Long indices come first, then
 * strings: a key offset is one byte (the VMs mask imm & 255), so a long after two strings
 * (offset 256) would wrap onto the first string. This way a key that fits KEYMAX has every
 * long below 256 and every string at most at 144. Used by script arrays and statistics alike.
 */
function keyLayout(keyTypes: ScalarType[], widths: number[]): { keyOffsets: number[]; size: number } {
  const keyOffsets: number[] = keyTypes.map(() => 0);
  let size = 0;
  for (const kind of ['long', 'string'] as const)
    keyTypes.forEach((t, i) => {
      if (t !== kind) return;
      keyOffsets[i] = size;
      size += widths[i];
    });
  return { keyOffsets, size };
}

/** Instructions that make a new string (not a part or a copy of one): what -D MAXSTRINGLEN cuts.
 * SCARGS/SCRET are left whole: user space expands their encoding (and cuts nothing). */
const MAKES_STRING = new Set<Op>([Op.SCAT, Op.SFMT, Op.SFMTS, Op.STRREPL, Op.TEXTSTR, Op.USTR, Op.USTRN, Op.KSTR, Op.TPSTR, Op.CATCH, Op.SYMNAME, Op.CTXS]);
/** ... and those whose strings are at most 31 bytes (comm, ctime, errno and system call names) */
const MAKES_SHORT_STRING = new Set<Op>([Op.CTIME, Op.ERRNOSTR, Op.SCNAME]);

const FRAME_REGS = 64;
const FRAME_STRS = 8;
const HANDLER_STRS = LIMITS.NSTRS - FRAME_STRS;

/** A value in a register (long) or a string slot (string). */
interface Val {
  type: ScalarType;
  n: number;
}

interface Frame {
  locals: Map<string, Val>;
  nextReg: number;
  nextStr: number;
  maxRegs: number;
  maxStrs: number;
  loops: Loop[];
  /** error handlers (TRY) this frame has pending at the current point */
  tries: number;
  isFunction: boolean;
  retType: ScalarType | 'void';
}

interface Loop {
  breaks: number[];
  continues: number[];
  /** the frame's pending handlers at the loop: break/continue pop the ones above */
  tries: number;
}

const ARITH: Record<string, Op> = {
  '+': Op.ADD, '-': Op.SUB, '*': Op.MUL, '/': Op.DIV, '%': Op.MOD,
  '<<': Op.SHL, '>>': Op.SHR, '&': Op.AND, '|': Op.OR, '^': Op.XOR,
};
const CMP: Record<string, Op> = { '==': Op.EQ, '!=': Op.NE, '<': Op.LT, '<=': Op.LE, '>': Op.GT, '>=': Op.GE };
/** ITSORT's imm: the column (0 = the value, n = index n) | this bit for descending */
const ITSORT_DESC = 0x100;
const SCMP_OF: Record<string, number> = { '==': SCMP.EQ, '!=': SCMP.NE, '<': SCMP.LT, '<=': SCMP.LE, '>': SCMP.GT, '>=': SCMP.GE };

class CodeGen {
  code: Insn[] = [];
  sourceMap: (SourceEntry | undefined)[] = [];
  diags: Diagnostic[] = [];
  formats: FormatRef[] = [];
  private formatIds = new Map<string, number>();
  private strings = new Map<string, number>();
  /** slice masks already in the data area, by content */
  private masks = new Map<string, number>();
  private dataBytes: number[] = Array(LIMITS.NPROBES * 4).fill(0);
  globals = new Map<string, GlobalInfo>();
  arrays = new Map<string, ArrayInfo>();
  functionPcs = new Map<string, number>();
  /** the function being compiled (for `next` in an overload chain) */
  private curFn: FunctionSym | undefined;
  private callFixups: { pc: number; name: string }[] = [];
  private here: SourceEntry | undefined;
  /** data offset of CATCH's message table, once a catch (var) needs it */
  private errorTableOff: number | undefined;
  private errnoTableOff: number | undefined;
  private f!: Frame;
  private probe: ResolvedProbe | undefined;
  /** statements counted but not yet charged by an ACT (stap's action_counter) */
  private actions = 0;
  /**
   * MAXNESTING when calls may nest deeper than it (recursion, or a deeper call graph): every
   * function then takes a hidden depth argument after its parameters, checked at each call.
   */
  nesting: number | undefined;
  /** the hidden depth argument of the function being compiled */
  private depthReg = 0;

  /** -D MAXSTRINGLEN (N): literals are cut at N-1 bytes, key widths are at most N */
  readonly maxStr: number;
  /** the interpreter's string slot size for N (128 or 512) and its KEYMAX */
  private readonly slot: number;
  /** the script reads subexpressions: every =~ runs a tagged DFA (RETMATCH), else the plain one */
  private readonly tagged: boolean;

  constructor(
    private prog: ResolvedProgram,
    maxStr: number = DEFAULT_MAXSTRINGLEN,
  ) {
    this.tagged = callsAny(prog.script, REGEX_TAG_BUILTINS);
    let nums = 0;
    let strs = 0;
    let ids = 0;
    this.maxStr = maxStr;
    this.slot = slotSize(maxStr);
    const wide = this.slot !== LIMITS.MAXSTRINGLEN;
    const keymax = keyMax(this.slot);
    const widths = keyWidths(prog, maxStr);
    for (const g of prog.globals.values()) {
      if (g.stat || g.keyTypes) {
        // a statistic, scalar or array: an element of a per-CPU hash map (a scalar's key is 0);
        // an array: class = 2 * (smallest key size class that fits) + (1 for string values)
        const keyTypes = (g.keyTypes ?? []) as ScalarType[];
        const keyWidths = g.keyTypes ? widths.get(g.name)! : [];
        const { keyOffsets, size } = keyLayout(keyTypes, keyWidths);
        const fits = (i: number) => classSizes(i, this.slot).keySize >= size;
        let cls: number;
        if (g.stat) cls = ARRAY_CLASSES.findIndex((c, i) => (c as { stat?: boolean }).stat === true && fits(i));
        else {
          const sizeClass = ARRAY_CLASSES.findIndex((c, i) => i % 2 === 0 && fits(i));
          cls = sizeClass < 0 ? -1 : sizeClass + (g.type === 'string' ? 1 : 0);
        }
        if (cls < 0) this.error(`array '${g.name}' has too many or too wide indices (${size} bytes; at most ${keymax})`, g.decl.loc);
        this.arrays.set(g.name, {
          name: g.name,
          id: ids++,
          cls: Math.max(cls, 0),
          keyTypes,
          keyOffsets,
          keyWidths,
          valueType: g.stat ? 'long' : g.type!,
          maxEntries: g.maxEntries ?? LIMITS.MAXMAPENTRIES,
          ...(g.stat ? { stat: statDesc(g) } : {}),
          ...(wide ? { wide } : {}),
        });
      } else if (isArray(g)) {
        // declared `global a[N]` but never indexed: no key types, nothing to create (stap
        // elides an unused global); `delete a` of it compiles to nothing
      } else {
        const slot = g.type === 'string' ? strs++ : nums++;
        const init = g.decl.init?.value;
        this.globals.set(g.name, { name: g.name, type: g.type!, slot, init });
      }
    }
    // wrap-around arrays: an order array (same key layout, long values) and a creation counter
    for (const arr of [...this.arrays.values()]) {
      if (!prog.globals.get(arr.name)?.decl.wrap) continue;
      const order = ids++;
      const seq = nums++;
      const sizeClass = arr.stat ? ARRAY_CLASSES.findIndex((c) => c.keySize === ARRAY_CLASSES[arr.cls].keySize) : arr.cls & ~1;
      // '.' cannot be in a script identifier, and BPF map names allow it
      this.arrays.set(`${arr.name}.order`, { ...arr, name: `${arr.name}.order`, id: order, cls: sizeClass, valueType: 'long', stat: undefined });
      this.globals.set(`${arr.name}.seq`, { name: `${arr.name}.seq`, type: 'long', slot: seq });
      arr.wrap = { order, seq };
    }
    if (nums > LIMITS.NGLOBALS || strs > LIMITS.NGSTRS || ids > 64) this.error('too many globals for one session', prog.script.loc);
    // the stat descriptors (struct stat_desc by array id) follow the pp() table, before any string
    const stats = [...this.arrays.values()].filter((a) => a.stat);
    if (stats.length) {
      const table: number[] = Array(64 * STAT_DESC_SIZE).fill(0);
      for (const a of stats) table.splice((a.id & 63) * STAT_DESC_SIZE, STAT_DESC_SIZE, ...encodeStatDesc(a.stat!));
      this.dataBytes.push(...table);
    }
  }

  error(msg: string, loc?: A.Loc) {
    this.diags.push(diagnostic('semantic error', msg, loc));
  }

  // ---- emission ----

  emit(op: Op, d = 0, a = 0, b = 0, imm = 0): number {
    this.code.push({ op, d, a, b, imm });
    this.sourceMap.push(this.here);
    const pc = this.code.length - 1;
    if (this.maxStr < this.slot && (MAKES_STRING.has(op) || (this.maxStr <= 32 && MAKES_SHORT_STRING.has(op)))) {
      // -D MAXSTRINGLEN=N below the interpreter's slot: cut the new string at N-1 bytes with
      // substr(s, 0, N-1), so every string is as long as stap's strlcpy into string_t leaves it
      // (no kernel change: a store after these instructions in the interpreter cost the
      // verifier ~130k processed instructions)
      const m = this.mark();
      const r = this.reg();
      this.reg();
      this.emit(Op.MOVI, r, 0, 0, 0);
      this.emit(Op.MOVI, r + 1, 0, 0, this.maxStr - 1);
      this.emit(Op.SUBSTR, d, d, r);
      this.release(m);
    }
    return pc;
  }

  private at<R>(loc: A.Loc, near: string, fn: () => R): R {
    const saved = this.here;
    // a generated function's errors name the construct it stands for (stap's is C)
    this.here = { loc, near: this.curFn?.decl.internal?.near ?? near };
    try {
      return fn();
    } finally {
      this.here = saved;
    }
  }

  patch(pc: number, target: number) {
    this.code[pc].imm = target;
  }

  get pc(): number {
    return this.code.length;
  }

  stringConst(s: string): number {
    let off = this.strings.get(s);
    if (off === undefined) {
      off = this.dataBytes.length;
      const bytes = Buffer.from(s, 'latin1').subarray(0, this.maxStr - 1);
      this.dataBytes.push(...bytes, 0);
      this.strings.set(s, off);
      if (this.dataBytes.length > LIMITS.DATA_BYTES) this.error('too many string constants for one session');
    }
    return off;
  }

  formatId(text: string, args: ScalarType[]): number {
    const key = JSON.stringify([text, args]);
    let id = this.formatIds.get(key);
    if (id === undefined) {
      id = this.formats.length;
      this.formats.push({ text, args });
      this.formatIds.set(key, id);
    }
    return id;
  }

  /** Appends bytes at an offset aligned to `align` (tables read as u16/u32 by the kernel). */
  allocData(bytes: number[], align: number): number {
    while (this.dataBytes.length % align) this.dataBytes.push(0);
    const off = this.dataBytes.length;
    this.dataBytes.push(...bytes);
    if (this.dataBytes.length > LIMITS.DATA_BYTES) this.error('too many string constants and system call tables for one session');
    return off;
  }

  private nameTableOff: number | undefined;
  private argTableOff: number | undefined;
  /** set when a handler builds argstr/retstr: user space expands them on output */
  syscallText = false;

  /** u16 per number: offset of the system call's name (every call: the table is shared). */
  private nameTable(): number {
    if (this.nameTableOff === undefined) {
      const names = new Map(syscallCatalog().map((s) => [s.nr, this.stringConst(s.name)]));
      this.nameTableOff = this.allocData(u16Table(names), 2);
    }
    return this.nameTableOff;
  }

  /** u16 per number: SCARGS's argument description (every number a syscall probe covers). */
  private argTable(): number {
    if (this.argTableOff === undefined) {
      const catalog = syscallCatalog();
      const info = new Map<number, number>();
      for (const nr of new Set(this.prog.probes.flatMap((p) => (p.point.attach.family === 'syscall' ? p.point.attach.nrs : []))))
        info.set(nr, argInfo(catalog.find((s) => s.nr === nr)!));
      this.argTableOff = this.allocData(u16Table(info), 2);
    }
    return this.argTableOff;
  }

  /** A tapset variable's value on entry (stap's alias prologue). */
  private tapsetInit(v: Val, init: TapsetInit) {
    const attach = this.probe!.point.attach;
    const nrs = attach.family === 'syscall' ? attach.nrs : [];
    const mark = this.mark();
    switch (init.kind) {
      case 'syscall_nr':
        this.emit(Op.TPLD, v.n, 0, NR_FIELD.size | 0x80, NR_FIELD.offset);
        break;
      case 'syscall_name': {
        const one = nrs.length === 1 ? syscallCatalog().find((s) => s.nr === nrs[0]) : undefined;
        if (one) {
          this.emit(Op.SCONST, v.n, 0, 0, this.stringConst(one.name));
          break;
        }
        const r = this.reg();
        this.emit(Op.TPLD, r, 0, NR_FIELD.size | 0x80, NR_FIELD.offset);
        this.emit(Op.SCNAME, v.n, r, 0, this.nameTable());
        break;
      }
      case 'argstr': {
        // printed only: the kernel's encoding, expanded by user space; else the text here
        const use = textUse(this.probe!.decl.body, 'argstr');
        const one = nrs.length === 1 ? syscallCatalog().find((s) => s.nr === nrs[0]) : undefined;
        if (use !== 'output' && one && (!SPECIAL[one.name] || KERNEL_ARGSTR[one.name])) {
          this.argstrText(v, one);
          break;
        }
        if (use === 'inspected')
          this.error(
            one
              ? `argstr of syscall.${one.name} can only be printed: its arguments need decoding (flags, modes) that tapvm does only in user space`
              : 'argstr can only be printed in a probe on several system calls: tapvm formats it in the kernel only for one system call at a time',
          );
        this.syscallText = true;
        this.emit(Op.SCARGS, v.n, 0, 0, this.argTable());
        break;
      }
      case 'retstr':
        if (textUse(this.probe!.decl.body, 'retstr') !== 'output') {
          this.retstrText(v, nrs);
          break;
        }
        this.syscallText = true;
        this.emit(Op.SCRET, v.n);
        break;
      case 'errno': {
        // -$return for -4095..-1 (the kernel's error range), else 0
        const ret = this.reg();
        const t = this.reg();
        const c = this.reg();
        this.emit(Op.TPLD, ret, 0, RET_FIELD.size | 0x80, RET_FIELD.offset);
        this.emit(Op.MOVI, t, 0, 0, 0);
        this.emit(Op.LT, c, ret, t);
        this.emit(Op.MOVI, t, 0, 0, -4096);
        this.emit(Op.GT, t, ret, t);
        this.emit(Op.AND, c, c, t);
        this.emit(Op.NEG, ret, ret);
        this.emit(Op.MUL, v.n, ret, c);
        break;
      }
      case 'arg': {
        const f = init.field;
        if (!init.quoted) {
          this.emit(Op.TPLD, v.n, 0, f.size | (f.signed ? 0x80 : 0), f.offset);
          break;
        }
        const p = this.reg();
        const q = this.str();
        this.emit(Op.TPLD, p, 0, 8, f.offset);
        this.emit(Op.SCLR, v.n);
        this.emit(Op.USTR, v.n, p, 1);
        this.emit(Op.SCONST, q, 0, 0, this.stringConst('"'));
        this.emit(Op.SCAT, v.n, q, v.n);
        this.emit(Op.SCAT, v.n, v.n, q);
        break;
      }
    }
    this.release(mark);
  }

  private conv(fmt: string): number {
    return encodeConversion(parseFormat(fmt).pieces.find((p) => typeof p !== 'string') as Conversion);
  }

  private appendText(d: number, text: string) {
    const m = this.mark();
    const t = this.str();
    this.emit(Op.SCONST, t, 0, 0, this.stringConst(text));
    this.emit(Op.SCAT, d, d, t);
    this.release(m);
  }

  /** retstr as stap's return_str formats it (src/probes/syscall-format.ts retstr), in the kernel. */
  private retstrText(v: Val, nrs: number[]) {
    const ret = this.reg();
    const t = this.reg();
    const c = this.reg();
    this.emit(Op.TPLD, ret, 0, RET_FIELD.size | 0x80, RET_FIELD.offset);
    this.emit(Op.SCLR, v.n);
    // -4095..-1: "-2 (ENOENT)"
    this.emit(Op.MOVI, t, 0, 0, 0);
    this.emit(Op.LT, c, ret, t);
    this.emit(Op.MOVI, t, 0, 0, -4096);
    this.emit(Op.GT, t, ret, t);
    this.emit(Op.AND, c, c, t);
    const jok = this.emit(Op.JZ, 0, c);
    this.emit(Op.SFMT, v.n, ret, 0, this.conv('%d'));
    this.appendText(v.n, ' (');
    const e = this.str();
    this.emit(Op.NEG, t, ret);
    this.emit(Op.ERRNOSTR, e, t, 0, this.errnoTable());
    this.emit(Op.SCAT, v.n, v.n, e);
    this.appendText(v.n, ')');
    const jend = [this.emit(Op.JMP)];
    this.patch(jok, this.pc);
    // addresses (mmap, brk, ...) in hex
    const hex = syscallCatalog().filter((s) => HEX_RETURN.has(s.name) && nrs.includes(s.nr));
    if (hex.length) {
      this.emit(Op.TPLD, t, 0, NR_FIELD.size | 0x80, NR_FIELD.offset);
      this.emit(Op.MOVI, c, 0, 0, 0);
      for (const h of hex) {
        const k = this.reg();
        this.emit(Op.MOVI, k, 0, 0, h.nr);
        this.emit(Op.EQ, k, t, k);
        this.emit(Op.OR, c, c, k);
      }
      const jdec = this.emit(Op.JZ, 0, c);
      this.appendText(v.n, '0x');
      this.emit(Op.SFMT, v.n, ret, 0, this.conv('%x'));
      jend.push(this.emit(Op.JMP));
      this.patch(jdec, this.pc);
    }
    this.emit(Op.SFMT, v.n, ret, 0, this.conv('%d'));
    for (const j of jend) this.patch(j, this.pc);
  }

  private flagTables = new Map<string, number>();

  /** FLAGSTR's table: u32 count, padding to 16, then {mask, value, name offset, 0} entries. */
  private flagTable(kind: keyof typeof FLAG_TABLES): number {
    let off = this.flagTables.get(kind);
    if (off === undefined) {
      const entries = FLAG_TABLES[kind];
      const u32 = (x: number) => [x & 0xff, (x >>> 8) & 0xff, (x >>> 16) & 0xff, (x >>> 24) & 0xff];
      const bytes = [...u32(entries.length), ...new Array(12).fill(0)];
      for (const [mask, value, name] of entries) bytes.push(...u32(Number(mask)), ...u32(Number(value)), ...u32(this.stringConst(name)), ...u32(0));
      off = this.allocData(bytes, 16);
      this.flagTables.set(kind, off);
    }
    return off;
  }

  /** argstr of one system call whose arguments need no decoding, as syscall-format.ts's generic
   * rule spells them: file names quoted, pointers and addresses in hex, AT_FDCWD by name, ints. */
  private argstrText(v: Val, sc: SyscallDesc) {
    const r = this.reg();
    const c = this.reg();
    this.emit(Op.SCLR, v.n);
    const kernel = KERNEL_ARGSTR[sc.name] ?? {};
    const args = syscallArgs(sc).slice(0, 6);
    args.forEach((f, i) => {
      const how = kernel[f.name];
      if (how === 'mode_if_creat') {
        // ", 0644" only with O_CREAT or O_TMPFILE in the flags
        const flags = args.find((a) => a.name === 'flags')!;
        this.emit(Op.TPLD, r, 0, 4, flags.offset);
        this.emit(Op.ANDI, r, r, 0, Number(O_CREAT_TMPFILE));
        const jno = this.emit(Op.JZ, 0, r);
        this.appendText(v.n, ', 0');
        this.emit(Op.TPLD, r, 0, 4, f.offset);
        this.emit(Op.SFMT, v.n, r, 0, this.conv('%o'));
        this.patch(jno, this.pc);
        return;
      }
      if (i) this.appendText(v.n, ', ');
      if (how === 'open' || how === 'prot' || how === 'mmap') {
        const m = this.mark();
        const t = this.str();
        this.emit(Op.TPLD, r, 0, 4, f.offset);
        this.emit(Op.FLAGSTR, t, r, 0, this.flagTable(how));
        this.emit(Op.SCAT, v.n, v.n, t);
        this.release(m);
      } else if (how === 'int32') {
        this.emit(Op.TPLD, r, 0, 4 | 0x80, f.offset);
        this.emit(Op.SFMT, v.n, r, 0, this.conv('%d'));
      } else if (isUserString(f.name, f.ctype)) {
        this.emit(Op.TPLD, r, 0, 8, f.offset);
        const jstr = this.emit(Op.JNZ, 0, r);
        this.appendText(v.n, 'NULL');
        const jend = this.emit(Op.JMP);
        this.patch(jstr, this.pc);
        const m = this.mark();
        const t = this.str();
        this.emit(Op.SCLR, t);
        this.emit(Op.USTR, t, r, 1);
        this.appendText(v.n, '"');
        this.emit(Op.SCAT, v.n, v.n, t);
        this.appendText(v.n, '"');
        this.release(m);
        this.patch(jend, this.pc);
      } else if (f.ctype.includes('*') || ADDRESS_ARGS.has(f.name)) {
        this.emit(Op.TPLD, r, 0, 8, f.offset);
        this.appendText(v.n, '0x');
        this.emit(Op.SFMT, v.n, r, 0, this.conv('%x'));
      } else if (DIRFD_ARGS.has(f.name)) {
        this.emit(Op.TPLD, r, 0, 4 | 0x80, f.offset);
        this.emit(Op.MOVI, c, 0, 0, -100);
        this.emit(Op.EQ, c, r, c);
        const jnum = this.emit(Op.JZ, 0, c);
        this.appendText(v.n, 'AT_FDCWD');
        const jend = this.emit(Op.JMP);
        this.patch(jnum, this.pc);
        this.emit(Op.SFMT, v.n, r, 0, this.conv('%d'));
        this.patch(jend, this.pc);
      } else {
        this.emit(Op.TPLD, r, 0, f.size | (f.signed ? 0x80 : 0), f.offset);
        this.emit(Op.SFMT, v.n, r, 0, this.conv(f.signed ? '%d' : '%u'));
      }
    });
  }

  data(probes: ProbeInfo[]): Uint8Array {
    for (const p of probes) {
      const off = this.stringConst(p.pp);
      const i = p.index * 4;
      this.dataBytes[i] = off & 0xff;
      this.dataBytes[i + 1] = (off >> 8) & 0xff;
      this.dataBytes[i + 2] = (off >> 16) & 0xff;
      this.dataBytes[i + 3] = (off >> 24) & 0xff;
    }
    return Uint8Array.from(this.dataBytes);
  }

  // ---- frames and registers ----

  private newFrame(isFunction: boolean, retType: ScalarType | 'void'): void {
    // r0 / s0 hold a function's return value; handlers keep them free too
    this.f = { locals: new Map(), nextReg: 1, nextStr: 1, maxRegs: 1, maxStrs: 1, loops: [], tries: 0, isFunction, retType };
  }

  private reg(): number {
    const r = this.f.nextReg++;
    this.f.maxRegs = Math.max(this.f.maxRegs, this.f.nextReg);
    if (this.f.nextReg > FRAME_REGS) throw this.tooComplex();
    return r;
  }

  private str(): number {
    const s = this.f.nextStr++;
    this.f.maxStrs = Math.max(this.f.maxStrs, this.f.nextStr);
    if (this.f.nextStr > (this.f.isFunction ? FRAME_STRS : HANDLER_STRS)) throw this.tooComplex();
    return s;
  }

  private tooComplex(): Error {
    return new DiagnosticError([diagnostic('semantic error', 'expression too complex: out of interpreter registers', this.here?.loc)]);
  }

  private temp(type: ScalarType): Val {
    return { type, n: type === 'long' ? this.reg() : this.str() };
  }

  private mark(): [number, number] {
    return [this.f.nextReg, this.f.nextStr];
  }

  private release([r, s]: [number, number]) {
    this.f.nextReg = r;
    this.f.nextStr = s;
  }

  private declareLocals(locals: Map<string, LocalSym>, params: A.Param[], depthArg = false) {
    // parameters sit right after r0/s0 in declaration order, split by type
    for (const p of params) {
      const l = locals.get(p.name)!;
      this.f.locals.set(p.name, this.temp(l.type!));
    }
    // then the hidden call depth, where the caller's CALL sequence puts it
    if (depthArg) this.depthReg = this.reg();
    for (const l of locals.values()) {
      if (l.param) continue;
      const v = this.temp(l.type!);
      this.f.locals.set(l.name, v);
      const tv = l.tapset ? this.probe?.point.tapsetVars?.get(l.name) : undefined;
      this.at(l.loc, `identifier '${l.name}'`, () => (tv ? this.tapsetInit(v, tv.init) : this.clear(v)));
    }
  }

  private clear(v: Val) {
    if (v.type === 'long') this.emit(Op.MOVI, v.n, 0, 0, 0);
    else this.emit(Op.SCLR, v.n);
  }

  private loadConst(d: number, value: bigint) {
    const v = BigInt.asIntN(64, value);
    const lo = Number(BigInt.asIntN(32, v));
    this.emit(Op.MOVI, d, 0, 0, lo);
    if (BigInt(lo) !== v) this.emit(Op.MOVHI, d, 0, 0, Number(BigInt.asIntN(32, v >> 32n)));
  }

  private move(dst: Val, src: Val) {
    if (dst.n === src.n) return;
    this.emit(dst.type === 'long' ? Op.MOV : Op.SMOV, dst.n, src.n);
  }

  // ---- handlers and functions ----

  compileProbe(p: ResolvedProbe): number {
    this.probe = p;
    this.curFn = undefined;
    this.newFrame(false, 'void');
    const entry = this.pc;
    this.actions = 0;
    this.at(p.decl.loc, `probe ${p.point.pp}`, () => {
      this.declareLocals(p.locals, []);
      const fails = (p.point.guards ?? []).map((g) => this.guard(g));
      this.stmt(p.decl.body);
      this.recordActions(0, true, p.decl.body);
      const end = this.emit(Op.HALT);
      for (const f of fails) this.patch(f, end);
    });
    return entry;
  }

  /** A probe point's guard: the value must equal the constant (or the other context value); returns the JZ to patch. */
  private guard(g: Guard): number {
    const m = this.mark();
    const v = this.reg();
    if ('ctx' in g) this.emit(Op.CTX, v, 0, 0, g.ctx);
    else this.emit(Op.TPLD, v, 0, g.field.size | (g.field.signed ? 0x80 : 0), g.field.offset);
    const c = this.reg();
    if ('sameAs' in g) this.emit(Op.CTX, c, 0, 0, g.sameAs);
    else this.loadConst(c, g.equals);
    this.emit(Op.EQ, v, v, c);
    const jz = this.emit(Op.JZ, 0, v, 0, 0);
    this.release(m);
    return jz;
  }

  compileFunction(fn: FunctionSym) {
    this.probe = undefined;
    this.newFrame(true, fn.ret === 'void' || fn.ret === undefined ? 'void' : fn.ret);
    this.functionPcs.set(fn.key, this.pc);
    this.curFn = fn;
    this.actions = 0;
    this.at(fn.decl.loc, `function '${fn.decl.name}'`, () => {
      this.declareLocals(fn.locals, fn.decl.params, this.nesting !== undefined);
      this.stmt(fn.decl.body);
      this.recordActions(0, true, fn.decl.body);
      if (this.f.retType === 'long') this.emit(Op.MOVI, 0, 0, 0, 0);
      else if (this.f.retType === 'string') this.emit(Op.SCLR, 0);
      this.emit(Op.RET);
    });
  }

  /**
   * stap's check on function entry, made before the CALL (the interpreters' own frame limit
   * would otherwise stop the call first, at the call site): deeper than MAXNESTING is an error
   * at the function's name, as stap reports it.
   */
  private depthCheck(fn: FunctionSym, depth: number, limit: number) {
    this.at(fn.decl.nameLoc ?? fn.decl.loc, `identifier '${fn.decl.name}'`, () => {
      const m = this.mark();
      const t = this.reg();
      this.emit(Op.MOVI, t, 0, 0, limit);
      this.emit(Op.GT, t, depth, t);
      const ok = this.emit(Op.JZ, 0, t);
      const msg = this.str();
      this.emit(Op.SCONST, msg, 0, 0, this.stringConst('MAXNESTING exceeded'));
      this.emit(Op.ERROR, 0, msg);
      this.patch(ok, this.pc);
      this.release(m);
    });
  }

  fixCalls() {
    for (const { pc, name } of this.callFixups) this.patch(pc, this.functionPcs.get(name)!);
  }

  // ---- statements ----

  /**
   * MAXACTION as stap counts it (translate.cxx record_actions): statements are counted at
   * compile time in stap's order and charged by an ACT at the end of each basic block
   * (update) or once 10 are pending, so the hot path counts nothing per instruction.
   */
  private recordActions(n: number, update: boolean, tok: A.Stmt) {
    // a generated function stands for stap's C, which charges no statements
    if (this.curFn?.decl.internal) return;
    this.actions += n;
    if ((update && this.actions > 0) || this.actions >= 10) {
      // the error names the statement's first token, as stap's c->last_stmt does
      this.at(tok.loc, stmtNear(tok), () => this.emit(Op.ACT, 0, 0, 0, this.actions));
      this.actions = 0;
    }
  }

  private stmt(s: A.Stmt): void {
    const m = this.mark();
    this.at(s.loc, s.kind, () => this.stmtInner(s));
    this.release(m);
  }

  private stmtInner(s: A.Stmt): void {
    switch (s.kind) {
      case 'block':
        for (const x of s.stmts) this.stmt(x);
        return;
      case 'exprstmt':
        this.expr(s.expr, true);
        this.recordActions(1, false, s);
        return;
      case 'if': {
        this.recordActions(1, true, s);
        const c = this.expr(s.cond)!;
        const jz = this.emit(Op.JZ, 0, c.n);
        this.stmt(s.then);
        this.recordActions(0, true, s.then);
        if (s.else) {
          const jend = this.emit(Op.JMP);
          this.patch(jz, this.pc);
          this.stmt(s.else);
          this.recordActions(0, true, s.else);
          this.patch(jend, this.pc);
        } else this.patch(jz, this.pc);
        return;
      }
      case 'while': {
        // stap's while is a for loop without init and step
        this.recordActions(1, true, s);
        const top = this.pc;
        this.recordActions(1, false, s);
        const c = this.expr(s.cond)!;
        const jz = this.emit(Op.JZ, 0, c.n);
        const l = this.loopBody(s.body);
        this.recordActions(0, true, s.body);
        this.emit(Op.JMP, 0, 0, 0, top);
        this.patch(jz, this.pc);
        this.patchLoop(l, top, this.pc);
        return;
      }
      case 'for': {
        if (s.init) {
          this.exprStmt(s.init);
          this.recordActions(1, false, { kind: 'exprstmt', expr: s.init, loc: s.init.loc });
        }
        this.recordActions(1, true, s);
        const top = this.pc;
        // iterating is an action (pending: charged with the body's)
        this.recordActions(1, false, s);
        let jz = -1;
        if (s.cond) {
          const m = this.mark();
          const c = this.expr(s.cond)!;
          jz = this.emit(Op.JZ, 0, c.n);
          this.release(m);
        }
        const loops = this.loopBody(s.body);
        this.recordActions(0, true, s.body);
        const stepPc = this.pc;
        // as in stap, the step's action stays pending past the loop (charged after it)
        if (s.step) {
          this.exprStmt(s.step);
          this.recordActions(1, false, { kind: 'exprstmt', expr: s.step, loc: s.step.loc });
        }
        this.emit(Op.JMP, 0, 0, 0, top);
        if (jz >= 0) this.patch(jz, this.pc);
        this.patchLoop(loops, stepPc, this.pc);
        return;
      }
      case 'foreach':
        return this.foreach(s);
      case 'next': {
        // in an overloaded function: continue with the next one, same frame and arguments
        const next = this.f.isFunction ? this.curFn?.next : undefined;
        this.recordActions(1, true, s);
        if (next) this.callFixups.push({ pc: this.emit(Op.JMP), name: next });
        else this.emit(Op.HALT);
        return;
      }
      case 'break':
      case 'continue': {
        const l = this.f.loops[this.f.loops.length - 1];
        this.recordActions(1, true, s);
        this.popTries(this.f.tries - l.tries);
        const j = this.emit(Op.JMP);
        (s.kind === 'break' ? l.breaks : l.continues).push(j);
        return;
      }
      case 'return': {
        if (s.value) {
          const v = this.expr(s.value)!;
          this.move({ type: v.type, n: 0 }, v);
        } else if (this.f.retType === 'long') this.emit(Op.MOVI, 0, 0, 0, 0);
        else if (this.f.retType === 'string') this.emit(Op.SCLR, 0);
        this.recordActions(1, true, s);
        this.popTries(this.f.tries);
        this.emit(Op.RET);
        return;
      }
      case 'delete':
        this.delete(s);
        this.recordActions(1, false, s);
        return;
      case 'try':
        return this.tryCatch(s);
      case 'empty':
        return;
    }
  }

  private popTries(n: number) {
    if (n > 0) this.emit(Op.TRYEND, 0, 0, 0, n);
  }

  /**
   * TRY pushes a handler; an error in the body (or in a function it calls) unwinds to this
   * frame and jumps to the catch block, with the handler popped. MAXACTION is not caught (stap
   * charges the catch an action it no longer has).
   */
  private tryCatch(s: A.TryStmt) {
    const push = this.emit(Op.TRY);
    this.f.tries++;
    this.stmt(s.body);
    this.recordActions(0, true, s.body);
    this.f.tries--;
    this.at(s.body.loc, 'try', () => this.popTries(1));
    const jend = this.emit(Op.JMP);
    this.patch(push, this.pc);
    if (s.var) {
      const name = s.var.name;
      this.at(s.var.loc, `identifier '${name}'`, () => {
        const local = this.f.locals.get(name);
        if (local) return void this.emit(Op.CATCH, local.n, 0, 0, this.errorTable());
        const g = this.globals.get(name)!;
        const t = this.temp('string');
        this.emit(Op.CATCH, t.n, 0, 0, this.errorTable());
        this.storeGlobal(g, t);
      });
    }
    // catching is an action: a catch block does not start when MAXACTION is used up
    this.recordActions(1, true, s);
    this.stmt(s.handler);
    this.recordActions(0, true, s.handler);
    this.patch(jend, this.pc);
  }

  private regexTables = new Map<string, number>();
  /** REMATCH's DFA table for a pattern (src/regex/ere.ts), shared by every use of the pattern */
  private regexTable(pattern: string, loc: A.Loc): number {
    let off = this.regexTables.get(pattern);
    if (off === undefined) {
      let table: number[] = [];
      try {
        table = this.tagged ? tdfaTable(compileTdfa(pattern)) : dfaTable(compileEre(pattern));
      } catch (x) {
        // the resolver checked the plain DFA; the tagged one has its own size limits
        if (!(x instanceof RegexError)) throw x;
        this.error(`regex compilation error: ${x.message}`, loc);
      }
      off = this.allocData(table, 2);
      this.regexTables.set(pattern, off);
    }
    return off;
  }

  /** ERRNOSTR's table: u32 count, then a u32 data offset per errno (0 unused) */
  private errnoTable(): number {
    if (this.errnoTableOff !== undefined) return this.errnoTableOff;
    const offs = ERRNO_NAMES.map((n) => this.stringConst(n));
    while (this.dataBytes.length % 4) this.dataBytes.push(0);
    const off = this.dataBytes.length;
    for (const o of [offs.length, ...offs]) this.dataBytes.push(o & 0xff, (o >> 8) & 0xff, (o >> 16) & 0xff, (o >> 24) & 0xff);
    if (this.dataBytes.length > LIMITS.DATA_BYTES) this.error('too many string constants for one session');
    this.errnoTableOff = off;
    return off;
  }

  /** CATCH's table: a u32 data offset per error code, of the message stap gives for it. */
  private errorTable(): number {
    if (this.errorTableOff !== undefined) return this.errorTableOff;
    const offs = Array.from({ length: ERROR_TABLE_CODES }, (_, code) => this.stringConst(ERROR_MESSAGES[code] ?? 'run-time error'));
    while (this.dataBytes.length % 4) this.dataBytes.push(0);
    const off = this.dataBytes.length;
    for (const o of offs) this.dataBytes.push(o & 0xff, (o >> 8) & 0xff, (o >> 16) & 0xff, (o >> 24) & 0xff);
    if (this.dataBytes.length > LIMITS.DATA_BYTES) this.error('too many string constants for one session');
    this.errorTableOff = off;
    return off;
  }

  private exprStmt(e: A.Expr) {
    const m = this.mark();
    this.expr(e, true);
    this.release(m);
  }

  /** Compiles a loop body; break/continue jumps are returned for the caller to patch. */
  private loopBody(body: A.Stmt) {
    const l: Loop = { breaks: [], continues: [], tries: this.f.tries };
    this.f.loops.push(l);
    this.stmt(body);
    this.f.loops.pop();
    return l;
  }

  /** Points a loop's continue and break jumps at their targets, once both are known. */
  private patchLoop(l: Loop, continueTarget: number, breakTarget: number) {
    for (const c of l.continues) this.patch(c, continueTarget);
    for (const b of l.breaks) this.patch(b, breakTarget);
  }

  private foreach(s: A.ForeachStmt) {
    const arr = this.arrays.get(s.array.name)!;
    const it = this.reg();
    let limit: Val | undefined;
    let count: number | undefined;
    if (s.limit) {
      // evaluated once, as stap does: a local limit is copied, the body may change it
      limit = this.snapshot(this.expr(s.limit)!);
      count = this.reg();
      this.emit(Op.MOVI, count, 0, 0, 0);
    }
    // a slice's indices are evaluated once, before the loop (without `*` it is one key at most)
    if (s.slice && this.sliceKey(arr, s.slice, true) !== undefined) this.emit(Op.ITSLICE, it, 0, arr.cls, arr.id);
    else this.emit(Op.ITBEGIN, it, 0, arr.cls, arr.id);
    if (s.sort) {
      // the kernel has no array layout: an index column's key offset and kind travel in imm
      const c = s.sort.column;
      // 9 bits of offset, 8 of width: only wide keys (-D MAXSTRINGLEN above 128) go past them;
      // a wider column is ordered by its first 255 bytes
      if (c !== 0 && arr.keyOffsets[c - 1] > 511 && this.probe?.point.target !== 'user')
        this.error(`foreach cannot sort by index ${c} of '${arr.name}' in the kernel: it starts ${arr.keyOffsets[c - 1]} bytes into the key (at most 511)`, s.loc);
      const keyBits =
        c === 0 ? 0 : ((arr.keyOffsets[c - 1] & 511) << ITSORT_OFF_SHIFT) | (arr.keyTypes[c - 1] === 'string' ? ITSORT_STR | (Math.min(arr.keyWidths[c - 1], 255) << ITSORT_WIDTH_SHIFT) : 0);
      this.emit(Op.ITSORT, 0, it, 0, c | (s.sort.dir === '-' ? ITSORT_DESC : 0) | (AGG[s.sort.aggr ?? 'count'] << ITSORT_AGG_SHIFT) | keyBits);
    }
    this.recordActions(1, true, s);
    const top = this.pc;
    this.recordActions(1, false, s);
    let jlimit = -1;
    if (limit && count !== undefined) {
      const t = this.reg();
      this.emit(Op.GE, t, count, limit.n);
      jlimit = this.emit(Op.JNZ, 0, t);
      this.emit(Op.ADDI, count, count, 0, 1);
    }
    const jdone = this.emit(Op.ITNEXT, 0, it, 0, 0);
    s.keys.forEach((k, i) =>
      this.bindVar(k.name, (v) => this.emit(v.type === 'long' ? Op.KGETI : Op.KGETS, v.n, 0, 0, arr.keyOffsets[i])),
    );
    if (s.value) this.bindVar(s.value.name, (v) => this.emit(v.type === 'long' ? Op.AGET : Op.AGETS, v.n, 0, arr.cls, arr.id));
    const l = this.loopBody(s.body);
    this.recordActions(0, true, s.body);
    this.emit(Op.JMP, 0, 0, 0, top);
    // every way out but return and next passes ITEND: the kernel frees the loop's key slots
    const end = this.emit(Op.ITEND, 0, it, 0, 0);
    this.patch(jdone, end);
    if (jlimit >= 0) this.patch(jlimit, end);
    this.patchLoop(l, top, end);
  }

  /** Loads a foreach variable: into a local's register, or a temp then stored to the global
   * (stap lets a global be a foreach key or value; it used to crash here). */
  private bindVar(name: string, load: (dst: Val) => void) {
    const local = this.f.locals.get(name);
    if (local) return load(local);
    const g = this.globals.get(name)!;
    const t = this.temp(g.type);
    load(t);
    this.storeGlobal(g, t);
  }

  private delete(s: A.DeleteStmt) {
    const t = s.target;
    if (t.kind === 'index') {
      const arr = this.arrays.get(t.array.name)!;
      const mask = this.sliceKey(arr, t.indices);
      if (mask !== undefined) {
        this.emit(Op.ASLDEL, 0, 0, arr.cls, arr.id);
        if (arr.wrap) {
          // the order array has the same key layout: the same pattern finds the same keys
          this.emit(Op.KMASK, 0, 0, 0, mask);
          this.emit(Op.ASLDEL, 0, 0, this.orderOf(arr).cls, arr.wrap.order);
        }
        return;
      }
      this.buildKey(arr, this.evalKeys(t.indices));
      this.emit(Op.ADEL, 0, 0, arr.cls, arr.id);
      if (arr.wrap) this.emit(Op.ADEL, 0, 0, this.orderOf(arr).cls, arr.wrap.order);
      return;
    }
    const arr = this.f.locals.has(t.name) ? undefined : this.arrays.get(t.name);
    if (arr?.stat && arr.keyTypes.length === 0) {
      // a scalar statistic is the element with key 0
      this.buildKey(arr, []);
      this.emit(Op.ADEL, 0, 0, arr.cls, arr.id);
      return;
    }
    if (arr) {
      this.emit(Op.ACLR, 0, 0, arr.cls, arr.id);
      if (arr.wrap) this.emit(Op.ACLR, 0, 0, this.orderOf(arr).cls, arr.wrap.order);
      return;
    }
    const declared = this.prog.globals.get(t.name);
    if (!this.f.locals.has(t.name) && declared && isArray(declared)) return; // a sized array never indexed
    const local = this.f.locals.get(t.name);
    if (local) return this.clear(local);
    const g = this.globals.get(t.name)!;
    const z = this.temp(g.type);
    this.clear(z);
    this.storeGlobal(g, z);
  }

  // ---- expressions ----

  /** Evaluates e; returns where its value is (undefined for void calls). */
  private expr(e: A.Expr, discard = false): Val | undefined {
    const loc = (e.kind === 'binary' || e.kind === 'logical' || e.kind === 'assign') && e.opLoc ? e.opLoc : e.loc;
    return this.at(loc, nearOf(e), () => this.exprInner(e, discard));
  }

  /** Runs a BTF access plan on v (a fresh temporary): address arithmetic and KREADs. */
  private kernelAccess(v: Val, a: KernelAccess, path: A.TargetPathStep[] | undefined): Val {
    let kr: number | undefined;
    const k = () => (kr ??= this.reg());
    for (const o of a.plan.ops) {
      switch (o.op) {
        case 'add':
          this.emit(Op.ADDI, v.n, v.n, 0, o.k);
          break;
        case 'load':
          this.emit(Op.KREAD, v.n, v.n, o.size | (o.signed ? 0x80 : 0));
          break;
        case 'index': {
          const step = path![o.step] as Extract<A.TargetPathStep, { kind: 'subscript' }>;
          const i = this.long(step.index);
          this.loadConst(k(), BigInt(o.scale));
          this.emit(Op.MUL, k(), i.n, k());
          this.emit(Op.ADD, v.n, v.n, k());
          break;
        }
        case 'bits': {
          // signed: shift the field to the top, then arithmetically down; unsigned: shift and mask
          if (o.signed) {
            this.loadConst(k(), BigInt(64 - o.shift - o.bits));
            this.emit(Op.SHL, v.n, v.n, k());
            this.loadConst(k(), BigInt(64 - o.bits));
            this.emit(Op.SHR, v.n, v.n, k());
          } else {
            this.loadConst(k(), BigInt(o.shift));
            this.emit(Op.SHR, v.n, v.n, k());
            this.loadConst(k(), (1n << BigInt(o.bits)) - 1n);
            this.emit(Op.AND, v.n, v.n, k());
          }
          break;
        }
      }
    }
    return v;
  }

  /** `@var("name")->path`: the global's address (or the jiffies counter), then the plan. */
  private atVar(e: A.AtExpr): Val {
    const a = varAccess(e, this.probe?.point) as VarAccess;
    const v = this.temp('long');
    if (a.kind === 'jiffies') {
      this.emit(Op.CTX, v.n, 0, 0, CTX.JIFFIES);
      return v;
    }
    if (a.kind === 'user') return this.userVar(v, a);
    if (a.kind === 'addr') this.loadConst(v.n, a.addr);
    else {
      // init_task: follow ->real_parent from the current task to the task that is its own parent
      const m = this.mark();
      const p = this.reg();
      const t = this.reg();
      const n = this.reg();
      this.emit(Op.CTX, v.n, 0, 0, CTX.TASK_CURRENT);
      this.emit(Op.MOVI, n, 0, 0, INIT_TASK_STEPS);
      const top = this.pc;
      this.emit(Op.ADDI, p, v.n, 0, a.parentOffset);
      this.emit(Op.KREAD, p, p, 8);
      this.emit(Op.EQ, t, p, v.n);
      const found = this.emit(Op.JNZ, 0, t);
      this.emit(Op.MOV, v.n, p);
      this.emit(Op.ADDI, n, n, 0, -1);
      this.emit(Op.JNZ, 0, n, 0, top);
      // a tree deeper than the bound: no address rather than a wrong one
      this.emit(Op.MOVI, v.n, 0, 0, 0);
      this.patch(found, this.pc);
      this.release(m);
    }
    return this.kernelAccess(v, a, e.path);
  }

  /** A user-space global: read in a task running the executable, 0 in any other (see VarAccess). */
  private userVar(v: Val, a: Extract<VarAccess, { kind: 'user' }>): Val {
    const m = this.mark();
    const t = this.reg();
    const misses: number[] = [];
    for (const [ctx, want] of [[CTX.EXE_INO, a.ino], [CTX.EXE_DEV, a.dev]] as const) {
      this.emit(Op.CTX, v.n, 0, 0, ctx);
      this.loadConst(t, want);
      this.emit(Op.EQ, t, v.n, t);
      misses.push(this.emit(Op.JZ, 0, t));
    }
    this.emit(Op.CTX, v.n, 0, 0, CTX.EXE_START_CODE);
    this.loadConst(t, a.offset);
    this.emit(Op.ADD, v.n, v.n, t);
    if (!a.addressOf) this.emit(Op.UREAD, v.n, v.n, a.width | 0x80);
    const done = this.emit(Op.JMP);
    for (const j of misses) this.patch(j, this.pc);
    this.emit(Op.MOVI, v.n, 0, 0, 0);
    this.patch(done, this.pc);
    this.release(m);
    return v;
  }

  private long(e: A.Expr): Val {
    return this.expr(e)!;
  }

  private exprInner(e: A.Expr, discard: boolean): Val | undefined {
    switch (e.kind) {
      case 'number': {
        const v = this.temp('long');
        this.loadConst(v.n, e.value);
        return v;
      }
      case 'string': {
        const v = this.temp('string');
        this.emit(Op.SCONST, v.n, 0, 0, this.stringConst(e.value));
        return v;
      }
      case 'ident': {
        const local = this.f.locals.get(e.name);
        if (local) return local;
        return this.loadGlobal(this.globals.get(e.name)!);
      }
      case 'at': {
        // only @cast and @var reach code generation (the others are folded or refused)
        if (e.op === 'var') return this.atVar(e);
        const a = castAccess(e) as KernelAccess;
        const v = this.temp('long');
        this.emit(Op.MOV, v.n, this.long(e.args[0]).n);
        return this.kernelAccess(v, a, e.path);
      }
      case 'tvar': {
        const f = this.probe!.point.contextVars.get(e.name)!;
        const access = e.path || e.addressOf ? tvarAccess(e, this.probe!.point) : undefined;
        if (access !== undefined) {
          const v = this.temp('long');
          this.emit(Op.TPLD, v.n, 0, f.size | (f.signed ? 0x80 : 0), f.offset);
          return this.kernelAccess(v, access as KernelAccess, e.path);
        }
        if (f.kind === 'int') {
          const v = this.temp('long');
          this.emit(Op.TPLD, v.n, 0, f.size | (f.signed ? 0x80 : 0), f.offset);
          return v;
        }
        const v = this.temp('string');
        this.emit(Op.TPSTR, v.n, 0, f.kind === 'char_array' ? 1 : 0, f.offset);
        return v;
      }
      case 'index': {
        const arr = this.arrays.get(e.array.name)!;
        this.buildKey(arr, this.evalKeys(e.indices));
        const v = this.temp(arr.valueType);
        this.emit(arr.valueType === 'long' ? Op.AGET : Op.AGETS, v.n, 0, arr.cls, arr.id);
        return v;
      }
      case 'in': {
        const arr = this.arrays.get(e.array.name)!;
        const slice = this.sliceKey(arr, e.keys) !== undefined;
        if (!slice) this.buildKey(arr, this.evalKeys(e.keys));
        const v = this.temp('long');
        this.emit(slice ? Op.ASLIN : Op.AIN, v.n, 0, arr.cls, arr.id);
        return v;
      }
      case 'binary': {
        if ((e.op === '=~' || e.op === '!~') && e.right.kind === 'string') {
          const a = this.long(e.left);
          const v = this.temp('long');
          this.emit(this.tagged ? Op.RETMATCH : Op.REMATCH, v.n, a.n, 0, this.regexTable(e.right.value, e.right.loc));
          if (e.op === '!~') this.emit(Op.LNOT, v.n, v.n);
          return v;
        }
        const l = this.long(e.left);
        const r = this.long(e.right);
        if (e.op === '.') {
          const v = this.temp('string');
          this.emit(Op.SCAT, v.n, l.n, r.n);
          return v;
        }
        const v = this.temp('long');
        if (CMP[e.op] !== undefined) {
          if (l.type === 'string') this.emit(Op.SCMP, v.n, l.n, r.n, SCMP_OF[e.op]);
          else this.emit(CMP[e.op], v.n, l.n, r.n);
        } else this.emit(ARITH[e.op], v.n, l.n, r.n);
        return v;
      }
      case 'logical': {
        // short circuit: the result is 0/1 like C
        const v = this.temp('long');
        const l = this.long(e.left);
        this.emit(Op.MOVI, v.n, 0, 0, e.op === '&&' ? 0 : 1);
        const j1 = this.emit(e.op === '&&' ? Op.JZ : Op.JNZ, 0, l.n);
        const r = this.long(e.right);
        this.emit(Op.NE, v.n, r.n, this.zero());
        this.patch(j1, this.pc);
        return v;
      }
      case 'unary': {
        const a = this.long(e.operand);
        if (e.op === '+') return a;
        const v = this.temp('long');
        this.emit(e.op === '-' ? Op.NEG : e.op === '!' ? Op.LNOT : Op.BNOT, v.n, a.n);
        return v;
      }
      case 'ternary': {
        const c = this.long(e.cond);
        const jz = this.emit(Op.JZ, 0, c.n);
        const a = this.expr(e.then)!;
        const v = this.temp(a.type);
        this.move(v, a);
        const jend = this.emit(Op.JMP);
        this.patch(jz, this.pc);
        const b = this.expr(e.else)!;
        this.move(v, b);
        this.patch(jend, this.pc);
        return v;
      }
      case 'assign':
        return this.assign(e);
      case 'incdec':
        return this.incdec(e, discard);
      case 'call':
        return this.call(e);
      case 'statop': {
        const arr = this.statKey(e.stat);
        const v = this.temp('long');
        this.emit(Op.STGET, v.n, AGG[e.op], arr.cls, arr.id);
        return v;
      }
      case 'histindex': {
        const keys = e.hist.stat.kind === 'index' ? this.evalKeys(e.hist.stat.indices) : [];
        const i = this.snapshot(this.long(e.index));
        const arr = this.arrays.get(e.hist.stat.kind === 'index' ? e.hist.stat.array.name : e.hist.stat.name)!;
        this.buildKey(arr, keys);
        const v = this.temp('long');
        this.emit(Op.STHIST, v.n, i.n, arr.cls, arr.id);
        return v;
      }
      case 'histop':
        throw new Error('@hist_* outside print: the resolver rejects it');
      case 'embedded':
        throw new Error('embedded C: the resolver rejects it');
    }
  }

  /** Evaluates a statistic's indices and builds its key; returns its array. */
  private statKey(stat: A.Ident | A.IndexExpr): ArrayInfo {
    const arr = this.arrays.get(stat.kind === 'index' ? stat.array.name : stat.name)!;
    this.buildKey(arr, stat.kind === 'index' ? this.evalKeys(stat.indices) : []);
    return arr;
  }

  /** A register holding 0, for `x != 0` normalisation. */
  private zero(): number {
    const z = this.reg();
    this.emit(Op.MOVI, z, 0, 0, 0);
    return z;
  }

  private loadGlobal(g: GlobalInfo): Val {
    const v = this.temp(g.type);
    this.emit(g.type === 'long' ? Op.GLD : Op.GLDS, v.n, 0, 0, g.slot);
    return v;
  }

  private storeGlobal(g: GlobalInfo, v: Val) {
    this.emit(g.type === 'long' ? Op.GST : Op.GSTS, 0, v.n, 0, g.slot);
  }

  /** Index values first (they may use the key buffer themselves), then the key. */
  private evalKeys(indices: A.Expr[]): Val[] {
    return indices.map((k) => this.snapshot(this.expr(k)!));
  }

  /**
   * A slice (`[1, *] in a`, `delete a[1, *]`, `foreach (... in a[1, *])`): the fixed indices in
   * the key buffer, then KMASK naming the key bytes they fill (a string index: its whole
   * column, NUL padding included, so equal bytes are equal strings). The mask's data offset;
   * undefined (nothing emitted) when no index is `*`, unless `always`.
   */
  private sliceKey(arr: ArrayInfo, indices: A.Expr[], always = false): number | undefined {
    if (!always && !indices.some((k) => k.kind === 'wildcard')) return undefined;
    const keys = indices.map((k) => (k.kind === 'wildcard' ? undefined : this.snapshot(this.expr(k)!)));
    this.buildKey(arr, keys);
    const size = arrayClass(arr).keySize;
    const mask = [size & 0xff, size >> 8, ...Array<number>(size).fill(0)];
    keys.forEach((k, i) => {
      if (k) mask.fill(0xff, 2 + arr.keyOffsets[i], 2 + arr.keyOffsets[i] + (k.type === 'long' ? 8 : arr.keyWidths[i]));
    });
    const text = mask.join(',');
    let off = this.masks.get(text);
    if (off === undefined) {
      off = this.allocData(mask, 2);
      this.masks.set(text, off);
    }
    this.emit(Op.KMASK, 0, 0, 0, off);
    return off;
  }

  /** A local's register could be overwritten by a later expression of the same list: copy it. */
  private snapshot(v: Val): Val {
    if ([...this.f.locals.values()].includes(v)) {
      const t = this.temp(v.type);
      this.move(t, v);
      return t;
    }
    return v;
  }

  private orderOf(arr: ArrayInfo): ArrayInfo {
    return this.arrays.get(`${arr.name}.order`)!;
  }

  /** Before a write that may create an element of a wrap-around array: make room (vm/wrap.h). */
  private wrapRoom(arr: ArrayInfo) {
    if (arr.wrap) this.emit(Op.AWRAP, arr.wrap.order, arr.wrap.seq, arr.cls, arr.id);
  }

  /** KCLR, then each index into its place (a slice's `*`, undefined, stays zero). */
  private buildKey(arr: ArrayInfo, keys: (Val | undefined)[]) {
    this.emit(Op.KCLR, 0, 0, 0, arrayClass(arr).keySize);
    keys.forEach((k, i) => {
      if (!k) return;
      if (k.type === 'long') this.emit(Op.KPUTI, 0, k.n, 0, arr.keyOffsets[i]);
      else this.emit(Op.KPUTS, 0, k.n, arr.keyWidths[i] > 255 ? 0 : arr.keyWidths[i], arr.keyOffsets[i]);
    });
  }

  private assign(e: A.AssignExpr): Val {
    const t = e.target;
    const op = e.op;
    if (op === '<<<') {
      // indices, then the value (stap's order), then the key
      const arr = this.arrays.get(t.kind === 'index' ? t.array.name : t.name)!;
      const keys = t.kind === 'index' ? this.evalKeys(t.indices) : [];
      const value = this.long(e.value);
      this.buildKey(arr, keys);
      this.wrapRoom(arr);
      this.emit(Op.STADD, 0, value.n, arr.cls, arr.id);
      return value;
    }
    if (t.kind === 'index') {
      const arr = this.arrays.get(t.array.name)!;
      const keys = this.evalKeys(t.indices);
      const value = this.expr(e.value)!;
      if (op === '+=' || op === '-=') {
        let d = value;
        if (op === '-=') {
          d = this.temp('long');
          this.emit(Op.NEG, d.n, value.n);
        }
        this.buildKey(arr, keys);
        this.wrapRoom(arr);
        const v = this.temp('long');
        this.emit(Op.AADD, v.n, d.n, arr.cls, arr.id);
        return v;
      }
      let result = value;
      if (op !== '=') {
        this.buildKey(arr, keys);
        const old = this.temp(arr.valueType);
        this.emit(arr.valueType === 'long' ? Op.AGET : Op.AGETS, old.n, 0, arr.cls, arr.id);
        result = this.combine(op, old, value);
      }
      this.buildKey(arr, keys);
      this.wrapRoom(arr);
      this.emit(arr.valueType === 'long' ? Op.ASET : Op.ASETS, 0, result.n, arr.cls, arr.id);
      return result;
    }
    const local = this.f.locals.get(t.name);
    const value = this.expr(e.value)!;
    if (local) {
      if (op === '=') this.move(local, value);
      else if (op === '.=') this.emit(Op.SCAT, local.n, local.n, value.n);
      else this.emit(ARITH[op.slice(0, -1)], local.n, local.n, value.n);
      return local;
    }
    const g = this.globals.get(t.name)!;
    if (op === '+=' || op === '-=') {
      let d = value;
      if (op === '-=') {
        d = this.temp('long');
        this.emit(Op.NEG, d.n, value.n);
      }
      const v = this.temp('long');
      this.emit(Op.GADD, v.n, d.n, 0, g.slot);
      return v;
    }
    const result = op === '=' ? value : this.combine(op, this.loadGlobal(g), value);
    this.storeGlobal(g, result);
    return result;
  }

  private combine(op: A.AssignOp, old: Val, value: Val): Val {
    const v = this.temp(old.type);
    if (op === '.=') this.emit(Op.SCAT, v.n, old.n, value.n);
    else this.emit(ARITH[op.slice(0, -1)], v.n, old.n, value.n);
    return v;
  }

  private incdec(e: A.IncDecExpr, discard: boolean): Val {
    const delta = e.op === '++' ? 1 : -1;
    const one = this.temp('long');
    this.emit(Op.MOVI, one.n, 0, 0, delta);
    const t = e.target;
    let after: Val;
    if (t.kind === 'index') {
      const arr = this.arrays.get(t.array.name)!;
      this.buildKey(arr, this.evalKeys(t.indices));
      this.wrapRoom(arr);
      after = this.temp('long');
      this.emit(Op.AADD, after.n, one.n, arr.cls, arr.id);
    } else {
      const local = this.f.locals.get(t.name);
      if (local) {
        if (e.prefix || discard) {
          this.emit(Op.ADD, local.n, local.n, one.n);
          return local;
        }
        const before = this.temp('long');
        this.move(before, local);
        this.emit(Op.ADD, local.n, local.n, one.n);
        return before;
      }
      const g = this.globals.get(t.name)!;
      after = this.temp('long');
      this.emit(Op.GADD, after.n, one.n, 0, g.slot);
    }
    if (e.prefix || discard) return after;
    const before = this.temp('long');
    this.emit(Op.ADDI, before.n, after.n, 0, -delta);
    return before;
  }

  private call(e: A.CallExpr): Val | undefined {
    if (e.name === 'printf' || e.name === 'print' || e.name === 'println') return this.output(e);
    if (e.name === 'sprintf' || e.name === 'sprint' || e.name === 'sprintln') return this.sprintf(e);
    const b = findBuiltin(e.name, e.args.length);
    if (b) {
      const m = this.mark();
      const args = e.args.map((a) => this.expr(a)!.n);
      const r = b.emit(this.builtinEmitter(), args, e.args);
      if (b.ret === 'void') return undefined;
      // the arguments' temporaries are dead: keep only the result, at the first of them
      this.release(m);
      const v = this.temp(b.ret);
      this.move(v, { type: b.ret, n: r });
      return v;
    }
    const fn = findFunction(this.prog.functions, e.name, e.args.length)!;
    // the callee's frame starts at the first free register/slot: r0/s0 there is the result
    const base = this.reg();
    const sbase = this.str();
    const params = fn.decl.params.map((p) => this.temp(fn.locals.get(p.name)!.type!));
    e.args.forEach((a, i) => {
      const m = this.mark();
      this.move(params[i], this.expr(a)!);
      this.release(m);
    });
    if (this.nesting !== undefined) {
      // the callee's depth: 1 from a probe handler, one more than ours from a function
      const depth = this.reg();
      if (this.f.isFunction) this.emit(Op.ADDI, depth, this.depthReg, 0, 1);
      else this.emit(Op.MOVI, depth, 0, 0, 1);
      // a probe's own call (depth 1) can only exceed MAXNESTING=0
      if (this.f.isFunction || this.nesting < 1) this.depthCheck(fn, depth, this.nesting);
    }
    const pc = this.emit(Op.CALL, 0, base, sbase, 0);
    this.callFixups.push({ pc, name: fn.key });
    // everything the callee used above base is dead now; keep only the result slot
    this.f.nextReg = base + 1;
    this.f.nextStr = sbase + 1;
    if (fn.ret === 'long') return { type: 'long', n: base };
    if (fn.ret === 'string') return { type: 'string', n: sbase };
    return undefined;
  }

  private output(e: A.CallExpr): undefined {
    const h = e.args[0];
    if (e.name !== 'printf' && e.args.length === 1 && h.kind === 'histop') {
      // the kernel sends the statistic's key; user space adds up the CPUs and formats it
      const arr = this.statKey(h.stat);
      this.emit(Op.STPRINT, 0, 0, arr.cls, arr.id);
      return undefined;
    }
    let text: string;
    let args: A.Expr[];
    if (e.name === 'printf') {
      text = (e.args[0] as A.StringLit).value;
      args = e.args.slice(1);
    } else {
      args = e.args;
      text = '';
    }
    // arguments first: evaluating them may itself print (a function call) and reuse the buffer.
    // Each is its value when evaluated, as stap's temporaries: printf("%d %d", x, x++) is "0 0"
    // (a local is copied when a later argument may assign it).
    const vals = args.map((a, i) => {
      const v = this.expr(a)!;
      return args.slice(i + 1).some(assigns) ? this.snapshot(v) : v;
    });
    if (e.name !== 'printf') {
      text = vals.map((v) => (v.type === 'long' ? '%d' : '%s')).join('') + (e.name === 'println' ? '\n' : '');
    }
    const pf = parseFormat(text);
    // %m/%M: the value is an address whose bytes the kernel copies into the record (OMEM),
    // rb of them: the precision, from its '*' argument or a constant
    const mem = new Map<number, { prec?: number; len: number }>();
    let ix = 0;
    for (const p of pf.pieces) {
      if (typeof p === 'string') continue;
      if (p.widthStar) ix++;
      const prec = p.precisionStar ? ix++ : undefined;
      if (p.conv === 'm' || p.conv === 'M') mem.set(ix, { prec, len: p.precision ?? 1 });
      ix++;
    }
    const types = pf.args.map((t, i) => (mem.has(i) ? 'string' : t));
    const id = this.formatId(text, types);
    this.emit(Op.OBEGIN, 0, 0, 0, id);
    vals.forEach((v, i) => {
      const m = mem.get(i);
      if (!m) return void this.emit(v.type === 'long' ? Op.OINT : Op.OSTR, 0, v.n);
      const mk = this.mark();
      let len: number;
      if (m.prec !== undefined) len = vals[m.prec].n;
      else {
        len = this.reg();
        this.emit(Op.MOVI, len, 0, 0, m.len);
      }
      this.emit(Op.OMEM, 0, v.n, len);
      this.release(mk);
    });
    this.emit(Op.OEND);
    return undefined;
  }

  /** sprintf: the result slot cleared, then each literal piece appended (SCAT) and each
   * conversion formatted onto it (SFMT/SFMTS, the conversion in the immediate). */
  private sprintf(e: A.CallExpr): Val {
    const text0 = e.name === 'sprintf' ? (e.args[0] as A.StringLit).value : '';
    const args = e.name === 'sprintf' ? e.args.slice(1) : e.args;
    const vals = args.map((a, i) => {
      const v = this.expr(a)!;
      return args.slice(i + 1).some(assigns) ? this.snapshot(v) : v;
    });
    const text =
      e.name === 'sprintf' ? text0 : vals.map((v) => (v.type === 'long' ? '%d' : '%s')).join('') + (e.name === 'sprintln' ? '\n' : '');
    const d = this.temp('string');
    this.emit(Op.SCLR, d.n);
    let next = 0;
    const ends: number[] = [];
    for (const p of parseFormat(text).pieces) {
      const m = this.mark();
      if (typeof p === 'string') {
        const t = this.temp('string');
        this.emit(Op.SCONST, t.n, 0, 0, this.stringConst(p));
        this.emit(Op.SCAT, d.n, d.n, t.n);
      } else {
        // '*' values in two consecutive registers: width, then precision
        let stars = 0;
        if (p.widthStar || p.precisionStar) {
          const w = p.widthStar ? vals[next++] : undefined;
          const pr = p.precisionStar ? vals[next++] : undefined;
          stars = this.reg();
          this.reg();
          if (w) this.move({ type: 'long', n: stars }, w);
          if (pr) this.move({ type: 'long', n: stars + 1 }, pr);
        }
        const v = vals[next++];
        this.emit(p.conv === 's' ? Op.SFMTS : Op.SFMT, d.n, v.n, stars, encodeConversion(p));
        // %0s ends the field with a NUL: stap's string stops there, whatever follows
        if (p.conv === 's' && p.flags.zero) break;
        // so does a %c of 0 (without '#', which escapes it): the rest is dropped at run time
        if (p.conv === 'c' && !p.flags.hash) {
          const t = this.reg();
          this.emit(Op.ANDI, t, v.n, 0, 255);
          ends.push(this.emit(Op.JZ, 0, t));
        }
      }
      this.release(m);
    }
    for (const j of ends) this.patch(j, this.pc);
    return d;
  }

  private builtinEmitter(): BuiltinEmitter {
    return {
      ctx: (id) => {
        const v = this.reg();
        this.emit(Op.CTX, v, 0, 0, id);
        return v;
      },
      ctxString: (id) => {
        const v = this.str();
        this.emit(Op.CTXS, v, 0, 0, id);
        return v;
      },
      divConst: (r, by) => {
        const c = this.reg();
        this.loadConst(c, by);
        const v = this.reg();
        this.emit(Op.DIV, v, r, c);
        return v;
      },
      userString: (a) => {
        const v = this.str();
        this.emit(Op.USTR, v, a);
        return v;
      },
      userStringOr: (a, dflt) => {
        // the default may live in a local's slot: read into a fresh slot that starts as it
        const v = this.str();
        this.emit(Op.SMOV, v, dflt);
        this.emit(Op.USTR, v, a, 1);
        return v;
      },
      exit: () => void this.emit(Op.EXIT),
      error: (m) => void this.emit(Op.ERROR, 0, m),
      uarg: (n, wb) => {
        const v = this.reg();
        this.emit(Op.UARG, v, n, wb);
        return v;
      },
      regLoad: (offset, wb) => {
        const v = this.reg();
        this.emit(Op.TPLD, v, 0, wb, offset);
        return v;
      },
      insn: (op, ret, a, b, imm) => {
        const v = ret === 'long' ? this.reg() : this.str();
        this.emit(op, v, a, b, imm);
        return v;
      },
      errnoTable: () => this.errnoTable(),
      encodedText: (fn) => {
        const body = this.probe?.decl.body ?? this.curFn?.decl.body;
        if (body && textUse(body, fn, true) === 'inspected')
          this.error(`the result of ${fn}() can only be printed or stored: tapvm names user addresses in user space, when output shows them`);
        this.syscallText = true;
      },
      probeFunc: () => {
        // stap parses function("NAME") out of pp(): its syscall probes are on the kernel's
        // __x64_sys_NAME entry points; other probes without a function give ""
        const point = this.probe?.point;
        const v = this.str();
        const attach = point?.attach;
        if (point?.func === undefined && attach?.family === 'syscall') {
          const nrs = attach.nrs;
          const one = nrs.length === 1 ? syscallCatalog().find((s) => s.nr === nrs[0]) : undefined;
          if (one) this.emit(Op.SCONST, v, 0, 0, this.stringConst(SYSCALL_FUNC_PREFIX + one.name));
          else {
            // the prefix and the shared name table (a second, prefixed table would not fit)
            const r = this.reg();
            const n = this.str();
            this.emit(Op.TPLD, r, 0, NR_FIELD.size | 0x80, NR_FIELD.offset);
            this.emit(Op.SCNAME, n, r, 0, this.nameTable());
            this.emit(Op.SCONST, v, 0, 0, this.stringConst(SYSCALL_FUNC_PREFIX));
            this.emit(Op.SCAT, v, v, n);
          }
          return v;
        }
        this.emit(Op.SCONST, v, 0, 0, this.stringConst(point?.func ?? ''));
        return v;
      },
      reg: () => this.reg(),
      str: () => this.str(),
      op: (op, d = 0, a = 0, b = 0, imm = 0) => void this.emit(op, d, a, b, imm),
      consecutive: (type, from) => {
        const first = type === 'long' ? this.reg() : this.str();
        for (let i = 1; i < from.length; i++) if (type === 'long') this.reg();
        else this.str();
        from.forEach((n, i) => this.move({ type, n: first + i }, { type, n }));
        return first;
      },
      constant: (v) => {
        const r = this.reg();
        this.loadConst(r, BigInt(v));
        return r;
      },
      textLen: this.maxStr < this.slot ? this.maxStr - 1 : 0,
    };
  }
}

/** Whether evaluating e may assign a variable of the current frame (calls cannot). */
function assigns(e: A.Expr): boolean {
  switch (e.kind) {
    case 'assign':
    case 'incdec':
      return true;
    case 'binary':
    case 'logical':
      return assigns(e.left) || assigns(e.right);
    case 'unary':
      return assigns(e.operand);
    case 'ternary':
      return assigns(e.cond) || assigns(e.then) || assigns(e.else);
    case 'index':
      return e.indices.some(assigns);
    case 'in':
      return e.keys.some(assigns);
    case 'call':
      return e.args.some(assigns);
    case 'statop':
    case 'histop':
      return e.stat.kind === 'index' && e.stat.indices.some(assigns);
    case 'histindex':
      return assigns(e.hist) || assigns(e.index);
    default:
      return false;
  }
}

function nearOf(e: A.Expr): string {
  switch (e.kind) {
    case 'binary':
    case 'logical':
    case 'assign':
    case 'incdec':
    case 'unary':
      return `operator '${e.op}'`;
    case 'ident':
      return `identifier '${e.name}'`;
    case 'index':
    case 'in':
      return `identifier '${e.array.name}'`;
    case 'call':
      return `identifier '${e.name}'`;
    case 'tvar':
      return `identifier '$${e.name}'`;
    case 'ternary':
      return "operator '?'";
    case 'number':
      return `number '${e.value}'`;
    case 'string':
      return `string '${e.value}'`;
    case 'statop':
    case 'histop':
      return `identifier '@${e.op}'`;
    case 'histindex':
      return `identifier '@${e.hist.op}'`;
    case 'at':
      return `operator '@${e.op}'`;
    case 'embedded':
      return "operator '%{'";
    case 'wildcard':
      return "operator '*'";
  }
}

export interface CompileOptions {
  /** run src/compile/optimize.ts (default); the code generator's tests read its raw output */
  optimize?: boolean;
  /** -D MAXSTRINGLEN (1..512, default 128) */
  maxStringLen?: number;
  /** -D MAXNESTING: nested function calls allowed (default stap's 10, at most LIMITS.MAXNESTING - 1 = 15) */
  maxNesting?: number;
}

/** How deep the probes' calls can nest: Infinity with recursion. */
function callDepth(prog: ResolvedProgram): number {
  const memo = new Map<FunctionSym, number>();
  const calls = (body: unknown): FunctionSym[] => {
    const out: FunctionSym[] = [];
    const visit = (n: unknown): void => {
      if (!n || typeof n !== 'object') return;
      if (Array.isArray(n)) return n.forEach(visit);
      const e = n as A.Expr;
      if (e.kind === 'call') {
        // a `next` chain runs in the same frame: each function of it counts at this depth
        for (let f = findFunction(prog.functions, e.name, e.args.length); f; f = f.next ? prog.functions.get(f.next) : undefined) out.push(f);
      }
      for (const [k, v] of Object.entries(e)) if (k !== 'loc' && k !== 'opLoc') visit(v);
    };
    visit(body);
    return out;
  };
  const depth = (f: FunctionSym): number => {
    const known = memo.get(f);
    if (known !== undefined) return known;
    memo.set(f, Infinity); // on the path: a call back here is recursion
    const d = 1 + Math.max(0, ...calls(f.decl.body).map(depth));
    memo.set(f, d);
    return d;
  };
  return Math.max(0, ...prog.probes.flatMap((p) => calls(p.decl.body).map(depth)));
}

/** whether the script calls any of the functions (a walk over its AST) */
function callsAny(script: A.Script, names: string[]): boolean {
  const visit = (n: unknown): boolean => {
    if (!n || typeof n !== 'object') return false;
    if (Array.isArray(n)) return n.some(visit);
    const c = n as { kind?: string; name?: string };
    if (c.kind === 'call' && names.includes(c.name!)) return true;
    return Object.values(n).some(visit);
  };
  return visit(script.items);
}

export function compile(prog: ResolvedProgram, sources: Record<string, string>, opts: CompileOptions = {}): ProgramImage {
  const g = new CodeGen(prog, opts.maxStringLen);
  // at the interpreters' own limit CALL enforces it (at the call site): no code needed
  const limit = opts.maxNesting ?? DEFAULT_MAXNESTING;
  if (limit < LIMITS.MAXNESTING - 1 && callDepth(prog) > limit) g.nesting = limit;
  const probes: ProbeInfo[] = [];
  const handle = <R>(fn: () => R): R | undefined => {
    try {
      return fn();
    } catch (e) {
      if (e instanceof DiagnosticError) g.diags.push(...e.diagnostics);
      else throw e;
      return undefined;
    }
  };
  prog.probes.forEach((p, index) => {
    const pc = handle(() => g.compileProbe(p)) ?? 0;
    probes.push({ index, pp: p.point.pp, target: p.point.target, attach: p.point.attach, pc, loc: p.pointNode.loc });
  });
  for (const fn of prog.functions.values()) handle(() => g.compileFunction(fn));
  g.fixCalls();
  if (opts.optimize !== false && !g.diags.length) {
    const o = optimize(g.code, g.sourceMap, [...probes.map((p) => p.pc), ...g.functionPcs.values()]);
    g.code = o.code;
    g.sourceMap = o.sourceMap;
    for (const p of probes) p.pc = o.remap(p.pc);
    for (const [name, pc] of g.functionPcs) g.functionPcs.set(name, o.remap(pc));
  }
  if (probes.length > LIMITS.NPROBES) g.error(`too many probe points (${probes.length}; at most ${LIMITS.NPROBES})`);
  const syscallDispatch = handle(() => dispatchTables(probes, (bytes, align) => g.allocData(bytes, align)));
  const data = g.data(probes);
  if (g.code.length > LIMITS.CODE_INSNS) g.error(`script too large: ${g.code.length} instructions (at most ${LIMITS.CODE_INSNS})`);
  if (g.diags.length) throw new DiagnosticError(g.diags);
  return {
    code: g.code.map(encode),
    data,
    formats: g.formats,
    probes,
    globals: [...g.globals.values()],
    arrays: [...g.arrays.values()],
    functions: [...g.functionPcs].map(([name, pc]) => ({ name, pc })),
    sourceMap: g.sourceMap,
    sources,
    display: writtenNotRead(prog),
    ...(syscallDispatch?.length ? { syscallDispatch } : {}),
    ...(g.syscallText ? { syscallText: true } : {}),
    ...(g.maxStr !== DEFAULT_MAXSTRINGLEN ? { maxStringLen: g.maxStr } : {}),
  };
}

/** stap's token text for a statement's first token (c->last_stmt): what MAXACTION's error names. */
function stmtNear(s: A.Stmt): string {
  if (s.kind === 'block') return "operator '{'";
  if (s.kind === 'empty') return "operator ';'";
  if (s.kind !== 'exprstmt') return 'keyword';
  let e: A.Expr = s.expr;
  // the leftmost token: descend into the left operand of binary forms
  for (;;) {
    if (e.kind === 'binary' || e.kind === 'logical') e = e.left;
    else if (e.kind === 'ternary') e = e.cond;
    else if (e.kind === 'assign' || (e.kind === 'incdec' && !e.prefix)) e = e.target;
    else break;
  }
  if (e.kind === 'ident' || e.kind === 'call') return `identifier '${e.name}'`;
  if (e.kind === 'index') return `identifier '${e.array.name}'`;
  if (e.kind === 'incdec') return `operator '${e.op}'`;
  if (e.kind === 'unary') return `operator '${e.op}'`;
  if (e.kind === 'number') return `number '${e.value}'`;
  if (e.kind === 'string') return `string '${e.value}'`;
  return 'keyword';
}
