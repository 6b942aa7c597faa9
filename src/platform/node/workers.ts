// Worker threads in Node: fleets, studies and trace batches run their shards on a piscina
// pool (an optional dependency, loaded on first use), one thread per core unless told
// otherwise. The pool is torn down only once every thread has finished loading its module:
// terminating a thread that is still loading an ES module aborts the whole process in
// Node 20 (a V8 fatal error in ModuleWrap::CreateRequiredModuleFacade, exit 134), which
// dozens of threads on a small fleet made likely.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { importOptional } from '../optional.js';
import { WORKER_LOADED } from '../../shards/worker-loaded.js';

/** Worker threads a run uses when it is not told: one per core. */
export function defaultWorkerThreads(): number {
  return availableParallelism();
}

/** A pool of worker threads running a compiled worker script's default export. */
export class WorkerPool<Task, Result> {
  private readonly settled = new WeakSet<Worker>();
  private readonly watched = new WeakSet<Worker>();
  private waiters: (() => void)[] = [];

  private constructor(private readonly pool: Piscina) {
    this.watch();
    // A thread piscina starts later (to replace one that failed) is watched too.
    this.pool.on('workerCreate', () => this.watch());
  }

  /**
   * `threads` threads running the worker script given by its path in the package
   * ('dist/fleet/worker.js'); it must exist: workers run dist/, never src/.
   */
  static async open<Task, Result>(worker: string, threads: number): Promise<WorkerPool<Task, Result>> {
    const script = new URL(`../../../${worker}`, import.meta.url);
    if (!existsSync(script)) throw new Error(`${fileURLToPath(script)} is missing: run npm run build first`);
    const { Piscina } = await importOptional('piscina', 'Running on worker threads (workers: 0 runs on the calling thread without it)', () => import('piscina'));
    // The workers run compiled JavaScript: a TypeScript loader inherited from the parent
    // (tsx, under tests and benchmarks) would only slow them down. Without atomics an idle
    // thread's event loop keeps running, so it can announce that it has loaded (Atomics.wait
    // would block it until its first task).
    return new WorkerPool(new Piscina({ filename: script.href, minThreads: threads, maxThreads: threads, execArgv: [], atomics: 'disabled' }));
  }

  /** Runs one task on a free thread. */
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
