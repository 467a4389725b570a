// Disassembler for program images (-p4 dumps, test failures). One helper per operand kind of
// vm/isa.json; a line reads `0012  ADD      r3, r1, r2`.
import type { Insn, ProgramImage } from '../image/image';
import { decode } from '../image/image';
import { CTX, LIMITS, Op, OPS, SCMP } from './opcodes';

type OperandHelper = (img: ProgramImage, insn: Insn, field: 'd' | 'a' | 'b' | undefined) => string;

const pc4 = (pc: number): string => (pc >= 0 ? String(pc).padStart(4, '0') : String(pc));

const ctxNames = new Map<number, string>(Object.entries(CTX).map(([k, v]) => [v, k.toLowerCase()]));
const scmpNames = new Map<number, string>(Object.entries(SCMP).map(([k, v]) => [v, k.toLowerCase()]));

function fieldOf(insn: Insn, field: 'd' | 'a' | 'b' | undefined): number {
  return insn[field ?? 'd'];
}

function dataString(img: ProgramImage, off: number): string {
  const start = (off >>> 0) & (LIMITS.DATA_BYTES - 1);
  let end = start;
  while (end < img.data.length && end - start < LIMITS.MAXSTRINGLEN - 1 && img.data[end] !== 0) end++;
  return Buffer.from(img.data.buffer, img.data.byteOffset + start, end - start).toString('utf8');
}

function globalName(img: ProgramImage, type: 'long' | 'string', slot: number, prefix: string): string {
  return img.globals.find((g) => g.type === type && g.slot === slot)?.name ?? `${prefix}${slot}`;
}

/** The operand kinds of vm/isa.json's comment, each with its printer. */
export const OPERAND_HELPERS: Record<string, OperandHelper> = {
  /** integer register (frame-relative) */
  r: (_img, insn, f) => `r${fieldOf(insn, f)}`,
  /** string slot (frame-relative) */
  s: (_img, insn, f) => `s${fieldOf(insn, f)}`,
  /** immediate (ITSORT's: the column, `value` or `keyN`, then + ascending or - descending) */
  i: (_img, insn) => {
    if (insn.op !== Op.ITSORT) return String(insn.imm);
    const column = insn.imm & 0xff;
    return `${column === 0 ? 'value' : `key${column}`}${insn.imm & 0x100 ? '-' : '+'}`;
  },
  /** absolute pc */
  p: (_img, insn) => pc4(insn.imm),
  /** global slot: its name */
  g: (img, insn) => globalName(img, 'long', (insn.imm >>> 0) & (LIMITS.NGLOBALS - 1), 'g'),
  /** string global slot: its name */
  G: (img, insn) => globalName(img, 'string', (insn.imm >>> 0) & (LIMITS.NGSTRS - 1), 'G'),
  /** array id (imm) with its class (b): `name[]`, and the class when b is not the array's */
  A: (img, insn) => {
    const id = insn.imm & 0xffff;
    const arr = img.arrays.find((x) => (x.id & 0xffff) === id);
    const name = arr ? `${arr.name}[]` : `@${id}[]`;
    return arr && arr.cls === insn.b ? name : `${name} cls ${insn.b}`;
  },
  /** context id: pid, execname, pp... */
  c: (_img, insn) => ctxNames.get(insn.imm) ?? `ctx${insn.imm}`,
  /** format id: the format text, JSON-quoted */
  f: (img, insn) => {
    const f = img.formats[insn.imm];
    return f ? JSON.stringify(f.text) : `fmt${insn.imm}`;
  },
  /** data offset: the string constant there, JSON-quoted */
  o: (img, insn) => JSON.stringify(dataString(img, insn.imm)),
  /** key buffer offset */
  k: (_img, insn) => `key+${(insn.imm >>> 0) & 255}`,
  /** tracepoint field: +OFF:WIDTH, s when signed (TPSTR: loc = __data_loc, chars = char array) */
  t: (_img, insn) => {
    if (insn.op === Op.TPSTR) return `+${insn.imm}:${insn.b ? 'chars' : 'loc'}`;
    return `+${insn.imm}:${insn.b & 0xf}${insn.b & 0x80 ? 's' : ''}`;
  },
  /** statistic aggregate (a): @count ... @variance */
  x: (_img, insn) => ['@count', '@sum', '@min', '@max', '@avg', '@variance'][insn.a] ?? `agg${insn.a}`,
  /** slice mask: the key byte ranges it compares, `mask key+0..8 key+16..32` (none: `mask any`) */
  m: (img, insn) => {
    const off = (insn.imm >>> 0) & (LIMITS.DATA_BYTES - 1);
    const n = (img.data[off] ?? 0) | ((img.data[off + 1] ?? 0) << 8);
    const ranges: string[] = [];
    for (let i = 0; i < n; i++) {
      if (!img.data[off + 2 + i]) continue;
      const start = i;
      while (i + 1 < n && img.data[off + 3 + i]) i++;
      ranges.push(`key+${start}..${i + 1}`);
    }
    return `mask ${ranges.join(' ') || 'any'}`;
  },
  /** string compare condition */
  n: (_img, insn) => scmpNames.get(insn.imm) ?? `cond${insn.imm}`,
};

