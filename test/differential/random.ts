// A seeded random corpus: long expressions over locals and edge-case constants, and string
// concatenations/comparisons, each with the value vm/isa.json's semantics give (computed here
// with BigInt), so a case checks both interpreters against each other and against the ISA.
// The seed is fixed: the corpus is the same on every run.
import type { Case, Group } from './cases';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const w = (x: bigint) => BigInt.asIntN(64, x);
const b2n = (v: boolean) => (v ? 1n : 0n);

/** The ISA's operations (vm/isa.json), on signed 64-bit values. */
const BIN: Record<string, (a: bigint, b: bigint) => bigint | undefined> = {
  '+': (a, b) => w(a + b),
  '-': (a, b) => w(a - b),
  '*': (a, b) => w(a * b),
  // DIV/MOD: truncating, sign of the dividend for %, INT64_MIN / -1 == INT64_MIN; 0 is DIV0
  '/': (a, b) => (b === 0n ? undefined : w((a < 0n ? -a : a) / (b < 0n ? -b : b) * (a < 0n !== b < 0n ? -1n : 1n))),
  '%': (a, b) => (b === 0n ? undefined : w(((a < 0n ? -a : a) % (b < 0n ? -b : b)) * (a < 0n ? -1n : 1n))),
  '<<': (a, b) => w(a << (b & 63n)),
  '>>': (a, b) => a >> (b & 63n),
  '&': (a, b) => w(a & b),
  '|': (a, b) => w(a | b),
  '^': (a, b) => w(a ^ b),
  '==': (a, b) => b2n(a === b),
  '!=': (a, b) => b2n(a !== b),
  '<': (a, b) => b2n(a < b),
  '<=': (a, b) => b2n(a <= b),
  '>': (a, b) => b2n(a > b),
  '>=': (a, b) => b2n(a >= b),
  '&&': (a, b) => b2n(a !== 0n && b !== 0n),
  '||': (a, b) => b2n(a !== 0n || b !== 0n),
};
const BIN_OPS = Object.keys(BIN);

const CONSTS: bigint[] = [
  0n, 1n, 2n, 3n, 7n, 10n, 31n, 32n, 63n, 64n, 65n, 127n, 128n, 255n, 256n, 1000n,
  0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 0x123456789n,
  0x7fffffffffffffffn, 0x8000000000000000n, 0xffffffffffffffffn, 0xdeadbeefcafebaben,
];

interface Expr {
  text: string;
  value: bigint;
}

function longExprGen(rnd: () => number, vars: bigint[]) {
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
  let budget = 0;

  const leaf = (): Expr => {
    if (rnd() < 0.55) {
      const i = Math.floor(rnd() * vars.length);
      return { text: `v${i}`, value: vars[i] };
    }
    let c: bigint;
    if (rnd() < 0.25) c = BigInt.asUintN(64, (BigInt(Math.floor(rnd() * 2 ** 32)) << 32n) | BigInt(Math.floor(rnd() * 2 ** 32)));
    else c = pick(CONSTS);
    // literals are unsigned magnitudes: 0x8000000000000000 and up are negative longs
    const text = c > 0xffffffffn ? `0x${c.toString(16)}` : c.toString();
    return rnd() < 0.3 ? { text: `(-${text})`, value: w(-w(c)) } : { text, value: w(c) };
  };

  const gen = (depth: number): Expr => {
    if (depth === 0 || budget <= 0 || rnd() < 0.2) return leaf();
    budget--;
    const r = rnd();
    if (r < 0.12) {
      const op = pick(['-', '~', '!']);
      const a = gen(depth - 1);
      const value = op === '-' ? w(-a.value) : op === '~' ? w(~a.value) : b2n(a.value === 0n);
      return { text: `${op}(${a.text})`, value };
    }
    if (r < 0.2) {
      const c = gen(depth - 1);
      const x = gen(depth - 1);
      const y = gen(depth - 1);
      return { text: `(${c.text} ? ${x.text} : ${y.text})`, value: c.value !== 0n ? x.value : y.value };
    }
    const a = gen(depth - 1);
    for (;;) {
      const op = pick(BIN_OPS);
      const b = gen(depth - 1);
      const value = BIN[op](a.value, b.value);
      if (value !== undefined) return { text: `(${a.text} ${op} ${b.text})`, value };
    }
  };

  return (maxNodes: number): Expr => {
    budget = maxNodes;
    return gen(4);
  };
}

