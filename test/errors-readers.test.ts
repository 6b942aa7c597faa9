// Readers for real error logs, on fixtures built here: rasdaemon's SQLite tables, mcelog and
// kernel-log text, SmartMem-style CSV; malformed records stop the reader with file, position
// and reason, or are counted with skipBad.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FLAG_SCRUB, FLAG_SOURCE_UNKNOWN, FLAG_UE, type ErrorBatch } from '../src/errors/batch.js';
import { parseGeneratorConfig } from '../src/errors/config.js';
import { detectFormat } from '../src/errors/detect.js';
import { STREAM_GENERATED, writeErrorStream } from '../src/errors/format.js';
import { openErrorLog } from '../src/errors/import-log.js';
import { makeMapping } from '../src/errors/mapping.js';
import type { ErrorLogImport } from '../src/errors/readers/common.js';
import { readKmsg } from '../src/errors/readers/kmsg.js';
import { readMcelog } from '../src/errors/readers/mcelog.js';
import { readRasdaemon } from '../src/errors/readers/rasdaemon.js';
import { readSmartmem } from '../src/errors/readers/smartmem.js';
import { dimmIndex, makeTopology } from '../src/errors/topology.js';

const dir = mkdtempSync(join(tmpdir(), 'mfrsim-errors-readers-'));
const path = (name: string) => join(dir, name);

interface Rec {
  time: number;
  host: number;
  addr: number;
  flags: number;
  count: number;
}

async function collect(log: ErrorLogImport): Promise<Rec[]> {
  const out: Rec[] = [];
  for await (const b of log.batches as AsyncIterable<ErrorBatch>) {
    for (let i = 0; i < b.length; i++) out.push({ time: b.time[i], host: b.host[i], addr: b.physAddr[i], flags: b.flags[i], count: b.count[i] });
  }
  return out;
}

async function failure(log: ErrorLogImport): Promise<string> {
  try {
    await collect(log);
  } catch (err) {
    return (err as Error).message;
  }
  return 'no error';
}

// --- rasdaemon -----------------------------------------------------------------------------

const SRAR = 0xbd80000000000134n; // VAL UC EN MISCV ADDRV S AR, data load
const SRAO = 0xbd000000000000c0n; // VAL UC EN MISCV ADDRV S, memory scrub
const CE_SCRUB = 0x9c000000000000c1n; // VAL EN MISCV ADDRV, memory scrub
const CE_NO_ADDR = 0x9000000000000091n; // VAL EN, memory read, no address

function makeRasdaemonDb(file: string): void {
  const db = new Database(file);
  db.exec(`
    CREATE TABLE mc_event (id INTEGER PRIMARY KEY, timestamp TEXT, err_count INTEGER, err_type TEXT, err_msg TEXT, label TEXT,
      mc INTEGER, top_layer INTEGER, middle_layer INTEGER, lower_layer INTEGER, address INTEGER, grain INTEGER, syndrome INTEGER, driver_detail TEXT);
    CREATE TABLE mce_record (id INTEGER PRIMARY KEY, timestamp TEXT, mcgcap INTEGER, mcgstatus INTEGER, status INTEGER, addr INTEGER,
      misc INTEGER, ip INTEGER, tsc INTEGER, walltime INTEGER, cpu INTEGER, cpuid INTEGER, apicid INTEGER, socketid INTEGER, cs INTEGER,
      bank INTEGER, cpuvendor INTEGER, bank_name TEXT, error_msg TEXT, mcgstatus_msg TEXT, mcistatus_msg TEXT, mcastatus_msg TEXT,
      user_action TEXT, mc_location TEXT);
    CREATE TABLE memory_failure_event (id INTEGER PRIMARY KEY, timestamp TEXT, pfn TEXT, page_type TEXT, action_result TEXT);
  `);
  const mc = db.prepare('INSERT INTO mc_event (timestamp, err_count, err_type, err_msg, label, address) VALUES (?, ?, ?, ?, ?, ?)');
  mc.run('2024-03-01 10:00:00 +0000', 1, 'Corrected', 'memory read error', 'CPU_SrcID#0_Ha#0_Chan#0_DIMM#0', 0x3710b3400);
  mc.run('2024-03-01 10:05:00 +0100', 3, 'Uncorrected', 'memory scrubbing error', 'DIMM#1', 0x12345000);
  mc.run('2024-03-01 10:06:00 +0000', 1, 'Info', 'memory controller info', '', 0);
  mc.run('2024-03-01 10:07:00 +0000', 1, 'Corrected', 'memory read error', '', 0);
  mc.run('yesterday', 1, 'Corrected', 'memory read error', '', 0x1000);
  const mce = db.prepare('INSERT INTO mce_record (timestamp, status, addr, bank) VALUES (?, ?, ?, ?)');
  const signed = (v: bigint) => BigInt.asIntN(64, v);
  mce.run('2024-03-02 00:00:00 +0000', signed(SRAR), 0x4000_0040, 1);
  mce.run('2024-03-02 00:00:01 +0000', signed(SRAO), 0x5000_0000, 7);
  mce.run('2024-03-02 00:00:02 +0000', signed(CE_SCRUB), 0x6000_0000, 7);
  mce.run('2024-03-02 00:00:03 +0000', signed(CE_NO_ADDR), 0, 4);
  const mf = db.prepare('INSERT INTO memory_failure_event (timestamp, pfn, page_type, action_result) VALUES (?, ?, ?, ?)');
  mf.run('2024-03-03 12:00:00 +0000', '0x3c0000', 'huge page', 'Recovered');
  mf.run('2024-03-03 12:00:05 +0000', 'bogus', 'huge page', 'Recovered');
  db.close();
}

