// argstr and retstr as stap's syscall tapset formats them. The kernel does not format text: its
// SCARGS / SCRET opcodes put the raw values in the string (vm/syscalls.h: 0x01 'A' or 'R', the
// number and the values as 6-bit varints, user strings ended by 0x03, then 0x02), and user
// space expands such runs wherever output shows a string.
import type { TracepointField } from '../kernel/tracefs';
import { syscallByNr, syscallArgs, isUserString, type SyscallDesc } from '../kernel/syscalls';
import { usymText } from '../kernel/usyms';

/** A decoded argument: a number (u64 as the register held it) or a user string. */
export type ArgValue = bigint | { str: string } | { fault: bigint };

export interface NamedArg {
  field: Pick<TracepointField, 'name' | 'ctype' | 'size' | 'signed'>;
  value: ArgValue;
}

// ---- flag and errno names (x86_64 values) ----

const flagBits = (v: bigint, names: [bigint, string][]): string[] => {
  const out: string[] = [];
  let rest = v;
  for (const [bit, name] of names)
    if ((rest & bit) === bit && bit !== 0n) {
      out.push(name);
      rest &= ~bit;
    }
  if (rest) out.push('0x' + rest.toString(16));
  return out;
};

export const OPEN_FLAGS: [bigint, string][] = [
  [0o100n, 'O_CREAT'], [0o200n, 'O_EXCL'], [0o400n, 'O_NOCTTY'], [0o1000n, 'O_TRUNC'], [0o2000n, 'O_APPEND'],
  [0o4000n, 'O_NONBLOCK'], [0o4010000n, 'O_SYNC'], [0o10000n, 'O_DSYNC'], [0o20000n, 'FASYNC'], [0o40000n, 'O_DIRECT'],
  [0o100000n, 'O_LARGEFILE'], [0o20200000n, 'O_TMPFILE'], [0o200000n, 'O_DIRECTORY'], [0o400000n, 'O_NOFOLLOW'],
  [0o1000000n, 'O_NOATIME'], [0o2000000n, 'O_CLOEXEC'], [0o10000000n, 'O_PATH'],
];

/** stap's _sys_open_flag_str: the access mode, then the other flags, `|`-separated. */
export function openFlagStr(flags: bigint): string {
  const f = BigInt.asUintN(32, flags);
  const mode = ['O_RDONLY', 'O_WRONLY', 'O_RDWR', '0x3'][Number(f & 3n)];
  return [mode, ...flagBits(f & ~3n, OPEN_FLAGS)].join('|');
}

export const PROT: [bigint, string][] = [[1n, 'PROT_READ'], [2n, 'PROT_WRITE'], [4n, 'PROT_EXEC'], [0x1000000n, 'PROT_GROWSDOWN'], [0x2000000n, 'PROT_GROWSUP']];
export const protStr = (v: bigint) => (v === 0n ? 'PROT_NONE' : flagBits(BigInt.asUintN(32, v), PROT).join('|'));

export const MAP_FLAGS: [bigint, string][] = [
  [3n, 'MAP_SHARED_VALIDATE'], [1n, 'MAP_SHARED'], [2n, 'MAP_PRIVATE'], [0x10n, 'MAP_FIXED'], [0x20n, 'MAP_ANONYMOUS'],
  [0x40n, 'MAP_32BIT'], [0x100n, 'MAP_GROWSDOWN'], [0x800n, 'MAP_DENYWRITE'], [0x1000n, 'MAP_EXECUTABLE'], [0x2000n, 'MAP_LOCKED'],
  [0x4000n, 'MAP_NORESERVE'], [0x8000n, 'MAP_POPULATE'], [0x10000n, 'MAP_NONBLOCK'], [0x20000n, 'MAP_STACK'], [0x40000n, 'MAP_HUGETLB'],
  [0x80000n, 'MAP_SYNC'], [0x100000n, 'MAP_FIXED_NOREPLACE'],
];
export const mmapFlagStr = (v: bigint) => flagBits(BigInt.asUintN(32, v), MAP_FLAGS).join('|') || '0x0';

