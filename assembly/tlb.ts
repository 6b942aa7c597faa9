// The translation cost model: a per-process TLB (split L1 per page size, a shared L2 for
// 4 KiB and 2 MiB, a small L2 for 1 GiB, LRU within a set) in front of the page-table walk,
// with an optional page-walk cache for the upper levels and nested (two-dimensional) walks
// for virtualised guests. The replay loop feeds it every access with the size of the leaf
// the walk found; it counts misses, walk memory references and walk cycles per host.
// Every process's TLB state is allocated when the model is configured or the process is
// spawned, so the replay loop never allocates (and never runs out of memory).

import { alloc, allocBound, arena_reserve, free } from './arena';
import { ENOMEM } from './constants';
import { addHostStat, H_TLB_ACCESSES, H_TLB_L1_MISSES, H_TLB_WALKS, H_TLB_WALK_REFS, H_TLB_WALK_CYCLES } from './pool';
import { addProcWalkCycles, countProcTranslated, procHost, procTotal } from './procs';

// The TLB structures, each `sets x ways` of u32 tags (0 = empty) with u32 LRU stamps.
// Index: 0 L1 4K, 1 L1 2M, 2 L1 1G, 3 L2 (4K and 2M), 4 L2 1G, 5 page-walk cache (PMD
// entries, i.e. the upper levels of a 4 KiB walk), 6 page-walk cache (PUD entries).
const NUM_STRUCTS: u32 = 7;
const sets: usize = memory.data(<i32>NUM_STRUCTS * 4, 4);
const ways: usize = memory.data(<i32>NUM_STRUCTS * 4, 4);
const offsets: usize = memory.data(<i32>NUM_STRUCTS * 4, 4);
let bytesPerProc: usize = 0;
let cyclesPerRef: f64 = 25;
let pageWalkCache: bool = true;
/** Levels the host walks for each guest reference (0: not virtualised; 2-4 nested). */
let nestedLevels: u32 = 0;
export let tlbEnabled: bool = false;

// Per-process TLB state: proc -> block of bytesPerProc.
let procState: usize = 0;
let procStateCap: u32 = 0;
let stamp: u32 = 0;

// @ts-ignore: decorator
@inline function waysOf(entries: u32, assoc: u32): u32 {
  return assoc == 0 || assoc > entries ? entries : assoc;
}
// @ts-ignore: decorator
@inline function setsOf(entries: u32, assoc: u32): u32 {
  return max<u32>(1, entries / max<u32>(1, waysOf(entries, assoc)));
}

function setStruct(i: u32, entries: u32, assoc: u32): void {
  store<u32>(sets + (<usize>i << 2), setsOf(entries, assoc));
  store<u32>(ways + (<usize>i << 2), waysOf(entries, assoc));
}

/** Bytes of one process's state: every structure's sets x ways of (tag, stamp). */
function stateBytes(l1_4k: u32, l1_2m: u32, l1_1g: u32, l2: u32, l2_1g: u32, l1Assoc: u32, l2Assoc: u32, pwc: bool): usize {
  const entries = (n: u32, a: u32): usize => <usize>setsOf(n, a) * <usize>waysOf(n, a) * 8;
  return entries(l1_4k, l1Assoc) + entries(l1_2m, l1Assoc) + entries(l1_1g, 0) + entries(l2, l2Assoc)
    + entries(l2_1g, l2Assoc) + entries(pwc ? 32 : 0, 4) + entries(pwc ? 8 : 0, 0);
}

/** Heap bytes the states of processes [0, procs) may take, table included. */
function statesBound(procs: u32, perProc: usize): u64 {
  return allocBound(<u64>max<u32>(procs, 16) << 2) + <u64>procs * allocBound(<u64>perProc);
}

/** Heap bytes spawning one more process may take here (its state, when the model is on). */
export function tlb_spawn_bound(): u64 {
  return tlbEnabled ? allocBound(<u64>(procStateCap * 2 + 16) << 2) + allocBound(<u64>bytesPerProc) : 0;
}

/** Gives process p a fresh state (when the model is on); its bound was reserved. */
export function tlb_spawned(p: u32): void {
  if (!tlbEnabled) return;
  if (p >= procStateCap) {
    const next = max<u32>(max<u32>(p + 1, procStateCap * 2), 16);
    const table = alloc(<usize>next << 2);
    if (procState != 0) {
      memory.copy(table, procState, <usize>procStateCap << 2);
      free(procState, <usize>procStateCap << 2);
    }
    procState = table;
    procStateCap = next;
  }
  store<u32>(procState + (<usize>p << 2), <u32>alloc(bytesPerProc));
}

/**
 * Configures and enables the model, every process starting with empty TLBs. Entries per
 * structure (0 disables one), associativity of the L1s and the L2, walk cost per memory
 * reference, whether a page-walk cache holds the upper levels, and the host's walk depth
 * for nested paging (0: native). Returns 0, or -ENOMEM with nothing changed.
 */
