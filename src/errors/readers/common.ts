// What every log reader shares: streaming lines, collecting records into batches, and the
// handling of malformed records (a clear error naming file, position and reason, or, with
// skipBad, a count).
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { ErrorBatchBuilder, type ErrorBatch } from '../batch.js';

/** Options every log reader takes. */
export interface ReaderOptions {
  /** Skip malformed records (counting them) instead of stopping at the first. */
  skipBad?: boolean;
  /** Records per batch. */
  batchSize?: number;
}

/** What a log import produced, skipped and ignored. */
export interface ImportStats {
  /** Records produced. */
  records: number;
  /** Malformed records skipped (skipBad). */
  skipped: number;
  /** Well-formed error records that cannot be placed (no physical address, not a memory error). */
  ignored: number;
  /** The first skipped record's position and reason. */
  firstSkipped: string | null;
  /** Lines read, for a text log (null for a database): a log without error records still says how much was read. */
  lines: number | null;
  /** Host ids are below this. */
  hostCount: number;
  /** Times are Unix seconds (else seconds since boot). */
  wallClock: boolean;
  firstTime: number;
  lastTime: number;
}

/** A log being read: batches stream as they are iterated; stats fill in meanwhile. */
export interface ErrorLogImport {
  readonly file: string;
  readonly batches: AsyncIterable<ErrorBatch>;
  readonly stats: ImportStats;
}

/** Every log reader's error: the file, where in it (empty for the file as a whole) and why. */
export class MalformedRecordError extends Error {
  constructor(
    readonly file: string,
    /** Where: "line 12", "mc_event id 7"; '' when the file as a whole is wrong. */
    readonly position: string,
    readonly reason: string,
  ) {
    super(position ? `${file}: ${position}: ${reason}` : `${file}: ${reason}`);
    this.name = 'MalformedRecordError';
  }
}

/** x86-64 physical addresses have at most 52 bits (MAXPHYADDR). */
export const MAX_PHYS_ADDR = 2 ** 52 - 1;
/** The count column is a u32. */
const MAX_COUNT = 0xffff_ffff;

/** Why a record's numbers cannot be stored faithfully, or null when they can. */
function outOfRange(time: number, physAddr: number, count: number): string | null {
  if (!Number.isInteger(physAddr) || physAddr < 0 || physAddr > MAX_PHYS_ADDR) {
    return `physical address ${physAddr < 0 ? physAddr : `0x${physAddr.toString(16)}`} is outside the 52-bit physical address space`;
  }
  if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) return `error count ${count} is not an integer from 1 to ${MAX_COUNT}`;
  if (!Number.isFinite(time) || time < 0) return `time ${time} is not a non-negative number of seconds`;
  return null;
}

/** Collects one log's records into batches and keeps its stats. */
export class RecordCollector {
  readonly stats: ImportStats = {
    records: 0,
    skipped: 0,
    ignored: 0,
    firstSkipped: null,
    lines: null,
    hostCount: 1,
    wallClock: true,
    firstTime: Infinity,
    lastTime: -Infinity,
  };
  private readonly builder: ErrorBatchBuilder;
  private readonly batchSize: number;

  constructor(
    readonly file: string,
    private readonly opts: ReaderOptions,
  ) {
    this.batchSize = opts.batchSize ?? 65536;
    this.builder = new ErrorBatchBuilder(this.batchSize);
  }

  /** A malformed record: throws, or with skipBad counts it. */
  bad(position: string, reason: string): void {
    if (!this.opts.skipBad) throw new MalformedRecordError(this.file, position, reason);
    this.stats.skipped++;
    this.stats.firstSkipped ??= `${position}: ${reason}`;
  }

  ignore(): void {
    this.stats.ignored++;
  }

  /**
   * A record found at `where`; numbers the stream cannot hold (an address beyond 52 bits, a
   * count beyond 32) make it malformed rather than wrap.
   */
  push(where: string, time: number, host: number, physAddr: number, flags: number, cause: number, dimm: number, faultId: number, count: number): void {
    const problem = outOfRange(time, physAddr, count);
    if (problem !== null) return this.bad(where, problem);
    this.builder.push(time, host, physAddr, flags, cause, dimm, faultId, count);
    this.stats.records++;
    this.stats.firstTime = Math.min(this.stats.firstTime, time);
    this.stats.lastTime = Math.max(this.stats.lastTime, time);
  }

  /** A full batch, if one is ready. */
  full(): ErrorBatch | null {
    return this.builder.length >= this.batchSize ? this.builder.take() : null;
  }

  /** Whatever is left. */
  rest(): ErrorBatch | null {
    return this.builder.length > 0 ? this.builder.take() : null;
  }
}

/** The lines of a text file with their 1-based numbers, read as a stream and counted in `stats.lines`. */
export async function* numberedLines(path: string, stats: ImportStats): AsyncGenerator<[number, string]> {
  const rl = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let n = 0;
  stats.lines = 0;
  for await (const line of rl) {
    stats.lines = ++n;
    yield [n, line];
  }
}

/** Wraps a failure of the file as a whole (I/O, SQLite) so that it names the file. */
export function fileError(file: string, err: unknown): Error {
  if (err instanceof MalformedRecordError) return err;
  return new MalformedRecordError(file, '', err instanceof Error ? err.message : String(err));
}

/** Parses an unsigned hex number ("0x" optional); null when it is not one. */
export function parseHex(text: string): number | null {
  const m = /^(?:0x)?([0-9a-f]+)$/i.exec(text.trim());
  if (!m) return null;
  const value = parseInt(m[1], 16);
  return Number.isSafeInteger(value) ? value : null;
}

const DATE_TIME = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(\.\d+)?\s*(Z|[+-]\d\d:?\d\d)?$/;

/**
 * Unix seconds of "YYYY-MM-DD HH:MM:SS[.frac][ ±HHMM|Z]" (rasdaemon, ISO 8601, journald);
 * without a zone the time is taken as UTC. NaN when it is not such a date.
 */
export function parseDateTime(text: string): number {
  const m = DATE_TIME.exec(text.trim());
  if (!m) return NaN;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  let seconds = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s) / 1000 + (frac ? parseFloat(frac) : 0);
  if (zone && zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    seconds -= sign * (parseInt(digits.slice(0, 2), 10) * 3600 + parseInt(digits.slice(2), 10) * 60);
  }
  return seconds;
}
