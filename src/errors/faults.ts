// Fault arrivals: per DIMM, independent Poisson processes per device and fault mode with rate
//   FIT_mode x fitScale x frailty_dimm x age(t) x util(u) / 1e9 per hour.
// All modes share the frailty, age and utilisation terms, so one Poisson draw of the DIMM's
// total over the whole span, then a mode per arrival, is exact and costs one uniform for the
// (usual) DIMM with no fault.
import type { DramModelConfig } from './config.js';
import { faultClassCdf, faultClassFor, TOTAL_FIT_PER_DEVICE } from './fit.js';
import { sampleFootprint, type Footprint } from './footprint.js';
import { childSeed, logUniform, normal, poisson, uniform, uniformIn, uniformInt, type Rng } from './rng.js';
import type { Topology } from './topology.js';

/** Hours in a year of 365.25 days. */
export const HOURS_PER_YEAR = 8766;
export const HOURS_PER_MONTH = HOURS_PER_YEAR / 12;

/** The year window (0-based) an instant, in hours since the start, falls in. */
export function yearWindow(hours: number): number {
  return Math.floor(hours / HOURS_PER_YEAR);
}

/** transient: wrong until rewritten; active: wrong on every read; intermittent: wrong on a share q of reads. */
export type FaultKind = 'transient' | 'active' | 'intermittent';

// What a record's cause byte says about the fault behind it (see docs/error-streams.md): a
// fault mode (0-6), or one of these.
/** Cause: a channel-wide event. */
export const CAUSE_CHANNEL_EVENT = 7;
/** Cause: a UE where two faults meet (together beyond what the ECC corrects). */
export const CAUSE_OVERLAP = 8;
/** Cause: a memory-channel lane fault (correctable on its own). */
export const CAUSE_CHANNEL_FAULT = 9;
/** Cause: an incident of the incident model, plus its class (0 page, 1 2 MiB region, 2 rank, 3 channel). */
export const CAUSE_INCIDENT_BASE = 16;
/** Cause: not known (imported logs). */
export const CAUSE_UNKNOWN = 255;

export interface Fault extends Footprint {
  /** Unique within its host. */
  id: number;
  dimm: number;
  /** Device within the rank; -1 when several devices are involved. */
  device: number;
  /** A fault mode (0-6) or CAUSE_CHANNEL_EVENT / CAUSE_OVERLAP / CAUSE_CHANNEL_FAULT. */
  cause: number;
  kind: FaultKind;
  /** Share of the reads of a covered line that fail (1 for active and transient faults). */
  q: number;
  /** Hours since the start of the stream (negative: before it). */
  onset: number;
  uncorrectable: boolean;
  /** Seed of the fault's own random streams (report times, locations). */
  seed: number;
}

/** A fault record with a fixed shape (object spread would build slow dictionary objects). */
export function makeFault(fp: Footprint, info: Omit<Fault, keyof Footprint>): Fault {
  return {
    rank: fp.rank,
    rankMask: fp.rankMask,
    bank: fp.bank,
    bankMask: fp.bankMask,
    row: fp.row,
    rowMask: fp.rowMask,
    col: fp.col,
    colMask: fp.colMask,
    dqMask: fp.dqMask,
    id: info.id,
    dimm: info.dimm,
    device: info.device,
    cause: info.cause,
    kind: info.kind,
    q: info.q,
    onset: info.onset,
    uncorrectable: info.uncorrectable,
    seed: info.seed,
  };
}

/** Utilisation factor of a host's error rates: 1 + w ln(u / mean u), clipped. */
export function utilisationFactor(rng: Rng, p: DramModelConfig): number {
  const [lo, hi] = p.utilisation;
  const u = uniformIn(rng, lo, hi);
  const factor = 1 + p.utilisationWeight * Math.log(u / ((lo + hi) / 2));
  return Math.min(p.utilisationClip[1], Math.max(p.utilisationClip[0], factor));
}

/**
 * Cumulative age multiplier G(a) = ∫0^a age(s) ds (hours): 1 before the onset, a linear ramp
 * to `factor` over `ramp` hours, then flat.
 */
function ageCumulative(a: number, onset: number, ramp: number, factor: number): number {
  if (a <= onset) return a;
  if (a <= onset + ramp) {
    const x = a - onset;
    return onset + x + ((factor - 1) * x * x) / (2 * ramp);
  }
  return onset + ramp + ((factor - 1) * ramp) / 2 + factor * (a - onset - ramp);
}

