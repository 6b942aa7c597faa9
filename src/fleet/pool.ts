// Runs a fleet across worker threads: hosts are split into contiguous shards, one kernel
// instance each, sized by the fleet's memory plan (plan.ts). Shards are handed out a few
// at a time and their results merged in host order as they arrive, so totals do not depend
// on the number of workers, and memory depends on the shard size and the worker count, not
// on the number of hosts.
import { sumStats, type HostStats, type SignalRecord } from './shard.js';
import { distinctSpecs, fleetSize, shardOf, type FleetHosts } from './hosts.js';
import { hostsPerShard, largestHostBytes } from './plan.js';
import { runShard, type ShardResult, type ShardTask } from './run.js';
import { WorkerPool, workerCount } from './threads.js';
import { RecoveryTally, type RecoverySummary } from '../costs/recovery-cost.js';
import type { TlbConfig } from '../costs/translation.js';
import type { PoisonSpec, WorkloadSpec } from './workload.js';

export interface FleetRun {
  /** The hosts: a list, or `count` copies of one host (see UniformFleet). */
  hosts: FleetHosts;
  seed: number;
  poison?: PoisonSpec;
  /** An mfrsim error stream whose host h's UEs hit fleet host h before the workload. */
  errors?: string;
  workload?: WorkloadSpec;
  /** Run the translation cost model on the workload's accesses. */
  translation?: TlbConfig;
  /** Worker threads (default: one per core; at most one per core and per shard); 0 runs inline. */
  workers?: number;
  /** Hosts per shard (default: an even split over the workers, capped by the memory plan). */
  hostsPerShard?: number;
  batch?: number;
  /** Signals kept in the merged signal log (default 10,000); the rest are counted. */
  signalLogCapacity?: number;
  /** Keep every host's figures in `perHost` (default true; false keeps memory flat). */
  keepPerHost?: boolean;
  /** Receives every host's figures in host order, as their shard is merged. */
  onHost?: (fleetHost: number, stats: HostStats) => void;
  onShardDone?: (done: number, total: number) => void;
  /** Hears about adjustments to the request, e.g. fewer workers than asked for. */
  onNotice?: (message: string) => void;
}

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
  /** Worker threads that ran the shards (0: inline), and the shard size. */
  workers: number;
  hostsPerShard: number;
}

const DEFAULT_SIGNAL_LOG = 10_000;
/** Shards handed out per worker ahead of the oldest unmerged one. */
const SHARDS_IN_FLIGHT_PER_WORKER = 2;

// Workers load the compiled worker, also when this module runs from src/ under a loader.
const WORKER = new URL('../../dist/fleet/worker.js', import.meta.url).href;

export async function runFleet(run: FleetRun): Promise<FleetResult> {
  const hostCount = fleetSize(run.hosts);
  const perHostBytes = largestHostBytes(distinctSpecs(run.hosts), { translation: run.translation, poisonFraction: run.poison?.fraction });
  // The shard size splits the fleet evenly over the threads it can use (within the plan).
  const threads = run.workers === 0 ? 1 : workerCount(run.workers, hostCount);
  const per = hostsPerShard(hostCount, perHostBytes, threads, run.hostsPerShard);
  const shards = Math.ceil(hostCount / per);
  const workers = run.workers === 0 ? 0 : workerCount(run.workers, shards, run.onNotice);
  const capacity = run.signalLogCapacity ?? DEFAULT_SIGNAL_LOG;
  const task = (index: number): ShardTask => {
    const first = index * per;
    return {
      hosts: shardOf(run.hosts, first, Math.min(per, hostCount - first)), firstHost: first, seed: run.seed,
      poison: run.poison, errors: run.errors, workload: run.workload, translation: run.translation, batch: run.batch,
      signalLogCapacity: capacity,
    };
  };

  const start = performance.now();
  const merged = new FleetMerge(capacity, run.keepPerHost !== false, run.onHost);
  const finished = (r: ShardResult) => {
    merged.add(r);
    run.onShardDone?.(merged.shards, shards);
  };
  if (workers === 0) {
    for (let i = 0; i < shards; i++) finished(await runShard(task(i)));
  } else {
    const pool = new WorkerPool<ShardTask, ShardResult>(WORKER, workers);
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
  }

  result(): Omit<FleetResult, 'wallSeconds' | 'workers' | 'hostsPerShard'> {
    return {
      recovery: this.recovery.summary(),
      perHost: this.perHost,
      total: this.total,
      signalLog: this.signalLog,
      signalsDropped: this.signalsDropped,
      heapBytes: this.heapBytes,
    };
  }
}
