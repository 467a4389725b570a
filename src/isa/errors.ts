// stap's text for each run-time error code: what `ERROR: ... near ...` prints and what a
// `catch (msg)` receives (the compiler copies the table into the data area for CATCH).
import { ERR, LIMITS } from './opcodes';

export const ERROR_MESSAGES: Record<number, string> = {
  [ERR.DIV0]: 'division by 0',
  [ERR.MAXACTION]: 'MAXACTION exceeded',
  [ERR.OVERFLOW]: 'Array overflow, check MAXMAPENTRIES',
  [ERR.NESTING]: 'MAXNESTING exceeded',
  [ERR.OPCODE]: 'operation not supported in this probe context',
  [ERR.FAULT]: 'user string copy fault',
  [ERR.OUTPUT]: 'output record too long',
  [ERR.ARGNUM]: 'function argument number must be 1 or more',
  [ERR.POSITION]: 'Position out of bounds',
  // kernel probes only: foreach snapshots keys into bounded per-CPU slots (vm/iter.h)
  [ERR.ITERS]: `too many nested foreach loops (at most ${LIMITS.MAXITERS} at once in a kernel probe)`,
  [ERR.ITERKEYS]: `too many keys to iterate (at most ${LIMITS.ITERKEYS} in all running foreach loops of a kernel probe)`,
  [ERR.SKIPPED]: 'Skipped too many probes, check MAXSKIPPED or try again with stap -t for more details.',
};

/** Codes CATCH's table covers: data[table + 4 * code] for code < this. */
export const ERROR_TABLE_CODES = 64;

/** errno_str(): Linux's errno names by number (x86_64, asm-generic), index 0 unused. */
export const ERRNO_NAMES: string[] = [
  '', 'EPERM', 'ENOENT', 'ESRCH', 'EINTR', 'EIO', 'ENXIO', 'E2BIG', 'ENOEXEC', 'EBADF', 'ECHILD',
  'EAGAIN', 'ENOMEM', 'EACCES', 'EFAULT', 'ENOTBLK', 'EBUSY', 'EEXIST', 'EXDEV', 'ENODEV', 'ENOTDIR',
  'EISDIR', 'EINVAL', 'ENFILE', 'EMFILE', 'ENOTTY', 'ETXTBSY', 'EFBIG', 'ENOSPC', 'ESPIPE', 'EROFS',
  'EMLINK', 'EPIPE', 'EDOM', 'ERANGE', 'EDEADLK', 'ENAMETOOLONG', 'ENOLCK', 'ENOSYS', 'ENOTEMPTY', 'ELOOP',
  '', 'ENOMSG', 'EIDRM', 'ECHRNG', 'EL2NSYNC', 'EL3HLT', 'EL3RST', 'ELNRNG', 'EUNATCH', 'ENOCSI',
  'EL2HLT', 'EBADE', 'EBADR', 'EXFULL', 'ENOANO', 'EBADRQC', 'EBADSLT', '', 'EBFONT', 'ENOSTR',
  'ENODATA', 'ETIME', 'ENOSR', 'ENONET', 'ENOPKG', 'EREMOTE', 'ENOLINK', 'EADV', 'ESRMNT', 'ECOMM',
  'EPROTO', 'EMULTIHOP', 'EDOTDOT', 'EBADMSG', 'EOVERFLOW', 'ENOTUNIQ', 'EBADFD', 'EREMCHG', 'ELIBACC', 'ELIBBAD',
  'ELIBSCN', 'ELIBMAX', 'ELIBEXEC', 'EILSEQ', 'ERESTART', 'ESTRPIPE', 'EUSERS', 'ENOTSOCK', 'EDESTADDRREQ', 'EMSGSIZE',
  'EPROTOTYPE', 'ENOPROTOOPT', 'EPROTONOSUPPORT', 'ESOCKTNOSUPPORT', 'EOPNOTSUPP', 'EPFNOSUPPORT', 'EAFNOSUPPORT', 'EADDRINUSE', 'EADDRNOTAVAIL', 'ENETDOWN',
  'ENETUNREACH', 'ENETRESET', 'ECONNABORTED', 'ECONNRESET', 'ENOBUFS', 'EISCONN', 'ENOTCONN', 'ESHUTDOWN', 'ETOOMANYREFS', 'ETIMEDOUT',
  'ECONNREFUSED', 'EHOSTDOWN', 'EHOSTUNREACH', 'EALREADY', 'EINPROGRESS', 'ESTALE', 'EUCLEAN', 'ENOTNAM', 'ENAVAIL', 'EISNAM',
  'EREMOTEIO', 'EDQUOT', 'ENOMEDIUM', 'EMEDIUMTYPE', 'ECANCELED', 'ENOKEY', 'EKEYEXPIRED', 'EKEYREVOKED', 'EKEYREJECTED', 'EOWNERDEAD',
  'ENOTRECOVERABLE', 'ERFKILL', 'EHWPOISON',
];
