// Runs a study: the error stream is built once, then every policy (and an error-free
// baseline per memory backing, for the translation cost) replays it with the same workload
// seed. Hosts are split into shards run on worker threads; shards of all runs share one pool.
import { WorkerPool } from '#platform/workers';
import { largestHostBytes, SHARD_BUDGET_BYTES } from '../fleet/plan.js';
import { sumStats, type HostStats } from '../fleet/shard.js';
import { workerCount } from '../shards/threads.js';
import { RecoveryTally, type RecoverySummary } from '../costs/recovery-cost.js';
import { loadKernel } from '../kernel/kernel.js';
import { loadStudyErrors, NO_UES, uesOfHosts, type StreamSummary } from './error-stream.js';
import { studyHost } from './host-spec.js';
import { BASELINE_POLICY, POLICIES, type Backing, type PolicyName } from './policies.js';
import { studySteps, type Scenario } from './scenario.js';
import { Fnv1a, runStudyShard, SERIES_FIELDS, type StepSeries, type StudyShardResult, type StudyShardTask } from './shard.js';
import { studyShardPlan } from './shard-plan.js';
import type { ShardExecutor } from '../shards/plan.js';

/** The error-free runs, one per backing the study's policies use. */
const BASELINES = { hugetlb: 'baseline', thp: 'baseline-thp' } as const satisfies Record<Backing, string>;
/** The name of an error-free baseline run. */
export type BaselineName = (typeof BASELINES)[Backing];

/** How `runStudy` runs. */
export interface StudyOptions {
  /** Worker threads (default: one per core; at most one per core and per shard); 0 runs inline. */
  workers?: number;
  /** Hosts per shard (default: enough shards for a smooth progress bar). */
  hostsPerShard?: number;
  /** Called as shards finish, with simulated host-years done (all runs) and in total. */
  onProgress?: (done: number, total: number) => void;
  /** Runs the shards elsewhere (a job queue, src/queue/) instead of on this process's threads. */
  executor?: ShardExecutor;
  /** Hears about adjustments to the request, e.g. fewer workers than asked for. */
  onNotice?: (message: string) => void;
}

/** One run of a study (a policy, or a baseline): per-host and total figures, series, recovery costs. */
export interface RunOutcome {
  /** A policy, or an error-free baseline. */
  name: PolicyName | BaselineName;
  perHost: HostStats[];
  total: HostStats;
  /** Fleet figures at the end of each step. */
  series: StepSeries;
  recovery: RecoverySummary;
  /** The memory_failure latency distribution: nanoseconds at each percentile. */
  latencyPercentiles: { percentile: number; ns: number }[];
  /** The release latency distribution (dissolves when a file lets go of a poisoned hugepage). */
  releasePercentiles: { percentile: number; ns: number }[];
  uesReplayed: number;
  uesHandled: number;
  /** A digest of the UEs replayed, in host and time order. */
  ueDigest: string;
}

/** Every run of a study, with the scenario and the error stream they shared. */
export interface StudyRuns {
  scenario: Scenario;
  stream: StreamSummary;
  steps: number;
  stepSeconds: number;
  /** The error-free run of each backing the policies use, HugeTLB first. */
  baselines: (RunOutcome & { backing: Backing })[];
  policies: RunOutcome[];
  /** Simulated host-years per run. */
  hostYears: number;
  wallSeconds: number;
}

// Workers load the compiled worker, also when this module runs from src/ under a loader.
const WORKER = 'dist/study/worker.js';

/**
 * Runs a study: the error stream once, then every policy and each backing's error-free
 * baseline on it, sharded over worker threads in Node (on the calling thread with workers: 0,
 * and in browsers). Figures do not depend on the sharding.
 */