/** The age a with G(a) = g. */
function ageInverse(g: number, onset: number, ramp: number, factor: number): number {
  if (g <= onset) return g;
  const rampEnd = ageCumulative(onset + ramp, onset, ramp, factor);
  if (g <= rampEnd && ramp > 0) {
    const slope = (factor - 1) / ramp;
    const y = g - onset;
    return onset + (Math.abs(slope) < 1e-15 ? y : (-1 + Math.sqrt(1 + 2 * slope * y)) / slope);
  }
  return onset + ramp + (g - rampEnd) / factor;
}

/**
 * Fault arrivals on the DIMMs of one fleet. The model's numbers are read once here: the
 * per-DIMM draw is the generator's innermost loop.
 */
export class DimmArrivals {
  private readonly sigma: number;
  private readonly fleetAgeLo: number;
  private readonly fleetAgeHi: number;
  private readonly onsetLo: number;
  private readonly onsetHi: number;
  private readonly ramp: number;
  private readonly ageFactor: number;
  /** Faults per hour of a DIMM at frailty, age and utilisation factors 1. */
  private readonly baseRate: number;
  private readonly devices: number;
  private readonly classCdf: Float64Array;

  constructor(
    private readonly t: Topology,
    private readonly p: DramModelConfig,
  ) {
    this.sigma = p.frailtySigma;
    [this.fleetAgeLo, this.fleetAgeHi] = p.fleetAgeMonths.map((m) => m * HOURS_PER_MONTH);
    [this.onsetLo, this.onsetHi] = p.ageOnsetMonths.map((m) => m * HOURS_PER_MONTH);
    this.ramp = p.ageRampMonths * HOURS_PER_MONTH;
    this.ageFactor = p.ageFactor;
    this.devices = t.devicesPerRank * t.ranksPerDimm;
    this.baseRate = (TOTAL_FIT_PER_DEVICE * p.fitScale * this.devices) / 1e9;
    this.classCdf = faultClassCdf(p.multiBitShare);
  }

  /**
   * Draws the faults of one DIMM from its installation to endHours and appends them, by
   * onset, to `out`. A DIMM is startAge old when the stream starts, so faults from before
   * the start have negative onsets: a permanent fault from last year still fails this year.
   * `hostFactor` is the host's (utilisation times host frailty); fault ids are left to the caller.
   */
  sample(rng: Rng, dimm: number, endHours: number, hostFactor: number, out: Fault[]): void {
    const { sigma, ramp, ageFactor } = this;
    const frailty = Math.exp(sigma * normal(rng) - (sigma * sigma) / 2);
    const startAge = uniformIn(rng, this.fleetAgeLo, this.fleetAgeHi);
    const onsetAge = uniformIn(rng, this.onsetLo, this.onsetHi);
    const lifetime = ageCumulative(startAge + endHours, onsetAge, ramp, ageFactor);
    const n = poisson(rng, this.baseRate * frailty * hostFactor * lifetime);
    if (n === 0) return;

    const { t, p } = this;
    const first = out.length;
    for (let i = 0; i < n; i++) {
      const onset = Math.min(endHours, ageInverse(uniform(rng) * lifetime, onsetAge, ramp, ageFactor) - startAge);
      const cls = faultClassFor(uniform(rng), this.classCdf);
      const mode = cls >> 1;
      const permanent = (cls & 1) === 1;
      const device = uniformInt(rng, this.devices);
      const fp = sampleFootprint(rng, mode, Math.floor(device / t.devicesPerRank), t, p);
      const intermittent = permanent && uniform(rng) < p.intermittentShare;
      out.push(makeFault(fp, {
        id: -1,
        dimm,
        device: device % t.devicesPerRank,
        cause: mode,
        kind: !permanent ? 'transient' : intermittent ? 'intermittent' : 'active',
        q: intermittent ? logUniform(rng, p.intermittentQ[0], p.intermittentQ[1]) : 1,
        onset,
        uncorrectable: false,
        seed: childSeed(rng),
      }));
    }
    if (n > 1) {
      const sorted = out.slice(first).sort((a, b) => a.onset - b.onset);
      for (let i = 0; i < n; i++) out[first + i] = sorted[i];
    }
  }
}
