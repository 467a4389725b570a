// stap's text for each run-time error code: what `ERROR: ... near ...` prints and what a
// `catch (msg)` receives (the compiler copies the table into the data area for CATCH).
import { ERR } from './opcodes';

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
  [ERR.SKIPPED]: 'Skipped too many probes, check MAXSKIPPED or try again with stap -t for more details.',
};

/** Codes CATCH's table covers: data[table + 4 * code] for code < this. */
export const ERROR_TABLE_CODES = 64;
