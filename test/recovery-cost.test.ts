// The recovery cost model: the work each policy's memory_failure() does and the dissolves
// KEEP and HGM defer to release, as the kernel reports them, priced by the cost table into
// memory_failure and release latencies.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FleetShard, type HostSpec } from '../src/fleet/shard.js';
import { costTable, DEFAULT_COST_SETTINGS, unitCosts, vmemmapPages } from '../src/costs/cost-table.js';
import { RecoveryTally, eventLatency, type RecoveryWork } from '../src/costs/recovery-cost.js';

const G = 2 ** 30;
const COSTS = unitCosts(DEFAULT_COST_SETTINGS);
const work = (w: Partial<RecoveryWork>): RecoveryWork => ({
  policy: 'default', release: false, tasks: 0, vmas: 0, leaves: 0, splitTables: 0, signals: 0, dissolves: 0, hugepageShift: 0, ...w,
});

/** Two VMs on one host, each mapping its own 2 x 1 GiB memfd, and one scrub UE in VM 0. */
function oneUE(policy: 'default' | 'keep', hgm: boolean, spec: Partial<HostSpec> = {}) {
  const host: HostSpec = { hugepages: { '1G': 4 }, hgm, vms: [{ memory: 2 * G, hugepage: '1G', policy }, { memory: 2 * G, hugepage: '1G', policy }], ...spec };
  const shard = FleetShard.create([host]);
  shard.injectScrubUEs(0, [shard.physOf(shard.vms[0]!, 0x1234_5000)!]);
  return shard;
}

test('DEFAULT unmaps the hugepage in its one mapper: one leaf (and its stage-2 zap), no split, no signal (late kill)', () => {
  const summary = oneUE('default', false).recovery.summary();
  assert.equal(summary.work, { tasks: 2, vmas: 1, leaves: 1, splitTables: 0, signals: 0, dissolves: 0, vmemmapPages: 0 });
  const expected = eventLatency(work({ tasks: 2, vmas: 1, leaves: 1 }), COSTS);
  assert.is(expected, COSTS.entry + 2 * COSTS.perTask + COSTS.perVma + COSTS.perLeaf + COSTS.perStage2Zap);
  assert.is(summary.totalNs, expected);
  assert.ok(Math.abs(summary.p50Ns - expected) / expected < 0.001, 'the histogram keeps 3 significant digits');
});

test('KEEP changes no leaf; HGM splits 1 GiB -> 2 MiB -> 4 KiB: two table pages and the poisoned PTE', () => {
  assert.equal(oneUE('keep', false).recovery.summary().work, { tasks: 2, vmas: 1, leaves: 0, splitTables: 0, signals: 0, dissolves: 0, vmemmapPages: 0 });
  const hgm = oneUE('default', true);
  assert.equal(hgm.recovery.summary().work, { tasks: 2, vmas: 1, leaves: 1, splitTables: 2, signals: 0, dissolves: 0, vmemmapPages: 0 });
  assert.is(hgm.hostStats(0).pageTablePages, 2);
});

test('a UE on a free hugepage dissolves it at once: priced by size, vmemmap re-allocated under HVO only', () => {
  for (const hvo of [true, false]) {
    const shard = FleetShard.create([{ hugepages: { '1G': 2 }, vms: [], hvo }]);
    shard.injectScrubUEs(0, [2 ** 32 + G + 0x1000]);
    const s = shard.recovery.summary();
    assert.is(s.work.dissolves, 1);
    assert.is(s.work.vmemmapPages, hvo ? 4095 : 0);
    assert.is(shard.hostStats(0).vmemmapPagesRestored, hvo ? 4095 : 0);
    const costs = unitCosts({ hvo, environment: 'bare-metal' });
    assert.is(s.totalNs, costs.entry + costs.dissolve1G);
    assert.is(s.release.events, 0, 'not a release');
  }
});

test('KEEP and HGM pay for the poisoned hugepage at release; DEFAULT leaks it and pays nothing', () => {
  for (const [policy, hgm, dissolves] of [['keep', false, 1], ['default', true, 1], ['default', false, 0]] as const) {
    const shard = oneUE(policy, hgm);
    const before = shard.recovery.summary();
    for (const vm of [...shard.vms]) shard.exitVm(vm);
    const s = shard.recovery.summary();
    assert.is(s.events, before.events, 'a release is not a memory_failure() event');
    assert.is(s.totalNs, before.totalNs);
    assert.is(s.release.dissolves, dissolves, `${policy}${hgm ? ' (HGM)' : ''}`);
    assert.is(s.release.events, dissolves);
    assert.is(s.release.totalNs, dissolves * COSTS.dissolve1G);
    assert.is(s.release.vmemmapPages, dissolves * 4095);
    if (dissolves) assert.ok(Math.abs(s.release.p50Ns - COSTS.dissolve1G) / COSTS.dissolve1G < 0.001);
  }
});

test('in a VM the IPI-bound work and the HVO dissolves cost more', () => {
  const bare = oneUE('default', false).recovery.summary().totalNs;
  const vm = oneUE('default', false, { environment: 'vm' }).recovery.summary().totalNs;
  assert.ok(vm > 3 * bare, `${vm} vs ${bare}`);
  const inVm = unitCosts({ hvo: true, environment: 'vm' });
  assert.ok(Math.abs(inVm.dissolve2M - 286e3) < 1e3, 'the cover letter\'s 286 us');
});

test('the cost table cites a source for every unit cost and carries the published figures', () => {
  for (const hvo of [true, false]) {
    for (const environment of ['bare-metal', 'vm'] as const) {
      for (const e of costTable({ hvo, environment })) {
        assert.ok(e.ns > 0 && e.source.length > 30, e.key);
        if (e.basis === 'estimate') assert.match(e.source, /no published figure/);
      }
    }
  }
  const ms = (x: number) => x / 1e6;
  const us = (x: number) => x / 1e3;
  assert.ok(Math.abs(us(unitCosts({ hvo: false, environment: 'bare-metal' }).dissolve2M) - 8.95) < 0.01);
  assert.ok(Math.abs(us(COSTS.dissolve2M) - 73.5) < 0.05);
  assert.ok(Math.abs(ms(COSTS.dissolve1G) - 1.567) < 0.001);
  assert.equal([vmemmapPages(21, true), vmemmapPages(30, true), vmemmapPages(30, false)], [7, 4095, 0]);
});

test('tallies merge across shards: both distributions, their totals and the work', () => {
  const a = new RecoveryTally();
  const b = new RecoveryTally();
  for (let i = 0; i < 99; i++) a.record(work({ tasks: 1, vmas: 1 }), COSTS, true);
  b.record(work({ tasks: 1, vmas: 1, leaves: 10 }), COSTS, true);
  b.record(work({ policy: 'keep', release: true, dissolves: 1, hugepageShift: 21 }), COSTS, true);
  const all = new RecoveryTally();
  all.merge(a.encode());
  all.merge(b.encode());
  const s = all.summary();
  assert.is(s.events, 100);
  assert.is(s.work.leaves, 10);
  assert.ok(s.maxNs >= eventLatency(work({ tasks: 1, vmas: 1, leaves: 10 }), COSTS) * 0.999);
  assert.ok(s.p50Ns < eventLatency(work({ tasks: 1, vmas: 1, leaves: 1 }), COSTS));
  assert.equal([s.release.events, s.release.dissolves, s.release.vmemmapPages, s.release.totalNs], [1, 1, 7, COSTS.dissolve2M]);
  assert.is(all.percentiles().release.length > 0 && all.percentiles().memoryFailure.length, 15);
});

test.run();
