// The differential corpus: handler bodies that must print the same in the TypeScript
// interpreter (probe begin) and in the in-kernel eBPF interpreter (probe syscall.getppid).
//
// A group is one script. Its cases are concatenated into one handler body (so locals share a
// namespace: every case uses its own variable names), each case printing lines that start with
// "label:". `expect`, when given, is exactly the lines the case prints (what stap prints).
// Bodies are stap source: String.raw keeps "\n" for stap's own string escapes.
//
// Only deterministic operations: no pid(), execname(), time. A foreach either sorts without
// ties or sees one element: unsorted and tied orders are the hash map's.

import { textStr } from '../../src/vm/strfuncs';
import { formatHistogram } from '../../src/output/histogram';
import { HIST, statAdd, type StatDesc, type StatVal } from '../../src/vm/stats';

export interface Case {
  label: string;
  body: string;
  expect?: string;
}

export interface Group {
  name: string;
  /** globals, functions and extra probes (e.g. an end probe) before the probe under test */
  decls?: string;
  cases: Case[];
  /** -D MAXACTION for the user run (and, see equalizeMaxAction, the kernel run) */
  maxAction?: number;
  /** give the kernel run the pid filter's instructions on top of maxAction */
  equalizeMaxAction?: boolean;
  /** MAXACTION = the statements the begin handler's ACTs charge + this (straight-line bodies
   * only); the kernel run gets the pid filter's statement on top */
  maxActionRelative?: number;
  /** other -D options, e.g. MAXERRORS=0 */
  defines?: string[];
  /** expected exit code of both runs (default 0) */
  expectCode?: number;
  /** expected stderr of both runs, exactly (default '' when expectCode is 0) */
  expectStderr?: string;
  /** or: what the stderr of both runs must match */
  expectStderrMatch?: RegExp;
}

const INT64_MIN = '-9223372036854775808';
const digits127 = '0123456789'.repeat(13).slice(0, 127);
const a126 = 'a'.repeat(126);
const WARN1 = 'WARNING: Number of errors: 1, skipped probes: 0\n';

// ------------------------------------------------------------------------------------------
// Groups that run to exit()

const arith: Group = {
  name: 'long constants and arithmetic',
  cases: [
    {
      label: 'k64',
      body: String.raw`printf("k64: %d %d %d %d\n", 0x7fffffffffffffff, -9223372036854775808, 0x100000000, 0xffffffff)`,
      expect: `k64: 9223372036854775807 ${INT64_MIN} 4294967296 4294967295\n`,
    },
    {
      label: 'k64b',
      body: String.raw`printf("k64b: %x %d %d %d %d\n", 0xdeadbeefcafebabe, 0x80000000, -2147483649, 4294967297 * -1, 0x7fffffff)`,
      expect: 'k64b: deadbeefcafebabe 2147483648 -2147483649 -4294967297 2147483647\n',
    },
    {
      label: 'addsub',
      body: String.raw`mx = 9223372036854775807; printf("addsub: %d %d %d %d %d\n", mx + 1, -mx - 2, mx - -1, 5 - 7, mx + mx)`,
      expect: `addsub: ${INT64_MIN} 9223372036854775807 ${INT64_MIN} -2 -2\n`,
    },
    {
      label: 'mul',
      body: String.raw`printf("mul: %d %d %d %d %d\n", 4294967297 * 4294967297, mx * 2, -3 * 7, -3 * -7, 0x100000000 * 0x100000000)`,
      expect: 'mul: 8589934593 -2 -21 21 0\n',
    },
    {
      label: 'div',
      body: String.raw`d7 = 7; printf("div: %d %d %d %d %d %d\n", d7 / 2, -d7 / 2, d7 / -2, -d7 / -2, 0 / d7, mx / 10)`,
      expect: 'div: 3 -3 -3 3 0 922337203685477580\n',
    },
    {
      label: 'mod',
      body: String.raw`printf("mod: %d %d %d %d %d\n", d7 % 3, -d7 % 3, d7 % -3, -d7 % -3, mx % 10)`,
      expect: 'mod: 1 -1 1 -1 7\n',
    },
    {
      label: 'minm',
      body: String.raw`mn = -9223372036854775808; m1 = -1; printf("minm: %d %d %d %d %d %d\n", mn / m1, mn % m1, mn / 1, mn % 10, mn / 2, mn * m1)`,
      expect: `minm: ${INT64_MIN} 0 ${INT64_MIN} -8 -4611686018427387904 ${INT64_MIN}\n`,
    },
    {
      label: 'shl',
      body: String.raw`s1 = 1; printf("shl: %d %d %d %d %d %d\n", s1 << 63, s1 << 64, s1 << 65, 3 << -1, 0x1234 << 4, -s1 << 4)`,
      expect: `shl: ${INT64_MIN} 1 2 ${INT64_MIN} 74560 -16\n`,
    },
    {
      label: 'shr',
      body: String.raw`printf("shr: %d %d %d %d %d %d %d\n", -s1 >> 1, -8 >> 1, mn >> 63, s1 >> 64, 0x1234 >> 4, 256 >> 65, mx >> 62)`,
      expect: 'shr: -1 -4 -1 1 291 128 1\n',
    },
    {
      label: 'bits',
      body: String.raw`b12 = 12; printf("bits: %d %d %d %x %d %d %x\n", b12 & 10, b12 | 10, b12 ^ 10, ~0, ~5, ~mn, mn | 1)`,
      expect: 'bits: 8 14 6 ffffffffffffffff -6 9223372036854775807 8000000000000001\n',
    },
    {
      label: 'unary',
      body: String.raw`printf("unary: %d %d %d %d %d %d %d\n", !0, !b12, !-1, -mn, -(-5), +3, !!b12)`,
      expect: `unary: 1 0 0 ${INT64_MIN} 5 3 1\n`,
    },
    {
      label: 'cmp',
      body: String.raw`cl = -1; ch = 1; printf("cmp: %d%d%d%d%d%d %d%d%d%d%d%d %d%d%d\n", cl < ch, cl <= ch, cl > ch, cl >= ch, cl == ch, cl != ch, ch < ch, ch <= ch, ch > ch, ch >= ch, ch == ch, ch != ch, mn < mx, mn > mx, mn < 0)`,
      expect: 'cmp: 110001 010110 101\n',
    },
  ],
};

const strings: Group = {
  name: 'strings: constants, concatenation, truncation',
  decls: 'global gs = "init"',
  cases: [
    {
      label: 'sconst',
      body: String.raw`printf("sconst: [%s] [%s] [%s] [%s]\n", "hello", "", "tab\there", "a" "b")`,
      expect: 'sconst: [hello] [] [tab\there] [ab]\n',
    },
    {
      label: 'cat',
      body: String.raw`sc = "foo" . "bar"; sc2 = sc . "-" . sc; printf("cat: %s %s %s\n", sc, sc2, "" . "" . sc)`,
      expect: 'cat: foobar foobar-foobar foobar\n',
    },
    {
      label: 'catalias',
      body: String.raw`sx = "ab"; sx = sx . sx; sx = "<" . sx; sx = sx . ">"; printf("catalias: %s\n", sx)`,
      expect: 'catalias: <abab>\n',
    },
    {
      label: 'trunc',
      body: String.raw`st = ""; for (ti = 0; ti < 20; ti++) st .= "0123456789"; printf("trunc: %s\n", st)`,
      expect: `trunc: ${digits127}\n`,
    },
    {
      label: 'trunc2',
      body: String.raw`sv = ""; for (tj = 0; tj < 126; tj++) sv .= "a"; sw = sv . "XYZ"; sw2 = "XYZ" . st; printf("trunc2: %s\ntrunc2: %s\n", sw, sw2)`,
      expect: `trunc2: ${a126}X\ntrunc2: XYZ${digits127.slice(0, 124)}\n`,
    },
    {
      label: 'trunc3',
      body: String.raw`sy = st . st; sz = st; sz .= "!"; printf("trunc3: %s\ntrunc3: %s\n", sy, sz)`,
      expect: `trunc3: ${digits127}\ntrunc3: ${digits127}\n`,
    },
    {
      label: 'dotassign',
      body: String.raw`sd = "x"; sd .= "y"; sd .= sd; sd .= ""; printf("dotassign: %s\n", sd)`,
      expect: 'dotassign: xyxy\n',
    },
    {
      label: 'sglob',
      body: String.raw`gs .= "+more"; gs = gs . "!"; gs2 = gs; gs = "new"; printf("sglob: %s %s\n", gs2, gs)`,
      expect: 'sglob: init+more! new\n',
    },
    {
      label: 'stern',
      body: String.raw`printf("stern: %s %s %s\n", 1 ? "yes" : "no", 0 ? "yes" : "no", sc == "foobar" ? sc : "x")`,
      expect: 'stern: yes no foobar\n',
    },
  ],
};

const strcmp: Group = {
  name: 'strings: comparisons',
  decls: 'global gcmp = "abc"',
  cases: [
    {
      label: 'scmp',
      body: String.raw`printf("scmp: %d%d%d%d", "abc" == "abc", "abc" != "abc", "abc" < "abd", "abd" > "abc"); printf(" %d%d%d%d", "ab" < "abc", "abc" > "ab", "" < "a", "" == ""); printf(" %d%d%d%d", "b" > "abc", "B" < "a", "a" <= "a", "a" >= "b"); printf(" %d%d%d%d\n", "" != "", "a" > "", "abc" <= "ab", "ab" >= "abc")`,
      expect: 'scmp: 1011 1111 1110 0100\n',
    },
    {
      label: 'scmpvar',
      body: String.raw`c1 = "abc"; c2 = "abd"; c3 = ""; printf("scmpvar: %d%d%d%d%d%d %d%d%d\n", c1 == gcmp, c1 != gcmp, c1 < c2, c2 < c1, c1 >= c1, c1 <= c2, c3 == "", c3 < c1, gcmp > c2)`,
      expect: 'scmpvar: 101011 110\n',
    },
    {
      label: 'scmphi',
      body: String.raw`printf("scmphi: %d %d %d\n", "\xff" > "a", "\x80" > "\x7f", "a\xff" < "ab")`,
      expect: 'scmphi: 1 1 0\n',
    },
    {
      label: 'scmplong',
      body: String.raw`lo = ""; for (lj = 0; lj < 13; lj++) lo .= "0123456789"; lp = lo; lp .= "x"; lq = ""; for (lj = 0; lj < 126; lj++) lq .= "a"; lr = lq . "b"; printf("scmplong: %d %d %d %d %d\n", lo == lp, lq < lr, lr > lq, lq == lr, lo != lo . "y")`,
      expect: 'scmplong: 1 1 1 0 0\n',
    },
    {
      label: 'scmpif',
      body: String.raw`if ("x" < "y") printf("scmpif: lt\n"); if (c1 == "abc" && c2 != "abc") printf("scmpif: and\n"); while (c3 < "aaa") c3 .= "a"; printf("scmpif: %s\n", c3)`,
      expect: 'scmpif: lt\nscmpif: and\nscmpif: aaa\n',
    },
  ],
};

