// The study's reports: the terminal table, CSV and JSON agree with the policy rows; the HTML
// report opens offline in headless Chromium with every chart drawn; `mfrsim study` writes
// all of them and rejects a bad scenario with its JSON path.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { chromium } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UsageError } from '../src/cli/usage-error.js';
import { registerStudyCommand } from '../src/cli/commands/study.js';
import { formatCsv } from '../src/study/csv.js';
import { DEFAULT_SCENARIO } from '../src/study/default-scenario.js';
import { formatHtml } from '../src/study/html.js';
import { shownMetrics, studyMetrics } from '../src/study/metrics.js';
import { buildReport, type StudyReport } from '../src/study/report.js';
import { runStudy } from '../src/study/run.js';
import { parseScenario, type ScenarioInput } from '../src/study/scenario.js';
import { formatTable } from '../src/study/table.js';

/** The default scenario cut down to seconds, with UEs on most hosts. */
const quick: ScenarioInput = {
  ...structuredClone(DEFAULT_SCENARIO),
  name: 'quick',
  replicates: 1,
  years: 2,
  stepsPerYear: 4,
  fleet: { ...DEFAULT_SCENARIO.fleet, hosts: 30 },
  errors: { generate: { mode: 'incident', incident: { perHostYear: 1, classWeights: [0.5, 0.3, 0.2, 0] } } },
};

let report: StudyReport;
let dir: string;

test.before(async () => {
  report = buildReport(await runStudy(parseScenario(quick), { workers: 0 }));
  dir = await mkdtemp(join(tmpdir(), 'mfrsim-study-'));
});

test('the terminal report opens with the verdict, then operator and kernel figures, within 100 columns', () => {
  const text = formatTable(report);
  const lines = text.split('\n');
  for (const p of report.policies) assert.ok(text.includes(`${p.short}: ${p.label}`), `legend of ${p.label}`);
  for (const m of studyMetrics(report)) assert.ok(text.includes(m.label.trim()), m.label);
  assert.ok(text.includes('  after year 1'));
  const at = (heading: string) => lines.indexOf(heading);
  assert.ok(at('VERDICT') > 0 && at('VERDICT') < at('OPERATOR FIGURES (totals over the fleet and the study; means over the replicates)'));
  assert.ok(at('OPERATOR FIGURES (totals over the fleet and the study; means over the replicates)') < at('KERNEL FIGURES'));
  assert.match(text, /One replicate of 30 hosts over 2 years/);
  assert.match(text, /hugepage memory saved +reference +\S/);
  assert.match(text, /simulated host-years\/s/);
  for (const line of lines) assert.ok(line.length <= 100, `${line.length} columns: ${line}`);
});

test('a figure that applies to none of the policies stays out of the table, not out of the CSV', () => {
  const hugetlbOnly = { ...report, policies: report.policies.filter((p) => p.policy !== 'thp') };
  assert.ok(formatTable(report).includes('THP folios out of THP memory'));
  assert.not.ok(formatTable(hugetlbOnly).includes('THP folios out of THP memory'));
  assert.ok(formatCsv(hugetlbOnly).split('\n')[0]!.split(',').includes('thp_folios_retired'));
});

test('the CSV has one row per policy and replicate with the raw figures', () => {
  const lines = formatCsv(report).trimEnd().split('\n');
  assert.is(lines.length, 1 + report.policies.length + report.differences.length, 'one replicate: no interval rows');
  const header = lines[0]!.split(',');
  assert.equal(header.slice(0, 7), ['policy', 'label', 'row', 'replicate', 'seed', 'memory_lost_bytes', 'memory_lost_bytes_year_1']);
  const rows = lines.slice(1, 1 + report.policies.length).map((l) => l.split(','));
  for (const [i, row] of rows.entries()) {
    assert.equal(row.slice(2, 5), ['replicate', '1', String(report.scenario.seed)]);
    const p = report.policies[i]!;
    assert.is(row.length, header.length);
    assert.is(row[0], p.policy);
    assert.is(Number(row[header.indexOf('memory_lost_bytes')]), p.memoryLostBytes);
    assert.is(Number(row[header.indexOf('sigbus_mceerr_ar')]), p.sigbus.BUS_MCEERR_AR);
  }
});

