// The error generators in bounded memory: a host with more records than memory holds is
// sorted through a temporary file into exactly the stream an in-memory sort gives; the
// calibration tally keeps exact histograms, not arrays per host; flags that would need
// unbounded memory are refused up front with the numbers.
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import type { ErrorBatch } from '../src/errors/batch.js';
import { CountHistogram } from '../src/errors/count-histogram.js';
import { generateErrorBatches, tallyFleet } from '../src/errors/generator.js';
import { parseGeneratorConfig } from '../src/errors/config.js';

const COLUMNS = ['time', 'physAddr', 'host', 'faultId', 'count', 'dimm', 'flags', 'cause'] as const;

/** Every record of a stream, column by column. */
function columns(batches: Iterable<ErrorBatch>): Record<(typeof COLUMNS)[number], number[]> {
  const out = Object.fromEntries(COLUMNS.map((c) => [c, [] as number[]])) as Record<(typeof COLUMNS)[number], number[]>;
  for (const b of batches) for (const c of COLUMNS) for (const v of b[c]) out[c].push(v);
  return out;
}

const spillDirs = () => readdirSync(tmpdir()).filter((f) => f.startsWith('mfrsim-sort-')).length;

test('a host sorted through a temporary file gives exactly the in-memory stream', () => {
  // 15 incidents a host-year: ~130,000 records on two hosts.
  const config = { mode: 'incident' as const, hosts: 2, years: 1, seed: 5, incident: { perHostYear: 15 } };
  const before = spillDirs();
  const inMemory = columns(generateErrorBatches(config, { batchSize: 5000 }));
  assert.ok(inMemory.time.length > 50_000, `${inMemory.time.length} records`);
  // Runs of 1,000 records: over a hundred runs a host, merged in two passes.
  const spilled = columns(generateErrorBatches(config, { batchSize: 777, sortRunRecords: 1000 }));
  assert.equal(spilled, inMemory);
  for (let h = 0, i = 1; i < spilled.time.length; i++) {
    if (spilled.host[i] !== h) h = spilled.host[i]!;
    else assert.ok(spilled.time[i]! >= spilled.time[i - 1]!, 'records are in time order within a host');
  }
  assert.is(spillDirs(), before, 'the temporary files are gone');
});

test('the DRAM model sorted through a temporary file gives the same stream too', () => {
  const config = { hosts: 4, years: 1, seed: 5, dram: { fitScale: 5 } };
  const inMemory = columns(generateErrorBatches(config));
  assert.ok(inMemory.time.length > 5000, `${inMemory.time.length} records`);
  assert.equal(columns(generateErrorBatches(config, { sortRunRecords: 500 })), inMemory);
});

test('the calibration histogram gives the exact mean, median and top shares of the samples', () => {
  fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 50 }), { maxLength: 200 }), fc.integer({ min: 0, max: 250 }), (values, k) => {
    const h = new CountHistogram();
    for (const v of values) h.add(v);
    const sorted = [...values].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    const median = sorted.length === 0 ? 0 : sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
    assert.is(h.median(), median);
    assert.is(h.n, values.length);
    assert.is(h.sum, values.reduce((s, v) => s + v, 0));
    assert.is(h.topSum(k), sorted.slice(Math.max(0, sorted.length - k)).reduce((s, v) => s + v, 0));
  }), { numRuns: 300 });
});

test('the calibration of a fleet is the same counted whole or in merged host ranges', () => {
  const config = parseGeneratorConfig({ hosts: 600, years: 2, seed: 3 });
  const whole = tallyFleet(config);
  const merged = tallyFleet(config, { firstHost: 0, hostCount: 250 }).merge(tallyFleet(config, { firstHost: 250, hostCount: 350 }));
  assert.equal([merged.hostYearErrors.n, merged.hostYearErrors.sum, merged.hostYearErrors.median()], [whole.hostYearErrors.n, whole.hostYearErrors.sum, whole.hostYearErrors.median()]);
  assert.equal([merged.dimmErrors.n, merged.dimmErrors.topSum(100)], [whole.dimmErrors.n, whole.dimmErrors.topSum(100)]);
  assert.ok(whole.dimmErrors.n > 0);
});

test('flags that would need unbounded memory are refused up front, with the numbers', () => {
  const started = performance.now();
  assert.throws(() => parseGeneratorConfig({ years: 1e6 }), /years: at most 100 years \(for more host-years, generate more hosts\)/);
  assert.throws(() => [...generateErrorBatches({ hosts: 1, years: 100, dram: { fitScale: 3000 } })], /fit scale 3000 over 100 years gives about \d+ faults per DIMM .* \(at most 250/);
  assert.throws(() => tallyFleet({ hosts: 1, years: 50, dram: { channelEventsPerHostYear: 100 } }), /5000 per host \(at most 1000/);
  assert.ok(performance.now() - started < 2000);
});

test.run();
