import { existsSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createAccessBatch } from '../src/traces/batch.js';
import { MFRSIM_HEADER_SIZE, TraceWriter, writeTrace } from '../src/traces/binary.js';
import { openTrace } from '../src/traces/open.js';
import { ACCESS_READ, ACCESS_WRITE, type AccessBatch, type TraceColumns } from '../src/traces/types.js';
import { assertTraceError, readEvents, tempDir, writeFile } from './traces-fixtures.js';

const dir = tempDir();
const NO_COLUMNS: TraceColumns = { size: false, time: false, weight: false, pageSize: false };

/** Converts a trace to the binary format, as `mfrsim convert` does. */
async function convert(input: string, output: string, blockEvents?: number): Promise<number> {
  const trace = await openTrace(input);
  return writeTrace(output, trace, { physical: trace.physical, columns: trace.columns, blockEvents });
}

const TEXT_TRACES: [string, string][] = [
  ['lackey', 'I  0023C790,2\n L BE801950,4\n S BE80199C,8\n M 0025747C,1\n'],
  ['dramsim3', '0x2000D5C0 READ 30\n0x2000D600 WRITE 35\n0x10 write 40\n'],
  ['ramulator1-cpu', '3 20734016\n6 20734208 20841280\n'],
  [
    'perf',
    '  stream  10007 cpu/mem-loads,ldlat=30/P:     7ffd1d4c2a98        1e2a4ca98 4K\n' +
      '  stream   2003 cpu/mem-stores/P:     7f0000200040       3c0000040 2M\n',
  ],
];

for (const [format, text] of TEXT_TRACES) {
  test(`round trip: ${format} text -> binary -> the same events`, async () => {
    const input = writeFile(dir, `rt.${format}`, text);
    const output = `${input}.mfr`;
    const count = await convert(input, output);
    const binary = await openTrace(output);
    const source = await openTrace(input);
    assert.is(binary.format, 'mfrsim');
    assert.is(binary.physical, source.physical);
    assert.equal(binary.columns, source.columns);
    assert.is(binary.eventCount, count);
    const events = await readEvents(input);
    assert.equal(await readEvents(output), events);
    assert.equal(binary.addressRange, {
      min: Math.min(...events.map((e) => e.addr)),
      max: Math.max(...events.map((e) => e.addr)),
    });
  });
}

