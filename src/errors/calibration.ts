// The calibration report printed beside every generated stream (spec §2.3): how the stream
// compares with the field facts it is meant to reproduce.
import { CountHistogram } from './count-histogram.js';
import { FAULT_MODES, FIT_MODE_SHARES, FIT_PERMANENT_SHARE } from './fit.js';

/** Field targets (Schroeder 2009, Hwang 2012, Meza 2015, Sridharan SC12). */
export const CALIBRATION_TARGETS = {
  dimmsWithCePerYear: [0.02, 0.08],
  hostsWithUePerYear: [0.002, 0.013],
  meanOverMedianErrorsPerAffectedHost: 55,
  top20DimmErrorShare: 0.94,
} as const;

export const INCIDENT_CLASSES = ['page', 'region2M', 'rank', 'channel'] as const;

/**
 * Counts accumulated over a range of hosts; ranges of one fleet merge in host order. Its
 * size does not grow with the number of hosts: per-host figures are folded into exact
 * histograms when each host ends.
 */
export class FleetTally {
  /** Errors of every host-year window with errors (whole years; the partial one for streams under a year). */
  readonly hostYearErrors = new CountHistogram();
  /** Errors of every DIMM with errors, over the whole stream. */
  readonly dimmErrors = new CountHistogram();
  /** DIMM-year windows with a CE: all windows, and whole-year windows only. */
  dimmWindowsWithCe = 0;
  dimmWholeYearsWithCe = 0;
  hostWindowsWithUe = 0;
  hostWholeYearsWithUe = 0;
  ueHosts = 0;
  ueHostsWithEarlierCe = 0;
  ceErrors = 0;
  ueErrors = 0;
  readonly faultClasses = new Float64Array(FAULT_MODES.length * 2);
  readonly incidentClasses = new Float64Array(INCIDENT_CLASSES.length);
  channelEvents = 0;
  overlapFaults = 0;

  // Per-host scratch, folded into the totals by endHost.
  private readonly windowErrors: Float64Array;
  private readonly hostDimmErrors: Float64Array;
  private readonly ceWindows: Uint8Array;
  private readonly ueWindows: Uint8Array;
  private firstCe = Infinity;
  private firstUe = Infinity;

  constructor(
    readonly firstHost: number,
    readonly hostCount: number,
    readonly dimmsPerHost: number,
    /** Years the stream covers (the last year window may be partial). */
    readonly years: number,
  ) {
    this.windowErrors = new Float64Array(this.windows);
    this.hostDimmErrors = new Float64Array(dimmsPerHost);
    this.ceWindows = new Uint8Array(dimmsPerHost * this.windows);
    this.ueWindows = new Uint8Array(this.windows);
  }

  get windows(): number {
    return Math.ceil(this.years);
  }

  beginHost(_host: number): void {
    this.windowErrors.fill(0);
    this.hostDimmErrors.fill(0);
    this.ceWindows.fill(0);
    this.ueWindows.fill(0);
    this.firstCe = Infinity;
    this.firstUe = Infinity;
  }

  /** `count` reports in year `window` of a fault on `dimm` (-1: no DIMM), the first at `firstHours`. */
  addReports(dimm: number, window: number, count: number, uncorrectable: boolean, firstHours: number): void {
    if (count === 0) return;
    this.windowErrors[window] += count;
    if (dimm >= 0) this.hostDimmErrors[dimm] += count;
    if (uncorrectable) {
      this.ueErrors += count;
      this.ueWindows[window] = 1;
      this.firstUe = Math.min(this.firstUe, firstHours);
    } else {
      this.ceErrors += count;
      if (dimm >= 0) this.ceWindows[dimm * this.windows + window] = 1;
      this.firstCe = Math.min(this.firstCe, firstHours);
    }
  }

  endHost(): void {
    const whole = Math.floor(this.years);
    this.windowErrors.forEach((e, w) => {
      if (e > 0 && (whole === 0 || w < whole)) this.hostYearErrors.add(e);
    });
    for (const e of this.hostDimmErrors) if (e > 0) this.dimmErrors.add(e);
    this.ceWindows.forEach((flag, i) => {
      this.dimmWindowsWithCe += flag;
      if (i % this.windows < whole) this.dimmWholeYearsWithCe += flag;
    });
    this.ueWindows.forEach((flag, w) => {
      this.hostWindowsWithUe += flag;
      if (w < whole) this.hostWholeYearsWithUe += flag;
    });
    if (this.firstUe < Infinity) {
      this.ueHosts++;
      if (this.firstCe < this.firstUe) this.ueHostsWithEarlierCe++;
    }
  }

