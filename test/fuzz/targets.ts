// The fuzz targets: mfrsim's front door. Each takes an input drawn by fast-check (mutate.ts)
// and checks the property that matters there:
//   - readers (every trace format and auto-detection, every error-log format and detection,
//     the binary trace and error-stream formats): the only error is the reader's own
//     (TraceFormatError, MalformedRecordError, StreamFormatError) naming the file, and what
//     they yield keeps the format's promises (addresses, kinds, counts, times in range);
//   - loaders (scenario, fleet, layout): the only error is the loader's own, naming the file;
//   - the Host API: calls with hostile arguments return or throw a SystemError/RangeError,
//     never trap, and a call that throws leaves every observable counter as it was.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { parseGeneratorConfig } from '../../src/errors/config.js';
import { readErrorStream, StreamFormatError } from '../../src/errors/format.js';
import { openErrorLog } from '../../src/errors/import-log.js';
import { makeMapping } from '../../src/errors/mapping.js';
import { MalformedRecordError } from '../../src/errors/readers/common.js';
import { makeTopology } from '../../src/errors/topology.js';
import { FleetDescriptionError, loadFleet, parseFleet } from '../../src/fleet/description.js';
import { MAP_SHARED, MFD_HUGE_2MB, MFD_HUGETLB, MFD_MF_KEEP_UE_MAPPED, PROT_READ, PROT_WRITE } from '../../src/host/constants.js';
import { Host, Process } from '../../src/host/host.js';
import { SystemError } from '../../src/host/syserror.js';
import { ScenarioError, loadScenario, parseScenario } from '../../src/study/scenario.js';
import { TraceFormatError } from '../../src/traces/errors.js';
import { LayoutError, loadLayout, parseLayout } from '../../src/traces/layout.js';
import { openTrace } from '../../src/traces/open.js';
import { TRACE_FORMATS, type TraceFormat } from '../../src/traces/types.js';
import { bytesInput, jsonInput, type Json } from './mutate.js';

/** A broken property: what the input did that it must not. */
export class PropertyViolation extends Error {}

export interface FuzzTarget<T = unknown> {
  name: string;
  /** How inputs are drawn, from this target's corpus (files under corpus/<name>/). */
  input(corpus: Uint8Array[]): fc.Arbitrary<T>;
  /** Runs one input; throws PropertyViolation (or the unexpected error) when the property breaks. */
  run(input: T): Promise<void>;
  /** The input as a corpus file (a found crash becomes a regression seed). */
  encode(input: T): Uint8Array;
  /** A corpus file as an input, run as it is before any fuzzing. */
  decode(bytes: Uint8Array): T;
}

/** JSON with bigints written as "123n" (the Host API's and rasdaemon's inputs). */
const toJson = (v: unknown) => Buffer.from(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x)), 'utf8');
const fromJson = (bytes: Uint8Array) =>
  JSON.parse(Buffer.from(bytes).toString('utf8'), (_k, x) => (typeof x === 'string' && /^-?\d+n$/.test(x) ? BigInt(x.slice(0, -1)) : x));

const work = mkdtempSync(join(tmpdir(), 'mfrsim-fuzz-'));
let serial = 0;
/** A fresh file holding `bytes`, named like `name` (the extension matters to detection). */
function inputFile(name: string, bytes: Uint8Array): string {
  const sub = join(work, String(serial++ % 64));
  mkdirSync(sub, { recursive: true });
  const path = join(sub, name);
  writeFileSync(path, bytes);
  return path;
}

/** Runs `body`; an error is fine only if `allowed` says so and its message names `file`. */
async function onlyOwnErrors(file: string, allowed: (err: unknown) => boolean, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    if (err instanceof PropertyViolation) throw err;
    if (!allowed(err)) throw new PropertyViolation(`unexpected ${(err as Error)?.constructor?.name ?? typeof err}: ${(err as Error)?.stack ?? String(err)}`);
    if (!(err as Error).message.startsWith(file)) throw new PropertyViolation(`the error does not start with the file name: ${(err as Error).message}`);
  }
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new PropertyViolation(what);
}

const utf8 = (s: string) => Buffer.from(s, 'utf8');

// ---- access traces ----

const TRACE_TOKENS = ['\n', '\r\n', ' ', '\t', ',', '0x', '#', '==', ' L ', ' S ', ' M ', 'I  ', 'LD ', 'ST ', 'READ', 'WRITE', 'P_MEM_WR', ' R', ' W',
  ':', '4K', '2M', '1G', 'N/A', 'ffffffffffffffff', '20000000000000', '1fffffffffffff', '-1', '99999999999999999999', 'MFRTRACE', '\0\0\0\0\0\0\0\0'];
