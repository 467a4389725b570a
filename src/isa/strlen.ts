// -D MAXSTRINGLEN=N: how long strings may be, and which interpreter object runs them.
//
// Two objects are built from one source (vm/Makefile): tapvm.bpf.o with 128-byte string slots
// and tapvm-512.bpf.o with MAXSTRINGLEN_MAX (512). A script compiled with N <= 128 runs on the
// first, a larger N on the wide one; N itself is a per-session value (struct session.maxstr)
// at which both interpreters cut every string they make (stap's strlcpy into string_t).
import { ARRAY_CLASSES, LIMITS } from './opcodes';
import type { ArrayInfo, ProgramImage } from '../image/image';

export const DEFAULT_MAXSTRINGLEN = LIMITS.MAXSTRINGLEN;
export const MAXSTRINGLEN_MAX = LIMITS.MAXSTRINGLEN_MAX;

/** The string slot size of the object that runs N (128 or 512). */
export function slotSize(n: number): number {
  return n <= LIMITS.MAXSTRINGLEN ? LIMITS.MAXSTRINGLEN : MAXSTRINGLEN_MAX;
}

/** KEYMAX of the object with this slot size (vm/isa.h: 2 * MAXSTRINGLEN + 16). */
export function keyMax(slot: number): number {
  return 2 * slot + 16;
}

/** The image's N (images from before -D MAXSTRINGLEN have none: 128). */
export function imageMaxStr(img: Pick<ProgramImage, 'maxStringLen'>): number {
  return img.maxStringLen ?? DEFAULT_MAXSTRINGLEN;
}

/** The object's suffix: '' for tapvm.bpf.o, '-512' for tapvm-512.bpf.o. */
export function variantSuffix(slot: number): string {
  return slot === LIMITS.MAXSTRINGLEN ? '' : `-${slot}`;
}

/** Key and value sizes of an array class in the object with this slot size: the table's
 * KEYMAX and MAXSTRINGLEN sizes grow with the slot (vm/isa.h makes them those macros). */
export function classSizes(cls: number, slot: number = LIMITS.MAXSTRINGLEN): { keySize: number; valueSize: number } {
  const c = ARRAY_CLASSES[cls] as { keySize: number; valueSize: number; stat?: boolean };
  return {
    keySize: c.keySize === LIMITS.KEYMAX ? keyMax(slot) : c.keySize,
    valueSize: !c.stat && c.valueSize === LIMITS.MAXSTRINGLEN ? slot : c.valueSize,
  };
}

/** An array's key and value sizes (ArrayInfo.wide: it lives in the 512-byte object). */
export function arrayClass(arr: Pick<ArrayInfo, 'cls' | 'wide'>): { keySize: number; valueSize: number } {
  return classSizes(arr.cls, arr.wide ? MAXSTRINGLEN_MAX : LIMITS.MAXSTRINGLEN);
}

/** -D MAXSTRINGLEN's value: a message when N is not one tapvm can run. */
export function checkMaxStr(n: number): string | undefined {
  if (!Number.isInteger(n) || n < 1 || n > MAXSTRINGLEN_MAX)
    return `MAXSTRINGLEN must be between 1 and ${MAXSTRINGLEN_MAX} in tapvm: its widest interpreter has ${MAXSTRINGLEN_MAX}-byte strings (-D MAXSTRINGLEN=${n})`;
  return undefined;
}
