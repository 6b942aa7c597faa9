// How many worker threads a run of shards gets: never more than the cores (more threads only
// add memory and contention) nor the shards (the rest would idle), with a notice when the
// caller asked for more. Where there are no worker threads (browsers) runs are inline.
import { defaultWorkerThreads } from '#platform/workers';

/**
 * Worker threads for `shards` shards: `requested` (default: one per core), at most one per
 * core and one per shard; 0 runs inline. `onNotice` hears when fewer than requested run.
 */
export function workerCount(requested: number | undefined, shards: number, onNotice?: (message: string) => void): number {
  if (requested !== undefined && (!Number.isSafeInteger(requested) || requested < 0)) {
    throw new RangeError(`workers must be a non-negative integer, got ${requested}`);
  }
  const cores = defaultWorkerThreads();
  if (requested === 0 || (requested === undefined && cores === 0)) return 0;
  const n = Math.max(1, Math.min(requested ?? cores, Math.max(cores, 1), shards));
  if (requested !== undefined && requested > n) {
    const why = requested > cores ? `${cores} core${cores === 1 ? '' : 's'}` : `${shards} shard${shards === 1 ? '' : 's'}`;
    onNotice?.(`${requested} workers requested: running ${n} (one per ${requested > cores ? 'core' : 'shard'}: ${why})`);
  }
  return n;
}
