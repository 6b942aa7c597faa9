// Fleet replay: results per host and in total are the same whatever the number of workers
// and the batch size, and the batch replay agrees with single calls through the Host API.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FleetShard, withThpBacking, type HostSpec } from '../src/fleet/shard.js';
import { runFleet } from '../src/fleet/pool.js';
import { Host } from '../src/host/host.js';
import type { SimHost } from '../src/host/types.js';
import { RefHost } from './reference/model.js';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorBatchBuilder, FLAG_SCRUB, FLAG_UE } from '../src/errors/batch.js';
import { ErrorStreamWriter } from '../src/errors/format.js';
import { MAP_SHARED, MFD_HUGETLB, MFD_HUGE_2MB, MFD_MF_KEEP_UE_MAPPED, PROT_READ, PROT_WRITE } from '../src/host/constants.js';

const GiB = 2 ** 30;
const hosts: HostSpec[] = Array.from({ length: 6 }, (_, i) => ({
  hugepages: { '2M': 1024, '1G': 2 },
  vms: [
    { memory: GiB, hugepage: '2M', policy: 'keep' },
    { memory: GiB, hugepage: '2M', policy: 'default', handlesSigbus: i % 2 === 0 },
    { memory: GiB, hugepage: '1G', policy: i % 3 === 0 ? 'default' : 'keep' },
  ],
}));
const base = { hosts, seed: 42, poison: { fraction: 0.02 }, workload: { pattern: 'random' as const, accessesPerHost: 50_000 } };

test('a fleet gives identical results on 0 (inline), 1, 2 and 4 workers', async () => {
  const inline = await runFleet({ ...base, workers: 0 });
  assert.ok(inline.total.accesses === 6 * 50_000);
  assert.ok(inline.total.sigbus > 0, 'the poisoned hugepages are hit');
  assert.ok(inline.total.rawPagesPoisoned > 0);
  for (const workers of [1, 2, 4]) {
    const r = await runFleet({ ...base, workers, hostsPerShard: workers === 4 ? 1 : undefined });
    assert.equal(r.perHost, inline.perHost, `${workers} workers: per-host figures`);
    assert.equal(r.total, inline.total, `${workers} workers: totals`);
    assert.equal(r.signalLog, inline.signalLog, `${workers} workers: signal log`);
    assert.is(r.signalsDropped, inline.signalsDropped);
  }
});

test('a THP-backed fleet: the same physical pages poisoned as under DEFAULT, split instead of lost, whatever the workers', async () => {
  const thpHosts = hosts.map((h, i) => ({ ...withThpBacking(h), thpSplitFailure: 0.5, seed: 1000 + i }));
  const def = await runFleet({ ...base, workers: 0 });
  const inline = await runFleet({ ...base, hosts: thpHosts, workers: 0 });
  // Folios fault in lowest first, as pool hugepages do, so guest offsets map to the same
  // physical pages and the poisoning hits the same raw pages.
  assert.equal(inline.perHost.map((h) => h.rawPagesPoisoned), def.perHost.map((h) => h.rawPagesPoisoned));
  assert.ok(inline.total.rawPagesPoisoned > 20);
  assert.is(inline.total.hugepagesLost, 0);
  assert.is(inline.total.bytesLost, 4096 * inline.total.rawPagesPoisoned);
  const mf = inline.total.memoryFailure;
  assert.ok(mf.failed > 0 && mf.recovered > 0, 'at probability 0.5 some splits fail and some succeed');
  // Every split folio still mapped holds one PTE table; a later UE on it splits nothing new.
  assert.ok(inline.total.thp.split > 0 && inline.total.thp.split <= mf.recovered);
  assert.is(inline.total.pageTablePages, inline.total.thp.split);
  for (const workers of [1, 2]) {
    const r = await runFleet({ ...base, hosts: thpHosts, workers, hostsPerShard: 2 });
    assert.equal(r.perHost, inline.perHost, `${workers} workers: per-host figures`);
  }
});

test('results do not depend on the replay batch size', async () => {
  const big = await runFleet({ ...base, workers: 0 });
  const small = await runFleet({ ...base, workers: 0, batch: 1000 });
  assert.equal(small.perHost, big.perHost);
});

test('the fleet total is the sum of its hosts', async () => {
  const r = await runFleet({ ...base, workers: 0 });
  const sum = (f: (s: typeof r.total) => number) => r.perHost.reduce((n, s) => n + f(s), 0);
  assert.is(r.total.accesses, sum((s) => s.accesses));
  assert.is(r.total.bytesLost, sum((s) => s.bytesLost));
  assert.is(r.total.sigbusByCode.BUS_MCEERR_AR, sum((s) => s.sigbusByCode.BUS_MCEERR_AR));
});

