// Runs a fleet across worker threads: hosts are split into contiguous shards, one kernel
// instance each, sized by the fleet's memory plan (plan.ts). Shards are handed out a few
// at a time and their results merged in host order as they arrive, so totals do not depend
// on the number of workers, and memory depends on the shard size and the worker count, not
// on the number of hosts. An executor (a job queue, src/queue/) may run the shards instead.
import { WorkerPool } from '#platform/workers';
import { sumStats, type HostStats, type SignalRecord } from './shard.js';
import { distinctSpecs, fleetSize, shardOf, type FleetHosts } from './hosts.js';
import { hostsPerShard, largestHostBytes } from './plan.js';
import { runShard, type ShardResult, type ShardTask } from './run.js';
import { workerCount } from '../shards/threads.js';
import { RecoveryTally, type RecoverySummary } from '../costs/recovery-cost.js';
import type { TlbConfig } from '../costs/translation.js';
import type { PoisonSpec, WorkloadSpec } from './workload.js';
import { fleetShardPlan } from './shard-plan.js';
import type { ShardExecutor } from '../shards/plan.js';

/** A fleet run: the hosts, what hits them, and how to spread them over threads. */
export interface FleetRun {
  /** The hosts: a list, or `count` copies of one host (see UniformFleet). */
  hosts: FleetHosts;
  seed: number;
  poison?: PoisonSpec;
  /** An mfrsim error stream whose host h's UEs hit fleet host h before the workload. */
  errors?: string;
  /** Read what an unfinished error stream holds instead of refusing it. */
  salvage?: boolean;
  workload?: WorkloadSpec;
  /** Run the translation cost model on the workload's accesses. */
  translation?: TlbConfig;
  /** Worker threads (default: one per core; at most one per core and per shard); 0 runs inline. */
  workers?: number;
  /** Hosts per shard (default: an even split over the workers, capped by the memory plan). */
  hostsPerShard?: number;
  /** Events per replay call (results do not depend on it). */
  batch?: number;
  /** Signals kept in the merged signal log (default 10,000); the rest are counted. */
  signalLogCapacity?: number;
  /** Keep every host's figures in `perHost` (default true; false keeps memory flat). */
  keepPerHost?: boolean;
  /** Receives every host's figures in host order, as their shard is merged. */
  onHost?: (fleetHost: number, stats: HostStats) => void;
  /** Called as shards finish. */
  onShardDone?: (done: number, total: number) => void;
  /** Hears about adjustments to the request, e.g. fewer workers than asked for. */
  onNotice?: (message: string) => void;
  /** Runs the shards elsewhere (a job queue, src/queue/) instead of on this process's threads. */
  executor?: ShardExecutor;
}

