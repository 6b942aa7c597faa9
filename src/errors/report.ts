// Reporting: a fault's errors are seen only when a covered line is read, by the workload
// (access; for a UE: consumed, SIGBUS AR) or by the patrol scrubber (every scrubHours; AO).
//  - permanent faults: reads of covered lines arrive at L x (access + 1/scrubHours) per hour;
//    scrub passes are taken as Poisson at their mean rate. Logging saturates at
//    maxLoggedPerHour per fault (CMCI storm handling, one MCA register). An intermittent
//    fault fails a share q of the reads in bursts, so q scales what is logged.
//  - transient faults: each covered line is wrong until its first read, so it is reported once,
//    at the earlier of a workload read and the scrubber's pass (at most what logging passes
//    in one scrub period; each report at a random line of the footprint).
// A plan is drawn once per fault from the fault's own stream, so counting (for calibration)
// and emitting records see the same reports.
import {
  FLAG_INTERMITTENT,
  FLAG_PERMANENT,
  FLAG_SCRUB,
  FLAG_UE,
  type ErrorBatchBuilder,
} from './batch.js';
import type { ReportingConfig } from './config.js';
import { HOURS_PER_YEAR, yearWindow, type Fault } from './faults.js';
import { footprintLines } from './footprint.js';
import type { DramMapping } from './mapping.js';
import { exponential, poisson, randomBits, streamRng, uniform, uniformIn, type Rng } from './rng.js';

const SECONDS_PER_HOUR = 3600;

export interface ReadRates {
  scrubHours: number;
  /** Workload reads reaching DRAM per line per hour on this host. */
  access: number;
  maxLoggedPerHour: number;
}

export function readRates(r: ReportingConfig, utilFactor: number): ReadRates {
  return { scrubHours: r.scrubHours, access: r.accessReadsPerLineHour * utilFactor, maxLoggedPerHour: r.maxLoggedPerHour };
}

export interface ReportPlan {
  readonly fault: Fault;
  /** Hours of the first report; Infinity when none falls before the end. */
  readonly first: number;
  /** Permanent faults: logged errors per hour. */
  readonly rate: number;
  /** Transient faults: when each covered line is reported, and whether by the scrubber. */
  readonly lineTimes: Float64Array | null;
  readonly lineScrub: Uint8Array | null;
  /** Reports per year window, set by countReports. */
  windowCounts: Uint32Array;
  /** Reports stop here (hours): the end of the stream or the DIMM's replacement. */
  until: number;
  readonly timeRng: Rng;
}

function scrubShare(rates: ReadRates): number {
  const scrub = 1 / rates.scrubHours;
  return scrub / (scrub + rates.access);
}

/** Draws when a fault is first reported (and, for a transient, when each of its lines is). */
export function planReports(f: Fault, rates: ReadRates, endHours: number, windows: number): ReportPlan {
  const timeRng = streamRng(f.seed, 0);
  const lines = footprintLines(f);
  const windowCounts = new Uint32Array(windows);
  if (f.kind !== 'transient') {
    const rate = f.q * Math.min(lines * (rates.access + 1 / rates.scrubHours), rates.maxLoggedPerHour);
    const first = f.onset + exponential(timeRng, 1 / rate);
    return { fault: f, first: first < endHours ? first : Infinity, rate, lineTimes: null, lineScrub: null, windowCounts, until: endHours, timeRng };
  }
  const n = Math.min(lines, Math.ceil(rates.maxLoggedPerHour * rates.scrubHours));
  const lineTimes = new Float64Array(n);
  const lineScrub = new Uint8Array(n);
  let first = Infinity;
  for (let i = 0; i < n; i++) {
    const byScrub = uniform(timeRng) * rates.scrubHours;
    const byAccess = rates.access > 0 ? exponential(timeRng, 1 / rates.access) : Infinity;
    const t = f.onset + Math.min(byScrub, byAccess);
    lineTimes[i] = t < endHours ? t : Infinity;
    lineScrub[i] = byScrub <= byAccess ? 1 : 0;
    first = Math.min(first, lineTimes[i]);
  }
  return { fault: f, first, rate: 0, lineTimes, lineScrub, windowCounts, until: endHours, timeRng };
}

/**
 * Counts the plan's reports per year window in [0, until) hours. A permanent fault that was
 * already reporting before the stream starts goes on at its rate from 0 (memoryless).
 */
export function countReports(plan: ReportPlan, until: number): void {
  plan.until = until;
  const counts = plan.windowCounts;
  counts.fill(0);
  if (plan.lineTimes) {
    for (const t of plan.lineTimes) if (t >= 0 && t < until) counts[yearWindow(t)]++;
    return;
  }
  if (!(plan.first < until)) return;
  const start = Math.max(plan.first, 0);
  if (plan.first >= 0) counts[yearWindow(plan.first)]++;
  for (let w = yearWindow(start); w < counts.length; w++) {
    const from = Math.max(start, w * HOURS_PER_YEAR);
    const to = Math.min(until, (w + 1) * HOURS_PER_YEAR);
    if (to > from) counts[w] += poisson(plan.timeRng, plan.rate * (to - from));
  }
}

/** Writes the plan's reports (as counted) into `out`, located through `mapping`. */
export function emitReports(plan: ReportPlan, host: number, rates: ReadRates, mapping: DramMapping, out: ErrorBatchBuilder): void {
  const f = plan.fault;
  const placeRng = streamRng(f.seed, 1);
  const baseFlags =
    (f.uncorrectable ? FLAG_UE : 0) |
    (f.kind !== 'transient' ? FLAG_PERMANENT : 0) |
    (f.kind === 'intermittent' ? FLAG_INTERMITTENT : 0);
  const write = (hours: number, scrub: boolean): void => {
    const addr = mapping.physAddr(
      f.dimm,
      f.rank | randomBits(placeRng, f.rankMask),
      f.bank | randomBits(placeRng, f.bankMask),
      f.row | randomBits(placeRng, f.rowMask),
      f.col | randomBits(placeRng, f.colMask),
    );
    out.push(hours * SECONDS_PER_HOUR, host, addr, baseFlags | (scrub ? FLAG_SCRUB : 0), f.cause, f.dimm, f.id);
  };

  if (plan.lineTimes && plan.lineScrub) {
    for (let i = 0; i < plan.lineTimes.length; i++) {
      const t = plan.lineTimes[i];
      if (t >= 0 && t < plan.until) write(t, plan.lineScrub[i] === 1);
    }
    return;
  }
  const pScrub = scrubShare(rates);
  const counts = plan.windowCounts;
  for (let w = 0; w < counts.length; w++) {
    let n = counts[w];
    if (n === 0) continue;
    if (plan.first >= 0 && yearWindow(plan.first) === w) {
      write(plan.first, uniform(placeRng) < pScrub);
      n--;
    }
    const from = Math.max(plan.first, 0, w * HOURS_PER_YEAR);
    const to = Math.min(plan.until, (w + 1) * HOURS_PER_YEAR);
    for (let i = 0; i < n; i++) write(uniformIn(placeRng, from, to), uniform(placeRng) < pScrub);
  }
}
