// One host's records in time order, in bounded memory. A host's records are collected as
// the simulator writes them; past RUN_RECORDS they are sorted in runs written to a
// temporary file, and the runs are merged FAN_IN at a time (ties go to the earlier run)
// until one remains. The result is the stable sort of the records by time, as for a host
// that fits in memory, whatever the host's record count (an incident rate of 10^6 per
// host-year gives billions). The runs go to scratch storage: a temporary file in Node,
// memory in a browser.
import { SpillFile } from '#platform/spill';
import { ErrorBatchBuilder, timeOrder, type ErrorBatch } from './batch.js';
import { RECORD_BYTES, decodeRecords, encodeRecords } from './record-codec.js';

/** Records sorted in memory at once (32 MiB of columns). */
const RUN_RECORDS = 1 << 20;
/** Runs merged at once, each read CHUNK_RECORDS at a time. */
const FAN_IN = 32;
const CHUNK_RECORDS = 8192;

interface Run {
  /** Byte offset in the spill file, and records. */
  at: number;
  records: number;
}

/** Collects one host's records (the simulator writes them here) and hands them back by time. */
export class HostRecordSorter extends ErrorBatchBuilder {
  private runs: Run[] = [];
  private spillFile: SpillFile | null = null;
  private end = 0;

  constructor(private readonly runRecords = RUN_RECORDS) {
    super(1024);
  }

  override push(time: number, host: number, physAddr: number, flags: number, cause: number, dimm: number, faultId: number, count = 1): void {
    if (this.length >= this.runRecords) this.spill();
    super.push(time, host, physAddr, flags, cause, dimm, faultId, count);
  }

  /** The records collected since the last drain, in time order (stable), appended to `out`. */
  *drain(out: ErrorBatchBuilder, batchSize: number): Generator<ErrorBatch> {
    try {
      if (this.runs.length === 0) {
        const records = this.view();
        const order = timeOrder(records.time);
        for (let i = 0; i < records.length; i++) {
          out.pushFrom(records, order ? order[i]! : i);
          if (out.length === batchSize) yield out.take();
        }
        return;
      }
      if (this.length > 0) this.spill();
      while (this.runs.length > FAN_IN) {
        const merged: Run[] = [];
        for (let i = 0; i < this.runs.length; i += FAN_IN) merged.push(this.mergeToRun(this.runs.slice(i, i + FAN_IN)));
        this.runs = merged;
      }
      for (const batch of this.merge(this.runs, batchSize)) {
        for (let i = 0; i < batch.length; i++) {
          out.pushFrom(batch, i);
          if (out.length === batchSize) yield out.take();
        }
      }
    } finally {
      this.reset();
    }
  }

  /** Sorts what is in memory and writes it as a run. */
  private spill(): void {
    const records = this.view();
    const order = timeOrder(records.time);
    const chunk = new ErrorBatchBuilder(CHUNK_RECORDS);
    const run: Run = { at: this.end, records: records.length };
    for (let i = 0; i < records.length; i++) {
      chunk.pushFrom(records, order ? order[i]! : i);
      if (chunk.length === CHUNK_RECORDS || i === records.length - 1) this.write(chunk.take());
    }
    this.runs.push(run);
    this.clear();
  }

  private write(batch: ErrorBatch): void {
    this.spillFile ??= new SpillFile();
    const bytes = encodeRecords(batch);
    this.spillFile.write(bytes, this.end);
    this.end += bytes.byteLength;
  }

  /** Merges `runs` into one new run at the end of the file. */
  private mergeToRun(runs: Run[]): Run {
    const run: Run = { at: this.end, records: runs.reduce((n, r) => n + r.records, 0) };
    for (const batch of this.merge(runs, CHUNK_RECORDS)) this.write(batch);
    return run;
  }

  /** The records of `runs` in time order, ties to the earlier run, in batches of at most `size`. */
  private *merge(runs: Run[], size: number): Generator<ErrorBatch> {
    const readers = runs.map((r) => new RunReader(this.spillFile!, r));
    // A binary heap of reader indices by (current time, run index).
    const heap: number[] = [];
    const less = (a: number, b: number) => {
      const ta = readers[a]!.time();
      const tb = readers[b]!.time();
      return ta < tb || (ta === tb && a < b);
    };
    const up = (i: number) => {
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!less(heap[i]!, heap[parent]!)) break;
        [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
        i = parent;
      }
    };
    const down = (i: number) => {
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
        if (m === i) return;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    };
    readers.forEach((reader, i) => {
      if (!reader.done()) {
        heap.push(i);
        up(heap.length - 1);
      }
    });
    const out = new ErrorBatchBuilder(size);
    while (heap.length > 0) {
      const reader = readers[heap[0]!]!;
      reader.emit(out);
      if (out.length === size) yield out.take();
      if (reader.done()) {
        heap[0] = heap[heap.length - 1]!;
        heap.pop();
      }
      if (heap.length > 0) down(0);
    }
    if (out.length > 0) yield out.take();
  }

  private reset(): void {
    this.clear();
    this.runs = [];
    this.end = 0;
    this.spillFile?.close();
    this.spillFile = null;
  }
}

/** Reads one sorted run back, CHUNK_RECORDS at a time. */
class RunReader {
  private batch: ErrorBatch | null = null;
  private pos = 0;
  private read = 0;
  private readonly buf = new Uint8Array(CHUNK_RECORDS * RECORD_BYTES);

  constructor(private readonly file: SpillFile, private readonly run: Run) {
    this.fill();
  }

  done(): boolean {
    return this.batch === null;
  }

  time(): number {
    return this.batch!.time[this.pos]!;
  }

  /** Appends the current record to `out` and moves to the next. */
  emit(out: ErrorBatchBuilder): void {
    out.pushFrom(this.batch!, this.pos);
    if (++this.pos === this.batch!.length) this.fill();
  }

  private fill(): void {
    const n = Math.min(CHUNK_RECORDS, this.run.records - this.read);
    if (n === 0) {
      this.batch = null;
      return;
    }
    this.file.read(this.buf.subarray(0, n * RECORD_BYTES), this.run.at + this.read * RECORD_BYTES);
    this.batch = decodeRecords(this.buf, n);
    this.read += n;
    this.pos = 0;
  }
}