const NAMES: Record<TraceFormat | 'auto', string> = {
  auto: 'input', lackey: 't.lackey', 'ramulator1-dram': 't.txt', 'ramulator1-cpu': 't.txt', ramulator2: 't.txt', dramsim3: 't.trace',
  champsim: 't.champsim', perf: 't.perf', mfrsim: 't.mfr',
};

function traceTarget(format: TraceFormat | 'auto'): FuzzTarget<{ bytes: Uint8Array; salvage: boolean }> {
  return {
    name: `trace-${format}`,
    input: (corpus) => fc.record({ bytes: bytesInput(corpus, TRACE_TOKENS), salvage: fc.boolean() }),
    encode: (i) => i.bytes,
    decode: (bytes) => ({ bytes, salvage: false }),
    async run({ bytes, salvage }) {
      const file = inputFile(NAMES[format], bytes);
      await onlyOwnErrors(file, (e) => e instanceof TraceFormatError, async () => {
        const trace = await openTrace(file, { format, batchSize: 64, salvage });
        for await (const b of trace) {
          check(b.length <= 64, `batch of ${b.length} events`);
          for (let i = 0; i < b.length; i++) {
            const a = b.addr[i]!;
            check(Number.isSafeInteger(a) && a >= 0, `event address ${a} is not an integer in 0..2^53-1`);
            check(b.kind[i]! <= 2, `event kind ${b.kind[i]}`);
          }
        }
      });
    },
  };
}

// ---- error logs and the error-stream format ----

const LOG_TOKENS = ['\n', ' ', ',', '"', '0x', '#', 'mce: Uncorrected hardware memory error in user-access at ', 'Memory failure: 0x',
  ': already hardware poisoned', ': recovery action for huge page: Recovered', 'EDAC MC0: ', ' UE ', ' CE ', 'page:0x', 'offset:0x', 'grain:32',
  'CPU 0 BANK 8', 'STATUS ', 'MCGSTATUS 0', 'ADDR ', 'TIME ', 'bc00000000010090', 'ffffffffffffffff', '-1', '1e400', '100000000000000000000',
  '[  12.5] ', '2024-01-01T00:00:00Z ', 'sid,cpuid,channelid,dimmid,rankid,bankid,rowid,columnid,log_time,error_type,phys_addr\n'];

const topology = makeTopology(parseGeneratorConfig({}).topology);
const linear = makeMapping(parseGeneratorConfig({}).mapping, topology, 2 ** 32);

function checkRecords(b: { length: number; physAddr: Float64Array; count: Uint32Array; time: Float64Array }): void {
  for (let i = 0; i < b.length; i++) {
    const a = b.physAddr[i]!;
    check(Number.isSafeInteger(a) && a >= 0 && a < 2 ** 52, `record address ${a} outside 52 bits`);
    check(b.count[i]! >= 1, `record count ${b.count[i]}`);
    check(Number.isFinite(b.time[i]!) && b.time[i]! >= 0, `record time ${b.time[i]}`);
  }
}

function logTarget(format: 'mcelog' | 'kmsg' | 'smartmem' | 'auto'): FuzzTarget<{ bytes: Uint8Array; skipBad: boolean; logged: boolean }> {
  const name = format === 'smartmem' ? 'log.csv' : format === 'auto' ? 'input' : 'log.txt';
  return {
    name: `log-${format}`,
    input: (corpus) => fc.record({ bytes: bytesInput(corpus, LOG_TOKENS), skipBad: fc.boolean(), logged: fc.boolean() }),
    encode: (i) => i.bytes,
    decode: (bytes) => ({ bytes, skipBad: false, logged: false }),
    async run({ bytes, skipBad, logged }) {
      const file = inputFile(name, bytes);
      await onlyOwnErrors(file, (e) => e instanceof MalformedRecordError, async () => {
        const log = await openErrorLog(file, { format, skipBad, topology, mapping: logged ? 'logged' : linear });
        for await (const b of log.batches) checkRecords(b);
      });
    },
  };
}

type Cell = null | number | bigint | string;
const cell: fc.Arbitrary<Cell> = fc.oneof(
  fc.constant(null),
  fc.integer(),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.double({ noNaN: true }),
  fc.string({ maxLength: 24 }),
  fc.constantFrom('2024-01-01 00:00:00 +0000', 'Corrected', 'Uncorrected', 'Info', 'Fatal', 'memory scrubbing error', '0x1000', 'ffffffffffff', '-1'),
);
const RAS_TABLES: Record<string, string[]> = {
  mc_event: ['timestamp', 'err_count', 'err_type', 'err_msg', 'address'],
  mce_record: ['timestamp', 'status', 'addr'],
  memory_failure_event: ['timestamp', 'pfn'],
};

