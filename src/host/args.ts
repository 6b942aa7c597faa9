// Decoding of numeric system-call arguments. Simulated calls take addresses, sizes and
// offsets as numbers or bigints; anything that is not a non-negative integer the simulator
// can hold exactly (<= 2^53 - 1) is rejected with EINVAL before the call changes any state.
import { EINVAL } from './constants.js';
import { sysError } from './syserror.js';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * An address, size or offset as a number: a non-negative safe integer, or a bigint in
 * [0, 2^53 - 1]. NaN, Infinity, fractions, negatives, larger values and non-numbers throw
 * EINVAL for `syscall`, naming the argument `what`.
 */
export function toAddr(x: unknown, syscall: string, what: string): number {
  if (typeof x === 'bigint') {
    if (x >= 0n && x <= MAX_SAFE) return Number(x);
  } else if (typeof x === 'number') {
    // `+ 0` folds -0 into 0.
    if (Number.isSafeInteger(x) && x >= 0) return x + 0;
  }
  throw sysError(EINVAL, syscall, `${what} must be a non-negative integer <= 2^53-1, got ${describe(x)}`);
}

/**
 * A bit mask or small enumerated argument (flags, prot, mode, advice): a non-negative
 * integer number below 2^32. Anything else throws EINVAL for `syscall`.
 */
export function toFlags(x: unknown, syscall: string, what: string): number {
  if (typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 0xffff_ffff) return x + 0;
  throw sysError(EINVAL, syscall, `${what} must be an integer in [0, 2^32), got ${describe(x)}`);
}

function describe(x: unknown): string {
  if (typeof x === 'bigint') return `${x}n`;
  if (typeof x === 'string') return JSON.stringify(x);
  return String(x);
}
