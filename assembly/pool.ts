// Hosts and their HugeTLB pools: folio state per hugepage frame, the free lists, and the
// counters the kernel exposes (HugePages_*, memory_failure stats, HardwareCorrupted).

import { allocBound, realloc } from './arena';
import {
  F_FREE, F_STATE_MASK, F_DISSOLVED, F_HWPOISON, HPAGE_1G_SHIFT, HPAGE_2M_SHIFT, PAGE_SHIFT,
  PHYS_BASE, SC_1G, SC_2M, SC_THP,
} from './constants';

// Host record layout. Per-class arrays are indexed by frame class (SC_2M, SC_1G, SC_THP).
const HOST_SIZE: usize = 272;
const H_N: usize = 0; // u32[3] frames per class
const H_FRAME_BASE: usize = 12; // u32[3] first global frame
const H_NR: usize = 24; // u32[3] HugePages_Total; for THP, folios still usable
const H_FREE: usize = 36; // u32[3]
const H_RESV: usize = 48; // u32[3] (never used for THP)
const H_FREE_HEAD: usize = 60; // i32[3] top of the free stack (local frame), -1 when empty
export const H_MF_TOTAL: usize = 72;
export const H_MF_IGNORED: usize = 76;
export const H_MF_FAILED: usize = 80;
export const H_MF_DELAYED: usize = 84;
export const H_MF_RECOVERED: usize = 88;
const H_HW_CORRUPTED: usize = 92; // raw pages ever poisoned
const H_FLAGS: usize = 96;
const H_FIRST_PROC: usize = 100;
const H_LAST_PROC: usize = 104;
const H_NEXT_PID: usize = 108;
const H_BUDDY_PAGES: usize = 112; // f64: healthy raw pages returned by dissolves
// What the host's workloads saw (replay and single calls alike).
export const H_BYTES_LOST: usize = 120; // f64: memory made unusable by recovery
const H_SEED: usize = 128; // u32: seeds the host's random choices (THP split failures)
const H_THP_SPLIT: usize = 132; // u32: in-use THP folios whose mapping was split to 4 KiB
export const H_ACCESS_SIGNALLED: usize = 136; // f64: replayed accesses stopped by a signal
export const H_FAULT_INS: usize = 144; // f64: hugepages faulted in
export const H_SIG_ADRERR: usize = 152; // u32 SIGBUS counts by si_code
export const H_SIG_AR: usize = 156;
export const H_SIG_AO: usize = 160;
export const H_SIG_KERNEL: usize = 164;
export const H_KILLED: usize = 168; // u32 processes killed by SIGBUS
export const H_HUGEPAGES_LOST: usize = 172; // u32 hugepages taken offline whole
export const H_DEAD_EVENTS: usize = 176; // f64: replayed accesses by exited processes
export const H_BAD_EVENTS: usize = 184; // f64: replayed accesses outside any mapping
export const H_PT_PAGES: usize = 192; // u32: page-table pages allocated by splits, not yet freed
// The translation cost model (tlb.ts), f64 each.
export const H_TLB_ACCESSES: usize = 200;
export const H_TLB_L1_MISSES: usize = 208;
export const H_TLB_WALKS: usize = 216;
export const H_TLB_WALK_REFS: usize = 224;
export const H_TLB_WALK_CYCLES: usize = 232;
export const H_DISSOLVES: usize = 240; // u32[2]: hugepages dissolved per size class (vmemmap restored)
export const H_REPEAT_MCE: usize = 248; // f64: consumptions of already-poisoned raw pages
const H_THP_SPLIT_FAILURE: usize = 256; // f64: probability that a THP split fails
export const H_REFCOUNT_UNDERFLOWS: usize = 264; // u32: KEEP v3 releases that dropped too many references

