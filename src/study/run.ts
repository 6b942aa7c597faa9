// Runs a study: per replicate (an independent seed), the error stream is built once, then
// every policy (and an error-free baseline per memory backing, for the translation cost)
// replays it with the replicate's workload seed. Hosts are split into shards run on worker
// threads; the shards of every run and every replicate share one pool.
import { WorkerPool } from '#platform/workers';
import { largestHostBytes, SHARD_BUDGET_BYTES } from '../fleet/plan.js';
import { sumStats, type HostStats, type VmStats } from '../fleet/shard.js';
import { workerCount } from '../shards/threads.js';
import { RecoveryTally, type RecoverySummary } from '../costs/recovery-cost.js';
import { loadKernel } from '../kernel/kernel.js';
import { loadStudyErrors, NO_UES, uesOfHosts, type StreamSummary, type StudyUes } from './error-stream.js';
import { studyHost } from './host-spec.js';
import { BASELINE_POLICY, POLICIES, type Backing, type PolicyName } from './policies.js';
import { replicateSeed, replicatesProblem, studySteps, type Scenario } from './scenario.js';
import { Fnv1a, runStudyShard, SERIES_FIELDS, type ShardTiming, type StepSeries, type StudyShardResult, type StudyShardTask } from './shard.js';
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
  /**
   * Reuse the baseline's figures for a host that no UE hits, under every policy of the
   * baseline's backing (default true; false simulates every host in every run, to check).
   */
  reuseErrorFreeHosts?: boolean;
}

/** Where a study's time went, in seconds; the shards' items are summed over every worker. */
export interface StudyProfile {
  /** Building the error stream (generated or read), on the main thread. */
  errorStream: number;
  shards: Omit<ShardTiming, 'finishedAt'>;
  /** From each shard's end in its worker to its result on the main thread, summed. */
  transfer: number;
  /** Merging the shards' results into runs. */
  merge: number;
  /** Host-runs simulated (a host in one run); the rest reused the baseline's. */
  hostRuns: number;
}

