// Replicates and their intervals: a small study run under several seeds. The intervals are
// Student-t intervals of the per-replicate values, the paired differences those of the
// per-replicate differences, they narrow as replicates are added, and no figure depends on
// the worker count or the shard size.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { interval, pairedDifference, resolved, tQuantile975 } from '../src/study/intervals.js';
import { studyMetrics } from '../src/study/metrics.js';
import { buildReport, type StudyReport } from '../src/study/report.js';
import { runStudy, type StudyRuns } from '../src/study/run.js';
import { parseScenario, replicateSeed, type ScenarioInput } from '../src/study/scenario.js';

const small: ScenarioInput = {
  name: 'replicates',
  seed: 11,
  years: 1,
  stepsPerYear: 3,
  fleet: { hosts: 8, memory: { dimmGiB: 2 }, pools: { '1G': 28, '2M': 1024 } },
  workloads: [
    { name: 'big', vmsPerHost: 2, memoryGiB: 12, hugepage: '1G', access: { accessesPerStep: 200 } },
    { name: 'small', vmsPerHost: 1, memoryGiB: 2, hugepage: '2M', handlesSigbus: false, access: { accessesPerStep: 200 } },
  ],
  errors: { generate: { mode: 'incident', incident: { perHostYear: 2, classWeights: [0.5, 0.3, 0.2, 0] } } },
};

/** A study's figures, without its timings. */
const figures = (r: StudyRuns) => ({ ...r, wallSeconds: 0, profile: undefined });
const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

let runs: StudyRuns;
let report: StudyReport;

test.before(async () => {
  runs = await runStudy(parseScenario({ ...small, replicates: 6 }), { workers: 0 });
  report = buildReport(runs);
});

test('t quantiles: the table, and the expansion beyond it', () => {
  assert.is(tQuantile975(1), 12.706);
  assert.is(tQuantile975(4), 2.776);
  assert.ok(Math.abs(tQuantile975(60) - 2.0003) < 1e-3);
  assert.ok(Math.abs(tQuantile975(1000) - 1.9623) < 1e-3);
  assert.throws(() => tQuantile975(0), /positive integer/);
});

test('an interval is the Student-t interval of its values, centred on their mean', () => {
  const i = interval([1, 2, 3, 4]);
  assert.is(i.mean, 2.5);
  const half = 3.182 * Math.sqrt(((1.5 ** 2 + 0.5 ** 2) * 2) / 3 / 4);
  assert.ok(close(i.high! - i.mean, half) && close(i.mean - i.low!, half));
  assert.equal(interval([7]), { mean: 7, low: null, high: null, values: [7] });
  assert.not.ok(resolved(interval([7])), 'one value resolves nothing');
  assert.ok(resolved(interval([1, 1.1, 0.9])));
  assert.not.ok(resolved(interval([1, -1, 0.5])));
});

test('each replicate runs under its own seed: the first is the scenario\'s, streams and workloads differ', () => {
  assert.equal(runs.replicates.map((r) => r.seed), [0, 1, 2, 3, 4, 5].map((r) => replicateSeed({ seed: 11 }, r)));
  assert.is(runs.replicates[0]!.seed, 11);
  assert.is(new Set(runs.replicates.map((r) => r.seed)).size, 6);
  assert.is(new Set(runs.replicates.map((r) => r.policies[0]!.ueDigest)).size, 6, 'six error streams');
  const accesses = runs.replicates.map((r) => r.baselines[0]!.total.translation.walkCycles);
  assert.is(new Set(accesses).size, 6, 'six workloads (the error-free baselines differ)');
});