export const HF_RECOVERY: u32 = 1;
export const HF_EARLY_KILL: u32 = 2;
export const HF_POLICY_CAPABLE: u32 = 4;
export const HF_KEEP_V3: u32 = 8;
export const HF_PANICKED: u32 = 16;
export const HF_HGM: u32 = 32;

let hosts: usize = 0;
let hostCap: u32 = 0;
let hostCount: u32 = 0;

// Per class, two global frame arrays of u32, 8 bytes a frame: meta (the folio state word in
// the top 5 bits, the owner below: a file or a process, or the next frame on the free list)
// and index (page-cache index or virtual hugepage number; the previous frame on the free
// list). Owners fit in 27 bits: 2^27 processes or files would not fit in wasm32 memory.
// The tables below hold, per class, the arrays' addresses, frame count and capacity.
const CLASSES: u32 = 3;
const OWNER_BITS: u32 = 27;
const OWNER_MASK: u32 = (1 << OWNER_BITS) - 1;
/** The end of a free list, in the owner bits (frame numbers stay below 2^26). */
const NO_FRAME: u32 = OWNER_MASK;
const frameMetas: usize = memory.data(12, 4);
const frameIndices: usize = memory.data(12, 4);
const frameCounts: usize = memory.data(12, 4);
const frameCaps: usize = memory.data(12, 4);

// @ts-ignore: decorator
@inline export function hostPtr(h: u32): usize {
  return hosts + <usize>h * HOST_SIZE;
}
// @ts-ignore: decorator
@inline export function shiftOf(sc: u32): u32 {
  return sc == SC_1G ? HPAGE_1G_SHIFT : HPAGE_2M_SHIFT;
}
// @ts-ignore: decorator
@inline export function scOfShift(hs: u32): u32 {
  return hs == HPAGE_1G_SHIFT ? SC_1G : SC_2M;
}

export function hostFlags(h: u32): u32 {
  return load<u32>(hostPtr(h) + H_FLAGS);
}
export function setHostFlag(h: u32, flag: u32, on: bool): void {
  const p = hostPtr(h) + H_FLAGS;
  store<u32>(p, on ? load<u32>(p) | flag : load<u32>(p) & ~flag);
}
export function hostFrames(h: u32, sc: u32): u32 {
  return load<u32>(hostPtr(h) + H_N + (<usize>sc << 2));
}
export function hostCounter(h: u32, field: usize): u32 {
  return load<u32>(hostPtr(h) + field);
}
export function addCounter(h: u32, field: usize, delta: i32): void {
  const p = hostPtr(h) + field;
  store<u32>(p, <u32>(<i32>load<u32>(p) + delta));
}
export function bumpCounter(h: u32, field: usize): void {
  const p = hostPtr(h) + field;
  store<u32>(p, load<u32>(p) + 1);
}
export function hostStat(h: u32, field: usize): f64 {
  return load<f64>(hostPtr(h) + field);
}
export function addHostStat(h: u32, field: usize, n: f64): void {
  const p = hostPtr(h) + field;
  store<f64>(p, load<f64>(p) + n);
}
export function poolNr(h: u32, sc: u32): u32 {
  return load<u32>(hostPtr(h) + H_NR + (<usize>sc << 2));
}
export function poolFree(h: u32, sc: u32): u32 {
  return load<u32>(hostPtr(h) + H_FREE + (<usize>sc << 2));
}
export function poolResv(h: u32, sc: u32): u32 {
  return load<u32>(hostPtr(h) + H_RESV + (<usize>sc << 2));
}
export function addPoolResv(h: u32, sc: u32, delta: i32): void {
  const p = hostPtr(h) + H_RESV + (<usize>sc << 2);
  store<u32>(p, <u32>(<i32>load<u32>(p) + delta));
}
/**
 * Hugepages an allocation without a reservation may take (free - resv, never below 0: a
 * UE can dissolve a free hugepage that backed a reservation).
 */
