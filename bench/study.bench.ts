// Study throughput: the default scenario (1,000 hosts x 3 years, four policies and the
// error-free baselines of HugeTLB and THP) end to end, in simulated host-years per second over all runs, and
// the share of it spent outside the replay (error stream, boot, reports). One run: it takes
// tens of seconds; the target is the whole default study in under 2 minutes on 2 cores.
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { DEFAULT_SCENARIO } from '../src/study/default-scenario.js';
import { formatHtml } from '../src/study/html.js';
import { buildReport } from '../src/study/report.js';
import { runStudy } from '../src/study/run.js';
import { parseScenario } from '../src/study/scenario.js';

export async function benchStudy(): Promise<Record<string, unknown>> {
  const scenario = parseScenario(DEFAULT_SCENARIO);
  const runs = await runStudy(scenario);
  const started = performance.now();
  const report = buildReport(runs);
  await formatHtml(report);
  const reportSeconds = (performance.now() - started) / 1000;
  const accesses = [...runs.baselines, ...runs.policies].reduce((n, r) => n + r.total.accesses, 0);
  return {
    scenario: scenario.name,
    workers: availableParallelism(),
    runs: runs.policies.length + runs.baselines.length,
    hostYearsPerRun: runs.hostYears,
    studySeconds: runs.wallSeconds,
    reportSeconds,
    hostYearsPerSecond: report.hostYearsPerSecond,
    sampledAccessesPerSecond: accesses / runs.wallSeconds,
    uesPerRun: runs.stream.ues,
    targets: { defaultStudySeconds: 120 },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify(await benchStudy(), null, 2));
}
