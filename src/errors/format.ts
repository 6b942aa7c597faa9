// mfrsim's binary error-stream format (docs/error-streams.md): a 64-byte header, then fixed
// 32-byte little-endian records. Written and read in batches through typed-array views, so a
// stream of any size flows in constant memory.
import { open, type FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import type { Writable } from 'node:stream';
import type { ErrorBatch } from './batch.js';

export const MAGIC = Buffer.from('MFRERRS\0', 'latin1');
export const FORMAT_VERSION = 1;
export const HEADER_BYTES = 64;
export const RECORD_BYTES = 32;
/** recordCount when the writer could not go back to fill it in (a pipe). */
export const UNKNOWN_COUNT = 0xffff_ffff_ffff_ffffn;

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

export function decodeHeader(buf: Buffer, file: string): StreamHeader {
  if (buf.length < HEADER_BYTES || !buf.subarray(0, 8).equals(MAGIC)) {
    throw new Error(`${file}: not an mfrsim error stream (bad magic bytes)`);
  }
  const version = buf.readUInt16LE(8);
  if (version !== FORMAT_VERSION) throw new Error(`${file}: error-stream version ${version} is not supported (this mfrsim reads ${FORMAT_VERSION})`);
  const headerBytes = buf.readUInt16LE(10);
  const recordBytes = buf.readUInt16LE(12);
  if (headerBytes !== HEADER_BYTES || recordBytes !== RECORD_BYTES) {
    throw new Error(`${file}: unexpected header/record size ${headerBytes}/${recordBytes}`);
  }
  const count = buf.readBigUInt64LE(32);
  return {
    flags: buf.readUInt16LE(14),
    hostCount: buf.readUInt32LE(16),
    seed: buf.readUInt32LE(20),
    physBase: Number(buf.readBigUInt64LE(24)),
    recordCount: count === UNKNOWN_COUNT ? null : Number(count),
    spanSeconds: buf.readDoubleLE(40),
  };
}

/** Encodes a batch as records into `target` (or a new buffer) and returns the bytes written. */
export function encodeRecords(batch: ErrorBatch, target?: Uint8Array): Uint8Array {
  const n = batch.length;
  const bytes = target && target.byteLength >= n * RECORD_BYTES && target.byteOffset % 8 === 0 ? target : new Uint8Array(n * RECORD_BYTES);
  const f64 = new Float64Array(bytes.buffer, bytes.byteOffset, n * 4);
  const u32 = new Uint32Array(bytes.buffer, bytes.byteOffset, n * 8);
  const u16 = new Uint16Array(bytes.buffer, bytes.byteOffset, n * 16);
  const { time, physAddr, host, faultId, count, dimm, flags, cause } = batch;
  for (let i = 0; i < n; i++) {
    const addr = physAddr[i];
    f64[i * 4] = time[i];
    u32[i * 8 + 2] = addr >>> 0;
    u32[i * 8 + 3] = Math.floor(addr / 4294967296);
    u32[i * 8 + 4] = host[i];
    u32[i * 8 + 5] = faultId[i];
    u32[i * 8 + 6] = count[i];
    u16[i * 16 + 14] = dimm[i];
    bytes[i * 32 + 30] = flags[i];
    bytes[i * 32 + 31] = cause[i];
  }
  return bytes.subarray(0, n * RECORD_BYTES);
}

/** Decodes `n` records starting at byte 0 of `bytes` (8-byte aligned) into a new batch. */
export function decodeRecords(bytes: Uint8Array, n: number): ErrorBatch {
  const f64 = new Float64Array(bytes.buffer, bytes.byteOffset, n * 4);
  const u32 = new Uint32Array(bytes.buffer, bytes.byteOffset, n * 8);
  const u16 = new Uint16Array(bytes.buffer, bytes.byteOffset, n * 16);
  const batch = {
    length: n,
    time: new Float64Array(n),
    physAddr: new Float64Array(n),
    host: new Uint32Array(n),
    faultId: new Uint32Array(n),
    count: new Uint32Array(n),
    dimm: new Uint16Array(n),
    flags: new Uint8Array(n),
    cause: new Uint8Array(n),
  };
  for (let i = 0; i < n; i++) {
    batch.time[i] = f64[i * 4];
    batch.physAddr[i] = u32[i * 8 + 3] * 4294967296 + u32[i * 8 + 2];
    batch.host[i] = u32[i * 8 + 4];
    batch.faultId[i] = u32[i * 8 + 5];
    batch.count[i] = u32[i * 8 + 6];
    batch.dimm[i] = u16[i * 16 + 14];
    batch.flags[i] = bytes[i * 32 + 30];
    batch.cause[i] = bytes[i * 32 + 31];
  }
  return batch;
}

/** Bytes gathered before one write: small batches must not cost one system call each. */
const WRITE_CHUNK = 4 << 20;

/** Writes a stream to a file, or to a Writable (stdout) when the count cannot be patched in. */
export class ErrorStreamWriter {
  private records = 0;
  private pending = new Uint8Array(WRITE_CHUNK);
  private used = 0;

  private constructor(
    private readonly header: StreamHeader,
    private readonly file: FileHandle | null,
    private readonly pipe: Writable | null,
  ) {}

  /** Opens a stream file (or writes to a pipe) and writes the header. */
  static async create(target: string | Writable, header: Omit<StreamHeader, 'recordCount'>): Promise<ErrorStreamWriter> {
    const full: StreamHeader = { ...header, recordCount: null };
    const writer =
      typeof target === 'string'
        ? new ErrorStreamWriter(full, await open(target, 'w'), null)
        : new ErrorStreamWriter(full, null, target);
    await writer.put(encodeHeader(full));
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
   * Finishes the stream. In a file the header is rewritten with the record count and any
   * field only known at the end (an imported log's hosts, span, clock); a pipe keeps the first.
   */
  async close(final: Partial<Omit<StreamHeader, 'recordCount'>> = {}): Promise<void> {
    await this.flush();
    if (this.file) {
      await this.file.write(encodeHeader({ ...this.header, ...final, recordCount: this.records }), 0, HEADER_BYTES, 0);
      await this.file.close();
    }
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
      await this.file.write(bytes);
      return;
    }
    const pipe = this.pipe!;
    if (!pipe.write(bytes)) await new Promise<void>((resolve) => pipe.once('drain', resolve));
  }
}

/** Writes every batch of `batches` as one stream; returns the record count. */
export async function writeErrorStream(
  target: string | Writable,
  header: Omit<StreamHeader, 'recordCount'>,
  batches: Iterable<ErrorBatch> | AsyncIterable<ErrorBatch>,
): Promise<number> {
  const writer = await ErrorStreamWriter.create(target, header);
  try {
    for await (const batch of batches) await writer.write(batch);
  } finally {
    await writer.close();
  }
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

/** The records of a stream file as columnar batches of at most batchSize records. */
export async function* readErrorStream(path: string, opts: { batchSize?: number } = {}): AsyncGenerator<ErrorBatch> {
  const batchSize = opts.batchSize ?? 65536;
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(HEADER_BYTES);
    const { bytesRead } = await fh.read(head, 0, HEADER_BYTES, 0);
    const header = decodeHeader(head.subarray(0, bytesRead), path);
    const chunk = new Uint8Array(batchSize * RECORD_BYTES);
    let position = HEADER_BYTES;
    let records = 0;
    for (;;) {
      let filled = 0;
      while (filled < chunk.byteLength) {
        const { bytesRead: got } = await fh.read(chunk, filled, chunk.byteLength - filled, position + filled);
        if (got === 0) break;
        filled += got;
      }
      position += filled;
      const n = Math.floor(filled / RECORD_BYTES);
      if (n > 0) {
        records += n;
        yield decodeRecords(chunk, n);
      }
      if (filled % RECORD_BYTES !== 0) {
        throw new Error(`${path}: truncated record ${records} (${filled % RECORD_BYTES} of ${RECORD_BYTES} bytes at the end)`);
      }
      if (filled < chunk.byteLength) break;
    }
    if (header.recordCount !== null && header.recordCount !== records) {
      throw new Error(`${path}: the header announces ${header.recordCount} records but the file holds ${records}`);
    }
  } finally {
    await fh.close();
  }
}
