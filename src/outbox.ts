// Decodes the kernel's outbox: the signals, deaths and kernel log records a call left.
// Log records become the kernel's own log lines.
import { Out, OUT_RECORD_BYTES, type KernelExports } from './kernel.js';
import type { Signal } from './types.js';

export type OutboxRecord =
  | { kind: 'signal'; host: number; pid: number; signal: Signal }
  | { kind: 'killed'; host: number; pid: number }
  | { kind: 'log'; host: number; pid: number; line: (comm: (pid: number) => string) => string };

const PAGE_TYPE = ['huge page', 'free huge page', 'free buddy page'];
const RESULT = ['Ignored', 'Failed', 'Delayed', 'Recovered'];
const hex = (v: bigint): string => v.toString(16);

function decode(type: number, host: number, pid: number, arg: number, a: bigint, b: bigint): OutboxRecord {
  const log = (line: (comm: (pid: number) => string) => string): OutboxRecord => ({ kind: 'log', host, pid, line });
  switch (type) {
    case Out.signal:
      return { kind: 'signal', host, pid, signal: { signo: 7, code: arg & 0xffff, addr: a, addrLsb: arg >>> 16 } };
    case Out.killed:
      return { kind: 'killed', host, pid };
    case Out.mceUser:
      return log(() => `mce: Uncorrected hardware memory error in user-access at ${hex(a)}`);
    case Out.inject:
      return log(() => `Injecting memory failure for pfn 0x${hex(a)} at process virtual address 0x${hex(b)}`);
    case Out.panic:
      return log(() => `Kernel panic - not syncing: Memory failure on page ${hex(a)}`);
    case Out.already:
      return log(() => `Memory failure: 0x${hex(a)}: already hardware poisoned`);
    case Out.sending:
      return log((comm) => `Memory failure: 0x${hex(a)}: Sending SIGBUS to ${comm(pid)}:${pid} due to hardware memory corruption`);
    case Out.recovery:
      return log(() => `Memory failure: 0x${hex(a)}: recovery action for ${PAGE_TYPE[arg & 0xff]}: ${RESULT[arg >>> 8]}`);
    case Out.notRecovered:
      return log(() => 'mce: Memory error not recovered');
    default:
      throw new Error(`mfrsim: unknown kernel outbox record type ${type}`);
  }
}

/** Reads and clears the outbox, handing each record to `sink` in order. */
export function drainOutbox(k: KernelExports, sink: (r: OutboxRecord) => void): void {
  const n = k.outbox_count();
  if (n === 0) return;
  const view = new DataView(k.memory.buffer, k.outbox_ptr(), n * OUT_RECORD_BYTES);
  for (let i = 0; i < n; i++) {
    const r = i * OUT_RECORD_BYTES;
    sink(decode(
      view.getUint32(r, true), view.getUint32(r + 4, true), view.getUint32(r + 8, true),
      view.getUint32(r + 12, true), view.getBigUint64(r + 16, true), view.getBigUint64(r + 24, true),
    ));
  }
  k.outbox_clear();
}