/** A fleet run's figures: per host in fleet order, totals, signals and recovery costs. */
export interface FleetResult {
  /** Every host's figures (empty when keepPerHost is false). */
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
  /** Worker threads that ran the shards (0: inline or elsewhere), and the shard size. */
  workers: number;
  hostsPerShard: number;
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
/** Shards handed out per worker ahead of the oldest unmerged one. */
const SHARDS_IN_FLIGHT_PER_WORKER = 2;

// Workers load the compiled worker, also when this module runs from src/ under a loader.
const WORKER = 'dist/fleet/worker.js';

/**
 * Runs a fleet in host shards, on worker threads in Node (piscina) or on the calling thread
 * (workers: 0, and always in a browser); results do not depend on the split.
 */
export async function runFleet(run: FleetRun): Promise<FleetResult> {
  const hostCount = fleetSize(run.hosts);
  const perHostBytes = largestHostBytes(distinctSpecs(run.hosts), { translation: run.translation, poisonFraction: run.poison?.fraction });
  // The shard size splits the fleet evenly over the threads it can use (within the plan).
  const threads = run.workers === 0 ? 1 : Math.max(1, workerCount(run.workers, hostCount));
  const per = hostsPerShard(hostCount, perHostBytes, threads, run.hostsPerShard);
  const shards = Math.ceil(hostCount / per);
  const workers = run.executor ? 0 : workerCount(run.workers, shards, run.onNotice);
  const capacity = run.signalLogCapacity ?? DEFAULT_SIGNAL_LOG;
  const task = (index: number): ShardTask => {
    const first = index * per;
    return {
      hosts: shardOf(run.hosts, first, Math.min(per, hostCount - first)), firstHost: first, seed: run.seed,
      poison: run.poison, errors: run.errors, salvage: run.salvage, workload: run.workload, translation: run.translation, batch: run.batch,
      signalLogCapacity: capacity,
    };
  };

  const start = performance.now();
  const merged = new FleetMerge(capacity, run.keepPerHost !== false, run.onHost);
  const finished = (r: ShardResult) => {
    merged.add(r);
    run.onShardDone?.(merged.shards, shards);
  };
  if (run.executor) {
    const tasks = Array.from({ length: shards }, (_, i) => task(i));
    const results = await run.executor.run(fleetShardPlan(run, tasks));
    for (const r of results) finished(r);
  } else if (workers === 0) {
    for (let i = 0; i < shards; i++) finished(await runShard(task(i)));
  } else {
    const pool = await WorkerPool.open<ShardTask, ShardResult>(WORKER, workers);
    try {
      await inOrder(shards, workers * SHARDS_IN_FLIGHT_PER_WORKER, (i) => pool.run(task(i)), finished);
    } finally {
      await pool.close();
    }
  }
  return { ...merged.result(), wallSeconds: (performance.now() - start) / 1000, workers, hostsPerShard: per };
}

/**
 * Runs jobs [0, count) with at most `window` started past the first unfinished one and
 * hands their results to `consume` in index order.
 */
async function inOrder<R>(count: number, window: number, job: (i: number) => Promise<R>, consume: (r: R) => void): Promise<void> {
  const done = new Map<number, R>();
  let next = 0;
  let started = 0;
  await new Promise<void>((resolve, reject) => {
    let failed = false;
    const startMore = () => {
      while (!failed && started < count && started < next + window) {
        const i = started++;
        job(i).then((r) => {
          done.set(i, r);
          for (; done.has(next); next++) {
            consume(done.get(next)!);
            done.delete(next);
          }
          if (next === count) resolve();
          else startMore();
        }).catch((err: unknown) => {
          failed = true;
          reject(err);
        });
      }
    };
    if (count === 0) resolve();
    else startMore();
  });
}

/**
 * Shard results merged in host order. The signal log keeps the first signals in host
 * order: each shard kept its own first ones, so the merged prefix is the same for any split.
 */
class FleetMerge {
  shards = 0;
  private readonly perHost: HostStats[] = [];
  private total = sumStats([]);
  private readonly signalLog: SignalRecord[] = [];
  private signalsDropped = 0;
  private heapBytes = 0;
  private readonly recovery = new RecoveryTally();
  private streamRecords = 0;
  private readonly errors = { applied: 0, corrected: 0, outsidePools: 0 };

  constructor(
    private readonly capacity: number,
    private readonly keepPerHost: boolean,
    private readonly onHost?: (fleetHost: number, stats: HostStats) => void,
  ) {}

  add(r: ShardResult): void {
    this.shards++;
    this.total = sumStats([this.total, ...r.hosts]);
    r.hosts.forEach((s, i) => this.onHost?.(r.firstHost + i, s));
    if (this.keepPerHost) for (const s of r.hosts) this.perHost.push(s);
    this.signalsDropped += r.signalsDropped;
    for (const s of r.signalLog) {
      if (this.signalLog.length < this.capacity) this.signalLog.push(s);
      else this.signalsDropped++;
    }
    this.heapBytes += r.heapBytes;
    this.recovery.merge(r.recovery);
    // Every shard reads the whole stream, and counts the records of its own hosts.
    this.streamRecords = r.errors.streamRecords;
    this.errors.applied += r.errors.applied;
    this.errors.corrected += r.errors.corrected;
    this.errors.outsidePools += r.errors.outsidePools;
  }

  result(): Omit<FleetResult, 'wallSeconds' | 'workers' | 'hostsPerShard'> {
    const { applied, corrected, outsidePools } = this.errors;
    return {
      errors: { records: this.streamRecords, applied, corrected, outsidePools, outsideFleet: this.streamRecords - applied - corrected - outsidePools },
      recovery: this.recovery.summary(),
      perHost: this.perHost,
      total: this.total,
      signalLog: this.signalLog,
      signalsDropped: this.signalsDropped,
      heapBytes: this.heapBytes,
    };
  }
}
