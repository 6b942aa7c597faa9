// A queue worker: takes shard jobs from Redis and runs each on a worker thread (so that the
// main thread keeps renewing the job's lock), writes the result into the run's results hash,
// and refuses jobs planned by another mfrsim version. A worker killed mid-shard loses its
// lock; after the stall interval another worker's stalled-job check puts the job back.
import { Worker, type Job } from 'bullmq';
import { formatBytes, formatDuration } from '../format/units.js';
import { createHash } from 'node:crypto';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Piscina } from 'piscina';
import { decode, encode } from './codec.js';
import { probeRedis, redisClient } from './connection.js';
import { parseRedisUrl } from './url.js';
import { digestFile, doneKey, KEY_PREFIX, MFRSIM_VERSION, QUEUE_NAME, resultsKey, type JobFile, type ShardJobData, type ShardJobReturn } from './job.js';
import { shardEntry } from '../shards/local.js';


export interface QueueWorkerOptions {
  /** Shards run at once, each on its own thread (default 1). */
  concurrency?: number;
  /**
   * Milliseconds a job's lock lasts without renewal, and between stalled-job checks: a job
   * of a worker that died is run again elsewhere after at most twice this (default 30,000).
   */
  stallInterval?: number;
  /** The version this worker runs jobs of (default: this package's). */
  version?: string;
  /** Where inputs carried in jobs are written (default: mfrsim-inputs in the temp directory). */
  cacheDir?: string;
  /** One line per shard started, done, failed or refused. */
  log?: (line: string) => void;
}

export interface QueueWorker {
  /** Finishes the shards in hand, then disconnects. */
  close(): Promise<void>;
}

/** Checks Redis (fails in seconds), then takes jobs until closed. */
export async function startQueueWorker(url: string, opts: QueueWorkerOptions = {}): Promise<QueueWorker> {
  const target = parseRedisUrl(url);
  await probeRedis(target);
  const version = opts.version ?? MFRSIM_VERSION;
  const concurrency = opts.concurrency ?? 1;
  const stall = opts.stallInterval ?? 30_000;
  const log = opts.log ?? (() => {});
  const inputs = new InputFiles(opts.cacheDir ?? join(tmpdir(), 'mfrsim-inputs'));
  const pool = new Piscina({ minThreads: concurrency, maxThreads: concurrency, execArgv: [] });
  const client = redisClient(target, 'mfrsim-worker');

  const runJob = async (job: Job<ShardJobData, ShardJobReturn>): Promise<ShardJobReturn> => {
    const d = job.data;
    const name = `${job.id!.slice(0, 12)} ${d.label}`;
    if (d.version !== version) throw new Error(`a worker running mfrsim ${version} refused it: the job needs mfrsim ${d.version}`);
    log(`${name}: started (try ${job.attemptsMade + 1})`);
    const started = performance.now();
    const local = await inputs.resolve(d.files);
    const back = new Map([...local].map(([original, copy]) => [copy, original]));
    let result: unknown;
    try {
      result = await pool.run(replaceStrings(decode(d.task), local), { filename: shardEntry(d.kind) });
    } catch (err) {
      let message = (err as Error).message ?? String(err);
      for (const [copy, original] of back) message = message.split(copy).join(original);
      throw new Error(message);
    }
    const text = encode(replaceStrings(result, back));
    const key = resultsKey(d.run);
    const done = doneKey(d.run);
    await client.multi().hset(key, job.id!, text).expire(key, d.resultsTtl).rpush(done, job.id!).expire(done, d.resultsTtl).exec();
    const seconds = (performance.now() - started) / 1000;
    log(`${name}: done in ${formatDuration(seconds * 1e9)} (${formatBytes(text.length)})`);
    return { resultBytes: text.length, seconds };
  };

  const worker = new Worker<ShardJobData, ShardJobReturn>(QUEUE_NAME, runJob, {
    connection: client,
    prefix: KEY_PREFIX,
    concurrency,
    lockDuration: stall,
    stalledInterval: stall,
    // A job is put back twice after its worker died before it counts as failed.
    maxStalledCount: 2,
    autorun: true,
  });
  worker.on('failed', (job, err) => {
    if (job) log(`${job.id!.slice(0, 12)} ${job.data.label}: failed: ${err.message}`);
  });
  worker.on('error', (err) => log(`queue: ${err.message}`));
  await worker.waitUntilReady();
  log(`worker: mfrsim ${version}, ${concurrency} at a time, on ${target.display}`);
  return {
    async close() {
      await worker.close();
      await pool.destroy();
      await client.quit().catch(() => client.disconnect());
    },
  };
}

/** Copies of an object tree with every string that is a key of `map` replaced by its value. */
function replaceStrings(value: unknown, map: ReadonlyMap<string, string>): unknown {
  if (map.size === 0) return value;
  if (typeof value === 'string') return map.get(value) ?? value;
  if (Array.isArray(value)) return value.map((v) => replaceStrings(v, map));
  if (value !== null && typeof value === 'object' && !ArrayBuffer.isView(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceStrings(v, map)]));
  }
  return value;
}

/**
 * The job's input files on this machine: copies of those carried in the job, or the
 * coordinator's paths, checked to hold the same bytes. Maps each path as the task names it
 * to the file to read.
 */
class InputFiles {
  private readonly checked = new Map<string, string>();

  constructor(private readonly dir: string) {}

  async resolve(files: readonly JobFile[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const f of files) out.set(f.path, f.content !== undefined ? await this.copy(f) : await this.check(f));
    return out;
  }

  private async copy(f: JobFile): Promise<string> {
    const path = join(this.dir, f.sha256, basename(f.path));
    if (existsSync(path)) return path;
    const bytes = Buffer.from(f.content!, 'base64');
    if (sha256Bytes(bytes) !== f.sha256) throw new Error(`${f.path}: the copy carried in the job is damaged`);
    await mkdir(join(this.dir, f.sha256), { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, bytes);
    await rename(tmp, path);
    return path;
  }

  private async check(f: JobFile): Promise<string> {
    const unreadable = (err: unknown) => new Error(`${f.path}: this worker cannot read it at ${f.absolute}: ${(err as Error).message}`);
    // A file already read unchanged (same size and modification time) is not read again.
    const s = await stat(f.absolute).catch((err: unknown) => {
      throw unreadable(err);
    });
    const seen = `${f.absolute}:${s.size}:${s.mtimeMs}`;
    if (this.checked.get(seen) === f.sha256) return f.absolute;
    const d = await digestFile(f.absolute).catch((err: unknown) => {
      throw unreadable(err);
    });
    if (d.sha256 !== f.sha256) throw new Error(`${f.path}: the file at ${f.absolute} on this worker differs from the coordinator's (sha256 ${d.sha256.slice(0, 12)}, expected ${f.sha256.slice(0, 12)})`);
    this.checked.set(seen, f.sha256);
    return f.absolute;
  }
}

function sha256Bytes(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
