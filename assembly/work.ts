// The kernel work one memory_failure() event does, counted as it happens and reported as
// one outbox record per recovery event (the host prices it with the recovery cost model):
// tasks walked to collect victims, their VMAs that map the page, leaves changed (unmaps,
// HWPOISON entries: each a TLB shootdown, and under DEFAULT a KVM stage-2 zap), page-table
// pages allocated by splits, signals, and hugepages dissolved with their vmemmap restored.
// Record (OUT_WORK): arg = policy | signals << 8; a = procs | vmas << 32;
// b = leaves | splitTables << 32; the dissolve count rides in the pid field.

import { OUT_WORK } from './constants';
import { outbox_push } from './outbox';

let procs: u32 = 0;
let vmas: u32 = 0;
let leaves: u32 = 0;
let splitTables: u32 = 0;
let signals: u32 = 0;
let dissolves: u32 = 0;

export function work_begin(): void {
  procs = 0;
  vmas = 0;
  leaves = 0;
  splitTables = 0;
  signals = 0;
  dissolves = 0;
}

export function work_procs(n: u32): void { procs += n; }
export function work_vma(): void { vmas++; }
export function work_leaf(): void { leaves++; }
export function work_split_table(): void { splitTables++; }
export function work_signal(): void { signals++; }
export function work_dissolve(): void { dissolves++; }

export function work_end(h: u32, policy: u32): void {
  outbox_push(OUT_WORK, h, dissolves, policy | (signals << 8), <u64>procs | (<u64>vmas << 32), <u64>leaves | (<u64>splitTables << 32));
}