export function poolAvailable(h: u32, sc: u32): u32 {
  const free = poolFree(h, sc);
  const resv = poolResv(h, sc);
  return free > resv ? free - resv : 0;
}
export function hwCorruptedPages(h: u32): u32 {
  return load<u32>(hostPtr(h) + H_HW_CORRUPTED);
}
export function addHwCorrupted(h: u32): void {
  bumpCounter(h, H_HW_CORRUPTED);
}
export function buddyPages(h: u32): f64 {
  return load<f64>(hostPtr(h) + H_BUDDY_PAGES);
}
export function firstProc(h: u32): i32 {
  return load<i32>(hostPtr(h) + H_FIRST_PROC);
}

/**
 * Appends a process to the host's list, kept in pid order. Returns the previous tail
 * (-1 when the list was empty) for the caller to link; `nextPid` hands out the pid.
 */
export function hostAppendProc(h: u32, proc: u32): i32 {
  const hp = hostPtr(h);
  const last = load<i32>(hp + H_LAST_PROC);
  if (last < 0) store<i32>(hp + H_FIRST_PROC, proc);
  store<i32>(hp + H_LAST_PROC, proc);
  return last;
}
export function nextPid(h: u32): u32 {
  const p = hostPtr(h) + H_NEXT_PID;
  const pid = load<u32>(p);
  store<u32>(p, pid + 1);
  return pid;
}

// ---- frames ---------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function classEntry(table: usize, sc: u32): usize { return table + (<usize>sc << 2); }
// @ts-ignore: decorator
@inline function metaArr(sc: u32): usize { return load<usize>(classEntry(frameMetas, sc)); }
// @ts-ignore: decorator
@inline function indexArr(sc: u32): usize { return load<usize>(classEntry(frameIndices, sc)); }
// @ts-ignore: decorator
@inline function metaAt(h: u32, sc: u32, local: u32): usize {
  return metaArr(sc) + (<usize>globalFrame(h, sc, local) << 2);
}

/** Global frame number of a host-local frame. */
// @ts-ignore: decorator
@inline export function globalFrame(h: u32, sc: u32, local: u32): u32 {
  return load<u32>(hostPtr(h) + H_FRAME_BASE + (<usize>sc << 2)) + local;
}
export function folioWord(h: u32, sc: u32, local: u32): u32 {
  return load<u32>(metaAt(h, sc, local)) >> OWNER_BITS;
}
export function setFolioWord(h: u32, sc: u32, local: u32, w: u32): void {
  const at = metaAt(h, sc, local);
  store<u32>(at, (w << OWNER_BITS) | (load<u32>(at) & OWNER_MASK));
}
export function folioOwner(h: u32, sc: u32, local: u32): u32 {
  return load<u32>(metaAt(h, sc, local)) & OWNER_MASK;
}
export function folioIndex(h: u32, sc: u32, local: u32): u32 {
  return load<u32>(indexArr(sc) + (<usize>globalFrame(h, sc, local) << 2));
}
export function setFolioOwner(h: u32, sc: u32, local: u32, owner: u32, index: u32): void {
  const at = metaAt(h, sc, local);
  store<u32>(at, (load<u32>(at) & ~OWNER_MASK) | owner);
  store<u32>(indexArr(sc) + (<usize>globalFrame(h, sc, local) << 2), index);
}

/** Physical address of a host-local frame. */
export function framePhys(h: u32, sc: u32, local: u32): u64 {
  return poolBase(h, sc) + (<u64>local << shiftOf(sc));
}
/** The 1 GiB pool at PHYS_BASE, the 2 MiB pool after it, THP memory after that. */
export function poolBase(h: u32, sc: u32): u64 {
  if (sc == SC_1G) return PHYS_BASE;
  const base2M = PHYS_BASE + (<u64>hostFrames(h, SC_1G) << HPAGE_1G_SHIFT);
  return sc == SC_2M ? base2M : base2M + (<u64>hostFrames(h, SC_2M) << HPAGE_2M_SHIFT);
}

