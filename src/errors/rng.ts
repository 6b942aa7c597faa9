// Seeded random streams and the few distributions the generators draw from.
// Every stream is keyed by (seed, host, ...): a host's draws never depend on which worker
// or shard generates it, nor on how the output is batched.
import { xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

export type Rng = RandomGenerator;

const GOLDEN = 0x9e3779b9;

/** A 32-bit integer hash with good avalanche (lowbias32): spreads nearby keys apart. */
function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** An independent generator for the stream named by `keys` under `seed`. */
export function streamRng(seed: number, ...keys: number[]): Rng {
  let h = mix32((seed >>> 0) ^ GOLDEN);
  for (const key of keys) h = mix32(h ^ mix32(((key >>> 0) + GOLDEN) >>> 0));
  const state = [mix32(h + 1), mix32(h + 2 * GOLDEN), mix32(h + 3 * GOLDEN), mix32(h + 4 * GOLDEN)];
  if ((state[0] | state[1] | state[2] | state[3]) === 0) state[0] = 1; // xoroshiro's all-zero state is a fixed point
  return xoroshiro128plusFromState(state);
}

/** A 32-bit seed for a sub-stream, drawn from `rng`. */
export function childSeed(rng: Rng): number {
  return rng.next() >>> 0;
}

/**
 * Uniform in (0, 1) from one 32-bit draw: the centre of one of 2^32 cells, never 0 or 1, so
 * logs are safe. The generators' hot paths draw several per DIMM; 32 bits are plenty there.
 */
export function uniform(rng: Rng): number {
  return ((rng.next() >>> 0) + 0.5) * 2.3283064365386963e-10;
}

/** Uniform in [lo, hi). */
export function uniformIn(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * uniform(rng);
}

/** Uniform integer in [0, n). */
export function uniformInt(rng: Rng, n: number): number {
  return Math.floor(uniform(rng) * n);
}

/** Random bits under `mask` (mask below 2^31). */
export function randomBits(rng: Rng, mask: number): number {
  return rng.next() & mask;
}

export function exponential(rng: Rng, mean: number): number {
  return -mean * Math.log(uniform(rng));
}

// Acklam's rational approximation of the normal quantile (relative error < 1.2e-9).
const A = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
const B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
const C = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
const P_LOW = 0.02425;

function normalQuantile(p: number): number {
  if (p < P_LOW || p > 1 - P_LOW) {
    const q = Math.sqrt(-2 * Math.log(p < P_LOW ? p : 1 - p));
    const x = (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1);
    return p < P_LOW ? x : -x;
  }
  const q = p - 0.5;
  const r = q * q;
  return ((((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q) / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1);
}

/** Standard normal, by inversion: one draw, no transcendental call in the central 95%. */
export function normal(rng: Rng): number {
  return normalQuantile(uniform(rng));
}

/**
 * Gamma variate with the given shape and scale 1 (mean = shape): Marsaglia & Tsang's
 * squeeze method, with Stuart's boost U^(1/shape) for shapes below 1.
 */
export function gamma(rng: Rng, shape: number): number {
  if (shape < 1) return gamma(rng, shape + 1) * Math.pow(uniform(rng), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = normal(rng);
    const v0 = 1 + c * x;
    if (v0 <= 0) continue;
    const v = v0 * v0 * v0;
    const u = uniform(rng);
    if (u < 1 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** Log-uniform in [lo, hi]. */
export function logUniform(rng: Rng, lo: number, hi: number): number {
  return lo * Math.pow(hi / lo, uniform(rng));
}

/** Geometric on {1, 2, ...} with the given mean (>= 1). */
export function geometric(rng: Rng, mean: number): number {
  if (mean <= 1) return 1;
  const p = 1 / mean;
  return 1 + Math.floor(Math.log(uniform(rng)) / Math.log(1 - p));
}

const LOG_FACTORIAL_TABLE: number[] = (() => {
  const table = [0];
  for (let k = 1; k <= 30; k++) table.push(table[k - 1] + Math.log(k));
  return table;
})();

function logFactorial(k: number): number {
  if (k <= 30) return LOG_FACTORIAL_TABLE[k];
  const x = k + 1;
  // Stirling series for ln Γ(x); error below 1e-10 for x > 30.
  return (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * x) - 1 / (360 * x * x * x);
}

/**
 * Poisson variate. Small means use one uniform and sequential inversion (the usual case:
 * most DIMM-years see no fault, so this is one comparison); large means use Hörmann's
 * PTRS transformed rejection, exact and O(1).
 */
export function poisson(rng: Rng, mean: number): number {
  if (!(mean > 0)) return 0;
  if (mean < 10) {
    const u = uniform(rng);
    let p = Math.exp(-mean);
    let cdf = p;
    let k = 0;
    while (u > cdf && p > 0) {
      k++;
      p *= mean / k;
      cdf += p;
    }
    return k;
  }
  const slam = Math.sqrt(mean);
  const loglam = Math.log(mean);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invalpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const u = uniform(rng) - 0.5;
    const v = uniform(rng);
    const us = 0.5 - Math.abs(u);
    const k = Math.floor(((2 * a) / us + b) * u + mean + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (Math.log(v) + Math.log(invalpha) - Math.log(a / (us * us) + b) <= -mean + k * loglam - logFactorial(k)) {
      return k;
    }
  }
}

/** Number of set bits of a 32-bit value. */
export function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

/** A mask of `count` distinct random bits chosen among the bits of `within`. */
export function randomSubmask(rng: Rng, within: number, count: number): number {
  const bits: number[] = [];
  for (let b = 0; b < 31; b++) if (within & (1 << b)) bits.push(b);
  let mask = 0;
  for (let i = 0; i < count && i < bits.length; i++) {
    const j = i + uniformInt(rng, bits.length - i);
    [bits[i], bits[j]] = [bits[j], bits[i]];
    mask |= 1 << bits[i];
  }
  return mask;
}
