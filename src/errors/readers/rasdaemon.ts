// rasdaemon's SQLite database (/var/lib/rasdaemon/ras-mc_event.db). Its schema varies by
// version, so the reader looks at what is there: mc_event (EDAC: err_type, address,
// err_count), mce_record (raw MCi_STATUS and ADDR) or memory_failure_event (pfn). One
// event usually appears in several tables; one table is read, by default the first of those
// three that has rows.
import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';
import { FLAG_SCRUB, FLAG_SOURCE_UNKNOWN, FLAG_UE, UNKNOWN_DIMM, UNKNOWN_FAULT } from '../batch.js';
import { CAUSE_UNKNOWN } from '../faults.js';
import { parseDateTime, parseHex, RecordCollector, type ErrorLogImport, type ReaderOptions } from './common.js';
import { decodeMciStatus } from './mci-status.js';

export const RASDAEMON_TABLES = ['mc_event', 'mce_record', 'memory_failure_event'] as const;
export type RasdaemonTable = (typeof RASDAEMON_TABLES)[number];

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

function asBigInt(v: unknown): bigint | null {
  if (typeof v === 'bigint') return BigInt.asUintN(64, v); // SQLite stores u64 registers as signed
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt.asUintN(64, BigInt(v));
  if (typeof v === 'string') {
    const t = v.trim();
    if (/^0x[0-9a-f]+$/i.test(t)) return BigInt(t);
    if (/^-?\d+$/.test(t)) return BigInt.asUintN(64, BigInt(t));
  }
  return null;
}

/** Places one row: the record's fields, an ignorable row (null), or a reason it is malformed (string). */
function decodeRow(table: RasdaemonTable, row: Row): { time: number; addr: number; flags: number; count: number } | null | string {
  const time = parseDateTime(String(row.timestamp ?? ''));
  if (Number.isNaN(time)) return `timestamp "${String(row.timestamp)}" is not a date`;
  switch (table) {
    case 'mc_event': {
      const type = String(row.err_type ?? '').toLowerCase();
      if (type === 'info') return null;
      if (!['corrected', 'uncorrected', 'fatal', 'deferred'].includes(type)) return `err_type "${String(row.err_type)}" is not Corrected/Uncorrected/Fatal/Deferred/Info`;
      const addr = asBigInt(row.address);
      if (addr === null) return row.address === null ? null : `address "${String(row.address)}" is not an integer`;
      if (addr === 0n) return null; // EDAC could not locate it
      const msg = String(row.err_msg ?? '').toLowerCase();
      const source = msg.includes('scrub') ? FLAG_SCRUB : msg.includes('read') ? 0 : FLAG_SOURCE_UNKNOWN;
      const count = Number(asBigInt(row.err_count) ?? 1n);
      return { time, addr: Number(addr), flags: (type === 'corrected' ? 0 : FLAG_UE) | source, count: Math.max(1, count) };
    }
    case 'mce_record': {
      const status = asBigInt(row.status);
      if (status === null) return `status "${String(row.status)}" is not an integer`;
      const decoded = decodeMciStatus(status);
      if (!decoded.valid) return `status 0x${status.toString(16)} lacks the VAL bit (63)`;
      const addr = asBigInt(row.addr);
      if (!decoded.addressValid || addr === null) return null;
      return { time, addr: Number(addr), flags: decoded.flags, count: 1 };
    }
    case 'memory_failure_event': {
      const pfn = parseHex(String(row.pfn ?? ''));
      if (pfn === null) return `pfn "${String(row.pfn)}" is not a hex page frame number`;
      return { time, addr: pfn * 4096, flags: FLAG_UE | FLAG_SOURCE_UNKNOWN, count: 1 };
    }
  }
}

export function readRasdaemon(file: string, opts: RasdaemonOptions = {}): ErrorLogImport {
  const out = new RecordCollector(file, opts);
  async function* batches() {
    let db: Database.Database;
    try {
      // The native SQLite binding loads when a database is read, not with every errors command.
      const SQLite = createRequire(import.meta.url)('better-sqlite3') as typeof Database;
      db = new SQLite(file, { readonly: true, fileMustExist: true });
    } catch (err) {
      throw new Error(`${file}: cannot open as an SQLite database: ${err instanceof Error ? err.message : String(err)}`);
    }
    try {
      const tables = new Set(
        (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name),
      );
      const hasRows = (t: string) => db.prepare(`SELECT 1 FROM "${t}" LIMIT 1`).get() !== undefined;
      const wanted = opts.table ?? 'auto';
      const table = wanted === 'auto' ? RASDAEMON_TABLES.find((t) => tables.has(t) && hasRows(t)) : wanted;
      if (!table) {
        if (RASDAEMON_TABLES.some((t) => tables.has(t))) return; // rasdaemon's tables, all empty
        throw new Error(`${file}: no rasdaemon table (${RASDAEMON_TABLES.join(', ')}) in this database`);
      }
      if (!tables.has(table)) throw new Error(`${file}: the database has no ${table} table`);
      const columns = new Set((db.prepare(`PRAGMA table_info("${table}")`).all() as { name: string }[]).map((c) => c.name));
      const missing = REQUIRED[table].filter((c) => !columns.has(c));
      if (missing.length > 0) throw new Error(`${file}: table ${table} lacks column(s) ${missing.join(', ')}`);
      const key = columns.has('id') ? 'id' : 'rowid';
      const stmt = db.prepare(`SELECT ${key} AS _pos, * FROM "${table}" ORDER BY ${key}`).safeIntegers(true);
      for (const row of stmt.iterate() as IterableIterator<Row>) {
        const placed = decodeRow(table, row);
        if (placed === null) out.ignore();
        else if (typeof placed === 'string') out.bad(`${table} ${key} ${String(row._pos)}`, placed);
        else out.push(placed.time, 0, placed.addr, placed.flags, CAUSE_UNKNOWN, UNKNOWN_DIMM, UNKNOWN_FAULT, placed.count);
        const batch = out.full();
        if (batch) yield batch;
      }
    } finally {
      db.close();
    }
    const rest = out.rest();
    if (rest) yield rest;
  }
  return { file, batches: batches(), stats: out.stats };
}
