// One unit style for every figure people read: IEC binary units (KiB, MiB, GiB, TiB) with
// thousands separators, counts with separators, durations in the unit that keeps 3 digits.

const UNITS = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

const group = (x: number, digits: number) =>
  x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** A count, or a mean of counts (over replicates): one decimal below 100, "2.2", "1", "10,119". */
export function formatMeanCount(n: number): string {
  return Number.isInteger(n) || Math.abs(n) >= 100 ? formatCount(n) : n.toLocaleString('en-US', { maximumFractionDigits: 1 });
}

/** A count with thousands separators: 1234567 -> "1,234,567". */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** A number with thousands separators and `digits` after the point: 31060.14 -> "31,060.1". */
export function formatNumber(x: number, digits = 1): string {
  return Number.isFinite(x) ? group(x, digits) : String(x);
}

/**
 * A size in IEC binary units, three significant digits below 1,000 of a unit and thousands
 * separators above: 4096 -> "4 KiB", 6165626 -> "5.88 MiB", 164282499072 -> "153 GiB".
 */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const sign = n < 0 ? '-' : '';
  let v = Math.abs(n);
  if (v < 1024) return `${sign}${formatCount(v)} ${v === 1 ? 'byte' : 'bytes'}`;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  // Whole multiples print without decimals ("4 KiB", "1 GiB"); others keep 3 significant digits.
  const digits = Number.isInteger(v) || v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${sign}${group(v, digits)} ${UNITS[u]}`;
}

/** A duration given in nanoseconds, in ns, us, ms or s with 3 significant digits. */
export function formatDuration(ns: number): string {
  if (!Number.isFinite(ns)) return String(ns);
  const v = Math.abs(ns);
  const [scale, unit] = v >= 1e9 ? [1e9, 's'] : v >= 1e6 ? [1e6, 'ms'] : v >= 1e3 ? [1e3, 'us'] : [1, 'ns'];
  const x = ns / scale;
  const digits = Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2;
  return `${group(x, digits)} ${unit}`;
}

/** A fraction as a percentage: 0.0123 -> "1.23%" (digits after the point, default 2). */
export function formatPercent(x: number, digits = 2): string {
  return `${group(x * 100, digits)}%`;
}