/** One run of a study (a policy, or a baseline): per-host and total figures, series, recovery costs. */
export interface RunOutcome {
  /** A policy, or an error-free baseline. */
  name: PolicyName | BaselineName;
  perHost: HostStats[];
  /** Per host, each VM's own figures (before the release). */
  perVm: VmStats[][];
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

/** The runs of one replicate: every policy and baseline on the replicate's stream and workloads. */
export interface ReplicateRuns {
  /** 0-based; replicate 0 runs under the scenario's own seed. */
  replicate: number;
  seed: number;
  stream: StreamSummary;
  /** The error-free run of each backing the policies use, HugeTLB first. */
  baselines: (RunOutcome & { backing: Backing })[];
  policies: RunOutcome[];
}

/** Every run of a study, replicate by replicate, with the scenario. */
export interface StudyRuns {
  scenario: Scenario;
  steps: number;
  stepSeconds: number;
  /** Every replicate's runs, in replicate order. */
  replicates: ReplicateRuns[];
  /** The first replicate's (the scenario's seed) stream, baselines and policies. */
  stream: StreamSummary;
  baselines: ReplicateRuns['baselines'];
  policies: RunOutcome[];
  /** Simulated host-years per run and replicate. */
  hostYears: number;
  wallSeconds: number;
  profile: StudyProfile;
}

// Workers load the compiled worker, also when this module runs from src/ under a loader.
const WORKER = 'dist/study/worker.js';

/**
 * Runs a study: for each replicate, its error stream once, then every policy and each
 * backing's error-free baseline on it, sharded over worker threads in Node (on the calling
 * thread with workers: 0, and in browsers). Figures do not depend on the sharding.
 */
export async function runStudy(scenario: Scenario, opts: StudyOptions = {}): Promise<StudyRuns> {
  const started = performance.now();
  const oneDraw = replicatesProblem(scenario);
  if (oneDraw) throw new RangeError(oneDraw);
  const { steps, stepSeconds } = studySteps(scenario);
  const seeds = Array.from({ length: scenario.replicates }, (_, r) => replicateSeed(scenario, r));
  const { host, access } = studyHost(scenario);
  const hosts = scenario.fleet.hosts;
  const threads = opts.workers === 0 ? 1 : workerCount(opts.workers, hosts * seeds.length);
  // Shards fit one kernel instance (the memory plan); by default enough of them for a smooth progress bar.
  const fit = Math.max(1, Math.floor(SHARD_BUDGET_BYTES / largestHostBytes(scenario.policies.map((p) => POLICIES[p].host(host)), { translation: scenario.translation })));
  if (opts.hostsPerShard !== undefined && opts.hostsPerShard > fit) {
    throw new RangeError(`${opts.hostsPerShard} hosts per shard do not fit one kernel instance: at most ${fit} of these hosts do`);
  }
  const per = opts.hostsPerShard ?? Math.min(fit, Math.max(1, Math.ceil((hosts * seeds.length) / (8 * threads))));
  const backings = (['hugetlb', 'thp'] as const).filter((b) => scenario.policies.some((p) => POLICIES[p].backing === b));
  // Each run: its name, the policy its hosts boot as, and whether the UEs are replayed.
  const runs: { name: RunOutcome['name']; policy: PolicyName; errors: boolean }[] = [
    ...backings.map((b) => ({ name: BASELINES[b], policy: BASELINE_POLICY[b], errors: false })),
    ...scenario.policies.map((p) => ({ name: p, policy: p, errors: true })),
  ];

  // Each replicate's error stream, built on this thread; the time is summed for the profile.
  type StudyErrors = Awaited<ReturnType<typeof loadStudyErrors>>;
  const streams: StudyErrors[] = [];
  let streamSeconds = 0;
  const loadStream = async (replicate: number): Promise<StudyErrors> => {
    const t0 = performance.now();
    const s = await loadStudyErrors({ ...scenario, seed: seeds[replicate]! }, steps * stepSeconds);
    streamSeconds += (performance.now() - t0) / 1000;
    streams[replicate] = s;
    return s;
  };

  // A shard is a range of hosts of one replicate under every run, so that each host's
  // accesses are drawn once. A policy run simulates only the hosts UEs hit: without a memory
  // failure the policies take no action, so every other host runs exactly as in its
  // backing's baseline.
  const reuse = opts.reuseErrorFreeHosts ?? true;
  const shardsOf = (replicate: number, stream: StudyErrors): StudyShardTask[] => {
    const tasks: StudyShardTask[] = [];
    for (let first = 0; first < hosts; first += per) {
      const count = Math.min(per, hosts - first);
      const shardUes = uesOfHosts(stream.ues, first, count);
      tasks.push({
        replicate, firstHost: first, hostCount: count, access, seed: seeds[replicate]!, steps, stepSeconds,
        translation: scenario.translation, releaseAtEnd: scenario.releaseAtEnd,
        runs: runs.map(({ policy, errors }, run) => ({ run, host: POLICIES[policy].host(host), ues: errors ? shardUes : NO_UES, onlyHostsWithUes: errors && reuse })),
      });
    }
    return tasks;
  };
  const shardCount = seeds.length * Math.ceil(hosts / per);

  const totalHostYears = runs.length * hosts * scenario.years * seeds.length;
  let doneHostYears = 0;
  let transferSeconds = 0;
  const finished = (r: StudyShardResult) => {
    transferSeconds += Math.max(0, performance.timeOrigin + performance.now() - r.timing.finishedAt) / 1000;
    doneHostYears += r.hostCount * runs.length * scenario.years;
    opts.onProgress?.(doneHostYears, totalHostYears);
    return r;
  };
  let results: StudyShardResult[];
  const workers = opts.workers === 0 ? 0 : workerCount(opts.workers, shardCount, opts.onNotice);
  if (opts.executor) {
    // A job queue gets the whole plan at once: every stream first.
    const tasks: StudyShardTask[] = [];
    for (let r = 0; r < seeds.length; r++) tasks.push(...shardsOf(r, await loadStream(r)));
    const ues: StudyUes[] = streams.map((s) => s.ues);
    results = await opts.executor.run(studyShardPlan(scenario, ues, tasks, runs.map((r) => r.name)), (_, r) => finished(r));
  } else if (workers === 0) {
    await loadKernel(); // a browser compiles the kernel first; Node already has
    results = [];
    for (let r = 0; r < seeds.length; r++) results.push(...shardsOf(r, await loadStream(r)).map((t) => finished(runStudyShard(t))));
  } else {
    // The workers start, and run a replicate's shards, while the next replicate's stream is
    // built here: the streams are the study's only serial work.
    const opening = WorkerPool.open<StudyShardTask, StudyShardResult>(WORKER, workers);
    const pending: Promise<StudyShardResult>[] = [];
    let pool: WorkerPool<StudyShardTask, StudyShardResult> | undefined;
    try {
      for (let r = 0; r < seeds.length; r++) {
        const tasks = shardsOf(r, await loadStream(r));
        pool ??= await opening;
        for (const t of tasks) {
          const result = pool.run(t).then(finished);
          result.catch(() => {}); // a shard that fails while streams are still built fails Promise.all below
          pending.push(result);
        }
      }
      results = await Promise.all(pending);
    } finally {
      if (pool) await pool.close();
      else await opening.then((p) => p.close(), () => {}); // a stream failed before the workers were needed
    }
  }
  const merging = performance.now();
  results.sort((a, b) => a.replicate - b.replicate || a.firstHost - b.firstHost);
  const baselineOf = (policy: PolicyName) => backings.indexOf(POLICIES[policy].backing);
  const replicates = seeds.map((seed, replicate): ReplicateRuns => {
    const own = results.filter((r) => r.replicate === replicate);
    const outcomes = runs.map(({ name, policy }, run) => mergeRun(name, run, baselineOf(policy), own, steps));
    return {
      replicate, seed, stream: streams[replicate]!.summary,
      baselines: backings.map((backing, i) => ({ ...outcomes[i]!, backing })),
      policies: outcomes.slice(backings.length),
    };
  });
  const first = replicates[0]!;
  return {
    scenario, steps, stepSeconds, replicates,
    stream: first.stream, baselines: first.baselines, policies: first.policies,
    hostYears: hosts * scenario.years,
    wallSeconds: (performance.now() - started) / 1000,
    profile: studyProfile(results, streamSeconds, transferSeconds, (performance.now() - merging) / 1000),
  };
}

/** Where a study's time went (the shards' timers summed over every worker). */
function studyProfile(results: StudyShardResult[], errorStream: number, transfer: number, merge: number): StudyProfile {
  const shards = { boot: 0, accessDraw: 0, accessReplay: 0, ueReplay: 0, sampling: 0, release: 0, total: 0 };
  let hostRuns = 0;
  for (const r of results) {
    for (const k of Object.keys(shards) as (keyof typeof shards)[]) shards[k] += r.timing[k];
    for (const run of r.runs) hostRuns += run.hosts.length;
  }
  return { errorStream, shards, transfer, merge, hostRuns };
}

/**
 * One run's figures, host by host in fleet order: from the run's shards where it simulated
 * the host, else from the baseline run of its backing (`baseline`, a run index).
 */
function mergeRun(name: RunOutcome['name'], run: number, baseline: number, shards: StudyShardResult[], steps: number): RunOutcome {
  const perHost: HostStats[] = [];
  const perVm: VmStats[][] = [];
  const series = Object.fromEntries(SERIES_FIELDS.map((f) => [f, new Array<number>(steps).fill(0)])) as StepSeries;
  const tally = new RecoveryTally();
  const digest = new Fnv1a();
  let uesReplayed = 0;
  let uesHandled = 0;
  for (const s of shards) {
    const own = s.runs.find((r) => r.run === run)!;
    const base = s.runs.find((r) => r.run === baseline)!;
    tally.merge(own.recovery);
    uesReplayed += own.uesReplayed;
    uesHandled += own.uesHandled;
    let k = 0;
    base.hosts.forEach((host, b) => {
      const simulated = own.hosts[k] === host;
      const from = simulated ? own : base;
      const i = simulated ? k++ : b;
      perHost.push(from.stats[i]!);
      perVm.push(from.vms[i]!);
      digest.add(from.ueDigests[i]!);
      SERIES_FIELDS.forEach((f, j) => {
        for (let step = 0; step < steps; step++) series[f][step]! += from.series[i]![j * steps + step]!;
      });
    });
  }
  const percentiles = tally.percentiles();
  return {
    name, perHost, perVm, total: sumStats(perHost), series,
    recovery: tally.summary(),
    latencyPercentiles: percentiles.memoryFailure,
    releasePercentiles: percentiles.release,
    uesReplayed,
    uesHandled,
    ueDigest: digest.value.toString(16).padStart(8, '0'),
  };
}
