import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createAccessBatch } from '../src/traces/batch.js';
import { TraceFormatError } from '../src/traces/errors.js';
import { LackeyParser } from '../src/traces/lackey.js';
import { LineScanner, lineBatches } from '../src/traces/lines.js';
import { openTrace } from '../src/traces/open.js';
import { memorySource } from '../src/traces/source.js';
import { ACCESS_IFETCH as I, ACCESS_READ as R, ACCESS_WRITE as W } from '../src/traces/types.js';
import { assertTraceError, ev, readEvents, tempDir, writeFile, type Event } from './traces-fixtures.js';

const dir = tempDir();

const LACKEY = [
  '==4242== Lackey, an example Valgrind tool',
  '==4242== Command: ./prog',
  'I  0023C790,2',
  ' L BE801950,4',
  ' S be80199c,8',
  '',
  ' M 0025747C,1',
  'I  1ffefff000,15',
  '==4242== ',
].join('\n');

test('lackey: fetches, loads, stores, and a modify as a load then a store', async () => {
  const events = await readEvents(writeFile(dir, 'a.lackey', LACKEY), { format: 'lackey' });
  assert.equal(events, [
    ev(0x23c790, I, 0, { size: 2 }),
    ev(0xbe801950, R, 1, { size: 4 }),
    ev(0xbe80199c, W, 2, { size: 8 }),
    ev(0x25747c, R, 3, { size: 1 }),
    ev(0x25747c, W, 4, { size: 1 }),
    ev(0x1ffefff000, I, 5, { size: 15 }),
  ]);
});

test('lackey: CRLF line ends and a last line without a newline', async () => {
  const path = writeFile(dir, 'crlf.lackey', 'I  10,1\r\n S 20,4\r\n\r\n L 30,8');
  assert.equal(await readEvents(path, { format: 'lackey' }), [
    ev(0x10, I, 0, { size: 1 }),
    ev(0x20, W, 1, { size: 4 }),
    ev(0x30, R, 2, { size: 8 }),
  ]);
});

const LACKEY_ERRORS: [string, string, number, RegExp][] = [
  ['bad hex', 'I  10,1\nI  00ZZ,4\n', 2, /expected ',' after the address, found 'ZZ,4'/],
  ['no address', 'I  10,1\n L ,4\n', 2, /expected a hex address, found ',4'/],
  ['missing size', 'I  10,1\n\n S 20,\n', 3, /expected a decimal size, found end of line/],
  ['unknown op', 'I  10,1\n X 20,4\n', 2, /not a lackey record: ' X 20,4'/],
  ['program output', 'hello world\n', 1, /not a lackey record: 'hello world'/],
  ['trailing text', ' L 20,4 junk\n', 1, /unexpected 'junk' after the size/],
  ['address above 2^53-1', ' L 20000000000000,4\n', 1, /address 20000000000000 is above 2\^53-1/],
  ['size above u16', ' L 20,65536\n', 1, /access size 65536 is above 65535/],
  ['no space after op', ' L20,4\n', 1, /expected a space after the operation, found '20,4'/],
];

for (const [name, text, line, reason] of LACKEY_ERRORS) {
  test(`lackey error: ${name}`, async () => {
    await assertTraceError(writeFile(dir, 'bad.lackey', text), { format: 'lackey' }, line, reason);
  });
}

test('ramulator1 dram mode', async () => {
  const path = writeFile(dir, 'dram.trace', '0x12345680 R\n0x4cbd56c0 W\n4cbd5700 R\n');
  assert.equal(await readEvents(path, { format: 'ramulator1-dram' }), [
    ev(0x12345680, R, 0),
    ev(0x4cbd56c0, W, 1),
    ev(0x4cbd5700, R, 2),
  ]);
  await assertTraceError(writeFile(dir, 'dram-bad.trace', '0x10 R\n0x20 READ\n'), { format: 'ramulator1-dram' }, 2, /expected R or W, found 'READ'/);
  await assertTraceError(writeFile(dir, 'dram-bad2.trace', '0x10 R\n0xg0 W\n'), { format: 'ramulator1-dram' }, 2, /expected a hex address/);
});

