// Fleets of any size: worker threads bounded by the cores and the shards, shards sized by a
// memory plan made before anything boots (a host too large for a kernel instance is refused
// up front), uniform fleets described once and expanded shard by shard, and results
// streamed in host order: the same figures whatever the workers, the shard size or how the
// hosts are described.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runFleet } from '../src/fleet/pool.js';
import { DEFAULT_SHARD_BYTES, SHARD_BUDGET_BYTES, hostKernelBytes, hostsPerShard } from '../src/fleet/plan.js';
import { FleetShard, hostSeed, type HostSpec, type HostStats } from '../src/fleet/shard.js';
import { workerCount } from '../src/shards/threads.js';

const GiB = 2 ** 30;
const dir = mkdtempSync(join(tmpdir(), 'mfrsim-fleet-memory-'));
const host: HostSpec = {
  hugepages: { '2M': 96, '1G': 1 }, thpSplitFailure: 0.5,
  vms: [
    { memory: 64 * 2 ** 21, hugepage: '2M', policy: 'keep' },
    { memory: GiB, hugepage: '1G', policy: 'default', handlesSigbus: false },
  ],
};
const run = { seed: 9, poison: { fraction: 0.5 }, workload: { pattern: 'random' as const, accessesPerHost: 2000 } };

test('worker threads: at most one per core and one per shard, with a notice when fewer than asked run', () => {
  const cores = availableParallelism();
  const notices: string[] = [];
  assert.is(workerCount(1000, 50, (m) => notices.push(m)), Math.min(cores, 50));
  assert.match(notices[0]!, /1000 workers requested: running \d+/);
  assert.is(workerCount(undefined, 1), 1, 'one shard, one thread');
  assert.is(workerCount(0, 10), 0, '0 runs inline');
  assert.is(workerCount(1, 10, () => assert.unreachable('no notice when the request is met')), 1);
  assert.throws(() => workerCount(-1, 10), /non-negative integer/);
});

test('--workers 1000 on a two-host fleet runs on at most two threads, says so, and gives the usual figures', () => {
  const fleet = join(dir, 'fleet.json');
  writeFileSync(fleet, JSON.stringify({ hosts: 2, host, seed: 3, workload: { pattern: 'random', accessesPerHost: 100 } }));
  const cli = (workers: string, json: string) => spawnSync(process.execPath, ['dist/cli/main.js', 'replay', '--fleet', fleet, '--workers', workers, '--json', json], { encoding: 'utf8' });
  const many = cli('1000', join(dir, 'many.json'));
  assert.is(many.status, 0, many.stderr);
  const [, threads] = /running (\d+)/.exec(many.stderr) ?? [];
  assert.ok(Number(threads) >= 1 && Number(threads) <= Math.min(2, availableParallelism()), many.stderr);
  const one = cli('0', join(dir, 'one.json'));
  assert.is(one.status, 0, one.stderr);
  const figures = (f: string) => (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { perHost: HostStats[] }).perHost;
  assert.equal(figures('many.json'), figures('one.json'));
});

test('a uniform fleet gives the same figures as the same hosts listed, whatever the workers and shards', async () => {
  const listed = Array.from({ length: 7 }, (_, i) => ({ ...host, seed: hostSeed(5, i) }));
  const expected = await runFleet({ ...run, hosts: listed, workers: 0 });
  assert.ok(expected.total.sigbus > 0 && expected.total.killed > 0);
  for (const [workers, hostsPerShard] of [[0, 1], [1, 3], [2, 2], [2, undefined]] as const) {
    const streamed: HostStats[] = [];
    const r = await runFleet({
      ...run, hosts: { count: 7, host, seed: 5 }, workers, hostsPerShard, keepPerHost: false,
      onHost: (i, s) => { assert.is(i, streamed.length, 'hosts arrive in order'); streamed.push(s); },
    });
    assert.equal(r.perHost, [], 'per-host figures are not kept');
    assert.equal(streamed, expected.perHost, `${workers} workers, ${hostsPerShard} hosts per shard`);
    assert.equal(r.total, expected.total);
    assert.equal(r.signalLog, expected.signalLog);
    assert.is(r.signalsDropped, expected.signalsDropped);
  }
});