const CLONE_FLAGS: [bigint, string][] = [
  [0x100n, 'CLONE_VM'], [0x200n, 'CLONE_FS'], [0x400n, 'CLONE_FILES'], [0x800n, 'CLONE_SIGHAND'], [0x1000n, 'CLONE_PIDFD'],
  [0x2000n, 'CLONE_PTRACE'], [0x4000n, 'CLONE_VFORK'], [0x8000n, 'CLONE_PARENT'], [0x10000n, 'CLONE_THREAD'], [0x20000n, 'CLONE_NEWNS'],
  [0x40000n, 'CLONE_SYSVSEM'], [0x80000n, 'CLONE_SETTLS'], [0x100000n, 'CLONE_PARENT_SETTID'], [0x200000n, 'CLONE_CHILD_CLEARTID'],
  [0x400000n, 'CLONE_DETACHED'], [0x800000n, 'CLONE_UNTRACED'], [0x1000000n, 'CLONE_CHILD_SETTID'], [0x2000000n, 'CLONE_NEWCGROUP'],
  [0x4000000n, 'CLONE_NEWUTS'], [0x8000000n, 'CLONE_NEWIPC'], [0x10000000n, 'CLONE_NEWUSER'], [0x20000000n, 'CLONE_NEWPID'],
  [0x40000000n, 'CLONE_NEWNET'], [0x80000000n, 'CLONE_IO'],
];

const SIGNALS = ['0', 'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE', 'SIGKILL', 'SIGUSR1', 'SIGSEGV', 'SIGUSR2',
  'SIGPIPE', 'SIGALRM', 'SIGTERM', 'SIGSTKFLT', 'SIGCHLD', 'SIGCONT', 'SIGSTOP', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGURG', 'SIGXCPU',
  'SIGXFSZ', 'SIGVTALRM', 'SIGPROF', 'SIGWINCH', 'SIGIO', 'SIGPWR', 'SIGSYS'];
export const signalStr = (v: bigint) => SIGNALS[Number(v)] ?? (v >= 32n && v <= 64n ? `SIGRTMIN+${v - 32n}` : v.toString());

/** stap's __fork_flags: CLONE_* names, then the exit signal. */
export function cloneFlagStr(v: bigint): string {
  const f = BigInt.asUintN(64, v);
  const parts = flagBits(f & ~0xffn, CLONE_FLAGS);
  if (f & 0xffn) parts.push(signalStr(f & 0xffn));
  return parts.join('|') || '0';
}

const ERRNO = ['', 'EPERM', 'ENOENT', 'ESRCH', 'EINTR', 'EIO', 'ENXIO', 'E2BIG', 'ENOEXEC', 'EBADF', 'ECHILD', 'EAGAIN', 'ENOMEM', 'EACCES',
  'EFAULT', 'ENOTBLK', 'EBUSY', 'EEXIST', 'EXDEV', 'ENODEV', 'ENOTDIR', 'EISDIR', 'EINVAL', 'ENFILE', 'EMFILE', 'ENOTTY', 'ETXTBSY',
  'EFBIG', 'ENOSPC', 'ESPIPE', 'EROFS', 'EMLINK', 'EPIPE', 'EDOM', 'ERANGE', 'EDEADLK', 'ENAMETOOLONG', 'ENOLCK', 'ENOSYS', 'ENOTEMPTY',
  'ELOOP', '', 'ENOMSG', 'EIDRM', 'ECHRNG', 'EL2NSYNC', 'EL3HLT', 'EL3RST', 'ELNRNG', 'EUNATCH', 'ENOCSI', 'EL2HLT', 'EBADE', 'EBADR',
  'EXFULL', 'ENOANO', 'EBADRQC', 'EBADSLT', '', 'EBFONT', 'ENOSTR', 'ENODATA', 'ETIME', 'ENOSR', 'ENONET', 'ENOPKG', 'EREMOTE',
  'ENOLINK', 'EADV', 'ESRMNT', 'ECOMM', 'EPROTO', 'EMULTIHOP', 'EDOTDOT', 'EBADMSG', 'EOVERFLOW', 'ENOTUNIQ', 'EBADFD', 'EREMCHG',
  'ELIBACC', 'ELIBBAD', 'ELIBSCN', 'ELIBMAX', 'ELIBEXEC', 'EILSEQ', 'ERESTART', 'ESTRPIPE', 'EUSERS', 'ENOTSOCK', 'EDESTADDRREQ',
  'EMSGSIZE', 'EPROTOTYPE', 'ENOPROTOOPT', 'EPROTONOSUPPORT', 'ESOCKTNOSUPPORT', 'EOPNOTSUPP', 'EPFNOSUPPORT', 'EAFNOSUPPORT',
  'EADDRINUSE', 'EADDRNOTAVAIL', 'ENETDOWN', 'ENETUNREACH', 'ENETRESET', 'ECONNABORTED', 'ECONNRESET', 'ENOBUFS', 'EISCONN',
  'ENOTCONN', 'ESHUTDOWN', 'ETOOMANYREFS', 'ETIMEDOUT', 'ECONNREFUSED', 'EHOSTDOWN', 'EHOSTUNREACH', 'EALREADY', 'EINPROGRESS',
  'ESTALE', 'EUCLEAN', 'ENOTNAM', 'ENAVAIL', 'EISNAM', 'EREMOTEIO', 'EDQUOT', 'ENOMEDIUM', 'EMEDIUMTYPE', 'ECANCELED', 'ENOKEY',
  'EKEYEXPIRED', 'EKEYREVOKED', 'EKEYREJECTED', 'EOWNERDEAD', 'ENOTRECOVERABLE', 'ERFKILL', 'EHWPOISON'];
