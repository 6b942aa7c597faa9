// The study's invariants on the default scenario: every policy replays the identical error
// stream and workload; DEFAULT loses one whole hugepage per newly poisoned in-use hugepage,
// KEEP, HGM and THP 4 KiB per poisoned raw page; totals and series are sums of the hosts. And a
// study's figures do not depend on the number of workers. Workers load dist/: build first.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FleetShard, type HostStats } from '../src/fleet/shard.js';
import { DEFAULT_SCENARIO } from '../src/study/default-scenario.js';
import { loadStudyErrors, POOL_PHYS_BASE, type StudyUes } from '../src/study/error-stream.js';
import { studyHost } from '../src/study/host-spec.js';
import { POLICIES } from '../src/study/policies.js';
import { buildReport } from '../src/study/report.js';
import { runStudy, type RunOutcome, type StudyRuns } from '../src/study/run.js';
import { parseScenario, studySteps, type Scenario, type ScenarioInput } from '../src/study/scenario.js';
import { SERIES_FIELDS } from '../src/study/shard.js';

const GiB = 2 ** 30;
// One draw of the default scenario's fleet at 1,000 hosts: enough hosts with lost hugepages to check.
const scenario = parseScenario({ ...DEFAULT_SCENARIO, replicates: 1, fleet: { ...DEFAULT_SCENARIO.fleet, hosts: 1000 } });
let study: StudyRuns;
let ues: StudyUes;

test.before(async () => {
  const { steps, stepSeconds } = studySteps(scenario);
  [study, { ues }] = await Promise.all([runStudy(scenario), loadStudyErrors(scenario, steps * stepSeconds)]);
});

const allRuns = () => [...study.baselines, ...study.policies];
const run = (name: RunOutcome['name']) => allRuns().find((r) => r.name === name)!;

/** What the stream does to each host, worked out from the stream and the boot layout alone. */
function expectedPerHost(s: Scenario): { rawPages: number; inUseHit: number; freeRawPages: number }[] {
  // Every host boots the same way: find which 1 GiB frames its VMs hold.
  const shard = FleetShard.create([POLICIES.default.host(studyHost(s).host)]);
  const inUse = new Set<number>();
  for (const vm of shard.vms) {
    for (let off = 0; off < vm.size; off += GiB) inUse.add((shard.physOf(vm, off)! - POOL_PHYS_BASE) / GiB);
  }
  const poolFrames = s.fleet.pools['1G'];
  const perHost = Array.from({ length: s.fleet.hosts }, () => ({ raw: new Set<number>(), frames: new Set<number>(), freeRaw: new Set<number>() }));
  for (let i = 0; i < ues.length; i++) {
    const frame = Math.floor((ues.phys[i]! - POOL_PHYS_BASE) / GiB);
    if (frame < 0 || frame >= poolFrames) continue;
    const raw = Math.floor(ues.phys[i]! / 4096);
    const h = perHost[ues.host[i]!]!;
    h.raw.add(raw);
    if (inUse.has(frame)) h.frames.add(frame);
    else h.freeRaw.add(raw);
  }
  return perHost.map((h) => ({ rawPages: h.raw.size, inUseHit: h.frames.size, freeRawPages: h.freeRaw.size }));
}

test('every policy replays the identical error stream and workload', () => {
  assert.ok(ues.length > 100, 'the default scenario has UEs to study');
  const accesses = scenario.fleet.hosts * study.steps * scenario.workloads.reduce((n, w) => n + w.vmsPerHost * w.access.accessesPerStep, 0);
  assert.equal(study.baselines.map((b) => b.backing), ['hugetlb', 'thp']);
  for (const b of study.baselines) {
    assert.is(b.uesReplayed, 0);
    assert.is(b.total.accesses, accesses);
  }
  const [first, ...rest] = study.policies;
  assert.is(first!.uesReplayed, ues.length);
  for (const r of [first!, ...rest]) {
    assert.is(r.total.accesses, accesses, `${r.name}: sampled accesses`);
    assert.is(r.ueDigest, first!.ueDigest, `${r.name}: stream digest`);
    assert.is(r.uesReplayed, first!.uesReplayed);
    assert.is(r.uesHandled, first!.uesHandled);
    assert.equal(r.perHost.map((h) => h.rawPagesPoisoned), first!.perHost.map((h) => h.rawPagesPoisoned), `${r.name}: raw pages per host`);
  }
});

