// A study's results as data: one row of figures per policy (the mean over the replicates,
// with every table figure's 95% interval and per-replicate values), the paired differences
// against DEFAULT, the losses over time and the recovery latency distributions. The verdict,
// the terminal table, the CSV, the JSON and the HTML report are all drawn from this.
import { sumStats, type HostStats } from '../fleet/shard.js';
import { DEFAULT_TLB, throughputLoss, translationFigures } from '../costs/translation.js';
import { costTable, type CostEntry, type CostSettings } from '../costs/cost-table.js';
import { ERROR_PROFILES, type ProfileName } from '../errors/profiles.js';
import { POLICIES, type Backing, type PolicyName } from './policies.js';
import type { ReplicateRuns, RunOutcome, StudyRuns } from './run.js';
import { affectedVmFigures, type AffectedVmFigures } from './affected.js';
import { interval, pairedDifference, type Interval } from './intervals.js';
import { studyMetrics } from './metrics.js';
import { studyVerdict, type Verdict } from './verdict.js';
import { studyHost } from './host-spec.js';
import { costSettingsOf, type Scenario } from './scenario.js';
import type { StepSeries } from './shard.js';
import type { StreamSummary } from './error-stream.js';
import { kernelBehaviour, type KernelBehaviour } from '../host/kernel-behaviour.js';
import { formatNumber, formatPercent } from '../format/units.js';

/** One policy's figures in a study report. */
export interface PolicyRow {
  policy: PolicyName;
  label: string;
  /** The policy in a word (narrow columns). */
  short: string;
  summary: string;
  memoryLostBytes: number;
  rawPagesPoisoned: number;
  /** Hugepages taken offline whole (DEFAULT); after the release they stay leaked. */
  hugepagesOfflined: number;
  /** Hugepages out of the pool and never freed, after every VM's release (null without a release). */
  hugepagesLeaked: number | null;
  hugepagesDissolved: number;
  /** THP folios that left THP memory with a poisoned page (null for HugeTLB-backed policies). */
  thpFoliosRetired: number | null;
  vmemmapPagesRestored: number;
  buddyPagesReturned: number;
  sigbus: HostStats['sigbusByCode'] & { total: number };
  repeatedConsumption: number;
  /** KEEP releases that dropped more folio references than they held: only v3 as posted does (null for other policies). */
  refcountUnderflows: number | null;
  vmsKilled: number;
  /** Sampled guest accesses that did not complete (SIGBUS, or the VM was dead). */
  accessesFailed: number;
  accesses: number;
  memoryFailure: HostStats['memoryFailure'];
  /** Page-table pages allocated by HGM and THP splits. */
  splitPageTablePages: number;
  /** The VMs that had a UE on their memory: their number, kills, SIGBUS and translation cost. */
  affectedVms: AffectedVmFigures;
  translation: {
    walksPerKiloAccess: number;
    walkCyclesPerAccess: number;
    /**
     * Throughput lost to translation against the error-free baseline of the same backing
     * (HugeTLB or THP), fleet-wide (0.01 = 1%).
     */
    throughputLoss: number;
    /** The same on the host where it is largest. */
    worstHostThroughputLoss: number;
  };
  /** memory_failure latency (percentiles) and, under `release`, the release-time dissolves' (releasePercentiles). */
  recovery: RunOutcome['recovery'] & { percentiles: RunOutcome['latencyPercentiles']; releasePercentiles: RunOutcome['releasePercentiles'] };
  /** Fleet figures at the end of every step. */
  series: StepSeries;
  ueDigest: string;
  uesHandled: number;
  /**
   * Every table figure (studyMetrics, by CSV key) over the replicates: its mean, 95% interval
   * and per-replicate values. The row's other fields are the means over the replicates.
   */
  intervals: Record<string, Interval | null>;
}

/** A policy against the reference (DEFAULT): each table figure's paired difference, policy minus reference. */
export interface PolicyDifference {
  policy: PolicyName;
  against: PolicyName;
  /** By CSV key: the mean of the per-replicate differences and its 95% interval (null where the figure does not apply). */
  figures: Record<string, Interval | null>;
}

/** One replicate: its seed and the error stream it drew. */
export interface ReplicateSummary {
  replicate: number;
  seed: number;
  stream: StreamSummary & { uesHandled: number; digest: string };
}