test('rasdaemon: mc_event by default, with its counts, types and time zones', async () => {
  const db = path('ras.db');
  makeRasdaemonDb(db);
  assert.is(await failure(readRasdaemon(db)), `${db}: mc_event id 5: timestamp "yesterday" is not a date`);
  const log = readRasdaemon(db, { skipBad: true });
  const recs = await collect(log);
  assert.equal(recs, [
    { time: Date.UTC(2024, 2, 1, 10) / 1000, host: 0, addr: 0x3710b3400, flags: 0, count: 1 },
    { time: Date.UTC(2024, 2, 1, 9, 5) / 1000, host: 0, addr: 0x12345000, flags: FLAG_UE | FLAG_SCRUB, count: 3 },
  ]);
  assert.is(log.stats.skipped, 1);
  assert.is(log.stats.ignored, 2, 'the Info row and the row without an address');
  assert.is(log.stats.firstSkipped, 'mc_event id 5: timestamp "yesterday" is not a date');
  assert.is(log.stats.lines, null, 'a database has rows, not lines');
});

test('rasdaemon: mce_record decodes MCi_STATUS; memory_failure_event takes pfns', async () => {
  const db = path('ras.db');
  const mce = readRasdaemon(db, { table: 'mce_record' });
  assert.equal(
    (await collect(mce)).map((r) => [r.addr, r.flags]),
    [
      [0x4000_0040, FLAG_UE],
      [0x5000_0000, FLAG_UE | FLAG_SCRUB],
      [0x6000_0000, FLAG_SCRUB],
    ],
  );
  assert.is(mce.stats.ignored, 1);
  const mf = readRasdaemon(db, { table: 'memory_failure_event', skipBad: true });
  assert.equal((await collect(mf)).map((r) => [r.addr, r.flags]), [[0x3c0000 * 4096, FLAG_UE | FLAG_SOURCE_UNKNOWN]]);
  assert.match(mf.stats.firstSkipped!, /memory_failure_event id 2: pfn "bogus"/);

  const other = path('other.db');
  const x = new Database(other);
  x.exec('CREATE TABLE something (a INTEGER)');
  x.close();
  assert.match(await failure(readRasdaemon(other)), /no rasdaemon table/);
});

// --- mcelog --------------------------------------------------------------------------------

const MCELOG = `mcelog: started
Hardware event. This is not a software error.
MCE 0
CPU 3 BANK 1 TSC 1a2b3c
RIP !INEXACT! 33:7f0000001000
MISC 86 ADDR 3710b3400
TIME 1422553404 Thu Jan 29 18:43:24 2015
MCG status:RIPV EIPV MCIP
MCi status:
Uncorrected error
STATUS bd80000000000134 MCGSTATUS 7
MCGCAP 1c09 APICID 6 SOCKETID 0
CPUID Vendor Intel Family 6 Model 63
Hardware event. This is not a software error.
MCE 1
CPU 0 BANK 7
MISC 0 ADDR 12345000
TIME 1422553500 Thu Jan 29 18:45:00 2015
STATUS bd000000000000c0 MCGSTATUS 0

MCE 2
CPU 0 BANK 7
ADDR 2000
TIME 1422553600 Thu Jan 29 18:46:40 2015
STATUS 9c000000000000c1 MCGSTATUS 0

MCE 3
CPU 0 BANK 4
TIME 1422553700 Thu Jan 29 18:48:20 2015
STATUS 9000000000000091 MCGSTATUS 0

MCE 4
CPU 1 BANK 7
ADDR 5000
TIME 1422553800 Thu Jan 29 18:50:00 2015
STATUS zz12 MCGSTATUS 0
`;

