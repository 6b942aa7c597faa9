// mfrsim's binary error-stream format (docs/error-streams.md): a 64-byte header, then fixed
// 32-byte little-endian records. Written and read in batches through typed-array views, so a
// stream of any size flows in constant memory.
import { open, type FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import type { Writable } from 'node:stream';
import { AtomicFile } from '../io/atomic-file.js';
import type { ErrorBatch } from './batch.js';
import { RECORD_BYTES, decodeRecords, encodeRecords } from './record-codec.js';

export { RECORD_BYTES, decodeRecords, encodeRecords };

export const MAGIC = Buffer.from('MFRERRS\0', 'latin1');
export const FORMAT_VERSION = 1;
export const HEADER_BYTES = 64;
/** recordCount while the stream is being written, and for good when written to a pipe. */
export const UNKNOWN_COUNT = 0xffff_ffff_ffff_ffffn;
/**
 * A stream written to a pipe cannot go back to fill in its count: it ends with this 32-byte
 * end record instead, the magic then the u64 record count, zeros, and flags and cause 0xFF
 * (no data record has those flags). Without either, the writer never finished.
 */
const END_FLAGS_CAUSE = 0xffff;

export { STREAM_GENERATED, STREAM_WALL_CLOCK } from './stream-flags.js';

/** An error-stream file's header. */
export interface StreamHeader {
  flags: number;
  /** Host ids are below this. */
  hostCount: number;
  /** The generator's seed (0 for imported logs). */
  seed: number;
  /** Where each host's physical address space starts. */
  physBase: number;
  /** Records in the stream; null when unknown. */
  recordCount: number | null;
  /** Seconds the stream covers (0 when unknown). */
  spanSeconds: number;
}

if (endianness() !== 'LE') {
  // The record views below rely on the host's byte order being the format's.
  throw new Error('mfrsim error streams are little-endian; this host is big-endian');
}

export function encodeHeader(h: StreamHeader): Buffer {
  const buf = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(buf, 0);
  buf.writeUInt16LE(FORMAT_VERSION, 8);
  buf.writeUInt16LE(HEADER_BYTES, 10);
  buf.writeUInt16LE(RECORD_BYTES, 12);
  buf.writeUInt16LE(h.flags, 14);
  buf.writeUInt32LE(h.hostCount, 16);
  buf.writeUInt32LE(h.seed >>> 0, 20);
  buf.writeBigUInt64LE(BigInt(h.physBase), 24);
  buf.writeBigUInt64LE(h.recordCount === null ? UNKNOWN_COUNT : BigInt(h.recordCount), 32);
  buf.writeDoubleLE(h.spanSeconds, 40);
  return buf;
}

/** A malformed or unfinished error stream: the file, the record (0: the file as a whole) and why. */
export class StreamFormatError extends Error {
  constructor(
    readonly file: string,
    /** 1-based record number, 0 for the header or the file as a whole. */
    readonly record: number,
    readonly reason: string,
  ) {
    super(record > 0 ? `${file}: record ${record}: ${reason}` : `${file}: ${reason}`);
    this.name = 'StreamFormatError';
  }
}

export function decodeHeader(buf: Buffer, file: string): StreamHeader {
  const fail = (reason: string) => new StreamFormatError(file, 0, reason);
  if (buf.length < MAGIC.length || !buf.subarray(0, MAGIC.length).equals(MAGIC)) throw fail('not an mfrsim error stream (bad magic bytes)');
  if (buf.length < HEADER_BYTES) throw fail(`truncated header (${buf.length} of ${HEADER_BYTES} bytes)`);
  const version = buf.readUInt16LE(8);
  if (version !== FORMAT_VERSION) throw fail(`error-stream version ${version} is not supported (this mfrsim reads ${FORMAT_VERSION})`);
  const headerBytes = buf.readUInt16LE(10);
  const recordBytes = buf.readUInt16LE(12);
  if (headerBytes !== HEADER_BYTES || recordBytes !== RECORD_BYTES) {
    throw fail(`unexpected header/record size ${headerBytes}/${recordBytes}`);
  }
  const count = buf.readBigUInt64LE(32);
  if (count !== UNKNOWN_COUNT && count > BigInt(Number.MAX_SAFE_INTEGER)) throw fail(`record count ${count} is above 2^53-1`);
  return {
    flags: buf.readUInt16LE(14),
    hostCount: buf.readUInt32LE(16),
    seed: buf.readUInt32LE(20),
    physBase: Number(buf.readBigUInt64LE(24)),
    recordCount: count === UNKNOWN_COUNT ? null : Number(count),
    spanSeconds: buf.readDoubleLE(40),
  };
}

/** Bytes gathered before one write: small batches must not cost one system call each. */
const WRITE_CHUNK = 4 << 20;

function endRecord(records: number): Uint8Array {
  const bytes = Buffer.alloc(RECORD_BYTES);
  MAGIC.copy(bytes, 0);
  bytes.writeBigUInt64LE(BigInt(records), 8);
  bytes.writeUInt16LE(END_FLAGS_CAUSE, 30);
  return bytes;
}

/**
 * Writes a stream to a file (under a temporary name, renamed over the target by close(), so
 * the target is never a partial stream) or to a Writable such as stdout (which gets the end
 * record, since the header cannot be patched).
 */
export class ErrorStreamWriter {
  private records = 0;
  private pending = new Uint8Array(WRITE_CHUNK);
  private used = 0;
  private position = 0;

  private constructor(
    private readonly header: StreamHeader,
    private readonly file: AtomicFile | null,
    private readonly pipe: Writable | null,
  ) {}

  /** Opens a stream file (or writes to a pipe) and writes the header. */
  static async create(target: string | Writable, header: Omit<StreamHeader, 'recordCount'>): Promise<ErrorStreamWriter> {
    const full: StreamHeader = { ...header, recordCount: null };
    const writer =
      typeof target === 'string'
        ? new ErrorStreamWriter(full, await AtomicFile.create(target), null)
        : new ErrorStreamWriter(full, null, target);
    try {
      await writer.put(encodeHeader(full));
    } catch (err) {
      await writer.abort();
      throw err;
    }
    return writer;
  }

  /** Records written so far. */
  get recordsWritten(): number {
    return this.records;
  }

  /** Appends a batch of records. */
  async write(batch: ErrorBatch): Promise<void> {
    const bytes = batch.length * RECORD_BYTES;
    if (this.used + bytes > this.pending.byteLength) await this.flush();
    if (bytes > this.pending.byteLength) {
      await this.put(encodeRecords(batch));
    } else {
      encodeRecords(batch, this.pending.subarray(this.used));
      this.used += bytes;
    }
    this.records += batch.length;
  }

  /**
   * Finishes the stream. A file gets its header rewritten with the record count and any field
   * only known at the end (an imported log's hosts, span, clock) and is renamed over the
   * target; a pipe keeps the first header and gets the end record.
   */
  async close(final: Partial<Omit<StreamHeader, 'recordCount'>> = {}): Promise<void> {
    try {
      await this.flush();
      if (this.file) {
        await this.file.handle.write(encodeHeader({ ...this.header, ...final, recordCount: this.records }), 0, HEADER_BYTES, 0);
        await this.file.commit();
      } else {
        await this.put(endRecord(this.records));
      }
    } catch (err) {
      await this.abort();
      throw err;
    }
  }

  /**
   * Gives up: a file's temporary copy is removed (the target stays as it was); a pipe gets
   * no end record, so a reader sees a stream that was never finished.
   */
  async abort(): Promise<void> {
    await this.file?.discard();
  }

  private async flush(): Promise<void> {
    if (this.used === 0) return;
    // A pipe may hold on to the bytes after write() returns, so it gets them and the writer a new buffer.
    const bytes = this.pending.subarray(0, this.used);
    if (this.pipe) this.pending = new Uint8Array(WRITE_CHUNK);
    await this.put(bytes);
    this.used = 0;
  }

  private async put(bytes: Uint8Array): Promise<void> {
    if (this.file) {
      await this.file.handle.write(bytes, 0, bytes.length, this.position);
      this.position += bytes.length;
      return;
    }
    const pipe = this.pipe!;
    if (!pipe.write(bytes)) await new Promise<void>((resolve) => pipe.once('drain', resolve));
  }
}

/** Writes every batch of `batches` as one stream; returns the record count. Nothing is left on failure. */
export async function writeErrorStream(
  target: string | Writable,
  header: Omit<StreamHeader, 'recordCount'>,
  batches: Iterable<ErrorBatch> | AsyncIterable<ErrorBatch>,
): Promise<number> {
  const writer = await ErrorStreamWriter.create(target, header);
  try {
    for await (const batch of batches) await writer.write(batch);
  } catch (err) {
    await writer.abort();
    throw err;
  }
  await writer.close();
  return writer.recordsWritten;
}

/** A stream file's header; fails on anything but an mfrsim error stream this version reads. */
export async function readErrorStreamHeader(path: string): Promise<StreamHeader> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(HEADER_BYTES);
    const { bytesRead } = await fh.read(buf, 0, HEADER_BYTES, 0);
    return decodeHeader(buf.subarray(0, bytesRead), path);
  } finally {
    await fh.close();
  }
}

