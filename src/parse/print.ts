// AST -> SystemTap source (used for -p1). Parsing the output yields the same AST modulo `loc`.
//
// Composite sub-expressions are parenthesised, so precedence never has to be reconstructed.
// Simple statements always get their ';' terminator; block-like statements never do, so a
// following EmptyStmt (';') cannot be swallowed as a terminator on re-parse.
import type {
  AliasDecl,
  Block,
  Expr,
  FunctionDecl,
  GlobalDecl,
  NumberLit,
  ProbeDecl,
  ProbePoint,
  Script,
  Stmt,
  StringLit,
  TargetPathStep,
  TopLevel,
} from './ast';

const INDENT = '  ';

export function printScript(s: Script): string {
  return s.items.map(topLevel).join('\n') + (s.items.length ? '\n' : '');
}

function topLevel(t: TopLevel): string {
  switch (t.kind) {
    case 'probe':
      return probe(t);
    case 'alias':
      return alias(t);
    case 'embedded':
      return `%{${t.code}%}`;
    case 'global':
      return global(t);
    case 'function':
      return func(t);
  }
}

function probe(p: ProbeDecl): string {
  return `probe ${p.points.map(point).join(', ')} ${block(p.body, '')}`;
}

function alias(a: AliasDecl): string {
  return `probe ${a.names.map(point).join(', ')} ${a.epilogue ? '+=' : '='} ${a.points.map(point).join(', ')} ${block(a.body, '')}`;
}

function point(p: ProbePoint): string {
  const comps = p.components.map((c) => (c.arg ? `${c.name}(${literal(c.arg)})` : c.name));
  const mark = p.sufficient ? '!' : p.optional ? '?' : '';
  return comps.join('.') + mark + (p.condition ? ` if (${expr(p.condition)})` : '');
}

function global(g: GlobalDecl): string {
  const size = g.size ? `[${literal(g.size)}]` : '';
  const init = g.init ? ` = ${literal(g.init)}` : '';
  return `${g.private ? 'private ' : ''}global ${g.name}${g.wrap ? '%' : ''}${size}${init}`;
}

function func(f: FunctionDecl): string {
  const params = f.params.map((p) => (p.type ? `${p.name}:${p.type}` : p.name)).join(', ');
  const priority = f.priority !== undefined ? ` :${f.priority}` : '';
  const head = `${f.private ? 'private ' : ''}function ${f.name}${f.type ? `:${f.type}` : ''}`;
  return `${head}(${params})${priority} ${f.embedded ? `%{${f.embedded.code}%}` : block(f.body, '')}`;
}

/** A literal in a probe point argument or global initialiser: sign allowed. */
function literal(l: NumberLit | StringLit): string {
  return l.kind === 'string' ? quote(l.value) : l.value.toString();
}

// ---- statements ----

function block(b: Block, ind: string): string {
  if (b.stmts.length === 0) return '{\n' + ind + '}';
  const inner = ind + INDENT;
  return '{\n' + b.stmts.map((s) => inner + stmt(s, inner) + '\n').join('') + ind + '}';
}

/** `ind` is the indentation of the line the statement starts on. */
function stmt(s: Stmt, ind: string): string {
  switch (s.kind) {
    case 'block':
      return block(s, ind);
    case 'exprstmt':
      return expr(s.expr) + ';';
    case 'if': {
      const head = `if (${expr(s.cond)}) ${stmt(s.then, ind)}`;
      if (!s.else) return head;
      const sep = s.then.kind === 'block' ? ' ' : '\n' + ind;
      return `${head}${sep}else ${stmt(s.else, ind)}`;
    }
    case 'while':
      return `while (${expr(s.cond)}) ${stmt(s.body, ind)}`;
    case 'for': {
      const part = (e: Expr | undefined): string => (e ? expr(e) : '');
      const init = part(s.init);
      const cond = s.cond ? ' ' + expr(s.cond) : '';
      const step = s.step ? ' ' + expr(s.step) : '';
      return `for (${init};${cond};${step}) ${stmt(s.body, ind)}`;
    }
    case 'foreach': {
      // a sort directive follows its index, or the array for the value (`in a+`)
      const mark = (column: number): string => (s.sort?.column === column ? s.sort.dir : '');
      const names = s.keys.map((k, i) => k.name + mark(i + 1));
      const keys = s.keys.length === 1 && !s.value ? names[0] : `[${names.join(', ')}]`;
      const value = s.value ? `${s.value.name} = ` : '';
      const limit = s.limit ? ` limit ${expr(s.limit)}` : '';
      const aggr = s.sort?.column === 0 && s.sort.aggr ? ` @${s.sort.aggr}` : '';
      const slice = s.slice ? `[${s.slice.map(expr).join(', ')}]` : '';
      return `foreach (${value}${keys} in ${s.hist ? expr(s.hist) : s.array.name}${slice}${aggr}${mark(0)}${limit}) ${stmt(s.body, ind)}`;
    }
    case 'next':
      return 'next;';
    case 'break':
      return 'break;';
    case 'continue':
      return 'continue;';
    case 'return':
      return s.value ? `return ${expr(s.value)};` : 'return;';
    case 'delete':
      return `delete ${expr(s.target)};`;
    case 'try':
      return `try ${block(s.body, ind)} catch ${s.var ? `(${s.var.name}) ` : ''}${block(s.handler, ind)}`;
    case 'empty':
      return ';';
  }
}

