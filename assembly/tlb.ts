// The translation cost model: a per-process TLB (split L1 per page size, a shared L2 for
// 4 KiB and 2 MiB, a small L2 for 1 GiB, LRU within a set) in front of the page-table walk,
// with an optional page-walk cache for the upper levels and nested (two-dimensional) walks
// for virtualised guests. The replay loop feeds it every access with the size of the leaf
// the walk found; it counts misses, walk memory references and walk cycles per host.

import { alloc } from './arena';
import { addHostStat, H_TLB_ACCESSES, H_TLB_L1_MISSES, H_TLB_WALKS, H_TLB_WALK_REFS, H_TLB_WALK_CYCLES } from './pool';
import { procHost } from './procs';

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

// Per-process TLB state, allocated on a process's first access: proc -> block.
let procState: usize = 0;
let procStateCap: u32 = 0;
let stamp: u32 = 0;

function setStruct(i: u32, entries: u32, assoc: u32): void {
  const w = assoc == 0 || assoc > entries ? entries : assoc;
  const s = max<u32>(1, entries / max<u32>(1, w));
  store<u32>(sets + (<usize>i << 2), s);
  store<u32>(ways + (<usize>i << 2), w);
}

/**
 * Configures and enables the model. Entries per structure (0 disables one), associativity
 * of the L1s and the L2, walk cost per memory reference, whether a page-walk cache holds the
 * upper levels, and the host's walk depth for nested paging (0: native).
 */
export function tlb_configure(
  l1_4k: u32, l1_2m: u32, l1_1g: u32, l2: u32, l2_1g: u32, l1Assoc: u32, l2Assoc: u32,
  refCycles: f64, pwc: bool, nested: u32,
): void {
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
  procState = 0;
  procStateCap = 0;
  tlbEnabled = true;
}

function stateOf(p: u32): usize {
  if (p >= procStateCap) {
    const next = max<u32>(p + 1, procStateCap * 2);
    const table = alloc(<usize>next << 2);
    if (procState != 0) memory.copy(table, procState, <usize>procStateCap << 2);
    procState = table;
    procStateCap = next;
  }
  let s = <usize>load<u32>(procState + (<usize>p << 2));
  if (s == 0) {
    s = alloc(bytesPerProc);
    store<u32>(procState + (<usize>p << 2), <u32>s);
  }
  return s;
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
