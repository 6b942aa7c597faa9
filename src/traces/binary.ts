// mfrsim's own binary trace format: a 48-byte header, then blocks of columns, then an
// end-of-trace block; little-endian throughout. Columns a trace lacks are not stored. Every
// column starts on an 8-byte boundary, so a block read into an aligned buffer is viewed in
// place through typed arrays. docs/formats.md specifies the layout.
import { AtomicFile } from '../io/atomic-file.js';
import { requireLittleEndianHost } from './endian.js';
import { CompressedDataError, TraceFormatError } from './errors.js';
import { readFully, type ByteSource } from './source.js';
import type { AccessBatch, TraceColumns } from './types.js';

const MFRSIM_MAGIC = 'MFRTRACE';
const MFRSIM_VERSION = 1;
export const MFRSIM_HEADER_SIZE = 48;
const DEFAULT_BLOCK_EVENTS = 1 << 16;
const MAX_BLOCK_EVENTS = 1 << 20;
const BLOCK_HEADER_SIZE = 8;

const FLAG_PHYSICAL = 1 << 0;
const FLAG_SIZE = 1 << 1;
const FLAG_TIME = 1 << 2;
const FLAG_WEIGHT = 1 << 3;
const FLAG_PAGE_SIZE = 1 << 4;
const KNOWN_FLAGS = FLAG_PHYSICAL | FLAG_SIZE | FLAG_TIME | FLAG_WEIGHT | FLAG_PAGE_SIZE;

const MAX_KIND = 2;
const TWO_POW_32 = 0x100000000;
/** A high word above this makes a u64 exceed 2^53-1. */
const MAX_HIGH_WORD = 0x1fffff;
/** The event count a writer puts in the header until close() fills in the real one. */
const UNFINISHED_HIGH_WORD = 0xffffffff;

export interface MfrsimHeader {
  physical: boolean;
  columns: TraceColumns;
  /** Events in the trace; null while the writer has not finished it. */
  eventCount: number | null;
  /** Lowest and highest address (both 0 for an empty trace). */
  minAddr: number;
  maxAddr: number;
  /** The largest block in the file, in events. */
  maxBlockEvents: number;
}

export function isMfrsimTrace(bytes: Uint8Array): boolean {
  if (bytes.length < MFRSIM_MAGIC.length) return false;
  for (let i = 0; i < MFRSIM_MAGIC.length; i++) if (bytes[i] !== MFRSIM_MAGIC.charCodeAt(i)) return false;
  return true;
}

function encodeHeader(header: MfrsimHeader): Uint8Array {
  const bytes = new Uint8Array(MFRSIM_HEADER_SIZE);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < MFRSIM_MAGIC.length; i++) bytes[i] = MFRSIM_MAGIC.charCodeAt(i);
  view.setUint16(8, MFRSIM_VERSION, true);
  view.setUint16(10, MFRSIM_HEADER_SIZE, true);
  const { columns } = header;
  const flags =
    (header.physical ? FLAG_PHYSICAL : 0) |
    (columns.size ? FLAG_SIZE : 0) |
    (columns.time ? FLAG_TIME : 0) |
    (columns.weight ? FLAG_WEIGHT : 0) |
    (columns.pageSize ? FLAG_PAGE_SIZE : 0);
  view.setUint32(12, flags, true);
  if (header.eventCount === null) {
    view.setUint32(16, UNFINISHED_HIGH_WORD, true);
    view.setUint32(20, UNFINISHED_HIGH_WORD, true);
  } else {
    setUint64(view, 16, header.eventCount);
  }
  setUint64(view, 24, header.minAddr);
  setUint64(view, 32, header.maxAddr);
  view.setUint32(40, header.maxBlockEvents, true);
  return bytes;
}

