// The kernel work one memory_failure() event does, counted as it happens and reported as
// one outbox record per recovery event (the host prices it with the recovery cost model):
// tasks walked to collect victims, their VMAs that map the page, leaves changed (unmaps,
// HWPOISON entries: each a TLB shootdown, and under DEFAULT a KVM stage-2 zap), page-table
// pages allocated by splits, signals, and hugepages dissolved. A poisoned hugepage that is
// dissolved later, when its file lets go of it (KEEP and HGM defer that work to release),
// gets a record of its own. With HVO the host counts the vmemmap each dissolve re-allocates.
// Record (OUT_WORK): arg = policy | WORK_RELEASE | signals << 8; a = procs | vmas << 32;
// b = leaves | splitTables << 32; pid = dissolves | their hugepage shift << 16.

import { HPAGE_1G_SHIFT, HPAGE_2M_SHIFT, OUT_WORK, SC_1G } from './constants';
import { outbox_push } from './outbox';

/** Marks a work record as a release-time dissolve. */
const WORK_RELEASE: u32 = 0x80;

let procs: u32 = 0;
let vmas: u32 = 0;
let leaves: u32 = 0;
let splitTables: u32 = 0;
let signals: u32 = 0;
let dissolves: u32 = 0;
let dissolveShift: u32 = 0;

function hugepage_shift(sc: u32): u32 {
  return sc == SC_1G ? HPAGE_1G_SHIFT : HPAGE_2M_SHIFT;
}

export function work_begin(): void {
  procs = 0;
  vmas = 0;
  leaves = 0;
  splitTables = 0;
  signals = 0;
  dissolves = 0;
  dissolveShift = 0;
}

export function work_procs(n: u32): void { procs += n; }
export function work_vma(): void { vmas++; }
export function work_leaf(): void { leaves++; }
export function work_split_table(): void { splitTables++; }
export function work_signal(): void { signals++; }
export function work_dissolve(sc: u32): void {
  dissolves++;
  dissolveShift = hugepage_shift(sc);
}

export function work_end(h: u32, policy: u32): void {
  outbox_push(OUT_WORK, h, dissolves | (dissolveShift << 16), policy | (signals << 8), <u64>procs | (<u64>vmas << 32), <u64>leaves | (<u64>splitTables << 32));
}

/** A poisoned hugepage of size class sc, of a file with this policy, dissolved as the file lets go of it. */
export function work_release_dissolve(h: u32, sc: u32, policy: u32): void {
  outbox_push(OUT_WORK, h, 1 | (hugepage_shift(sc) << 16), policy | WORK_RELEASE, 0, 0);
}
