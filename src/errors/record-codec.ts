// The 32-byte record of mfrsim's error-stream format (format.ts): time (f64), physical
// address (u64), host, fault id and count (u32), DIMM (u16), flags and cause (u8). Encoding
// and decoding need no file system, so the generator's external sort uses them in browsers too.
import type { ErrorBatch } from './batch.js';

/** Bytes per record. */
export const RECORD_BYTES = 32;

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
