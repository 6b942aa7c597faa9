// Confidence intervals over a study's replicates: each replicate is an independent draw of the
// error stream and the workloads, so a figure's replicate values are a sample, and its mean
// has a Student-t interval. Differences between policies are paired: the same replicate ran
// every policy on the same stream, so the interval is that of the per-replicate differences.

/** A figure over the replicates: the mean, its 95% interval and the values it came from. */
export interface Interval {
  mean: number;
  /** The 95% interval's bounds (Student t over the replicates); null with one replicate. */
  low: number | null;
  high: number | null;
  /** The replicates' values, in replicate order. */
  values: number[];
}

/** Two-sided 95% quantiles of Student's t, t(0.975, df), for df = 1..30. */
const T_975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
  2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086,
  2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/**
 * t(0.975, df): the table up to 30 degrees of freedom, beyond it the Cornish-Fisher expansion
 * around the normal quantile (Abramowitz and Stegun 26.7.5; within 1e-4 for df > 30).
 */
export function tQuantile975(df: number): number {
  if (!Number.isInteger(df) || df < 1) throw new RangeError(`degrees of freedom must be a positive integer, got ${df}`);
  if (df <= T_975.length) return T_975[df - 1]!;
  const z = 1.959964;
  const g1 = (z ** 3 + z) / 4;
  const g2 = (5 * z ** 5 + 16 * z ** 3 + 3 * z) / 96;
  const g3 = (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / 384;
  return z + g1 / df + g2 / df ** 2 + g3 / df ** 3;
}

/** The mean of the values and its 95% Student-t interval (no interval from one value). */
export function interval(values: readonly number[]): Interval {
  const n = values.length;
  if (n === 0) throw new RangeError('an interval needs at least one value');
  const mean = values.reduce((s, v) => s + v, 0) / n;
  if (n === 1) return { mean, low: null, high: null, values: [...values] };
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1);
  const half = tQuantile975(n - 1) * Math.sqrt(variance / n);
  return { mean, low: mean - half, high: mean + half, values: [...values] };
}

/** The paired difference a - b, replicate by replicate, and its interval. */
export function pairedDifference(a: readonly number[], b: readonly number[]): Interval {
  if (a.length !== b.length) throw new RangeError(`paired values differ in number: ${a.length} and ${b.length}`);
  return interval(a.map((v, i) => v - b[i]!));
}

/**
 * Whether an interval tells its mean from zero: both bounds lie on one side of 0. With one
 * replicate there is no interval, and nothing is resolved.
 */
export function resolved(i: Interval): boolean {
  return i.low !== null && i.high !== null && (i.low > 0 || i.high < 0);
}
