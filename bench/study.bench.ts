// The default study (`mfrsim study`: replicates of a cloud region over 3 years, four policies
// and the error-free baselines of HugeTLB and THP; target: under 2 minutes on 2 cores):
// - A/B as whole processes, alternating, on the same work: the baseline commit's default
//   study against this tree running the baseline's scenario (its `--show-scenario`, with the
//   jaguar-ddr2 error profile, which reproduces the baseline's error stream exactly); their
//   operator figures must agree;
// - this tree's default study on one worker against two (2-worker scaling), same report;
// - where the time goes: one run in this process, with the shards' timers (summed over the
//   workers), the error streams, the transfer of results and their merge, and the report; the
//   translation model's share of the sampled-access replay is measured on a sample of hosts
//   replaying the same accesses with the model and without it.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FleetShard, REPLAY_BATCH, hostSeed } from '../src/fleet/shard.js';
import { HostAccessStream, type GuestAccesses } from '../src/study/access.js';
import { formatCsv } from '../src/study/csv.js';
import { DEFAULT_SCENARIO } from '../src/study/default-scenario.js';
import { studyHost } from '../src/study/host-spec.js';
import { formatHtml } from '../src/study/html.js';
import { POLICIES } from '../src/study/policies.js';
import { buildReport } from '../src/study/report.js';
import { runStudy } from '../src/study/run.js';
import { parseScenario, studySteps, type Scenario } from '../src/study/scenario.js';
import { formatTable } from '../src/study/table.js';
import { baselineCli, CLI, median, runCli, type ProcessRun } from './processes.js';

const ROUNDS = 2;
/** Hosts and steps of the translation model's sample (all steps replay in one call). */
const SAMPLE_HOSTS = 16;
const SAMPLE_STEPS = 32;

/** A study report without the figures that are timings. */
function figures(json: string): string {
  const report = JSON.parse(readFileSync(json, 'utf8')) as Record<string, unknown>;
  delete report.wallSeconds;
  delete report.hostYearsPerSecond;
  return JSON.stringify(report);
}

/** The operator figures of a report, which the baseline's reports have too. */
function operatorFigures(json: string): string {
  const report = JSON.parse(readFileSync(json, 'utf8')) as { stream: { digest: string }; policies: { policy: string; memoryLostBytes: number; rawPagesPoisoned: number; vmsKilled: number; hugepagesOfflined: number; sigbus: { total: number } }[] };
  return JSON.stringify({
    stream: report.stream.digest,
    policies: report.policies.map((p) => [p.policy, p.memoryLostBytes, p.rawPagesPoisoned, p.vmsKilled, p.hugepagesOfflined, p.sigbus.total]),
  });
}

function summary(list: ProcessRun[], hostYears: number): Record<string, number> {
  const seconds = median(list.map((r) => r.seconds));
  return {
    medianSeconds: +seconds.toFixed(1),
    runs: list.length,
    // Host-years of the study (every run and replicate, baselines included) per second of the whole process.
    hostYearsPerSecond: +(hostYears / seconds).toFixed(0),
    medianCpuSeconds: +median(list.map((r) => r.cpuSeconds)).toFixed(1),
  };
}

/** Simulated host-years of a scenario: every run (policies and baselines) of every replicate. */
function studyHostYears(s: { policies: string[]; fleet: { hosts: number }; years: number; replicates?: number }): number {
  const runs = s.policies.length + new Set(s.policies.map((p) => POLICIES[p as keyof typeof POLICIES].backing)).size;
  return runs * s.fleet.hosts * s.years * (s.replicates ?? 1);
}

/** Alternating whole processes: each variant runs `study ... --json FILE` once per round. */
async function alternate(dir: string, variants: [string, string, string[]][]): Promise<{ runs: Record<string, ProcessRun[]>; json: Record<string, string> }> {
  const runs: Record<string, ProcessRun[]> = {};
  const json: Record<string, string> = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, cli, args] of variants) {
      json[name] = join(dir, `${name.replace(/ /g, '-')}.json`);
      (runs[name] ??= []).push(await runCli(cli, ['study', ...args, '--json', json[name]!]));
    }
  }
  return { runs, json };
}

