// ELF symbol reader for user-space probes: function and data symbols of .symtab and .dynsym,
// and the file offset of a virtual address through the executable PT_LOAD segments (as libbpf's
// elf_find_func_offset), which is what a uprobe is attached at.
import * as fs from 'fs';

const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const SHT_NOTE = 7;
const NT_GNU_BUILD_ID = 3;
const STT_OBJECT = 1;
const STT_FUNC = 2;
const SHN_UNDEF = 0;
const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_SONAME = 14;
const PF_X = 1;

export interface ElfSymbol {
  name: string;
  /** st_value: the virtual address */
  addr: bigint;
  size: bigint;
}

export interface ElfSegment {
  vaddr: bigint;
  offset: bigint;
  memsz: bigint;
  executable: boolean;
}

export interface ElfFile {
  /** ET_EXEC 2, ET_DYN 3 */
  type: number;
  segments: ElfSegment[];
  /** defined functions (STT_FUNC) of .symtab and .dynsym, deduplicated by name and address, sorted by address */
  functions: ElfSymbol[];
  /** defined data objects (STT_OBJECT: globals, statics) of .symtab and .dynsym, as `functions` */
  objects: ElfSymbol[];
  /**
   * a shared library: ET_DYN with a DT_SONAME or without a program interpreter (a PIE
   * executable has PT_INTERP and no soname; libc.so.6 has both, and is a library)
   */
  library: boolean;
  /** the GNU build-id note, hex, when the file has one */
  buildId?: string;
}

export class ElfError extends Error {}

/** Reads a 64-bit little-endian ELF file (x86_64). */
export function readElf(path: string): ElfFile {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(path);
  } catch (e) {
    throw new ElfError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) throw new ElfError(`${path} is not an ELF file`);
  if (buf[4] !== 2 || buf[5] !== 1) throw new ElfError(`${path} is not a 64-bit little-endian ELF file`);
  const type = buf.readUInt16LE(16);
  const phoff = Number(buf.readBigUInt64LE(32));
  const shoff = Number(buf.readBigUInt64LE(40));
  const phentsize = buf.readUInt16LE(54);
  const phnum = buf.readUInt16LE(56);
  const shentsize = buf.readUInt16LE(58);
  const shnum = buf.readUInt16LE(60);
  const inFile = (off: number, len: number) => off >= 0 && off + len <= buf.length;

  const segments: ElfSegment[] = [];
  let interp = false;
  let soname = false;
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (!inFile(p, 56)) throw new ElfError(`${path}: truncated program headers`);
    const ptype = buf.readUInt32LE(p);
    if (ptype === PT_INTERP) interp = true;
    if (ptype === PT_DYNAMIC) {
      // (d_tag, d_val) pairs up to DT_NULL
      const off = Number(buf.readBigUInt64LE(p + 8));
      const end = off + Number(buf.readBigUInt64LE(p + 32));
      for (let d = off; d + 16 <= end && inFile(d, 16); d += 16) {
        const tag = buf.readBigUInt64LE(d);
        if (tag === 0n) break;
        if (tag === BigInt(DT_SONAME)) soname = true;
      }
    }
    if (ptype !== PT_LOAD) continue;
    segments.push({
      executable: (buf.readUInt32LE(p + 4) & PF_X) !== 0,
      offset: buf.readBigUInt64LE(p + 8),
      vaddr: buf.readBigUInt64LE(p + 16),
      memsz: buf.readBigUInt64LE(p + 40),
    });
  }

  const sections = [];
  for (let i = 0; i < shnum; i++) {
    const s = shoff + i * shentsize;
    if (!inFile(s, 64)) throw new ElfError(`${path}: truncated section headers`);
    sections.push({
      type: buf.readUInt32LE(s + 4),
      offset: Number(buf.readBigUInt64LE(s + 24)),
      size: Number(buf.readBigUInt64LE(s + 32)),
      link: buf.readUInt32LE(s + 40),
      entsize: Number(buf.readBigUInt64LE(s + 56)),
    });
  }

  let buildId: string | undefined;
  for (const sec of sections) {
    if (sec.type !== SHT_NOTE || !inFile(sec.offset, sec.size)) continue;
    // notes: namesz, descsz, type, name (4-aligned), desc (4-aligned)
    for (let off = sec.offset; off + 12 <= sec.offset + sec.size; ) {
      const namesz = buf.readUInt32LE(off);
      const descsz = buf.readUInt32LE(off + 4);
      const type = buf.readUInt32LE(off + 8);
      const desc = off + 12 + ((namesz + 3) & ~3);
      if (desc + descsz > sec.offset + sec.size) break;
      if (type === NT_GNU_BUILD_ID && buf.toString('latin1', off + 12, off + 12 + namesz) === 'GNU\0') buildId = buf.toString('hex', desc, desc + descsz);
      off = desc + ((descsz + 3) & ~3);
    }
  }

  const seen = new Set<string>();
  const functions: ElfSymbol[] = [];
  const objects: ElfSymbol[] = [];
  for (const sec of sections) {
    if (sec.type !== SHT_SYMTAB && sec.type !== SHT_DYNSYM) continue;
    const strtab = sections[sec.link];
    if (!strtab || !inFile(sec.offset, sec.size) || !inFile(strtab.offset, strtab.size)) continue;
    const entsize = sec.entsize || 24;
    for (let off = sec.offset; off + 24 <= sec.offset + sec.size; off += entsize) {
      const info = buf[off + 4];
      const shndx = buf.readUInt16LE(off + 6);
      const addr = buf.readBigUInt64LE(off + 8);
      const kind = info & 0xf;
      if ((kind !== STT_FUNC && kind !== STT_OBJECT) || shndx === SHN_UNDEF || addr === 0n) continue;
      const nameOff = strtab.offset + buf.readUInt32LE(off);
      const end = buf.indexOf(0, nameOff);
      if (end < 0 || end > strtab.offset + strtab.size) continue;
      const name = buf.toString('latin1', nameOff, end);
      const key = `${kind}:${name}@${addr}`;
      if (!name || seen.has(key)) continue;
      seen.add(key);
      (kind === STT_FUNC ? functions : objects).push({ name, addr, size: buf.readBigUInt64LE(off + 16) });
    }
  }
  const byAddr = (a: ElfSymbol, b: ElfSymbol) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : a.name < b.name ? -1 : 1);
  functions.sort(byAddr);
  objects.sort(byAddr);
  return { type, segments, functions, objects, library: type === 3 && (soname || !interp), ...(buildId ? { buildId } : {}) };
}

/** File offset of virtual address `addr`, through the executable PT_LOAD segment holding it. */
export function fileOffset(elf: ElfFile, addr: bigint): bigint | undefined {
  const seg = elf.segments.find((s) => s.executable && addr >= s.vaddr && addr < s.vaddr + s.memsz);
  return seg ? addr - seg.vaddr + seg.offset : undefined;
}

/** stap's probe-point wildcards: `*` any run of characters, `?` one character. */
export function globMatcher(pattern: string): (name: string) => boolean {
  if (!/[*?]/.test(pattern)) return (name) => name === pattern;
  const re = new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
  return (name) => re.test(name);
}
