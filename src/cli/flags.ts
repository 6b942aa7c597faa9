// The one validator of numeric command-line values: every number flag has a range, checked
// by the argument parser before any work starts, with a message that says the range.
import { InvalidArgumentError } from 'commander';

const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 6 });

/** A decimal or 0x-hex number as written on a command line (`_` separators allowed), else NaN. */
function parseNumber(text: string): number {
  const t = text.trim().replace(/_/g, '');
  if (t === '') return NaN;
  if (/^0x[0-9a-f]+$/i.test(t)) return parseInt(t.slice(2), 16);
  return Number(t);
}

/** An integer flag in [min, max]. */
export function integerFlag(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = parseNumber(value);
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`must be an integer from ${fmt(min)} to ${fmt(max)}.`);
    return n;
  };
}

/** A number flag in [min, max], or (min, max] when `above` is set. */
export function numberFlag(min: number, max: number, opts: { above?: boolean } = {}): (value: string) => number {
  return (value) => {
    const n = parseNumber(value);
    const low = opts.above ? n > min : n >= min;
    if (!Number.isFinite(n) || !low || n > max) {
      throw new InvalidArgumentError(`must be a number ${opts.above ? 'above' : 'from'} ${fmt(min)} ${opts.above ? 'and at most' : 'to'} ${fmt(max)}.`);
    }
    return n;
  };
}

/** A 32-bit seed. */
export const seedFlag = integerFlag(0, 0xffffffff);

/** A share from 0 to 1. */
export const fractionFlag = numberFlag(0, 1);
