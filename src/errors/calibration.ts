// The calibration report printed beside every generated stream: the figures the field
// studies publish, measured on the stream, and the checks of the stream's profile
// (profiles.ts): each names its figure, its publication, the published range and the value.
import type { GeneratorConfig } from './config.js';
import { CountHistogram } from './count-histogram.js';
import { FAULT_MODES, FIT_MODE_SHARES, FIT_PERMANENT_SHARE } from './fit.js';
import { ERROR_PROFILES, type CalibrationFigure, type ProfileName } from './profiles.js';
import { formatParagraph, formatTable, type TableColumn } from '../format/table.js';
import { formatCount, formatNumber, formatPercent } from '../format/units.js';

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
  hostWindowsWithCe = 0;
  hostWholeYearsWithCe = 0;
  ueHosts = 0;
  ueHostsWithEarlierCe = 0;
  ceErrors = 0;
  ueErrors = 0;
  readonly faultClasses = new Float64Array(FAULT_MODES.length * 2);
  readonly incidentClasses = new Float64Array(INCIDENT_CLASSES.length);
  channelEvents = 0;
  channelFaults = 0;
  overlapFaults = 0;
  /** Single-device faults that weakened ECC leaves uncorrectable. */
  weakEccFaults = 0;
  /** Errors of channel events and channel faults (the memory channel and controller, not DRAM). */
  channelErrors = 0;

  // Per-host scratch, folded into the totals by endHost.
  private readonly windowErrors: Float64Array;
  private readonly hostDimmErrors: Float64Array;
  private readonly ceWindows: Uint8Array;
  private readonly ueWindows: Uint8Array;
  private readonly hostCeWindows: Uint8Array;
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
    this.hostCeWindows = new Uint8Array(this.windows);
  }

  /** Year windows the stream covers (the last may be partial). */
  get windows(): number {
    return Math.ceil(this.years);
  }

  /** Starts counting the reports of a fleet host. */
  beginHost(_host: number): void {
    this.windowErrors.fill(0);
    this.hostDimmErrors.fill(0);
    this.ceWindows.fill(0);
    this.ueWindows.fill(0);
    this.hostCeWindows.fill(0);
    this.firstCe = Infinity;
    this.firstUe = Infinity;
  }

  /**
   * `count` reports in year `window` of a fault on `dimm` (-1: no DIMM), the first at
   * `firstHours`; `channel`: the fault is the memory channel's or controller's.
   */
  addReports(dimm: number, window: number, count: number, uncorrectable: boolean, firstHours: number, channel = false): void {
    if (count === 0) return;
    this.windowErrors[window] += count;
    if (channel) this.channelErrors += count;
    if (dimm >= 0) this.hostDimmErrors[dimm] += count;
    if (uncorrectable) {
      this.ueErrors += count;
      this.ueWindows[window] = 1;
      this.firstUe = Math.min(this.firstUe, firstHours);
    } else {
      this.ceErrors += count;
      this.hostCeWindows[window] = 1;
      if (dimm >= 0) this.ceWindows[dimm * this.windows + window] = 1;
      this.firstCe = Math.min(this.firstCe, firstHours);
    }
  }

  /** Ends the current host, folding its counts into the fleet's. */
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
    this.hostCeWindows.forEach((flag, w) => {
      this.hostWindowsWithCe += flag;
      if (w < whole) this.hostWholeYearsWithCe += flag;
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
    for (const key of [
      'dimmWindowsWithCe', 'dimmWholeYearsWithCe', 'hostWindowsWithUe', 'hostWholeYearsWithUe', 'hostWindowsWithCe', 'hostWholeYearsWithCe',
      'ueHosts', 'ueHostsWithEarlierCe', 'ceErrors', 'ueErrors', 'channelEvents', 'channelFaults', 'overlapFaults', 'weakEccFaults', 'channelErrors',
    ] as const) {
      merged[key] = this[key] + next[key];
    }
    for (let i = 0; i < merged.faultClasses.length; i++) merged.faultClasses[i] = this.faultClasses[i] + next.faultClasses[i];
    for (let i = 0; i < merged.incidentClasses.length; i++) merged.incidentClasses[i] = this.incidentClasses[i] + next.incidentClasses[i];
    return merged;
  }
}

