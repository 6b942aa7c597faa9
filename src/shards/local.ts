// Runs a shard plan on worker threads of this process, or inline with 0 workers.
import { WorkerPool } from '#platform/workers';
import { SHARD_ENTRIES, type ShardExecutor, type ShardKind, type ShardPlan, type ShardProgress } from './plan.js';
import { ShardTally } from './tally.js';
import { workerCount } from './threads.js';

// Threads load the compiled entries, also when this module runs from src/ under a loader.
const DIST = new URL('../../dist/', import.meta.url);

/** The compiled worker entry of a kind (run inline with 0 workers). */
export function shardEntry(kind: ShardKind): string {
  return new URL(SHARD_ENTRIES[kind], DIST).href;
}

export interface LocalExecutorOptions {
  /** Worker threads (default: one per core); 0 runs inline on this thread. */
  workers?: number;
  onProgress?: (p: ShardProgress) => void;
}

/** Runs plans on this process: on worker threads (at most one per core and per job), or inline. */
export function localExecutor(opts: LocalExecutorOptions = {}): ShardExecutor {
  return {
    async run<T, R>(plan: ShardPlan<T, R>, onResult?: (index: number, result: R) => void): Promise<R[]> {
      const workers = workerCount(opts.workers, plan.jobs.length);
      const tally = new ShardTally(plan, Math.max(1, workers));
      const finished = (i: number, r: R): R => {
        tally.finish(i, r, false);
        onResult?.(i, r);
        opts.onProgress?.({ ...tally.progress });
        return r;
      };
      if (workers === 0) {
        const run = ((await import(shardEntry(plan.kind))) as { default: (task: T) => R | Promise<R> }).default;
        const results: R[] = [];
        for (const [i, job] of plan.jobs.entries()) results.push(finished(i, await run(job.task)));
        return results;
      }
      const pool = await WorkerPool.open<T, R>(`dist/${SHARD_ENTRIES[plan.kind]}`, workers);
      // One job per thread at a time: after a failure no new job starts, and the pool is
      // closed only once the running ones have settled (terminating a thread mid-job can
      // abort the process).
      const results: R[] = new Array(plan.jobs.length);
      let next = 0;
      let failure: { error: unknown } | undefined;
      const serve = async () => {
        while (failure === undefined && next < plan.jobs.length) {
          const i = next++;
          try {
            results[i] = finished(i, await pool.run(plan.jobs[i]!.task));
          } catch (error) {
            failure ??= { error: new Error(`shard "${plan.jobs[i]!.label}" failed: ${(error as Error).message ?? String(error)}`) };
          }
        }
      };
      try {
        await Promise.all(Array.from({ length: workers }, serve));
      } finally {
        await pool.close();
      }
      if (failure) throw failure.error;
      return results;
    },
  };
}
