// Runs a fleet across worker threads: hosts are split into contiguous shards, one kernel
// instance each; per-host results come back in host order, so totals do not depend on the
// number of workers.
import { defaultWorkerThreads, loadWorkerPool } from '#platform/workers';
import { sumStats, type HostSpec, type HostStats, type SignalRecord } from './shard.js';
import { runShard, type ShardResult, type ShardTask } from './run.js';
import { RecoveryTally, type RecoverySummary } from '../costs/recovery-cost.js';
import type { TlbConfig } from '../costs/translation.js';
import type { PoisonSpec, WorkloadSpec } from './workload.js';
import { fleetShardPlan } from './shard-plan.js';
import type { ShardExecutor } from '../shards/plan.js';

/** A fleet run: the hosts, what hits them, and how to spread them over threads. */
export interface FleetRun {
  hosts: HostSpec[];
  seed: number;
  poison?: PoisonSpec;
  /** An mfrsim error stream whose host h's UEs hit fleet host h before the workload. */
  errors?: string;
  /** Read what an unfinished error stream holds instead of refusing it. */
  salvage?: boolean;
  workload?: WorkloadSpec;
  /** Run the translation cost model on the workload's accesses. */
  translation?: TlbConfig;
  /** Worker threads (default: one per core); 0 runs inline on this thread. */
  workers?: number;
  /** Hosts per shard (default: an even split over the workers). */
  hostsPerShard?: number;
  batch?: number;
  /** Signals kept in the merged signal log (default 10,000); the rest are counted. */
  signalLogCapacity?: number;
  /** Called as shards finish. */
  onShardDone?: (done: number, total: number) => void;
  /** Runs the shards elsewhere (a job queue, src/queue/) instead of on this process's threads. */
  executor?: ShardExecutor;
}

/** A fleet run's figures: per host in fleet order, totals, signals and recovery costs. */
export interface FleetResult {
  perHost: HostStats[];
  total: HostStats;
  signalLog: SignalRecord[];
  signalsDropped: number;
  heapBytes: number;
  wallSeconds: number;
  /** Latencies and work of every recovery event in the fleet (the recovery cost model). */
  recovery: RecoverySummary;
  /** What became of the error stream's records, each in one category (all 0 without one). */
  errors: FleetErrorOutcomes;
}

/** What became of a fleet's error-stream records: the categories sum to `records`. */
export interface FleetErrorOutcomes {
  /** Records in the stream. */
  records: number;
  /** UEs inside their host's pools, applied. */
  applied: number;
  /** CEs, skipped. */
  corrected: number;
  /** UEs outside their host's pools. */
  outsidePools: number;
  /** Records of stream hosts the fleet does not have. */
  outsideFleet: number;
}

const DEFAULT_SIGNAL_LOG = 10_000;

// Workers load the compiled worker, also when this module runs from src/ under a loader.
const WORKER = 'dist/fleet/worker.js';

/**
 * Runs a fleet in host shards, on worker threads in Node (piscina) or on the calling thread
 * (workers: 0, and always in a browser); results do not depend on the split.
 */
export async function runFleet(run: FleetRun): Promise<FleetResult> {
  const workers = run.workers ?? defaultWorkerThreads();
  const per = run.hostsPerShard ?? Math.max(1, Math.ceil(run.hosts.length / Math.max(1, workers)));
  const tasks: ShardTask[] = [];
  for (let first = 0; first < run.hosts.length; first += per) {
    tasks.push({
      hosts: run.hosts.slice(first, first + per), firstHost: first, seed: run.seed,
      poison: run.poison, errors: run.errors, salvage: run.salvage, workload: run.workload, translation: run.translation, batch: run.batch,
      signalLogCapacity: run.signalLogCapacity ?? DEFAULT_SIGNAL_LOG,
    });
  }
  const start = performance.now();
  let done = 0;
  const finished = (r: ShardResult) => {
    run.onShardDone?.(++done, tasks.length);
    return r;
  };
  let results: ShardResult[];
  if (run.executor) {
    results = await run.executor.run(fleetShardPlan(run, tasks), (_, r) => finished(r));
  } else if (workers === 0) {
    results = [];
    for (const t of tasks) results.push(finished(await runShard(t)));
  } else {
    // Workers run the compiled worker: a loader the parent runs under would only slow them.
    const { Piscina, filename } = await loadWorkerPool(WORKER);
    const pool = new Piscina({ filename, minThreads: workers, maxThreads: workers, execArgv: [] });
    try {
      results = await Promise.all(tasks.map((t) => pool.run(t).then(finished)));
    } finally {
      await pool.destroy();
    }
  }
  results.sort((a, b) => a.firstHost - b.firstHost);
  const perHost = results.flatMap((r) => r.hosts);
  // The first signals in host order, whatever the sharding: each shard kept its own first
  // ones, so the merged prefix is the same for any split.
  const capacity = run.signalLogCapacity ?? DEFAULT_SIGNAL_LOG;
  const merged = results.flatMap((r) => r.signalLog);
  const recovery = new RecoveryTally();
  for (const r of results) recovery.merge(r.recovery);
  const sum = (f: (r: ShardResult) => number) => results.reduce((n, r) => n + f(r), 0);
  const records = results[0]?.errors.streamRecords ?? 0;
  const errors: FleetErrorOutcomes = {
    records,
    applied: sum((r) => r.errors.applied),
    corrected: sum((r) => r.errors.corrected),
    outsidePools: sum((r) => r.errors.outsidePools),
    outsideFleet: records - sum((r) => r.errors.applied + r.errors.corrected + r.errors.outsidePools),
  };
  return {
    errors,
    recovery: recovery.summary(),
    perHost,
    total: sumStats(perHost),
    signalLog: merged.slice(0, capacity),
    signalsDropped: results.reduce((n, r) => n + r.signalsDropped, 0) + Math.max(0, merged.length - capacity),
    heapBytes: results.reduce((n, r) => n + r.heapBytes, 0),
    wallSeconds: (performance.now() - start) / 1000,
  };
}
