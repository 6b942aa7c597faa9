// Worker threads in a browser: none; fleets and studies run their shards on the calling
// thread, one after another (workers: 0), which is also the default there.
import type * as Node from '../node/workers.js';

export const defaultWorkerThreads: typeof Node.defaultWorkerThreads = () => 0;

export const WorkerPool = {
  open: () => Promise.reject(new Error('worker threads are Node-only: in a browser, fleets and studies run on the calling thread (workers: 0)')),
} as unknown as typeof Node.WorkerPool;