/** A study's results as data: what ran, the baselines, and one row per policy. */
export interface StudyReport {
  scenario: Scenario;
  /** What an operator decides from: a few sentences and the headline figures, with intervals. */
  verdict: Verdict;
  /** The kernel behaviour the study ran (KEEP version, log-line generation). */
  kernel: KernelBehaviour;
  /** The first replicate's stream (the scenario's seed). */
  stream: StreamSummary & { uesHandled: number; digest: string };
  /** Every replicate's seed and stream. */
  replicates: ReplicateSummary[];
  steps: number;
  /** The simulated time at the end of each step, in years. */
  stepYears: number[];
  /** Simulated host-years per run and replicate, and per second of wall time over all runs (baseline included). */
  hostYears: number;
  hostYearsPerSecond: number;
  wallSeconds: number;
  /** Translation without errors, per backing of the guest memory (HugeTLB first). */
  baselines: { backing: Backing; walksPerKiloAccess: number; walkCyclesPerAccess: number; walkShare: number; accesses: number }[];
  /** One row per policy: the means over the replicates, with intervals. */
  policies: PolicyRow[];
  /** Each policy but the reference against it, replicate by replicate (empty without DEFAULT in the study). */
  differences: PolicyDifference[];
  /** The error-rate profile the stream was generated from (null for a stream file). */
  errorProfile: { name: ProfileName; summary: string; sources: readonly string[] } | null;
  /** The recovery cost model's unit costs the latencies were priced with, and their sources. */
  costTable: { settings: CostSettings; entries: CostEntry[] };
}

/** The reference the other policies are compared with, when the study runs it. */
const REFERENCE: PolicyName = 'default';

/** The report of a study's runs (the verdict, table, CSV, JSON and HTML are drawn from it). */
export function buildReport(r: StudyRuns): StudyReport {
  const cyclesPerAccess = r.scenario.translation.cyclesPerAccess ?? DEFAULT_TLB.cyclesPerAccess;
  const baselineOf = (rep: ReplicateRuns, policy: PolicyName) => rep.baselines.find((b) => b.backing === POLICIES[policy].backing)!;
  // Rows per replicate, then per policy: the same policy's row under every replicate.
  const byReplicate = r.replicates.map((rep) => rep.policies.map((run) => policyRow(run, baselineOf(rep, run.name as PolicyName), r.scenario, cyclesPerAccess)));
  const byPolicy = r.scenario.policies.map((_, i) => byReplicate.map((rows) => rows[i]!));
  const streamOf = (rep: ReplicateRuns) => ({ ...rep.stream, uesHandled: rep.policies[0]?.uesHandled ?? 0, digest: rep.policies[0]?.ueDigest ?? '' });
  const runsPerReplicate = r.policies.length + r.baselines.length;
  const report: StudyReport = {
    scenario: r.scenario,
    verdict: { replicates: r.replicates.length, reference: null, sentences: [], rows: [] },
    kernel: kernelBehaviour(r.scenario.fleet.keepVersion),
    stream: streamOf(r.replicates[0]!),
    replicates: r.replicates.map((rep) => ({ replicate: rep.replicate, seed: rep.seed, stream: streamOf(rep) })),
    steps: r.steps,
    stepYears: Array.from({ length: r.steps }, (_, i) => ((i + 1) * r.scenario.years) / r.steps),
    hostYears: r.hostYears,
    hostYearsPerSecond: (r.hostYears * runsPerReplicate * r.replicates.length) / r.wallSeconds,
    wallSeconds: r.wallSeconds,
    baselines: r.baselines.map((b) => {
      const f = translationFigures(b.total.translation, cyclesPerAccess);
      return { backing: b.backing, walksPerKiloAccess: f.walksPerKiloAccess, walkCyclesPerAccess: f.walkCyclesPerAccess, walkShare: f.walkShare, accesses: f.accesses };
    }),
    policies: byPolicy.map((rows) => ({ ...meanOf(rows), intervals: {} })),
    differences: [],
    errorProfile: errorProfileOf(r.scenario),
    costTable: { settings: costSettingsOf(r.scenario), entries: costTable(costSettingsOf(r.scenario)) },
  };
  // Every table figure over the replicates, and paired against the reference.
  const metrics = studyMetrics(report);
  const valuesOf = (rows: PolicyRow[], m: (typeof metrics)[number]) => rows.map((row) => m.value(row));
  byPolicy.forEach((rows, i) => {
    report.policies[i]!.intervals = Object.fromEntries(metrics.map((m) => [m.key, intervalOf(valuesOf(rows, m))]));
  });
  const ref = r.scenario.policies.indexOf(REFERENCE);
  if (ref >= 0) {
    report.differences = byPolicy.flatMap((rows, i) => i === ref ? [] : [{
      policy: r.scenario.policies[i]!,
      against: REFERENCE,
      figures: Object.fromEntries(metrics.map((m) => {
        const a = valuesOf(rows, m);
        const b = valuesOf(byPolicy[ref]!, m);
        return [m.key, a.some((v) => v === null) || b.some((v) => v === null) ? null : pairedDifference(a as number[], b as number[])];
      })),
    }]);
  }
  report.verdict = studyVerdict(report);
  return report;
}

/** A figure's interval over the replicates where it applies (null where it applies in none). */
function intervalOf(values: (number | null)[]): Interval | null {
  const known = values.filter((v): v is number => v !== null);
  return known.length === 0 ? null : interval(known);
}

