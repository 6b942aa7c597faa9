// mfrsim replay on traces: hugepages are backed as the trace first touches them (or by a
// layout file), UEs from an error stream hit the traced process as the policy says, and the
// figures are reproducible.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorBatchBuilder, FLAG_SCRUB, FLAG_UE } from '../src/errors/batch.js';
import { ErrorStreamWriter } from '../src/errors/format.js';
import { replayTrace } from '../src/fleet/replay-trace.js';
import { touchedLayout } from '../src/traces/layout.js';
import { openTrace } from '../src/traces/index.js';

const MiB = 2 ** 20;
const BASE = 0x2000_0000; // 512 MiB: hugepage 256 of the 2 MiB size

/** A lackey trace sweeping 8 MiB with 64 B loads and stores, `passes` times. */
async function lackeyTrace(dir: string, passes: number): Promise<string> {
  const lines = ['==1== Lackey, an example Valgrind tool'];
  for (let p = 0; p < passes; p++) {
    for (let off = 0; off < 8 * MiB; off += 64) lines.push(`${p % 2 ? ' S' : ' L'} ${(BASE + off).toString(16).toUpperCase()},8`);
  }
  const path = join(dir, 'sweep.lackey');
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

/** An error stream with UEs on host 0 at the given physical addresses. */
async function errorStream(dir: string, phys: number[], scrub: boolean): Promise<string> {
  const path = join(dir, 'ues.mfrerr');
  const w = await ErrorStreamWriter.create(path, { flags: 0, hostCount: 1, seed: 0, physBase: 2 ** 32, spanSeconds: 0 });
  const b = new ErrorBatchBuilder();
  phys.forEach((pa, i) => b.push(i, 0, pa, FLAG_UE | (scrub ? FLAG_SCRUB : 0), 255, 0, i));
  await w.write(b.view());
  await w.close();
  return path;
}

test('the default layout faults in exactly the touched hugepages, in the window around them', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mfrsim-replay-'));
  const r = await replayTrace({ trace: await lackeyTrace(dir, 1), policy: 'keep' });
  assert.equal(r.layout.regions.map((x) => [x.start, x.length, x.policy]), [[BASE, 128 * MiB, 'keep']]);
  assert.is(r.host.faultIns, 4);
  assert.is(r.ok, r.accesses);
});

test('a sparse address space: two accesses 128 TiB apart, one in the hugepage at 0', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mfrsim-replay-'));
  const trace = join(dir, 'sparse.lackey');
  await writeFile(trace, 'I  00001000,4\n L 7FFF00000000,8\n');
  for (const hugepage of ['2M', '1G'] as const) {
    const r = await replayTrace({ trace, hugepage });
    assert.is(r.accesses, 2);
    assert.is(r.ok, 2);
    assert.is(r.host.faultIns, 2);
    assert.equal(r.layout.regions.map((x) => x.start), [0, 0x7fff00000000 - (0x7fff00000000 % Math.max(2 ** 27, hugepage === '2M' ? 2 ** 21 : 2 ** 30))]);
  }
  // Past the 47-bit user address space: a clear error, not an out-of-memory one.
  await writeFile(trace, ' L 800000000000,8\n');
  try {
    await replayTrace({ trace });
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, /event 0: address 0x800000000000 is beyond the 47-bit user address space/);
  }
});

test('first touch and a layout file agree when the trace touches its hugepages in address order', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mfrsim-replay-'));
  const trace = await lackeyTrace(dir, 2);
  const errors = await errorStream(dir, [2 ** 32 + 2 * MiB + 5 * 4096, 2 ** 32 + 3 * MiB], false);
  for (const policy of ['keep', 'default'] as const) {
    // The layout file of the hugepages the trace touches, with the policy's memfd flag.
    const layoutFile = join(dir, `${policy}.json`);
    await writeFile(layoutFile, JSON.stringify(await touchedLayout(await openTrace(trace), { policy })));
    const touched = await replayTrace({ trace, errors, policy });
    const laidOut = await replayTrace({ trace, errors, policy, layout: layoutFile });
    for (const k of ['accesses', 'ok', 'sigbus', 'bytesLost', 'hugepagesLost', 'rawPagesPoisoned'] as const) assert.is(touched[k], laidOut[k], `${policy} ${k}`);
    assert.equal(touched.sigbusByCode, laidOut.sigbusByCode);
    assert.equal(touched.signalLog, laidOut.signalLog);
    assert.equal(touched.errors, laidOut.errors);
  }
});

test('a scrub UE in the traced memory: KEEP loses 4 KiB and faults only on the bad page, DEFAULT loses the hugepage', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mfrsim-replay-'));
  const trace = await lackeyTrace(dir, 2);
  // The layout's 4 hugepages take the pool's lowest frames: the UE hits the second one.
  const ue = 2 ** 32 + 2 * MiB + 5 * 4096;
  const errors = await errorStream(dir, [ue], true);
  const keep = await replayTrace({ trace, errors, policy: 'keep' });
  const dflt = await replayTrace({ trace, errors, policy: 'default' });
  const accesses = 2 * (8 * MiB) / 64;
  for (const r of [keep, dflt]) {
    assert.is(r.accesses, accesses);
    assert.is(r.errors.applied, 1);
    assert.is(r.rawPagesPoisoned, 1);
  }
  // KEEP: only the 64 accesses per pass to the corrupted 4 KiB page fault.
  assert.is(keep.bytesLost, 4096);
  assert.is(keep.sigbusByCode.BUS_MCEERR_AR, 2 * 64);
  assert.is(keep.ok, accesses - 2 * 64);
  // DEFAULT: the whole 2 MiB hugepage is offline: every access to it faults.
  assert.is(dflt.bytesLost, 2 * MiB);
  assert.is(dflt.hugepagesLost, 1);
  assert.is(dflt.sigbusByCode.BUS_MCEERR_AR, 2 * (2 * MiB) / 64);
});

