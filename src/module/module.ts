// Modules (`tapvm -p4 -m NAME`): a compiled program image, the kernel facts its bytecode relies
// on and a checksum, in one msgpackr file NAME.tvm; `tapvm run NAME.tvm` runs it with no
// front-end, after checking the facts against the host it is about to run on.
import * as fs from 'fs';
import * as path from 'path';
import * as crypto from 'crypto';
import type * as Msgpackr from 'msgpackr';
import type { ProgramImage } from '../image/image';
import type { KernelFacts, UsedFacts } from '../kernel/facts';
import { kernelTypeFact } from '../kernel/ktypes';

/** msgpackr (and its native extension) is loaded on first use: a one-liner that neither writes a
 * module nor opens a control connection does not pay for it at start-up. */
export const msgpackr = (): typeof Msgpackr => require('msgpackr');

export const MODULE_EXT = '.tvm';
const FORMAT = 'tapvm-module';
const VERSION = 1;

/** What a module holds besides its checksum. */
export interface ModuleBody {
  name: string;
  /** sha256 of vm/isa.json (16 hex): the bytecode's contract with the interpreter */
  isa: string;
  /** where the facts came from: "this host" or the -r snapshot's file name */
  factsOrigin: string;
  facts: UsedFacts;
  image: ProgramImage;
}

interface ModuleFile {
  format: string;
  version: number;
  /** the packed ModuleBody */
  body: Uint8Array;
  /** sha256 of body, hex */
  sha256: string;
}

let isaCache: string | undefined;

/** The ISA's identity: any change of vm/isa.json (opcodes, limits, layouts) gives a new one. */
export function isaHash(): string {
  return (isaCache ??= crypto
    .createHash('sha256')
    .update(fs.readFileSync(path.join(__dirname, '..', '..', 'vm', 'isa.json')))
    .digest('hex')
    .slice(0, 16));
}

/** The module's file name for `-m NAME`: NAME.tvm (NAME may already end in .tvm). */
export function moduleFileName(name: string): string {
  return name.endsWith(MODULE_EXT) ? name : name + MODULE_EXT;
}

/** stap's rule for -m: a C identifier, since stap makes it the kernel module's name. */
export function validModuleName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(path.basename(name, MODULE_EXT));
}

export function encodeModule(body: ModuleBody): Buffer {
  const { pack } = msgpackr();
  const packed = pack(body);
  const file: ModuleFile = { format: FORMAT, version: VERSION, body: packed, sha256: crypto.createHash('sha256').update(packed).digest('hex') };
  return pack(file);
}

export function writeModule(file: string, body: ModuleBody): void {
  fs.writeFileSync(file, encodeModule(body));
}

/** Reads and verifies a module; throws one sentence when it is not one or is damaged. */
export function decodeModule(bytes: Buffer, file: string): ModuleBody {
  let f: ModuleFile;
  try {
    f = msgpackr().unpack(bytes) as ModuleFile;
  } catch {
    throw new Error(`${file} is not a tapvm module`);
  }
  if (!f || f.format !== FORMAT) throw new Error(`${file} is not a tapvm module`);
  if (f.version !== VERSION) throw new Error(`${file} is a version ${f.version} tapvm module, and this tapvm reads version ${VERSION}`);
  const sum = crypto.createHash('sha256').update(f.body).digest('hex');
  if (sum !== f.sha256) throw new Error(`${file} is damaged: its checksum does not match its contents`);
  const body = msgpackr().unpack(f.body) as ModuleBody;
  // msgpackr gives Buffers back for Uint8Arrays; keep the image exactly what the compiler made
  body.image.data = new Uint8Array(body.image.data);
  return body;
}

export function readModule(file: string): ModuleBody {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new Error(`cannot read module '${file}': ${(e as Error).message.replace(/^.*?: /, '').split(',')[0]}`);
  }
  return decodeModule(bytes, file);
}

const fieldText = ([off, size, signed]: [number, number, boolean]) => `offset ${off} (${size} bytes, ${signed ? 'signed' : 'unsigned'})`;

/**
 * Compares the facts a module relies on with `host`'s: undefined when they all hold, else one
 * sentence naming the first difference.
 */
export function factsMismatch(m: ModuleBody, host: KernelFacts, file: string): string | undefined {
  const name = path.basename(file);
  const f = m.facts;
  if (m.isa !== isaHash()) return `module ${name} was compiled for tapvm ISA ${m.isa}, and this tapvm's ISA is ${isaHash()}: compile it again with this tapvm`;
  if (f.release !== host.release()) return `module ${name} was compiled for kernel ${f.release}, and this kernel is ${host.release()}`;
  if (f.machine !== host.machine()) return `module ${name} was compiled for ${f.machine}, and this machine is ${host.machine()}`;
  for (const [tp, fields] of Object.entries(f.tracepoints)) {
    const [system, event] = tp.split(':');
    const here = host.tracepoint(system, event);
    if (fields === null) {
      if (here) return `module ${name} was compiled for a kernel without tracepoint ${tp}, and this kernel has it`;
      continue;
    }
    if (!here) return `module ${name} uses tracepoint ${tp}, which this kernel does not have`;
    for (const [field, want] of Object.entries(fields)) {
      const h = here.fields.find((x) => x.name === field);
      if (!h) return `module ${name} reads field ${field} of tracepoint ${tp}, which this kernel's ${tp} does not have`;
      const got: [number, number, boolean] = [h.offset, h.size, h.signed];
      if (got.some((v, i) => v !== want[i]))
        return `module ${name} reads field ${field} of tracepoint ${tp} at ${fieldText(want)}, and this kernel has it at ${fieldText(got)}`;
    }
  }
  for (const [sc, nr] of Object.entries(f.syscalls)) {
    const here = host.syscallNumber(sc) ?? null;
    if (here !== nr) return `module ${name} was compiled with system call ${sc} as number ${nr ?? 'none'}, and here it is ${here ?? 'none'}`;
  }
  const types = Object.entries(f.types ?? {});
  if (types.length) {
    const btf = host.btf();
    if (!btf) return `module ${name} uses kernel types (BTF), and this kernel has no BTF`;
    for (const [key, want] of types) {
      const here = kernelTypeFact(btf, key);
      if (here !== want) return `module ${name} was compiled with ${key} as ${want ?? 'absent'}, and this kernel has ${here ?? 'none'}`;
    }
  }
  for (const [opt, v] of Object.entries(f.config)) {
    const here = host.config(opt);
    if (here !== v) return `module ${name} was compiled for a kernel with ${opt}=${v || '(unset)'}, and this kernel has ${opt}=${here || '(unset)'}`;
  }
  return undefined;
}
