// Byte sources: a trace file read sequentially into the caller's buffer, decompressing xz on
// the fly. Readers own one large buffer and refill it, so memory stays constant whatever the
// file size and no chunk is allocated per read for plain files.
import { open, type FileHandle } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { CompressedDataError } from './errors.js';

export interface ByteSource {
  /** Reads up to `length` bytes into `into` at `offset`; resolves to 0 at the end. */
  read(into: Uint8Array, offset: number, length: number): Promise<number>;
  /** Bytes consumed from the file on disk (compressed bytes for xz). */
  readonly bytesRead: number;
  readonly compressed: boolean;
  close(): Promise<void>;
}

// xz-decompress is a webpack UMD bundle that marks itself __esModule, so a default import
// resolves differently under Node's ESM loader and under CommonJS transpilers; require is
// the same everywhere. It loads with the first xz file, not with every trace reader.
const requireXz = () => (createRequire(import.meta.url)('xz-decompress') as typeof import('xz-decompress')).XzReadableStream;

const XZ_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
/** Bytes per read of readAhead. */
const READ_AHEAD_CHUNK = 4 << 20;
const XZ_INPUT_CHUNK = 1 << 20;

export async function openByteSource(path: string): Promise<ByteSource> {
  const file = await open(path, 'r');
  try {
    const head = new Uint8Array(XZ_MAGIC.length);
    const { bytesRead } = await file.read(head, 0, head.length, 0);
    const isXz = bytesRead === head.length && XZ_MAGIC.every((b, i) => head[i] === b);
    return isXz ? new XzSource(file) : new FileSource(file);
  } catch (err) {
    await file.close();
    throw err;
  }
}

/** Reads `length` bytes unless the source ends first; resolves to the count read. */
export async function readFully(
  source: ByteSource,
  into: Uint8Array,
  offset: number,
  length: number,
): Promise<number> {
  let done = 0;
  while (done < length) {
    const n = await source.read(into, offset + done, length - done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

class FileSource implements ByteSource {
  readonly compressed = false;
  bytesRead = 0;

  constructor(private readonly file: FileHandle) {}

  async read(into: Uint8Array, offset: number, length: number): Promise<number> {
    const { bytesRead } = await this.file.read(into, offset, length, this.bytesRead);
    this.bytesRead += bytesRead;
    return bytesRead;
  }

  close(): Promise<void> {
    return this.file.close();
  }
}

/**
 * xz-decompress decodes one stream at a time per thread (its contexts share decoder state, so
 * it serialises them behind a lock): a stream must be read to the end or closed before another
 * can start. The decoder is only started by the first read, so opening a source to look at
 * its metadata does not take the lock.
 */
class XzSource implements ByteSource {
  readonly compressed = true;
  bytesRead = 0;
  private output: ReadableStreamDefaultReader<Uint8Array> | undefined;
  private pending: Uint8Array = new Uint8Array(0);
  private decoded = 0;
  private ended = false;

  constructor(private readonly file: FileHandle) {}

  async read(into: Uint8Array, offset: number, length: number): Promise<number> {
    this.output ??= this.startDecoder();
    while (this.pending.length === 0) {
      if (this.ended) return 0;
      let next;
      try {
        next = await this.output.read();
      } catch (err) {
        this.ended = true;
        throw new CompressedDataError(err, this.decoded);
      }
      if (next.done) {
        this.ended = true;
      } else {
        this.pending = next.value;
        this.decoded += next.value.length;
      }
    }
    const n = Math.min(length, this.pending.length);
    into.set(this.pending.subarray(0, n), offset);
    this.pending = this.pending.subarray(n);
    return n;
  }

  async close(): Promise<void> {
    // Cancelling releases the decoder's lock when the stream was not drained.
    if (this.output && !this.ended) await this.output.cancel().catch(() => undefined);
    this.ended = true;
    await this.file.close();
  }

  private startDecoder(): ReadableStreamDefaultReader<Uint8Array> {
    const compressed = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        // A fresh chunk per pull: the decoder keeps slices of its input across pulls.
        const chunk = new Uint8Array(XZ_INPUT_CHUNK);
        const { bytesRead } = await this.file.read(chunk, 0, chunk.length, this.bytesRead);
        if (bytesRead === 0) {
          controller.close();
          return;
        }
        this.bytesRead += bytesRead;
        controller.enqueue(chunk.subarray(0, bytesRead));
      },
    });
    return new (requireXz())(compressed).getReader();
  }
}

/**
 * Reads `source` ahead in large chunks, the next one in flight while the caller consumes
 * this one, so that a reader making small reads (a binary trace's block headers and blocks)
 * does not wait on the disk between them.
 */
export function readAhead(source: ByteSource, chunkSize = READ_AHEAD_CHUNK): ByteSource {
  let current = new Uint8Array(chunkSize);
  let spare = new Uint8Array(chunkSize);
  let length = 0;
  let pos = 0;
  /** Set once a chunk came back short: the end, or a failure to throw after its bytes. */
  let last: { error: unknown } | null = null;
  // A failure is kept with the bytes read before it (a read ahead may never be awaited).
  const fetch = async (into: Uint8Array): Promise<{ bytes: number; failed: { error: unknown } | null }> => {
    let bytes = 0;
    try {
      while (bytes < chunkSize) {
        const n = await source.read(into, bytes, chunkSize - bytes);
        if (n === 0) break;
        bytes += n;
      }
      return { bytes, failed: null };
    } catch (error) {
      return { bytes, failed: { error } };
    }
  };
  let next: ReturnType<typeof fetch> | null = fetch(spare);
  return {
    compressed: source.compressed,
    get bytesRead() {
      return source.bytesRead;
    },
    async read(into, offset, want) {
      if (pos === length) {
        if (last) {
          if (last.error !== undefined) throw last.error;
          return 0;
        }
        const { bytes, failed } = await next!;
        [current, spare] = [spare, current];
        length = bytes;
        pos = 0;
        if (failed) last = failed;
        else if (bytes < chunkSize) last = { error: undefined };
        next = last ? null : fetch(spare);
        if (bytes === 0) return this.read(into, offset, want);
      }
      const n = Math.min(want, length - pos);
      into.set(current.subarray(pos, pos + n), offset);
      pos += n;
      return n;
    },
    async close() {
      await next;
      await source.close();
    },
  };
}

/** A source over bytes already in memory (format detection runs parsers on a sample). */
export function memorySource(bytes: Uint8Array): ByteSource {
  let pos = 0;
  return {
    compressed: false,
    get bytesRead() {
      return pos;
    },
    async read(into, offset, length) {
      const n = Math.min(length, bytes.length - pos);
      into.set(bytes.subarray(pos, pos + n), offset);
      pos += n;
      return n;
    },
    async close() {},
  };
}