test('mcelog: records, SRAR/SRAO/scrub classes, and the line of a bad STATUS', async () => {
  const file = path('mcelog.log');
  writeFileSync(file, MCELOG);
  assert.is(await failure(readMcelog(file)), `${file}: line 36: STATUS "zz12" is not a 64-bit hex value`);
  const log = readMcelog(file, { skipBad: true });
  assert.equal(await collect(log), [
    { time: 1422553404, host: 0, addr: 0x3710b3400, flags: FLAG_UE, count: 1 },
    { time: 1422553500, host: 0, addr: 0x12345000, flags: FLAG_UE | FLAG_SCRUB, count: 1 },
    { time: 1422553600, host: 0, addr: 0x2000, flags: FLAG_SCRUB, count: 1 },
  ]);
  assert.equal([log.stats.records, log.stats.skipped, log.stats.ignored], [3, 1, 1]);
});

// --- kernel log ----------------------------------------------------------------------------

const KMSG = `[    0.000000] Linux version 6.8.0
[  100.000001] mce: [Hardware Error]: Machine check events logged
[  100.000002] mce: Uncorrected hardware memory error in user-access at 3710b3400
[  100.000003] Memory failure: 0x3710b3: Sending SIGBUS to qemu:1234 due to hardware memory corruption
[  100.000004] Memory failure: 0x3710b3: recovery action for huge page: Recovered
[  200.500000] Memory failure: 0x3710b3: already hardware poisoned
[  300.000000] Memory failure: 0x4000: recovery action for clean LRU page: Recovered
[  400.000000] mce: Uncorrected hardware memory error in user-access at 3710b3440
[  400.100000] Memory failure: 0x3710b3: already hardware poisoned
[  500.000000] EDAC MC0: 1 CE memory read error on CPU_SrcID#0_Ha#0_Chan#0_DIMM#0 (channel:0 slot:0 page:0x12345 offset:0x40 grain:32 syndrome:0x0 - area:DRAM err_code:0001:0090)
[  600.000000] EDAC MC1: 2 CE memory scrubbing error on CPU_SrcID#1_Ha#0_Chan#1_DIMM#0 (channel:1 slot:0 page:0x200 offset:0x0 grain:32)
[  700.000000] EDAC sbridge MC0: 1 UE Unknown on unknown memory (no information available)
[  800.000000] mce: Uncorrected hardware memory error in user-access at zzz
[  900.000000] usb 1-1: new high-speed USB device
`;

