// The AST produced by the peggy grammar (stp.peggy). Every node carries its source location.

export interface Loc {
  file: string;
  line: number; // 1-based
  col: number; // 1-based
  offset: number; // 0-based offset into the source text
}

export interface Script {
  kind: 'script';
  file: string;
  items: TopLevel[];
  loc: Loc;
}

export type TopLevel = ProbeDecl | AliasDecl | GlobalDecl | FunctionDecl | EmbeddedC;

/** `%{ C code %}` at top level, a function's body, or inside a body: parsed, rejected by the resolver. */
export interface EmbeddedC {
  kind: 'embedded';
  code: string;
  loc: Loc;
}

/** One component of a probe point: `kernel`, `trace("sched:x")`, `ms(500)`, `return`. */
export interface ProbeComponent {
  name: string;
  arg?: NumberLit | StringLit;
  loc: Loc;
}

/** Brace alternatives (`syscall.{open,close}`) are expanded by the parser into one point each. */
export interface ProbePoint {
  kind: 'point';
  /** names may hold `*` (one component's characters) and `**` (across components) */
  components: ProbeComponent[];
  optional: boolean; // trailing '?' (or '!')
  /** trailing '!': optional, and when it resolves the points after it in the list are skipped */
  sufficient?: boolean;
  /** `P if (cond)`: the handler (alias bodies included) runs only when cond is true */
  condition?: Expr;
  loc: Loc;
}

export interface ProbeDecl {
  kind: 'probe';
  points: ProbePoint[];
  body: Block;
  loc: Loc;
}

/** `probe name = point, ... { prologue }` or `probe name += point, ... { epilogue }` */
export interface AliasDecl {
  kind: 'alias';
  names: ProbePoint[];
  /** `+=`: the body runs after the using probe's body */
  epilogue: boolean;
  points: ProbePoint[];
  body: Block;
  loc: Loc;
}

/** A declared type: `function f:long (s:string)`. */
export type DeclType = 'long' | 'string';

/** `global a, b = 1` yields one GlobalDecl per name. */
export interface GlobalDecl {
  kind: 'global';
  name: string;
  init?: NumberLit | StringLit;
  /** `global a[N]`: the array's maximum number of elements (1 .. 2^31-1) */
  size?: NumberLit;
  /** `global a%` / `global a%[N]`: a wrap-around array (a new element replaces the oldest) */
  wrap?: boolean;
  /** `private global a`, `private a` */
  private?: boolean;
  loc: Loc;
}

export interface Param {
  name: string;
  /** `name:long`, `name:string` */
  type?: DeclType;
  loc: Loc;
}

export interface FunctionDecl {
  kind: 'function';
  name: string;
  /** the name's location (stap's functiondecl token) */
  nameLoc?: Loc;
  /** `function f:long (...)` */
  type?: DeclType;
  params: Param[];
  /** `function f() :N { }`: parsed and ignored (stap's tapset override priority, N > 0) */
  priority?: bigint;
  /** `private function f()` */
  private?: boolean;
  body: Block;
  /** `function f() %{ C %}`: the body is then empty */
  embedded?: EmbeddedC;
  loc: Loc;
}

// ---- statements ----

export type Stmt =
  | Block
  | ExprStmt
  | IfStmt
  | WhileStmt
  | ForStmt
  | ForeachStmt
  | NextStmt
  | BreakStmt
  | ContinueStmt
  | ReturnStmt
  | DeleteStmt
  | TryStmt
  | EmptyStmt;

export interface Block { kind: 'block'; stmts: Stmt[]; loc: Loc }
export interface ExprStmt { kind: 'exprstmt'; expr: Expr; loc: Loc }
export interface IfStmt { kind: 'if'; cond: Expr; then: Stmt; else?: Stmt; loc: Loc }
export interface WhileStmt { kind: 'while'; cond: Expr; body: Stmt; loc: Loc }
export interface ForStmt { kind: 'for'; init?: Expr; cond?: Expr; step?: Expr; body: Stmt; loc: Loc }
/** `foreach (k in a)`, `foreach ([k1, k2] in a)`, `foreach (v = [k1] in a)`, optional `limit N`. */
export interface ForeachStmt {
  kind: 'foreach';
  keys: Ident[];
  value?: Ident;
  array: Ident;
  /** the one sort directive: `[k1, k2-]`, `v+ = [k]`, `in a+` */
  sort?: ForeachSort;
  limit?: Expr;
  body: Stmt;
  loc: Loc;
}
/** What a foreach iterates in order of: stap's sort_column (0 = the value, n = index n) and
 * direction ('+' ascending, '-' descending); `loc` is the marker's. */
export interface ForeachSort {
  column: number;
  dir: '+' | '-';
  /** `in a @sum-`: the aggregate a statistics array is sorted by (stap's default: @count) */
  aggr?: StatOp;
  loc: Loc;
}
export interface NextStmt { kind: 'next'; loc: Loc }
export interface BreakStmt { kind: 'break'; loc: Loc }
export interface ContinueStmt { kind: 'continue'; loc: Loc }
export interface ReturnStmt { kind: 'return'; value?: Expr; loc: Loc }
/** `delete a[k]`, `delete a`, `delete x` */
export interface DeleteStmt { kind: 'delete'; target: Ident | IndexExpr; loc: Loc }
/** `try { body } catch (var) { handler }`: var, when given, receives the error's message */
export interface TryStmt { kind: 'try'; body: Block; var?: Ident; handler: Block; loc: Loc }
export interface EmptyStmt { kind: 'empty'; loc: Loc }

