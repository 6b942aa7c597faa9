// Worker threads in Node: fleets and studies shard hosts over a piscina pool (an optional
// dependency, loaded on first use), one thread per core unless told otherwise.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { importOptional } from '../optional.js';

/** Worker threads a run uses when it is not told: one per core. */
export function defaultWorkerThreads(): number {
  return availableParallelism();
}

/**
 * The pool class, and the file URL of a compiled worker script given by its path in the
 * package ('dist/fleet/worker.js'); it must exist: workers run dist/, never src/.
 */
export async function loadWorkerPool(worker: string): Promise<{ Piscina: typeof import('piscina').Piscina; filename: string }> {
  const script = new URL(`../../../${worker}`, import.meta.url);
  if (!existsSync(script)) throw new Error(`${fileURLToPath(script)} is missing: run npm run build first`);
  const { Piscina } = await importOptional('piscina', 'Running on worker threads (workers: 0 runs on the calling thread without it)', () => import('piscina'));
  return { Piscina, filename: script.href };
}