const vars: Group = {
  name: 'locals, globals, ++/--, compound assignment, delete',
  decls: 'global g = 5, gs = "x", gneg = -7, gbig = 0x123456789, gu, gus, gi, gc = 5, ai, ca',
  cases: [
    {
      label: 'ginit',
      body: String.raw`printf("ginit: %d %s %d %d %d [%s]\n", g, gs, gneg, gbig, gu, gus)`,
      expect: 'ginit: 5 x -7 4886718345 0 []\n',
    },
    {
      label: 'locals',
      body: String.raw`if (0) { lu = 5; lus = "no" }; printf("locals: %d [%s]\n", lu, lus)`,
      expect: 'locals: 0 []\n',
    },
    {
      label: 'incl',
      body: String.raw`il = 10; i1 = il++; i2 = ++il; i3 = il--; i4 = --il; il++; il--; --il; printf("incl: %d %d %d %d %d\n", i1, i2, i3, i4, il)`,
      expect: 'incl: 10 12 12 10 9\n',
    },
    {
      label: 'incg',
      body: String.raw`j1 = gi++; j2 = ++gi; j3 = gi--; j4 = --gi; gi++; gi++; gi--; printf("incg: %d %d %d %d %d\n", j1, j2, j3, j4, gi)`,
      expect: 'incg: 0 2 2 0 1\n',
    },
    {
      label: 'inca',
      body: String.raw`k1 = ai[5]++; k2 = ++ai[5]; k3 = ai[5]--; k4 = --ai[5]; ai[6]--; printf("inca: %d %d %d %d %d %d %d %d\n", k1, k2, k3, k4, ai[5], 5 in ai, ai[6], 7 in ai)`,
      expect: 'inca: 0 2 2 0 0 1 -1 0\n',
    },
    {
      label: 'cmpl',
      body: String.raw`cl = 100; cl += 5; printf("cmpl: %d", cl); cl -= 10; printf(" %d", cl); cl *= 3; printf(" %d", cl); cl /= 4; printf(" %d", cl); cl %= 50; printf(" %d", cl); cl <<= 3; printf(" %d", cl); cl >>= 1; printf(" %d", cl); cl &= 0x3c; printf(" %d", cl); cl |= 0x100; printf(" %d", cl); cl ^= 0x5; printf(" %d\n", cl)`,
      expect: 'cmpl: 105 95 285 71 21 168 84 20 276 273\n',
    },
    {
      label: 'cmpg',
      body: String.raw`gc += 5; printf("cmpg: %d", gc); gc -= 12; printf(" %d", gc); gc *= -7; printf(" %d", gc); gc /= 3; printf(" %d", gc); gc %= 3; printf(" %d", gc); gc <<= 62; printf(" %d", gc); gc <<= 1; printf(" %d", gc); gc >>= 60; printf(" %d", gc); gc &= 0xf; printf(" %d", gc); gc |= 1; printf(" %d", gc); gc ^= 0xff; printf(" %d\n", gc)`,
      expect: `cmpg: 10 -2 14 4 1 4611686018427387904 ${INT64_MIN} -8 8 9 246\n`,
    },
    {
      label: 'cmpa',
      body: String.raw`ca[1] = 100; ca[1] += 5; printf("cmpa: %d", ca[1]); ca[1] -= 10; printf(" %d", ca[1]); ca[1] *= 3; printf(" %d", ca[1]); ca[1] /= 4; printf(" %d", ca[1]); ca[1] %= 50; printf(" %d", ca[1]); ca[1] <<= 3; printf(" %d", ca[1]); ca[1] >>= 1; printf(" %d", ca[1]); ca[1] &= 0x3c; printf(" %d", ca[1]); ca[1] |= 0x100; printf(" %d", ca[1]); ca[1] ^= 0x5; printf(" %d\n", ca[1])`,
      expect: 'cmpa: 105 95 285 71 21 168 84 20 276 273\n',
    },
    {
      label: 'assignval',
      body: String.raw`av = (aw = 7) + 1; ax = (gu = 3) * 2; ay = (ca[9] = 4) - 1; az = (ca[9] += 6); printf("assignval: %d %d %d %d %d %d %d\n", av, aw, ax, gu, ay, az, ca[9])`,
      expect: 'assignval: 8 7 6 3 3 10 10\n',
    },
    {
      label: 'delete',
      body: String.raw`dl = 5; dls = "s"; gus = "g"; delete dl; delete dls; delete gu; delete gus; printf("delete: %d [%s] %d [%s]\n", dl, dls, gu, gus)`,
      expect: 'delete: 0 [] 0 []\n',
    },
  ],
};

const arrays: Group = {
  name: 'arrays',
  decls: 'global a1, ak, am, an, al, as, ad, asv, akl, anest, a3',
  cases: [
    {
      label: 'arr1',
      body: String.raw`a1[1] = 10; a1[-1] = -10; a1[-9223372036854775808] = 99; a1[0x100000001] = 7; printf("arr1: %d %d %d %d %d %d %d %d\n", a1[1], a1[-1], a1[-9223372036854775808], a1[2], 1 in a1, 2 in a1, a1[0x100000001], a1[1] + a1[-1])`,
      expect: 'arr1: 10 -10 99 0 1 0 7 0\n',
    },
    {
      label: 'arrs',
      body: String.raw`ak["foo"] = 1; ak[""] = 2; ak["foo"] += 10; ak["fo"] = 3; printf("arrs: %d %d %d %d %d %d\n", ak["foo"], ak[""], ak["bar"], "" in ak, "bar" in ak, ak["fo"])`,
      expect: 'arrs: 11 2 0 1 0 3\n',
    },
    {
      label: 'arr2ls',
      body: String.raw`am[1, "x"] = 5; am[1, "y"] = 6; am[2, "x"] = 7; printf("arr2ls: %d %d %d %d %d %d\n", am[1, "x"], am[1, "y"], am[2, "x"], am[2, "y"], [2, "y"] in am, [1, "y"] in am)`,
      expect: 'arr2ls: 5 6 7 0 0 1\n',
    },
    {
      label: 'arr2sl',
      body: String.raw`an["x", 1] = 15; an["x", -1] = 16; an["", 0] = 17; printf("arr2sl: %d %d %d %d %d\n", an["x", 1], an["x", -1], an["", 0], an["x", 0], ["", 0] in an)`,
      expect: 'arr2sl: 15 16 17 0 1\n',
    },
    {
      label: 'arr2ll',
      body: String.raw`al[1, 2] = 12; al[2, 1] = 21; al[-1, -1] = 11; printf("arr2ll: %d %d %d %d %d\n", al[1, 2], al[2, 1], al[-1, -1], [1, 2] in al, [1, 1] in al)`,
      expect: 'arr2ll: 12 21 11 1 0\n',
    },
    {
      label: 'arrsv',
      body: String.raw`as[1] = "one"; as[2] = "two"; as[2] .= "!"; as[4] = as[1] . as[2]; printf("arrsv: %s %s [%s] %d %s %d\n", as[1], as[2], as[3], 3 in as, as[4], 4 in as)`,
      expect: 'arrsv: one two! [] 0 onetwo! 1\n',
    },
    {
      label: 'arrdel',
      body: String.raw`ad[1] = 1; ad[2] = 2; delete ad[1]; delete ad[3]; printf("arrdel: %d %d %d %d", 1 in ad, 2 in ad, ad[1], ad[2]); ad[1] = 3; printf(" %d %d\n", 1 in ad, ad[1])`,
      expect: 'arrdel: 0 1 0 2 1 3\n',
    },
    {
      label: 'arrsv2',
      body: String.raw`asv["a", 1] = "A1"; asv["b", 2] = "B2"; delete asv["a", 1]; asv["b", 2] .= "+"; printf("arrsv2: [%s] %s %d %d\n", asv["a", 1], asv["b", 2], ["a", 1] in asv, ["b", 2] in asv)`,
      expect: 'arrsv2: [] B2+ 0 1\n',
    },
    {
      label: 'arrlongkey',
      body: String.raw`lk = ""; for (li = 0; li < 13; li++) lk .= "0123456789"; akl[lk . "a"] = 1; akl[lk . "b"] = 2; akl[lk] += 5; printf("arrlongkey: %d %d %d\n", akl[lk], akl[lk . "zzz"], akl["x"])`,
      expect: 'arrlongkey: 7 7 0\n',
    },
    {
      label: 'arrnest',
      body: String.raw`anest[1] = 2; anest[anest[1]] = 3; anest[anest[anest[1]]] = 4; printf("arrnest: %d %d %d %d\n", anest[1], anest[2], anest[3], anest[anest[anest[1]]])`,
      expect: 'arrnest: 2 3 4 4\n',
    },
    {
      // laid out in index order the long would sit at key offset 256, which KPUTI masks to 0
      // (a3["x", "y", 1] and a3["z", "y", 1] were one element); the layout now puts longs first
      label: 'key256',
      body: String.raw`a3["x", "y", 1] = 10; a3["z", "y", 1] = 20; a3["x", "y", 2] = 30; printf("key256: %d %d %d %d\n", a3["x", "y", 1], a3["z", "y", 1], a3["x", "y", 2], ["q", "y", 1] in a3)`,
      expect: 'key256: 10 20 30 0\n',
    },
  ],
};

const functions: Group = {
  name: 'functions',
  maxAction: 100000,
  decls: [
    'global gcount',
    'function add(x, y) { return x + y }',
    'function sq(x) { return x * x }',
    'function greet(name) { return "hi " . name }',
    'function fib(n) { if (n < 2) return n; return fib(n - 1) + fib(n - 2) }',
    'function rep(s, n) { if (n <= 0) return ""; return s . rep(s, n - 1) }',
    'function mix(a, s, b, t) { if (s < t) return a - b; return b - a }',
    'function say(s, n) { printf("say: %s %d\\n", s, n) }',
    'function maybe(x) { if (x) return 7 }',
    'function smaybe(x) { if (x) return "s" }',
    'function bump() { gcount++; return gcount }',
    'function tri(n) { t = 0; for (i = 1; i <= n; i++) t += i; return t }',
    'function depth(n) { if (n == 0) return 0; return 1 + depth(n - 1) }',
    'function early(n) { for (i = 0; i < 100; i++) if (i == n) return i * 10; return -1 }',
    'function neg(x) { return -x }',
    'function swapcat(a, b) { return b . a }',
    'function loud(x) { printf("nestout: inner %d\\n", x); return x * 2 }',
  ].join(' '),
  cases: [
    {
      label: 'fnint',
      body: String.raw`printf("fnint: %d %d %d %d\n", add(2, 3), add(-5, 9223372036854775807), sq(-12), neg(-9223372036854775808))`,
      expect: `fnint: 5 9223372036854775802 144 ${INT64_MIN}\n`,
    },
    {
      label: 'fnnest',
      body: String.raw`printf("fnnest: %d %d %s\n", add(sq(3), sq(add(1, 2))), sq(sq(sq(2))), greet(greet("bob")))`,
      expect: 'fnnest: 18 256 hi hi bob\n',
    },
    {
      label: 'fnstr',
      body: String.raw`fs1 = greet("x"); fs2 = swapcat("a", "b"); printf("fnstr: %s %s %s\n", fs1, fs2, swapcat(fs1, fs2))`,
      expect: 'fnstr: hi x ba bahi x\n',
    },
    {
      label: 'fib',
      body: String.raw`printf("fib: %d %d %d %d\n", fib(0), fib(1), fib(7), fib(10))`,
      expect: 'fib: 0 1 13 55\n',
    },
    {
      label: 'rep',
      body: String.raw`printf("rep: %s [%s]\n", rep("ab", 5), rep("x", 0))`,
      expect: 'rep: ababababab []\n',
    },
    {
      label: 'mix',
      body: String.raw`printf("mix: %d %d\n", mix(10, "a", 3, "b"), mix(10, "b", 3, "a"))`,
      expect: 'mix: 7 -7\n',
    },
    {
      label: 'say',
      body: String.raw`say("hello", 42); say(greet("you"), fib(7))`,
      expect: 'say: hello 42\nsay: hi you 13\n',
    },
    {
      label: 'noret',
      body: String.raw`printf("noret: %d %d [%s] [%s]\n", maybe(1), maybe(0), smaybe(1), smaybe(0))`,
      expect: 'noret: 7 0 [s] []\n',
    },
    {
      label: 'fnglob',
      body: String.raw`bump(); bump(); printf("fnglob: %d %d\n", bump(), gcount)`,
      expect: 'fnglob: 3 3\n',
    },
    {
      label: 'nestout',
      body: String.raw`printf("nestout: outer %d %d\n", loud(1), loud(2))`,
      expect: 'nestout: inner 1\nnestout: inner 2\nnestout: outer 2 4\n',
    },
    {
      label: 'fnloop',
      body: String.raw`printf("fnloop: %d %d %d %d %d\n", tri(100), depth(9), early(5), early(200), tri(tri(3)))`,
      expect: 'fnloop: 5050 9 50 -1 21\n',
    },
  ],
};

const control: Group = {
  name: 'control flow',
  decls: 'global side_n function side(v) { side_n++; return v }',
  cases: [
    {
      label: 'if',
      body: String.raw`for (ci = 0; ci < 4; ci++) { if (ci == 0) printf("if: zero\n"); else if (ci == 1) printf("if: one\n"); else if (ci < 3) printf("if: two\n"); else printf("if: other\n") }`,
      expect: 'if: zero\nif: one\nif: two\nif: other\n',
    },
    {
      label: 'while',
      body: String.raw`wi = 0; ws = 0; while (wi < 20) { wi++; if (wi % 2 == 0) continue; if (wi > 15) break; ws += wi }; printf("while: %d %d\n", ws, wi)`,
      expect: 'while: 64 17\n',
    },
    {
      label: 'for',
      body: String.raw`fs = 0; for (fi = 0; fi < 10; fi++) { if (fi == 3) continue; if (fi == 8) break; fs = fs * 10 + fi }; printf("for: %d %d\n", fs, fi)`,
      expect: 'for: 124567 8\n',
    },
    {
      label: 'nested',
      body: String.raw`np = 0; nq = 0; for (ni = 0; ni < 5; ni++) { nj = 0; while (1) { if (nj > ni) break; nj++; if (nj == 2) continue; np++ }; nq += nj }; printf("nested: %d %d\n", np, nq)`,
      expect: 'nested: 11 15\n',
    },
    {
      label: 'forever',
      body: String.raw`fe = 0; for (;;) { if (++fe >= 5) break }; fz = 0; for (; fz < 3;) fz++; printf("forever: %d %d\n", fe, fz)`,
      expect: 'forever: 5 3\n',
    },
    {
      label: 'tern',
      body: String.raw`tv = 7; printf("tern: %d %d %d %d\n", 1 ? 2 : 3, 0 ? 2 : 3, tv < 5 ? 1 : tv < 10 ? 2 : 3, (tv > 5 ? tv : 0) * 2)`,
      expect: 'tern: 2 3 2 14\n',
    },
    {
      label: 'sc',
      body: String.raw`printf("sc: %d %d %d %d %d\n", 0 && side(1), 1 && side(0), 1 || side(1), 0 || side(5), side_n)`,
      expect: 'sc: 0 0 1 1 2\n',
    },
    {
      label: 'sc2',
      body: String.raw`sx = 0; sy = (0 && sx++); sz = (1 || sx++); sw = (1 && sx++); sv = (0 || ++sx); printf("sc2: %d %d %d %d %d\n", sy, sz, sw, sv, sx)`,
      expect: 'sc2: 0 1 0 1 2\n',
    },
    {
      label: 'sc3',
      body: String.raw`printf("sc3: %d %d %d %d %d\n", 5 && 7, 0 || -3, !(0 || 0), (1 && 0) || (2 && 3), "a" == "a" && "b" != "a")`,
      expect: 'sc3: 1 1 1 1 1\n',
    },
    {
      label: 'ifstr',
      body: String.raw`is = "abc"; if (is == "abc") printf("ifstr: eq\n"); if (is != "abc") printf("ifstr: ne\n"); else printf("ifstr: else\n")`,
      expect: 'ifstr: eq\nifstr: else\n',
    },
    {
      label: 'afterexit',
      body: String.raw`exit(); printf("afterexit: still runs\n")`,
      expect: 'afterexit: still runs\n',
    },
  ],
};