/**
 * The mean of same-shaped records, field by field: numbers averaged, strings and nulls
 * taken from the first (one record comes back unchanged).
 */
function meanOf<T>(records: readonly T[]): T {
  const first = records[0] as unknown;
  if (typeof first === 'number') return ((records as readonly number[]).reduce((s, v) => s + v, 0) / records.length) as T;
  if (first === null || typeof first !== 'object') return first as T;
  if (Array.isArray(first)) return first.map((_, i) => meanOf(records.map((r) => (r as unknown[])[i]))) as T;
  return Object.fromEntries(Object.keys(first).map((k) => [k, meanOf(records.map((r) => (r as Record<string, unknown>)[k]))])) as T;
}

function errorProfileOf(s: Scenario): StudyReport['errorProfile'] {
  const name = s.errors.generate?.profile;
  if (name === undefined) return null;
  const { summary, sources } = ERROR_PROFILES[name];
  return { name, summary, sources };
}

/** One policy's row in one replicate (its intervals come with the report). */
function policyRow(run: RunOutcome, baseline: RunOutcome, scenario: Scenario, cyclesPerAccess: number): PolicyRow {
  const policy = run.name as PolicyName;
  const t = run.total;
  const released = scenario.releaseAtEnd;
  const thpAtBoot = (POLICIES[policy].host(studyHost(scenario).host).thpPages ?? 0) * scenario.fleet.hosts;
  const f = translationFigures(t.translation, cyclesPerAccess);
  const pools = (s: HostStats) => s.pools['1G'].nr - s.pools['1G'].free + s.pools['2M'].nr - s.pools['2M'].free;
  return {
    policy,
    label: POLICIES[policy].label,
    short: POLICIES[policy].short,
    summary: POLICIES[policy].summary,
    memoryLostBytes: t.bytesLost,
    rawPagesPoisoned: t.rawPagesPoisoned,
    hugepagesOfflined: t.hugepagesLost,
    hugepagesLeaked: released ? pools(t) : null,
    hugepagesDissolved: t.dissolves,
    thpFoliosRetired: POLICIES[policy].backing === 'thp' ? thpAtBoot - t.thp.total : null,
    vmemmapPagesRestored: t.vmemmapPagesRestored,
    buddyPagesReturned: t.buddyPagesReturned,
    sigbus: { total: t.sigbus, ...t.sigbusByCode },
    repeatedConsumption: t.repeatedConsumption,
    refcountUnderflows: policy === 'keep' ? t.refcountUnderflows : null,
    vmsKilled: t.killed,
    accessesFailed: t.accesses - t.ok,
    accesses: t.accesses,
    memoryFailure: t.memoryFailure,
    splitPageTablePages: run.recovery.work.splitTables,
    affectedVms: affectedVmFigures(run.perVm, baseline.perVm, t.sigbus, cyclesPerAccess),
    translation: {
      walksPerKiloAccess: f.walksPerKiloAccess,
      walkCyclesPerAccess: f.walkCyclesPerAccess,
      ...translationLoss(run.perHost, baseline.perHost, cyclesPerAccess),
    },
    recovery: { ...run.recovery, percentiles: run.latencyPercentiles, releasePercentiles: run.releasePercentiles },
    series: run.series,
    ueDigest: run.ueDigest,
    uesHandled: run.uesHandled,
    intervals: {},
  };
}

/**
 * Translation throughput lost against the baseline, over the hosts where no VM died: a dead
 * VM's missing accesses would change the mix of accesses, not the cost of translating them.
 */
function translationLoss(hosts: readonly HostStats[], baseline: readonly HostStats[], cyclesPerAccess: number): { throughputLoss: number; worstHostThroughputLoss: number } {
  const alive = hosts.map((_, h) => h).filter((h) => hosts[h]!.killed === 0);
  const loss = (run: HostStats, base: HostStats) => throughputLoss(run.translation, base.translation, cyclesPerAccess);
  return {
    throughputLoss: loss(sumStats(alive.map((h) => hosts[h]!)), sumStats(alive.map((h) => baseline[h]!))),
    // A fold, not Math.max(...): spreading a large fleet's hosts overflows the call stack.
    worstHostThroughputLoss: alive.reduce((worst, h) => Math.max(worst, loss(hosts[h]!, baseline[h]!)), alive.length === 0 ? 0 : -Infinity),
  };
}

/** The error-free translation figures in words, one clause per backing. */
export function baselineText(r: StudyReport): string {
  const what = { hugetlb: 'HugeTLB', thp: 'THP' } as const;
  return r.baselines
    .map((b) => `${r.baselines.length > 1 ? `${what[b.backing]}: ` : ''}${formatNumber(b.walksPerKiloAccess, 1)} page walks per 1,000 accesses, ${formatPercent(b.walkShare, 1)} of cycles walking`)
    .join('; ') + ` (nested levels ${r.scenario.translation.nestedLevels})`;
}
