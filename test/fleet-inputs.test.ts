// Fleet inputs that must not be silently wrong: unknown keys in a fleet description, the
// share of hugepages poison.fraction poisons, and which signals the kept log holds.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorBatchBuilder, FLAG_UE } from '../src/errors/batch.js';
import { ErrorStreamWriter } from '../src/errors/format.js';
import { streamRng } from '../src/errors/rng.js';
import { FleetDescriptionError, loadFleet, parseFleet } from '../src/fleet/description.js';
import { runFleet } from '../src/fleet/pool.js';
import type { HostSpec } from '../src/fleet/shard.js';
import { sampleWithoutReplacement } from '../src/fleet/workload.js';

const dir = mkdtempSync(join(tmpdir(), 'mfrsim-fleet-inputs-'));
const GiB = 2 ** 30;
const FLEET = { hosts: 2, host: { hugepages: { '2M': 1024 }, vms: [{ memory: GiB, hugepage: '2M', policy: 'keep' }] }, poison: { fraction: 0.1 } };

function refusal(doc: unknown): string {
  try {
    parseFleet(doc, 'fleet.json');
  } catch (err) {
    assert.instance(err, FleetDescriptionError);
    return (err as Error).message;
  }
  return 'accepted';
}

test('unknown keys in a fleet description are errors naming their JSON path', async () => {
  assert.is(refusal({ ...FLEET, poisson: { fraction: 0.5 } }), 'fleet.json: poisson: unknown key (not part of a fleet description)');
  assert.is(refusal({ ...FLEET, host: { ...FLEET.host, vms: [{ memroy: GiB }] } }), 'fleet.json: host.vms[0].memroy: unknown key (not part of a fleet description)');
  assert.is(refusal({ ...FLEET, workload: { pattern: 'random', accessesPerHost: 1, writeFraktion: 0.2 } }), 'fleet.json: workload.writeFraktion: unknown key (not part of a fleet description)');
  assert.is(refusal({ ...FLEET, host: { ...FLEET.host, hugepages: { '4K': 3 } } }), 'fleet.json: host.hugepages.4K: unknown key (not part of a fleet description)');
  assert.is(refusal({ ...FLEET, hosts: 0 }), 'fleet.json: hosts: Too small: expected number to be >0');
  assert.is(refusal(FLEET), 'accepted');
  writeFileSync(join(dir, 'broken.json'), '{"hosts": 2,');
  try {
    await loadFleet(join(dir, 'broken.json'));
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, /broken\.json: invalid JSON: /);
  }
});

test('sampling without replacement: k distinct values below n, deterministic by seed', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 5000 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.nat(), (n, share, seed) => {
      const k = Math.round(n * share);
      const a = sampleWithoutReplacement(streamRng(seed, 1), n, k);
      assert.is(a.length, k);
      assert.is(new Set(a).size, k);
      assert.ok(a.every((v) => Number.isInteger(v) && v >= 0 && v < n));
      assert.equal(sampleWithoutReplacement(streamRng(seed, 1), n, k), a);
    }),
    { numRuns: 300, seed: 10 },
  );
});

test('poison.fraction poisons exactly that share of each VM\'s hugepages', async () => {
  const hosts: HostSpec[] = [{ hugepages: { '2M': 1000 }, vms: [{ memory: 1000 * 2 ** 21, hugepage: '2M', policy: 'default' }] }];
  for (const fraction of [1, 0.5, 0.013]) {
    const r = await runFleet({ hosts, seed: 5, poison: { fraction }, workers: 0 });
    assert.is(r.total.rawPagesPoisoned, Math.round(1000 * fraction), `fraction ${fraction}`);
    assert.is(r.total.hugepagesLost, Math.round(1000 * fraction), 'each on its own hugepage');
  }
});

test('the kept signal log is the same for any sharding and worker count', async () => {
  // Each host takes a consumed UE from the stream (a signal at once), then a workload that hits
  // its poisoned hugepages: a shard applies all its hosts' UEs first, so delivery order differs.
  const hosts: HostSpec[] = Array.from({ length: 4 }, () => ({ hugepages: { '2M': 1024 }, vms: [{ memory: GiB, hugepage: '2M', policy: 'default' }] }));
  const path = join(dir, 'ues.mfrerr');
  const w = await ErrorStreamWriter.create(path, { flags: 0, hostCount: 4, seed: 0, physBase: 2 ** 32, spanSeconds: 0 });
  const b = new ErrorBatchBuilder();
  for (let h = 0; h < 4; h++) b.push(h, h, 2 ** 32 + 4096 * (h + 1), FLAG_UE, 255, 0, h);
  await w.write(b.view());
  await w.close();
  const run = { hosts, seed: 1, errors: path, poison: { fraction: 0.05 }, workload: { pattern: 'poisoned' as const, accessesPerHost: 3 }, signalLogCapacity: 6 };
  const one = await runFleet({ ...run, workers: 0, hostsPerShard: 4 });
  assert.equal(one.signalLog.map((s) => s.host), [0, 0, 0, 0, 1, 1], 'the first signals in host order');
  for (const [workers, hostsPerShard] of [[0, 1], [2, 2], [3, 1], [1, 3]]) {
    const r = await runFleet({ ...run, workers, hostsPerShard });
    assert.equal(r.signalLog, one.signalLog, `${workers} workers, ${hostsPerShard} hosts per shard`);
    assert.is(r.signalsDropped, one.signalsDropped);
  }
  assert.is(one.signalLog.length + one.signalsDropped, one.total.sigbus);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