const KERNEL_ERRNO: Record<number, string> = { 512: 'ERESTARTSYS', 513: 'ERESTARTNOINTR', 514: 'ERESTARTNOHAND', 515: 'ENOIOCTLCMD', 516: 'ERESTART_RESTARTBLOCK', 517: 'EPROBE_DEFER', 518: 'EOPENSTALE', 524: 'ENOTSUPP' };
export const errnoName = (e: number) => ERRNO[e] || KERNEL_ERRNO[e] || `E${e}`;

/** System calls whose success value stap prints in hex (return_str format 2). */
export const HEX_RETURN = new Set(['mmap', 'brk', 'mremap', 'shmat']);

/** stap's return_str: `3`, `-2 (ENOENT)`, or hex for the calls returning addresses. */
export function retstr(name: string, raw: bigint): string {
  const v = BigInt.asIntN(64, raw);
  if (v < 0n && v > -4096n) return `${v} (${errnoName(Number(-v))})`;
  if (HEX_RETURN.has(name)) return '0x' + BigInt.asUintN(64, raw).toString(16);
  return v.toString();
}

// ---- argstr ----

const quote = (s: string) => '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\t/g, '\\t') + '"';

/** Arguments declared as integers that hold addresses: stap prints them with %p. */
export const ADDRESS_ARGS = new Set(['addr', 'start', 'brk', 'old_address', 'new_address', 'new_addr', 'shmaddr']);
/** Directory file descriptors: AT_FDCWD by name. */
export const DIRFD_ARGS = new Set(['dfd', 'dirfd', 'olddfd', 'newdfd', 'fromfd', 'todfd']);
const AT_FLAGS: [bigint, string][] = [[0x100n, 'AT_SYMLINK_NOFOLLOW'], [0x200n, 'AT_REMOVEDIR'], [0x400n, 'AT_SYMLINK_FOLLOW'], [0x800n, 'AT_NO_AUTOMOUNT'], [0x1000n, 'AT_EMPTY_PATH']];
export const atFlagStr = (v: bigint) => (v === 0n ? '0x0' : flagBits(BigInt.asUintN(32, v), AT_FLAGS).join('|'));

/** One argument by its C type: file names quoted, pointers 0x..., ints at their width. */
function generic(a: NamedArg): string {
  const v = a.value;
  if (typeof v === 'object') return 'str' in v ? quote(v.str) : v.fault === 0n ? 'NULL' : '0x' + v.fault.toString(16);
  if (a.field.ctype.includes('*') || ADDRESS_ARGS.has(a.field.name)) return '0x' + BigInt.asUintN(64, v).toString(16);
  if (DIRFD_ARGS.has(a.field.name)) return dfd(v);
  const bits = a.field.size * 8;
  return (a.field.signed ? BigInt.asIntN(bits, v) : BigInt.asUintN(bits, v)).toString();
}

const AT_FDCWD = -100n;
function dfd(v: ArgValue): string {
  if (typeof v !== 'bigint') return '?';
  return BigInt.asIntN(32, v) === AT_FDCWD ? 'AT_FDCWD' : BigInt.asIntN(32, v).toString();
}
const num = (v: ArgValue) => (typeof v === 'bigint' ? v : 0n);
const octal = (v: bigint) => '0' + BigInt.asUintN(32, v).toString(8);
export const O_CREAT_TMPFILE = 0o20200100n;