test('raw pages poisoned per host are exactly the distinct pool pages of its UEs', () => {
  const expected = expectedPerHost(scenario);
  for (const r of study.policies) assert.equal(r.perHost.map((h) => h.rawPagesPoisoned), expected.map((e) => e.rawPages), r.name);
});

test('DEFAULT loses exactly one hugepage per newly poisoned in-use hugepage', () => {
  const expected = expectedPerHost(scenario);
  const d = run('default');
  let checked = 0;
  d.perHost.forEach((h, i) => {
    // A killed VM releases its memory: its healthy hugepages go back to the free pool, and
    // later UEs there dissolve them. Hosts without a death keep the boot layout throughout.
    if (h.killed > 0) return;
    const e = expected[i]!;
    assert.is(h.hugepagesLost, e.inUseHit, `host ${i}: hugepages lost`);
    assert.is(h.bytesLost, e.inUseHit * GiB + e.freeRawPages * 4096, `host ${i}: bytes lost`);
    if (e.inUseHit > 0) checked++;
  });
  assert.ok(checked >= 10, `${checked} hosts with lost hugepages checked`);
});

test('KEEP, HGM and THP lose 4 KiB per poisoned raw page and no hugepage', () => {
  for (const name of ['keep', 'hgm', 'thp'] as const) {
    const r = run(name);
    r.perHost.forEach((h, i) => {
      assert.is(h.bytesLost, 4096 * h.rawPagesPoisoned, `${name} host ${i}`);
      assert.is(h.hugepagesLost, 0);
    });
    assert.ok(r.total.rawPagesPoisoned > 0);
  }
});

/** Every numeric field of `total` is the sum of that field over `hosts`. */
function assertSums(total: object, hosts: readonly object[], path: string): void {
  for (const [key, value] of Object.entries(total)) {
    const parts = hosts.map((h) => (h as Record<string, unknown>)[key]);
    if (typeof value === 'number') assert.is(value, parts.reduce((n: number, v) => n + (v as number), 0), `${path}.${key}`);
    else assertSums(value as object, parts as object[], `${path}.${key}`);
  }
}

test('totals, report rows and the last step of every series are sums of the per-host figures', () => {
  const report = buildReport(study);
  for (const r of allRuns()) {
    assert.is(r.perHost.length, scenario.fleet.hosts);
    assertSums(r.total, r.perHost, r.name);
    for (const f of SERIES_FIELDS) {
      const last = r.series[f][study.steps - 1]!;
      assert.is(last, r.perHost.reduce((n, h: HostStats) => n + h[f], 0), `${r.name} series ${f}`);
    }
    for (let i = 1; i < study.steps; i++) assert.ok(r.series.bytesLost[i]! >= r.series.bytesLost[i - 1]!, 'memory lost never shrinks');
  }
  for (const row of report.policies) {
    const r = run(row.policy);
    assert.is(row.memoryLostBytes, r.perHost.reduce((n, h) => n + h.bytesLost, 0));
    assert.is(row.vmsKilled, r.perHost.reduce((n, h) => n + h.killed, 0));
    assert.is(row.sigbus.total, r.perHost.reduce((n, h) => n + h.sigbus, 0));
  }
});

test('every memory failure is priced by the recovery cost model', () => {
  for (const r of study.policies) {
    assert.is(r.recovery.events, r.total.memoryFailure.total, r.name);
    assert.ok(r.latencyPercentiles.length > 0);
  }
  for (const b of study.baselines) assert.is(b.recovery.events, 0);
});

test('the headline trade-off holds: DEFAULT loses whole hugepages, KEEP keeps them mapped', () => {
  const d = run('default').total;
  const k = run('keep').total;
  assert.ok(d.bytesLost > 1000 * k.bytesLost);
  assert.ok(d.sigbus > k.sigbus);
  const report = buildReport(study);
  const leaked = Object.fromEntries(report.policies.map((p) => [p.policy, p.hugepagesLeaked]));
  assert.is(leaked.default, d.hugepagesLost, 'DEFAULT leaks what it offlined');
  assert.is(leaked.keep, 0, 'KEEP dissolves at release');
});

