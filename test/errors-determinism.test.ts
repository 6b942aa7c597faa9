// The same seed and configuration give the same stream, whatever the sharding and batch size.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FLAG_SCRUB, FLAG_UE, type ErrorBatch } from '../src/errors/batch.js';
import { parseGeneratorConfig, type GeneratorConfigInput } from '../src/errors/config.js';
import { CAUSE_CHANNEL_EVENT, CAUSE_CHANNEL_FAULT, CAUSE_OVERLAP } from '../src/errors/faults.js';
import { STREAM_GENERATED, writeErrorStream } from '../src/errors/format.js';
import { generateErrorBatches } from '../src/errors/generator.js';

const dir = mkdtempSync(join(tmpdir(), 'mfrsim-errors-det-'));
let files = 0;

/** The stream of the fleet, generated as `shards` separate host ranges one after the other. */
async function streamBytes(input: GeneratorConfigInput, shards: number, batchSize?: number): Promise<Buffer> {
  const config = parseGeneratorConfig(input);
  const per = Math.ceil(config.hosts / shards);
  function* sharded(): Generator<ErrorBatch> {
    for (let first = 0; first < config.hosts; first += per) {
      // A fresh generator per shard, as a separate worker would run it.
      yield* generateErrorBatches(config, { firstHost: first, hostCount: Math.min(per, config.hosts - first), batchSize });
    }
  }
  const path = join(dir, `s${files++}.bin`);
  await writeErrorStream(path, { flags: STREAM_GENERATED, hostCount: config.hosts, seed: config.seed, physBase: config.physBase, spanSeconds: 0 }, sharded());
  return readFileSync(path);
}

// Many faults, channel events, channel faults and UEs (weakened ECC too), but few records
// per fault, to keep the test quick.
const DRAM: GeneratorConfigInput = {
  hosts: 48,
  years: 2,
  seed: 77,
  dram: { fitScale: 10, channelEventsPerHostYear: 0.2, channelFaultsPerHostYear: 0.2, weakenedEccShare: 0.5 },
  reporting: { maxLoggedPerHour: 0.2 },
};

test('1 and 4 shards give byte-identical streams', async () => {
  const one = await streamBytes(DRAM, 1);
  const four = await streamBytes(DRAM, 4);
  assert.ok(one.length > 64 + 32 * 10000, `a stream with records (${one.length} bytes)`);
  assert.ok(one.equals(four));
  assert.ok(one.equals(await streamBytes(DRAM, 7)), '7 uneven shards');
});

test('the batch size does not change the stream', async () => {
  const reference = await streamBytes(DRAM, 1);
  for (const batchSize of [1, 333, 1 << 20]) assert.ok(reference.equals(await streamBytes(DRAM, 2, batchSize)), `batch size ${batchSize}`);
});

test('the incident shortcut is deterministic too', async () => {
  const incident: GeneratorConfigInput = { mode: 'incident', hosts: 300, years: 2, seed: 5, incident: { channelPages: [1000, 10000] } };
  const a = await streamBytes(incident, 1);
  assert.ok(a.length > 64);
  assert.ok(a.equals(await streamBytes(incident, 3, 100)));
});

test('another seed gives another stream', async () => {
  assert.not.ok((await streamBytes(DRAM, 1)).equals(await streamBytes({ ...DRAM, seed: 78 }, 1)));
});

test('records come by host, then time, and carry UEs, scrub finds and fault ids', () => {
  let prevHost = -1;
  let prevTime = -Infinity;
  let records = 0;
  const flags = new Set<number>();
  const causes = new Set<number>();
  for (const b of generateErrorBatches(DRAM, { batchSize: 1000 })) {
    for (let i = 0; i < b.length; i++) {
      flags.add(b.flags[i] & (FLAG_UE | FLAG_SCRUB));
      causes.add(b.cause[i]);
      assert.ok(b.host[i] > prevHost || (b.host[i] === prevHost && b.time[i] >= prevTime), `record ${records} out of order`);
      assert.ok(b.time[i] >= 0 && b.time[i] < 2 * 8766 * 3600);
      prevHost = b.host[i];
      prevTime = b.time[i];
      records++;
    }
  }
  assert.ok(records > 0);
  assert.equal([...flags].sort((a, b) => a - b), [0, FLAG_UE, FLAG_SCRUB, FLAG_UE | FLAG_SCRUB], 'CE and UE, by reads and by the scrubber');
  assert.ok(causes.has(CAUSE_CHANNEL_EVENT) && causes.has(CAUSE_CHANNEL_FAULT) && causes.has(CAUSE_OVERLAP), 'channel events, channel faults and overlapping faults');
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