/** What a stream file holds, checked before its records are read. */
export interface StreamCheck {
  header: StreamHeader;
  /** Complete records in the file (the end record not counted). */
  records: number;
  /** The writer finished: the count in the header, or the end record, matches the file. */
  complete: boolean;
  /** Why it is not complete (null when it is). */
  problem: string | null;
  /** Bytes after the last complete record (a record cut short). */
  trailingBytes: number;
}

async function checkStream(fh: FileHandle, path: string): Promise<StreamCheck> {
  const head = Buffer.alloc(HEADER_BYTES);
  const { bytesRead } = await fh.read(head, 0, HEADER_BYTES, 0);
  const header = decodeHeader(head.subarray(0, bytesRead), path);
  const body = (await fh.stat()).size - HEADER_BYTES;
  let records = Math.floor(body / RECORD_BYTES);
  const trailingBytes = body % RECORD_BYTES;
  let announced = header.recordCount;
  if (announced === null && records > 0 && trailingBytes === 0) {
    const last = Buffer.alloc(RECORD_BYTES);
    await fh.read(last, 0, RECORD_BYTES, HEADER_BYTES + (records - 1) * RECORD_BYTES);
    if (last.subarray(0, 8).equals(MAGIC) && last.readUInt16LE(30) === END_FLAGS_CAUSE) {
      records--;
      announced = Number(last.readBigUInt64LE(8));
      if (announced !== records) {
        return { header, records, complete: false, trailingBytes, problem: `the end record counts ${announced} records but the file holds ${records}` };
      }
    }
  }
  let problem: string | null = null;
  if (announced === null) {
    problem = `the stream was never finished (record count unknown: its writer stopped before closing it); it holds ${records} complete records${trailingBytes ? ` and ${trailingBytes} bytes of a cut record` : ''}`;
  } else if (trailingBytes !== 0) {
    problem = `truncated record ${records + 1} (${trailingBytes} of ${RECORD_BYTES} bytes at the end)`;
  } else if (announced !== records) {
    problem = `the header announces ${announced} records but the file holds ${records}`;
  }
  return { header, records, complete: problem === null, problem, trailingBytes };
}