const out254 = Array(254).fill('ox').join(', ');

const printfs: Group = {
  name: 'printf, print, println',
  decls: 'global pg = 77',
  cases: [
    {
      label: 'fmt1',
      body: String.raw`printf("fmt1: %d|%5d|%-5d|%05d|%u|%x|%X|%o\n", -42, 42, 42, 42, -1, 255, 255, 8)`,
      expect: 'fmt1: -42|   42|42   |00042|18446744073709551615|ff|FF|10\n',
    },
    {
      label: 'fmt2',
      body: String.raw`printf("fmt2: %s|%10s|%-10s|%c%c|%%|%3c|%.3s|%-3c|\n", "str", "right", "left", 65, 0x7a, 66, "abcdef", 67)`,
      expect: 'fmt2: str|     right|left      |Az|%|  B|abc|C  |\n',
    },
    {
      label: 'fmt3',
      body: String.raw`printf("fmt3: %#x %#o %+d % d %x %p %i\n", 255, 8, 5, 5, -42, 0x1234, -7)`,
      expect: 'fmt3: 0xff 010 +5  5 ffffffffffffffd6 0x1234 -7\n',
    },
    {
      label: 'fmt4',
      body: String.raw`pw = 6; printf("fmt4: %*d|%-*d|%.*s|\n", pw, 42, 4, 7, 2, "xyz")`,
      expect: 'fmt4:     42|7   |xy|\n',
    },
    {
      label: 'ext',
      body: String.raw`pm = -9223372036854775808; printf("ext: %d %u %x %o\n", pm, pm, pm, pm)`,
      expect: `ext: ${INT64_MIN} 9223372036854775808 8000000000000000 1000000000000000000000\n`,
    },
    {
      label: 'many',
      body: String.raw`printf("many: %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d\n", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20)`,
      expect: 'many: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20\n',
    },
    {
      label: 'mixed',
      body: String.raw`ps = "val"; printf("mixed: %s=%d %s=%d %s\n", ps, pg, "neg", -pg, ps . ps)`,
      expect: 'mixed: val=77 neg=-77 valval\n',
    },
    {
      label: 'print',
      body: String.raw`print("print: "); print(42); print(" "); print(-1); print("\n"); print("print: ", pg, " ", ps, "\n")`,
      expect: 'print: 42 -1\nprint: 77 val\n',
    },
    {
      label: 'println',
      body: String.raw`println("println: ", 1, " ", "two"); println("println: x"); println("println:", pg)`,
      expect: 'println: 1 two\nprintln: x\nprintln:77\n',
    },
    {
      label: 'plain',
      body: String.raw`printf("plain: no conversions\n"); printf("plain: %s\n", "")`,
      expect: 'plain: no conversions\nplain: \n',
    },
    {
      label: 'outfit',
      body: String.raw`ol2 = ""; for (oj = 0; oj < 13; oj++) ol2 .= "0123456789"; printf("outfit: %s%s%s%s%s%s%s%s%s%s%s%s%s%s%s\n", ol2, ol2, ol2, ol2, ol2, ol2, ol2, ol2, ol2, ol2, ol2, ol2, ol2, ol2, ol2)`,
      expect: `outfit: ${digits127.repeat(15)}\n`,
    },
    {
      label: 'out254',
      body: `ox = 7; printf("out254:${' %d'.repeat(254)}\\n", ${out254})`,
      expect: `out254:${' 7'.repeat(254)}\n`,
    },
    {
      // stap evaluates every argument into a temporary, in order
      label: 'alias',
      body: String.raw`il = 10; printf("alias: %d %d %d %d %d\n", il++, il, ++il, il--, --il)`,
      expect: 'alias: 10 11 12 12 10\n',
    },
  ],
};

// Shapes src/compile/optimize.ts turns into superinstructions (MULI..SHRI, JEQ..JGE, SEQC/SNEC)
const superinsns: Group = {
  name: 'superinstructions: ALU with a constant, compare and branch, string literal compares',
  cases: [
    {
      label: 'sialu',
      body: String.raw`sa = -7; printf("sialu: %d %d %d %d %d %d %d %d %d %d\n", sa * 3, sa / 2, sa % 3, sa & 255, sa | 8, sa ^ 5, sa << 2, sa >> 1, sa - 2147483647, 3 * sa)`,
      expect: 'sialu: -21 -3 -1 249 -7 -4 -28 -4 -2147483654 -21\n',
    },
    {
      label: 'sishift',
      body: String.raw`sb = 0x8000000000000001; printf("sishift: %d %d %d %d\n", sb >> 63, sb << 65, sb >> 64, -1 / -1)`,
    },
    {
      label: 'sijump',
      body: String.raw`sj = 0; for (si = -3; si < 3; si++) { if (si == 0) sj += 1; if (si != 1) sj += 10; if (si < -1) sj += 100; if (si <= -1) sj += 1000; if (si > 1) sj += 10000; if (si >= 1) sj += 100000 } sk = 0; while (sk != 5) sk++; printf("sijump: %d %d\n", sj, sk)`,
      expect: 'sijump: 213251 5\n',
    },
    {
      label: 'sistr',
      body: String.raw`sn = "tapvm"; printf("sistr: %d %d %d %d %d %d\n", sn == "tapvm", sn == "tapv", sn == "tapvmx", sn != "tapvm", "" == sn, sn != ""); if (sn == "tapvm") printf("sistr: eq\n"); if ("tapvmx" != sn) printf("sistr: ne\n")`,
      expect: 'sistr: 1 0 0 0 0 1\nsistr: eq\nsistr: ne\n',
    },
  ],
};

// ------------------------------------------------------------------------------------------
// Groups whose handler ends with an error: one error per script (an error ends the handler).
// Line 1 is DECLS, line 2 the probe header, the body starts on line 3 at column 1.

const div0: Group = {
  name: 'error: division by zero',
  expectCode: 1,
  cases: [{ label: 'div0', body: String.raw`printf("div0: before\n"); dz = 0; dq = 10 / dz; printf("div0: after %d\n", dq)`, expect: 'div0: before\n' }],
  expectStderrMatch: /^ERROR: division by 0 near operator '\/' at <input>:3:\d+\nWARNING: Number of errors: 1, skipped probes: 0\n$/,
};

const mod0: Group = {
  name: 'error: modulo by zero',
  expectCode: 1,
  cases: [{ label: 'mod0', body: String.raw`printf("mod0: before\n"); mz = 0; mq = -10 % mz; printf("mod0: after %d\n", mq)`, expect: 'mod0: before\n' }],
  expectStderrMatch: /^ERROR: division by 0 near operator '%' at <input>:3:\d+\nWARNING: Number of errors: 1, skipped probes: 0\n$/,
};

const divConst0: Group = {
  name: 'error: division by a constant 0 (DIVI)',
  expectCode: 1,
  cases: [{ label: 'divc0', body: String.raw`printf("divc0: before\n"); dc = 10; dq = dc / 0; printf("divc0: after %d\n", dq)`, expect: 'divc0: before\n' }],
  expectStderrMatch: /^ERROR: division by 0 near operator '\/' at <input>:3:\d+\nWARNING: Number of errors: 1, skipped probes: 0\n$/,
};

const userError: Group = {
  name: 'error: error("msg")',
  expectCode: 1,
  cases: [
    {
      label: 'uerr',
      body: String.raw`ue = "custom " . "failure"; printf("uerr: before\n"); error(ue . " 42"); printf("uerr: after\n")`,
      expect: 'uerr: before\n',
    },
  ],
  expectStderr: "ERROR: custom failure 42 near identifier 'error' at <input>:3:55\n" + WARN1,
};

const userErrorLong: Group = {
  name: 'error: error() with a message truncated at 127 bytes',
  expectCode: 1,
  cases: [
    {
      label: 'uerrlong',
      body: String.raw`um = ""; for (ui = 0; ui < 15; ui++) um .= "0123456789"; printf("uerrlong: %s\n", um); error(um)`,
      expect: `uerrlong: ${digits127}\n`,
    },
  ],
  expectStderr: `ERROR: ${digits127} near identifier 'error' at <input>:3:88\n` + WARN1,
};

const maxaction: Group = {
  expectStderrMatch: /^ERROR: MAXACTION exceeded near .* at <input>:3:\d+\nWARNING: Number of errors: 1, skipped probes: 0\n$/,
  name: 'error: MAXACTION in while (1) {}',
  maxAction: 1000,
  equalizeMaxAction: true,
  expectCode: 1,
  cases: [{ label: 'maxaction', body: String.raw`printf("maxaction: before\n"); while (1) {}`, expect: 'maxaction: before\n' }],
};

const maxaction2: Group = {
  expectStderrMatch: /^ERROR: MAXACTION exceeded near .* at <input>:3:\d+\nWARNING: Number of errors: 1, skipped probes: 0\n$/,
  name: 'error: MAXACTION in a busy loop (the stopping pc must match)',
  maxAction: 5003,
  equalizeMaxAction: true,
  // the end probe shows how far the loop got (same budget, same mg; its value depends on the
  // code generator, so only the differential test checks it)
  decls: 'global mg probe error { printf("maxaction2 end: mg %d\\n", mg) }',
  expectCode: 1,
  cases: [
    {
      label: 'maxaction2',
      body: String.raw`printf("maxaction2: before\n"); mi = 0; while (1) { mi++; if (mi % 7 == 0) mg += mi; else if (mi % 3 == 0) mg -= 1 }`,
      expect: 'maxaction2: before\n',
    },
  ],
};

const nesting: Group = {
  expectStderrMatch: /^ERROR: MAXNESTING exceeded near .* at <input>:1:\d+\nWARNING: Number of errors: 1, skipped probes: 0\n$/,
  name: 'error: MAXNESTING by unbounded recursion',
  decls: 'global rdepth function rec(n) { rdepth = n; return rec(n + 1) + 1 } probe error { printf("nesting: depth %d\\n", rdepth) }',
  expectCode: 1,
  cases: [{ label: 'nesting', body: String.raw`printf("nesting: before\n"); rec(1); printf("nesting: after\n")`, expect: 'nesting: before\nnesting: depth 10\n' }],
};

const output: Group = {
  expectStderrMatch: /^ERROR: output record too long near .* at <input>:3:\d+\nWARNING: Number of errors: 1, skipped probes: 0\n$/,
  name: 'error: output record too long',
  expectCode: 1,
  cases: [
    {
      label: 'output',
      body: String.raw`ol = ""; for (oi = 0; oi < 13; oi++) ol .= "0123456789"; printf("output: %d\n", 1); printf("output: %s%s%s%s%s%s%s%s%s%s%s%s%s%s%s%s\n", ol, ol, ol, ol, ol, ol, ol, ol, ol, ol, ol, ol, ol, ol, ol, ol); printf("output: after\n")`,
      expect: 'output: 1\n',
    },
  ],
};


const overflow: Group = {
  expectStderrMatch: /^ERROR: Array overflow, check MAXMAPENTRIES near .* at <input>:3:\d+\nWARNING: Number of errors: 1, skipped probes: 0\n$/,
  name: 'error: array overflow after MAXMAPENTRIES (ASET)',
  maxAction: 100000,
  decls: 'global ov, ovn probe error { printf("overflow: %d %d %d\\n", ovn, ov[2047], 2048 in ov) }',
  expectCode: 1,
  cases: [{ label: 'overflow', body: String.raw`printf("overflow: before\n"); for (vi = 0; vi < 3000; vi++) { ov[vi] = vi; ovn = vi + 1 }`, expect: 'overflow: before\noverflow: 2048 2047 0\n' }],
};