test('ramulator1 cpu mode: time counts instructions, the writeback shares the read time', async () => {
  const path = writeFile(dir, 'cpu.trace', '3 20734016\n1 20846400\n6 20734208 20841280\n0 0x1000\n');
  assert.equal(await readEvents(path, { format: 'ramulator1-cpu' }), [
    ev(20734016, R, 3),
    ev(20846400, R, 5),
    ev(20734208, R, 12),
    ev(20841280, W, 12),
    ev(0x1000, R, 13),
  ]);
  await assertTraceError(writeFile(dir, 'cpu-bad.trace', '3 20734016\n1 abc\n'), { format: 'ramulator1-cpu' }, 2, /expected a decimal read address, found 'abc'/);
  await assertTraceError(writeFile(dir, 'cpu-bad2.trace', '3 20734016 1 2\n'), { format: 'ramulator1-cpu' }, 1, /unexpected '2' after the writeback address/);
  await assertTraceError(writeFile(dir, 'cpu-bad3.trace', '3\n'), { format: 'ramulator1-cpu' }, 1, /expected a space after the instruction count/);
});

test('ramulator2 LoadStoreTrace: hex with 0x or decimal', async () => {
  const path = writeFile(dir, 'ls.trace', 'LD 0x12340\nST 4096\nLD 0X10\n');
  assert.equal(await readEvents(path, { format: 'ramulator2' }), [ev(0x12340, R, 0), ev(4096, W, 1), ev(0x10, R, 2)]);
  await assertTraceError(writeFile(dir, 'ls-bad.trace', 'LD 0x10\nLOAD 0x20\n'), { format: 'ramulator2' }, 2, /expected LD or ST, found 'LOAD'/);
  await assertTraceError(writeFile(dir, 'ls-bad2.trace', 'LD 12ab\n'), { format: 'ramulator2' }, 1, /unexpected 'ab' after the address/);
});

test('dramsim3: write operations, other words are reads, time is the cycle', async () => {
  const text = [
    '0x2000D5C0 READ 30',
    '0x2000D600 WRITE 35',
    '0x10 write 40',
    '0x20 P_MEM_WR 41',
    '0x30 BOFF 42',
    '0x40 P_FETCH 43',
    '50 read 44',
  ].join('\n');
  assert.equal(await readEvents(writeFile(dir, 'ds3.trace', text), { format: 'dramsim3' }), [
    ev(0x2000d5c0, R, 30),
    ev(0x2000d600, W, 35),
    ev(0x10, W, 40),
    ev(0x20, W, 41),
    ev(0x30, W, 42),
    ev(0x40, R, 43),
    ev(0x50, R, 44),
  ]);
  await assertTraceError(writeFile(dir, 'ds3-bad.trace', '0x10 READ 1\n0x20 WRITE\n'), { format: 'dramsim3' }, 2, /expected a space after the operation/);
  await assertTraceError(writeFile(dir, 'ds3-bad2.trace', '0x10 123 1\n'), { format: 'dramsim3' }, 1, /expected an operation such as READ or WRITE, found '123'/);
});

const PERF = [
  '# ========',
  '# captured on    : Tue Nov 25 10:00:00 2025',
  '            stream  cpu/mem-loads,ldlat=30/P:     7ffd1d4c2a98        1e2a4ca98 4K',
  '            stream cpu/mem-stores/P:     7f0000200040       3c0000040 2M',
  ' Web Content  cpu/mem-loads,ldlat=30/P:     7ffd1d4c2a98                0 N/A',
  '       qemu-kvm  cpu/mem-loads,ldlat=30/P: ffff888100000000       40000000 1G',
].join('\n');

test('perf: physical addresses, page sizes, stores by event name, unresolved samples skipped', async () => {
  const path = writeFile(dir, 'perf.txt', PERF);
  const trace = await openTrace(path, { format: 'perf' });
  assert.ok(trace.physical);
  const events: Event[] = [];
  for await (const b of trace) {
    assert.ok(b.physical);
    for (let i = 0; i < b.length; i++) events.push({ addr: b.addr[i], kind: b.kind[i], size: b.size[i], time: b.time[i], weight: b.weight[i], pageSize: b.pageSize[i] });
  }
  assert.equal(events, [
    ev(0x1e2a4ca98, R, 0, { pageSize: 4096 }),
    ev(0x3c0000040, W, 1, { pageSize: 2 << 20 }),
    ev(0x40000000, R, 2, { pageSize: 1 << 30 }),
  ]);
  assert.is(trace.skippedRecords, 1);
});

test('perf: the period column weights samples', async () => {
  const text = [
    '          stream      10007  cpu/mem-loads,ldlat=30/P:     7ffd1d4c2a98        1e2a4ca98 4K',
    '          stream       2003 cpu/mem-stores/P:     7f0000200040       3c0000040 2M',
  ].join('\n');
  assert.equal(await readEvents(writeFile(dir, 'perf-period.txt', text), { format: 'perf' }), [
    ev(0x1e2a4ca98, R, 0, { weight: 10007, pageSize: 4096 }),
    ev(0x3c0000040, W, 1, { weight: 2003, pageSize: 2 << 20 }),
  ]);
});

