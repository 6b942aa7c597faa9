// Runs a shard plan on worker threads of this process (piscina), or inline with 0 workers.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { SHARD_ENTRIES, type ShardExecutor, type ShardKind, type ShardPlan, type ShardProgress } from './plan.js';
import { ShardTally } from './tally.js';

// Threads load the compiled entries, also when this module runs from src/ under a loader.
const DIST = new URL('../../dist/', import.meta.url);

/** The compiled worker entry of a kind, checked to exist. */
export function shardEntry(kind: ShardKind): string {
  const url = new URL(SHARD_ENTRIES[kind], DIST);
  if (!existsSync(fileURLToPath(url))) throw new Error(`${fileURLToPath(url)} is missing: run npm run build first`);
  return url.href;
}

export interface LocalExecutorOptions {
  /** Worker threads (default: one per core); 0 runs inline on this thread. */
  workers?: number;
  onProgress?: (p: ShardProgress) => void;
}

export function localExecutor(opts: LocalExecutorOptions = {}): ShardExecutor {
  const workers = opts.workers ?? availableParallelism();
  return {
    async run<T, R>(plan: ShardPlan<T, R>, onResult?: (index: number, result: R) => void): Promise<R[]> {
      const tally = new ShardTally(plan, Math.max(1, workers));
      const finished = (i: number, r: R): R => {
        tally.finish(i, r, false);
        onResult?.(i, r);
        opts.onProgress?.({ ...tally.progress });
        return r;
      };
      const entry = shardEntry(plan.kind);
      if (workers === 0) {
        const run = ((await import(entry)) as { default: (task: T) => R | Promise<R> }).default;
        const results: R[] = [];
        for (const [i, job] of plan.jobs.entries()) results.push(finished(i, await run(job.task)));
        return results;
      }
      // The threads run compiled JavaScript: a loader the parent runs under would only slow them.
      const pool = new Piscina({ filename: entry, minThreads: workers, maxThreads: workers, execArgv: [] });
      // One job per thread at a time: after a failure no new job starts, and the pool is
      // destroyed only once the running ones have settled (terminating a thread mid-job can
      // abort the process).
      const results: R[] = new Array(plan.jobs.length);
      let next = 0;
      let failure: { error: unknown } | undefined;
      const serve = async () => {
        while (failure === undefined && next < plan.jobs.length) {
          const i = next++;
          try {
            results[i] = finished(i, (await pool.run(plan.jobs[i]!.task)) as R);
          } catch (error) {
            failure ??= { error: new Error(`shard "${plan.jobs[i]!.label}" failed: ${(error as Error).message ?? String(error)}`) };
          }
        }
      };
      try {
        await Promise.all(Array.from({ length: workers }, serve));
      } finally {
        await pool.destroy();
      }
      if (failure) throw failure.error;
      return results;
    },
  };
}