const overflowAdd: Group = {
  expectStderrMatch: /^ERROR: Array overflow, check MAXMAPENTRIES near .* at <input>:3:\d+\nWARNING: Number of errors: 1, skipped probes: 0\n$/,
  name: 'error: array overflow after MAXMAPENTRIES (AADD, ++)',
  maxAction: 100000,
  decls: 'global ow, own probe error { printf("overflowadd: %d %d %d\\n", own, ow[2047], 2048 in ow) }',
  expectCode: 1,
  cases: [
    {
      label: 'overflowadd',
      body: String.raw`printf("overflowadd: before\n"); for (wj = 0; wj < 3000; wj++) { ow[wj]++; ow[wj] += 2; own = wj + 1 }`,
      expect: 'overflowadd: before\noverflowadd: 2048 3 0\n',
    },
  ],
};

const limits: Group = {
  name: 'limits: 127-byte strings in globals and arrays, 64-bit wrap in GADD/AADD, NUL and high bytes',
  decls: [
    'global gmax = 9223372036854775807, gmin = -9223372036854775808, amax, bigs, bigv, bigk2, gls, gtrunc = "' + '0123456789'.repeat(14) + '"',
    'function rep(s, n) { if (n <= 0) return ""; return s . rep(s, n - 1) }',
  ].join(' '),
  cases: [
    {
      label: 'wrapg',
      body: String.raw`gmax++; gmin--; printf("wrapg: %d %d", gmax, gmin); gmax += -1; gmin -= -1; printf(" %d %d\n", gmax, gmin)`,
      expect: `wrapg: ${INT64_MIN} 9223372036854775807 9223372036854775807 ${INT64_MIN}\n`,
    },
    {
      label: 'wrapa',
      body: String.raw`amax[1] = 9223372036854775807; amax[1]++; amax[2] = -9223372036854775808; amax[2] -= 1; amax[3] += 9223372036854775807; amax[3] += 9223372036854775807; printf("wrapa: %d %d %d\n", amax[1], amax[2], amax[3])`,
      expect: `wrapa: ${INT64_MIN} 9223372036854775807 -2\n`,
    },
    {
      label: 'wrapl',
      body: String.raw`wl = 9223372036854775807; wl++; wm = wl; wm--; wl *= 3; wn = -9223372036854775808; wn /= -1; printf("wrapl: %d %d %d %d\n", wl, wm, wn, wn % -1)`,
      expect: `wrapl: ${INT64_MIN} 9223372036854775807 ${INT64_MIN} 0\n`,
    },
    {
      label: 'divmin',
      body: String.raw`dm = -9223372036854775808; printf("divmin: %d %d %d %d %d\n", dm / dm, dm % dm, dm / 3, dm % 3, 7 / dm)`,
      expect: 'divmin: 1 0 -3074457345618258602 -2 0\n',
    },
    {
      label: 'bigstr',
      body: String.raw`bs = ""; for (bi = 0; bi < 13; bi++) bs .= "0123456789"; gls = bs; bigv[1] = bs; bigk2[bs, bs] = 5; bigs[bs] = bs . "tail"; printf("bigstr: %s\nbigstr: %s\nbigstr: %d %d\nbigstr: %s\nbigstr: %s\n", gls, bigv[1], bigk2[bs, bs], [bs, bs . "x"] in bigk2, bigs[bs], gtrunc)`,
      expect: `bigstr: ${digits127}\nbigstr: ${digits127}\nbigstr: 5 1\nbigstr: ${digits127}\nbigstr: ${digits127}\n`,
    },
    {
      label: 'strrec',
      body: String.raw`printf("strrec: %s\n", rep("0123456789abcdef", 8))`,
      expect: `strrec: ${'0123456789abcdef'.repeat(8).slice(0, 127)}\n`,
    },
    {
      label: 'nul',
      body: String.raw`printf("nul: [%s] [%s] [%s]\n", "a\000b", "\000", "x\0")`,
      expect: 'nul: [a] [] [x]\n',
    },
    {
      label: 'hibytes',
      body: String.raw`hb = "\xc3\xa9"; hb .= "\xff"; printf("hibytes: %s %d\n", hb, hb > "\xc3\xa9")`,
      expect: 'hibytes: \u00e9\ufffd 1\n',
    },
    {
      label: 'next',
      body: String.raw`nx = 0; if (nx) next; printf("next: not taken\n")`,
      expect: 'next: not taken\n',
    },
  ],
};


const outLongsOver: Group = {
  name: 'error: an output record of 255 longs',
  expectCode: 1,
  expectStderrMatch: /^ERROR: output record too long near .* at <input>:3:\d+\nWARNING: Number of errors: 1, skipped probes: 0\n$/,
  cases: [
    {
      label: 'out255',
      body: `printf("out255: before\\n"); oy = 7; printf("out255:${' %d'.repeat(255)}\\n", ${out254}, ox)`.replace(/ox/g, 'oy'),
      expect: 'out255: before\n',
    },
  ],
};

const exactBudget: Group = {
  name: 'MAXACTION one more than the handler charges: runs to the end',
  maxActionRelative: 1,
  cases: [{ label: 'exact', body: String.raw`printf("exact: %d\n", 1 + 2)`, expect: 'exact: 3\n' }],
};

const exactBudgetMinus2: Group = {
  // stap: `actionremaining -= n; if (<= 0) error`, so reaching MAXACTION is the error. The
  // budget runs out at the then-block's ACT (charged after its printf ran), before exit()'s
  name: 'error: MAXACTION reached at the end of an if block (stap counts statements per block)',
  maxActionRelative: -1,
  expectCode: 1,
  expectStderr: "ERROR: MAXACTION exceeded near operator '{' at <input>:3:40\n" + WARN1,
  cases: [{ label: 'exactm1', body: String.raw`printf("exactm1: %d\n", 1 + 2); if (1) { printf("exactm1: in\n") }`, expect: 'exactm1: 3\nexactm1: in\n' }],
};

const maxactionFn: Group = {
  name: 'error: MAXACTION inside recursive calls (the stopping pc and frame must match)',
  maxAction: 2003,
  equalizeMaxAction: true,
  // fib(14) nests 14 calls: above stap's default MAXNESTING, which would stop it first
  defines: ['MAXNESTING=15'],
  decls: 'global calls function fib(n) { calls++; if (n < 2) return n; return fib(n - 1) + fib(n - 2) } probe error { printf("maxfn: calls %d\\n", calls) }',
  expectCode: 1,
  expectStderrMatch: /^ERROR: MAXACTION exceeded near .* at <input>:1:\d+\nWARNING: Number of errors: 1, skipped probes: 0\n$/,
  cases: [{ label: 'maxfn', body: String.raw`printf("maxfn: before\n"); printf("maxfn: %d\n", fib(14))` }],
};

const exitThenError: Group = {
  name: 'error: error() after exit()',
  expectCode: 1,
  expectStderr: "ERROR: after exit near identifier 'error' at <input>:3:38\n" + WARN1,
  cases: [{ label: 'exiterr', body: String.raw`printf("exiterr: before\n"); exit(); error("after exit"); printf("exiterr: after\n")`, expect: 'exiterr: before\n' }],
};

const emptyError: Group = {
  name: 'error: error("") with an empty message',
  expectCode: 1,
  expectStderr: "ERROR:  near identifier 'error' at <input>:3:26\n" + WARN1,
  cases: [{ label: 'emptyerr', body: String.raw`printf("emptyerr: x\n"); error("")`, expect: 'emptyerr: x\n' }],
};


const fullArray: Group = {
  name: 'a full array: existing elements still update, a deleted slot is reusable, a new key overflows',
  maxAction: 100000,
  decls: 'global fa probe error { printf("fullarr: end %d %d %d %d %d\\n", fa[5], fa[6], fa[7], fa[3000], 0 in fa) }',
  expectCode: 1,
  expectStderrMatch: /^ERROR: Array overflow, check MAXMAPENTRIES near .* at <input>:3:\d+\nWARNING: Number of errors: 1, skipped probes: 0\n$/,
  cases: [
    {
      label: 'fullarr',
      body: String.raw`for (fi = 0; fi < 2048; fi++) fa[fi] = fi; fa[5] += 10; fa[6]++; fa[7] = -1; delete fa[0]; fa[3000] = 3; printf("fullarr: %d %d %d %d\n", fa[5], fa[6], fa[7], fa[3000]); fa[4000] = 4; printf("fullarr: after\n")`,
      expect: 'fullarr: 15 7 -1 3\nfullarr: end 15 7 -1 3 0\n',
    },
  ],
};


// ------------------------------------------------------------------------------------------
// try/catch (stap's testsuite/buildok/fortyone.stp, and the message each error gives)

const tryCatch: Group = {
  name: 'try/catch: caught errors, messages, nesting, loops, errors in called functions',
  maxAction: 100000,
  decls: [
    'global gm',
    'function foo() { try { error("foo") printf("tc1: KO 1\\n") } catch { printf("tc1: OK 1\\n") error("bar") } }',
    'function koo() { try { printf("%d\\n", 1 / (0 * foo())) printf("tc1: KO 2\\n") } catch (er) { printf("tc1: OK 2 %s\\n", er) error("baz") } }',
    'function deep(n) { if (n == 0) error("bottom"); return deep(n - 1) + 1 }',
    'function nest(n) { try { if (n > 0) nest(n - 1); else error("x") } catch (m) { error(m . digit(n)) } }',
    'function digit(n) { if (n == 0) return "0"; if (n == 1) return "1"; if (n == 2) return "2"; return "3" }',
    'function ret_in_try(n) { try { if (n) return 7; error("r") } catch { return 8 } return 9 }',
  ].join(' '),
  cases: [
    {
      label: 'tc1',
      body: String.raw`try { koo() printf("tc1: KO 3\n") } catch { printf("tc1: OK 3\n") } try { } catch { printf("tc1: KO 4\n") } try { printf("tc1: OK 4\n") } catch { }`,
      expect: 'tc1: OK 1\ntc1: OK 2 bar\ntc1: OK 3\ntc1: OK 4\n',
    },
    {
      label: 'tcmsg',
      body: String.raw`tz = 0; try { tq = 1 / tz } catch (tm) { printf("tcmsg: [%s]\n", tm) } try { tq = 1 % tz } catch (tm) { printf("tcmsg: [%s]\n", tm) } try { error("custom " . "text") } catch (tm) { printf("tcmsg: [%s]\n", tm) } try { error("") } catch (tm) { printf("tcmsg: [%s]\n", tm) }`,
      expect: 'tcmsg: [division by 0]\ntcmsg: [division by 0]\ntcmsg: [custom text]\ntcmsg: []\n',
    },
    {
      label: 'tcloop',
      body: String.raw`for (ti = 0; ti < 5; ti++) try { error("me") } catch { break } printf("tcloop: %d\n", ti); for (tj = 0; tj < 5; tj++) { for (ti = 0; ti < 5; ti++) try { break } catch { continue } } printf("tcloop: %d %d\n", ti, tj); for (ti = 0; ti < 5; ti++) try { error("me") } catch { continue } printf("tcloop: %d\n", ti); for (tj = 0; tj < 5; tj++) { for (ti = 0; ti < 5; ti++) try { continue } catch { break } } printf("tcloop: %d %d\n", ti, tj); for (ti = 0; ti < 20; ti++) try { if (ti == 19) error("late") } catch (tl) { printf("tcloop: caught %s at %d\n", tl, ti) }`,
      expect: 'tcloop: 0\ntcloop: 0 5\ntcloop: 5\ntcloop: 5 5\ntcloop: caught late at 19\n',
    },
    {
      label: 'tcdeep',
      body: String.raw`try { td = deep(6) } catch (tdm) { printf("tcdeep: %s\n", tdm) } printf("tcdeep: %d\n", ret_in_try(1) + ret_in_try(0) * 10); try { nest(3) } catch (tnm) { printf("tcdeep: %s\n", tnm) } try { try { error("inner") } catch (m1) { error(m1 . "!") } } catch (m2) { printf("tcdeep: %s\n", m2) }`,
      expect: 'tcdeep: bottom\ntcdeep: 87\ntcdeep: x0123\ntcdeep: inner!\n',
    },
    {
      label: 'tcglob',
      body: String.raw`try { error("into a global") } catch (gm) { } printf("tcglob: %s\n", gm)`,
      expect: 'tcglob: into a global\n',
    },
  ],
};

const uncaughtInCatch: Group = {
  name: 'try/catch: an error in the catch block is not caught by it; error probes run, end probes do not',
  decls: 'probe end { printf("tcerr: end\\n") } probe error { printf("tcerr: error probe\\n") }',
  expectCode: 1,
  expectStderr: "ERROR: again near identifier 'error' at <input>:3:53\n" + WARN1,
  cases: [{ label: 'tcerr', body: String.raw`try { error("once") } catch { printf("tcerr: c\n"); error("again") } printf("tcerr: KO\n")`, expect: 'tcerr: c\ntcerr: error probe\n' }],
};

