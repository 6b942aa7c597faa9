// Anonymous THP (docs/semantics.md, "THP"): whether splitting a folio on a memory failure
// fails. The draw is a pure function of the host's seed, the event count and the raw page,
// written with Math.imul and `>>> 0` so that every step is uint32 arithmetic, as in the
// wasm kernel.

/** The uint32 finaliser of docs/semantics.md ("THP"): x ^= x >>> 16; x *= 0x7feb352d; x ^= x >>> 15; x *= 0x846ca68b; x ^= x >>> 16. */
export function mix32(x: number): number {
  x >>>= 0;
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x = (x ^ (x >>> 16)) >>> 0;
  return x;
}

/**
 * u = mix32(seed ^ mix32(pfn ^ imul(total, 0x9e3779b1))), a uint32. `total` is
 * memoryFailureStats().total before the event; only the low 32 bits of `pfn` count.
 */
export function splitDraw(seed: number, total: number, pfn: number): number {
  const inner = mix32((pfn ^ Math.imul(total, 0x9e3779b1)) >>> 0);
  return mix32((seed ^ inner) >>> 0);
}

/** The split attempt fails when u / 2^32 < probability (never at 0, always at 1). */
export function splitFails(probability: number, seed: number, total: number, pfn: number): boolean {
  return splitDraw(seed, total, pfn) / 2 ** 32 < probability;
}
