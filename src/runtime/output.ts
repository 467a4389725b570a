// Turns print events into text (stap's printf semantics) and errors into stap's messages.
import type { ProgramImage } from '../image/image';
import type { VmEvent } from '../vm/backend';
import { ERR } from '../isa/opcodes';
import { parseFormat, formatValues, type ParsedFormat } from '../output/format';

export class OutputFormatter {
  private parsed: ParsedFormat[];
  private pending: string[] = [];
  private pendingBytes = 0;

  /** set once the reader went away (EPIPE): further output is dropped */
  closed = false;

  constructor(
    img: ProgramImage,
    private out: NodeJS.WritableStream,
  ) {
    this.parsed = img.formats.map((f) => parseFormat(f.text));
  }

  print(ev: Extract<VmEvent, { type: 'print' }>) {
    const s = formatValues(this.parsed[ev.format], ev.values);
    this.pending.push(s);
    this.pendingBytes += s.length;
    // batch writes: one write per event-loop turn (or per 64 KiB) instead of one per record
    if (this.pendingBytes > 65536) this.flush();
    else if (this.pending.length === 1) setImmediate(() => this.flush());
  }

  flush() {
    if (!this.pending.length) return;
    if (this.closed) {
      this.pending = [];
      return;
    }
    this.out.write(Buffer.from(this.pending.join(''), 'latin1'));
    this.pending = [];
    this.pendingBytes = 0;
  }
}

const MESSAGES: Record<number, string> = {
  [ERR.DIV0]: 'division by 0',
  [ERR.MAXACTION]: 'MAXACTION exceeded',
  [ERR.OVERFLOW]: 'Array overflow, check MAXMAPENTRIES',
  [ERR.NESTING]: 'MAXNESTING exceeded',
  [ERR.OPCODE]: 'operation not supported in this probe context',
  [ERR.FAULT]: 'user string copy fault',
  [ERR.OUTPUT]: 'output record too long',
};

/** stap's form: "ERROR: division by 0 near operator '/' at <input>:1:30" */
export function errorMessage(img: ProgramImage, ev: Extract<VmEvent, { type: 'error' }>): string {
  const what = ev.code === ERR.USER ? (ev.message ?? '') : (MESSAGES[ev.code] ?? `error ${ev.code}`);
  const src = img.sourceMap[ev.pc];
  const where = src ? ` near ${src.near} at ${src.loc.file}:${src.loc.line}:${src.loc.col}` : '';
  return `ERROR: ${what}${where}`;
}