  /** Folds in the tally of the hosts that follow this one's. */
  merge(next: FleetTally): FleetTally {
    if (next.firstHost !== this.firstHost + this.hostCount || next.dimmsPerHost !== this.dimmsPerHost || next.years !== this.years) {
      throw new Error('calibration: tallies merge only for consecutive host ranges of one fleet');
    }
    const merged = new FleetTally(this.firstHost, this.hostCount + next.hostCount, this.dimmsPerHost, this.years);
    for (const t of [this, next]) {
      merged.hostYearErrors.merge(t.hostYearErrors);
      merged.dimmErrors.merge(t.dimmErrors);
    }
    for (const key of ['dimmWindowsWithCe', 'dimmWholeYearsWithCe', 'hostWindowsWithUe', 'hostWholeYearsWithUe', 'ueHosts', 'ueHostsWithEarlierCe', 'ceErrors', 'ueErrors', 'channelEvents', 'overlapFaults'] as const) {
      merged[key] = this[key] + next[key];
    }
    for (let i = 0; i < merged.faultClasses.length; i++) merged.faultClasses[i] = this.faultClasses[i] + next.faultClasses[i];
    for (let i = 0; i < merged.incidentClasses.length; i++) merged.incidentClasses[i] = this.incidentClasses[i] + next.incidentClasses[i];
    return merged;
  }
}

export interface CalibrationReport {
  mode: 'dram' | 'incident';
  hosts: number;
  years: number;
  dimmYears: number | null;
  errors: { total: number; ce: number; ue: number };
  dimmsWithCePerYear: { value: number | null; target: readonly [number, number] };
  hostsWithUePerYear: { value: number; target: readonly [number, number] };
  /** Errors per host-year with errors (whole years; the partial year for streams under a year). */
  errorsPerAffectedHostYear: { affectedHostYears: number; mean: number; median: number; meanOverMedian: number; target: number };
  top20DimmErrorShare: { value: number | null; target: number };
  /** Hosts with at least one UE in the stream. */
  ueHosts: number;
  ueHostsWithEarlierCe: number | null;
  faultModes: { mode: string; share: number; fitShare: number }[] | null;
  permanentShare: { value: number; fitShare: number } | null;
  channelEvents: number;
  overlapFaults: number;
  incidentClasses: { class: string; share: number }[] | null;
}

/**
 * Turns window flags into a per-year rate. Windows are whole years except perhaps the last;
 * with a year or more only whole years count; a stream shorter than a year is annualised
 * assuming a constant hazard.
 */
function perYear(flaggedAll: number, flaggedWhole: number, units: number, years: number): number {
  const whole = Math.floor(years);
  if (whole >= 1) return flaggedWhole / (units * whole);
  return 1 - Math.pow(1 - flaggedAll / units, 1 / years);
}

export function computeCalibration(tally: FleetTally, mode: 'dram' | 'incident'): CalibrationReport {
  const hosts = tally.hostCount;
  const years = tally.years;
  const affected = tally.hostYearErrors;
  const total = tally.ceErrors + tally.ueErrors;
  const mean = affected.n ? affected.sum / affected.n : 0;
  const med = affected.median();

  const dram = mode === 'dram';
  let top20: number | null = null;
  if (dram) {
    const dimms = tally.dimmErrors;
    top20 = dimms.sum > 0 ? dimms.topSum(Math.ceil(dimms.n * 0.2)) / dimms.sum : 0;
  }
  const faults = tally.faultClasses.reduce((s, c) => s + c, 0);
  const incidents = tally.incidentClasses.reduce((s, c) => s + c, 0);
  return {
    mode,
    hosts,
    years,
    dimmYears: dram ? hosts * tally.dimmsPerHost * years : null,
    errors: { total, ce: tally.ceErrors, ue: tally.ueErrors },
    dimmsWithCePerYear: {
      value: dram
        ? perYear(tally.dimmWindowsWithCe, tally.dimmWholeYearsWithCe, hosts * tally.dimmsPerHost, years)
        : null,
      target: CALIBRATION_TARGETS.dimmsWithCePerYear,
    },
    hostsWithUePerYear: {
      value: perYear(tally.hostWindowsWithUe, tally.hostWholeYearsWithUe, hosts, years),
      target: CALIBRATION_TARGETS.hostsWithUePerYear,
    },
    errorsPerAffectedHostYear: {
      affectedHostYears: affected.n,
      mean,
      median: med,
      meanOverMedian: med > 0 ? mean / med : 0,
      target: CALIBRATION_TARGETS.meanOverMedianErrorsPerAffectedHost,
    },
    top20DimmErrorShare: { value: top20, target: CALIBRATION_TARGETS.top20DimmErrorShare },
    ueHosts: tally.ueHosts,
    ueHostsWithEarlierCe: dram && tally.ueHosts > 0 ? tally.ueHostsWithEarlierCe / tally.ueHosts : null,
    faultModes: dram
      ? FAULT_MODES.map((m, i) => ({
          mode: m,
          share: faults ? (tally.faultClasses[2 * i] + tally.faultClasses[2 * i + 1]) / faults : 0,
          fitShare: FIT_MODE_SHARES[i],
        }))
      : null,
    permanentShare: dram
      ? {
          value: faults ? tally.faultClasses.reduce((s, c, i) => s + (i & 1 ? c : 0), 0) / faults : 0,
          fitShare: FIT_PERMANENT_SHARE,
        }
      : null,
    channelEvents: tally.channelEvents,
    overlapFaults: tally.overlapFaults,
    incidentClasses:
      mode === 'incident'
        ? INCIDENT_CLASSES.map((c, i) => ({ class: c, share: incidents ? tally.incidentClasses[i] / incidents : 0 }))
        : null,
  };
}