const maxactionUncaught: Group = {
  name: 'try/catch: MAXACTION is not caught',
  maxAction: 1000,
  equalizeMaxAction: true,
  expectCode: 1,
  expectStderrMatch: /^ERROR: MAXACTION exceeded near .* at <input>:3:\d+\nWARNING: Number of errors: 1, skipped probes: 0\n$/,
  cases: [{ label: 'tcmax', body: String.raw`printf("tcmax: before\n"); try { while (1) {} } catch { printf("tcmax: KO\n") }`, expect: 'tcmax: before\n' }],
};

const contextPure: Group = {
  name: 'context functions that compute: errno_str, ctime',
  cases: [
    {
      label: 'errno',
      body: String.raw`printf("errno: %s %s %s %s %s %s %s\n", errno_str(1), errno_str(-2), errno_str(133), errno_str(41), errno_str(0), errno_str(134), errno_str(-9223372036854775807))`,
      expect: 'errno: EPERM ENOENT EHWPOISON E#41 E#0 E#134 E#9223372036854775807\n',
    },
    {
      label: 'ctime',
      body: String.raw`printf("ctime: %s|%s|%s|%s|%s\n", ctime(0), ctime(951782400), ctime(2147483647), ctime(-1), ctime(2147483648)); printf("ctime: %s\n", ctime(86399 + 59 * 86400))`,
      expect: 'ctime: Thu Jan  1 00:00:00 1970|Tue Feb 29 00:00:00 2000|Tue Jan 19 03:14:07 2038|a long, long time ago...|far far in the future...\nctime: Sun Mar  1 23:59:59 1970\n',
    },
    { label: 'creds', body: String.raw`printf("creds: %d %d\n", euid() == uid(), egid() == gid())`, expect: 'creds: 1 1\n' },
  ],
};

// ------------------------------------------------------------------------------------------
// Same in both interpreters, but not what stap prints: shared compiler bugs, kept in their own
// groups so that each one fails on its own.

const sharedDivColumn: Group = {
  // stap's binary_expression token is the operator (parse.cxx: e->tok = t), so stap says
  // "near operator '/' at <input>:3:43"; tapvm gives the column of the left operand (40)
  name: "division by 0 is located at the operator's column, as stap does",
  expectCode: 1,
  cases: [{ label: 'div0col', body: String.raw`printf("div0col: before\n"); dz = 0; dq = 10 / dz; printf("div0col: after %d\n", dq)`, expect: 'div0col: before\n' }],
  expectStderr: "ERROR: division by 0 near operator '/' at <input>:3:46\n" + WARN1,
};


// ------------------------------------------------------------------------------------------
// The string tapset (src/vm/strfuncs.ts, vm/strings.h): expectations are what stap's C gives.

const hi = 'h\\351llo';
const strfuncs: Group = {
  name: 'string tapset: strlen substr stringat isinstr strpos str_replace isdigit strtol',
  cases: [
    {
      label: 'strlen',
      body: String.raw`sl = "hello, world"; printf("strlen: %d %d %d %d\n", strlen(sl), strlen(""), strlen(sl . sl), strlen("` + hi + String.raw`"))`,
      expect: 'strlen: 12 0 24 5\n',
    },
    {
      label: 'substr',
      body: String.raw`printf("substr: [%s] [%s] [%s] [%s] [%s] [%s] [%s] [%s]\n", substr(sl, 7, 5), substr(sl, 20, 2), substr(sl, 0, 100), substr(sl, -1, 3), substr(sl, 11, 9), substr(sl, 12, 1), substr(sl, 3, 0), substr(sl, 2, -5))`,
      expect: 'substr: [world] [] [hello, world] [] [d] [] [] []\n',
    },
    {
      label: 'substr2',
      body: String.raw`printf("substr2: [%s] [%s] [%s]\n", substr(sl, 1, 9223372036854775807), substr(sl, 0, 1), substr(sl . sl . sl . sl . sl . sl . sl . sl . sl . sl . sl, 120, 50))`,
      expect: 'substr2: [] [h] [hello, ]\n',
    },
    {
      label: 'stringat',
      body: String.raw`printf("stringat: %d %d %d\n", stringat(sl, 0), stringat(sl, 11), stringat("` + hi + String.raw`", 1))`,
      expect: 'stringat: 104 100 -23\n',
    },
    {
      label: 'isinstr',
      body: String.raw`printf("isinstr: %d %d %d %d %d\n", isinstr(sl, "wor"), isinstr(sl, "xyz"), isinstr(sl, ""), isinstr("", ""), isinstr("ab", "abc"))`,
      expect: 'isinstr: 1 0 1 1 0\n',
    },
    {
      label: 'strpos',
      body: String.raw`printf("strpos: %d %d %d %d %d %d\n", strpos(sl, "o"), strpos(sl, "zz"), strpos(sl, "hello"), strpos(sl, "world"), strpos(sl, ""), strpos("aab", "ab"))`,
      expect: 'strpos: 4 -1 0 7 0 1\n',
    },
    {
      label: 'replace',
      body: String.raw`printf("replace: %s|%s|%s|%s|%s\n", str_replace(sl, "o", "0"), str_replace(sl, "", "x"), str_replace("aaa", "a", "bb"), str_replace("aaaa", "aa", "a"), str_replace(sl, "world", ""))`,
      expect: 'replace: hell0, w0rld|hello, world|bbbbbb|aa|hello, \n',
    },
    {
      label: 'replace2',
      body: String.raw`rp = str_replace("` + 'x'.repeat(60) + String.raw`", "x", "yz"); printf("replace2: %d %s\n", strlen(rp), substr(rp, 120, 10))`,
      expect: 'replace2: 120 \n',
    },
    {
      label: 'replace3',
      body: String.raw`rq = str_replace("` + 'x'.repeat(100) + String.raw`", "x", "yz"); printf("replace3: %d %s\n", strlen(rq), substr(rq, 120, 10))`,
      expect: 'replace3: 127 yzyzyzy\n',
    },
    {
      label: 'isdigit',
      body: String.raw`printf("isdigit: %d %d %d %d\n", isdigit("7a"), isdigit("a7"), isdigit(""), isdigit("0"))`,
      expect: 'isdigit: 1 0 0 1\n',
    },
    {
      label: 'strtol',
      body: String.raw`printf("strtol: %d %d %d %d %d %d %d %d %d\n", strtol("123", 10), strtol("-0x1f", 16), strtol("0x1f", 0), strtol("017", 0), strtol("zz", 36), strtol(" 5", 10), strtol("12ab", 10), strtol("ff", 16), strtol("0x", 0))`,
      expect: 'strtol: 123 -31 31 15 0 0 12 255 0\n',
    },
    {
      label: 'strtol2',
      body: String.raw`printf("strtol2: %d %d %d %d\n", strtol("18446744073709551615", 10), strtol("99999999999999999999", 10), strtol("101", 2), strtol("-", 10))`,
      expect: 'strtol2: -1 7766279631452241919 5 0\n',
    },
  ],
};

const textfuncs: Group = {
  name: 'string tapset: text_str text_strn string_quoted tokenize',
  cases: [
    {
      label: 'textstr',
      body: String.raw`printf("textstr: %s|%s|%s\n", text_str("a\tb\"c\\\001\377"), text_str("` + 'caf\\303\\251 \\342\\202\\254 \\360\\237\\230\\200' + String.raw`"), text_str("\300\200 \355\240\200"))`,
      expect: 'textstr: a\\tb\\"c\\\\\\001\\377|caf\\u00e9 \\u20ac \\U0001f600|\\300\\200 \\355\\240\\200\n',
    },
    {
      label: 'textstrn',
      body: String.raw`printf("textstrn: %s|%s|%s|%s|%s\n", text_strn("abcdefghij", 5, 1), text_strn("abcdefghij", 8, 1), text_strn("abcdefghij", 4, 0), text_strn("ab", 8, 1), text_strn("a\nbcdef", 6, 1))`,
      expect: 'textstrn: ""...|"abc"...|abcd|"ab"|"a"...\n',
    },
    {
      label: 'quoted',
      body: String.raw`printf("quoted: %s|%s|%s\n", string_quoted("x\ny"), string_quoted(""), string_quoted("` + 'q'.repeat(127) + String.raw`"))`,
      expect: `quoted: "x\\ny"|""|"${'q'.repeat(122)}"...\n`,
    },
    {
      label: 'tokenize',
      body: String.raw`printf("tokenize: %s|", tokenize("a,b,,c;d", ",;")); printf("%s|", tokenize("", ",")); printf("%s|", tokenize("", ",;")); printf("%s|", tokenize("", ";")); printf("%s|", tokenize("", ",")); printf("%s\n", tokenize("", ","))`,
      expect: 'tokenize: a|b|c|d||\n',
    },
    {
      label: 'tokenize2',
      body: String.raw`printf("tokenize2: %s|", tokenize(",,x y,", ", ")); printf("%s|", tokenize("", ", ")); printf("%s|", tokenize("whole", "")); printf("%s|", tokenize("", "")); printf("%s\n", tokenize("", "q"))`,
      expect: 'tokenize2: x|y|whole||\n',
    },
  ],
};

const sprintfs: Group = {
  name: 'sprintf, sprint, sprintln: stap printf conversions into a string value',
  cases: [
    {
      label: 'spnum',
      body: String.raw`printf("spnum: %s\n", sprintf("%d|%5d|%-5d|%05d|%+d|% d|%i|%u", 42, 42, 42, 42, 42, 42, -7, -1))`,
      expect: 'spnum: 42|   42|42   |00042|+42| 42|-7|18446744073709551615\n',
    },
    {
      label: 'sphex',
      body: String.raw`printf("sphex: %s\n", sprintf("%x|%X|%#x|%#X|%o|%#o|%p|%#x|%#o|%08x|%#010x|%.4x", 255, 255, 255, 255, 8, 8, 4096, 0, 0, 3054, 255, 10))`,
      expect: 'sphex: ff|FF|0xff|0XFF|10|010|0x1000|0x0|00|00000bee|      0xff|000a\n', // %#010x: one flag only, '0' is the width's
    },
    {
      label: 'spmin',
      body: String.raw`printf("spmin: %s\n", sprintf("%d %x %o %+d %.3d %5.3d %-6.2d|", -9223372036854775808, -1, -1, 0, 5, -5, 7))`,
      expect: 'spmin: -9223372036854775808 ffffffffffffffff 1777777777777777777777 +0 005  -005 07    |\n',
    },
    {
      label: 'spchar',
      body: String.raw`printf("spchar: %s\n", sprintf("%c|%3c|%-3c|%#c|%#c|%#c|%#c", 65, 66, 67, 10, 39, 1, 255))`,
      expect: "spchar: A|  B|C  |\\n|\\'|\\001|\\377\n",
    },
    {
      label: 'spstr',
      body: String.raw`printf("spstr: %s\n", sprintf("%5s|%-5s|%.2s|%5.1s|%s|%%|%s", "ab", "ab", "abcdef", "xyz", "", "tail"))`,
      expect: 'spstr:    ab|ab   |ab|    x||%|tail\n',
    },
    {
      label: 'spstar',
      body: String.raw`sw = 6; printf("spstar: %s\n", sprintf("%*d|%.*s|%-*.*d|%*d|%.*s|", sw, 7, 2, "wxyz", 8, 4, 9, -3, 1, -1, "abc"))`,
      expect: 'spstar:      7|wx|0009    |1||\n',
    },
    {
      label: 'sptrunc',
      body: String.raw`sy = sprintf("%200d", 5); sz = sprintf("%-200d|", 5); sq = sprintf("%s%s", "` + 'a'.repeat(100) + String.raw`", "` + 'b'.repeat(100) + String.raw`"); printf("sptrunc: %d [%s] %d [%s] %d [%s]\n", strlen(sy), substr(sy, 120, 10), strlen(sz), substr(sz, 0, 3), strlen(sq), substr(sq, 95, 10))`,
      expect: 'sptrunc: 127 [       ] 127 [5  ] 127 [aaaaabbbbb]\n',
    },
    {
      label: 'sprint',
      body: String.raw`printf("sprint: [%s] %d %d [%s] [%s]\n", sprint(12, "ab", -3), strlen(sprintln("z")), stringat(sprintln("z"), 1), sprint(""), sprintf("%s%0s%s|", "a", "b", "c"))`,
      expect: 'sprint: [12ab-3] 2 10 [] [ab]\n',
    },
    {
      // a %c of 0 is stap's NUL: the string ends there (padding before it stays), '#' escapes it
      label: 'sfnul',
      body: String.raw`sfz = 0; printf("sfnul: [%s] [%s] [%s] [%s] [%s] [%s]\n", sprintf("a%cb%dc", sfz, 5), sprintf("%-3c|", sfz), sprintf("%3c|", sfz), sprintf("%#c|", sfz), sprintf("x%cy", 256 + sfz), sprintf("%c%c", 65, 66))`,
      expect: 'sfnul: [a] [] [  ] [\\000|] [x] [AB]\n',
    },
    {
      label: 'spuse',
      body: String.raw`su = sprintf("%s-%d", "k", 3); printf("spuse: %d %d %s\n", su == "k-3", strlen(sprintf("%05d", 12)), sprintf("%s", sprintf("<%s>", su)))`,
      expect: 'spuse: 1 5 <k-3>\n',
    },
  ],
};

