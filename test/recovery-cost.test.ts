// The recovery cost model: the work each policy's memory_failure() does, as the kernel
// reports it, priced by unit costs into latency percentiles.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FleetShard, type HostSpec } from '../src/fleet/shard.js';
import { DEFAULT_RECOVERY_COSTS, RecoveryTally, eventLatency } from '../src/costs/recovery-cost.js';

const G = 2 ** 30;

/** Two VMs on one host, each mapping its own 2 x 1 GiB memfd, and one scrub UE in VM 0. */
function oneUE(policy: 'default' | 'keep', hgm: boolean) {
  const spec: HostSpec = { hugepages: { '1G': 4 }, hgm, vms: [{ memory: 2 * G, hugepage: '1G', policy }, { memory: 2 * G, hugepage: '1G', policy }] };
  const shard = FleetShard.create([spec]);
  shard.injectScrubUEs(0, [shard.physOf(shard.vms[0]!, 0x1234_5000)!]);
  return { summary: shard.recovery.summary(), stats: shard.hostStats(0) };
}

test('DEFAULT unmaps the hugepage in its one mapper: one leaf, no split, no signal (late kill)', () => {
  const { summary } = oneUE('default', false);
  assert.equal(summary.work, { tasks: 2, vmas: 1, leaves: 1, splitTables: 0, signals: 0, dissolves: 0 });
  const expected = eventLatency({ policy: 'default', tasks: 2, vmas: 1, leaves: 1, splitTables: 0, signals: 0, dissolves: 0 }, DEFAULT_RECOVERY_COSTS);
  assert.is(summary.totalNs, expected);
  assert.ok(Math.abs(summary.p50Ns - expected) / expected < 0.001, 'the histogram keeps 3 significant digits');
});

test('KEEP changes no leaf; HGM splits 1 GiB -> 2 MiB -> 4 KiB: two table pages and the poisoned PTE', () => {
  assert.equal(oneUE('keep', false).summary.work, { tasks: 2, vmas: 1, leaves: 0, splitTables: 0, signals: 0, dissolves: 0 });
  const hgm = oneUE('default', true);
  assert.equal(hgm.summary.work, { tasks: 2, vmas: 1, leaves: 1, splitTables: 2, signals: 0, dissolves: 0 });
  assert.is(hgm.stats.pageTablePages, 2);
});

test('a UE on a free hugepage dissolves it: one dissolve, vmemmap restored', () => {
  const shard = FleetShard.create([{ hugepages: { '1G': 2 }, vms: [] }]);
  shard.injectScrubUEs(0, [2 ** 32 + G + 0x1000]);
  assert.equal(shard.recovery.summary().work.dissolves, 1);
  assert.is(shard.hostStats(0).vmemmapPagesRestored, 4095);
});

test('tallies merge across shards: counts, totals and percentiles of the union', () => {
  const a = new RecoveryTally();
  const b = new RecoveryTally();
  const w = (leaves: number) => ({ policy: 'default' as const, tasks: 1, vmas: 1, leaves, splitTables: 0, signals: 0, dissolves: 0 });
  for (let i = 0; i < 99; i++) a.record(w(0));
  b.record(w(10));
  const all = new RecoveryTally();
  all.merge(a.encode());
  all.merge(b.encode());
  const s = all.summary();
  assert.is(s.events, 100);
  assert.is(s.work.leaves, 10);
  assert.ok(s.maxNs >= eventLatency(w(10), DEFAULT_RECOVERY_COSTS) * 0.999);
  assert.ok(s.p50Ns < eventLatency(w(1), DEFAULT_RECOVERY_COSTS));
});

test.run();