const pct = (x: number, digits = 2) => `${(100 * x).toFixed(digits)}%`;
const inRange = (x: number, [lo, hi]: readonly [number, number]) => (x >= lo && x <= hi ? 'ok' : 'OUT OF RANGE');

/** The report as the text the CLI prints. */
export function formatCalibration(r: CalibrationReport): string {
  const lines = [
    `calibration (${r.mode} model, ${r.hosts} hosts x ${r.years} years` +
      (r.dimmYears !== null ? `, ${r.dimmYears.toLocaleString('en-US')} DIMM-years)` : ')'),
    `  errors: ${r.errors.total.toLocaleString('en-US')} (CE ${r.errors.ce.toLocaleString('en-US')}, UE ${r.errors.ue.toLocaleString('en-US')})`,
  ];
  if (r.dimmsWithCePerYear.value !== null) {
    const t = r.dimmsWithCePerYear.target;
    lines.push(`  DIMMs with a CE per year:        ${pct(r.dimmsWithCePerYear.value)}   target ${pct(t[0], 0)}-${pct(t[1], 0)}  ${inRange(r.dimmsWithCePerYear.value, t)}`);
  }
  const u = r.hostsWithUePerYear;
  lines.push(
    `  hosts with a UE per year:        ${pct(u.value)}   target ${pct(u.target[0], 1)}-${pct(u.target[1], 1)}  ${inRange(u.value, u.target)}  [${r.ueHosts} hosts with a UE]`,
  );
  const e = r.errorsPerAffectedHostYear;
  // The incident shortcut has no error-count model: its records are pages, so no target applies.
  const target = r.mode === 'dram' ? `   target ~${e.target} (heavy tail)` : '';
  lines.push(
    `  errors per affected host-year:   mean ${e.mean.toFixed(1)}, median ${e.median.toFixed(1)}, mean/median ${e.meanOverMedian.toFixed(1)}${target}  [${e.affectedHostYears} host-years]`,
  );
  if (r.top20DimmErrorShare.value !== null) {
    lines.push(`  errors from the top 20% of DIMMs: ${pct(r.top20DimmErrorShare.value, 1)}   target ~${pct(r.top20DimmErrorShare.target, 0)}`);
  }
  if (r.ueHostsWithEarlierCe !== null) lines.push(`  UE hosts with an earlier CE:     ${pct(r.ueHostsWithEarlierCe, 1)}   field: >83% (SC12)`);
  if (r.faultModes && r.permanentShare) {
    lines.push('  fault modes (share of faults vs FIT table):');
    for (const m of r.faultModes) lines.push(`    ${m.mode.padEnd(10)} ${pct(m.share, 1).padStart(6)}  FIT ${pct(m.fitShare, 1).padStart(6)}`);
    lines.push(`    permanent  ${pct(r.permanentShare.value, 1).padStart(6)}  FIT ${pct(r.permanentShare.fitShare, 1).padStart(6)}`);
    lines.push(`  channel events: ${r.channelEvents}; UE overlaps of two faults: ${r.overlapFaults}`);
  }
  if (r.incidentClasses) {
    lines.push(`  incident classes: ${r.incidentClasses.map((c) => `${c.class} ${pct(c.share, 1)}`).join(', ')}`);
  }
  return lines.join('\n');
}