/** Whole `mfrsim study` processes: the baseline commit against this tree on its scenario, and 1 worker against 2. */
async function processes(dir: string, scenario: Scenario): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const secondsOf = (list: ProcessRun[]) => median(list.map((r) => r.seconds));
  const cpuOf = (list: ProcessRun[]) => median(list.map((r) => r.cpuSeconds));

  const base = await baselineCli();
  if (base) {
    const shown = JSON.parse(execFileSync(process.execPath, [base, 'study', '--show-scenario'], { encoding: 'utf8' })) as Scenario & { errors: { generate: Record<string, unknown> } };
    shown.errors.generate.profile = 'jaguar-ddr2';
    const file = join(dir, 'baseline-default.json');
    writeFileSync(file, JSON.stringify(shown));
    const ab = await alternate(dir, [['baseline', base, []], ['mfrsim on the baseline scenario', CLI, [file]]]);
    const hostYears = studyHostYears(shown);
    out.baselineScenario = {
      name: shown.name, hosts: shown.fleet.hosts, years: shown.years,
      baseline: summary(ab.runs.baseline!, hostYears),
      mfrsim: summary(ab.runs['mfrsim on the baseline scenario']!, hostYears),
      speedupOverBaseline: +(secondsOf(ab.runs.baseline!) / secondsOf(ab.runs['mfrsim on the baseline scenario']!)).toFixed(2),
      cpuSpeedupOverBaseline: +(cpuOf(ab.runs.baseline!) / cpuOf(ab.runs['mfrsim on the baseline scenario']!)).toFixed(2),
      sameOperatorFigures: operatorFigures(ab.json.baseline!) === operatorFigures(ab.json['mfrsim on the baseline scenario']!),
    };
  }

  const scaling = await alternate(dir, [['mfrsim', CLI, []], ['mfrsim 1 worker', CLI, ['--workers', '1']]]);
  const hostYears = studyHostYears(scenario);
  out.default = {
    mfrsim: summary(scaling.runs.mfrsim!, hostYears),
    oneWorker: summary(scaling.runs['mfrsim 1 worker']!, hostYears),
    twoWorkerScaling: +(secondsOf(scaling.runs['mfrsim 1 worker']!) / secondsOf(scaling.runs.mfrsim!)).toFixed(2),
    sameReportOnOneWorker: figures(scaling.json['mfrsim 1 worker']!) === figures(scaling.json.mfrsim!),
  };
  return out;
}

/**
 * The translation model's share of replaying sampled accesses: the same accesses of a few
 * hosts (all their sampled steps in one call) replayed by two kernels, one with the model
 * on, alternating which goes first, per backing; CPU time of this process, which other load
 * on the machine barely changes.
 */
function translationShare(scenario: Scenario): Record<string, number> {
  const { host, access } = studyHost(scenario);
  const perStep = access.reduce((n, a) => n + a.accessesPerStep, 0);
  const events = SAMPLE_STEPS * perStep;
  if (events > REPLAY_BATCH) throw new Error(`the translation sample needs ${events} events per call, above ${REPLAY_BATCH}`);
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  const out: Record<string, number> = {};
  for (const [backing, policy] of [['hugetlb', 'default'], ['thp', 'thp']] as const) {
    const hosts = Array.from({ length: SAMPLE_HOSTS }, (_, i) => ({ ...POLICIES[policy].host(host), seed: hostSeed(scenario.seed, i) }));
    const shards = [FleetShard.create(hosts, { signalLogCapacity: 0 }), FleetShard.create(hosts, { signalLogCapacity: 0 })];
    shards[0]!.enableTranslationModel(scenario.translation);
    const seconds = [0, 0];
    const drawn: GuestAccesses = { vm: new Uint32Array(events), offset: new Float64Array(events), write: new Uint8Array(events) };
    for (let h = 0; h < SAMPLE_HOSTS; h++) {
      const vms = shards[0]!.vms.filter((vm) => vm.host === h);
      new HostAccessStream(vms.map((vm, v) => ({ size: vm.size, model: access[v]! })), scenario.seed, h).fill(drawn, events);
      for (const k of h % 2 ? [1, 0] : [0, 1]) {
        const shard = shards[k]!;
        const own = shard.vms.filter((vm) => vm.host === h);
        const cols = shard.accessColumns();
        for (let j = 0; j < events; j++) {
          const vm = own[drawn.vm[j]!]!;
          cols.proc[j] = vm.proc;
          cols.va[j] = vm.base + drawn.offset[j]!;
          cols.write[j] = drawn.write[j]!;
        }
        const t = cpu();
        shard.replayAccesses(events);
        seconds[k]! += cpu() - t;
      }
    }
    out[`${backing}NsPerAccessWithModel`] = +((seconds[0]! / (SAMPLE_HOSTS * events)) * 1e9).toFixed(1);
    out[`${backing}NsPerAccessWithout`] = +((seconds[1]! / (SAMPLE_HOSTS * events)) * 1e9).toFixed(1);
  }
  const share = (b: string) => 1 - out[`${b}NsPerAccessWithout`]! / out[`${b}NsPerAccessWithModel`]!;
  // The runs of both backings replay about as many sampled accesses: the share is their mean.
  out.share = +((share('hugetlb') + share('thp')) / 2).toFixed(3);
  return out;
}

