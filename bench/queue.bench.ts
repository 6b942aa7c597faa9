// The job queue's cost: the default study through a Redis queue served by 2 local worker
// processes (one shard at a time each) against the local pool of 2 threads, same shards,
// alternating, medians; the per-job overhead, from the default study and from a plan of
// tiny jobs; the size of a shard's result and job in Redis. Needs redis-server (skipped
// with the reason when there is none) and dist/ (npm run bench builds first).
import { pathToFileURL } from 'node:url';
import { DEFAULT_SCENARIO } from '../src/study/default-scenario.js';
import { buildReport } from '../src/study/report.js';
import { runStudy, type StudyRuns } from '../src/study/run.js';
import { parseScenario, type Scenario } from '../src/study/scenario.js';
import { QueueExecutor } from '../src/queue/coordinator.js';
import { Child, findRedisServer, startRedis, startWorker } from '../test/queue-harness.js';
import { median } from './stats.js';

const WORKERS = 2;
const ROUNDS = Number(process.env.MFRSIM_BENCH_QUEUE_ROUNDS ?? 2);

/** The study's figures without its wall-clock ones. */
function figures(runs: StudyRuns): string {
  const { wallSeconds: _w, hostYearsPerSecond: _h, ...rest } = buildReport(runs);
  return JSON.stringify(rest);
}

/** A study of `hosts` one-host shards that do almost nothing: the queue's own cost per job. */
function tinyScenario(hosts: number): Scenario {
  return parseScenario({
    ...DEFAULT_SCENARIO,
    name: 'tiny-jobs',
    years: 1 / 12,
    stepsPerYear: 12,
    fleet: { ...DEFAULT_SCENARIO.fleet, hosts },
    workloads: [{ name: 'idle', vmsPerHost: 1, memoryGiB: 1, hugepage: '1G', access: { accessesPerStep: 1 } }],
    policies: ['keep'],
  });
}

export async function benchQueue(): Promise<Record<string, unknown>> {
  const binary = findRedisServer();
  if (binary === null) return { skipped: 'redis-server is not installed' };
  const redis = await startRedis(binary);
  const workers: Child[] = [];
  try {
    for (let i = 0; i < WORKERS; i++) workers.push(await startWorker(redis.url));
    const executor = await QueueExecutor.connect(redis.url, { pollMs: 200 });
    try {
      const scenario = parseScenario(DEFAULT_SCENARIO);
      // The queue's default shard size (at most 100 host-years), for both.
      const hostsPerShard = Math.min(Math.ceil(scenario.fleet.hosts / 16), Math.ceil(100 / scenario.years));
      const local: number[] = [];
      const queued: number[] = [];
      let reference: string | undefined;
      let jobs = 0;
      for (let round = 0; round < ROUNDS; round++) {
        // Alternate which goes first: the machine's load drifts.
        for (const via of round % 2 === 0 ? ['local', 'queue'] : ['queue', 'local']) {
          const runs = await runStudy(scenario, { workers: WORKERS, hostsPerShard, executor: via === 'queue' ? executor : undefined });
          (via === 'queue' ? queued : local).push(runs.wallSeconds);
          reference ??= figures(runs);
          if (figures(runs) !== reference) throw new Error(`the ${via} run's figures differ from the first run's`);
          if (via === 'queue') {
            jobs = executor.lastRun!.jobs;
            await executor.forget();
          }
          process.stderr.write(`bench: queue: ${via} ${runs.wallSeconds.toFixed(1)} s\n`);
        }
      }
      const sizes = executor.lastRun!;
      const localS = median(local);
      const queueS = median(queued);
      const ratios = local.map((l, i) => queued[i]! / l);

      // Tiny jobs: the difference per job between the queue and the threads.
      const tiny = tinyScenario(200);
      const tinyLocal: number[] = [];
      const tinyQueue: number[] = [];
      for (let round = 0; round < 3; round++) {
        tinyLocal.push((await runStudy(tiny, { workers: WORKERS, hostsPerShard: 1 })).wallSeconds);
        tinyQueue.push((await runStudy(tiny, { workers: WORKERS, hostsPerShard: 1, executor })).wallSeconds);
        await executor.forget();
      }
      const tinyJobs = executor.lastRun!.jobs;
      const hostYears = (scenario.policies.length + 2) * scenario.fleet.hosts * scenario.years;
      return {
        scenario: scenario.name,
        workers: WORKERS,
        hostsPerShard,
        jobs,
        rounds: ROUNDS,
        localSeconds: local,
        queueSeconds: queued,
        medianLocalSeconds: localS,
        medianQueueSeconds: queueS,
        overhead: queueS / localS - 1,
        medianPairRatio: median(ratios),
        perJobOverheadMs: ((queueS - localS) * WORKERS * 1000) / jobs,
        tinyJobs: {
          jobs: tinyJobs,
          localSeconds: median(tinyLocal),
          queueSeconds: median(tinyQueue),
          perJobOverheadMs: ((median(tinyQueue) - median(tinyLocal)) * WORKERS * 1000) / tinyJobs,
        },
        hostYearsPerWorkerSecond: hostYears / (queueS * WORKERS),
        resultBytes: { median: median(sizes.resultBytes), max: Math.max(...sizes.resultBytes), total: sizes.resultBytes.reduce((a, b) => a + b, 0) },
        jobBytes: { median: median(sizes.jobBytes), max: Math.max(...sizes.jobBytes) },
        targets: { overhead: 0.1 },
      };
    } finally {
      await executor.close();
    }
  } finally {
    await Promise.all(workers.map((w) => w.kill('SIGTERM')));
    await redis.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify(await benchQueue(), null, 2));
}