// ---- expressions ----

export type Expr =
  | NumberLit
  | StringLit
  | Ident
  | TargetVar
  | IndexExpr
  | BinaryExpr
  | LogicalExpr
  | UnaryExpr
  | AssignExpr
  | IncDecExpr
  | TernaryExpr
  | CallExpr
  | InExpr
  | StatOpExpr
  | HistOpExpr
  | HistIndexExpr
  | AtExpr
  /** `%{ C %}` as an expression or statement in a body (stap's embedded_expr): refused by the resolver */
  | EmbeddedC;

/** Integer literal; value already wrapped to signed 64 bits. */
export interface NumberLit { kind: 'number'; value: bigint; loc: Loc }
/** String literal with escapes already decoded. */
export interface StringLit { kind: 'string'; value: string; loc: Loc }
export interface Ident { kind: 'ident'; name: string; loc: Loc }
/** `$name` (without the `$` in `name`); `$$vars` has name '$vars'. */
export interface TargetVar {
  kind: 'tvar';
  name: string;
  /** `->field` and `[index]` after the variable */
  path?: TargetPathStep[];
  /** `$var$` ('$') / `$var$$` ('$$'): the pretty-printed string form */
  pretty?: '$' | '$$';
  /** `&$var` */
  addressOf?: boolean;
  loc: Loc;
}
export type TargetPathStep = { kind: 'member'; name: string; loc: Loc } | { kind: 'subscript'; index: Expr; loc: Loc };

/**
 * The @-operators with expression operands: `@defined(e)`, `@choose_defined(a, b)`,
 * `@entry(e)`, `@cast(p, "type"[, "module"])`, `@var("name"[, "module"])`; `path` as in TargetVar.
 */
export interface AtExpr {
  kind: 'at';
  op: 'defined' | 'choose_defined' | 'entry' | 'cast' | 'var';
  args: Expr[];
  path?: TargetPathStep[];
  /** `&@cast(...)->f`: the member's address */
  addressOf?: boolean;
  loc: Loc;
}
export interface IndexExpr { kind: 'index'; array: Ident; indices: Expr[]; loc: Loc }

export type BinaryOp =
  | '+' | '-' | '*' | '/' | '%'
  | '<<' | '>>' | '&' | '|' | '^'
  | '<' | '<=' | '>' | '>=' | '==' | '!='
  /** regex match (the right operand is always a string literal) */
  | '=~' | '!~'
  | '.';
/** `loc` is the left operand's start; `opLoc` the operator's, which stap names in errors. */
export interface BinaryExpr { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr; loc: Loc; opLoc?: Loc }
export interface LogicalExpr { kind: 'logical'; op: '&&' | '||'; left: Expr; right: Expr; loc: Loc; opLoc?: Loc }
export interface UnaryExpr { kind: 'unary'; op: '-' | '+' | '!' | '~'; operand: Expr; loc: Loc }

export type AssignOp =
  | '=' | '+=' | '-=' | '*=' | '/=' | '%='
  | '<<=' | '>>=' | '&=' | '|=' | '^=' | '.='
  /** `x <<< v`: add v to the statistic x */
  | '<<<';
export interface AssignExpr { kind: 'assign'; op: AssignOp; target: Ident | IndexExpr; value: Expr; loc: Loc; opLoc?: Loc }
export interface IncDecExpr { kind: 'incdec'; op: '++' | '--'; prefix: boolean; target: Ident | IndexExpr; loc: Loc }
export interface TernaryExpr { kind: 'ternary'; cond: Expr; then: Expr; else: Expr; loc: Loc }
export interface CallExpr { kind: 'call'; name: string; args: Expr[]; loc: Loc }
/** `k in a`, `[k1, k2] in a` */
export interface InExpr { kind: 'in'; keys: Expr[]; array: Ident; loc: Loc }

/** The statistic extractors: `@count(x)`, `@avg(a[k])`, `@variance(x, shift)`. */
export type StatOp = 'count' | 'sum' | 'min' | 'max' | 'avg' | 'variance';
export interface StatOpExpr { kind: 'statop'; op: StatOp; stat: Ident | IndexExpr; /** @variance's bit shift */ shift?: bigint; loc: Loc }
/** `@hist_log(x)`, `@hist_linear(x, start, stop, interval)`: only printed or indexed. */
export interface HistOpExpr { kind: 'histop'; op: 'hist_log' | 'hist_linear'; stat: Ident | IndexExpr; params: bigint[]; loc: Loc }
/** `@hist_log(x)[i]`: the count of bucket i */
export interface HistIndexExpr { kind: 'histindex'; hist: HistOpExpr; index: Expr; loc: Loc }