/** One published figure, checked: measured on the stream against the profile's target range. */
export interface CalibrationCheck {
  name: string;
  source: string;
  target: readonly [number, number];
  measured: number;
  ok: boolean;
}

/** What the stream shows, published or not (null where the model has no such figure). */
export interface CalibrationFigures {
  dimmsWithCePerYear: number | null;
  hostsWithCePerYear: number | null;
  hostsWithUePerYear: number;
  /** Errors per host-year with errors (whole years; the partial year for streams under a year). */
  errorsPerAffectedHostYear: { affectedHostYears: number; mean: number; median: number; meanOverMedian: number };
  top20DimmErrorShare: number | null;
  /** Errors of memory-channel events and faults, over all errors. */
  channelErrorShare: number | null;
  /** Hosts with at least one UE in the stream, and the share of them with a CE before their first UE. */
  ueHosts: number;
  ueHostsWithEarlierCe: number | null;
  /** Faults arriving in the stream, by mode, against the FIT table's shares. */
  faultModes: { mode: string; share: number; fitShare: number }[] | null;
  permanentShare: { value: number; fitShare: number } | null;
  channelEvents: number;
  channelFaults: number;
  overlapFaults: number;
  weakEccFaults: number;
  incidentClasses: { class: string; share: number }[] | null;
}

/** A generated fleet's error statistics beside its profile's published figures. */
export interface CalibrationReport {
  profile: ProfileName;
  mode: 'dram' | 'incident';
  ecc: 'chipkill' | 'secded';
  hosts: number;
  years: number;
  dimmYears: number | null;
  errors: { total: number; ce: number; ue: number };
  /** The profile's published figures that apply to this stream, each measured. */
  checks: CalibrationCheck[];
  figures: CalibrationFigures;
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

function measureFigures(tally: FleetTally, mode: 'dram' | 'incident'): CalibrationFigures {
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
    dimmsWithCePerYear: dram ? perYear(tally.dimmWindowsWithCe, tally.dimmWholeYearsWithCe, hosts * tally.dimmsPerHost, years) : null,
    hostsWithCePerYear: dram ? perYear(tally.hostWindowsWithCe, tally.hostWholeYearsWithCe, hosts, years) : null,
    hostsWithUePerYear: perYear(tally.hostWindowsWithUe, tally.hostWholeYearsWithUe, hosts, years),
    errorsPerAffectedHostYear: { affectedHostYears: affected.n, mean, median: med, meanOverMedian: med > 0 ? mean / med : 0 },
    top20DimmErrorShare: top20,
    channelErrorShare: dram ? (total > 0 ? tally.channelErrors / total : 0) : null,
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
      ? { value: faults ? tally.faultClasses.reduce((s, c, i) => s + (i & 1 ? c : 0), 0) / faults : 0, fitShare: FIT_PERMANENT_SHARE }
      : null,
    channelEvents: tally.channelEvents,
    channelFaults: tally.channelFaults,
    overlapFaults: tally.overlapFaults,
    weakEccFaults: tally.weakEccFaults,
    incidentClasses:
      mode === 'incident'
        ? INCIDENT_CLASSES.map((c, i) => ({ class: c, share: incidents ? tally.incidentClasses[i] / incidents : 0 }))
        : null,
  };
}

/** A figure's measured value, or null where the stream's model has none. */
function figureValue(f: CalibrationFigures, figure: CalibrationFigure): number | null {
  if (figure.startsWith('mode:')) return f.faultModes?.find((m) => m.mode === figure.slice(5))?.share ?? null;
  switch (figure) {
    case 'meanOverMedianErrors':
      // The incident shortcut's records are pages, not logged errors: no error-count figure.
      return f.faultModes ? f.errorsPerAffectedHostYear.meanOverMedian : null;
    case 'permanentShare':
      return f.permanentShare?.value ?? null;
    default:
      return f[figure as 'dimmsWithCePerYear' | 'hostsWithCePerYear' | 'hostsWithUePerYear' | 'top20DimmErrorShare' | 'channelErrorShare'];
  }
}

