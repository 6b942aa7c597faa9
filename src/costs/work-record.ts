// Decodes the kernel's work records (assembly/work.ts) into the work the cost model prices.
// Record (OUT_WORK): arg = policy | WORK_RELEASE | signals << 8; a = procs | vmas << 32;
// b = leaves | splitTables << 32; pid = dissolves | their hugepage shift << 16.
import type { OutboxRecord } from '../kernel/outbox.js';
import { WORK_POLICY, type RecoveryWork } from './recovery-cost.js';

/** Set in a work record's arg for a dissolve at release rather than a memory_failure() event. */
const WORK_RELEASE = 0x80;

export function decodeWork(r: OutboxRecord): RecoveryWork {
  const lo = (x: number) => x % 2 ** 32;
  const hi = (x: number) => Math.floor(x / 2 ** 32);
  return {
    policy: WORK_POLICY[r.arg & 0x7f] ?? 'none',
    release: (r.arg & WORK_RELEASE) !== 0,
    signals: r.arg >>> 8,
    tasks: lo(r.a),
    vmas: hi(r.a),
    leaves: lo(r.b),
    splitTables: hi(r.b),
    dissolves: r.pid & 0xffff,
    hugepageShift: r.pid >>> 16,
  };
}