const stringatError: Group = {
  name: 'error: stringat out of range is "Position out of bounds"',
  expectCode: 1,
  cases: [{ label: 'strat', body: String.raw`printf("strat: before\n"); sa3 = "abc"; printf("strat: %d\n", stringat(sa3, 3))`, expect: 'strat: before\n' }],
  expectStderr: "ERROR: Position out of bounds near identifier 'stringat' at <input>:3:63\n" + WARN1,
};

// ------------------------------------------------------------------------------------------

// ------------------------------------------------------------------------------------------
// Statistics: one CPU's copy in the kernel (the trigger makes one call), CPU 0's in user space

const stats: Group = {
  name: 'statistics',
  decls: 'global st, sa, sh, sl, sv, sneg, sbig',
  cases: [
    {
      label: 'st',
      body: String.raw`st <<< 3; st <<< -7; st <<< 11; printf("st: %d %d %d %d %d %d\n", @count(st), @sum(st), @min(st), @max(st), @avg(st), @variance(st))`,
      expect: 'st: 3 7 -7 11 2 83\n',
    },
    {
      label: 'sa',
      body: String.raw`for (si = 0; si < 10; si++) sa[si % 3, "k"] <<< si * si; printf("sa: %d %d %d %d %d\n", @count(sa[0, "k"]), @sum(sa[1, "k"]), @min(sa[2, "k"]), @max(sa[2, "k"]), @avg(sa[0, "k"])); printf("sa: %d %d %d\n", [1, "k"] in sa, [3, "k"] in sa, @count(sa[3, "k"]))`,
      expect: 'sa: 4 66 4 64 31\nsa: 1 0 0\n',
    },
    {
      label: 'sh',
      body: String.raw`for (si = 0; si < 40; si++) sh <<< si * si * si; printf("sh: %d %d %d\n", @hist_log(sh)[64], @hist_log(sh)[70], @hist_log(sh)[80]); print(@hist_log(sh))`,
    },
    {
      label: 'sl',
      body: String.raw`for (si = -3; si < 30; si++) sl <<< si; printf("sl: %d %d\n", @hist_linear(sl, 0, 20, 4)[0], @hist_linear(sl, 0, 20, 4)[7]); print(@hist_linear(sl, 0, 20, 4))`,
    },
    {
      label: 'sv',
      body: String.raw`for (si = 1; si <= 50; si++) sv <<< si * 1000; printf("sv: %d %d\n", @variance(sv, 4), @avg(sv))`,
    },
    {
      label: 'sneg',
      body: String.raw`sneg <<< -9223372036854775807 - 1; sneg <<< -1; sneg <<< 0; printf("sneg: %d %d %d\n", @hist_log(sneg)[0], @hist_log(sneg)[63], @hist_log(sneg)[64])`,
      expect: 'sneg: 1 1 1\n',
    },
    {
      label: 'sbig',
      body: String.raw`sbig <<< 0x7fffffffffffffff; sbig <<< 0x7fffffffffffffff; printf("sbig: %d %d\n", @sum(sbig), @avg(sbig)); delete sbig; printf("sbig: %d\n", @count(sbig))`,
      expect: 'sbig: -2 -1\nsbig: 0\n',
    },
  ],
};

const statEmpty: Group = {
  name: 'error: an extractor of an empty statistic',
  decls: 'global se',
  expectCode: 1,
  cases: [{ label: 'se', body: String.raw`printf("se: %d %d\n", @count(se), @sum(se)); printf("se: %d\n", @max(se))`, expect: 'se: 0 0\n' }],
  expectStderrMatch: /^ERROR: empty aggregate near identifier '@max' at <input>:3:\d+\nWARNING: Number of errors: 1, skipped probes: 0\n$/,
};

const statRange: Group = {
  name: 'error: a histogram bucket out of range',
  decls: 'global sr',
  expectCode: 1,
  cases: [{ label: 'sr', body: String.raw`sr <<< 1; printf("sr: %d\n", @hist_linear(sr, 0, 10, 5)[4]); printf("sr: %d\n", @hist_linear(sr, 0, 10, 5)[5])`, expect: 'sr: 0\n' }],
  expectStderrMatch: /^ERROR: histogram index out of range near identifier '@hist_linear' at <input>:3:\d+\nWARNING: Number of errors: 1, skipped probes: 0\n$/,
};

// printf's %b (raw binary, width = bytes) and %m/%M: the kernel reads the bytes in the probe
// (OMEM), the TypeScript interpreter cannot read kernel memory, so here both see only what fails
// the same way: an unreadable address and a length above the slot (stap's PAGE_SIZE check, at
// tapvm's MAXSTRINGLEN); test/kernel/printf-mem.spec.ts reads real kernel memory.
const printfMem: Group = {
  name: 'printf %b, and %m/%M errors',
  cases: [
    {
      label: 'pb',
      body: String.raw`printf("pb: [%b|%4b|%-8b|%2b|%1b]\n", 0x41424344, 65, 66, 0x4142, 0x43)`,
      expect: 'pb: [DCBA\0\0\0\0|A\0\0\0|B\0\0\0\0\0\0\0|BA|C]\n',
    },
    {
      label: 'pm',
      body: String.raw`try { printf("pm: [%.3m]\n", 0) } catch (pm_e) { println("pm: ", pm_e) } try { printf("pm: [%.*M]\n", 5000, 0) } catch (pm_f) { println("pm: ", pm_f) }`,
      expect: 'pm: kernel read fault at 0x0000000000000000 (addr)\npm: 5000 is too many bytes for a memory dump\n',
    },
  ],
};

const printfMemError: Group = {
  name: 'error: printf %m of an unreadable address',
  expectCode: 1,
  cases: [{ label: 'pe', body: String.raw`println("pe: before"); printf("pe: %m\n", 8)`, expect: 'pe: before\n' }],
  expectStderrMatch: /^ERROR: kernel read fault at 0x0000000000000008 \(addr\) near identifier 'printf' at <input>:3:\d+\nWARNING: Number of errors: 1, skipped probes: 0\n$/,
};

/** stap's histogram text of `values` (src/output/histogram.ts), cut at `m` bytes, one line */
function histText(d: Omit<StatDesc, 'variance' | 'shift'>, values: number[], m: number): string {
  const sv: StatVal = { count: 0n, sum: 0n, min: 0n, max: 0n, avgS: 0n, m2: 0n, varS: 0n, hist: Array<bigint>(128).fill(0n) };
  const desc = { ...d, variance: false, shift: 0 };
  for (const v of values) statAdd(sv, desc, BigInt(v));
  return formatHistogram(desc, sv.hist).slice(0, m).replace(/\n/g, '|');
}
const LOG = { hist: HIST.LOG, start: 0, interval: 0, buckets: 128 };
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

// sprint(@hist_*(x)) / sprintln: stap's histogram text as a string, cut at MAXSTRINGLEN-1
// (src/resolve/hist-sprint.ts); an empty statistic is "empty aggregate" at the sprint
const histSprint: Group = {
  name: 'sprint of a histogram',
  decls: 'global hp_l, hp_a, hp_e',
  cases: [
    {
      label: 'hpl',
      body: String.raw`hp_l <<< 1; hp_l <<< 5; hp_l <<< 5; hp_x = sprint(@hist_log(hp_l)); printf("hpl: %d %s\n", strlen(hp_x), str_replace(hp_x, "\n", "|"))`,
      // the header, the row of 0, then the cut
      expect: `hpl: 127 value |${'-'.repeat(50)} count|    0 |${' '.repeat(51)}0|   \n`,
    },
    {
      label: 'hpa',
      body: String.raw`for (hp_i = -4; hp_i < 40; hp_i++) hp_a["k", hp_i % 2] <<< hp_i * 3; hp_y = sprintln(@hist_linear(hp_a["k", 1], 0, 100, 10)); printf("hpa: %d %s\n", strlen(hp_y), str_replace(hp_y, "\n", "|"))`,
      expect: `hpa: 127 ${histText({ hist: HIST.LINEAR, start: 0, interval: 10, buckets: 13 }, range(-4, 40).filter((i) => i % 2 === 1).map((i) => i * 3), 127)}\n`,
    },
    {
      label: 'hpe',
      body: String.raw`try { println("hpe: ", sprint(@hist_log(hp_e))) } catch (hp_m) { println("hpe: caught ", hp_m) }`,
      expect: 'hpe: caught empty aggregate\n',
    },
  ],
};

const histSprintEmpty: Group = {
  name: 'error: sprint of an empty histogram',
  decls: 'global hq',
  expectCode: 1,
  cases: [{ label: 'hq', body: String.raw`println("hq: before"); hq <<< 1; delete hq; hq_s = sprint(@hist_log(hq)); println("hq: ", hq_s)`, expect: 'hq: before\n' }],
  expectStderrMatch: /^ERROR: empty aggregate near identifier 'sprint' at <input>:3:\d+\nWARNING: Number of errors: 1, skipped probes: 0\n$/,
};

// foreach over a histogram's buckets (src/resolve/hist-foreach.ts): every bucket in index
// order, empty ones too, with stap's value, limit and an ignored sort directive
const histForeach: Group = {
  name: 'foreach over a histogram',
  decls: 'global hf_x, hf_y, hf_e',
  // five walks of up to 128 buckets in one handler: over stap's default 1000 statements
  maxAction: 10000,
  cases: [
    {
      label: 'hfl',
      body: String.raw`hf_x <<< 1; hf_x <<< 5; hf_x <<< 5; hf_x <<< 100; hf_s = ""; hf_n = 0; foreach (hf_b in @hist_log(hf_x)) { hf_n++; if (@hist_log(hf_x)[hf_b]) hf_s .= sprintf(" %d:%d", hf_b, @hist_log(hf_x)[hf_b]) } printf("hfl: %d%s\n", hf_n, hf_s)`,
      expect: 'hfl: 128 65:1 67:2 71:1\n',
    },
    {
      label: 'hfv',
      body: String.raw`hf_t = ""; foreach (hf_c = hf_d in @hist_log(hf_x) limit 68) if (hf_c) hf_t .= sprintf(" %d:%d", hf_d, hf_c); println("hfv:", hf_t)`,
      expect: 'hfv: 65:1 67:2\n',
    },
    {
      label: 'hfa',
      body: String.raw`for (hf_i = 0; hf_i < 20; hf_i++) hf_y["a", hf_i % 2] <<< hf_i; hf_k = "a"; hf_u = ""; foreach (hf_v = hf_f- in @hist_linear(hf_y[hf_k, 1], 0, 10, 2)) hf_u .= sprintf(" %d:%d", hf_f, hf_v); println("hfa:", hf_u)`,
      expect: 'hfa: 0:0 1:1 2:1 3:1 4:1 5:1 6:1 7:4\n',
    },
    {
      label: 'hfc',
      body: String.raw`hf_m = 2; hf_w = ""; foreach (hf_g in @hist_linear(hf_y[hf_k, hf_m - 2], 0, 10, 2) limit hf_m * 3) { if (hf_g == 1) continue; if (hf_g == 4) break; hf_w .= sprintf(" %d:%d", hf_g, @hist_linear(hf_y["a", 0], 0, 10, 2)[hf_g]) } println("hfc:", hf_w)`,
      expect: 'hfc: 0:0 2:1 3:1\n',
    },
    {
      label: 'hfe',
      body: String.raw`hf_z = 0; hf_q = 0; foreach (hf_h = hf_j in @hist_log(hf_e)) { hf_z++; hf_q += hf_h } printf("hfe: %d %d\n", hf_z, hf_q)`,
      expect: 'hfe: 128 0\n',
    },
  ],
};

// ------------------------------------------------------------------------------------------
// =~ and !~ (src/regex/ere.ts builds the DFA; src/vm/interp.ts and vm/regex.h run it)

