// mfrsim's binary error-stream format: round trips, header, and clear errors on bad files.
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { ErrorBatchBuilder, timeOrder, type ErrorBatch } from '../src/errors/batch.js';
import {
  HEADER_BYTES,
  MAGIC,
  readErrorStream,
  readErrorStreamHeader,
  RECORD_BYTES,
  STREAM_GENERATED,
  writeErrorStream,
  type StreamHeader,
} from '../src/errors/format.js';

const dir = mkdtempSync(join(tmpdir(), 'mfrsim-errors-fmt-'));
const HEADER: Omit<StreamHeader, 'recordCount'> = { flags: STREAM_GENERATED, hostCount: 9, seed: 4242, physBase: 2 ** 32, spanSeconds: 86400 };

const record = fc.record({
  time: fc.double({ min: 0, max: 1e10, noNaN: true }),
  host: fc.nat({ max: 0xffffffff }),
  physAddr: fc.nat({ max: 2 ** 52 - 1 }),
  flags: fc.nat({ max: 255 }),
  cause: fc.nat({ max: 255 }),
  dimm: fc.nat({ max: 0xffff }),
  faultId: fc.nat({ max: 0xffffffff }),
  count: fc.integer({ min: 1, max: 0xffffffff }), // a record stands for at least one error: the reader refuses 0
});
type Rec = { time: number; host: number; physAddr: number; flags: number; cause: number; dimm: number; faultId: number; count: number };

function batchesOf(records: Rec[], size: number): ErrorBatch[] {
  const out: ErrorBatch[] = [];
  const b = new ErrorBatchBuilder(size);
  for (const r of records) {
    b.push(r.time, r.host, r.physAddr, r.flags, r.cause, r.dimm, r.faultId, r.count);
    if (b.length === size) out.push(b.take());
  }
  if (b.length) out.push(b.take());
  return out;
}

async function rejects(run: () => Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await run();
  } catch (err) {
    assert.match(String((err as Error).message), pattern);
    return;
  }
  assert.unreachable(`expected an error matching ${pattern}`);
}

async function readAll(path: string, batchSize?: number): Promise<Rec[]> {
  const out: Rec[] = [];
  for await (const b of readErrorStream(path, { batchSize })) {
    for (let i = 0; i < b.length; i++) {
      out.push({ time: b.time[i], host: b.host[i], physAddr: b.physAddr[i], flags: b.flags[i], cause: b.cause[i], dimm: b.dimm[i], faultId: b.faultId[i], count: b.count[i] });
    }
  }
  return out;
}

test('records survive a round trip, whatever the batch sizes on either side', async () => {
  let n = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(record, { maxLength: 300 }), fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 64 }), async (records, wsize, rsize) => {
      const path = join(dir, `rt${n++}.bin`);
      const written = await writeErrorStream(path, HEADER, batchesOf(records, wsize));
      assert.is(written, records.length);
      assert.is(readFileSync(path).length, HEADER_BYTES + RECORD_BYTES * records.length);
      assert.equal(await readAll(path, rsize), records.map((r) => ({ ...r })));
    }),
    { numRuns: 60 },
  );
});

test('the header carries the stream description and the record count', async () => {
  const path = join(dir, 'header.bin');
  await writeErrorStream(path, HEADER, batchesOf([{ time: 1, host: 2, physAddr: 0x1_2345_6780, flags: 3, cause: 4, dimm: 5, faultId: 6, count: 1 }], 8));
  assert.equal(await readErrorStreamHeader(path), { ...HEADER, recordCount: 1 });
  const bytes = readFileSync(path);
  assert.ok(bytes.subarray(0, 8).equals(MAGIC));
  assert.is(bytes.readUInt16LE(8), 1, 'version');
  assert.is(bytes.readDoubleLE(HEADER_BYTES), 1, 'time at record offset 0');
  assert.is(bytes.readBigUInt64LE(HEADER_BYTES + 8), 0x1_2345_6780n, 'physical address at offset 8');
  assert.is(bytes.readUInt32LE(HEADER_BYTES + 16), 2, 'host at offset 16');
  assert.is(bytes[HEADER_BYTES + 30], 3, 'flags at offset 30');
});

test('a stream written to a pipe has an unknown count and reads back', async () => {
  const pipe = new PassThrough();
  const chunks: Buffer[] = [];
  pipe.on('data', (c: Buffer) => chunks.push(Buffer.from(c)));
  const records = Array.from({ length: 70000 }, (_, i) => ({ time: i, host: 1, physAddr: i * 64, flags: 0, cause: 0, dimm: 0, faultId: i, count: 1 }));
  await writeErrorStream(pipe, HEADER, batchesOf(records, 50000));
  const path = join(dir, 'pipe.bin');
  writeFileSync(path, Buffer.concat(chunks));
  assert.is((await readErrorStreamHeader(path)).recordCount, null);
  assert.equal(await readAll(path), records);
});

test('bad files give errors naming the file and the problem', async () => {
  const notStream = join(dir, 'not.bin');
  writeFileSync(notStream, 'hello, this is text and not a stream at all................................');
  await rejects(() => readAll(notStream), /not\.bin: not an mfrsim error stream \(bad magic bytes\)/);

  const path = join(dir, 'cut.bin');
  await writeErrorStream(path, HEADER, batchesOf(Array.from({ length: 10 }, (_, i) => ({ time: i, host: 0, physAddr: 0, flags: 0, cause: 0, dimm: 0, faultId: 0, count: 1 })), 4));
  truncateSync(path, HEADER_BYTES + RECORD_BYTES * 7 + 5);
  await rejects(() => readAll(path, 3), /cut\.bin: truncated record 8 \(5 of 32 bytes at the end\)/);
  truncateSync(path, HEADER_BYTES + RECORD_BYTES * 7);
  await rejects(() => readAll(path), /announces 10 records but the file holds 7/);

  const future = join(dir, 'future.bin');
  const bytes = readFileSync(path);
  bytes.writeUInt16LE(99, 8);
  writeFileSync(future, bytes);
  await rejects(() => readErrorStreamHeader(future), /version 99 is not supported/);
});

test('timeOrder is a stable sort by time, for small and large batches', () => {
  fc.assert(
    fc.property(fc.array(fc.double({ min: 0, max: 3e8, noNaN: true }), { maxLength: 200 }), fc.nat({ max: 30000 }), fc.nat(), (some, extra, seed) => {
      // Large inputs take the radix path: pad with repeated and spread-out times.
      const times = Float64Array.from([...some, ...Array.from({ length: extra }, (_, i) => ((i * 7919 + seed) % 5003) * 1.5)]);
      const expected = Array.from(times.keys()).sort((a, b) => times[a] - times[b] || a - b);
      const order = timeOrder(times);
      assert.equal(order ? Array.from(order) : Array.from(times.keys()), expected);
    }),
    { numRuns: 40 },
  );
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
