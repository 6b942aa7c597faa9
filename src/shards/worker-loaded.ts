// A worker thread tells its pool that its module has finished loading (the Node worker pool,
// src/platform/node/workers.ts, waits for this before it terminates the thread).
import { parentPort } from 'node:worker_threads';

/** The message a worker thread posts once its module is loaded. */
export const WORKER_LOADED = 'mfrsim:worker-loaded';

/** Posts WORKER_LOADED once the module that calls this, and the loader's work on it, are done. */
export function announceWorkerLoaded(): void {
  setImmediate(() => parentPort?.postMessage(WORKER_LOADED));
}