export function tlb_configure(
  l1_4k: u32, l1_2m: u32, l1_1g: u32, l2: u32, l2_1g: u32, l1Assoc: u32, l2Assoc: u32,
  refCycles: f64, pwc: bool, nested: u32,
): i32 {
  const perProc = stateBytes(l1_4k, l1_2m, l1_1g, l2, l2_1g, l1Assoc, l2Assoc, pwc);
  const procs = procTotal();
  if (!arena_reserve(statesBound(procs, perProc))) return -ENOMEM;
  for (let p: u32 = 0; p < procStateCap; p++) free(<usize>load<u32>(procState + (<usize>p << 2)), bytesPerProc);
  free(procState, <usize>procStateCap << 2);
  setStruct(0, l1_4k, l1Assoc);
  setStruct(1, l1_2m, l1Assoc);
  setStruct(2, l1_1g, 0);
  setStruct(3, l2, l2Assoc);
  setStruct(4, l2_1g, l2Assoc);
  setStruct(5, pwc ? 32 : 0, 4);
  setStruct(6, pwc ? 8 : 0, 0);
  let at: usize = 0;
  for (let i: u32 = 0; i < NUM_STRUCTS; i++) {
    store<u32>(offsets + (<usize>i << 2), <u32>at);
    at += <usize>load<u32>(sets + (<usize>i << 2)) * <usize>load<u32>(ways + (<usize>i << 2)) * 8;
  }
  bytesPerProc = at;
  cyclesPerRef = refCycles;
  pageWalkCache = pwc;
  nestedLevels = nested;
  procStateCap = max<u32>(procs, 16);
  procState = alloc(<usize>procStateCap << 2);
  tlbEnabled = true;
  for (let p: u32 = 0; p < procs; p++) tlb_spawned(p);
  return 0;
}

// @ts-ignore: decorator
@inline function stateOf(p: u32): usize {
  return <usize>load<u32>(procState + (<usize>p << 2));
}

/**
 * Looks `tag` up in structure i of a process's state; on a miss inserts it over the least
 * recently used way. Returns whether it hit. A structure with no entries always misses.
 */
function lookup(state: usize, i: u32, tag: u32): bool {
  const nsets = load<u32>(sets + (<usize>i << 2));
  const nways = load<u32>(ways + (<usize>i << 2));
  if (nways == 0) return false;
  const set = state + <usize>load<u32>(offsets + (<usize>i << 2)) + <usize>((tag % nsets) * nways) * 8;
  stamp++;
  let victim: usize = set;
  let oldest: u32 = 0xffff_ffff;
  for (let w: u32 = 0; w < nways; w++) {
    const e = set + (<usize>w << 3);
    const t = load<u32>(e);
    if (t == tag) {
      store<u32>(e, stamp, 4);
      return true;
    }
    const age: u32 = t == 0 ? 0 : load<u32>(e, 4);
    if (age < oldest) {
      oldest = age;
      victim = e;
    }
  }
  store<u32>(victim, tag);
  store<u32>(victim, stamp, 4);
  return false;
}

/** A TLB tag: the page number for the size, never 0. */
// @ts-ignore: decorator
@inline function tagOf(va: u64, shift: u32): u32 {
  return <u32>(va >> shift) + 1;
}

/**
 * One access by process p to va, translated by a leaf of shift `leafShift` (30, 21 or 12).
 * Counts it, and on a TLB miss the walk's memory references and cycles.
 */
export function tlb_access(p: u32, va: u64, leafShift: u32): void {
  const h = procHost(p);
  const state = stateOf(p);
  addHostStat(h, H_TLB_ACCESSES, 1);
  // Per process too: a study charges the cost to the VMs whose hugepages were split.
  countProcTranslated(p);
  const l1 = leafShift == 30 ? 2 : leafShift == 21 ? 1 : 0;
  if (lookup(state, l1, tagOf(va, leafShift))) return;
  addHostStat(h, H_TLB_L1_MISSES, 1);
  // The shared L2 keeps 4 KiB and 2 MiB translations apart by the low bit of the tag.
  const hit = leafShift == 30
    ? lookup(state, 4, tagOf(va, 30))
    : lookup(state, 3, (tagOf(va, leafShift) << 1) | (leafShift == 21 ? 1 : 0));
  if (hit) return;
  addHostStat(h, H_TLB_WALKS, 1);
  const refs = walk_refs(state, va, leafShift);
  addHostStat(h, H_TLB_WALK_REFS, <f64>refs);
  addHostStat(h, H_TLB_WALK_CYCLES, <f64>refs * cyclesPerRef);
  addProcWalkCycles(p, <f64>refs * cyclesPerRef);
}

/**
 * Memory references of one walk: one per level down to the leaf (2 for a 1 GiB leaf, 3 for
 * 2 MiB, 4 for 4 KiB), less the upper levels the page-walk cache holds; nested, every guest
 * reference and the final guest-physical address take a host walk too:
 * (g + 1) * (n + 1) - 1 references for g guest and n host levels.
 */
function walk_refs(state: usize, va: u64, leafShift: u32): u32 {
  let levels: u32 = leafShift == 30 ? 2 : leafShift == 21 ? 3 : 4;
  if (pageWalkCache) {
    // A cached PMD entry leaves only the PTE; a cached PUD entry leaves the levels below it.
    if (leafShift == 12 && lookup(state, 5, tagOf(va, 21))) levels = 1;
    else if (leafShift < 30 && lookup(state, 6, tagOf(va, 30))) levels -= 2;
  }
  return nestedLevels == 0 ? levels : (levels + 1) * (nestedLevels + 1) - 1;
}
