// One host under the DRAM fault model: its DIMMs' faults, the UEs where faults meet, rare
// channel events and channel faults, DIMM replacement after a UE, then the reports each
// fault produces.
import type { ErrorBatchBuilder } from './batch.js';
import type { FleetTally } from './calibration.js';
import { overlapFaults, singleFaultUncorrectable, weakenedEccUncorrectable } from './ecc.js';
import {
  CAUSE_CHANNEL_EVENT,
  CAUSE_CHANNEL_FAULT,
  CAUSE_OVERLAP,
  HOURS_PER_YEAR,
  makeFault,
  utilisationFactor,
  type Fault,
} from './faults.js';
import { sampleChannelEventFootprint, sampleChannelFaultFootprint } from './footprint.js';
import type { FleetModel } from './model.js';
import { countReports, emitReports, planReports, readRates } from './report.js';
import { childSeed, gamma, logUniform, poisson, streamRng, uniform, uniformInt, type Rng } from './rng.js';

/** Random stream 0 of a host is the DRAM model's; the incident model uses stream 1. */
const DRAM_STREAM = 0;

/**
 * A host's correlated channel/controller events: each poisons a few lines on every DIMM of
 * one channel (UEs, reported once per line). All parts of an event share its fault id.
 */
function channelEventFaults(model: FleetModel, rngSeed: number, firstId: number, hostFrailty: number): Fault[] {
  const { config, topology: t, endHours } = model;
  const rng = streamRng(rngSeed, 1);
  const events = poisson(rng, config.dram.channelEventsPerHostYear * hostFrailty * (endHours / HOURS_PER_YEAR));
  const faults: Fault[] = [];
  for (let e = 0; e < events; e++) {
    const onset = uniform(rng) * endHours;
    const channel = uniformInt(rng, t.sockets * t.channelsPerSocket);
    const seed = childSeed(rng);
    for (let slot = 0; slot < t.dimmsPerChannel; slot++) {
      const lines = logUniform(rng, config.dram.channelEventLinesPerDimm[0], config.dram.channelEventLinesPerDimm[1]);
      faults.push(makeFault(sampleChannelEventFootprint(rng, t, lines), {
        id: firstId + e,
        dimm: channel * t.dimmsPerChannel + slot,
        device: -1,
        cause: CAUSE_CHANNEL_EVENT,
        kind: 'transient',
        q: 1,
        onset,
        uncorrectable: true,
        seed: (seed + slot) >>> 0,
      }));
    }
  }
  return faults;
}

/**
 * A host's memory-channel faults: one data lane of a channel fails (permanently, on every
 * read) for a share of the columns of every DIMM on the channel, a correctable error per
 * read. All parts of a fault share its id.
 */
function channelLaneFaults(model: FleetModel, rngSeed: number, firstId: number, hostFrailty: number): Fault[] {
  const { config, topology: t, endHours } = model;
  const rng = streamRng(rngSeed, 2);
  const count = poisson(rng, config.dram.channelFaultsPerHostYear * hostFrailty * (endHours / HOURS_PER_YEAR));
  const faults: Fault[] = [];
  for (let e = 0; e < count; e++) {
    const onset = uniform(rng) * endHours;
    const channel = uniformInt(rng, t.sockets * t.channelsPerSocket);
    const device = uniformInt(rng, t.devicesPerRank);
    const lane = uniformInt(rng, t.dqPerDevice);
    const seed = childSeed(rng);
    for (let slot = 0; slot < t.dimmsPerChannel; slot++) {
      faults.push(makeFault(sampleChannelFaultFootprint(rng, t, lane, config.dram.channelFaultColumnBits), {
        id: firstId + e,
        dimm: channel * t.dimmsPerChannel + slot,
        device,
        cause: CAUSE_CHANNEL_FAULT,
        kind: 'active',
        q: 1,
        onset,
        uncorrectable: false,
        seed: (seed + slot) >>> 0,
      }));
    }
  }
  return faults;
}

/** The id after the last of `faults` (ids ascend along the list; the parts of an event share one). */
function nextFaultId(faults: readonly Fault[]): number {
  return faults.length === 0 ? 0 : faults[faults.length - 1].id + 1;
}