/** Size class of the frame holding `phys`, set by physToFrame. */
export let foundSc: u32 = 0;
/** Host-local frame holding a physical address, or -1 when it lies outside the pools. */
export function physToFrame(h: u32, phys: u64): i32 {
  if (phys < PHYS_BASE) return -1;
  const n1 = hostFrames(h, SC_1G);
  const off = phys - PHYS_BASE;
  if ((off >> HPAGE_1G_SHIFT) < <u64>n1) {
    foundSc = SC_1G;
    return <i32>(off >> HPAGE_1G_SHIFT);
  }
  const i2 = (off - (<u64>n1 << HPAGE_1G_SHIFT)) >> HPAGE_2M_SHIFT;
  const n2 = <u64>hostFrames(h, SC_2M);
  if (i2 < n2) {
    foundSc = SC_2M;
    return <i32>i2;
  }
  if (i2 - n2 < <u64>hostFrames(h, SC_THP)) {
    foundSc = SC_THP;
    return <i32>(i2 - n2);
  }
  return -1;
}

// ---- the free lists: doubly linked stacks threaded through owner (next) / index (prev) --

function nextFree(h: u32, sc: u32, local: u32): i32 {
  const next = load<u32>(metaAt(h, sc, local)) & OWNER_MASK;
  return next == NO_FRAME ? -1 : <i32>next;
}
function setNextFree(h: u32, sc: u32, local: i32, next: i32): void {
  const at = metaAt(h, sc, <u32>local);
  store<u32>(at, (load<u32>(at) & ~OWNER_MASK) | (next < 0 ? NO_FRAME : <u32>next));
}
function setPrevFree(h: u32, sc: u32, local: i32, prev: i32): void {
  store<i32>(indexArr(sc) + (<usize>globalFrame(h, sc, <u32>local) << 2), prev);
}
function freeHead(h: u32, sc: u32): i32 {
  return load<i32>(hostPtr(h) + H_FREE_HEAD + (<usize>sc << 2));
}
function setFreeHead(h: u32, sc: u32, local: i32): void {
  store<i32>(hostPtr(h) + H_FREE_HEAD + (<usize>sc << 2), local);
}
function addFree(h: u32, sc: u32, delta: i32): void {
  const p = hostPtr(h) + H_FREE + (<usize>sc << 2);
  store<u32>(p, <u32>(<i32>load<u32>(p) + delta));
}

/** enqueue_hugetlb_folio: a freed hugepage goes on top of the free stack. */
export function enqueue_hugetlb_folio(h: u32, sc: u32, local: u32): void {
  const head = freeHead(h, sc);
  setFolioWord(h, sc, local, F_FREE);
  setNextFree(h, sc, <i32>local, head);
  setPrevFree(h, sc, <i32>local, -1);
  if (head >= 0) setPrevFree(h, sc, head, <i32>local);
  setFreeHead(h, sc, <i32>local);
  addFree(h, sc, 1);
}

/** dequeue_hugetlb_folio: takes the top of the free stack, or -1 when the pool is empty. */
export function dequeue_hugetlb_folio(h: u32, sc: u32): i32 {
  const head = freeHead(h, sc);
  if (head < 0) return -1;
  unlinkFree(h, sc, <u32>head);
  return head;
}

function unlinkFree(h: u32, sc: u32, local: u32): void {
  const next = nextFree(h, sc, local);
  const prev = load<i32>(indexArr(sc) + (<usize>globalFrame(h, sc, local) << 2));
  if (prev >= 0) setNextFree(h, sc, prev, next);
  else setFreeHead(h, sc, next);
  if (next >= 0) setPrevFree(h, sc, next, prev);
  setFolioOwner(h, sc, local, 0, 0);
  setFolioWord(h, sc, local, 0);
  addFree(h, sc, -1);
}