test('an error stream hits fleet host h with its host h UEs, whatever the workers', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mfrsim-fleet-'));
  const path = join(dir, 'ues.mfrerr');
  const w = await ErrorStreamWriter.create(path, { flags: 0, hostCount: 6, seed: 0, physBase: 2 ** 32, spanSeconds: 0 });
  const b = new ErrorBatchBuilder();
  // Host 1: a consumed UE in its first 2 MiB hugepage (the KEEP VM's); host 4: two scrub UEs.
  b.push(0, 1, 2 ** 32 + 2 * GiB + 4096, FLAG_UE, 255, 0, 0);
  b.push(1, 4, 2 ** 32 + 2 * GiB + 3 * 4096, FLAG_UE | FLAG_SCRUB, 255, 0, 1);
  b.push(2, 4, 2 ** 32 + 2 * GiB + 512 * 2 ** 21 + 4096, FLAG_UE | FLAG_SCRUB, 255, 0, 2);
  b.push(3, 2, 2 ** 32, 0, 255, 0, 3); // a CE: skipped
  await w.write(b.view());
  await w.close();
  const run = (workers: number) => runFleet({ hosts, seed: 1, errors: path, workers, workload: { pattern: 'random', accessesPerHost: 1000 } });
  const inline = await run(0);
  assert.equal(inline.perHost.map((s) => s.rawPagesPoisoned), [0, 1, 0, 0, 2, 0]);
  assert.is(inline.perHost[1]!.sigbusByCode.BUS_MCEERR_AR >= 1, true, 'the consumer gets AR');
  assert.is(inline.perHost[4]!.bytesLost, 4096 + 2 ** 21, 'KEEP VM loses 4 KiB, DEFAULT VM its hugepage');
  assert.equal((await run(2)).perHost, inline.perHost);
});

test('a full signal log reports what it could not keep', async () => {
  const r = await runFleet({ ...base, workers: 0, workload: { pattern: 'poisoned', accessesPerHost: 20_000 }, signalLogCapacity: 100 });
  assert.is(r.signalLog.length, 100);
  assert.is(r.signalLog.length + r.signalsDropped, r.total.sigbus);
});

/**
 * One VM (a KEEP 2 MiB memfd of 64 hugepages with a few real UEs) receives the same random
 * accesses through the replay loop and through Process.read/write of `host`; half the
 * accesses go to the poisoned hugepages so corrupted raw pages are hit.
 */
async function replayAgreesWith(host: SimHost, hgm = false): Promise<void> {
  // With HGM the memfd is a plain one: the host splits it around each UE.
  const spec: HostSpec = { hugepages: { '2M': 64 }, hgm, vms: [{ memory: 64 * 2 ** 21, hugepage: '2M', policy: hgm ? 'default' : 'keep' }] };
  const shard = FleetShard.create([spec]);
  const p = host.spawn();
  const fd = p.memfdCreate('guest', MFD_HUGETLB | MFD_HUGE_2MB | (hgm ? 0 : MFD_MF_KEEP_UE_MAPPED));
  p.ftruncate(fd, 64 * 2 ** 21);
  const map = p.mmap(0, 64 * 2 ** 21, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  p.write(map, 64 * 2 ** 21);
  const vm = shard.vms[0]!;
  const uePhys = [3, 17, 17, 40].map((hp, i) => 0x1_0000_0000 + hp * 2 ** 21 + (i * 7 + 1) * 4096);
  shard.injectScrubUEs(0, uePhys);
  for (const pa of uePhys) host.injectUE(pa);
  let seed = 12345;
  // An LCG's low bits cycle quickly: use the high ones.
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 12;
  const cols = shard.accessColumns();
  const n = 20_000;
  let apiSignals = 0;
  for (let i = 0; i < n; i++) {
    const hp = i % 2 ? [3, 17, 40][next() % 3]! : next() % 64;
    const off = hp * 2 ** 21 + (next() % 512) * 4096 + (next() % 64) * 64;
    const write = (next() & 1) === 1;
    cols.proc[i] = vm.proc;
    cols.va[i] = vm.base + off;
    cols.write[i] = write ? 1 : 0;
    const r = write ? p.write(map + BigInt(off), 1) : p.read(map + BigInt(off), 1);
    if (!r.ok) apiSignals++;
  }
  shard.replayAccesses(n);
  const s = shard.hostStats(0);
  assert.is(s.accesses, n);
  assert.is(s.sigbusByCode.BUS_MCEERR_AR, apiSignals);
  assert.is(s.ok, n - apiSignals);
  assert.ok(apiSignals > 0, 'some accesses hit corrupted raw pages');
  assert.is(s.rawPagesPoisoned, host.meminfo().HardwareCorrupted / 4);
  assert.equal(s.memoryFailure, host.memoryFailureStats());
  assert.is(s.pageTablePages, host.pageTablePages());
}

test('batch replay agrees event for event with single calls through the Host API', async () => {
  await replayAgreesWith(await Host.create({ hugepages: { '2M': 64 } }));
});

test('batch replay through HGM-split page tables agrees with single Host calls', async () => {
  await replayAgreesWith(await Host.create({ hugepages: { '2M': 64 }, hgm: true }), true);
});

test('batch replay agrees event for event with the reference model', async () => {
  await replayAgreesWith(RefHost.create({ hugepages: { '2M': 64 } }));
});

test.run();