/** The host's frailty: gamma with mean 1 and the given shape (1 without one; no draw then). */
function hostFrailty(rng: Rng, shape: number | null): number {
  return shape === null ? 1 : gamma(rng, shape) / shape;
}

/** Simulates one host: tallies its reports and, when `out` is given, writes its records (unsorted). */
export function simulateDramHost(model: FleetModel, host: number, tally: FleetTally | null, out: ErrorBatchBuilder | null): void {
  const { config, topology: t, endHours, windows } = model;
  const rng = streamRng(config.seed, host, DRAM_STREAM);
  const util = utilisationFactor(rng, config.dram);
  const frailty = hostFrailty(rng, config.dram.hostFrailtyShape);
  const rates = readRates(config.reporting, util);
  let weakEcc = 0;

  const faults: Fault[] = [];
  const dimmFaults: Fault[] = [];
  for (let dimm = 0; dimm < t.dimmsPerHost; dimm++) {
    dimmFaults.length = 0;
    model.arrivals.sample(rng, dimm, endHours, util * frailty, dimmFaults);
    if (dimmFaults.length === 0) continue;
    for (const f of dimmFaults) {
      f.uncorrectable = singleFaultUncorrectable(f, t);
      if (!f.uncorrectable && weakenedEccUncorrectable(f, t, config.dram.weakenedEccShare)) {
        f.uncorrectable = true;
        if (f.onset >= 0) weakEcc++;
      }
      faults.push(f);
    }
    // Appended one by one: spreading a long list into push() overflows the call stack.
    if (dimmFaults.length > 1) for (const f of overlapFaults(rng, dimmFaults, t)) faults.push(f);
  }
  faults.forEach((f, i) => (f.id = i));
  const channelSeed = childSeed(rng);
  const channelFaults = channelEventFaults(model, channelSeed, faults.length, frailty);
  for (const f of channelFaults) faults.push(f); // one by one, as above
  const laneFaults = channelLaneFaults(model, channelSeed, nextFaultId(faults), frailty);
  for (const f of laneFaults) faults.push(f);
  if (tally) tally.beginHost(host);
  if (faults.length === 0) {
    tally?.endHost();
    return;
  }

  const plans = faults.map((f) => planReports(f, rates, endHours, windows));
  // A DIMM is replaced some time after its first UE (perhaps before the stream starts): the
  // faults it had by then stop reporting; later ones belong to its replacement.
  const replacedAt = new Float64Array(t.dimmsPerHost).fill(Infinity);
  const replaceAfter = config.reporting.replaceAfterUeHours ?? Infinity;
  for (const p of plans) {
    if (p.fault.uncorrectable && p.fault.cause !== CAUSE_CHANNEL_EVENT && p.first < Infinity) {
      const at = p.first + replaceAfter;
      if (at < replacedAt[p.fault.dimm]) replacedAt[p.fault.dimm] = at;
    }
  }
  for (const p of plans) {
    const f = p.fault;
    const until = f.onset < replacedAt[f.dimm] ? Math.min(endHours, replacedAt[f.dimm]) : endHours;
    countReports(p, until);
    if (!tally) continue;
    // A fault from before the stream counts for its reports, not as an arrival.
    const channel = f.cause === CAUSE_CHANNEL_EVENT || f.cause === CAUSE_CHANNEL_FAULT;
    if (f.onset >= 0) {
      if (f.cause === CAUSE_OVERLAP) tally.overlapFaults++;
      else if (!channel) tally.faultClasses[2 * f.cause + (f.kind === 'transient' ? 0 : 1)]++;
    }
    for (let w = 0; w < windows; w++) tally.addReports(f.dimm, w, p.windowCounts[w], f.uncorrectable, p.first, channel);
  }
  if (tally) {
    tally.channelEvents += new Set(channelFaults.map((f) => f.id)).size;
    tally.channelFaults += new Set(laneFaults.map((f) => f.id)).size;
    tally.weakEccFaults += weakEcc;
    tally.endHost();
  }
  if (out) for (const p of plans) emitReports(p, host, rates, model.mapping, out);
}