const ACCESS: [bigint, string][] = [[4n, 'R_OK'], [2n, 'W_OK'], [1n, 'X_OK']];
const WHENCE = ['SEEK_SET', 'SEEK_CUR', 'SEEK_END', 'SEEK_DATA', 'SEEK_HOLE'];

/** The calls whose argstr stap spells differently from the generic rule. */
/** A flag formatter as a table for the kernel's FLAGSTR (mask, value, name), in the order the
 * functions above name them: openFlagStr, protStr, mmapFlagStr. */
export const FLAG_TABLES: Record<'open' | 'prot' | 'mmap', [bigint, bigint, string][]> = {
  open: [[3n, 0n, 'O_RDONLY'], [3n, 1n, 'O_WRONLY'], [3n, 2n, 'O_RDWR'], [3n, 3n, '0x3'], ...OPEN_FLAGS.map(([b, n]): [bigint, bigint, string] => [b, b, n])],
  prot: [[0xffffffffn, 0n, 'PROT_NONE'], ...PROT.map(([b, n]): [bigint, bigint, string] => [b, b, n])],
  mmap: MAP_FLAGS.map(([b, n]): [bigint, bigint, string] => [b, b, n]),
};

/**
 * How the kernel formats the arguments of the flag-decoding calls it can do (argstr of a
 * handler that compares or measures it): a flag table, stap's octal mode after O_CREAT or
 * O_TMPFILE, a 32-bit signed int; other arguments take the generic rule.
 */
export const KERNEL_ARGSTR: Record<string, Record<string, 'open' | 'prot' | 'mmap' | 'mode_if_creat' | 'int32'>> = {
  open: { flags: 'open', mode: 'mode_if_creat' },
  openat: { flags: 'open', mode: 'mode_if_creat' },
  mprotect: { prot: 'prot' },
  mmap: { prot: 'prot', flags: 'mmap', fd: 'int32' },
};

export const SPECIAL: Record<string, (a: NamedArg[], g: string[]) => string> = {
  open: (a, g) => [g[0], openFlagStr(num(a[1].value)), ...((num(a[1].value) & O_CREAT_TMPFILE) ? [octal(num(a[2].value))] : [])].join(', '),
  openat: (a, g) => [dfd(a[0].value), g[1], openFlagStr(num(a[2].value)), ...((num(a[2].value) & O_CREAT_TMPFILE) ? [octal(num(a[3].value))] : [])].join(', '),
  creat: (a, g) => `${g[0]}, ${octal(num(a[1].value))}`,
  mmap: (a, g) => [g[0], BigInt.asUintN(64, num(a[1].value)).toString(), protStr(num(a[2].value)), mmapFlagStr(num(a[3].value)), BigInt.asIntN(32, num(a[4].value)).toString(), g[5]].join(', '),
  mprotect: (a, g) => `${g[0]}, ${g[1]}, ${protStr(num(a[2].value))}`,
  clone: (a, g) => [cloneFlagStr(num(a[0].value)), ...g.slice(1)].join(', '),
  access: (a, g) => `${g[0]}, ${num(a[1].value) === 0n ? 'F_OK' : flagBits(num(a[1].value), ACCESS).join('|')}`,
  faccessat: (a, g) => `${dfd(a[0].value)}, ${g[1]}, ${num(a[2].value) === 0n ? 'F_OK' : flagBits(num(a[2].value), ACCESS).join('|')}`,
  lseek: (a, g) => `${g[0]}, ${BigInt.asIntN(64, num(a[1].value))}, ${WHENCE[Number(num(a[2].value))] ?? g[2]}`,
  kill: (a, g) => `${g[0]}, ${signalStr(num(a[1].value))}`,
  tgkill: (a, g) => `${g[0]}, ${g[1]}, ${signalStr(num(a[2].value))}`,
  execve: (a, g) => g.slice(0, 3).join(', '),
  newfstatat: (a, g) => `${g[0]}, ${g[1]}, ${g[2]}, ${atFlagStr(num(a[3].value))}`,
  unlinkat: (a, g) => `${g[0]}, ${g[1]}, ${atFlagStr(num(a[2].value))}`,
};

/** stap's argstr for a call and its decoded arguments. */
export function argstr(name: string, args: NamedArg[]): string {
  const g = args.map(generic);
  const special = SPECIAL[name];
  if (special) {
    try {
      return special(args, g);
    } catch {
      // fewer arguments than the rule expects (a truncated value): the generic form
    }
  }
  return g.join(', ');
}

