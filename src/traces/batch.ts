// Allocating and filling access batches.
import type { AccessBatch } from './types.js';

/** Events per batch unless told otherwise. */
export const DEFAULT_BATCH_SIZE = 65536;
/** Readers append up to 6 events per record (a ChampSim instruction), so batches need room. */
export const MIN_BATCH_SIZE = 64;

/**
 * A batch with weight 1 and pageSize 0 throughout: readers of formats without those columns
 * never write them (a batch serves one reader).
 */
export function createAccessBatch(capacity: number, physical: boolean): AccessBatch {
  checkBatchSize(capacity);
  return {
    length: 0,
    addr: new Float64Array(capacity),
    kind: new Uint8Array(capacity),
    size: new Uint16Array(capacity),
    time: new Float64Array(capacity),
    weight: new Float64Array(capacity).fill(1),
    pageSize: new Uint32Array(capacity),
    physical,
  };
}

export function checkBatchSize(capacity: number): void {
  if (!Number.isInteger(capacity) || capacity < MIN_BATCH_SIZE) {
    throw new RangeError(`batch size must be an integer >= ${MIN_BATCH_SIZE}, got ${capacity}`);
  }
}

/** Appends one event, leaving weight and pageSize at 1 and 0; the caller guarantees room. */
export function pushAccess(batch: AccessBatch, addr: number, kind: number, size: number, time: number): void {
  const i = batch.length;
  batch.addr[i] = addr;
  batch.kind[i] = kind;
  batch.size[i] = size;
  batch.time[i] = time;
  batch.length = i + 1;
}

/** Appends one event of a sampled trace (perf), which has a weight and page size. */
export function pushSample(
  batch: AccessBatch,
  addr: number,
  kind: number,
  weight: number,
  pageSize: number,
  time: number,
): void {
  const i = batch.length;
  batch.addr[i] = addr;
  batch.kind[i] = kind;
  batch.size[i] = 0;
  batch.time[i] = time;
  batch.weight[i] = weight;
  batch.pageSize[i] = pageSize;
  batch.length = i + 1;
}
