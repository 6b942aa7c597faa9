// ChampSim binary traces (plain or .xz): 64-byte little-endian records, no header:
//   u64 ip; u8 is_branch; u8 branch_taken; u8 dest_regs[2]; u8 src_regs[4];
//   u64 dest_mem[2]; u64 src_mem[4]          (0 = unused; virtual addresses)
// Each non-zero src_mem is a read and each non-zero dest_mem a write, reads first as ChampSim
// issues loads before stores. The ip is not emitted as an instruction fetch: instruction
// pages are not HugeTLB memory, and ChampSim models fetch in its own front end.
import { pushAccess } from './batch.js';
import { requireLittleEndianHost } from './endian.js';
import { CompressedDataError, TraceFormatError } from './errors.js';
import { readFully, type ByteSource } from './source.js';
import { ACCESS_READ, ACCESS_WRITE, type AccessBatch } from './types.js';

const CHAMPSIM_RECORD_SIZE = 64;
const RECORDS_PER_CHUNK = 1 << 16;
const MAX_EVENTS_PER_RECORD = 6;
const WORDS_PER_RECORD = CHAMPSIM_RECORD_SIZE / 4;
const DEST_MEM_WORD = 4;
const SRC_MEM_WORD = 8;
const IS_BRANCH_BYTE = 8;
const BRANCH_TAKEN_BYTE = 9;
/** A high word above this makes the address exceed 2^53-1. */
const MAX_HIGH_WORD = 0x1fffff;

interface ChampsimState {
  /** Records decoded before the current chunk. */
  recordsBefore: number;
  eventIndex: number;
}

export async function* champsimBatches(
  source: ByteSource,
  file: string,
  batch: AccessBatch,
): AsyncGenerator<AccessBatch, void, undefined> {
  requireLittleEndianHost();
  // An ArrayBuffer of its own keeps records 4-byte aligned for the Uint32Array view.
  const chunk = new Uint8Array(RECORDS_PER_CHUNK * CHAMPSIM_RECORD_SIZE);
  const words = new Uint32Array(chunk.buffer);
  const state: ChampsimState = { recordsBefore: 0, eventIndex: 0 };
  const flushAbove = batch.addr.length - MAX_EVENTS_PER_RECORD;
  batch.length = 0;
  for (;;) {
    let got: number;
    try {
      got = await readFully(source, chunk, 0, chunk.length);
    } catch (err) {
      // The record the decoder was producing when it failed.
      if (err instanceof CompressedDataError) {
        throw new TraceFormatError(file, Math.floor(err.offset / CHAMPSIM_RECORD_SIZE) + 1, err.message);
      }
      throw err;
    }
    const records = Math.floor(got / CHAMPSIM_RECORD_SIZE);
    let next = 0;
    while (next < records) {
      next = decodeRecords(file, chunk, words, next, records, batch, flushAbove, state);
      if (batch.length > flushAbove) {
        yield batch;
        batch.length = 0;
      }
    }
    state.recordsBefore += records;
    const partial = got - records * CHAMPSIM_RECORD_SIZE;
    if (partial > 0) {
      throw new TraceFormatError(
        file,
        state.recordsBefore + 1,
        `truncated record (${partial} of ${CHAMPSIM_RECORD_SIZE} bytes)`,
      );
    }
    if (got < chunk.length) break;
  }
  if (batch.length > 0) yield batch;
}

/** Decodes records [first, end) of the chunk until the batch fills; returns the next record. */
function decodeRecords(
  file: string,
  bytes: Uint8Array,
  words: Uint32Array,
  first: number,
  end: number,
  batch: AccessBatch,
  flushAbove: number,
  state: ChampsimState,
): number {
  let r = first;
  for (; r < end && batch.length <= flushAbove; r++) {
    const base = r * CHAMPSIM_RECORD_SIZE;
    if (bytes[base + IS_BRANCH_BYTE] > 1 || bytes[base + BRANCH_TAKEN_BYTE] > 1) {
      throw new TraceFormatError(
        file,
        state.recordsBefore + r + 1,
        `is_branch/branch_taken bytes are ${bytes[base + IS_BRANCH_BYTE]}/${bytes[base + BRANCH_TAKEN_BYTE]}, ` +
          'expected 0 or 1 (not a ChampSim trace?)',
      );
    }
    const w = r * WORDS_PER_RECORD;
    for (let i = 0; i < 4; i++) emit(file, words, w + SRC_MEM_WORD + 2 * i, ACCESS_READ, batch, state, r);
    for (let i = 0; i < 2; i++) emit(file, words, w + DEST_MEM_WORD + 2 * i, ACCESS_WRITE, batch, state, r);
  }
  return r;
}

function emit(
  file: string,
  words: Uint32Array,
  word: number,
  kind: number,
  batch: AccessBatch,
  state: ChampsimState,
  record: number,
): void {
  const low = words[word];
  const high = words[word + 1];
  if (low === 0 && high === 0) return;
  if (high > MAX_HIGH_WORD) {
    const addr = (BigInt(high) << 32n) | BigInt(low);
    throw new TraceFormatError(file, state.recordsBefore + record + 1, `address 0x${addr.toString(16)} is above 2^53-1`);
  }
  pushAccess(batch, high * 0x100000000 + low, kind, 0, state.eventIndex++);
}