/** rasdaemon: databases of rasdaemon's tables holding any values, or damaged database files. */
const rasdaemonTarget: FuzzTarget<{ rows: [string, Cell[]][]; damage: Uint8Array | null; skipBad: boolean }> = {
  name: 'log-rasdaemon',
  input: (corpus) =>
    fc.record({
      rows: fc.array(fc.tuple(fc.constantFrom(...Object.keys(RAS_TABLES)), fc.array(cell, { minLength: 5, maxLength: 5 })), { maxLength: 12 }),
      damage: fc.option(bytesInput(corpus, ['SQLite format 3\0', '\0\0\0\0']), { freq: 3 }),
      skipBad: fc.boolean(),
    }),
  // Corpus files are database files (damaged or not) or, for found crashes, the input as JSON.
  encode: (i) => (i.damage ? i.damage : toJson(i)),
  decode: (bytes) => {
    try {
      return fromJson(bytes);
    } catch {
      return { rows: [], damage: bytes, skipBad: false };
    }
  },
  async run({ rows, damage, skipBad }) {
    let file: string;
    if (damage) {
      file = inputFile('ras.db', damage);
    } else {
      file = inputFile('ras.db', new Uint8Array(0));
      const db = new Database(file);
      for (const [table, cols] of Object.entries(RAS_TABLES)) db.exec(`CREATE TABLE ${table} (id INTEGER PRIMARY KEY, ${cols.join(', ')})`);
      for (const [table, values] of rows) {
        const cols = RAS_TABLES[table]!;
        db.prepare(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`).run(...values.slice(0, cols.length));
      }
      db.close();
    }
    await onlyOwnErrors(file, (e) => e instanceof MalformedRecordError, async () => {
      const log = await openErrorLog(file, { format: damage ? 'auto' : 'rasdaemon', skipBad, topology, mapping: 'logged' });
      for await (const b of log.batches) checkRecords(b);
    });
  },
};

const streamTarget: FuzzTarget<{ bytes: Uint8Array; salvage: boolean }> = {
  name: 'error-stream',
  input: (corpus) => fc.record({ bytes: bytesInput(corpus, ['MFRERRS\0', '\xff\xff\xff\xff\xff\xff\xff\xff', '\0\0\0\0\0\0\0\0', '\x01\0', '\x40\0\x20\0']), salvage: fc.boolean() }),
  encode: (i) => i.bytes,
  decode: (bytes) => ({ bytes, salvage: false }),
  async run({ bytes, salvage }) {
    const file = inputFile('s.mfrerr', bytes);
    await onlyOwnErrors(file, (e) => e instanceof StreamFormatError, async () => {
      for await (const b of readErrorStream(file, { batchSize: 7, salvage })) checkRecords(b);
    });
  },
};

// ---- JSON loaders ----

function jsonSeeds(corpus: Uint8Array[]): Json[] {
  return corpus.flatMap((bytes) => {
    try {
      return [JSON.parse(Buffer.from(bytes).toString('utf8')) as Json];
    } catch {
      return [];
    }
  });
}

/** A loader fed parsed documents (edited seeds) and, one time in four, edited file text. */
function loaderTarget(
  name: string,
  parse: (doc: unknown, file: string) => unknown,
  load: (file: string) => Promise<unknown>,
  isOwn: (e: unknown) => boolean,
): FuzzTarget<{ doc: Json } | { text: Uint8Array }> {
  return {
    name,
    input: (corpus) =>
      fc.oneof(
        { weight: 3, arbitrary: jsonInput(jsonSeeds(corpus)).map((doc) => ({ doc })) },
        { weight: 1, arbitrary: bytesInput(corpus, ['{', '}', '[', ']', '"', ':', ',', '-1', '1e999', 'null']).map((text) => ({ text })) },
      ),
    encode: (i) => ('doc' in i ? utf8(JSON.stringify(i.doc)) : i.text),
    decode: (text) => ({ text }),
    async run(input) {
      const file = inputFile(`${name}.json`, 'doc' in input ? utf8(JSON.stringify(input.doc)) : input.text);
      await onlyOwnErrors(file, isOwn, async () => {
        if ('doc' in input) parse(input.doc, file);
        else await load(file);
      });
    },
  };
}

// ---- the Host API ----

type Arg = number | bigint | string | null;
const hostileNumber: fc.Arbitrary<Arg> = fc.oneof(
  fc.integer({ min: -3, max: 16 }),
  fc.constantFrom<Arg>(-1, 0.5, NaN, Infinity, 2 ** 53, 2 ** 64, 4096, 2 ** 21, 2 ** 30, 2 ** 21 + 4096, 0x7f00_0000_0000, 2 ** 32),
  fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }),
  fc.constantFrom<Arg>('1', null),
);
const CALLS = ['memfdCreate', 'ftruncate', 'fallocate', 'mmap', 'munmap', 'read', 'write', 'madvise', 'pread', 'translate', 'pageTableLeaf',
  'sendFd', 'close', 'exit', 'injectUE', 'sysctl', 'spawn'] as const;
interface Call { call: (typeof CALLS)[number]; proc: number; args: Arg[] }
const call: fc.Arbitrary<Call> = fc.record({ call: fc.constantFrom(...CALLS), proc: fc.nat({ max: 3 }), args: fc.array(hostileNumber, { minLength: 6, maxLength: 6 }) });

/** Everything a caller can observe of a host and its processes. */
function observe(host: Host, procs: Process[]): string {
  return JSON.stringify({
    meminfo: host.meminfo(), h2: host.hugepages('2M'), h1: host.hugepages('1G'), thp: host.thp(), mf: host.memoryFailureStats(),
    log: host.kernelLog(), pt: host.pageTablePages(), panicked: host.panicked,
    procs: procs.map((p) => ({ alive: p.alive, signals: p.signals.length })),
  }, (_k, v) => (typeof v === 'bigint' ? String(v) : v));
}

/** A useful start: one process with a KEEP 2 MiB memfd mapped and faulted in, and a second process. */
async function hostWithMappings(): Promise<{ host: Host; procs: Process[] }> {
  const host = await Host.create({ hugepages: { '2M': 8, '1G': 2 }, thpPages: 4 });
  const p = host.spawn({ name: 'vmm', mceKill: 'early' });
  const fd2 = p.memfdCreate('a', MFD_HUGETLB | MFD_HUGE_2MB | MFD_MF_KEEP_UE_MAPPED);
  p.ftruncate(fd2, 4n << 21n);
  const m = p.mmap(0, 4n << 21n, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
  p.write(m, 4n << 21n);
  return { host, procs: [p, host.spawn({ name: 'other' })] };
}

const hostTarget: FuzzTarget<Call[]> = {
  name: 'host-api',
  input: () => fc.array(call, { minLength: 1, maxLength: 24 }),
  encode: toJson,
  decode: fromJson,
  async run(calls) {
    const { host, procs } = await hostWithMappings();
    for (const c of calls) {
      const p = procs[c.proc % procs.length]!;
      const a = c.args as never[];
      const before = observe(host, procs);
      try {
        switch (c.call) {
          case 'spawn': procs.push(host.spawn()); break;
          case 'injectUE': host.injectUE(a[0], c.args[1] === 1 ? { consumer: p } : {}); break;
          case 'sysctl': host.sysctl(c.args[1] === 1 ? 'vm.memory_failure_early_kill' : 'vm.memory_failure_recovery', a[0]); break;
          case 'exit': p.exit(); break;
          default: (p[c.call] as (...x: never[]) => unknown)(...a);
        }
      } catch (err) {
        if (err instanceof WebAssembly.RuntimeError) throw new PropertyViolation(`${c.call} trapped: ${err.message}`);
        if (!(err instanceof SystemError || err instanceof RangeError || err instanceof TypeError)) throw err;
        const after = observe(host, procs);
        if (after !== before) throw new PropertyViolation(`${c.call}(${c.args.map(String).join(', ')}) failed (${(err as Error).message}) but changed the host:\n${before}\n${after}`);
      }
    }
  },
};

export const TARGETS: FuzzTarget<never>[] = [
  ...(['auto', ...TRACE_FORMATS] as const).map(traceTarget),
  ...(['auto', 'mcelog', 'kmsg', 'smartmem'] as const).map(logTarget),
  rasdaemonTarget,
  streamTarget,
  loaderTarget('scenario', (d, f) => parseScenario(d, f), loadScenario, (e) => e instanceof ScenarioError),
  loaderTarget('fleet', parseFleet, loadFleet, (e) => e instanceof FleetDescriptionError),
  loaderTarget('layout', parseLayout, loadLayout, (e) => e instanceof LayoutError),
  hostTarget,
] as FuzzTarget<never>[];
