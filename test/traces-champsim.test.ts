import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TraceFormatError } from '../src/traces/errors.js';
import { openTrace } from '../src/traces/open.js';
import { ACCESS_READ as R, ACCESS_WRITE as W } from '../src/traces/types.js';
import { assertTraceError, champsimRecord, ev, hasTool, readEvents, tempDir, writeFile, xzCompress } from './traces-fixtures.js';

const dir = tempDir();
const HAS_XZ = hasTool('xz');
if (!HAS_XZ) console.log('traces-champsim: xz is not installed, skipping the .xz cases');

const RECORDS = Buffer.concat([
  champsimRecord({ srcMem: [0x7ffd0000, 0, 0x7ffd0040], destMem: [0x601000] }),
  champsimRecord({ isBranch: 1, taken: 1 }),
  champsimRecord({ destMem: [0x601040, 0x601080], srcMem: [0x1000] }),
]);
const EXPECTED = [
  ev(0x7ffd0000, R, 0),
  ev(0x7ffd0040, R, 1),
  ev(0x601000, W, 2),
  ev(0x1000, R, 3),
  ev(0x601040, W, 4),
  ev(0x601080, W, 5),
];

test('champsim: source operands are reads, destinations writes, reads first', async () => {
  const path = writeFile(dir, 'a.champsim', RECORDS);
  const trace = await openTrace(path, { format: 'champsim' });
  assert.not.ok(trace.physical);
  assert.not.ok(trace.compressed);
  assert.equal(await readEvents(path, { format: 'champsim' }), EXPECTED);
});

test('champsim: a truncated final record names its record number', async () => {
  const path = writeFile(dir, 'trunc.champsim', RECORDS.subarray(0, 64 * 2 + 40));
  await assertTraceError(path, { format: 'champsim' }, 3, /truncated record \(40 of 64 bytes\)/);
});

test('champsim: an address above 2^53-1 and a non-ChampSim record are errors', async () => {
  const high = Buffer.concat([RECORDS, champsimRecord({ srcMem: [2 ** 53] })]);
  await assertTraceError(writeFile(dir, 'high.champsim', high), { format: 'champsim' }, 4, /address 0x20000000000000 is above 2\^53-1/);
  const bad = Buffer.concat([RECORDS, champsimRecord({ isBranch: 7 })]);
  await assertTraceError(writeFile(dir, 'bad.champsim', bad), { format: 'champsim' }, 4, /expected 0 or 1 \(not a ChampSim trace\?\)/);
});

test('champsim: the same events whatever the batch size', async () => {
  const records: Buffer[] = [];
  for (let i = 0; i < 3000; i++) {
    records.push(champsimRecord({ srcMem: i % 3 ? [0x10000 + i * 64, 0x20000 + i * 64] : [], destMem: i % 2 ? [0x30000 + i * 64] : [] }));
  }
  const path = writeFile(dir, 'many.champsim', Buffer.concat(records));
  const reference = await readEvents(path, { format: 'champsim' });
  assert.is(reference.length, 2000 * 2 + 1500);
  for (const batchSize of [64, 1000]) assert.equal(await readEvents(path, { format: 'champsim', batchSize }), reference);
});

test('champsim .xz: streamed through the decompressor', async () => {
  if (!HAS_XZ) return;
  const path = xzCompress(writeFile(dir, 'b.champsimtrace', RECORDS));
  const trace = await openTrace(path);
  assert.is(trace.format, 'champsim');
  assert.ok(trace.compressed);
  assert.equal(await readEvents(path), EXPECTED);
});

test('champsim .xz: a truncated record inside a complete xz stream, and a truncated xz stream', async () => {
  if (!HAS_XZ) return;
  const partial = xzCompress(writeFile(dir, 'c.champsimtrace', RECORDS.subarray(0, 64 + 10)));
  await assertTraceError(partial, { format: 'champsim' }, 2, /truncated record \(10 of 64 bytes\)/);

  const big = Buffer.concat(Array.from({ length: 2000 }, (_, i) => champsimRecord({ srcMem: [0x100000 + i * 4096 + ((i * 7919) % 4096)] })));
  const whole = xzCompress(writeFile(dir, 'd.champsimtrace', big));
  const bytes = readFileSync(whole);
  const cut = writeFile(dir, 'cut.champsimtrace.xz', bytes.subarray(0, bytes.length >> 1));
  // The error names the record being decoded when the data ran out, somewhere mid-file.
  const failure = await readEvents(cut, { format: 'champsim' }).then(
    () => null,
    (err: unknown) => err,
  );
  if (!(failure instanceof TraceFormatError)) return assert.unreachable(`expected a TraceFormatError, got ${String(failure)}`);
  const offset = Number(/^corrupt or truncated xz data after (\d+) decompressed bytes/.exec(failure.reason)?.[1]);
  assert.ok(offset > 64 && offset < 2000 * 64, failure.reason);
  assert.is(failure.line, Math.floor(offset / 64) + 1);
  // The decoder is free again afterwards.
  assert.is((await readEvents(whole)).length, 2000);
});

test('champsim .xz: stopping early releases the decoder for the next stream', async () => {
  if (!HAS_XZ) return;
  const path = xzCompress(writeFile(dir, 'e.champsimtrace', Buffer.concat(Array.from({ length: 500 }, () => RECORDS))));
  for await (const batch of await openTrace(path, { batchSize: 64 })) {
    assert.ok(batch.length > 0);
    break;
  }
  assert.is((await readEvents(path)).length, 3000);
});

test.run();
