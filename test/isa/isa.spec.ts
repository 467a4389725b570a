import * as fs from 'fs';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import { OPERAND_KINDS } from '../../src/isa/disasm';

 
const { generate, load, root } = require('../../scripts/gen-isa.js') as {
  generate: (isa: unknown) => Record<string, string>;
  load: () => Isa;
  root: string;
};

interface Isa {
  comment: string;
  opcodes: { op: number; name: string; operands: string; doc: string }[];
}

/** The kinds vm/isa.json's comment documents ("Operand kinds: r = ..., s = ..."). */
const KINDS = ['r', 's', 'i', 'p', 'g', 'G', 'A', 'c', 'f', 'o', 'k', 't', 'n', 'x', 'm'];
/** r and s name their field (rd, sa, ...); the others are the immediate (A and t use b too). */
const FIELDS = new Set(['d', 'a', 'b']);

describe('vm/isa.json', () => {
  const isa = load();

  for (const rel of ['vm/isa.h', 'src/isa/opcodes.ts']) {
    it(`${rel} is up to date`, () => {
      const want = generate(isa)[rel];
      const have = fs.readFileSync(path.join(root, rel), 'utf8');
      expect(have === want, `${rel} is stale: run \`node scripts/gen-isa.js\``).toBe(true);
    });
  }

  it('opcode numbers and names are unique', () => {
    const ops = isa.opcodes.map((o) => o.op);
    expect(new Set(ops).size).toBe(ops.length);
    expect(new Set(isa.opcodes.map((o) => o.name)).size).toBe(ops.length);
    for (const o of isa.opcodes) expect(Number.isInteger(o.op) && o.op >= 0 && o.op < 256, o.name).toBe(true);
  });

  it('the comment documents exactly the known operand kinds', () => {
    const documented = [...isa.comment.matchAll(/(?:kinds: |, )([A-Za-z]) = /g)].map((m) => m[1]);
    expect(documented).toEqual(KINDS);
    expect([...OPERAND_KINDS].sort()).toEqual([...KINDS].sort());
  });

  it('each operands string uses only known kinds, with a field exactly for r and s', () => {
    for (const o of isa.opcodes) {
      if (o.operands === '') continue;
      for (const spec of o.operands.split(', ')) {
        const kind = spec[0];
        const field = spec.slice(1);
        expect(KINDS, `${o.name}: unknown operand kind in "${o.operands}"`).toContain(kind);
        if (kind === 'r' || kind === 's') expect(FIELDS.has(field), `${o.name}: ${spec} needs d, a or b`).toBe(true);
        else expect(field, `${o.name}: ${spec} takes no field`).toBe('');
      }
    }
  });

  it('no two operands of an opcode use the same field (A and t use b, x uses a)', () => {
    for (const o of isa.opcodes) {
      if (o.operands === '') continue;
      const fields = o.operands
        .split(', ')
        .map((spec) => (spec === 'A' || spec === 't' ? 'b' : spec === 'x' ? 'a' : spec.slice(1)))
        .filter((f) => f !== '');
      expect(new Set(fields).size, o.name).toBe(fields.length);
    }
  });
});
