// The fleet generator: hosts one after the other, each from its own random stream, so any
// range of hosts (a shard) is generated identically wherever it runs, and the record
// sequence does not depend on the batch size. Records are ordered by host, then time.
import { ErrorBatchBuilder, timeOrder, type ErrorBatch } from './batch.js';
import { computeCalibration, FleetTally, type CalibrationReport } from './calibration.js';
import { parseGeneratorConfig, type GeneratorConfig, type GeneratorConfigInput } from './config.js';
import { simulateDramHost } from './dram-host.js';
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

function hostSimulator(config: GeneratorConfig) {
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
  const hostRecords = new ErrorBatchBuilder(1024);
  const out = new ErrorBatchBuilder(batchSize);
  for (let h = first; h < first + count; h++) {
    hostRecords.clear();
    simulate(model, h, opts.tally ?? null, hostRecords);
    const records = hostRecords.view();
    const order = timeOrder(records.time);
    for (let i = 0; i < records.length; i++) {
      out.pushFrom(records, order ? order[i] : i);
      if (out.length === batchSize) yield out.take();
    }
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
