// rasdaemon's SQLite database (/var/lib/rasdaemon/ras-mc_event.db). Its schema varies by
// version, so the reader looks at what is there: mc_event (EDAC: err_type, address,
// err_count), mce_record (raw MCi_STATUS and ADDR) or memory_failure_event (pfn). One
// event usually appears in several tables; one table is read, by default the first of those
// three that has rows.
import type Database from 'better-sqlite3';
import { importOptional } from '../../platform/optional.js';
import { FLAG_SCRUB, FLAG_SOURCE_UNKNOWN, FLAG_UE, UNKNOWN_DIMM, UNKNOWN_FAULT } from '../batch.js';
import { CAUSE_UNKNOWN } from '../faults.js';
import { fileError, MalformedRecordError, parseDateTime, parseHex, RecordCollector, type ErrorLogImport, type ReaderOptions } from './common.js';
import { decodeMciStatus } from './mci-status.js';

/** The rasdaemon tables read, in the order 'auto' tries them. */
export const RASDAEMON_TABLES = ['mc_event', 'mce_record', 'memory_failure_event'] as const;
/** A rasdaemon table. */
export type RasdaemonTable = (typeof RASDAEMON_TABLES)[number];

/** How `readRasdaemon` reads a database. */
export interface RasdaemonOptions extends ReaderOptions {
  /** Which table to read; 'auto' picks the first of RASDAEMON_TABLES with rows. */
  table?: RasdaemonTable | 'auto';
}

/** Columns each table must have for its records to be placed. */
const REQUIRED: Record<RasdaemonTable, string[]> = {
  mc_event: ['timestamp', 'err_type', 'address'],
  mce_record: ['timestamp', 'status', 'addr'],
  memory_failure_event: ['timestamp', 'pfn'],
};

type Row = Record<string, unknown>;

/** An integer column (a bigint, a whole number, or decimal or 0x-hex text); null when it is not one. */
function asInteger(v: unknown): bigint | null {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'string') {
    const t = v.trim();
    if (/^0x[0-9a-f]+$/i.test(t)) return BigInt(t);
    if (/^-?\d+$/.test(t)) return BigInt(t);
  }
  return null;
}

/** A 64-bit register: SQLite stores u64 values as signed, so a negative one is its high bit set. */
function asRegister(v: unknown): bigint | null {
  const n = asInteger(v);
  return n === null ? null : BigInt.asUintN(64, n);
}

/** A number the stream can hold (an address, a count), or why not. */
function inRange(value: bigint, what: string, max: bigint): number | string {
  if (value < 0n || value > max) return `${what} ${value} is outside 0..${max}`;
  return Number(value);
}

const MAX_PHYS_ADDR = (1n << 52n) - 1n;
const MAX_COUNT = 0xffff_ffffn;

/** Places one row: the record's fields, an ignorable row (null), or a reason it is malformed (string). */
function decodeRow(table: RasdaemonTable, row: Row): { time: number; addr: number; flags: number; count: number } | null | string {
  const time = parseDateTime(String(row.timestamp ?? ''));
  if (Number.isNaN(time)) return `timestamp "${String(row.timestamp)}" is not a date`;
  switch (table) {
    case 'mc_event': {
      const type = String(row.err_type ?? '').toLowerCase();
      if (type === 'info') return null;
      if (!['corrected', 'uncorrected', 'fatal', 'deferred'].includes(type)) return `err_type "${String(row.err_type)}" is not Corrected/Uncorrected/Fatal/Deferred/Info`;
      const address = asInteger(row.address);
      if (address === null) return row.address === null ? null : `address "${String(row.address)}" is not an integer`;
      if (address === 0n) return null; // EDAC could not locate it
      const addr = inRange(address, 'address', MAX_PHYS_ADDR);
      if (typeof addr === 'string') return addr;
      const msg = String(row.err_msg ?? '').toLowerCase();
      const source = msg.includes('scrub') ? FLAG_SCRUB : msg.includes('read') ? 0 : FLAG_SOURCE_UNKNOWN;
      const errCount = row.err_count === null || row.err_count === undefined ? 1n : asInteger(row.err_count);
      if (errCount === null) return `err_count "${String(row.err_count)}" is not an integer`;
      // rasdaemon logs 0 for "not counted": it still stands for one error.
      const count = inRange(errCount === 0n ? 1n : errCount, 'err_count', MAX_COUNT);
      if (typeof count === 'string') return count;
      return { time, addr, flags: (type === 'corrected' ? 0 : FLAG_UE) | source, count };
    }
    case 'mce_record': {
      const status = asRegister(row.status);
      if (status === null) return `status "${String(row.status)}" is not an integer`;
      const decoded = decodeMciStatus(status);
      if (!decoded.valid) return `status 0x${status.toString(16)} lacks the VAL bit (63)`;
      const logged = asRegister(row.addr);
      if (!decoded.addressValid || logged === null) return null;
      const addr = inRange(logged, 'addr', MAX_PHYS_ADDR);
      if (typeof addr === 'string') return addr;
      return { time, addr, flags: decoded.flags, count: 1 };
    }
    case 'memory_failure_event': {
      const pfn = parseHex(String(row.pfn ?? ''));
      if (pfn === null) return `pfn "${String(row.pfn)}" is not a hex page frame number`;
      const addr = inRange(BigInt(pfn) * 4096n, 'pfn << 12', MAX_PHYS_ADDR);
      if (typeof addr === 'string') return addr;
      return { time, addr, flags: FLAG_UE | FLAG_SOURCE_UNKNOWN, count: 1 };
    }
  }
}