/** x86-64 physical addresses have at most 52 bits. */
const MAX_PHYS_ADDR = 2 ** 52 - 1;

/** Values a writer could never have produced: refused, naming the record. */
function checkRecords(path: string, batch: ErrorBatch, before: number): void {
  for (let i = 0; i < batch.length; i++) {
    const t = batch.time[i]!;
    const a = batch.physAddr[i]!;
    if (!Number.isFinite(t) || t < 0) throw new StreamFormatError(path, before + i + 1, `time ${t} is not a non-negative number of seconds`);
    if (a > MAX_PHYS_ADDR) throw new StreamFormatError(path, before + i + 1, `physical address 0x${a.toString(16)} is above 2^52-1`);
    if (batch.count[i] === 0) throw new StreamFormatError(path, before + i + 1, 'error count 0 (a record stands for at least one error)');
  }
}

/** Checks a stream file: its header, and whether its writer finished it. */
export async function inspectErrorStream(path: string): Promise<StreamCheck> {
  const fh = await open(path, 'r');
  try {
    return await checkStream(fh, path);
  } finally {
    await fh.close();
  }
}

/** How readErrorStream reads a stream. */
export interface ReadStreamOptions {
  /** Records per batch (default 65536). */
  batchSize?: number;
  /**
   * Read what a stream that was never finished (or was cut short) holds: its complete
   * records. Without it such a stream is an error.
   */
  salvage?: boolean;
}

/** The records of a stream file as columnar batches of at most batchSize records. */
export async function* readErrorStream(path: string, opts: ReadStreamOptions = {}): AsyncGenerator<ErrorBatch> {
  const batchSize = opts.batchSize ?? 65536;
  const fh = await open(path, 'r');
  try {
    const check = await checkStream(fh, path);
    if (!check.complete && !opts.salvage) {
      throw new StreamFormatError(path, 0, `${check.problem}${check.header.recordCount === null ? '; --salvage reads the complete records' : ''}`);
    }
    const chunk = new Uint8Array(batchSize * RECORD_BYTES);
    for (let done = 0; done < check.records; ) {
      const n = Math.min(batchSize, check.records - done);
      const want = n * RECORD_BYTES;
      let filled = 0;
      while (filled < want) {
        const { bytesRead: got } = await fh.read(chunk, filled, want - filled, HEADER_BYTES + done * RECORD_BYTES + filled);
        if (got === 0) throw new StreamFormatError(path, done + Math.floor(filled / RECORD_BYTES) + 1, 'the file shrank while it was read');
        filled += got;
      }
      const batch = decodeRecords(chunk, n);
      checkRecords(path, batch, done);
      done += n;
      yield batch;
    }
  } finally {
    await fh.close();
  }
}