/** dissolve_free_hugetlb_folio: a free hugepage leaves the pool for good. */
export function dissolve_free_hugetlb_folio(h: u32, sc: u32, local: u32): void {
  unlinkFree(h, sc, local);
  dissolveFolio(h, sc, local);
}

/** A free THP folio with a poisoned raw page leaves THP memory for the buddy allocator. */
export function take_free_thp_folio(h: u32, local: u32): void {
  unlinkFree(h, SC_THP, local);
  retireThpFolio(h, local);
}

/**
 * The poisoned folio leaves the pool (nr-1). Its healthy raw pages go to the buddy
 * allocator (the caller counts them), the poisoned ones stay isolated.
 */
export function dissolveFolio(h: u32, sc: u32, local: u32): void {
  setFolioWord(h, sc, local, F_DISSOLVED | F_HWPOISON);
  bumpCounter(h, H_DISSOLVES + (<usize>sc << 2));
  const p = hostPtr(h) + H_NR + (<usize>sc << 2);
  store<u32>(p, load<u32>(p) - 1);
}

/** A poisoned THP folio leaves THP memory (no vmemmap to restore: it is ordinary memory). */
export function retireThpFolio(h: u32, local: u32): void {
  setFolioWord(h, SC_THP, local, F_DISSOLVED | F_HWPOISON);
  const p = hostPtr(h) + H_NR + (<usize>SC_THP << 2);
  store<u32>(p, load<u32>(p) - 1);
}

export function addBuddyPages(h: u32, n: f64): void {
  const p = hostPtr(h) + H_BUDDY_PAGES;
  store<f64>(p, load<f64>(p) + n);
}

export function folioState(h: u32, sc: u32, local: u32): u32 {
  return folioWord(h, sc, local) & F_STATE_MASK;
}

// ---- creation ---------------------------------------------------------------------------

/** Makes room for `extra` more frames of class sc (doubling, so booting is amortised O(1)). */
function growFrames(sc: u32, extra: u32): void {
  const count = load<u32>(classEntry(frameCounts, sc));
  const cap = load<u32>(classEntry(frameCaps, sc));
  if (count + extra > cap) reserveFrames(sc, count + extra > cap * 2 ? count + extra : cap * 2);
  store<u32>(classEntry(frameCounts, sc), count + extra);
}

/** Heap bytes reserveFrames(sc, cap) may take: both frame arrays reallocated. */
export function reserve_frames_bound(sc: u32, cap: u64): u64 {
  return cap <= <u64>load<u32>(classEntry(frameCaps, sc)) ? 0 : 2 * allocBound(cap << 2);
}

/** Heap bytes createHost may take: the host table doubling once, and each class's frames. */
export function host_create_bound(n2M: u32, n1G: u32, nThp: u32): u64 {
  let bytes = hostCount < hostCap ? 0 : allocBound(<u64>(hostCap == 0 ? 4 : hostCap * 2) * HOST_SIZE);
  for (let sc: u32 = 0; sc < CLASSES; sc++) {
    const n = <u64>(sc == SC_2M ? n2M : sc == SC_1G ? n1G : nThp);
    const need = <u64>load<u32>(classEntry(frameCounts, sc)) + n;
    const cap = <u64>load<u32>(classEntry(frameCaps, sc));
    if (need > cap) bytes += reserve_frames_bound(sc, need > cap * 2 ? need : cap * 2);
  }
  return bytes;
}

/** Sizes the frame arrays of class sc for `cap` frames in all (a fleet reserves up front). */
export function reserveFrames(sc: u32, cap: u32): void {
  const old = load<u32>(classEntry(frameCaps, sc));
  if (cap <= old) return;
  const oldBytes = <usize>old << 2;
  const newBytes = <usize>cap << 2;
  store<usize>(classEntry(frameMetas, sc), realloc(metaArr(sc), oldBytes, newBytes));
  store<usize>(classEntry(frameIndices, sc), realloc(indexArr(sc), oldBytes, newBytes));
  store<u32>(classEntry(frameCaps, sc), cap);
}