/** Reads rasdaemon's SQLite database (needs the optional package better-sqlite3). */
export function readRasdaemon(file: string, opts: RasdaemonOptions = {}): ErrorLogImport {
  const out = new RecordCollector(file, opts);
  async function* batches() {
    // Loaded on first use: a native module, an optional dependency of the library.
    const { default: Sqlite } = await importOptional('better-sqlite3', 'Reading rasdaemon databases', () => import('better-sqlite3'));
    let db: Database.Database;
    try {
      db = new Sqlite(file, { readonly: true, fileMustExist: true });
    } catch (err) {
      throw new MalformedRecordError(file, '', `cannot open as an SQLite database: ${err instanceof Error ? err.message : String(err)}`);
    }
    // SQLite reports a damaged file only when a statement reads the damaged page.
    try {
      const tables = new Set(
        (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name),
      );
      const hasRows = (t: string) => db.prepare(`SELECT 1 FROM "${t}" LIMIT 1`).get() !== undefined;
      const wanted = opts.table ?? 'auto';
      const table = wanted === 'auto' ? RASDAEMON_TABLES.find((t) => tables.has(t) && hasRows(t)) : wanted;
      if (!table) {
        if (RASDAEMON_TABLES.some((t) => tables.has(t))) return; // rasdaemon's tables, all empty
        throw new MalformedRecordError(file, '', `no rasdaemon table (${RASDAEMON_TABLES.join(', ')}) in this database`);
      }
      if (!tables.has(table)) throw new MalformedRecordError(file, '', `the database has no ${table} table`);
      const columns = new Set((db.prepare(`PRAGMA table_info("${table}")`).all() as { name: string }[]).map((c) => c.name));
      const missing = REQUIRED[table].filter((c) => !columns.has(c));
      if (missing.length > 0) throw new MalformedRecordError(file, '', `table ${table} lacks column(s) ${missing.join(', ')}`);
      const key = columns.has('id') ? 'id' : 'rowid';
      const stmt = db.prepare(`SELECT ${key} AS _pos, * FROM "${table}" ORDER BY ${key}`).safeIntegers(true);
      for (const row of stmt.iterate() as IterableIterator<Row>) {
        const placed = decodeRow(table, row);
        if (placed === null) out.ignore();
        else if (typeof placed === 'string') out.bad(`${table} ${key} ${String(row._pos)}`, placed);
        else out.push(`${table} ${key} ${String(row._pos)}`, placed.time, 0, placed.addr, placed.flags, CAUSE_UNKNOWN, UNKNOWN_DIMM, UNKNOWN_FAULT, placed.count);
        const batch = out.full();
        if (batch) yield batch;
      }
    } catch (err) {
      throw fileError(file, err);
    } finally {
      db.close();
    }
    const rest = out.rest();
    if (rest) yield rest;
  }
  return { file, batches: batches(), stats: out.stats };
}
