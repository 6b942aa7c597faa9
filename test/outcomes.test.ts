// Nothing silent: every replayed access and every error record ends in exactly one counted
// category, and the categories add up to the input (traces, fleets, error streams, imported
// logs), checked against inputs whose make-up the test knows.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { accessOutcomes } from '../src/cli/outcomes.js';
import { ErrorBatchBuilder, FLAG_SCRUB, FLAG_UE } from '../src/errors/batch.js';
import { ErrorStreamWriter } from '../src/errors/format.js';
import { readKmsg } from '../src/errors/readers/kmsg.js';
import { runFleet } from '../src/fleet/pool.js';
import { replayTrace } from '../src/fleet/replay-trace.js';
import type { HostSpec } from '../src/fleet/shard.js';

const dir = mkdtempSync(join(tmpdir(), 'mfrsim-outcomes-'));
const at = (name: string) => join(dir, name);
const MiB = 2 ** 20;
const GiB = 2 ** 30;
const POOL = 2 ** 32; // the simulator's pools start at 4 GiB
const REGION = 0x7f00_0000_0000;
const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);

/** An error stream of (host, physical address, UE?) records; UEs found by the scrubber or consumed. */
async function stream(name: string, records: [number, number, boolean][], scrub = false): Promise<string> {
  const w = await ErrorStreamWriter.create(at(name), { flags: 0, hostCount: 16, seed: 0, physBase: POOL, spanSeconds: 0 });
  const b = new ErrorBatchBuilder();
  records.forEach(([host, pa, ue], i) => b.push(i, host, pa, ue ? FLAG_UE | (scrub ? FLAG_SCRUB : 0) : 0, 255, 0, i));
  await w.write(b.view());
  await w.close();
  return at(name);
}

test('a trace: completed, signalled, outside the layout and after death add up to its accesses', async () => {
  // 30 accesses outside the layout, 100 to hugepage 0, then 100 to hugepage 1, which holds a UE.
  const lines = [
    ...Array.from({ length: 30 }, (_, i) => ` L ${(0x1000_0000 + i * 64).toString(16)},8`),
    ...Array.from({ length: 100 }, (_, i) => ` L ${(REGION + i * 64).toString(16)},8`),
    ...Array.from({ length: 100 }, (_, i) => ` S ${(REGION + 2 * MiB + i * 64).toString(16)},8`),
  ];
  writeFileSync(at('t.lackey'), `${lines.join('\n')}\n`);
  writeFileSync(at('layout.json'), JSON.stringify({ regions: [{ start: `0x${REGION.toString(16)}`, length: '4M', hugepageSize: '2M' }] }));
  const errors = await stream('t.mfrerr', [[0, POOL + 2 * MiB + 4096, true], [0, POOL + 2 * MiB + 8192, false], [0, 0, true], [3, POOL, true]], true);
  const r = await replayTrace({ trace: at('t.lackey'), layout: at('layout.json'), errors, policy: 'default', killOnSigbus: true });
  const o = accessOutcomes(r.host);
  assert.equal(o, { completed: 100, signalled: 1, outsideLayout: 30, deadProcess: 99 });
  assert.is(sum({ ...o }), lines.length);
  assert.is(r.accesses, lines.length);
  // Every record of the stream: one UE applied, one CE skipped, one UE outside the pools, one of another host.
  assert.equal(r.errors, { host: 0, records: 4, applied: 1, corrected: 1, outsideHost: 1, otherHosts: 1 });
  assert.is(r.errors.applied + r.errors.corrected + r.errors.outsideHost + r.errors.otherHosts, r.errors.records);

  // The CLI prints the categories and writes them in the JSON.
  const cli = spawnSync(process.execPath, [new URL('../dist/cli/main.js', import.meta.url).pathname, 'replay', '--trace', at('t.lackey'),
    '--layout', at('layout.json'), '--errors', errors, '--kill-on-sigbus', '--json', at('t.json')], { encoding: 'utf8' });
  assert.is(cli.status, 0, cli.stderr);
  assert.match(cli.stdout, /outside the layout\s+30\n/);
  // The line wraps to the terminal's width.
  assert.match(cli.stdout.replace(/\s+/g, ' '), /error records 4: 1 UEs of stream host 0 applied, 1 CEs skipped, 1 outside the pools, 1 of other hosts/);
  const json = JSON.parse(readFileSync(at('t.json'), 'utf8'));
  assert.equal(json.outcomes, o);
  assert.is(sum(json.outcomes), json.accesses);
});

const hosts: HostSpec[] = Array.from({ length: 3 }, (_, i) => ({
  hugepages: { '2M': 1024 },
  vms: [
    { memory: GiB, hugepage: '2M', policy: 'default', handlesSigbus: i !== 1 },
    { memory: GiB, hugepage: '2M', policy: 'keep' },
  ],
}));

test('a fleet: access outcomes add up to hosts x accesses, error records to the stream, for any worker count', async () => {
  // Host 0: a consumed UE in a pool; host 1: a UE below the pools; host 2: a CE; host 7: no such host.
  const errors = await stream('f.mfrerr', [[0, POOL + 4096, true], [1, 4096, true], [2, POOL, false], [7, POOL, true]]);
  const run = { hosts, seed: 3, errors, poison: { fraction: 0.05 }, workload: { pattern: 'poisoned' as const, accessesPerHost: 20_000 } };
  const inline = await runFleet({ ...run, workers: 0 });
  const o = accessOutcomes(inline.total);
  assert.is(sum({ ...o }), 3 * 20_000);
  assert.ok(o.completed > 0 && o.signalled > 0 && o.deadProcess > 0, `every category is exercised: ${JSON.stringify(o)}`);
  assert.equal(inline.errors, { records: 4, applied: 1, corrected: 1, outsidePools: 1, outsideFleet: 1 });
  const sharded = await runFleet({ ...run, workers: 2, hostsPerShard: 1 });
  assert.equal(accessOutcomes(sharded.total), o);
  assert.equal(sharded.errors, inline.errors);
});

test('an imported log: records, malformed and ignored add up to its error lines', async () => {
  const lines = [
    '[  10.0] mce: Uncorrected hardware memory error in user-access at 3710b3400',
    '[  10.1] Memory failure: 0x3710b3: recovery action for huge page: Recovered',
    '[  20.0] Memory failure: 0x4710b3: recovery action for huge page: Recovered',
    '[  30.0] EDAC MC0: 1 CE memory read error on DIMM_A1 (channel:0 slot:0 page:0x42 offset:0x80 grain:32)',
    '[  31.0] EDAC MC0: 100000000000000000000 CE memory read error on DIMM_A1 (channel:0 slot:0 page:0x42 offset:0x80 grain:32)',
    '[  32.0] mce: Uncorrected hardware memory error in user-access at nowhere',
    '[  33.0] EDAC MC0: 1 UE memory read error on DIMM_A1 (channel:0 slot:0 no information available)',
  ];
  writeFileSync(at('k.log'), `${lines.join('\n')}\n`);
  const log = readKmsg(at('k.log'), { skipBad: true });
  let records = 0;
  for await (const b of log.batches) records += b.length;
  // Six error records (the second line belongs to the first): three placed, two malformed, one without an address.
  assert.equal([records, log.stats.skipped, log.stats.ignored], [3, 2, 1]);
  assert.is(log.stats.records + log.stats.skipped + log.stats.ignored, 6);
  assert.match(log.stats.firstSkipped!, /^line 5: error count 100000000000000000000 is not an integer from 1 to 4294967295/);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
