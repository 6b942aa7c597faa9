// openTrace: picks the reader for a file's format and streams it as batches.
import { stat } from 'node:fs/promises';
import { DEFAULT_BATCH_SIZE, checkBatchSize, createAccessBatch } from './batch.js';
import { mfrsimBatches, readMfrsimHeader, type MfrsimHeader, type SalvageReport } from './binary.js';
import { champsimBatches } from './champsim.js';
import { detectTrace } from './detect.js';
import { TraceFormatError } from './errors.js';
import { FORMAT_COLUMNS, TEXT_PARSERS, isTextFormat, isTraceFormat } from './formats.js';
import { LineScanner, lineBatches, type LineParser } from './lines.js';
import { openByteSource, readAhead, type ByteSource } from './source.js';
import type { AccessBatch, OpenTraceOptions, TraceColumns, TraceFormat, TraceReader } from './types.js';

/**
 * Opens a trace: detects its format unless given, and reads the header of an mfrsim trace.
 * Iterating the result streams the file from the start in batches of `batchSize` events.
 */
export async function openTrace(path: string, options: OpenTraceOptions = {}): Promise<TraceReader> {
  const requested = options.format ?? 'auto';
  if (requested !== 'auto' && !isTraceFormat(requested)) throw new Error(`unknown trace format '${requested}'`);
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  checkBatchSize(batchSize);
  const detection = requested === 'auto' ? await detectTrace(path) : null;
  const format = detection?.format ?? (requested as TraceFormat);
  const { size } = await stat(path);

  const probe = await openByteSource(path);
  let header: MfrsimHeader | undefined;
  try {
    if (format === 'mfrsim') header = await readMfrsimHeader(probe, path, options.salvage);
  } finally {
    await probe.close();
  }
  return new FileTrace(path, format, probe.compressed, size, batchSize, header, detection?.basis ?? null, options.salvage ?? false);
}

class FileTrace implements TraceReader {
  readonly physical: boolean;
  readonly columns: TraceColumns;
  readonly eventCount?: number;
  readonly addressRange?: { min: number; max: number };
  salvaged: SalvageReport | null = null;
  private source: ByteSource | undefined;
  private parser: LineParser | undefined;

  constructor(
    readonly path: string,
    readonly format: TraceFormat,
    readonly compressed: boolean,
    readonly fileSize: number,
    private readonly batchSize: number,
    header: MfrsimHeader | undefined,
    /** How --format auto chose the format (null when it was given). */
    readonly detectedBy: string | null,
    private readonly salvage: boolean,
  ) {
    if (header) {
      this.physical = header.physical;
      this.columns = header.columns;
      if (header.eventCount !== null) {
        this.eventCount = header.eventCount;
        this.addressRange = { min: header.minAddr, max: header.maxAddr };
      }
    } else {
      this.physical = format === 'perf';
      this.columns = { ...FORMAT_COLUMNS[format as Exclude<TraceFormat, 'mfrsim'>] };
    }
  }

  get bytesRead(): number {
    return this.source?.bytesRead ?? 0;
  }

  get skippedRecords(): number {
    return this.parser?.skipped ?? 0;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<AccessBatch, void, undefined> {
    const source = await openByteSource(this.path);
    this.source = source;
    try {
      const batch = createAccessBatch(this.batchSize, this.physical);
      if (this.format === 'champsim') {
        yield* champsimBatches(source, this.path, batch);
      } else if (this.format === 'mfrsim') {
        this.salvaged = null;
        yield* mfrsimBatches(readAhead(source), this.path, batch, { salvage: this.salvage, onSalvage: (r) => (this.salvaged = r) });
      } else if (isTextFormat(this.format)) {
        this.parser = TEXT_PARSERS[this.format]();
        yield* lineBatches(new LineScanner(source, this.path), this.parser, batch);
      }
    } catch (err) {
      // A later line that fails a detected format: say which format and why it was chosen.
      if (err instanceof TraceFormatError && this.detectedBy !== null && err.line > 0) {
        throw new TraceFormatError(err.file, err.line, `${err.reason} (read as ${this.format}, detected from ${this.detectedBy}; pass --format if it is another format)`);
      }
      throw err;
    } finally {
      await source.close();
    }
  }
}
