// A worker thread tells its pool that its module has finished loading (src/fleet/threads.ts
// waits for this before it terminates the thread).
import { parentPort } from 'node:worker_threads';

export const WORKER_LOADED = 'mfrsim:worker-loaded';

/** Posts WORKER_LOADED once the module that calls this, and the loader's work on it, are done. */
export function announceWorkerLoaded(): void {
  setImmediate(() => parentPort?.postMessage(WORKER_LOADED));
}
