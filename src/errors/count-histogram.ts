// An exact histogram of non-negative integer counts: how many times each value occurred.
// Its size is the number of distinct values, not of samples, so the calibration tally of a
// fleet of any size stays small, and its mean, median and top shares are exactly those of
// the sorted list of samples.

/** An exact histogram of non-negative integer counts. */
export class CountHistogram {
  private readonly times = new Map<number, number>();
  /** Samples added. */
  n = 0;
  /** Their sum. */
  sum = 0;

  /** Adds `value`, `times` times. */
  add(value: number, times = 1): void {
    this.times.set(value, (this.times.get(value) ?? 0) + times);
    this.n += times;
    this.sum += value * times;
  }

  /** Adds every sample of `other`. */
  merge(other: CountHistogram): void {
    for (const [value, times] of other.times) this.add(value, times);
  }

  /** The distinct values with their multiplicities, largest value first. */
  private descending(): [number, number][] {
    return [...this.times].sort((a, b) => b[0] - a[0]);
  }

  /** The median of the samples (the mean of the middle two for an even count); 0 when empty. */
  median(): number {
    if (this.n === 0) return 0;
    const mid = this.n >> 1;
    // Ranks in ascending order: the median is rank mid (odd n) or ranks mid-1 and mid.
    const at = (rank: number): number => {
      let seen = 0;
      for (const [value, times] of [...this.times].sort((a, b) => a[0] - b[0])) {
        seen += times;
        if (rank < seen) return value;
      }
      return 0;
    };
    return this.n % 2 ? at(mid) : (at(mid - 1) + at(mid)) / 2;
  }

  /** The sum of the `k` largest samples. */
  topSum(k: number): number {
    let left = k;
    let total = 0;
    for (const [value, times] of this.descending()) {
      if (left <= 0) break;
      const take = Math.min(left, times);
      total += value * take;
      left -= take;
    }
    return total;
  }
}
