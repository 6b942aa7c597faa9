// The fleet generator: hosts one after the other, each from its own random stream, so any
// range of hosts (a shard) is generated identically wherever it runs, and the record
// sequence does not depend on the batch size. Records are ordered by host, then time; a
// host with more records than memory holds is sorted through a temporary file.
import { ErrorBatchBuilder, type ErrorBatch } from './batch.js';
import { computeCalibration, FleetTally, type CalibrationReport } from './calibration.js';
import { parseGeneratorConfig, type GeneratorConfig, type GeneratorConfigInput } from './config.js';
import { simulateDramHost } from './dram-host.js';
import { HOURS_PER_MONTH, HOURS_PER_YEAR } from './faults.js';
import { TOTAL_FIT_PER_DEVICE } from './fit.js';
import { HostRecordSorter } from './host-sort.js';
import { simulateIncidentHost } from './incident.js';
import { makeFleetModel } from './model.js';
import { makeTopology } from './topology.js';

/** Records per generated batch unless told otherwise. */
export const DEFAULT_BATCH_SIZE = 65536;

/** A contiguous range of the fleet's hosts. */
export interface HostRange {
  /** First host of the range (default 0). */
  firstHost?: number;
  /** Hosts in the range (default: to the end of the fleet). */
  hostCount?: number;
}

/** How `generateErrorBatches` runs: the hosts, the batch size, and what to report back. */
export interface GenerateOptions extends HostRange {
  /** Records per batch (the output does not depend on it). */
  batchSize?: number;
  /** Records of one host sorted in memory at once; more go through a temporary file (the output does not depend on it). */
  sortRunRecords?: number;
  /** Receives the calibration counts of the generated hosts. */
  tally?: FleetTally;
  /** Called after each host with the number of hosts done. */
  onHost?: (done: number) => void;
}

function resolveRange(config: GeneratorConfig, range: HostRange): { first: number; count: number } {
  const first = range.firstHost ?? 0;
  const count = range.hostCount ?? config.hosts - first;
  if (!Number.isInteger(first) || !Number.isInteger(count) || first < 0 || count < 0 || first + count > config.hosts) {
    throw new Error(`host range [${first}, ${first + count}) is outside the fleet of ${config.hosts} hosts`);
  }
  return { first, count };
}

/** A tally ready to receive the given hosts of the fleet. */
export function newFleetTally(config: GeneratorConfig, range: HostRange = {}): FleetTally {
  const { first, count } = resolveRange(config, range);
  return new FleetTally(first, count, makeTopology(config.topology).dimmsPerHost, config.years);
}

/**
 * Mean faults per DIMM (at the top of the utilisation and age factors) beyond which the DRAM
 * model is refused: it holds one host's faults in memory and meets them pairwise, so a
 * DIMM's faults must stay in the hundreds even on a frail DIMM (the frailty's tail is ~30x).
 */
const MAX_MEAN_FAULTS_PER_DIMM = 250;
/** Mean channel events per host over the stream beyond which the DRAM model is refused. */
const MAX_CHANNEL_EVENTS_PER_HOST = 1000;

/** Refuses a DRAM-model configuration whose hosts would not fit in memory, with the numbers. */
function checkDramScale(config: GeneratorConfig): void {
  if (config.mode !== 'dram') return;
  const t = makeTopology(config.topology);
  const p = config.dram;
  const hours = p.fleetAgeMonths[1] * HOURS_PER_MONTH + config.years * HOURS_PER_YEAR;
  const perHour = (TOTAL_FIT_PER_DEVICE * p.fitScale * t.devicesPerRank * t.ranksPerDimm) / 1e9;
  const mean = perHour * p.utilisationClip[1] * Math.max(1, p.ageFactor) * hours;
  if (mean > MAX_MEAN_FAULTS_PER_DIMM) {
    throw new RangeError(
      `the DRAM model at fit scale ${p.fitScale} over ${config.years} years gives about ${Math.round(mean)} faults per DIMM on average at the highest utilisation and age ` +
      `(at most ${MAX_MEAN_FAULTS_PER_DIMM}: a host's faults are held in memory and met pairwise); ` +
      'lower the fit scale or the years, generate more hosts instead, or use the incident model (--mode incident)',
    );
  }
  const channelEvents = p.channelEventsPerHostYear * config.years;
  if (channelEvents > MAX_CHANNEL_EVENTS_PER_HOST) {
    throw new RangeError(
      `the DRAM model at ${p.channelEventsPerHostYear} channel events per host-year over ${config.years} years gives ` +
      `${Math.round(channelEvents)} per host (at most ${MAX_CHANNEL_EVENTS_PER_HOST}: a host's faults are held in memory)`,
    );
  }
}

function hostSimulator(config: GeneratorConfig) {
  checkDramScale(config);
  return config.mode === 'dram' ? simulateDramHost : simulateIncidentHost;
}

/** The records of a range of hosts, in batches of at most batchSize records. */
export function* generateErrorBatches(input: GeneratorConfig | GeneratorConfigInput, opts: GenerateOptions = {}): Generator<ErrorBatch> {
  const config = parseGeneratorConfig(input);
  const model = makeFleetModel(config);
  const simulate = hostSimulator(config);
  const { first, count } = resolveRange(config, opts);
  const batchSize = opts.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batch size must be a positive integer, not ${batchSize}`);
  const hostRecords = new HostRecordSorter(opts.sortRunRecords);
  const out = new ErrorBatchBuilder(batchSize);
  for (let h = first; h < first + count; h++) {
    simulate(model, h, opts.tally ?? null, hostRecords);
    yield* hostRecords.drain(out, batchSize);
    opts.onHost?.(h - first + 1);
  }
  if (out.length > 0) yield out.take();
}

/** Calibration counts of a range of hosts, without producing records (fast: counts are drawn per fault). */
export function tallyFleet(input: GeneratorConfig | GeneratorConfigInput, range: HostRange = {}, onHost?: (done: number) => void): FleetTally {
  const config = parseGeneratorConfig(input);
  const model = makeFleetModel(config);
  const simulate = hostSimulator(config);
  const tally = newFleetTally(config, range);
  for (let h = tally.firstHost; h < tally.firstHost + tally.hostCount; h++) {
    simulate(model, h, tally, null);
    onHost?.(h - tally.firstHost + 1);
  }
  return tally;
}

/** The calibration report of a whole fleet against its profile's published figures. */
export function calibrate(input: GeneratorConfig | GeneratorConfigInput): CalibrationReport {
  const config = parseGeneratorConfig(input);
  return computeCalibration(tallyFleet(config), config);
}