test('the traced program\'s exit prices KEEP\'s deferred dissolve as release latency; HVO and the environment set its cost', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mfrsim-replay-'));
  const trace = await lackeyTrace(dir, 1);
  const errors = await errorStream(dir, [2 ** 32 + 2 * MiB + 5 * 4096], true);
  const keep = await replayTrace({ trace, errors, policy: 'keep' });
  assert.equal([keep.recovery.release.dissolves, keep.recovery.release.vmemmapPages], [1, 7]);
  assert.is(keep.recovery.release.totalNs, Math.round((36.748 / 500_000) * 1e9), 'a 2 MiB dissolve with HVO on bare metal');
  assert.is(keep.host.dissolves, 0, 'the figures are from before the exit');
  const noHvo = await replayTrace({ trace, errors, policy: 'keep', hvo: false, environment: 'vm' });
  assert.equal([noHvo.recovery.release.totalNs, noHvo.recovery.release.vmemmapPages], [Math.round((2.931 / 524_288) * 1e9), 0]);
  const dflt = await replayTrace({ trace, errors, policy: 'default' });
  assert.is(dflt.recovery.release.events, 0, 'DEFAULT leaks the offlined hugepage: nothing to dissolve');
});

test('THP: the scrub UE splits the folio; only the bad page faults, or every load of it when the split fails', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mfrsim-replay-'));
  const trace = await lackeyTrace(dir, 2);
  const ue = 2 ** 32 + 2 * MiB + 5 * 4096;
  const errors = await errorStream(dir, [ue], true);
  const split = await replayTrace({ trace, errors, policy: 'thp' });
  const pinned = await replayTrace({ trace, errors, policy: 'thp', thpSplitFailure: 1 });
  for (const r of [split, pinned]) {
    assert.is(r.rawPagesPoisoned, 1);
    assert.is(r.bytesLost, 4096);
    assert.is(r.hugepagesLost, 0);
    assert.is(r.host.faultIns, 4, 'the 4 touched folios, faulted in from THP memory');
  }
  // Split: the poisoned page is a HWPOISON PTE; its 64 accesses per pass fault, without a
  // new machine check.
  assert.is(split.host.memoryFailure.recovered, 1);
  assert.is(split.host.thp.split, 1);
  assert.is(split.host.pageTablePages, 1);
  assert.is(split.sigbusByCode.BUS_MCEERR_AR, 2 * 64);
  assert.is(split.host.repeatedConsumption, 0);
  // Pinned: the folio stays mapped whole; each load of the corrupted page is a machine check.
  assert.is(pinned.host.memoryFailure.failed, 1);
  assert.is(pinned.host.thp.split, 0);
  assert.is(pinned.sigbusByCode.BUS_MCEERR_AR, 2 * 64);
  assert.is(pinned.host.repeatedConsumption, 2 * 64);
  // A load of a poisoned raw page of a PMD-mapped folio is reported at 4 KiB
  // (kill_accessing_process, check_hwpoisoned_pmd_entry).
  assert.ok(pinned.signalLog.every((sig) => sig.addrLsb === 12));
});

test('a process without a SIGBUS handler dies of the first fault; later accesses are counted as dead', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mfrsim-replay-'));
  const trace = await lackeyTrace(dir, 1);
  const errors = await errorStream(dir, [2 ** 32 + 4096], true);
  const r = await replayTrace({ trace, errors, policy: 'default', killOnSigbus: true });
  assert.ok(r.processKilled);
  assert.is(r.sigbus, 1);
  assert.is(r.ok, 0, 'the first access is on the offlined hugepage');
  assert.is(r.host.deadProcessEvents, r.accesses - 1);
});

test('UEs outside the host are counted, CEs skipped, and the result is reproducible', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mfrsim-replay-'));
  const trace = await lackeyTrace(dir, 1);
  const a = await replayTrace({ trace, policy: 'keep', poisonFraction: 0.5, seed: 9 });
  const b = await replayTrace({ trace, policy: 'keep', poisonFraction: 0.5, seed: 9 });
  assert.equal({ ...a.host }, { ...b.host });
  assert.is(a.rawPagesPoisoned, a.errors.applied);
  const all = await replayTrace({ trace, policy: 'keep', poisonFraction: 1 });
  assert.is(all.rawPagesPoisoned, 4, 'one raw page in each touched hugepage');
  const errors = await errorStream(dir, [2 ** 20, 2 ** 32 + 64 * MiB], false);
  const c = await replayTrace({ trace, errors });
  assert.is(c.errors.applied + c.errors.outsideHost, 2);
  assert.is(c.errors.outsideHost, 1, 'below 4 GiB is not HugeTLB memory');
});

test.run();