const regex: Group = {
  name: 'regex =~ and !~',
  cases: [
    {
      label: 'rebasic',
      body: String.raw`rs = "hello, world"; printf("rebasic: %d %d %d %d %d %d\n", rs =~ "wor", rs =~ "^wor", rs =~ "l+o,", rs =~ "d$", rs =~ "^h.*d$", rs =~ "xyz")`,
      expect: 'rebasic: 1 0 1 1 1 0\n',
    },
    {
      label: 'renot',
      body: String.raw`printf("renot: %d %d %d\n", "abc" !~ "b", "abc" !~ "^b", ("abc" =~ "c") + ("abc" !~ "z"))`,
      expect: 'renot: 0 1 2\n',
    },
    {
      label: 'reclass',
      body: String.raw`printf("reclass: %d %d %d %d %d\n", "foo_1" =~ "^[[:alpha:]_][[:alnum:]_]*$", "1foo" =~ "^[[:alpha:]_][[:alnum:]_]*$", "a-b" =~ "[^a-z]", "abc" =~ "[^a-z]", "x]y" =~ "[]]")`,
      expect: 'reclass: 1 0 1 0 1\n',
    },
    {
      label: 'rerep',
      body: String.raw`printf("rerep: %d %d %d %d %d\n", "aaa" =~ "^a{3}$", "aaaa" =~ "^a{3}$", "abcdab" =~ "^(ab|cd){2,3}$", "ab" =~ "^(ab|cd){2,3}$", "color" =~ "colou?r")`,
      expect: 'rerep: 1 0 1 0 1\n',
    },
    {
      label: 'reempty',
      body: String.raw`re0 = ""; printf("reempty: %d %d %d %d\n", re0 =~ "^$", re0 =~ "", "x" =~ "^$", re0 =~ "a*")`,
      expect: 'reempty: 1 1 0 1\n',
    },
    {
      label: 'relong',
      body: String.raw`rl = "` + digits127 + String.raw`"; printf("relong: %d %d %d\n", rl =~ "6$", rl =~ "^0123.*56$", rl =~ "^[0-9]+$")`,
      expect: 'relong: 1 1 1\n',
    },
    {
      label: 'reescape',
      body: String.raw`printf("reescape: %d %d %d %d\n", "a.b" =~ "a\\.b", "axb" =~ "a\\.b", "1+1" =~ "1\\+1", "` + hi + String.raw`" =~ "h[^a-z]llo")`,
      expect: 'reescape: 1 0 1 1\n',
    },
    {
      label: 'reif',
      body: String.raw`if (execname() =~ "^.+$" && !(execname() =~ "^$")) println("reif: named"); else println("reif: unnamed")`,
      expect: 'reif: named\n',
    },
  ],
};

// stap's map->wrap (runtime/map.c _new_map_create): a full `%` array reuses its oldest element
// (the first created; updates do not move an element), deletes free a place.
const wrapArrays: Group = {
  name: 'wrap-around arrays: a new key in a full a% replaces the oldest one',
  decls: 'global wra%[3], wrs%[2], wrk%[2], wrt%[2], wrd%',
  cases: [
    {
      label: 'wrap',
      body: String.raw`for (wi = 1; wi <= 5; wi++) wra[wi] = wi * 10; printf("wrap: %d %d %d %d %d %d %d\n", 1 in wra, 2 in wra, 3 in wra, 4 in wra, 5 in wra, wra[3], wra[5])`,
      expect: 'wrap: 0 0 1 1 1 30 50\n',
    },
    {
      label: 'wrapupd',
      // updating 3 keeps it oldest; 6 replaces 3, then 7 replaces 4
      body: String.raw`wra[3] = 33; wra[6]++; printf("wrapupd: %d %d %d %d\n", 3 in wra, 4 in wra, 5 in wra, wra[6]); wra[7] += 7; printf("wrapupd: %d %d %d %d\n", 4 in wra, 5 in wra, 6 in wra, wra[7])`,
      expect: 'wrapupd: 0 1 1 1\nwrapupd: 0 1 1 7\n',
    },
    {
      label: 'wrapdel',
      // a deleted element frees its place: the next new key replaces nothing
      body: String.raw`delete wra[6]; wra[8] = 8; printf("wrapdel: %d %d %d %d\n", 5 in wra, 6 in wra, 7 in wra, 8 in wra); wra[9] = 9; printf("wrapdel: %d %d %d\n", 5 in wra, 7 in wra, 9 in wra)`,
      expect: 'wrapdel: 1 0 1 1\nwrapdel: 0 1 1\n',
    },
    {
      label: 'wrapstr',
      body: String.raw`wrs["a"] = "x"; wrs["b"] = "y"; wrs["c"] = "z"; printf("wrapstr: %d %d %d %s\n", "a" in wrs, "b" in wrs, "c" in wrs, wrs["c"])`,
      expect: 'wrapstr: 0 1 1 z\n',
    },
    {
      label: 'wrapkeys',
      body: String.raw`wrk[1, "one"] = 1; wrk[2, "two"] = 2; wrk[1, "one"] = 11; wrk[3, "three"] = 3; printf("wrapkeys: %d %d %d\n", [1, "one"] in wrk, [2, "two"] in wrk, wrk[3, "three"])`,
      expect: 'wrapkeys: 0 1 3\n',
    },
    {
      label: 'wrapstat',
      body: String.raw`wrt[1] <<< 1; wrt[2] <<< 2; wrt[1] <<< 10; wrt[3] <<< 3; printf("wrapstat: %d %d %d\n", 1 in wrt, @count(wrt[2]), @sum(wrt[3]))`,
      expect: 'wrapstat: 0 1 3\n',
    },
    {
      label: 'wrapdefault',
      // `global a%` holds MAXMAPENTRIES (2048) elements
      body: String.raw`for (wj = 0; wj < 2050; wj++) wrd[wj] = wj; printf("wrapdefault: %d %d %d %d\n", 0 in wrd, 1 in wrd, 2 in wrd, wrd[2049])`,
      expect: 'wrapdefault: 0 0 1 2049\n',
    },
  ],
  maxAction: 200000,
};

const wrapDisplay: Group = {
  name: 'wrap-around arrays at exit: the elements left are displayed',
  decls: 'global wrx%[2]',
  cases: [{ label: 'wrapshow', body: String.raw`wrx[1] = 1; wrx[2] = 2; wrx[3] = 3; printf("wrapshow: done\n")`, expect: 'wrapshow: done\n' }],
};

// ------------------------------------------------------------------------------------------
// foreach and delete of a whole array (vm/iter.h in the kernel)

const foreachForms: Group = {
  name: 'foreach: sorted by value, key and aggregate, limit, value binding, nesting, delete',
  decls: 'global fa, fb, fs, fm',
  maxAction: 100000,
  cases: [
    {
      label: 'fsetup',
      body: String.raw`for (i = 0; i < 10; i++) { fa[i * 7 % 10] = 100 - i; fb[sprintf("k%d", i % 4), i] = sprintf("v%d", 9 - i); fs[i % 3] <<< i; fm["x" . sprint(i)] = i }
foreach (k in fs) n1++
printf("fsetup: %d\n", n1)`,
      expect: 'fsetup: 3\n',
    },
    {
      label: 'fval',
      body: String.raw`printf("fval:"); foreach (k in fa-) printf(" %d=%d", k, fa[k]); println("")`,
      expect: 'fval: 0=100 7=99 4=98 1=97 8=96 5=95 2=94 9=93 6=92 3=91\n',
    },
    {
      label: 'flimit',
      body: String.raw`printf("flimit:"); foreach (v = k in fa+ limit 3) printf(" %d:%d", k, v); lim = 0; foreach (k in fa limit lim) println("never"); println("")`,
      expect: 'flimit: 3:91 6:92 9:93\n',
    },
    {
      label: 'fkey',
      body: String.raw`printf("fkey:"); foreach ([x, y-] in fb) printf(" %s,%d", x, y); foreach ([x-, y] in fb limit 4) printf(" %s", x); println("")`,
      expect: 'fkey: k1,9 k0,8 k3,7 k2,6 k1,5 k0,4 k3,3 k2,2 k1,1 k0,0 k3 k3 k2 k2\n',
    },
    {
      label: 'fstrval',
      body: String.raw`printf("fstrval:"); foreach (sv = [x, y] in fb-) printf(" %s,%d=%s", x, y, sv); println("")`,
      expect: 'fstrval: k0,0=v9 k1,1=v8 k2,2=v7 k3,3=v6 k0,4=v5 k1,5=v4 k2,6=v3 k3,7=v2 k0,8=v1 k1,9=v0\n',
    },
    {
      label: 'fstat',
      body: String.raw`printf("fstat:"); foreach (k in fs @sum-) printf(" %d:%d", k, @sum(fs[k])); foreach (k in fs @max+) printf(" %d", k); foreach (k- in fs) printf(" %d", k); println("")`,
      expect: 'fstat: 0:18 2:15 1:12 1 2 0 2 1 0\n',
    },
    {
      label: 'fnest',
      body: String.raw`printf("fnest:"); foreach (k in fa+ limit 4) foreach (j in fa- limit 3) { if (j == 4) break; printf(" %d%d", k, j) } println("")`,
      expect: 'fnest: 30 37 60 67 90 97 20 27\n',
    },
    {
      label: 'fdel',
      body: String.raw`printf("fdel:"); foreach (mk- in fm) { printf(" %s", mk); delete fm } nm = 0; foreach (mk in fm) nm++; printf(" %d %d\n", ["x1"] in fm, nm)`,
      expect: 'fdel: x9 x8 x7 x6 x5 x4 x3 x2 x1 x0 0 0\n',
    },
    {
      label: 'fclear',
      body: String.raw`delete fa; delete fs; n2 = 0; foreach (k in fa) n2++; foreach (k in fs) n2++; printf("fclear: %d %d %d %d\n", n2, 3 in fa, 1 in fs, ["k1", 1] in fb)`,
      expect: 'fclear: 0 0 0 1\n',
    },
  ],
};

// Slices: `*` in `in`, `delete` and a foreach's array (vm/iter.h's iter_match in the kernel)

const sliceForms: Group = {
  name: 'slices: [1, *] in a, foreach over a[*, "x"] (sorted, limit, value), delete a[1, *] of values, statistics and a wrap-around array',
  decls: 'global sa, ss, sw%[3], sn',
  maxAction: 100000,
  cases: [
    {
      label: 'sin',
      body: String.raw`for (i = 0; i < 4; i++) for (j = 0; j < 3; j++) sa[i, sprintf("s%d", j)] = i * 10 + j
sn[0, "x"] = 1; delete sn[*, "x"]
printf("sin: %d %d %d %d %d %d %d\n", [1, *] in sa, [9, *] in sa, [*, "s2"] in sa, [*, "zz"] in sa, [*, *] in sa, [2, "s1"] in sa, [*, *] in sn)`,
      expect: 'sin: 1 0 1 0 1 1 0\n',
    },
    {
      label: 'sfor',
      body: String.raw`printf("sfor:"); foreach ([x, y+] in sa[2, *]) printf(" %d,%s", x, y); foreach ([x-, y] in sa[*, "s1"]) printf(" %d,%s", x, y)
foreach (v = [x, y] in sa[*, "s0"]- limit 2) printf(" %s=%d", y, v); k0 = 3; foreach ([x, y] in sa[k0, "s" . "1"]) printf(" %d%s", x, y); println("")`,
      expect: 'sfor: 2,s0 2,s1 2,s2 3,s1 2,s1 1,s1 0,s1 s0=30 s0=20 3s1\n',
    },
    {
      label: 'sdel',
      body: String.raw`delete sa[1, *]; delete sa[*, "s2"]; delete sa[7, *]; printf("sdel:"); foreach (v = [x, y] in sa+) printf(" %d,%s", x, y); println("")`,
      expect: 'sdel: 0,s0 0,s1 2,s0 2,s1 3,s0 3,s1\n',
    },
    {
      label: 'sstat',
      body: String.raw`for (i = 0; i < 6; i++) ss[i % 2, i] <<< i * 10; printf("sstat:"); foreach ([p, q+] in ss[1, *]) printf(" %d,%d:%d", p, q, @sum(ss[p, q]))
delete ss[0, *]; printf(" %d %d", [0, *] in ss, [1, *] in ss); foreach ([p, q-] in ss) printf(" %d", q); println("")`,
      expect: 'sstat: 1,1:10 1,3:30 1,5:50 0 1 5 3 1\n',
    },
    {
      label: 'swrap',
      body: String.raw`sw[1, 1] = 1; sw[1, 2] = 2; sw[2, 1] = 3; delete sw[1, *]; sw[3, 3] = 4; sw[4, 4] = 5; sw[5, 5] = 6
printf("swrap:"); foreach ([p+, q] in sw) printf(" %d,%d", p, q); println("")`,
      expect: 'swrap: 3,3 4,4 5,5\n',
    },
  ],
};

