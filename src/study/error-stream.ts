// The one error stream every policy of a study replays: generated from the scenario (the
// fleet's shape, seed and duration) or read from an mfrsim stream file, reduced to the UEs
// that hit the fleet within the study, ordered by host and time.
import { ErrorBatchBuilder, FLAG_UE, type ErrorBatch } from '../errors/batch.js';
import { parseGeneratorConfig, type GeneratorConfig } from '../errors/config.js';
import { STREAM_WALL_CLOCK } from '../errors/stream-flags.js';
import { readErrorStream, readErrorStreamHeader } from '#platform/files';
import { generateErrorBatches } from '../errors/generator.js';
import type { Scenario } from './scenario.js';

/** Where the simulator's HugeTLB pools start in every host's physical address space. */
export const POOL_PHYS_BASE = 2 ** 32;

/** UEs as columns, ordered by host, then time (seconds from the start of the study). */
export interface StudyUes {
  readonly length: number;
  readonly host: Uint32Array;
  readonly time: Float64Array;
  readonly phys: Float64Array;
  /** The stream's record flags (FLAG_SCRUB: found by the patrol scrubber, else consumed). */
  readonly flags: Uint8Array;
}

/** Where a study's error stream came from and what it held. */
export interface StreamSummary {
  /** "generated (dram mode, seed 7)" or the stream file. */
  source: string;
  records: number;
  corrected: number;
  /** UEs of stream hosts the fleet does not have. */
  beyondFleet: number;
  /** UEs after the study's end. */
  beyondDuration: number;
  /** UEs replayed against the fleet (in or outside the pools). */
  ues: number;
  hostsWithUes: number;
}

/** The generator's configuration for a scenario that generates its stream: its fleet, seed and duration. */
function generatorConfigFor(s: Scenario): GeneratorConfig {
  return parseGeneratorConfig({
    ...s.errors.generate,
    seed: s.seed,
    hosts: s.fleet.hosts,
    years: s.years,
    topology: s.fleet.memory,
    physBase: POOL_PHYS_BASE,
  });
}

export async function loadStudyErrors(s: Scenario, durationSeconds: number): Promise<{ ues: StudyUes; summary: StreamSummary }> {
  let batches: Iterable<ErrorBatch> | AsyncIterable<ErrorBatch>;
  let source: string;
  let wallClock = false;
  const file = s.errors.file;
  if (file === undefined) {
    const config = generatorConfigFor(s);
    batches = generateErrorBatches(config);
    source = `generated (${config.mode} mode, seed ${config.seed})`;
  } else {
    wallClock = ((await readErrorStreamHeader(file)).flags & STREAM_WALL_CLOCK) !== 0;
    batches = readErrorStream(file);
    source = file;
  }
  const kept = new ErrorBatchBuilder(1 << 12);
  const summary: StreamSummary = { source, records: 0, corrected: 0, beyondFleet: 0, beyondDuration: 0, ues: 0, hostsWithUes: 0 };
  for await (const b of batches) {
    summary.records += b.length;
    for (let i = 0; i < b.length; i++) {
      if ((b.flags[i]! & FLAG_UE) === 0) summary.corrected++;
      else if (b.host[i]! >= s.fleet.hosts) summary.beyondFleet++;
      else kept.pushFrom(b, i);
    }
  }
  const all = kept.view();
  // Imported logs carry Unix times: the study starts at the first UE.
  const start = wallClock && all.length > 0 ? all.time.reduce((m, t) => Math.min(m, t), Infinity) : 0;
  const order = hostTimeOrder(all);
  const inStudy = order.filter((i) => all.time[i]! - start < durationSeconds);
  summary.beyondDuration = order.length - inStudy.length;
  summary.ues = inStudy.length;
  const ues: StudyUes = {
    length: inStudy.length,
    host: Uint32Array.from(inStudy, (i) => all.host[i]!),
    time: Float64Array.from(inStudy, (i) => all.time[i]! - start),
    phys: Float64Array.from(inStudy, (i) => all.physAddr[i]!),
    flags: Uint8Array.from(inStudy, (i) => all.flags[i]!),
  };
  summary.hostsWithUes = new Set(ues.host).size;
  return { ues, summary };
}

/** Record indices ordered by host, then time (stable); generated streams already are. */
function hostTimeOrder(b: ErrorBatch): number[] {
  const order = Array.from({ length: b.length }, (_, i) => i);
  return order.sort((x, y) => b.host[x]! - b.host[y]! || b.time[x]! - b.time[y]! || x - y);
}

/** The UEs of hosts [first, first + count), as copies (they travel to a worker). */
export function uesOfHosts(ues: StudyUes, first: number, count: number): StudyUes {
  const lo = lowerBound(ues.host, first);
  const hi = lowerBound(ues.host, first + count);
  return {
    length: hi - lo,
    host: ues.host.slice(lo, hi),
    time: ues.time.slice(lo, hi),
    phys: ues.phys.slice(lo, hi),
    flags: ues.flags.slice(lo, hi),
  };
}

function lowerBound(sorted: Uint32Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** No UEs: the error-free baseline run. */
export const NO_UES: StudyUes = { length: 0, host: new Uint32Array(0), time: new Float64Array(0), phys: new Float64Array(0), flags: new Uint8Array(0) };
