// Columnar batches of error records: what the generators and log readers produce and what
// the binary format stores. Typed arrays, never one object per record.

/** Record flag: uncorrected (else corrected). */
export const FLAG_UE = 1;
/** Record flag: found by the patrol scrubber, action optional (AO); else a read consumed it (AR). */
export const FLAG_SCRUB = 2;
/** Record flag: the log does not say whether a read or the scrubber found it. */
export const FLAG_SOURCE_UNKNOWN = 4;
/** Record flag: the fault behind it is permanent (generated streams). */
export const FLAG_PERMANENT = 8;
/** Record flag: the permanent fault is intermittent. */
export const FLAG_INTERMITTENT = 16;

/** The `dimm` of a record whose DIMM is not known. */
export const UNKNOWN_DIMM = 0xffff;
/** The `faultId` of a record whose fault is not known (imported logs). */
export const UNKNOWN_FAULT = 0xffffffff;

/** Error records as columns: record i is field[i] of each column, for i < length. */
export interface ErrorBatch {
  /** Records in the batch. */
  readonly length: number;
  /** Seconds: since the start of a generated stream, or Unix time for imported logs. */
  readonly time: Float64Array;
  /** Physical byte address (exact: x86-64 physical addresses have at most 52 bits). */
  readonly physAddr: Float64Array;
  readonly host: Uint32Array;
  /** Fault behind the record, unique within its host; UNKNOWN_FAULT for logs. */
  readonly faultId: Uint32Array;
  /** Errors the record stands for (a log line may count several). */
  readonly count: Uint32Array;
  /** DIMM within the host; UNKNOWN_DIMM when not known. */
  readonly dimm: Uint16Array;
  readonly flags: Uint8Array;
  /** The fault's mode or kind (see the cause codes in docs/error-streams.md). */
  readonly cause: Uint8Array;
}

/** Collects error records into growing columns; `view()` hands them out as an ErrorBatch. */
export class ErrorBatchBuilder {
  length = 0;
  private capacity: number;
  private time: Float64Array;
  private physAddr: Float64Array;
  private host: Uint32Array;
  private faultId: Uint32Array;
  private count: Uint32Array;
  private dimm: Uint16Array;
  private flags: Uint8Array;
  private cause: Uint8Array;

  constructor(capacity = 1024) {
    this.capacity = Math.max(1, capacity);
    this.time = new Float64Array(this.capacity);
    this.physAddr = new Float64Array(this.capacity);
    this.host = new Uint32Array(this.capacity);
    this.faultId = new Uint32Array(this.capacity);
    this.count = new Uint32Array(this.capacity);
    this.dimm = new Uint16Array(this.capacity);
    this.flags = new Uint8Array(this.capacity);
    this.cause = new Uint8Array(this.capacity);
  }

  /** Appends one record. */
  push(
    time: number,
    host: number,
    physAddr: number,
    flags: number,
    cause: number,
    dimm: number,
    faultId: number,
    count = 1,
  ): void {
    if (this.length === this.capacity) this.grow();
    const i = this.length++;
    this.time[i] = time;
    this.physAddr[i] = physAddr;
    this.host[i] = host;
    this.faultId[i] = faultId;
    this.count[i] = count;
    this.dimm[i] = dimm;
    this.flags[i] = flags;
    this.cause[i] = cause;
  }

  /** Appends record i of `src`. */
  pushFrom(src: ErrorBatch, i: number): void {
    this.push(src.time[i], src.host[i], src.physAddr[i], src.flags[i], src.cause[i], src.dimm[i], src.faultId[i], src.count[i]);
  }

  /** The records so far, as a view valid until the next push, take or clear. */
  view(): ErrorBatch {
    const n = this.length;
    return {
      length: n,
      time: this.time.subarray(0, n),
      physAddr: this.physAddr.subarray(0, n),
      host: this.host.subarray(0, n),
      faultId: this.faultId.subarray(0, n),
      count: this.count.subarray(0, n),
      dimm: this.dimm.subarray(0, n),
      flags: this.flags.subarray(0, n),
      cause: this.cause.subarray(0, n),
    };
  }

  /** Hands the records over as a batch of their own and starts empty. */
  take(): ErrorBatch {
    const n = this.length;
    const batch: ErrorBatch = {
      length: n,
      time: this.time.slice(0, n),
      physAddr: this.physAddr.slice(0, n),
      host: this.host.slice(0, n),
      faultId: this.faultId.slice(0, n),
      count: this.count.slice(0, n),
      dimm: this.dimm.slice(0, n),
      flags: this.flags.slice(0, n),
      cause: this.cause.slice(0, n),
    };
    this.length = 0;
    return batch;
  }

  /** Empties the builder, keeping its capacity. */
  clear(): void {
    this.length = 0;
  }

  private grow(): void {
    const capacity = this.capacity * 2;
    const grown = <T extends Float64Array | Uint32Array | Uint16Array | Uint8Array>(col: T, make: (n: number) => T): T => {
      const next = make(capacity);
      next.set(col);
      return next;
    };
    this.time = grown(this.time, (n) => new Float64Array(n));
    this.physAddr = grown(this.physAddr, (n) => new Float64Array(n));
    this.host = grown(this.host, (n) => new Uint32Array(n));
    this.faultId = grown(this.faultId, (n) => new Uint32Array(n));
    this.count = grown(this.count, (n) => new Uint32Array(n));
    this.dimm = grown(this.dimm, (n) => new Uint16Array(n));
    this.flags = grown(this.flags, (n) => new Uint8Array(n));
    this.cause = grown(this.cause, (n) => new Uint8Array(n));
    this.capacity = capacity;
  }
}

/** Below this many records a comparison sort beats the radix sort's fixed passes. */
const RADIX_MIN = 16384;

/**
 * The stable order of `time` (non-negative doubles), or null when already in order. Large
 * inputs use an LSD radix sort, 16 bits a pass, on the IEEE-754 bits, which order like the
 * values for non-negative doubles; the keys travel with the indices so every pass reads them
 * in sequence, and passes where all keys agree are skipped.
 */
export function timeOrder(time: Float64Array): Uint32Array | null {
  const n = time.length;
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) if (time[i] < time[i - 1]) sorted = false;
  if (sorted) return null;
  let order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (n < RADIX_MIN) return order.sort((a, b) => time[a] - time[b] || a - b);

  const words = new Uint32Array(time.buffer, time.byteOffset, n * 2);
  let lo = new Uint32Array(n);
  let hi = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    lo[i] = words[2 * i];
    hi[i] = words[2 * i + 1];
  }
  let nextOrder = new Uint32Array(n);
  let nextLo = new Uint32Array(n);
  let nextHi = new Uint32Array(n);
  const counts = new Uint32Array(65536);
  for (let pass = 0; pass < 4; pass++) {
    const keys = pass < 2 ? lo : hi;
    const shift = (pass & 1) * 16;
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[(keys[i] >>> shift) & 0xffff]++;
    if (counts[(keys[0] >>> shift) & 0xffff] === n) continue; // every key has the same digit here
    let sum = 0;
    for (let d = 0; d < 65536; d++) {
      const c = counts[d];
      counts[d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const at = counts[(keys[i] >>> shift) & 0xffff]++;
      nextOrder[at] = order[i];
      nextLo[at] = lo[i];
      nextHi[at] = hi[i];
    }
    [order, nextOrder] = [nextOrder, order];
    [lo, nextLo] = [nextLo, lo];
    [hi, nextHi] = [nextHi, hi];
  }
  return order;
}