test('KEEP and HGM report a release latency beside the memory_failure latency; DEFAULT and THP none', () => {
  const row = (p: string) => report.policies.find((r) => r.policy === p)!;
  for (const p of ['keep', 'hgm']) {
    const r = row(p).recovery;
    assert.ok(r.release.dissolves > 0 && r.release.dissolves === r.release.events, p);
    // 1 GiB hugepages with HVO on bare metal: each release dissolve costs the arm64 series' 1.57 ms.
    assert.ok(Math.abs(r.release.p50Ns - 1.567e6) / 1.567e6 < 0.001, `${p}: ${r.release.p50Ns}`);
    assert.is(r.releasePercentiles.length, r.percentiles.length);
  }
  for (const p of ['default', 'thp']) assert.is(row(p).recovery.release.events, 0, p);
  const text = formatTable(report);
  assert.match(text, /memory_failure latency p50/);
  assert.match(text, /release latency p50 +-/, 'DEFAULT dissolves nothing at release');
  const header = formatCsv(report).split('\n')[0]!.split(',');
  for (const key of ['recovery_p50_ns', 'release_p50_ns', 'release_total_ns', 'release_dissolves']) assert.ok(header.includes(key), key);
});

test('the JSON carries the error profile and the cost table the study used', () => {
  assert.is(report.errorProfile!.name, 'datacenter-2009');
  assert.ok(report.errorProfile!.sources.some((s) => s.includes('SIGMETRICS 2009')));
  assert.equal(report.costTable.settings, { hvo: true, environment: 'bare-metal' });
  const keys = report.costTable.entries.map((e) => e.key);
  assert.ok(keys.includes('dissolve1G') && keys.includes('perLeaf'));
  assert.ok(report.costTable.entries.every((e) => e.source.length > 0));
});

test('the JSON report survives a round trip', () => {
  const back = JSON.parse(JSON.stringify(report)) as StudyReport;
  assert.equal(back, report);
  assert.is(back.policies[0]!.series.bytesLost.length, report.steps);
});