export async function runStudy(scenario: Scenario, opts: StudyOptions = {}): Promise<StudyRuns> {
  const started = performance.now();
  const { steps, stepSeconds } = studySteps(scenario);
  const { ues, summary } = await loadStudyErrors(scenario, steps * stepSeconds);
  const { host, access } = studyHost(scenario);
  const hosts = scenario.fleet.hosts;
  const threads = opts.workers === 0 ? 1 : workerCount(opts.workers, hosts);
  // Shards fit one kernel instance (the memory plan); by default enough of them for a smooth progress bar.
  const fit = Math.max(1, Math.floor(SHARD_BUDGET_BYTES / largestHostBytes(scenario.policies.map((p) => POLICIES[p].host(host)), { translation: scenario.translation })));
  if (opts.hostsPerShard !== undefined && opts.hostsPerShard > fit) {
    throw new RangeError(`${opts.hostsPerShard} hosts per shard do not fit one kernel instance: at most ${fit} of these hosts do`);
  }
  const per = opts.hostsPerShard ?? Math.min(fit, Math.max(1, Math.ceil(hosts / (8 * threads))));
  const backings = (['hugetlb', 'thp'] as const).filter((b) => scenario.policies.some((p) => POLICIES[p].backing === b));
  // Each run: its name, the policy its hosts boot as, and whether the UEs are replayed.
  const runs: { name: RunOutcome['name']; policy: PolicyName; errors: boolean }[] = [
    ...backings.map((b) => ({ name: BASELINES[b], policy: BASELINE_POLICY[b], errors: false })),
    ...scenario.policies.map((p) => ({ name: p, policy: p, errors: true })),
  ];

  const tasks: StudyShardTask[] = [];
  runs.forEach(({ policy, errors }, run) => {
    const runHost = POLICIES[policy].host(host);
    for (let first = 0; first < hosts; first += per) {
      const count = Math.min(per, hosts - first);
      tasks.push({
        run, host: runHost, access, firstHost: first, hostCount: count, seed: scenario.seed, steps, stepSeconds,
        ues: errors ? uesOfHosts(ues, first, count) : NO_UES,
        translation: scenario.translation, releaseAtEnd: scenario.releaseAtEnd,
      });
    }
  });

  const totalHostYears = runs.length * hosts * scenario.years;
  let doneHostYears = 0;
  const finished = (r: StudyShardResult) => {
    doneHostYears += r.hosts.length * scenario.years;
    opts.onProgress?.(doneHostYears, totalHostYears);
    return r;
  };
  let results: StudyShardResult[];
  const workers = opts.workers === 0 ? 0 : workerCount(opts.workers, tasks.length, opts.onNotice);
  if (opts.executor) {
    results = await opts.executor.run(studyShardPlan(scenario, ues, tasks, runs.map((r) => r.name)), (_, r) => finished(r));
  } else if (workers === 0) {
    await loadKernel(); // a browser compiles the kernel first; Node already has
    results = tasks.map((t) => finished(runStudyShard(t)));
  } else {
    const pool = await WorkerPool.open<StudyShardTask, StudyShardResult>(WORKER, workers);
    try {
      results = await Promise.all(tasks.map((t) => pool.run(t).then(finished)));
    } finally {
      await pool.close();
    }
  }
  const outcomes = runs.map(({ name }, run) => mergeRun(name, results.filter((r) => r.run === run), steps));
  return {
    scenario, stream: summary, steps, stepSeconds,
    baselines: backings.map((backing, i) => ({ ...outcomes[i]!, backing })),
    policies: outcomes.slice(backings.length),
    hostYears: hosts * scenario.years,
    wallSeconds: (performance.now() - started) / 1000,
  };
}

/** One run's shards, merged in host order. */
function mergeRun(name: RunOutcome['name'], shards: StudyShardResult[], steps: number): RunOutcome {
  shards.sort((a, b) => a.firstHost - b.firstHost);
  const perHost = shards.flatMap((s) => s.hosts);
  const series = Object.fromEntries(SERIES_FIELDS.map((f) => [f, Array.from({ length: steps }, (_, i) => shards.reduce((n, s) => n + s.series[f][i]!, 0))])) as StepSeries;
  const tally = new RecoveryTally();
  for (const s of shards) tally.merge(s.recovery);
  const digest = new Fnv1a();
  for (const s of shards) for (const d of s.ueDigests) digest.add(d);
  const percentiles = tally.percentiles();
  return {
    name, perHost, total: sumStats(perHost), series,
    recovery: tally.summary(),
    latencyPercentiles: percentiles.memoryFailure,
    releasePercentiles: percentiles.release,
    uesReplayed: shards.reduce((n, s) => n + s.uesReplayed, 0),
    uesHandled: shards.reduce((n, s) => n + s.uesHandled, 0),
    ueDigest: digest.value.toString(16).padStart(8, '0'),
  };
}
