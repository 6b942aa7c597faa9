// Inputs that are incomplete or wrong are refused with the cause: an unfinished trace or
// stream (unless salvaged, which says how much it recovered), a bad line after a detected
// format's first lines (named, with the format), numbers a stream cannot hold, damaged
// SQLite and xz files (named).
import { spawnSync } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import Database from 'better-sqlite3';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorBatchBuilder, FLAG_UE } from '../src/errors/batch.js';
import { parseGeneratorConfig } from '../src/errors/config.js';
import { ErrorStreamWriter, readErrorStream, StreamFormatError } from '../src/errors/format.js';
import { openErrorLog } from '../src/errors/import-log.js';
import { MalformedRecordError } from '../src/errors/readers/common.js';
import { makeTopology } from '../src/errors/topology.js';
import { TraceWriter } from '../src/traces/binary.js';
import { createAccessBatch } from '../src/traces/batch.js';
import { TraceFormatError } from '../src/traces/errors.js';
import { openTrace } from '../src/traces/open.js';
import { hasTool, tempDir, writeFile, xzCompress } from './traces-fixtures.js';

const dir = tempDir();
const CLI = new URL('../dist/cli/main.js', import.meta.url).pathname;
const mfrsim = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8' });

async function failure(run: () => Promise<unknown>): Promise<Error> {
  try {
    await run();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

async function countEvents(path: string, salvage = false): Promise<number> {
  const trace = await openTrace(path, { salvage, batchSize: 64 });
  let n = 0;
  for await (const b of trace) n += b.length;
  return n;
}

/** A trace whose writer flushed three 100-event blocks and never finished. */
async function unfinishedTrace(): Promise<string> {
  const target = join(dir, 'writing.mfr');
  const writer = await TraceWriter.create(target, { physical: false, columns: { size: false, time: false, weight: false, pageSize: false }, blockEvents: 100 });
  const batch = createAccessBatch(64, false);
  for (let i = 0; i < 350; i++) {
    batch.addr[batch.length] = 4096 * i;
    batch.time[batch.length] = i;
    if (++batch.length === 64) {
      await writer.write(batch);
      batch.length = 0;
    }
  }
  await writer.write(batch);
  const partial = readdirSync(dir).find((n) => n.startsWith('.writing.mfr.') && n.endsWith('.partial'))!;
  copyFileSync(join(dir, partial), join(dir, 'unfinished.mfr'));
  await writer.abort();
  return join(dir, 'unfinished.mfr');
}

test('an mfrsim trace that was never finished is refused, and salvaged on request', async () => {
  const path = await unfinishedTrace();
  const err = await failure(() => countEvents(path));
  assert.instance(err, TraceFormatError);
  assert.match(err.message, /unfinished\.mfr: the trace was never finished \(event count unknown.*--salvage reads its complete blocks/);
  assert.is(await countEvents(path, true), 300);
  const trace = await openTrace(path, { salvage: true });
  for await (const _ of trace);
  assert.equal(trace.salvaged, { events: 300, stoppedAt: 'event 301: truncated file: block header or end-of-trace block missing' });

  const cli = mfrsim('convert', path, '--salvage', '--out', 'salvaged.mfr');
  assert.is(cli.status, 0, cli.stderr);
  assert.match(cli.stdout, /salvaged 300 events of an unfinished trace/);
  assert.is(await countEvents(join(dir, 'salvaged.mfr')), 300, 'the salvaged copy is a complete trace');
  assert.is(mfrsim('convert', path, '--out', 'refused.mfr').status, 1);
});

test('an error stream that was never finished is refused, and salvaged on request', async () => {
  const pipe = new PassThrough();
  const chunks: Buffer[] = [];
  pipe.on('data', (c: Buffer) => chunks.push(Buffer.from(c)));
  const w = await ErrorStreamWriter.create(pipe, { flags: 0, hostCount: 1, seed: 0, physBase: 2 ** 32, spanSeconds: 0 });
  const b = new ErrorBatchBuilder();
  for (let i = 0; i < 10; i++) b.push(i, 0, 2 ** 32 + i * 4096, FLAG_UE, 255, 0, i);
  await w.write(b.view());
  await w.close();
  const finished = Buffer.concat(chunks);
  // The same bytes without the end record, and cut inside the eighth record: a killed writer.
  const cut = finished.subarray(0, 64 + 7 * 32 + 5);
  writeFileSync(join(dir, 'piped.mfrerr'), finished);
  writeFileSync(join(dir, 'cut.mfrerr'), cut);
  let n = 0;
  for await (const batch of readErrorStream(join(dir, 'piped.mfrerr'))) n += batch.length;
  assert.is(n, 10, 'a piped stream is complete by its end record');
  const err = await failure(async () => {
    for await (const _ of readErrorStream(join(dir, 'cut.mfrerr')));
  });
  assert.instance(err, StreamFormatError);
  assert.match(err.message, /cut\.mfrerr: the stream was never finished \(record count unknown.*holds 7 complete records and 5 bytes of a cut record; --salvage reads the complete records/);
  n = 0;
  for await (const batch of readErrorStream(join(dir, 'cut.mfrerr'), { salvage: true })) n += batch.length;
  assert.is(n, 7);

  writeFileSync(join(dir, 'fleet.json'), JSON.stringify({ hosts: 1, host: { hugepages: { '2M': 64 }, vms: [{ memory: 2 ** 27, hugepage: '2M' }] } }));
  const refused = mfrsim('replay', '--fleet', 'fleet.json', '--errors', 'cut.mfrerr');
  assert.is(refused.status, 1);
  assert.match(refused.stderr, /cut\.mfrerr: the stream was never finished/);
  const salvaged = mfrsim('replay', '--fleet', 'fleet.json', '--errors', 'cut.mfrerr', '--salvage');
  assert.is(salvaged.status, 0, salvaged.stderr);
  assert.match(salvaged.stderr, /salvaged 7 records of the unfinished stream cut\.mfrerr/);
  assert.match(salvaged.stdout, /error records\s+7: 7 UEs applied/);
});

test('a bad line after the lines a format was detected from names the line and the format', async () => {
  const good = Array.from({ length: 2005 }, (_, i) => ` L ${(0x1000 + 64 * i).toString(16)},8`);
  const inSample = writeFile(dir, 'late.txt', `==4242== Lackey, an example Valgrind tool\n${good.join('\n')}\n L 12345G,8\n L 1000,8\n`);
  const err = await failure(() => countEvents(inSample));
  assert.instance(err, TraceFormatError);
  assert.match(err.message, /late\.txt:2007: expected ',' after the address, found 'G,8' \(read as lackey, detected from lines 1-2006; pass --format if it is another format\)/);

  // Past the 64 KiB sample: the reader's error says how the format was chosen.
  const many = Array.from({ length: 8000 }, (_, i) => ` S ${(0x1000 + 64 * i).toString(16)},8`);
  const pastSample = writeFile(dir, 'later.txt', `${many.join('\n')}\nhello\n`);
  const later = await failure(() => countEvents(pastSample));
  assert.match(later.message, /later\.txt:8001: not a lackey record: 'hello' \(read as lackey, detected from its first [\d,]+ lines;/);

  // Comments are skipped by every text reader and by detection; the extension decides the format.
  assert.is((await openTrace(writeFile(dir, 'c.txt', '# recorded by hand\n0x2000D5C0 READ 30\n'))).format, 'dramsim3');
  const named = writeFile(dir, 'n.dramsim3', '0x40 READ 1\n0x80 READ\n');
  assert.match((await failure(() => countEvents(named))).message, /n\.dramsim3:2: .*\(read as dramsim3, detected from its name;/);
});

test('damaged xz traces and SQLite logs are errors naming the file', async () => {
  if (hasTool('xz')) {
    const xz = xzCompress(writeFile(dir, 'z.lackey', ' L 1000,8\n'.repeat(5000)));
    const bytes = Buffer.from(readFileSync(xz));
    bytes.fill(0x55, 40, bytes.length - 20);
    writeFileSync(join(dir, 'damaged.lackey.xz'), bytes);
    const err = await failure(() => countEvents(join(dir, 'damaged.lackey.xz')));
    assert.instance(err, TraceFormatError);
    assert.match(err.message, /damaged\.lackey\.xz(:\d+)?: corrupt or truncated xz data/);
  }
  const config = parseGeneratorConfig({});
  const opts = { topology: makeTopology(config.topology), mapping: 'logged' as const };
  const db = join(dir, 'ras.db');
  const x = new Database(db);
  x.exec('CREATE TABLE mc_event (id INTEGER PRIMARY KEY, timestamp TEXT, err_count INTEGER, err_type TEXT, err_msg TEXT, address INTEGER);');
  const insert = x.prepare('INSERT INTO mc_event (timestamp, err_count, err_type, err_msg, address) VALUES (?, ?, ?, ?, ?)');
  for (let i = 0; i < 2000; i++) insert.run('2024-01-01 00:00:00 +0000', 1, 'Corrected', 'memory read error', 0x10000 + i * 64);
  insert.run('2024-01-01 00:00:01 +0000', 1, 'Uncorrected', 'memory read error', -1);
  insert.run('2024-01-01 00:00:02 +0000', 10n ** 12n, 'Corrected', 'memory read error', 0x4000);
  x.close();
  const drain = async (file: string, skipBad = false) => {
    const log = await openErrorLog(file, { ...opts, skipBad });
    for await (const _ of log.batches);
    return log.stats;
  };
  const negative = await failure(() => drain(db));
  assert.instance(negative, MalformedRecordError);
  assert.is(negative.message, `${db}: mc_event id 2001: address -1 is outside 0..4503599627370495`);
  const stats = await drain(db, true);
  assert.equal([stats.records, stats.skipped], [2000, 2]);
  assert.match(stats.firstSkipped!, /err_count|address -1/);

  // Damage the pages after the header: SQLite only notices when it reads them.
  const bytes = readFileSync(db);
  bytes.fill(0xa5, 4096);
  writeFileSync(join(dir, 'damaged.db'), bytes);
  const damaged = await failure(() => drain(join(dir, 'damaged.db')));
  assert.instance(damaged, MalformedRecordError);
  assert.match(damaged.message, /damaged\.db: /);

  writeFileSync(join(dir, 'kern.log.xz'), Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2, 3]));
  assert.match((await failure(() => drain(join(dir, 'kern.log.xz')))).message, /kern\.log\.xz: xz-compressed: decompress it first/);
});

test.run();
