// `mfrsim study`: every policy on the same seeded error stream and workload, compared side
// by side on the terminal, and in JSON, CSV and a self-contained HTML report (docs/study.md).
import { Command, InvalidArgumentError } from 'commander';
import { formatCsv } from '../../study/csv.js';
import { DEFAULT_SCENARIO } from '../../study/default-scenario.js';
import { formatHtml } from '../../study/html.js';
import { studyProgress } from '../../study/progress.js';
import { buildReport } from '../../study/report.js';
import { POLICY_NAMES, type PolicyName } from '../../study/policies.js';
import { runStudy } from '../../study/run.js';
import { costSettingsOf, loadScenario, MAX_REPLICATES, parseScenario, replicatesProblem, type Scenario } from '../../study/scenario.js';
import { UsageError } from '../usage-error.js';
import { formatCostTable } from '../../costs/cost-table.js';
import { formatTable } from '../../study/table.js';
import { integerFlag, seedFlag } from '../flags.js';
import { addHelpExamples } from '../help.js';
import { checkInputs, checkOutputs, writeOutputs } from '../output.js';
import { addQueueOptions, openQueue, type QueueFlags } from '../queue.js';

interface StudyFlags extends QueueFlags {
  json?: string;
  csv?: string;
  html?: string;
  seed?: number;
  replicates?: number;
  policies?: PolicyName[];
  workers?: number;
  hostsPerShard?: number;
  showScenario?: boolean;
  showCosts?: boolean;
}

/** Shards on a queue default to at most this many host-years: enough jobs to spread, few enough to stay cheap. */
const QUEUE_SHARD_HOST_YEARS = 100;

function policyList(value: string): PolicyName[] {
  const names = value.split(',').map((n) => n.trim());
  const unknown = names.filter((n) => !(POLICY_NAMES as string[]).includes(n));
  if (unknown.length > 0) throw new InvalidArgumentError(`unknown ${unknown.length > 1 ? 'policies' : 'policy'} ${unknown.join(', ')}; choose from ${POLICY_NAMES.join(', ')}.`);
  if (new Set(names).size !== names.length) throw new InvalidArgumentError('a policy is listed twice.');
  return names as PolicyName[];
}

async function runStudyCommand(file: string | undefined, o: StudyFlags): Promise<void> {
  await checkInputs([{ flag: 'the scenario', path: file }]);
  await checkOutputs([{ flag: '--json', path: o.json }, { flag: '--csv', path: o.csv }, { flag: '--html', path: o.html, stdout: false }], [file]);
  const scenario: Scenario = file ? await loadScenario(file) : parseScenario(DEFAULT_SCENARIO, 'the default scenario');
  if (o.seed !== undefined) scenario.seed = o.seed;
  if (o.replicates !== undefined) scenario.replicates = o.replicates;
  const oneDraw = replicatesProblem(scenario);
  if (oneDraw) throw new UsageError(`${file}: ${oneDraw}`);
  if (o.policies !== undefined) scenario.policies = o.policies;
  if (o.showScenario) {
    process.stdout.write(`${JSON.stringify(scenario, null, 2)}\n`);
    return;
  }
  if (o.showCosts) {
    process.stdout.write(`${formatCostTable(costSettingsOf(scenario))}\n`);
    return;
  }
  const queue = await openQueue(o, 'study');
  try {
    const hostsPerShard = o.hostsPerShard ?? (queue ? Math.max(1, Math.min(Math.ceil(scenario.fleet.hosts / 16), Math.ceil(QUEUE_SHARD_HOST_YEARS / scenario.years))) : undefined);
    const progress = queue ? undefined : studyProgress();
    const onNotice = (message: string) => process.stderr.write(`mfrsim: ${message}\n`);
    const runs = await runStudy(scenario, { workers: o.workers, hostsPerShard, executor: queue?.executor, onProgress: progress?.update, onNotice }).finally(() => progress?.stop());
    const report = buildReport(runs);
    if (o.json !== '-' && o.csv !== '-') process.stdout.write(`${formatTable(report)}\n`);
    // Every output is rendered first, then all are written together: none appears unless all do.
    await writeOutputs([
      { path: o.json, text: `${JSON.stringify(report, null, 2)}\n` },
      { path: o.csv, text: o.csv ? formatCsv(report) : '' },
      { path: o.html, text: o.html ? await formatHtml(report) : '' },
    ]);
    await queue?.finished();
  } finally {
    await queue?.close();
  }
}

export function registerStudyCommand(program: Command): void {
  const cmd = program
    .command('study')
    .description('compare the recovery policies on the same seeded error streams and workloads, one per replicate (default: a 1 GiB-HugeTLB cloud region over 3 years, 8 replicates)')
    .argument('[scenario]', 'scenario file (JSON, docs/study.md); default: the embedded cloud-region scenario')
    .option('--json <file>', 'write the full results as JSON ("-": stdout, instead of the table)')
    .option('--csv <file>', 'write the side-by-side table as CSV ("-": stdout, instead of the table)')
    .option('--html <file>', 'write a self-contained HTML report with charts')
    .option('--seed <s>', "override the scenario's seed (error stream and workload), 0..2^32-1", seedFlag)
    .option('--replicates <n>', `run the study under n independent seeds (error streams and workloads) and report 95% intervals, 1..${MAX_REPLICATES} (default: the scenario's, else 1)`, integerFlag(1, MAX_REPLICATES))
    .option('--policies <list>', `override the scenario's policies, comma-separated, in column order (${POLICY_NAMES.join(', ')})`, policyList)
    .option('--workers <n>', 'worker threads (default: one per core; at most one per core; 0 runs on the main thread)', integerFlag(0, 1024))
    .option('--hosts-per-shard <n>', 'hosts per shard (default: 8 shards per worker thread; with --queue, at most 100 host-years a shard); figures do not depend on it', integerFlag(1, 1e7))
    .option('--show-scenario', 'print the scenario as it would run (defaults filled in) and exit')
    .option('--show-costs', "print the recovery cost model's unit costs for the scenario's hosts (HVO, environment), each with its source, and exit");
  addQueueOptions(cmd)
    .action((file: string | undefined, o: StudyFlags) => runStudyCommand(file, o));
  addHelpExamples(cmd, [
    ['mfrsim study --html report.html --json study.json', 'the embedded cloud-region scenario: the verdict and table, an HTML report, every figure as JSON'],
    ['mfrsim study examples/study-2m-vms.json --replicates 10 --csv -', 'ten independent draws of a scenario file: means, 95% intervals and every draw as CSV on stdout'],
    ['mfrsim study --show-costs', "the recovery cost model's unit costs and their sources"],
  ]);
}
