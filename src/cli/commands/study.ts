// `mfrsim study`: every policy on the same seeded error stream and workload, compared side
// by side on the terminal, and in JSON, CSV and a self-contained HTML report (docs/study.md).
import { writeFile } from 'node:fs/promises';
import { Command, InvalidArgumentError } from 'commander';
import { formatCsv } from '../../study/csv.js';
import { DEFAULT_SCENARIO } from '../../study/default-scenario.js';
import { formatHtml } from '../../study/html.js';
import { studyProgress } from '../../study/progress.js';
import { buildReport } from '../../study/report.js';
import { POLICY_NAMES, type PolicyName } from '../../study/policies.js';
import { runStudy } from '../../study/run.js';
import { loadScenario, parseScenario, type Scenario } from '../../study/scenario.js';
import { formatTable } from '../../study/table.js';

interface StudyFlags {
  json?: string;
  csv?: string;
  html?: string;
  seed?: number;
  policies?: PolicyName[];
  workers?: number;
  showScenario?: boolean;
}

function seedValue(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new InvalidArgumentError('must be an integer from 0 to 2^32-1.');
  return n;
}

function policyList(value: string): PolicyName[] {
  const names = value.split(',').map((n) => n.trim());
  const unknown = names.filter((n) => !(POLICY_NAMES as string[]).includes(n));
  if (unknown.length > 0) throw new InvalidArgumentError(`unknown ${unknown.length > 1 ? 'policies' : 'policy'} ${unknown.join(', ')}; choose from ${POLICY_NAMES.join(', ')}.`);
  if (new Set(names).size !== names.length) throw new InvalidArgumentError('a policy is listed twice.');
  return names as PolicyName[];
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('must be a non-negative integer.');
  return n;
}

async function output(target: string, text: string): Promise<void> {
  if (target === '-') process.stdout.write(text);
  else await writeFile(target, text);
}

async function runStudyCommand(file: string | undefined, o: StudyFlags): Promise<void> {
  if (o.json === '-' && o.csv === '-') throw new Error('only one of --json and --csv can write to stdout');
  const scenario: Scenario = file ? await loadScenario(file) : parseScenario(DEFAULT_SCENARIO, 'the default scenario');
  if (o.seed !== undefined) scenario.seed = o.seed;
  if (o.policies !== undefined) scenario.policies = o.policies;
  if (o.showScenario) {
    process.stdout.write(`${JSON.stringify(scenario, null, 2)}\n`);
    return;
  }
  const progress = studyProgress();
  const onNotice = (message: string) => process.stderr.write(`mfrsim: ${message}\n`);
  const runs = await runStudy(scenario, { workers: o.workers, onProgress: progress.update, onNotice }).finally(() => progress.stop());
  const report = buildReport(runs);
  if (o.json !== '-' && o.csv !== '-') process.stdout.write(`${formatTable(report)}\n`);
  if (o.json) await output(o.json, `${JSON.stringify(report, null, 2)}\n`);
  if (o.csv) await output(o.csv, formatCsv(report));
  if (o.html) await writeFile(o.html, await formatHtml(report));
}

export function registerStudyCommand(program: Command): void {
  program
    .command('study')
    .description('compare the recovery policies on one seeded error stream and workload (default: a 1 GiB-HugeTLB cloud region over 3 years)')
    .argument('[scenario]', 'scenario file (JSON, docs/study.md); default: the embedded cloud-region scenario')
    .option('--json <file>', 'write the full results as JSON ("-": stdout, instead of the table)')
    .option('--csv <file>', 'write the side-by-side table as CSV ("-": stdout, instead of the table)')
    .option('--html <file>', 'write a self-contained HTML report with charts')
    .option('--seed <s>', "override the scenario's seed (error stream and workload)", seedValue)
    .option('--policies <list>', `override the scenario's policies, comma-separated, in column order (${POLICY_NAMES.join(', ')})`, policyList)
    .option('--workers <n>', 'worker threads (default: one per core; at most one per core; 0 runs on the main thread)', nonNegativeInt)
    .option('--show-scenario', 'print the scenario as it would run (defaults filled in) and exit')
    .action((file: string | undefined, o: StudyFlags) => runStudyCommand(file, o));
}