// ---- expressions ----

/** An expression in a context that needs no parentheses (statement, argument, index, condition). */
export function expr(e: Expr): string {
  switch (e.kind) {
    case 'number':
      // Negative values only arise from wrapping (e.g. 0xffffffffffffffff); print the
      // unsigned spelling, which wraps back to the same value.
      return BigInt.asUintN(64, e.value).toString();
    case 'string':
      return quote(e.value);
    case 'ident':
      return e.name;
    case 'tvar':
      return `${e.addressOf ? '&' : ''}$${e.name}${e.pretty ?? ''}${path(e.path)}`;
    case 'at':
      return `${e.addressOf ? '&' : ''}@${e.op}(${e.args.map(expr).join(', ')})${path(e.path)}`;
    case 'index':
      return `${e.array.name}[${e.indices.map(expr).join(', ')}]`;
    case 'call':
      return `${e.name}(${e.args.map(expr).join(', ')})`;
    case 'binary':
    case 'logical':
      return `${operand(e.left)} ${e.op} ${operand(e.right)}`;
    case 'unary':
      return e.op + operand(e.operand);
    case 'assign':
      return `${expr(e.target)} ${e.op} ${expr(e.value)}`; // lowest precedence, right-assoc
    case 'incdec':
      return e.prefix ? e.op + expr(e.target) : expr(e.target) + e.op;
    case 'ternary':
      return `${operand(e.cond)} ? ${operand(e.then)} : ${operand(e.else)}`;
    case 'in':
      return e.keys.length === 1 && e.keys[0].kind !== 'wildcard'
        ? `${operand(e.keys[0])} in ${e.array.name}`
        : `[${e.keys.map(expr).join(', ')}] in ${e.array.name}`;
    case 'statop':
      return `@${e.op}(${expr(e.stat)}${e.shift !== undefined ? `, ${e.shift}` : ''})`;
    case 'histop':
      return `@${e.op}(${[expr(e.stat), ...e.params.map(String)].join(', ')})`;
    case 'histindex':
      return `${expr(e.hist)}[${expr(e.index)}]`;
    case 'embedded':
      return `%{${e.code}%}`;
    case 'wildcard':
      return '*';
  }
}

function path(steps: TargetPathStep[] | undefined): string {
  return (steps ?? []).map((s) => (s.kind === 'member' ? `->${s.name}` : `[${expr(s.index)}]`)).join('');
}

function operand(e: Expr): string {
  switch (e.kind) {
    case 'number':
    case 'string':
    case 'ident':
    case 'tvar':
    case 'at':
    case 'index':
    case 'call':
    case 'statop':
    case 'histop':
    case 'histindex':
      return expr(e);
    default:
      return `(${expr(e)})`;
  }
}

// ---- strings ----

const NAMED_ESCAPES: Record<number, string> = {
  0x07: '\\a',
  0x08: '\\b',
  0x09: '\\t',
  0x0a: '\\n',
  0x0b: '\\v',
  0x0c: '\\f',
  0x0d: '\\r',
  0x22: '\\"',
  0x5c: '\\\\',
};

function octal(byte: number): string {
  return '\\' + byte.toString(8).padStart(3, '0');
}

/**
 * Quote a string value. Values are byte strings (one char per byte, see the grammar);
 * a value that is valid UTF-8 is printed with its non-ASCII characters as-is, anything
 * else non-printable as \ooo.
 */
export function quote(value: string): string {
   
  const bytes = /[^\x00-\xff]/.test(value) ? Buffer.from(value, 'utf8') : Buffer.from(value, 'latin1');
  let text: string | null = null;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    text = null;
  }
  let out = '"';
  if (text !== null) {
    for (const ch of text) {
      const cp = ch.codePointAt(0) ?? 0;
      if (NAMED_ESCAPES[cp] !== undefined) out += NAMED_ESCAPES[cp];
      else if (cp < 0x20 || cp === 0x7f) out += octal(cp);
      else if (cp >= 0x80 && cp < 0xa0) out += [...Buffer.from(ch, 'utf8')].map(octal).join('');
      // printed source is a byte string like the parser's input: keep the UTF-8 bytes
      else out += Buffer.from(ch, 'utf8').toString('latin1');
    }
  } else {
    for (const b of bytes) {
      if (NAMED_ESCAPES[b] !== undefined) out += NAMED_ESCAPES[b];
      else if (b < 0x20 || b >= 0x7f) out += octal(b);
      else out += String.fromCharCode(b);
    }
  }
  return out + '"';
}
