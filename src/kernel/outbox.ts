// Decodes the kernel's outbox: the signals, deaths and kernel log records a call left.
// Log records are kept as numbers and become the kernel's own log lines only when read.
import { Out, OUT_RECORD_BYTES, type KernelExports } from './kernel.js';

/** One outbox record. `a` and `b` are u64 fields, exact below 2^53 (addresses and pfns). */
export interface OutboxRecord {
  type: number;
  host: number;
  pid: number;
  arg: number;
  a: number;
  b: number;
}

/** action_page_types of mm/memory-failure.c, in the kernel's MF_MSG_* order of assembly/constants.ts. */
const PAGE_TYPE = ['huge page', 'free huge page', 'free buddy page', 'dirty LRU page', 'unsplit thp', 'get hwpoison page', 'already poisoned page'];
const RESULT = ['Ignored', 'Failed', 'Delayed', 'Recovered'];
const hex = (v: number): string => v.toString(16);

export function isLogRecord(type: number): boolean {
  return type !== Out.signal && type !== Out.killed && type !== Out.work;
}

/** The kernel log line of a log record; `comm` names a pid's task. */
export function formatLogLine(r: OutboxRecord, comm: (pid: number) => string): string {
  switch (r.type) {
    case Out.mceUser:
      return `mce: Uncorrected hardware memory error in user-access at ${hex(r.a)}`;
    case Out.inject:
      return `Injecting memory failure for pfn 0x${hex(r.a)} at process virtual address 0x${hex(r.b)}`;
    case Out.panic:
      return `Kernel panic - not syncing: Memory failure on page ${hex(r.a)}`;
    case Out.sending:
      return `Memory failure: 0x${hex(r.a)}: Sending SIGBUS to ${comm(r.pid)}:${r.pid} due to hardware memory corruption`;
    case Out.recovery:
      return `Memory failure: 0x${hex(r.a)}: recovery action for ${PAGE_TYPE[r.arg & 0xff]}: ${RESULT[r.arg >>> 8]}`;
    case Out.notRecovered:
      return 'mce: Memory error not recovered';
    case Out.killing:
      // arch/x86/mm/fault.c do_sigbus
      return `MCE: Killing ${comm(r.pid)}:${r.pid} due to hardware memory corruption fault at ${hex(r.a)}`;
    case Out.refcountUnderflow:
      // mm/page_alloc.c bad_page(), for the first page freed with the underflowed count
      return `BUG: Bad page state in process ${comm(r.pid)}  pfn:${hex(r.a).padStart(5, '0')}`;
    default:
      throw new Error(`mfrsim: unknown kernel log record type ${r.type}`);
  }
}

/** Reads and clears the outbox, handing each record to `sink` in order (the record is reused). */
export function drainOutbox(k: KernelExports, sink: (r: OutboxRecord) => void): void {
  const n = k.outbox_count();
  if (n === 0) return;
  const words = new Uint32Array(k.memory.buffer, k.outbox_ptr(), (n * OUT_RECORD_BYTES) / 4);
  const r: OutboxRecord = { type: 0, host: 0, pid: 0, arg: 0, a: 0, b: 0 };
  for (let i = 0, w = 0; i < n; i++, w += OUT_RECORD_BYTES / 4) {
    r.type = words[w]!;
    r.host = words[w + 1]!;
    r.pid = words[w + 2]!;
    r.arg = words[w + 3]!;
    r.a = words[w + 5]! * 2 ** 32 + words[w + 4]!;
    r.b = words[w + 7]! * 2 ** 32 + words[w + 6]!;
    sink(r);
  }
  k.outbox_clear();
}