/** The operand kinds, as vm/isa.json's comment lists them. */
export const OPERAND_KINDS = Object.keys(OPERAND_HELPERS);

function operand(img: ProgramImage, insn: Insn, spec: string): string {
  const kind = spec[0];
  const field = spec.slice(1);
  const helper = OPERAND_HELPERS[kind];
  if (!helper) return `?${spec}`;
  return helper(img, insn, field === 'd' || field === 'a' || field === 'b' ? field : undefined);
}

/** One instruction: `0012  ADD      r3, r1, r2`; next is the following instruction's pc. */
export function disassemble(img: ProgramImage, pc: number): { text: string; next: number } {
  const word = img.code[pc] ?? 0n;
  const insn = decode(word);
  const info = OPS[insn.op];
  let text: string;
  if (!info) {
    text = `${pc4(pc)}  ${'???'.padEnd(8)} 0x${BigInt.asUintN(64, word).toString(16).padStart(16, '0')}`;
  } else {
    const specs = info.operands ? info.operands.split(',').map((x) => x.trim()) : [];
    const ops = specs.map((spec) => operand(img, insn, spec)).join(', ');
    text = `${pc4(pc)}  ${info.name.padEnd(8)} ${ops}`.trimEnd();
  }
  return { text, next: pc + 1 };
}

/**
 * The whole image: a `probe <pp>:` or `function <name>:` header at each entry pc, and before
 * each instruction whose source line differs from the previous one's (a header resets it),
 * `        # file:line: <source line, trimmed>`.
 */
export function disassembleAll(img: ProgramImage): string {
  const headers = new Map<number, string[]>();
  const addHeader = (pc: number, text: string): void => {
    const list = headers.get(pc) ?? [];
    list.push(text);
    headers.set(pc, list);
  };
  for (const f of img.functions) addHeader(f.pc, `function ${f.name}:`);
  for (const p of img.probes) addHeader(p.pc, `probe ${p.pp}:`);

  const lines: string[] = [];
  const fileLines = new Map<string, string[] | undefined>();
  const sourceLine = (file: string, line: number): string | undefined => {
    if (!fileLines.has(file)) fileLines.set(file, img.sources[file]?.split(/\r?\n/));
    return fileLines.get(file)?.[line - 1]?.trim();
  };

  let prev: string | undefined;
  for (let pc = 0; pc < img.code.length; ) {
    const hs = headers.get(pc);
    if (hs) {
      if (lines.length) lines.push('');
      lines.push(...hs);
      prev = undefined;
    }
    const loc = img.sourceMap[pc]?.loc;
    if (loc) {
      const where = `${loc.file}:${loc.line}`;
      if (where !== prev) {
        const text = sourceLine(loc.file, loc.line);
        lines.push(`        # ${where}${text ? `: ${text}` : ''}`);
        prev = where;
      }
    }
    const { text, next } = disassemble(img, pc);
    lines.push(text);
    pc = next;
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}