test('every figure\'s interval is computed from its per-replicate values and centred on their mean', () => {
  const metrics = studyMetrics(report);
  for (const [k, row] of report.policies.entries()) {
    for (const m of metrics) {
      const i = row.intervals[m.key];
      const values = runs.replicates.map((rep) => m.value(buildReport({ ...runs, replicates: [rep], ...rep }).policies[k]!));
      if (values.every((v) => v === null)) {
        assert.is(i, null, m.key);
        continue;
      }
      assert.ok(i, m.key);
      assert.equal(i!.values, values, `${row.policy} ${m.key}: per-replicate values`);
      const mean = values.reduce((s, v) => s! + v!, 0)! / values.length;
      assert.ok(close(i!.mean, mean), `${m.key}: mean`);
      assert.ok(close((i!.low! + i!.high!) / 2, mean), `${m.key}: centred`);
      // The row's own figure is the same mean (the table prints the row, the interval beside it).
      const shown = m.value(row);
      assert.ok(shown === null || close(shown, mean), `${m.key}: the row shows the mean`);
    }
  }
});

test('differences against DEFAULT are paired: the mean and interval of the per-replicate differences', () => {
  assert.equal(report.differences.map((d) => d.policy), ['keep', 'hgm', 'thp']);
  const def = report.policies.find((p) => p.policy === 'default')!;
  for (const d of report.differences) {
    const row = report.policies.find((p) => p.policy === d.policy)!;
    for (const key of ['memory_lost_bytes', 'sigbus', 'vms_killed', 'translation_loss_affected_vms']) {
      const a = row.intervals[key]!.values;
      const b = def.intervals[key]!.values;
      const expected = pairedDifference(a, b);
      assert.equal(d.figures[key], expected, `${d.policy} ${key}`);
      assert.ok(close(d.figures[key]!.mean, a.reduce((s, v, i) => s + v - b[i]!, 0) / a.length));
    }
  }
  // The verdict quotes them: memory saved is DEFAULT minus the policy, scaled to 1,000 hosts per year.
  const saved = report.verdict.rows.find((r) => r.key === 'memory_saved_bytes')!;
  const scale = 1000 / (8 * 1);
  for (const cell of saved.cells.filter((c) => c.policy !== 'default')) {
    const d = report.differences.find((x) => x.policy === cell.policy)!.figures['memory_lost_bytes']!;
    assert.ok(close(cell.value!.mean, -d.mean * scale), cell.policy);
    assert.ok(close(cell.value!.low!, -d.high! * scale) && close(cell.value!.high!, -d.low! * scale), cell.policy);
  }
});

test('intervals narrow as replicates are added', async () => {
  const more = buildReport(await runStudy(parseScenario({ ...small, replicates: 24 }), { workers: 2 }));
  const width = (r: StudyReport, key: string) => {
    const i = r.policies.find((p) => p.policy === 'default')!.intervals[key]!;
    return i.high! - i.low!;
  };
  for (const key of ['memory_lost_bytes', 'raw_pages_poisoned', 'sigbus']) {
    assert.ok(width(more, key) < width(report, key), `${key}: ${width(more, key)} with 24 replicates, ${width(report, key)} with 6`);
  }
  // The first six replicates are the same draws in both.
  assert.equal(more.replicates.slice(0, 6), report.replicates);
});

test('replicates give the same figures on any number of workers and shard size', async () => {
  const s = parseScenario({ ...small, replicates: 3 });
  const inline = figures(await runStudy(s, { workers: 0 }));
  for (const [workers, hostsPerShard] of [[1, 8], [2, 3]] as const) {
    assert.equal(figures(await runStudy(s, { workers, hostsPerShard })), inline, `${workers} workers, ${hostsPerShard} hosts per shard`);
  }
});

test('replicates need a generated stream: a stream file is one draw', () => {
  const s = parseScenario({ ...small, replicates: 2 });
  assert.throws(() => parseScenario({ ...small, replicates: 2, errors: { file: 'x.mfr' } }), /replicates: 2 replicates need a generated error stream/);
  s.errors = { file: 'x.mfr' };
  return runStudy(s, { workers: 0 }).then(() => assert.unreachable(), (err: Error) => assert.match(err.message, /stream file is one draw/));
});

test.run();