test('THP splits poisoned folios (one PTE table each) unless the split fails, and never leaks', () => {
  const t = run('thp').total;
  const mf = t.memoryFailure;
  // Each recovered event split a folio or unmapped one more PTE of a split one; each failed
  // event is a split that failed (lsb 21), at the scenario's probability.
  assert.is(mf.recovered + mf.failed, mf.total);
  assert.ok(mf.failed > 0 && mf.failed < mf.total * 0.2, `${mf.failed} of ${mf.total} splits failed`);
  assert.ok(run('thp').recovery.work.splitTables > 0);
  assert.ok(run('thp').recovery.work.splitTables <= mf.recovered);
  assert.is(t.hugepagesLost, 0);
  const report = buildReport(study);
  assert.is(report.policies.find((p) => p.policy === 'thp')!.hugepagesLeaked, 0);
  // After the release every folio is free, except that each one with a poisoned raw page
  // has left THP memory for good.
  const folios = scenario.fleet.pools['1G'] * 512;
  const poisoned = new Set<string>();
  for (let i = 0; i < ues.length; i++) {
    const folio = Math.floor((ues.phys[i]! - POOL_PHYS_BASE) / (2 * 2 ** 20));
    if (folio >= 0 && folio < folios) poisoned.add(`${ues.host[i]}:${folio}`);
  }
  assert.is(t.thp.total, scenario.fleet.hosts * folios - poisoned.size);
  assert.is(report.policies.find((p) => p.policy === 'thp')!.thpFoliosRetired, poisoned.size);
  assert.is(report.policies.find((p) => p.policy === 'keep')!.thpFoliosRetired, null);
  assert.is(t.thp.free, t.thp.total);
  assert.is(t.thp.split, 0);
});

const small: ScenarioInput = {
  name: 'small',
  seed: 5,
  years: 1,
  stepsPerYear: 6,
  fleet: { hosts: 24, memory: { dimmGiB: 2 }, pools: { '1G': 28, '2M': 1024 } },
  workloads: [
    { name: 'big', vmsPerHost: 2, memoryGiB: 12, hugepage: '1G', access: { accessesPerStep: 400 } },
    { name: 'small', vmsPerHost: 1, memoryGiB: 2, hugepage: '2M', handlesSigbus: false, access: { accessesPerStep: 400 } },
  ],
  errors: { generate: { mode: 'incident', incident: { perHostYear: 3, classWeights: [0.5, 0.3, 0.2, 0] } } },
};

/** A study's figures, without its timings. */
const figures = (r: StudyRuns) => ({ ...r, wallSeconds: 0, profile: undefined });

test('a study gives the same figures on 0 (inline), 1 and 2 workers', async () => {
  const s = parseScenario(small);
  const inline = figures(await runStudy(s, { workers: 0 }));
  assert.ok(inline.policies[0]!.total.rawPagesPoisoned > 0);
  for (const [workers, hostsPerShard] of [[1, 24], [2, 5]] as const) {
    assert.equal(figures(await runStudy(s, { workers, hostsPerShard })), inline, `${workers} workers`);
  }
});

test('reusing the baseline for hosts no UE hits gives the figures of simulating every host in every run', async () => {
  const s = parseScenario(small);
  const { steps, stepSeconds } = studySteps(s);
  const hit = new Set((await loadStudyErrors(s, steps * stepSeconds)).ues.host).size;
  assert.ok(hit > 0 && hit < s.fleet.hosts, `${hit} of ${s.fleet.hosts} hosts have UEs`);
  const reused = await runStudy(s, { workers: 0, hostsPerShard: 7 });
  const simulated = await runStudy(s, { workers: 0, hostsPerShard: 7, reuseErrorFreeHosts: false });
  assert.is(reused.profile.hostRuns, 2 * s.fleet.hosts + 4 * hit, 'two baselines over every host, four policies over the hosts with UEs');
  assert.is(simulated.profile.hostRuns, 6 * s.fleet.hosts);
  assert.equal(figures(reused), figures(simulated));
});

test.run();