test('kernel log: one record per memory failure, AR vs AO, EDAC counts, and bad lines', async () => {
  const file = path('kern.log');
  writeFileSync(file, KMSG);
  assert.match(await failure(readKmsg(file)), new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: line 13: an "mce: Uncorrected`));
  const log = readKmsg(file, { skipBad: true });
  assert.equal(await collect(log), [
    { time: 100.000002, host: 0, addr: 0x3710b3400, flags: FLAG_UE, count: 1 },
    { time: 200.5, host: 0, addr: 0x3710b3000, flags: FLAG_UE | FLAG_SCRUB, count: 1 },
    { time: 300, host: 0, addr: 0x4000000, flags: FLAG_UE | FLAG_SCRUB, count: 1 },
    { time: 400, host: 0, addr: 0x3710b3440, flags: FLAG_UE, count: 1 },
    { time: 500, host: 0, addr: 0x12345040, flags: 0, count: 1 },
    { time: 600, host: 0, addr: 0x200000, flags: FLAG_SCRUB, count: 2 },
  ]);
  assert.equal([log.stats.skipped, log.stats.ignored, log.stats.wallClock], [1, 1, false]);
  assert.is(log.stats.lines, KMSG.split('\n').length - 1, 'every line read is counted, the other messages too');

  const iso = path('journal.log');
  writeFileSync(iso, '2024-03-01T10:00:00.250000+01:00 host kernel: mce: Uncorrected hardware memory error in user-access at 1000\n');
  const isoLog = readKmsg(iso);
  assert.equal((await collect(isoLog)).map((r) => r.time), [Date.UTC(2024, 2, 1, 9) / 1000 + 0.25]);
  assert.ok(isoLog.stats.wallClock);
});

// --- SmartMem CSV --------------------------------------------------------------------------

const SMARTMEM = `sid,cpuid,channelid,dimmid,rankid,bankgroupid,bankid,rowid,columnid,error_type_full_name,log_time,MciAddr
srvA,0,1,0,1,2,3,100,64,CE.READ,1700000000,0x100002000
srvA,1,3,1,0,0,0,5,8,CE.SCRUB,1700000100,0x100003000
srvB,0,0,0,0,0,1,7,16,UE,2023-11-14 22:15:00,0x100004000
srvB,0,0,0,x,0,1,7,16,CE.READ,1700000300,0x1
srvB,0,0,0,5,0,1,7,16,CE.READ,1700000400,0x1
`;

test('SmartMem CSV: DRAM coordinates through the mapping, hosts by serial, bad rows by line', async () => {
  const file = path('smartmem.csv');
  writeFileSync(file, SMARTMEM);
  const config = parseGeneratorConfig({});
  const topology = makeTopology(config.topology);
  const mapping = makeMapping(config.mapping, topology, config.physBase);
  assert.is(await failure(readSmartmem(file, { topology, mapping })), `${file}: line 5: rank "x" is not a non-negative integer`);
  const log = readSmartmem(file, { topology, mapping, skipBad: true });
  const recs = await collect(log);
  assert.equal(recs, [
    { time: 1700000000, host: 0, addr: mapping.physAddr(dimmIndex(topology, 0, 1, 0), 1, 2 * 4 + 3, 100, 64), flags: 0, count: 1 },
    { time: 1700000100, host: 0, addr: mapping.physAddr(dimmIndex(topology, 1, 3, 1), 0, 0, 5, 8), flags: FLAG_SCRUB, count: 1 },
    { time: Date.UTC(2023, 10, 14, 22, 15) / 1000, host: 1, addr: mapping.physAddr(0, 0, 1, 7, 16), flags: FLAG_UE | FLAG_SOURCE_UNKNOWN, count: 1 },
  ]);
  assert.equal([log.stats.skipped, log.stats.hostCount], [2, 2]);
  assert.match(log.stats.firstSkipped!, /^line 5: rank "x"/);

  const logged = readSmartmem(file, { topology, mapping: 'logged', skipBad: true });
  assert.equal((await collect(logged)).map((r) => r.addr), [0x100002000, 0x100003000, 0x100004000, 1, 1]);

  const noRows = path('norows.csv');
  writeFileSync(noRows, 'sid,rankid,bankid,log_time\nsrvA,0,1,5\n');
  assert.match(await failure(readSmartmem(noRows, { topology, mapping })), /line 1: the header lacks row \(.*\), column/);
});

// --- detection and streaming ---------------------------------------------------------------

test('formats are told apart from their first bytes and lines', async () => {
  assert.is(await detectFormat(path('ras.db')), 'rasdaemon');
  assert.is(await detectFormat(path('mcelog.log')), 'mcelog');
  assert.is(await detectFormat(path('kern.log')), 'kmsg');
  assert.is(await detectFormat(path('smartmem.csv')), 'smartmem');
  const stream = path('stream.bin');
  await writeErrorStream(stream, { flags: STREAM_GENERATED, hostCount: 1, seed: 0, physBase: 0, spanSeconds: 0 }, []);
  assert.is(await detectFormat(stream), 'mfrsim');
  const other = path('other.txt');
  writeFileSync(other, 'nothing to see here\n');
  try {
    await detectFormat(other);
    assert.unreachable('should not detect');
  } catch (err) {
    assert.match((err as Error).message, /other\.txt: not an error log mfrsim reads: expected rasdaemon's SQLite database, .*first line 'nothing to see here'/);
  }
  const config = parseGeneratorConfig({});
  const topology = makeTopology(config.topology);
  const opened = await openErrorLog(path('kern.log'), { topology, mapping: 'logged', skipBad: true });
  assert.is(opened.format, 'kmsg');
  assert.is((await collect(opened)).length, 6);
});

test('readers stream: a long log arrives batch by batch', async () => {
  const file = path('long.log');
  const lines: string[] = [];
  for (let i = 0; i < 20000; i++) lines.push(`[ ${i}.000000] mce: Uncorrected hardware memory error in user-access at ${(0x100000000 + i * 4096).toString(16)}`);
  writeFileSync(file, lines.join('\n') + '\n');
  let batches = 0;
  let records = 0;
  for await (const b of readKmsg(file, { batchSize: 1000 }).batches) {
    batches++;
    records += b.length;
    assert.ok(b.length <= 1000);
  }
  assert.equal([batches, records], [20, 20000]);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
