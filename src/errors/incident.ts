// The incident shortcut: no DRAM model, UE incidents per host-year, each poisoning
// a number of distinct 4 KiB pages from a mixture: one page; a few pages inside one 2 MiB
// region; many pages spread over a rank; very many spread over a channel. Pages are found by
// the patrol scrubber within one scrub interval, except hot pages, consumed at once and again.
import { FLAG_SCRUB, FLAG_UE, UNKNOWN_DIMM, type ErrorBatchBuilder } from './batch.js';
import type { FleetTally } from './calibration.js';
import type { FleetModel } from './model.js';
import { CAUSE_INCIDENT_BASE, HOURS_PER_YEAR, yearWindow } from './faults.js';
import { exponential, geometric, logUniform, poisson, randomBits, streamRng, uniform, uniformInt, type Rng } from './rng.js';
import { BANKS, COLUMNS, LINE_BYTES } from './topology.js';

const INCIDENT_STREAM = 1;
const PAGE_BYTES = 4096;
const REGION_BYTES = 2 * 1024 * 1024;
const PAGES_PER_REGION = REGION_BYTES / PAGE_BYTES;
const CLASS_PAGE = 0;
const CLASS_REGION = 1;
const CLASS_RANK = 2;

function pickClass(rng: Rng, weights: readonly number[]): number {
  const total = weights.reduce((s, w) => s + w, 0);
  let u = uniform(rng) * total;
  for (let c = 0; c < weights.length - 1; c++) {
    if (u < weights[c]) return c;
    u -= weights[c];
  }
  return weights.length - 1;
}

/** Simulates one host's incidents: tallies them and, when `out` is given, writes their records. */
export function simulateIncidentHost(model: FleetModel, host: number, tally: FleetTally | null, out: ErrorBatchBuilder | null): void {
  const { config, topology: t, mapping, endHours } = model;
  const p = config.incident;
  const rng = streamRng(config.seed, host, INCIDENT_STREAM);
  const incidents = poisson(rng, p.perHostYear * (endHours / HOURS_PER_YEAR));
  tally?.beginHost(host);

  for (let id = 0; id < incidents; id++) {
    const start = uniform(rng) * endHours;
    const cls = pickClass(rng, p.classWeights);
    if (tally) tally.incidentClasses[cls]++;
    const cause = CAUSE_INCIDENT_BASE + cls;
    // The DIMM (and rank) an incident lives on; a channel incident spreads over its channel's DIMMs.
    const dimm = uniformInt(rng, t.dimmsPerHost);
    const rank = uniformInt(rng, t.ranksPerDimm);
    const channelFirstDimm = dimm - (dimm % t.dimmsPerChannel);
    const randomAddress = (onDimm: number, onRank: number) =>
      mapping.physAddr(onDimm, onRank, uniformInt(rng, BANKS), randomBits(rng, t.rows - 1), randomBits(rng, COLUMNS - 1));

    const report = (addr: number, pageDimm: number): void => {
      const hot = uniform(rng) < p.hotShare;
      const consumptions = hot ? geometric(rng, p.hotRepeatsMean) : 1;
      let hours = hot ? start : start + uniform(rng) * config.reporting.scrubHours;
      for (let k = 0; k < consumptions; k++) {
        if (hot) hours += exponential(rng, p.hotGapSeconds) / 3600;
        if (hours >= endHours) return;
        tally?.addReports(-1, yearWindow(hours), 1, true, hours);
        out?.push(hours * 3600, host, addr, FLAG_UE | (hot ? 0 : FLAG_SCRUB), cause, pageDimm, id);
      }
    };

    if (cls === CLASS_PAGE) {
      report(randomAddress(dimm, rank), dimm);
    } else if (cls === CLASS_REGION) {
      const region = Math.floor(randomAddress(dimm, rank) / REGION_BYTES) * REGION_BYTES;
      const pages = new Set<number>();
      const want = Math.min(PAGES_PER_REGION, geometric(rng, p.regionMeanPages));
      while (pages.size < want) pages.add(uniformInt(rng, PAGES_PER_REGION));
      // Pages of one region interleave over channels and DIMMs: the DIMM is not known.
      for (const page of pages) report(region + page * PAGE_BYTES + uniformInt(rng, PAGE_BYTES / LINE_BYTES) * LINE_BYTES, UNKNOWN_DIMM);
    } else {
      const range = cls === CLASS_RANK ? p.rankPages : p.channelPages;
      const pages = Math.round(logUniform(rng, range[0], range[1]));
      for (let i = 0; i < pages; i++) {
        const onDimm = cls === CLASS_RANK ? dimm : channelFirstDimm + uniformInt(rng, t.dimmsPerChannel);
        report(randomAddress(onDimm, cls === CLASS_RANK ? rank : uniformInt(rng, t.ranksPerDimm)), onDimm);
      }
    }
  }
  tally?.endHost();
}