/** The calibration of a tallied fleet: its figures, and the profile's published checks that apply to it. */
export function computeCalibration(tally: FleetTally, config: Pick<GeneratorConfig, 'mode' | 'profile' | 'topology'>): CalibrationReport {
  const figures = measureFigures(tally, config.mode);
  const ecc = config.topology.ecc;
  const checks: CalibrationCheck[] = [];
  for (const c of ERROR_PROFILES[config.profile].checks) {
    if (c.ecc !== undefined && c.ecc !== ecc) continue;
    const measured = figureValue(figures, c.figure);
    if (measured === null) continue;
    checks.push({ name: c.name, source: c.source, target: c.target, measured, ok: measured >= c.target[0] && measured <= c.target[1] });
  }
  return {
    profile: config.profile,
    mode: config.mode,
    ecc,
    hosts: tally.hostCount,
    years: tally.years,
    dimmYears: config.mode === 'dram' ? tally.hostCount * tally.dimmsPerHost * tally.years : null,
    errors: { total: tally.ceErrors + tally.ueErrors, ce: tally.ceErrors, ue: tally.ueErrors },
    checks,
    figures,
  };
}

const pct = formatPercent;

/** A check's value or range as people read it: shares in percent, ratios as numbers. */
function shown(c: CalibrationCheck, x: number): string {
  return c.target[1] <= 1 ? pct(x, x < 0.1 ? 2 : 1) : formatNumber(x);
}

/** The profile checks' columns: the figure, its measured value, the published range, the verdict. */
const CHECK_COLUMNS: TableColumn[] = [{ header: 'figure', wrap: true }, { header: 'measured', align: 'right' }, { header: 'target' }, { header: 'verdict' }];

/** The report as the text the CLI prints. */
export function formatCalibration(r: CalibrationReport): string {
  const f = r.figures;
  const line = (text: string) => formatParagraph(text, { indent: 2, hang: 2 });
  const lines = [
    formatParagraph(`calibration (${r.mode} model, profile ${r.profile}, ${formatCount(r.hosts)} hosts x ${formatNumber(r.years, Number.isInteger(r.years) ? 0 : 2)} years` +
      (r.dimmYears !== null ? `, ${formatCount(r.dimmYears)} DIMM-years)` : ')'), { hang: 2 }),
    line(`errors: ${formatCount(r.errors.total)} (CE ${formatCount(r.errors.ce)}, UE ${formatCount(r.errors.ue)})`),
  ];
  if (r.checks.length > 0) {
    lines.push('  published figures (profile checks):');
    const rows = r.checks.map((c) => [c.name, shown(c, c.measured), `target ${shown(c, c.target[0])}-${shown(c, c.target[1])}`, c.ok ? 'ok' : 'OUT OF RANGE']);
    lines.push(formatTable(CHECK_COLUMNS, rows, { header: false, indent: 4 }));
  }
  const e = f.errorsPerAffectedHostYear;
  lines.push(line(`hosts with a UE: ${formatCount(f.ueHosts)} (${pct(f.hostsWithUePerYear)} per year)` +
    (f.ueHostsWithEarlierCe !== null ? `; ${pct(f.ueHostsWithEarlierCe, 1)} of them had a CE first` : '')));
  lines.push(line(`errors per affected host-year: mean ${formatNumber(e.mean)}, median ${formatNumber(e.median)} [${formatCount(e.affectedHostYears)} host-years]`));
  if (f.faultModes) {
    lines.push(line(`faults: channel events ${formatCount(f.channelEvents)}, channel faults ${formatCount(f.channelFaults)}, ` +
      `UE overlaps of two faults ${formatCount(f.overlapFaults)}, weakened-ECC UEs ${formatCount(f.weakEccFaults)}`));
  }
  if (f.incidentClasses) {
    lines.push(line(`incident classes: ${f.incidentClasses.map((c) => `${c.class} ${pct(c.share, 1)}`).join(', ')}`));
  }
  return lines.join('\n');
}