/** One run in this process: where the time goes. */
async function breakdown(scenario: Scenario): Promise<Record<string, unknown>> {
  const runs = await runStudy(scenario);
  const { profile } = runs;
  let t = performance.now();
  const report = buildReport(runs);
  const text = `${formatTable(report)}\n${JSON.stringify(report)}\n${formatCsv(report)}`;
  const reportSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  await formatHtml(report);
  const htmlSeconds = (performance.now() - t) / 1000;
  const tlb = translationShare(scenario);
  const s = profile.shards;
  const r3 = (x: number) => +x.toFixed(3);
  return {
    wallSeconds: r3(runs.wallSeconds),
    // Seconds, the shards' items summed over the workers (they run in parallel).
    mainThread: { errorStream: r3(profile.errorStream), workerTransfer: r3(profile.transfer), merge: r3(profile.merge), report: r3(reportSeconds), reportBytes: text.length, html: r3(htmlSeconds) },
    workers: {
      boot: r3(s.boot),
      accessDraw: r3(s.accessDraw),
      accessReplayLoop: r3(s.accessReplay * (1 - tlb.share!)),
      translationModel: r3(s.accessReplay * tlb.share!),
      ueReplay: r3(s.ueReplay),
      sampling: r3(s.sampling),
      release: r3(s.release),
      other: r3(s.total - s.boot - s.accessDraw - s.accessReplay - s.ueReplay - s.sampling - s.release),
      total: r3(s.total),
    },
    translationSample: tlb,
    hostRunsSimulated: profile.hostRuns,
    hostRunsInStudy: (runs.policies.length + runs.baselines.length) * scenario.fleet.hosts * runs.replicates.length,
    accesses: runs.replicates.flatMap((r) => [...r.baselines, ...r.policies]).reduce((n, x) => n + x.total.accesses, 0),
  };
}

export async function benchStudy(): Promise<Record<string, unknown>> {
  const scenario = parseScenario(DEFAULT_SCENARIO);
  const runCount = scenario.policies.length + new Set(scenario.policies.map((p) => POLICIES[p].backing)).size;
  const dir = mkdtempSync(join(tmpdir(), 'mfrsim-bench-study-'));
  try {
    const whole = await processes(dir, scenario);
    const inProcess = await breakdown(scenario);
    return {
      scenario: scenario.name,
      workers: availableParallelism(),
      runs: runCount,
      replicates: scenario.replicates,
      hostYearsPerRun: scenario.fleet.hosts * scenario.years,
      hostYearsInStudy: studyHostYears(scenario),
      steps: studySteps(scenario).steps,
      wholeProcess: whole,
      breakdown: inProcess,
      targets: { defaultStudySeconds: 120, speedupOverBaseline: 2, twoWorkerScaling: 1.8 },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify(await benchStudy(), null, 2));
}