/** Decodes and checks a header; `bytes` may be short (a truncated file). */
function decodeHeader(bytes: Uint8Array, file: string): { header: MfrsimHeader; headerSize: number } {
  const fail = (reason: string) => new TraceFormatError(file, 0, reason);
  if (!isMfrsimTrace(bytes)) throw fail(`not an mfrsim trace (no ${MFRSIM_MAGIC} magic)`);
  if (bytes.length < MFRSIM_HEADER_SIZE) throw fail(`truncated header (${bytes.length} of ${MFRSIM_HEADER_SIZE} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(8, true);
  if (version !== MFRSIM_VERSION) throw fail(`unsupported mfrsim trace version ${version}`);
  const headerSize = view.getUint16(10, true);
  if (headerSize < MFRSIM_HEADER_SIZE) throw fail(`header size ${headerSize} is below ${MFRSIM_HEADER_SIZE}`);
  const flags = view.getUint32(12, true);
  if ((flags & ~KNOWN_FLAGS) !== 0) throw fail(`unknown header flags 0x${(flags & ~KNOWN_FLAGS).toString(16)}`);
  const maxBlockEvents = view.getUint32(40, true);
  if (maxBlockEvents > MAX_BLOCK_EVENTS) throw fail(`block size ${maxBlockEvents} is above ${MAX_BLOCK_EVENTS} events`);
  const header: MfrsimHeader = {
    physical: (flags & FLAG_PHYSICAL) !== 0,
    columns: {
      size: (flags & FLAG_SIZE) !== 0,
      time: (flags & FLAG_TIME) !== 0,
      weight: (flags & FLAG_WEIGHT) !== 0,
      pageSize: (flags & FLAG_PAGE_SIZE) !== 0,
    },
    eventCount:
      view.getUint32(16, true) === UNFINISHED_HIGH_WORD && view.getUint32(20, true) === UNFINISHED_HIGH_WORD
        ? null
        : getUint64(view, 16, 'event count', fail),
    minAddr: getUint64(view, 24, 'minimum address', fail),
    maxAddr: getUint64(view, 32, 'maximum address', fail),
    maxBlockEvents,
  };
  return { header, headerSize };
}

function setUint64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, value >>> 0, true);
  view.setUint32(offset + 4, Math.floor(value / TWO_POW_32), true);
}

function getUint64(view: DataView, offset: number, what: string, fail: (r: string) => Error): number {
  const high = view.getUint32(offset + 4, true);
  if (high > MAX_HIGH_WORD) throw fail(`${what} is above 2^53-1`);
  return high * TWO_POW_32 + view.getUint32(offset, true);
}

function pad8(bytes: number): number {
  return (bytes + 7) & ~7;
}

/** Bytes of a block's columns for `n` events. */
function payloadSize(n: number, columns: TraceColumns): number {
  return (
    pad8(n * 8) +
    (columns.time ? pad8(n * 8) : 0) +
    (columns.weight ? pad8(n * 8) : 0) +
    (columns.pageSize ? pad8(n * 4) : 0) +
    (columns.size ? pad8(n * 2) : 0) +
    pad8(n)
  );
}

/** Typed-array views of one block's columns, in file order. */
interface BlockColumns {
  addrWords: Uint32Array;
  time: Float64Array | null;
  weight: Float64Array | null;
  pageSize: Uint32Array | null;
  size: Uint16Array | null;
  kind: Uint8Array;
}

function blockColumns(buffer: ArrayBuffer, n: number, columns: TraceColumns): BlockColumns {
  let offset = 0;
  const take = <T>(make: (offset: number) => T, bytes: number): T => {
    const view = make(offset);
    offset += pad8(bytes);
    return view;
  };
  return {
    addrWords: take((o) => new Uint32Array(buffer, o, 2 * n), n * 8),
    time: columns.time ? take((o) => new Float64Array(buffer, o, n), n * 8) : null,
    weight: columns.weight ? take((o) => new Float64Array(buffer, o, n), n * 8) : null,
    pageSize: columns.pageSize ? take((o) => new Uint32Array(buffer, o, n), n * 4) : null,
    size: columns.size ? take((o) => new Uint16Array(buffer, o, n), n * 2) : null,
    kind: take((o) => new Uint8Array(buffer, o, n), n),
  };
}

/** Reads the header of an mfrsim trace (for its metadata); an unfinished one needs `salvage`. */
export async function readMfrsimHeader(source: ByteSource, file: string, salvage = false): Promise<MfrsimHeader> {
  const bytes = new Uint8Array(MFRSIM_HEADER_SIZE);
  const got = await readOrFail(source, bytes, MFRSIM_HEADER_SIZE, file, 0);
  const { header } = decodeHeader(bytes.subarray(0, got), file);
  if (header.eventCount === null && !salvage) throw unfinished(file);
  return header;
}

async function readOrFail(source: ByteSource, into: Uint8Array, length: number, file: string, event: number) {
  try {
    return await readFully(source, into, 0, length);
  } catch (err) {
    if (err instanceof CompressedDataError) throw new TraceFormatError(file, event, err.message);
    throw err;
  }
}

/** What --salvage recovered from a trace that was never finished or is cut short. */
export interface SalvageReport {
  /** Events read from the complete blocks. */
  events: number;
  /** Why reading stopped (the first block that is missing, cut short or malformed). */
  stoppedAt: string;
}

export interface MfrsimReadOptions {
  /**
   * Read the complete blocks of a trace whose writer never finished (or that is cut short or
   * damaged after them), and report through `onSalvage`; without it such a trace is an error.
   */
  salvage?: boolean;
  onSalvage?: (report: SalvageReport) => void;
}

/** Streams the events of an mfrsim trace into `batch` (reused), yielding it when full. */
export async function* mfrsimBatches(
  source: ByteSource,
  file: string,
  batch: AccessBatch,
  options: MfrsimReadOptions = {},
): AsyncGenerator<AccessBatch, void, undefined> {
  requireLittleEndianHost();
  const headerBytes = new Uint8Array(MFRSIM_HEADER_SIZE);
  const { header, headerSize } = decodeHeader(
    headerBytes.subarray(0, await readOrFail(source, headerBytes, MFRSIM_HEADER_SIZE, file, 0)),
    file,
  );
  if (header.eventCount === null && !options.salvage) throw unfinished(file);
  // Later versions may append header fields; skip what this reader does not know.
  const extra = headerSize - MFRSIM_HEADER_SIZE;
  if (extra > 0 && (await readOrFail(source, new Uint8Array(extra), extra, file, 0)) < extra) {
    throw new TraceFormatError(file, 0, 'truncated header');
  }

  const { columns } = header;
  // An unfinished header does not know its largest block yet: allow the format's largest.
  const maxBlockEvents = options.salvage ? MAX_BLOCK_EVENTS : header.maxBlockEvents;
  const payload = new Uint8Array(payloadSize(maxBlockEvents, columns));
  const blockHeader = new Uint8Array(BLOCK_HEADER_SIZE);
  const blockWords = new Uint32Array(blockHeader.buffer);
  const capacity = batch.addr.length;
  let events = 0;
  batch.length = 0;
  for (;;) {
    const next = events + 1;
    let problem: string | null = null;
    let n = 0;
    let bytes = 0;
    try {
      if ((await readOrFail(source, blockHeader, BLOCK_HEADER_SIZE, file, next)) < BLOCK_HEADER_SIZE) {
        problem = 'truncated file: block header or end-of-trace block missing';
      } else {
        n = blockWords[0];
        bytes = blockWords[1];
        if (n === 0) {
          if (bytes !== 0) problem = `end-of-trace block with ${bytes} payload bytes`;
        } else if (n > maxBlockEvents) {
          problem = `block of ${n} events exceeds the header's maximum of ${maxBlockEvents}`;
        } else if (bytes !== payloadSize(n, columns)) {
          problem = `block payload is ${bytes} bytes, expected ${payloadSize(n, columns)} for ${n} events`;
        } else {
          const got = await readOrFail(source, payload, bytes, file, next);
          if (got < bytes) problem = `truncated block (${got} of ${bytes} bytes)`;
        }
      }
    } catch (err) {
      if (!(options.salvage && err instanceof TraceFormatError)) throw err;
      problem = err.reason;
    }
    if (problem !== null) {
      if (!options.salvage) throw new TraceFormatError(file, next, problem);
      options.onSalvage?.({ events, stoppedAt: `event ${next}: ${problem}` });
      break;
    }
    if (n === 0) {
      if (options.salvage && header.eventCount !== events) {
        options.onSalvage?.({ events, stoppedAt: `the end-of-trace block (the header counts ${header.eventCount ?? 'no'} events)` });
      }
      break;
    }

    const block = blockColumns(payload.buffer, n, columns);
    for (let done = 0; done < n; ) {
      const count = Math.min(n - done, capacity - batch.length);
      copyEvents(file, block, done, count, batch, events + done);
      done += count;
      if (batch.length === capacity) {
        yield batch;
        batch.length = 0;
      }
    }
    events += n;
  }
  if (!options.salvage && events !== header.eventCount) {
    throw new TraceFormatError(file, 0, `header says ${header.eventCount} events but the blocks hold ${events}`);
  }
  if (!options.salvage && (await readOrFail(source, blockHeader, 1, file, events)) > 0) {
    throw new TraceFormatError(file, 0, 'data after the end-of-trace block');
  }
  if (batch.length > 0) yield batch;
}