function longGroup(seed: number, n: number): Group {
  const rnd = mulberry32(seed);
  const vars: bigint[] = [];
  const inits: string[] = [];
  for (let i = 0; i < 8; i++) {
    const c = i < 3 ? CONSTS[Math.floor(rnd() * CONSTS.length)] : BigInt.asUintN(64, (BigInt(Math.floor(rnd() * 2 ** 32)) << 32n) | BigInt(Math.floor(rnd() * 2 ** 32)));
    vars.push(w(c));
    inits.push(`v${i} = 0x${c.toString(16)}`);
  }
  const gen = longExprGen(rnd, vars);
  const cases: Case[] = [{ label: `r${seed}init`, body: `${inits.join('; ')}; printf("r${seed}init: ${vars.map(() => '%d').join(' ')}\\n", ${vars.map((_, i) => `v${i}`).join(', ')})`, expect: `r${seed}init: ${vars.join(' ')}\n` }];
  for (let k = 0; k < n; k++) {
    const e = gen(12);
    const label = `r${seed}_${k}`;
    cases.push({ label, body: `printf("${label}: %d\\n", ${e.text})`, expect: `${label}: ${e.value}\n` });
  }
  return { name: `random long expressions (seed ${seed}, ${n} cases)`, cases };
}

// ---- strings ----

const STR_CONSTS = ['', 'a', 'ab', 'abc', 'abd', 'b', 'B', 'Z', 'zz', '0123456789', 'a b', '~', '!'];

function stringGroup(seed: number, n: number): Group {
  const rnd = mulberry32(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
  // locals: w0 is 127 bytes (built at run time), the others short
  const long127 = '0123456789'.repeat(13).slice(0, 127);
  const vars = [long127, long127.slice(0, 120), pick(STR_CONSTS), pick(STR_CONSTS), pick(STR_CONSTS)];
  const init =
    `w0 = ""; for (wi = 0; wi < 13; wi++) w0 .= "0123456789"; w1 = ""; for (wi = 0; wi < 12; wi++) w1 .= "0123456789"; ` +
    vars.slice(2).map((s, i) => `w${i + 2} = "${s}"`).join('; ');
  const cat = (a: string, b: string) => (a + b).slice(0, 127);

  const leaf = (): { text: string; value: string } => {
    if (rnd() < 0.5) {
      const i = Math.floor(rnd() * vars.length);
      return { text: `w${i}`, value: vars[i] };
    }
    const s = pick(STR_CONSTS);
    return { text: `"${s}"`, value: s };
  };
  const gen = (depth: number): { text: string; value: string } => {
    if (depth === 0 || rnd() < 0.3) return leaf();
    const a = gen(depth - 1);
    const b = gen(depth - 1);
    return { text: `(${a.text} . ${b.text})`, value: cat(a.value, b.value) };
  };
  const CMPS: Record<string, (a: string, b: string) => boolean> = {
    // latin1 JS strings compare by char code: unsigned bytes, a prefix sorts first, like strcmp
    '==': (a, b) => a === b,
    '!=': (a, b) => a !== b,
    '<': (a, b) => a < b,
    '<=': (a, b) => a <= b,
    '>': (a, b) => a > b,
    '>=': (a, b) => a >= b,
  };
  const cases: Case[] = [{ label: `s${seed}init`, body: `${init}; printf("s${seed}init: ok\\n")`, expect: `s${seed}init: ok\n` }];
  for (let k = 0; k < n; k++) {
    const a = gen(3);
    const b = gen(2);
    const op = pick(Object.keys(CMPS));
    const label = `s${seed}_${k}`;
    cases.push({
      label,
      body: `sa = ${a.text}; printf("${label}: [%s] %d\\n", sa, sa ${op} ${b.text})`,
      expect: `${label}: [${a.value}] ${CMPS[op](a.value, b.value) ? 1 : 0}\n`,
    });
  }
  return { name: `random string concatenations and comparisons (seed ${seed}, ${n} cases)`, cases };
}

export const RANDOM_GROUPS: Group[] = [longGroup(1, 100), longGroup(2, 100), stringGroup(3, 80)];
