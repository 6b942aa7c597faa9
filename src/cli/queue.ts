// The job-queue options shared by `study` and `replay`, and the queue's life around one
// command: connect (failing in seconds), show one progress bar across all workers, and
// forget the shard results once the command's outputs are written. The queue's libraries
// are loaded only when --queue is given.
import { Command, InvalidArgumentError, Option } from 'commander';
import { parseRedisUrl } from '../queue/url.js';
import type { ShardExecutor } from '../shards/plan.js';
import { shardProgressBar } from './shard-progress.js';
import { importOptional } from '../platform/optional.js';
import { integerFlag } from './flags.js';

export interface QueueFlags {
  queue?: string;
  resultsTtl?: number;
  attempts?: number;
}

/** Commander's parser of a Redis URL argument. */
export function redisUrl(value: string): string {
  try {
    return parseRedisUrl(value).url;
  } catch (err) {
    throw new InvalidArgumentError(`${(err as Error).message}.`);
  }
}


export function addQueueOptions(cmd: Command): Command {
  return cmd
    .option('--queue <url>', 'run the shards as jobs on a Redis job queue (redis://HOST:PORT[/DB]) served by `mfrsim worker` processes; the same command again resumes (docs/cluster.md)', redisUrl)
    .addOption(new Option('--results-ttl <seconds>', 'with --queue: how long shard results stay in Redis if this command does not finish (default 7 days)').argParser(integerFlag(1, 10 * 365 * 86400)))
    .addOption(new Option('--attempts <n>', 'with --queue: tries per shard before the run fails (default 3)').argParser(integerFlag(1, 100)));
}

/** Imports a module of the job queue, naming the package to install when bullmq, ioredis or piscina is missing. */
export function loadQueueModule<M>(load: () => Promise<M>): Promise<M> {
  return importOptional(['bullmq', 'ioredis', 'piscina'], 'The job queue (--queue, mfrsim worker)', load);
}

export interface QueueSession {
  executor: ShardExecutor;
  /** The outputs are written: the shard results may go. */
  finished(): Promise<void>;
  close(): Promise<void>;
}

/** Connects to the queue (fails in seconds when it cannot), or undefined without --queue. */
export async function openQueue(o: QueueFlags, label: string): Promise<QueueSession | undefined> {
  if (o.queue === undefined) return undefined;
  const { QueueExecutor } = await loadQueueModule(() => import('../queue/coordinator.js'));
  const bar = shardProgressBar(label);
  const executor = await QueueExecutor.connect(o.queue, {
    attempts: o.attempts,
    resultsTtl: o.resultsTtl,
    onProgress: bar.update,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  return {
    executor,
    async finished() {
      bar.stop();
      await executor.forget();
    },
    async close() {
      bar.stop();
      await executor.close();
    },
  };
}