/**
 * Boots a host with n2M + n1G hugepages and nThp THP folios, every one free, the lowest
 * address on top of each free stack.
 */
export function createHost(n2M: u32, n1G: u32, nThp: u32, flags: u32, seed: u32, thpSplitFailure: f64): u32 {
  if (hostCount == hostCap) {
    const next = hostCap == 0 ? <u32>4 : hostCap * 2;
    hosts = realloc(hosts, <usize>hostCap * HOST_SIZE, <usize>next * HOST_SIZE);
    hostCap = next;
  }
  const h = hostCount++;
  const hp = hostPtr(h);
  store<u32>(hp + H_N + (<usize>SC_2M << 2), n2M);
  store<u32>(hp + H_N + (<usize>SC_1G << 2), n1G);
  store<u32>(hp + H_N + (<usize>SC_THP << 2), nThp);
  store<u32>(hp + H_FLAGS, flags);
  store<u32>(hp + H_SEED, seed);
  store<f64>(hp + H_THP_SPLIT_FAILURE, thpSplitFailure);
  store<i32>(hp + H_FIRST_PROC, -1);
  store<i32>(hp + H_LAST_PROC, -1);
  store<u32>(hp + H_NEXT_PID, 1000);
  for (let sc: u32 = 0; sc < CLASSES; sc++) {
    const n = hostFrames(h, sc);
    store<u32>(hp + H_FRAME_BASE + (<usize>sc << 2), load<u32>(classEntry(frameCounts, sc)));
    store<i32>(hp + H_FREE_HEAD + (<usize>sc << 2), -1);
    growFrames(sc, n);
    store<u32>(hp + H_NR + (<usize>sc << 2), n);
    for (let i = <i32>n - 1; i >= 0; i--) enqueue_hugetlb_folio(h, sc, <u32>i);
  }
  return h;
}

/** Copies the free stack, top first, as host-local frame numbers into `out`; returns count. */
export function listFree(h: u32, sc: u32, out: usize): u32 {
  let n: u32 = 0;
  for (let f = freeHead(h, sc); f >= 0; f = nextFree(h, sc, <u32>f)) {
    store<u32>(out + (<usize>n << 2), <u32>f);
    n++;
  }
  return n;
}

/** Raw 4 KiB pages in a hugepage of class sc. */
// @ts-ignore: decorator
@inline export function rawPerFolio(sc: u32): u32 {
  return (<u32>1) << (shiftOf(sc) - PAGE_SHIFT);
}

// ---- THP memory --------------------------------------------------------------------------

export function thpSplitCount(h: u32): u32 {
  return load<u32>(hostPtr(h) + H_THP_SPLIT);
}
export function addThpSplit(h: u32, delta: i32): void {
  addCounter(h, H_THP_SPLIT, delta);
}

// @ts-ignore: decorator
@inline function mix32(v: u32): u32 {
  let x = v;
  x ^= x >> 16;
  x *= 0x7feb352d;
  x ^= x >> 15;
  x *= 0x846ca68b;
  x ^= x >> 16;
  return x;
}

/**
 * Whether this attempt to split a THP fails (the folio is pinned): a draw from the host's
 * seed, the raw pfn and the number of memory failures so far, so a replay is repeatable
 * whatever the sharding (docs/semantics.md, THP).
 */
export function thp_split_fails(h: u32, pfn: u64): bool {
  const p = load<f64>(hostPtr(h) + H_THP_SPLIT_FAILURE);
  if (p <= 0) return false;
  const total = hostCounter(h, H_MF_TOTAL);
  const u = mix32(load<u32>(hostPtr(h) + H_SEED) ^ mix32(<u32>pfn ^ (total * 0x9e3779b1)));
  return <f64>u / 4294967296.0 < p;
}