function unfinished(file: string): TraceFormatError {
  return new TraceFormatError(
    file,
    0,
    'the trace was never finished (event count unknown: its writer stopped before closing it); --salvage reads its complete blocks',
  );
}

/** Appends block events [from, from + count) to the batch; `firstEvent` is from's index. */
function copyEvents(
  file: string,
  block: BlockColumns,
  from: number,
  count: number,
  batch: AccessBatch,
  firstEvent: number,
): void {
  const at = batch.length;
  const { addrWords, kind } = block;
  for (let i = 0; i < count; i++) {
    const w = 2 * (from + i);
    const high = addrWords[w + 1];
    if (high > MAX_HIGH_WORD) throw new TraceFormatError(file, firstEvent + i + 1, 'address is above 2^53-1');
    batch.addr[at + i] = high * TWO_POW_32 + addrWords[w];
    if (kind[from + i] > MAX_KIND) {
      throw new TraceFormatError(file, firstEvent + i + 1, `unknown access kind ${kind[from + i]}`);
    }
  }
  const end = from + count;
  batch.kind.set(kind.subarray(from, end), at);
  if (block.size) batch.size.set(block.size.subarray(from, end), at);
  if (block.weight) batch.weight.set(block.weight.subarray(from, end), at);
  if (block.pageSize) batch.pageSize.set(block.pageSize.subarray(from, end), at);
  if (block.time) batch.time.set(block.time.subarray(from, end), at);
  else for (let i = 0; i < count; i++) batch.time[at + i] = firstEvent + i;
  batch.length = at + count;
}