// ---- the kernel's encoding ----

class Reader {
  constructor(
    private s: string,
    public pos: number,
  ) {}
  get done() {
    return this.pos >= this.s.length || this.s.charCodeAt(this.pos) === 2;
  }
  varint(): bigint | undefined {
    let v = 0n;
    let shift = 0n;
    while (this.pos < this.s.length) {
      const b = this.s.charCodeAt(this.pos);
      if (b < 0x80) return undefined;
      this.pos++;
      v |= BigInt(b & 63) << shift;
      shift += 6n;
      if (b & 0x40) return BigInt.asUintN(64, v);
    }
    return undefined;
  }
  /** bytes up to 0x03 (or the end of a truncated value) */
  cstr(): string {
    let end = this.pos;
    while (end < this.s.length && this.s.charCodeAt(end) !== 3 && this.s.charCodeAt(end) !== 2) end++;
    const out = this.s.slice(this.pos, end);
    this.pos = end < this.s.length && this.s.charCodeAt(end) === 3 ? end + 1 : end;
    return out;
  }
}

function describe(nr: number): { sc?: SyscallDesc; fields: NamedArg['field'][] } {
  const sc = syscallByNr(nr);
  if (!sc) return { fields: [] };
  const fields = sc.event ? syscallArgs(sc) : Array.from({ length: 6 }, (_, i) => ({ name: `arg${i + 1}`, ctype: 'unsigned long', size: 8, signed: false }));
  return { sc, fields };
}

/** Decodes one encoded value starting after its 0x01 byte; returns the text and where it ended. */
function decodeAt(s: string, at: number): { text: string; end: number } {
  const kind = s[at];
  const r = new Reader(s, at + 1);
  const nr = r.varint();
  const { sc, fields } = describe(Number(nr ?? -1n));
  const name = sc?.name ?? `syscall_${nr}`;
  let text = '';
  if (kind === 'R') {
    const v = r.varint();
    text = v === undefined ? '' : retstr(name, v);
  } else {
    const args: NamedArg[] = [];
    for (const field of fields.slice(0, 6)) {
      if (r.done) break;
      if (isUserString(field.name, field.ctype)) {
        if (s.charCodeAt(r.pos) === 4) {
          r.pos++;
          args.push({ field, value: { fault: r.varint() ?? 0n } });
          if (s.charCodeAt(r.pos) === 3) r.pos++;
        } else args.push({ field, value: { str: r.cstr() } });
      } else {
        const v = r.varint();
        if (v === undefined) break;
        args.push({ field, value: v });
      }
    }
    text = argstr(name, args);
  }
  while (r.pos < s.length && s.charCodeAt(r.pos) !== 2) r.pos++;
  return { text, end: r.pos < s.length ? r.pos + 1 : r.pos };
}

/** A user symbol lookup the kernel encoded (vm/stack.h usym_encode), from its 0x01 byte. */
function decodeUserSymAt(s: string, at: number, maxLen: number): { text: string; end: number } {
  const kind = s[at + 2];
  const r = new Reader(s, at + 3);
  const values: bigint[] = [];
  for (let v = r.varint(); v !== undefined; v = r.varint()) values.push(v);
  while (r.pos < s.length && s.charCodeAt(r.pos) !== 2) r.pos++;
  return { text: usymText(kind, values, maxLen), end: r.pos < s.length ? r.pos + 1 : r.pos };
}

/**
 * A script string with the kernel's encoded values replaced by their text: argstr/retstr
 * ('A', 'R') and user symbols ('U': usymname, usymdata, sprint_ubacktrace, whose text is cut
 * at maxLen bytes).
 */
export function expandSyscallText(s: string, maxLen = 127): string {
  let at = s.indexOf('\x01');
  if (at < 0) return s;
  let out = '';
  let from = 0;
  while (at >= 0) {
    const kind = s[at + 1];
    if (kind !== 'A' && kind !== 'R' && kind !== 'U') {
      at = s.indexOf('\x01', at + 1);
      continue;
    }
    const { text, end } = kind === 'U' ? decodeUserSymAt(s, at, maxLen) : decodeAt(s, at + 1);
    out += s.slice(from, at) + text;
    from = end;
    at = s.indexOf('\x01', end);
  }
  return out + s.slice(from);
}