test('the memory plan bounds what booted hosts take, and is not wildly above it', () => {
  const specs: HostSpec[] = [
    host,
    { hugepages: { '2M': 4096 }, vms: [{ memory: 4096 * 2 ** 21, hugepage: '2M', policy: 'keep' }] },
    { hugepages: { '1G': 64 }, hgm: true, vms: [{ memory: 32 * GiB, hugepage: '1G', policy: 'default' }, { memory: 32 * GiB, hugepage: '1G', policy: 'keep' }] },
    { hugepages: {}, thpPages: 2048, vms: [{ memory: 2048 * 2 ** 21, hugepage: '2M', policy: 'thp' }] },
  ];
  for (const spec of specs) {
    const n = 50;
    const shard = FleetShard.create(Array.from({ length: n }, () => spec));
    const empty = FleetShard.create([]);
    const perHost = (shard.heapBytes() - empty.heapBytes()) / n;
    const planned = hostKernelBytes(spec);
    assert.ok(perHost <= planned, `${JSON.stringify(spec.hugepages)}: ${perHost} B per host, planned ${planned}`);
    assert.ok(planned <= 4 * perHost + 64 * 1024, `${JSON.stringify(spec.hugepages)}: planned ${planned} for ${perHost} B`);
  }
});

test('shards hold a fixed amount of kernel memory by default, whatever the fleet size', () => {
  const bytes = hostKernelBytes(host);
  const cap = Math.floor(DEFAULT_SHARD_BYTES / bytes);
  assert.is(hostsPerShard(10, bytes, 2), 5, 'a small fleet splits evenly over the workers');
  assert.is(hostsPerShard(1e5, bytes, 2), cap);
  assert.is(hostsPerShard(1e7, bytes, 2), cap, 'ten million hosts: shards of the same size');
  assert.throws(() => hostsPerShard(1e7, bytes, 2, 1e7), /hosts per shard need about .* GiB/);
});

test('a host that no kernel instance holds is refused before anything boots, with the numbers and what to change', async () => {
  const refusal = async (spec: HostSpec): Promise<string> => {
    try {
      await runFleet({ hosts: { count: 1e6, host: spec, seed: 1 }, seed: 1, workers: 2 });
    } catch (err) {
      assert.instance(err, RangeError);
      return (err as Error).message;
    }
    assert.unreachable('the fleet ran');
    return '';
  };
  const started = performance.now();
  const frames = await refusal({ hugepages: { '2M': 70_000_000 }, vms: [] });
  assert.match(frames, /^host 0 has 70,000,000 hugepages and THP folios, more than one kernel instance numbers \(67,108,864\)/);
  const manyVms: HostSpec = { hugepages: { '2M': 300_000 }, vms: Array.from({ length: 300_000 }, () => ({ memory: 2 ** 21, hugepage: '2M' as const })) };
  assert.ok(hostKernelBytes(manyVms) > SHARD_BUDGET_BYTES);
  const bytes = await refusal(manyVms);
  assert.match(bytes, /^host 0 needs about [\d.]+ GiB of simulator memory \(300,000 hugepages and THP folios, 300,000 VM\(s\)\), more than one kernel instance holds \(3\.50 GiB/);
  assert.match(bytes, /1G hugepages instead of 2M/);
  assert.match(await refusal({ hugepages: { '1G': 2 ** 22 }, vms: [] }), /^host 0's memory ends at 4\.00 PiB, beyond x86-64's 52-bit physical address space/);
  // A single host (a trace replay's) is refused the same way before it boots.
  assert.throws(() => FleetShard.create([manyVms]), /^host 0 needs about/);
  assert.ok(performance.now() - started < 3000, 'refused up front');
});

test.run();