test('the header layout: magic, version, flags, counts and range', async () => {
  const input = writeFile(dir, 'hdr.perf', TEXT_TRACES[3][1]);
  await convert(input, `${input}.mfr`);
  const bytes = readFileSync(`${input}.mfr`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.is(bytes.subarray(0, 8).toString('latin1'), 'MFRTRACE');
  assert.is(view.getUint16(8, true), 1);
  assert.is(view.getUint16(10, true), MFRSIM_HEADER_SIZE);
  assert.is(view.getUint32(12, true), 0b11001); // physical, weight, pageSize
  assert.is(view.getBigUint64(16, true), 2n);
  assert.is(view.getBigUint64(24, true), 0x1e2a4ca98n);
  assert.is(view.getBigUint64(32, true), 0x3c0000040n);
  assert.is(view.getUint32(40, true), 2);
  // One block: count, payload bytes (addr 16 + weight 16 + pageSize 8 + kind 8), then the end block.
  assert.is(view.getUint32(48, true), 2);
  assert.is(view.getUint32(52, true), 48);
  assert.is(bytes.length, MFRSIM_HEADER_SIZE + 8 + 48 + 8);
  assert.equal([...bytes.subarray(bytes.length - 8)], [0, 0, 0, 0, 0, 0, 0, 0]);
});

function lackeyText(lines: number): string {
  const ops = ['I  ', ' L ', ' S ', ' M '];
  let text = '';
  for (let i = 0; i < lines; i++) text += `${ops[i % 4]}${(0x7f000000 + i * 40).toString(16)},${1 + (i % 16)}\n`;
  return text;
}

test('blocks and batches of any sizes give the same events', async () => {
  const input = writeFile(dir, 'blocks.lackey', lackeyText(3000));
  const reference = await readEvents(input);
  for (const blockEvents of [7, 100, 65536]) {
    const output = `${input}.${blockEvents}.mfr`;
    await convert(input, output, blockEvents);
    for (const batchSize of [64, 333, 4096]) {
      assert.equal(await readEvents(output, { batchSize }), reference, `block ${blockEvents}, batch ${batchSize}`);
    }
  }
});

test('an empty trace', async () => {
  const path = `${dir}/empty.mfr`;
  assert.is(await writeTrace(path, [], { physical: false, columns: NO_COLUMNS }), 0);
  const trace = await openTrace(path);
  assert.is(trace.eventCount, 0);
  assert.equal(await readEvents(path), []);
});

function batchOf(events: [number, number][], physical = false): AccessBatch {
  const batch = createAccessBatch(64, physical);
  events.forEach(([addr, kind], i) => {
    batch.addr[i] = addr;
    batch.kind[i] = kind;
    batch.time[i] = i;
  });
  batch.length = events.length;
  return batch;
}

test('the writer refuses what it cannot store faithfully, and leaves no file', async () => {
  const cases: [string, AccessBatch, TraceColumns, RegExp][] = [
    ['fractional address', batchOf([[1.5, ACCESS_READ]]), NO_COLUMNS, /event 0: address 1.5 is not an integer/],
    ['address above 2^53-1', batchOf([[2 ** 53, ACCESS_READ]]), NO_COLUMNS, /address 9007199254740992 is not an integer in 0..2\^53-1/],
    ['unknown kind', batchOf([[0, 7]]), NO_COLUMNS, /unknown access kind 7/],
    ['physical into virtual', batchOf([[0, ACCESS_READ]], true), NO_COLUMNS, /batch addresses are physical/],
  ];
  const clocked = batchOf([[0, ACCESS_READ], [64, ACCESS_WRITE]]);
  clocked.time[1] = 100;
  cases.push(['a clock without a time column', clocked, NO_COLUMNS, /event 1: time differs from the event index/]);
  const weighted = batchOf([[0, ACCESS_READ]]);
  weighted.weight[0] = 3;
  cases.push(['a weight without a weight column', weighted, NO_COLUMNS, /weight is not 1/]);

  for (const [name, batch, columns, reason] of cases) {
    const path = `${dir}/refused.mfr`;
    try {
      await writeTrace(path, [batch], { physical: false, columns });
      assert.unreachable(name);
    } catch (err) {
      assert.match((err as Error).message, reason, name);
    }
    assertNoFile(path);
  }
});

function assertNoFile(path: string): void {
  assert.not.ok(existsSync(path), `${path} should not exist`);
}

test('the writer stores the time column when asked', async () => {
  const batch = batchOf([[0x1000, ACCESS_READ], [0x2000, ACCESS_WRITE]]);
  batch.time.set([5, 1e12]);
  const path = `${dir}/clock.mfr`;
  const writer = await TraceWriter.create(path, { physical: false, columns: { ...NO_COLUMNS, time: true } });
  await writer.write(batch);
  await writer.close();
  assert.equal((await readEvents(path)).map((e) => e.time), [5, 1e12]);
});

/** A valid two-block trace to damage. */
async function goodTrace(): Promise<Buffer> {
  const input = writeFile(dir, 'good.lackey', lackeyText(6));
  await convert(input, `${input}.mfr`, 4);
  return readFileSync(`${input}.mfr`);
}

test('malformed binary traces fail with the event number and reason', async () => {
  const good = await goodTrace(); // 6 lines -> 7 events: blocks of 4 and 3
  const damaged = (name: string, edit: (b: Buffer) => Buffer) => writeFile(dir, `${name}.mfr`, edit(Buffer.from(good)));
  const opts = { format: 'mfrsim' as const };

  await assertTraceError(damaged('magic', (b) => (b.write('X', 0), b)), opts, 0, /not an mfrsim trace \(no MFRTRACE magic\)/);
  await assertTraceError(damaged('version', (b) => (b.writeUInt16LE(9, 8), b)), opts, 0, /unsupported mfrsim trace version 9/);
  await assertTraceError(damaged('flags', (b) => (b.writeUInt32LE(0x100, 12), b)), opts, 0, /unknown header flags 0x100/);
  await assertTraceError(damaged('short-header', (b) => b.subarray(0, 20)), opts, 0, /truncated header \(20 of 48 bytes\)/);
  await assertTraceError(damaged('no-end', (b) => b.subarray(0, b.length - 8)), opts, 8, /truncated file: block header or end-of-trace block missing/);
  await assertTraceError(damaged('cut-block', (b) => b.subarray(0, b.length - 20)), opts, 5, /truncated block \(\d+ of \d+ bytes\)/);
  await assertTraceError(damaged('trailing', (b) => Buffer.concat([b, Buffer.from([1])])), opts, 0, /data after the end-of-trace block/);
  await assertTraceError(damaged('count', (b) => (b.writeUInt32LE(99, 16), b)), opts, 0, /header says 99 events but the blocks hold 7/);
  await assertTraceError(damaged('payload', (b) => (b.writeUInt32LE(8, 52), b)), opts, 1, /block payload is 8 bytes, expected \d+ for 4 events/);
  // Second block: its kind column is the last 8 bytes before the end block; event 6 is its second.
  await assertTraceError(damaged('kind', (b) => ((b[b.length - 8 - 8 + 1] = 9), b)), opts, 6, /unknown access kind 9/);
  // Event 2's address high word: block 1 payload starts at 56.
  await assertTraceError(damaged('addr', (b) => (b.writeUInt32LE(0x200000, 56 + 8 + 4), b)), opts, 2, /address is above 2\^53-1/);
});

test('property: any events, columns, block and batch sizes round-trip exactly', async () => {
  const event = fc.record({
    addr: fc.maxSafeNat(),
    kind: fc.integer({ min: 0, max: 2 }),
    size: fc.integer({ min: 0, max: 0xffff }),
    time: fc.double({ noNaN: true }),
    weight: fc.double({ noNaN: true }),
    pageSize: fc.nat({ max: 0xffffffff }),
  });
  const columns = fc.record({ size: fc.boolean(), time: fc.boolean(), weight: fc.boolean(), pageSize: fc.boolean() });
  let run = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(event, { maxLength: 300 }), columns, fc.boolean(), fc.integer({ min: 1, max: 50 }), fc.integer({ min: 64, max: 200 }), async (events, cols, physical, blockEvents, batchSize) => {
      // Columns the trace lacks hold their defaults.
      const expected = events.map((e, i) => ({
        addr: e.addr,
        kind: e.kind,
        size: cols.size ? e.size : 0,
        time: cols.time ? e.time : i,
        weight: cols.weight ? e.weight : 1,
        pageSize: cols.pageSize ? e.pageSize : 0,
      }));
      const batches: AccessBatch[] = [];
      for (let at = 0; at < expected.length; at += 64) {
        const batch = createAccessBatch(64, physical);
        expected.slice(at, at + 64).forEach((e, i) => {
          batch.addr[i] = e.addr;
          batch.kind[i] = e.kind;
          batch.size[i] = e.size;
          batch.time[i] = e.time;
          batch.weight[i] = e.weight;
          batch.pageSize[i] = e.pageSize;
        });
        batch.length = Math.min(64, expected.length - at);
        batches.push(batch);
      }
      const path = `${dir}/prop${run++}.mfr`;
      await writeTrace(path, batches, { physical, columns: cols, blockEvents });
      const trace = await openTrace(path, { batchSize });
      assert.is(trace.physical, physical);
      assert.equal(await readEvents(path, { batchSize }), expected);
    }),
    { numRuns: 40 },
  );
});

test.run();