test('the HTML report renders every chart offline in headless Chromium', async () => {
  const html = await formatHtml(report);
  // Namespaces (xmlns="http://www.w3.org/...") name things; nothing may load from anywhere.
  assert.not.match(html, /<script|<link|<img|@import|(?:src|href)=["']?https?:|url\(["']?https?:/i);
  const file = join(dir, 'report.html');
  await writeFile(file, html);
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    const fetched: string[] = [];
    page.on('request', (r) => fetched.push(r.url()));
    await page.goto(`file://${file}`);
    assert.equal(fetched, [`file://${file}`], 'nothing but the file itself is fetched');
    const charts = await page.$$eval('figure svg', (svgs) => svgs.map((svg) => {
      const box = svg.getBoundingClientRect();
      const marks = [...svg.querySelectorAll('g.role-mark')].map((g) => g.querySelectorAll('path, rect, line, text').length);
      return { width: box.width, height: box.height, markGroups: marks.length, markElements: marks.reduce((a, b) => a + b, 0) };
    }));
    assert.is(charts.length, 5, 'memory over time, loss against cost, latency, HugeTLB hugepages, THP folios');
    for (const [i, c] of charts.entries()) {
      assert.ok(c.width > 100 && c.height > 100, `chart ${i} has a size`);
      assert.ok(c.markGroups > 0 && c.markElements > 0, `chart ${i} draws marks`);
    }
    const rows = await page.$$eval('table.operator tbody tr, table.kernel tbody tr', (trs) => trs.length);
    assert.is(rows, shownMetrics(report).length);
  } finally {
    await browser.close();
  }
});

async function cli(args: string[]): Promise<string> {
  // Errors come back as exceptions; commander's own message would only clutter the test output.
  const program = new Command().exitOverride().configureOutput({ writeErr: () => {} });
  registerStudyCommand(program);
  const write = process.stdout.write;
  let out = '';
  process.stdout.write = ((chunk: string) => ((out += chunk), true)) as typeof process.stdout.write;
  try {
    await program.parseAsync(['node', 'mfrsim', 'study', ...args]);
  } finally {
    process.stdout.write = write;
  }
  return out;
}

test('mfrsim study writes the table, JSON, CSV and HTML', async () => {
  const scenario = join(dir, 'quick.json');
  await writeFile(scenario, JSON.stringify({ ...quick, years: 1 }));
  const [json, csv, html] = ['out.json', 'out.csv', 'out.html'].map((f) => join(dir, f));
  const table = await cli([scenario, '--json', json!, '--csv', csv!, '--html', html!, '--seed', '9', '--workers', '0']);
  assert.match(table, /^study quick: 30 hosts x 1 year \(/);
  const written = JSON.parse(await readFile(json!, 'utf8')) as StudyReport;
  assert.is(written.scenario.seed, 9);
  assert.equal(written.policies.map((p) => p.policy), ['default', 'keep', 'hgm', 'thp']);
  assert.equal(written.baselines.map((b) => b.backing), ['hugetlb', 'thp']);
  assert.is((await readFile(csv!, 'utf8')).split('\n')[1]!.split(',')[0], 'default');
  assert.match(await readFile(html!, 'utf8'), /^<!doctype html>/);
});

test('mfrsim study rejects a bad scenario with the JSON path and reason', async () => {
  const scenario = join(dir, 'bad.json');
  await writeFile(scenario, JSON.stringify({ ...quick, workloads: [{ name: 'x', vmsPerHost: 0, memoryGiB: 4 }] }));
  try {
    await cli([scenario]);
    assert.unreachable();
  } catch (err) {
    assert.is((err as Error).message, `${scenario}: invalid scenario:\n  workloads[0].vmsPerHost: Too small: expected number to be >=1`);
  }
});

test('--replicates: out of range, or with a stream file (one draw of the errors), is a usage error before any work', async () => {
  for (const bad of ['0', '101', '2.5']) {
    await cli(['--replicates', bad, '--show-scenario']).then(
      () => assert.unreachable(`--replicates ${bad} was accepted`),
      (err: Error & { code?: string }) => assert.is(err.code, 'commander.invalidArgument'),
    );
  }
  const scenario = join(dir, 'from-file.json');
  await writeFile(scenario, JSON.stringify({ ...quick, errors: { file: 'fleet.mfrerr' } }));
  const json = join(dir, 'never.json');
  const err = await cli([scenario, '--replicates', '3', '--json', json]).then(() => null, (e: Error) => e);
  assert.instance(err, UsageError);
  assert.match(err!.message, /from-file\.json: 3 replicates need a generated error stream/);
  await readFile(json, 'utf8').then(() => assert.unreachable('an output was written'), () => {});
  const shown = JSON.parse(await cli(['--replicates', '4', '--show-scenario'])) as { replicates: number };
  assert.is(shown.replicates, 4);
});

test('--show-scenario prints the default scenario with its defaults filled in', async () => {
  const shown = JSON.parse(await cli(['--show-scenario'])) as { name: string; stepsPerYear: number; errors: { generate: { mode: string } } };
  assert.is(shown.name, 'cloud-region-1g');
  assert.is(shown.errors.generate.mode, 'incident');
});

test('--show-costs prints the cost table with its sources, for the scenario\'s HVO and environment', async () => {
  const shown = await cli(['--show-costs']);
  assert.match(shown, /^recovery cost table \(HVO on, bare metal\)/);
  assert.match(shown, /73\.5 us .*2 MiB/);
  assert.match(shown, /Batch hugetlb vmemmap modification operations/);
  const scenario = join(dir, 'vm.json');
  await writeFile(scenario, JSON.stringify({ ...quick, fleet: { ...quick.fleet, hvo: false, environment: 'vm' } }));
  const inVm = await cli([scenario, '--show-costs']);
  assert.match(inVm, /^recovery cost table \(HVO off, in a VM\)/);
  assert.match(inVm, /5\.59 us .*2 MiB/);
});

test('--policies picks the policies and their order; an unknown or repeated one is refused', async () => {
  const shown = JSON.parse(await cli(['--policies', 'thp,default', '--show-scenario'])) as { policies: string[] };
  assert.equal(shown.policies, ['thp', 'default']);
  for (const bad of ['keep,thb', 'keep,keep']) {
    await cli(['--policies', bad, '--show-scenario']).then(
      () => assert.unreachable(`--policies ${bad} was accepted`),
      (err: Error & { code?: string }) => assert.is(err.code, 'commander.invalidArgument'),
    );
  }
});

test.run();