/** What an mfrsim trace file holds: address kind, columns, events per block. */
export interface TraceWriterOptions {
  physical: boolean;
  /** Columns to store; events must hold the defaults in the others (checked). */
  columns: TraceColumns;
  /** Events per block (default 65536). */
  blockEvents?: number;
}

/**
 * Writes an mfrsim trace. Events are buffered into blocks; `close()` writes the end-of-trace
 * block and fills in the header's event count and address range.
 */
export class TraceWriter {
  private readonly columns: TraceColumns;
  private readonly physical: boolean;
  private readonly capacity: number;
  private readonly addrWords: Uint32Array;
  private readonly kind: Uint8Array;
  private readonly size: Uint16Array;
  private readonly time: Float64Array;
  private readonly weight: Float64Array;
  private readonly pageSize: Uint32Array;
  private readonly out: Uint8Array;
  private buffered = 0;
  private events = 0;
  private minAddr = Infinity;
  private maxAddr = -Infinity;
  private maxBlockEvents = 0;
  private bytesWritten = MFRSIM_HEADER_SIZE;

  private constructor(
    private readonly file: AtomicFile,
    readonly path: string,
    options: TraceWriterOptions,
  ) {
    const capacity = options.blockEvents ?? DEFAULT_BLOCK_EVENTS;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_BLOCK_EVENTS) {
      throw new RangeError(`blockEvents must be an integer in 1..${MAX_BLOCK_EVENTS}`);
    }
    this.columns = { ...options.columns };
    this.physical = options.physical;
    this.capacity = capacity;
    this.addrWords = new Uint32Array(2 * capacity);
    this.kind = new Uint8Array(capacity);
    this.size = new Uint16Array(capacity);
    this.time = new Float64Array(capacity);
    this.weight = new Float64Array(capacity);
    this.pageSize = new Uint32Array(capacity);
    this.out = new Uint8Array(BLOCK_HEADER_SIZE + payloadSize(capacity, this.columns));
  }

  /**
   * Starts a trace at `path`. It is written under a temporary name in the same directory and
   * only appears at `path` when close() finishes it; until then its header says "unfinished".
   */
  static async create(path: string, options: TraceWriterOptions): Promise<TraceWriter> {
    requireLittleEndianHost();
    const file = await AtomicFile.create(path);
    try {
      const writer = new TraceWriter(file, path, options);
      await file.handle.write(encodeHeader({ ...writer.header(), eventCount: null }), 0, MFRSIM_HEADER_SIZE, 0);
      return writer;
    } catch (err) {
      await file.discard();
      throw err;
    }
  }

  /** Events written so far. */
  get eventCount(): number {
    return this.events + this.buffered;
  }

  /** Appends a batch of events. */
  async write(batch: AccessBatch): Promise<void> {
    if (batch.physical !== this.physical) {
      throw new Error(`${this.path}: batch addresses are ${batch.physical ? 'physical' : 'virtual'}, the trace's are not`);
    }
    for (let done = 0; done < batch.length; ) {
      const count = Math.min(batch.length - done, this.capacity - this.buffered);
      this.append(batch, done, count);
      done += count;
      if (this.buffered === this.capacity) await this.flush();
    }
  }

  /** Writes the end-of-trace block and the final header, and puts the trace at its path. */
  async close(): Promise<void> {
    try {
      await this.flush();
      const end = new Uint8Array(BLOCK_HEADER_SIZE);
      await this.file.handle.write(end, 0, end.length, this.bytesWritten);
      this.bytesWritten += end.length;
      await this.file.handle.write(encodeHeader(this.header()), 0, MFRSIM_HEADER_SIZE, 0);
      await this.file.commit();
    } catch (err) {
      await this.file.discard();
      throw err;
    }
  }

  /** Gives up: removes the unfinished trace; whatever was at the path before stays. */
  async abort(): Promise<void> {
    await this.file.discard();
  }

  private header(): MfrsimHeader {
    const empty = this.events === 0;
    return {
      physical: this.physical,
      columns: this.columns,
      eventCount: this.events,
      minAddr: empty ? 0 : this.minAddr,
      maxAddr: empty ? 0 : this.maxAddr,
      maxBlockEvents: this.maxBlockEvents,
    };
  }

  /** Copies batch events [from, from + count) into the block, checking them column by column. */
  private append(batch: AccessBatch, from: number, count: number): void {
    const at = this.buffered;
    const first = this.events + at;
    const end = from + count;
    const { columns, addrWords } = this;
    const { addr, kind, size, time, weight, pageSize } = batch;
    let min = this.minAddr;
    let max = this.maxAddr;
    for (let j = from, w = 2 * at; j < end; j++, w += 2) {
      const a = addr[j];
      if (!(a >= 0 && a <= Number.MAX_SAFE_INTEGER && Math.floor(a) === a)) {
        this.reject(first + j - from, `address ${a} is not an integer in 0..2^53-1`);
      }
      addrWords[w] = a >>> 0;
      addrWords[w + 1] = Math.floor(a / TWO_POW_32);
      if (a < min) min = a;
      if (a > max) max = a;
    }
    for (let j = from; j < end; j++) {
      if (kind[j] > MAX_KIND) this.reject(first + j - from, `unknown access kind ${kind[j]}`);
    }
    // A column the trace does not store must hold its default, or the round trip would lie.
    if (!columns.time) {
      for (let j = from; j < end; j++) {
        if (time[j] !== first + j - from) this.reject(first + j - from, 'time differs from the event index and the trace has no time column');
      }
    }
    if (!columns.weight) {
      for (let j = from; j < end; j++) if (weight[j] !== 1) this.reject(first + j - from, 'weight is not 1 and the trace has no weight column');
    }
    if (!columns.pageSize) {
      for (let j = from; j < end; j++) if (pageSize[j] !== 0) this.reject(first + j - from, 'page size is set and the trace has no page-size column');
    }
    if (!columns.size) {
      for (let j = from; j < end; j++) if (size[j] !== 0) this.reject(first + j - from, 'size is set and the trace has no size column');
    }
    this.minAddr = min;
    this.maxAddr = max;
    this.kind.set(kind.subarray(from, end), at);
    if (columns.size) this.size.set(size.subarray(from, end), at);
    if (columns.time) this.time.set(time.subarray(from, end), at);
    if (columns.weight) this.weight.set(weight.subarray(from, end), at);
    if (columns.pageSize) this.pageSize.set(pageSize.subarray(from, end), at);
    this.buffered = at + count;
  }

  private reject(event: number, reason: string): never {
    throw new Error(`${this.path}: event ${event}: ${reason}`);
  }

  private async flush(): Promise<void> {
    const n = this.buffered;
    if (n === 0) return;
    const { out, columns } = this;
    const words = new Uint32Array(out.buffer, 0, 2);
    words[0] = n;
    words[1] = payloadSize(n, columns);
    let offset = BLOCK_HEADER_SIZE;
    const put = (column: ArrayBufferView, bytes: number) => {
      out.set(new Uint8Array(column.buffer, 0, bytes), offset);
      out.fill(0, offset + bytes, offset + pad8(bytes));
      offset += pad8(bytes);
    };
    put(this.addrWords, n * 8);
    if (columns.time) put(this.time, n * 8);
    if (columns.weight) put(this.weight, n * 8);
    if (columns.pageSize) put(this.pageSize, n * 4);
    if (columns.size) put(this.size, n * 2);
    put(this.kind, n);
    await this.file.handle.write(out, 0, offset, this.bytesWritten);
    this.bytesWritten += offset;
    this.events += n;
    this.maxBlockEvents = Math.max(this.maxBlockEvents, n);
    this.buffered = 0;
  }
}

/** Writes all batches of `events` to a new mfrsim trace; returns the event count. */
export async function writeTrace(
  path: string,
  events: AsyncIterable<AccessBatch> | Iterable<AccessBatch>,
  options: TraceWriterOptions,
): Promise<number> {
  const writer = await TraceWriter.create(path, options);
  try {
    for await (const batch of events) await writer.write(batch);
  } catch (err) {
    await writer.abort();
    throw err;
  }
  await writer.close();
  return writer.eventCount;
}