test('perf errors', async () => {
  const line = '  stream  cpu/mem-loads/P:     7ffd1d4c2a98        1e2a4ca98 4K';
  await assertTraceError(writeFile(dir, 'p1.txt', `${line}\n  stream  cpu/mem-loads/P:     7ffd1d4c2a98 4K\n`), { format: 'perf' }, 2, /expected 'comm \[period\] event: addr phys_addr data_page_size', missing addr in 'stream/);
  await assertTraceError(writeFile(dir, 'p5.txt', `${line}\n  stream  cpu/mem-loads/P  7ffd1d4c2a98 1e2a4ca98 4K\n`), { format: 'perf' }, 2, /missing the event name ending in ':'/);
  await assertTraceError(writeFile(dir, 'p6.txt', `${line.replace('7ffd1d4c2a98', 'xyz')}\n`), { format: 'perf' }, 1, /addr 'xyz' is not a hex number/);
  await assertTraceError(writeFile(dir, 'p2.txt', `${line}\n${line.replace('4K', '3X')}\n`), { format: 'perf' }, 2, /data_page_size '3X' is not like 4K/);
  await assertTraceError(writeFile(dir, 'p3.txt', `${line.replace('1e2a4ca98', '1e2a4cz98')}\n`), { format: 'perf' }, 1, /phys_addr '1e2a4cz98' is not a hex number/);
  await assertTraceError(writeFile(dir, 'p4.txt', `${line.replace('4K', '16G')}\n`), { format: 'perf' }, 1, /data_page_size 16G is above 4 GiB/);
});

/** A lackey trace of `lines` records, with every operation. */
function lackeyText(lines: number): string {
  const ops = ['I  ', ' L ', ' S ', ' M '];
  let text = '';
  for (let i = 0; i < lines; i++) text += `${ops[i % 4]}${(0x4000000 + i * 72).toString(16)},${1 + (i % 8)}\n`;
  return text;
}

test('the same events whatever the batch size', async () => {
  const path = writeFile(dir, 'many.lackey', lackeyText(5000));
  const reference = await readEvents(path, { format: 'lackey' });
  assert.is(reference.length, 6250);
  for (const batchSize of [64, 99, 4096]) {
    assert.equal(await readEvents(path, { format: 'lackey', batchSize }), reference, `batchSize ${batchSize}`);
  }
});

test('batches are full except the last, and reused', async () => {
  const trace = await openTrace(writeFile(dir, 'full.lackey', lackeyText(1000)), { batchSize: 100 });
  const lengths: number[] = [];
  let first: unknown;
  for await (const b of trace) {
    first ??= b;
    assert.is(b, first);
    lengths.push(b.length);
  }
  // A modify adds two events, so a batch may stop one short of its capacity.
  assert.ok(lengths.slice(0, -1).every((n) => n >= 99 && n <= 100), String(lengths));
  assert.is(lengths.reduce((a, b) => a + b), 1250);
});

test('lines split across chunk boundaries parse the same', async () => {
  const bytes = new TextEncoder().encode(lackeyText(300).replace(/\n/g, (m, i: number) => (i % 3 ? m : '\r\n')));
  const read = async (chunkSize: number) => {
    const out: number[] = [];
    const scanner = new LineScanner(memorySource(bytes), 'mem', chunkSize);
    for await (const b of lineBatches(scanner, new LackeyParser(), createAccessBatch(64, false))) {
      for (let i = 0; i < b.length; i++) out.push(b.addr[i], b.kind[i], b.size[i], b.time[i]);
    }
    return out;
  };
  const whole = await read(1 << 20);
  assert.is(whole.length, 375 * 4);
  for (const chunkSize of [17, 31, 64]) assert.equal(await read(chunkSize), whole, `chunk ${chunkSize}`);
});

test('a line longer than the chunk is an error naming it', async () => {
  const bytes = new TextEncoder().encode(`I  10,1\n L ${'0'.repeat(100)}20,4\n`);
  const scanner = new LineScanner(memorySource(bytes), 'mem', 32);
  try {
    for await (const _ of lineBatches(scanner, new LackeyParser(), createAccessBatch(64, false))) void _;
    assert.unreachable();
  } catch (err) {
    assert.instance(err, TraceFormatError);
    assert.is((err as TraceFormatError).line, 2);
    assert.match((err as TraceFormatError).reason, /line longer than 32 bytes/);
  }
});

test.run();
