// DRAM fault modes and their field rates: FIT (failures per 10^9 device-hours) per DRAM
// device, transient / permanent, from Sridharan & Liberty, SC12 (Jaguar, DDR2), as encoded in
// FaultSim. 66.1 FIT per device in total, 71% permanent.

/** The DRAM fault modes, narrowest first. */
export const FAULT_MODES = ['bit', 'word', 'column', 'row', 'bank', 'multiBank', 'multiRank'] as const;
export type FaultModeName = (typeof FAULT_MODES)[number];

/** Index into FAULT_MODES. */
export type FaultMode = number;
export const MODE_BIT = 0;
export const MODE_WORD = 1;
export const MODE_COLUMN = 2;
export const MODE_ROW = 3;
export const MODE_BANK = 4;
export const MODE_MULTI_BANK = 5;
export const MODE_MULTI_RANK = 6;

/** A fault mode's rate per DRAM device, in FIT (failures per 10^9 device-hours). */
export interface ModeFit {
  /** The fault mode. */
  mode: FaultModeName;
  /** FIT of transient faults. */
  transient: number;
  /** FIT of permanent faults. */
  permanent: number;
}

/** FIT per DRAM device and mode: Sridharan & Liberty, SC12 (Jaguar, DDR2), as encoded in FaultSim. */
export const FIT_PER_DEVICE: readonly ModeFit[] = [
  { mode: 'bit', transient: 14.2, permanent: 18.6 },
  { mode: 'word', transient: 1.4, permanent: 0.3 },
  { mode: 'column', transient: 1.4, permanent: 5.6 },
  { mode: 'row', transient: 0.2, permanent: 8.2 },
  { mode: 'bank', transient: 0.8, permanent: 10.0 },
  { mode: 'multiBank', transient: 0.3, permanent: 1.4 },
  { mode: 'multiRank', transient: 0.9, permanent: 2.8 },
];

export const TOTAL_FIT_PER_DEVICE = FIT_PER_DEVICE.reduce((s, m) => s + m.transient + m.permanent, 0);

/** Share of each mode (transient + permanent) in the table: the calibration target. */
export const FIT_MODE_SHARES: readonly number[] = FIT_PER_DEVICE.map(
  (m) => (m.transient + m.permanent) / TOTAL_FIT_PER_DEVICE,
);

export const FIT_PERMANENT_SHARE =
  FIT_PER_DEVICE.reduce((s, m) => s + m.permanent, 0) / TOTAL_FIT_PER_DEVICE;

/**
 * Cumulative shares over the 14 (mode, permanence) classes, class = mode * 2 + permanent.
 * `multiBitShare` (the share of faults that are not single-bit) re-weights the table: the
 * bit mode gets the rest and every other mode keeps its share of the multi-bit faults;
 * null keeps the table's own (50.4%).
 */
export function faultClassCdf(multiBitShare: number | null): Float64Array {
  const bitShare = FIT_MODE_SHARES[MODE_BIT];
  const scale = (mode: number) =>
    multiBitShare === null ? 1 : mode === MODE_BIT ? (1 - multiBitShare) / bitShare : multiBitShare / (1 - bitShare);
  const cdf = new Float64Array(FIT_PER_DEVICE.length * 2);
  let acc = 0;
  FIT_PER_DEVICE.forEach((m, i) => {
    acc += (m.transient / TOTAL_FIT_PER_DEVICE) * scale(i);
    cdf[2 * i] = acc;
    acc += (m.permanent / TOTAL_FIT_PER_DEVICE) * scale(i);
    cdf[2 * i + 1] = acc;
  });
  cdf[cdf.length - 1] = 1;
  return cdf;
}

/** The fault class (mode * 2 + permanent) a uniform draw u in [0, 1) selects from `cdf`. */
export function faultClassFor(u: number, cdf: Float64Array): number {
  let c = 0;
  while (u >= cdf[c]) c++;
  return c;
}
