// Shapes shared by every access-trace reader. Readers emit columnar batches that the replay
// loop copies straight into wasm linear memory, so every column is a plain typed array.
import type { HugepageSize } from '../host/types.js';

/** The access-trace formats mfrsim reads (see docs/formats.md). */
export type TraceFormat =
  | 'lackey'
  | 'ramulator1-dram'
  | 'ramulator1-cpu'
  | 'ramulator2'
  | 'dramsim3'
  | 'champsim'
  | 'perf'
  | 'mfrsim';

/** Every trace format, in the order `mfrsim convert --help` lists them. */
export const TRACE_FORMATS: readonly TraceFormat[] = [
  'lackey',
  'ramulator1-dram',
  'ramulator1-cpu',
  'ramulator2',
  'dramsim3',
  'champsim',
  'perf',
  'mfrsim',
];

/** Bytes of each hugepage size. */
export const HUGEPAGE_BYTES: Record<HugepageSize, number> = { '2M': 2 << 20, '1G': 1 << 30 };

/** Values of the `kind` column. */
export const ACCESS_READ = 0;
/** A store. */
export const ACCESS_WRITE = 1;
/** An instruction fetch. */
export const ACCESS_IFETCH = 2;

/**
 * A batch of accesses, one column per field; `length` events are valid, the capacity is the
 * arrays' length. A reader reuses the same batch for every yield: consume (or copy) it before
 * asking for the next one.
 */
export interface AccessBatch {
  length: number;
  /** Byte address: virtual, or physical when `physical` is set. Always an integer <= 2^53-1. */
  addr: Float64Array;
  /** ACCESS_READ, ACCESS_WRITE or ACCESS_IFETCH. */
  kind: Uint8Array;
  /** Access size in bytes; 0 when the format does not say. */
  size: Uint16Array;
  /** The trace's own clock (cycle, instruction count) or, without one, the event's index. */
  time: Float64Array;
  /** Sample period for sampled traces, else 1. */
  weight: Float64Array;
  /** Size in bytes of the page that backs the access when the trace records it, else 0. */
  pageSize: Uint32Array;
  /** Addresses are physical (perf with phys_addr) rather than virtual. */
  readonly physical: boolean;
}

/**
 * Which columns a trace actually carries. A column a trace lacks is filled with its default:
 * size 0, time = event index, weight 1, pageSize 0.
 */
export interface TraceColumns {
  size: boolean;
  time: boolean;
  weight: boolean;
  pageSize: boolean;
}

/** An opened trace: iterate it for batches (each iteration reads the file from the start). */
export interface TraceReader extends AsyncIterable<AccessBatch> {
  readonly path: string;
  readonly format: TraceFormat;
  /**
   * The file is xz-compressed (decompressed while streaming). One xz stream decodes at a
   * time per thread: iterate xz traces one after another, not interleaved.
   */
  readonly compressed: boolean;
  readonly physical: boolean;
  readonly columns: TraceColumns;
  /** Size of the file on disk, in bytes. */
  readonly fileSize: number;
  /** Bytes of the file on disk consumed so far by the running iteration (for progress bars). */
  readonly bytesRead: number;
  /** Records read but not turned into events (perf samples without a physical address). */
  readonly skippedRecords: number;
  /** Number of events, when the file says so up front (mfrsim binary traces). */
  readonly eventCount?: number;
  /** Lowest and highest address, when the file says so up front (mfrsim binary traces). */
  readonly addressRange?: { min: number; max: number };
  /**
   * After an iteration with `salvage`: how many events an unfinished or damaged mfrsim trace
   * gave and where reading stopped; null when the trace was complete.
   */
  readonly salvaged: { events: number; stoppedAt: string } | null;
}

/** How `openTrace` opens a trace. */
export interface OpenTraceOptions {
  /** The format (default 'auto': detected from the name and the first bytes). */
  format?: TraceFormat | 'auto';
  /** Events per batch (default 65536, at least 64). */
  batchSize?: number;
  /**
   * Read the complete blocks of an mfrsim trace whose writer never finished, or that is cut
   * short; without it such a trace is an error. The reader's `salvaged` says what it got.
   */
  salvage?: boolean;
}
