// The seam between the runners (study, fleet replay, trace batch) and where their shards run.
// A runner turns its work into a plan of shard jobs, each a pure function of its task, and
// merges the results in plan order; an executor runs the plan on worker threads here
// (local.ts) or on a Redis-backed job queue (src/queue/), with the same results.

/** What a shard job computes; each kind names the worker entry that runs its task. */
export type ShardKind = 'study' | 'fleet' | 'trace';

/** The compiled worker entry of each kind, relative to dist/ (loaded by piscina). */
export const SHARD_ENTRIES: Record<ShardKind, string> = {
  study: 'study/worker.js',
  fleet: 'fleet/worker.js',
  trace: 'fleet/trace-worker.js',
};

/** One shard of a plan: where it sits, its task, and its share of the work. */
export interface ShardJob<T> {
  /**
   * Where the shard sits in its run: the policy run, the host range, the trace (and later
   * the replicate seed). With the plan's identity it names the job: equal keys of equal
   * plans are the same work.
   */
  key: Record<string, string | number>;
  /** The shard in words, for progress and error messages ("keep hosts 0-124"). */
  label: string;
  /** The input of the kind's shard function. */
  task: T;
  /** Its share of the plan's work, in any unit common to the plan (for the ETA). */
  weight: number;
}

/** A run's work as shard jobs of one kind, with what their results depend on. */
export interface ShardPlan<T, R> {
  kind: ShardKind;
  /**
   * Everything the results depend on besides the keys and the input files' contents: the
   * resolved scenario or fleet, the error stream's digest. Plain JSON data.
   */
  identity: unknown;
  /**
   * Files the tasks read, as the tasks name them; a queue checks and digests them before
   * enqueuing anything, and workers read them by path or from a copy carried in the job.
   */
  files: string[];
  jobs: ShardJob<T>[];
  /** What `measure` counts ("host-years", "events"), for the rate. */
  unit: string;
  /** The work a finished shard did, in `unit`. */
  measure: (result: R) => number;
}

/** Where a plan's jobs stand, after every finished job. */
export interface ShardProgress {
  done: number;
  total: number;
  /** Jobs whose results an earlier attempt at the same run left behind. */
  reused: number;
  /** Weight of the finished jobs, of those among them reused, and of the whole plan (for the ETA). */
  doneWeight: number;
  reusedWeight: number;
  totalWeight: number;
  /** Work done by the jobs that ran in this attempt, in the plan's unit (for the rate). */
  measured: number;
  unit: string;
  /** Workers serving the plan (threads here, or processes connected to the queue). */
  workers: number;
}

/** Runs shard plans: on worker threads here, or on a Redis job queue. */
export interface ShardExecutor {
  /** Runs every job of the plan; the results come back in plan order. */
  run<T, R>(plan: ShardPlan<T, R>, onResult?: (index: number, result: R) => void): Promise<R[]>;
}