// -D MAXSTRINGLEN=N: every string either interpreter makes is cut at N-1 bytes (stap's strlcpy
// into string_t): ., .=, sprintf (widths too), substr, text_str/string_quoted, str_replace,
// array keys and values, string globals (initialised and assigned), printf of them, widths and
// precisions above 255 (sprintf's fill the slot; printf's are not cut), sprint of a histogram,
// matched() offsets past 254. N above 128 runs on the 512-byte interpreter object.
function maxStringLen(n: number): Group {
  const m = n - 1;
  const x = 'x'.repeat(Math.min(1024, m));
  const ab = 'ab'.repeat(512).slice(0, m);
  const f = `12345:${'x'.repeat(1024)}`.slice(0, m);
  const w = `${'a'.padEnd(200)}|`.slice(0, m);
  const zero = '42'.padStart(500, '0').slice(0, m);
  const left = `${'x'.padEnd(300)}|`.slice(0, m);
  const prec = `${'i'.repeat(Math.min(600, m, 400))}|`.slice(0, m);
  const star = `${'7'.padStart(400)}|`.slice(0, m);
  const pstar = `${'7'.padStart(450, '0')}|`.slice(0, m);
  const histLen = histText(LOG, range(0, 200).map((i) => i * i), 4096).length;
  const linText = histText({ hist: HIST.LINEAR, start: 0, interval: 25, buckets: 7 }, range(0, 40).map((i) => i * 5 - 50), m);
  const negText = histText(LOG, range(0, 40).map((i) => (i - 20) * 5000), m);
  return {
    name: `-D MAXSTRINGLEN=${n}: strings are cut at ${m} bytes`,
    defines: [`MAXSTRINGLEN=${n}`],
    decls: `global ml_g = "${'i'.repeat(600)}", ml_a, ml_b, ml_gs, ml_st, ml_sl, ml_sn`,
    cases: [
      { label: 'cat', body: String.raw`ml_s = "x"; for (ml_i = 0; ml_i < 10; ml_i++) ml_s = ml_s . ml_s; ml_u = ml_s . "END"; printf("cat: %d %d %s\n", strlen(ml_s), strlen(ml_u), substr(ml_u, strlen(ml_u) - 3, 3))`, expect: `cat: ${m} ${m} ${x.slice(-3)}\n` },
      { label: 'doteq', body: String.raw`ml_t = "ab"; for (ml_j = 0; ml_j < 10; ml_j++) ml_t .= ml_t; printf("doteq: %d %s\n", strlen(ml_t), substr(ml_t, strlen(ml_t) - 2, 2))`, expect: `doteq: ${m} ${ab.slice(-2)}\n` },
      { label: 'sprintf', body: String.raw`ml_f = sprintf("%d:%s", 12345, ml_s); ml_w = sprintf("%-200s|", "a"); printf("sprintf: %d %s %d %s\n", strlen(ml_f), substr(ml_f, strlen(ml_f) - 4, 4), strlen(ml_w), substr(ml_w, strlen(ml_w) - 1, 1))`, expect: `sprintf: ${f.length} ${f.slice(-4)} ${w.length} ${w.slice(-1)}\n` },
      { label: 'substr', body: String.raw`printf("substr: %d %d\n", strlen(substr(ml_s, 10, 1000)), strlen(substr(ml_s, 0, 2000)))`, expect: `substr: ${Math.max(0, m - 10)} ${m}\n` },
      { label: 'text', body: String.raw`ml_q = string_quoted(ml_t); printf("text: %d %d %s\n", strlen(text_str(ml_s . "\n")), strlen(ml_q), substr(ml_q, strlen(ml_q) - 5, 5))`, expect: `text: ${textStr(x, 0n, 0n, n).length} ${textStr(ab, 0n, 1n, n).length} ${textStr(ab, 0n, 1n, n).slice(-5)}\n` },
      { label: 'repl', body: String.raw`ml_r = str_replace(ml_s, "x", "yz"); printf("repl: %d %s\n", strlen(ml_r), substr(ml_r, strlen(ml_r) - 2, 2))`, expect: `repl: ${m} ${'yz'.repeat(512).slice(0, m).slice(-2)}\n` },
      { label: 'keys', body: String.raw`ml_a[ml_s] = ml_s . "!"; ml_b[ml_t, 7] = ml_t; printf("keys: %d %d %d %d\n", strlen(ml_a[sprintf("%s%s", ml_s, "more")]), [ml_s . "zz"] in ml_a, strlen(ml_b[ml_t, 7]), [ml_t, 7] in ml_b)`, expect: `keys: ${m} 1 ${m} 1\n` },
      { label: 'globals', body: String.raw`ml_gs = ml_s . "tail"; printf("globals: %d %d %d\n", strlen(ml_g), strlen(ml_gs), ml_gs == ml_s)`, expect: `globals: ${Math.min(600, m)} ${m} 1\n` },
      { label: 'print', body: String.raw`printf("print: %s|%s\n", ml_s, ml_g)`, expect: `print: ${x}|${'i'.repeat(Math.min(600, m))}\n` },
      // widths and precisions above 255 (9 bits in SFMT's immediate): the field fills the slot
      { label: 'wzero', body: String.raw`ml_z = sprintf("%0500d", 42); printf("wzero: %d %s\n", strlen(ml_z), substr(ml_z, strlen(ml_z) - 3, 3))`, expect: `wzero: ${zero.length} ${zero.slice(-3)}\n` },
      { label: 'wleft', body: String.raw`ml_l = sprintf("%-300s|", "x"); printf("wleft: %d [%s]\n", strlen(ml_l), substr(ml_l, strlen(ml_l) - 3, 3))`, expect: `wleft: ${left.length} [${left.slice(-3)}]\n` },
      { label: 'wprec', body: String.raw`ml_p = sprintf("%.400s|", ml_g); printf("wprec: %d [%s]\n", strlen(ml_p), substr(ml_p, strlen(ml_p) - 3, 3))`, expect: `wprec: ${prec.length} [${prec.slice(-3)}]\n` },
      { label: 'wstar', body: String.raw`ml_v = sprintf("%*d|", 400, 7); ml_o = sprintf("%.*d|", 450, 7); printf("wstar: %d [%s] %d [%s]\n", strlen(ml_v), substr(ml_v, strlen(ml_v) - 3, 3), strlen(ml_o), substr(ml_o, strlen(ml_o) - 3, 3))`, expect: `wstar: ${star.length} [${star.slice(-3)}] ${pstar.length} [${pstar.slice(-3)}]\n` },
      { label: 'hist', body: String.raw`for (ml_hi = 0; ml_hi < 200; ml_hi++) ml_st <<< ml_hi * ml_hi; ml_hs = sprint(@hist_log(ml_st)); printf("hist: %d %s\n", strlen(ml_hs), str_replace(ml_hs, "\n", "|"))`, expect: `hist: ${Math.min(m, histLen)} ${histText(LOG, range(0, 200).map((i) => i * i), m)}\n` },
      // tag registers hold positions up to 511 (16 bits): matched() past byte 254 of the subject
      { label: 'retag', body: String.raw`ml_rx = substr(ml_s, 0, ${m - 4}) . "abcd"; if (ml_rx =~ "^(x*)(ab)(c)d$") printf("retag: %d %d [%s] [%s] %d\n", strlen(matched(1)), strlen(matched(0)), matched(2), matched(3), ngroups())`, expect: `retag: ${m - 4} ${m} [ab] [c] 4\n` },
      { label: 'hlin', body: String.raw`for (ml_hi = 0; ml_hi < 40; ml_hi++) ml_sl <<< ml_hi * 5 - 50; ml_hl = sprint(@hist_linear(ml_sl, 0, 100, 25)); printf("hlin: %d %s\n", strlen(ml_hl), str_replace(ml_hl, "\n", "|"))`, expect: `hlin: ${linText.length} ${linText}\n` },
      { label: 'hneg', body: String.raw`for (ml_hi = 0; ml_hi < 40; ml_hi++) ml_sn <<< (ml_hi - 20) * 5000; ml_hn = sprint(@hist_log(ml_sn)); printf("hneg: %d %s\n", strlen(ml_hn), str_replace(ml_hn, "\n", "|"))`, expect: `hneg: ${negText.length} ${negText}\n` },
      { label: 'wprintf', body: String.raw`printf("wprintf: %0300d|%-260s|%.*d\n", 5, "y", 270, 9)`, expect: `wprintf: ${'5'.padStart(300, '0')}|${'y'.padEnd(260)}|${'9'.padStart(270, '0')}\n` },
    ],
  };
}

// matched(), matched_str(), ngroups() (tapset/regex.stp over RETMATCH/RENGROUPS/RESUBEXPR:
// src/regex/tdfa.ts builds the tagged DFA, src/vm/interp.ts and vm/regex.h run it)

const regexGroups: Group = {
  name: 'regex subexpressions',
  decls: 'function second:string (s:string) { if (s =~ "^[^,]*,([^,]*)") return matched(1); return "-" }',
  cases: [
    {
      label: 'rgbasic',
      body: String.raw`if ("key=value123" =~ "^([a-z]+)=([a-z]+)([0-9]*)$") printf("rgbasic: %d [%s] [%s] [%s] [%s] [%s]\n", ngroups(), matched(0), matched(1), matched(2), matched(3), matched_str())`,
      expect: 'rgbasic: 4 [key=value123] [key] [value] [123] [key=value123]\n',
    },
    {
      label: 'rgleft',
      body: String.raw`if ("xxabbbcabbbbbc" =~ "a(b+)c") printf("rgleft: [%s] [%s]\n", matched(0), matched(1)); if ("xab" =~ "a|ab") printf("rgleft: [%s]\n", matched_str())`,
      expect: 'rgleft: [abbbc] [bbb]\nrgleft: [ab]\n',
    },
    {
      label: 'rgalt',
      body: String.raw`if ("zay" =~ "a|(b)") printf("rgalt: %d [%s] [%s]\n", ngroups(), matched(0), matched(1)); if ("zxababyq" =~ "x(a|b)*y") printf("rgalt: [%s] [%s]\n", matched(0), matched(1))`,
      expect: 'rgalt: 2 [a] []\nrgalt: [xababy] [b]\n',
    },
    {
      label: 'rgpath',
      body: String.raw`rgp = "/usr/lib/x86_64-linux-gnu/libc.so.6"; if (rgp =~ "^(.*)/([^/]*)\\.so(\\.[0-9]+)?$") printf("rgpath: [%s] [%s] [%s]\n", matched(1), matched(2), matched(3))`,
      expect: 'rgpath: [/usr/lib/x86_64-linux-gnu] [libc] [.6]\n',
    },
    {
      label: 'rglong',
      body: String.raw`rgl = "` + digits127 + String.raw`"; if (rgl =~ "^(0123)(.*)(56)$") printf("rglong: [%s] %d [%s]\n", matched(1), strlen(matched(2)), matched(3)); if (rgl =~ "(.)$") printf("rglong: [%s]\n", matched(1))`,
      expect: 'rglong: [0123] 121 [56]\nrglong: [6]\n',
    },
    {
      label: 'rglast',
      body: String.raw`rga = "a,b,c"; rgb = second(rga); printf("rglast: [%s] [%s]\n", rgb, matched(0)); if ("q" =~ "(r)") println("rglast: ?"); try { println(matched(0)) } catch (rge) { println("rglast: ", rge) }`,
      expect: 'rglast: [b] [a,b]\nrglast: Attempted to get subexpression 0 from failed match\n',
    },
    {
      label: 'rgrange',
      body: String.raw`if ("ab" =~ "(a)(b)") { try { println(matched(3)) } catch (rgx) { println("rgrange: ", rgx) }; try { println(matched(-1)) } catch (rgy) { println("rgrange: ", rgy) } }`,
      expect: 'rgrange: Attempted to get nonexistent subexpression 3\nrgrange: Attempted to get nonexistent subexpression -1\n',
    },
    {
      label: 'rgnot',
      body: String.raw`if (!("abc" !~ "(b)(c)")) printf("rgnot: %d [%s]\n", ngroups(), matched(2))`,
      expect: 'rgnot: 3 [c]\n',
    },
  ],
};

/** no =~ in the handler yet: matched() is an error, stap's words */
const regexNoMatch: Group = {
  name: 'regex matched() before any match',
  cases: [{ label: 'rgnone', body: String.raw`println("rgnone: before"); println("rgnone: ", ngroups())`, expect: 'rgnone: before\n' }],
  expectCode: 1,
  expectStderrMatch: /^ERROR: Attempted to get subexpression count from failed match near identifier 'error' at \S*regex\.stp:\d+:\d+\nWARNING: Number of errors: 1, skipped probes: 0\n$/,
};

export const GROUPS: Group[] = [
  foreachForms,
  sliceForms,
  ...[64, 128, 256, 512].map(maxStringLen),
  stats,
  statEmpty,
  statRange,
  arith,
  strings,
  strcmp,
  vars,
  arrays,
  functions,
  control,
  printfs,
  div0,
  mod0,
  superinsns,
  divConst0,
  userError,
  userErrorLong,
  maxaction,
  maxaction2,
  nesting,
  output,
  overflow,
  overflowAdd,
  limits,
  outLongsOver,
  exactBudget,
  exactBudgetMinus2,
  maxactionFn,
  exitThenError,
  emptyError,
  fullArray,
  wrapArrays,
  wrapDisplay,
  sharedDivColumn,
  tryCatch,
  uncaughtInCatch,
  maxactionUncaught,
  strfuncs,
  textfuncs,
  stringatError,
  contextPure,
  sprintfs,
  regex,
  regexGroups,
  regexNoMatch,
  histSprint,
  histSprintEmpty,
  histForeach,
  printfMem,
  printfMemError,
];
