// `mfrsim worker redis://HOST:PORT`: runs shard jobs of studies, fleet replays and trace
// batches from the Redis job queue until stopped; SIGTERM (or SIGINT) finishes the shards in
// hand, then exits. The queue's libraries are loaded only by this command.
import { Command } from 'commander';
import { integerFlag, numberFlag } from '../flags.js';
import { addHelpExamples } from '../help.js';
import { loadQueueModule, redisUrl } from '../queue.js';

interface WorkerFlags {
  concurrency: number;
  stallInterval: number;
}

async function runWorker(url: string, o: WorkerFlags): Promise<void> {
  const { startQueueWorker } = await loadQueueModule(() => import('../../queue/worker.js'));
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const worker = await startQueueWorker(url, { concurrency: o.concurrency, stallInterval: o.stallInterval * 1000, log });
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log(`worker: ${signal}: finishing the shards in hand, then exiting`);
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await worker.close();
  log('worker: stopped');
}

export function registerWorkerCommand(program: Command): void {
  const cmd = program
    .command('worker')
    .description('run shard jobs (studies, fleet replays, trace batches) from a Redis job queue until stopped (docs/cluster.md)')
    .argument('<url>', 'the queue\'s Redis: redis://HOST:PORT[/DB] (rediss:// for TLS)', redisUrl)
    .option('--concurrency <n>', 'shards run at once, each on its own thread, 1..1,024', integerFlag(1, 1024), 1)
    .option('--stall-interval <seconds>', 'how long a job\'s lock lasts without renewal, and how often stalled jobs are looked for: a dead worker\'s shard runs again elsewhere after at most twice this; 0.1..3,600', numberFlag(0.1, 3600), 30)
    .action((url: string, o: WorkerFlags) => runWorker(url, o));
  addHelpExamples(cmd, [
    ['mfrsim worker redis://queue.internal:6379 --concurrency 16', "serve a queue's shard jobs on 16 threads until stopped"],
    ['mfrsim study --queue redis://queue.internal:6379 --html report.html', 'then, on any machine, run a study on those workers'],
  ]);
}
