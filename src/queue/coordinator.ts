// Runs a shard plan on the Redis job queue: checks and digests the input files, names every
// job by content digest, reuses the results an earlier attempt at the same run left in
// Redis, enqueues the rest, and collects results as workers write them, in plan order. A
// job that fails after its retries fails the run with the shard and reason named.
import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { decode, encode } from './codec.js';
import { probeRedis, redisClient } from './connection.js';
import { parseRedisUrl, type RedisTarget } from './url.js';
import { digestFile, doneKey, jobId, KEY_PREFIX, MFRSIM_VERSION, QUEUE_NAME, resultsKey, runDigest, type JobFile, type ShardJobData } from './job.js';
import type { ShardExecutor, ShardPlan, ShardProgress } from '../shards/plan.js';
import { ShardTally } from '../shards/tally.js';

export interface QueueExecutorOptions {
  /** Tries per job before the run fails (default 3). */
  attempts?: number;
  /** Seconds shard results stay in Redis after the last one is written (default 7 days). */
  resultsTtl?: number;
  /** Input files up to this many bytes travel inside the jobs; larger ones by path (default 1 MiB). */
  inlineBytes?: number;
  /** The version jobs require of workers (default: this package's). */
  version?: string;
  /** How often Redis is asked about the run's jobs, in ms (default 500). */
  pollMs?: number;
  onProgress?: (p: ShardProgress) => void;
  /** One-line notices: resumed shards, no worker connected. */
  log?: (line: string) => void;
}

export const DEFAULT_RESULTS_TTL = 7 * 24 * 3600;
const DEFAULT_INLINE_BYTES = 1 << 20;
const ADD_CHUNK = 500;
/** Job states of a job no worker holds. */
const WITHDRAWABLE = new Set(['waiting', 'delayed', 'prioritized', 'waiting-children']);

/** Figures of the last run, for benchmarks and messages. */
export interface QueueRunStats {
  run: string;
  jobs: number;
  reused: number;
  /** Encoded result bytes per job, in plan order. */
  resultBytes: number[];
  /** Bytes of job data enqueued per job that ran in this attempt. */
  jobBytes: number[];
}

export class QueueExecutor implements ShardExecutor {
  /** Checks the URL and the server (fails in seconds) before anything is enqueued. */
  static async connect(url: string, opts: QueueExecutorOptions = {}): Promise<QueueExecutor> {
    const target = parseRedisUrl(url);
    await probeRedis(target);
    return new QueueExecutor(target, opts);
  }

  readonly target: RedisTarget;
  lastRun: QueueRunStats | undefined;
  private readonly opts: Required<Omit<QueueExecutorOptions, 'onProgress' | 'log'>> & Pick<QueueExecutorOptions, 'onProgress' | 'log'>;
  private readonly client: Redis;
  private readonly queue: Queue;
  private readonly finishedRuns: string[] = [];

  private constructor(target: RedisTarget, opts: QueueExecutorOptions) {
    this.target = target;
    this.opts = {
      attempts: opts.attempts ?? 3,
      resultsTtl: opts.resultsTtl ?? DEFAULT_RESULTS_TTL,
      inlineBytes: opts.inlineBytes ?? DEFAULT_INLINE_BYTES,
      version: opts.version ?? MFRSIM_VERSION,
      pollMs: opts.pollMs ?? 500,
      onProgress: opts.onProgress,
      log: opts.log,
    };
    this.client = redisClient(target, 'mfrsim-coordinator');
    this.queue = new Queue(QUEUE_NAME, { connection: this.client, prefix: KEY_PREFIX });
  }

