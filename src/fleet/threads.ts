// Worker threads for fleet shards and studies. How many: never more than the cores (more
// threads only add memory and contention) nor the shards (the rest would idle), with a
// notice when the caller asked for more. And a piscina pool that is torn down only once
// every thread has finished loading its module: terminating a thread that is still
// loading an ES module aborts the whole process in Node 20 (a V8 fatal error in
// ModuleWrap::CreateRequiredModuleFacade, exit 134), which dozens of threads on a small
// fleet made likely.
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { WORKER_LOADED } from './worker-loaded.js';

/**
 * Worker threads for `shards` shards: `requested` (default: one per core), at most one per
 * core and one per shard; 0 runs inline. `onNotice` hears when fewer than requested run.
 */
export function workerCount(requested: number | undefined, shards: number, onNotice?: (message: string) => void): number {
  if (requested !== undefined && (!Number.isSafeInteger(requested) || requested < 0)) {
    throw new RangeError(`workers must be a non-negative integer, got ${requested}`);
  }
  if (requested === 0) return 0;
  const cores = availableParallelism();
  const n = Math.max(1, Math.min(requested ?? cores, cores, shards));
  if (requested !== undefined && requested > n) {
    const why = requested > cores ? `${cores} core${cores === 1 ? '' : 's'}` : `${shards} shard${shards === 1 ? '' : 's'}`;
    onNotice?.(`${requested} workers requested: running ${n} (one per ${requested > cores ? 'core' : 'shard'}: ${why})`);
  }
  return n;
}

/** A pool of `threads` workers running `filename`'s default export. */
export class WorkerPool<Task, Result> {
  private readonly pool: Piscina;
  private readonly settled = new WeakSet<Worker>();
  private readonly watched = new WeakSet<Worker>();
  private waiters: (() => void)[] = [];

  constructor(filename: string, threads: number) {
    // The workers run compiled JavaScript: a TypeScript loader inherited from the parent
    // (tsx, under tests and benchmarks) would only slow them down.
    // Without atomics an idle thread's event loop keeps running, so it can announce that it
    // has loaded (Atomics.wait would block it until its first task).
    this.pool = new Piscina({ filename, minThreads: threads, maxThreads: threads, execArgv: [], atomics: 'disabled' });
    this.watch();
    // A thread piscina starts later (to replace one that failed) is watched too.
    this.pool.on('workerCreate', () => this.watch());
  }

  run(task: Task): Promise<Result> {
    return this.pool.run(task) as Promise<Result>;
  }

  /** Destroys the pool once every thread has loaded its module (or exited). */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      const check = () => {
        if (this.pool.threads.every((w) => this.settled.has(w))) resolve();
        else this.waiters.push(check);
      };
      check();
    });
    await this.pool.destroy();
  }

  private watch(): void {
    for (const w of this.pool.threads) {
      if (this.watched.has(w)) continue;
      this.watched.add(w);
      const settle = () => {
        this.settled.add(w);
        const waiting = this.waiters;
        this.waiters = [];
        for (const f of waiting) f();
      };
      w.on('message', (m: unknown) => {
        if (m === WORKER_LOADED) settle();
      });
      w.once('exit', settle);
    }
  }
}