  async run<T, R>(plan: ShardPlan<T, R>, onResult?: (index: number, result: R) => void): Promise<R[]> {
    const files = await this.readFiles(plan.files);
    const run = runDigest(this.opts.version, plan.kind, plan.identity, files);
    const ids = plan.jobs.map((j) => jobId(run, j.key));
    const index = new Map(ids.map((id, i) => [id, i]));
    if (index.size !== ids.length) throw new Error('two shards of the plan have the same key');
    const key = resultsKey(run);
    const results: R[] = new Array(ids.length);
    const stats: QueueRunStats = { run, jobs: ids.length, reused: 0, resultBytes: new Array(ids.length).fill(0), jobBytes: [] };
    this.lastRun = stats;
    const tally = new ShardTally(plan, 0);
    const progress = tally.progress;
    const pending = new Set(ids);
    const take = (id: string, text: string, reused: boolean) => {
      const i = index.get(id);
      if (i === undefined || !pending.delete(id)) return;
      const r = decode<R>(text);
      results[i] = r;
      stats.resultBytes[i] = Buffer.byteLength(text);
      tally.finish(i, r, reused);
      onResult?.(i, r);
    };

    // Results an earlier attempt at this run left behind.
    const stored = await this.client.hgetall(key);
    for (const [id, text] of Object.entries(stored)) take(id, text, true);
    stats.reused = progress.reused;
    if (progress.reused > 0) await this.client.multi().expire(key, this.opts.resultsTtl).expire(doneKey(run), this.opts.resultsTtl).exec();
    this.opts.log?.(`run ${run.slice(0, 12)} on ${this.target.display}: ${ids.length} shards, ${progress.reused} finished earlier and reused, ${pending.size} to run`);
    progress.workers = await this.workersCount();
    this.opts.onProgress?.({ ...progress });
    if (pending.size === 0) {
      this.finishedRuns.push(run);
      return results;
    }

    await this.enqueue(plan, files, run, ids.filter((id) => pending.has(id)), index, stats);
    const fetch = async (fresh: string[]) => {
      if (fresh.length === 0) return;
      const texts = await this.client.hmget(key, ...fresh);
      fresh.forEach((id, j) => {
        if (texts[j] !== null) take(id, texts[j]!, false);
      });
    };
    let warned = false;
    let seen = 0;
    let nextCheck = 0;
    for (let tick = 0; pending.size > 0; tick++) {
      await sleep(this.opts.pollMs);
      // Workers append each finished job's id to the run's done list: read what is new.
      const fresh = await this.client.lrange(doneKey(run), seen, -1);
      seen += fresh.length;
      await fetch(fresh.filter((id) => pending.has(id)));
      // Now and then, the states of the pending jobs (a few thousand a second at most).
      if (pending.size > 0 && performance.now() >= nextCheck) {
        const waiting = [...pending];
        const states = await Promise.all(waiting.map((id) => this.queue.getJobState(id)));
        nextCheck = performance.now() + Math.max(4 * this.opts.pollMs, waiting.length / 2);
        const failed = waiting.find((_, j) => states[j] === 'failed');
        if (failed !== undefined) {
          const error = await this.failure(plan.jobs[index.get(failed)!]!.label, failed);
          await this.withdraw(waiting.filter((_, j) => WITHDRAWABLE.has(states[j]!)));
          throw error;
        }
        // Gone from the queue: finished since the done list was read, or lost (Redis
        // restarted without persistence), and then enqueued again.
        const gone = waiting.filter((_, j) => states[j] === 'unknown');
        await fetch(gone);
        const lost = gone.filter((id) => pending.has(id));
        if (lost.length > 0) await this.enqueue(plan, files, run, lost, index, stats);
      }
      if (tick % 4 === 0) {
        progress.workers = await this.workersCount();
        if (progress.workers === 0 && !warned) {
          this.opts.log?.(`no worker is connected to ${this.target.display} yet: start some with \`mfrsim worker ${this.target.display}\``);
          warned = true;
        }
      }
      this.opts.onProgress?.({ ...progress });
    }
    this.finishedRuns.push(run);
    return results;
  }

  /** Deletes the results of the runs this executor finished: call once their outputs are written. */
  async forget(): Promise<void> {
    if (this.finishedRuns.length > 0) await this.client.del(...this.finishedRuns.flatMap((run) => [resultsKey(run), doneKey(run)]));
    this.finishedRuns.length = 0;
  }

  async close(): Promise<void> {
    await this.queue.close();
    await this.client.quit().catch(() => this.client.disconnect());
  }

  /** Checks every input file before anything is enqueued; small ones are carried in the jobs. */
  private async readFiles(paths: readonly string[]): Promise<JobFile[]> {
    const out: JobFile[] = [];
    for (const path of [...new Set(paths)].sort()) {
      const absolute = resolve(path);
      let d: Awaited<ReturnType<typeof digestFile>>;
      try {
        d = await digestFile(absolute);
      } catch (err) {
        throw new Error(`${path}: cannot read this input: ${(err as Error).message}`);
      }
      const file: JobFile = { path, absolute, sha256: d.sha256, bytes: d.bytes };
      if (d.bytes <= this.opts.inlineBytes) file.content = (await readFile(absolute)).toString('base64');
      out.push(file);
    }
    return out;
  }

  private async enqueue<T, R>(plan: ShardPlan<T, R>, files: JobFile[], run: string, ids: string[], index: Map<string, number>, stats: QueueRunStats): Promise<void> {
    // A job that failed in an earlier attempt at the run gets fresh tries.
    const states = await Promise.all(ids.map((id) => this.queue.getJobState(id)));
    await Promise.all(ids.filter((_, j) => states[j] === 'failed').map((id) => this.queue.remove(id)));
    const opts = (id: string): JobsOptions => ({
      jobId: id,
      attempts: this.opts.attempts,
      backoff: { type: 'fixed', delay: 1000 },
      removeOnComplete: true,
      removeOnFail: { age: this.opts.resultsTtl },
    });
    for (let at = 0; at < ids.length; at += ADD_CHUNK) {
      const chunk = ids.slice(at, at + ADD_CHUNK).map((id) => {
        const job = plan.jobs[index.get(id)!]!;
        const data: ShardJobData = {
          version: this.opts.version, kind: plan.kind, run, label: job.label, files, resultsTtl: this.opts.resultsTtl, task: encode(job.task),
        };
        stats.jobBytes.push(Buffer.byteLength(JSON.stringify(data)));
        return { name: job.label, data, opts: opts(id) };
      });
      await this.queue.addBulk(chunk);
    }
  }

  /** Removes jobs no worker has taken yet (after a failure: the run's outputs will not be written). */
  private async withdraw(ids: readonly string[]): Promise<void> {
    await Promise.all(ids.map((id) => this.queue.remove(id).catch(() => 0)));
  }

  private async failure(label: string, id: string): Promise<Error> {
    const job = await this.queue.getJob(id);
    const reason = job?.failedReason ?? 'no reason recorded';
    const tries = job ? ` after ${job.attemptsMade} ${job.attemptsMade === 1 ? 'try' : 'tries'}` : '';
    return new Error(`shard "${label}" failed${tries}: ${reason}`);
  }

  private async workersCount(): Promise<number> {
    try {
      return await this.queue.getWorkersCount();
    } catch {
      return -1; // the server does not allow CLIENT LIST
    }
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
