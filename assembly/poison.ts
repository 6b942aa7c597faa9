// Per-raw-page poison bits: for every 2 MiB region of a hugepage (or THP folio) with a
// poisoned raw page, a 128 B chunk of two 512-bit maps (64 B *poisoned*: the kernel knows;
// 64 B *corrupted*: the data is really lost). Chunks are found through one open-addressing
// hash keyed by host and 2 MiB region of the host's physical memory, whatever the folio's
// size: a 1 GiB folio with one poisoned raw page costs one chunk and a hash entry (~200 B),
// not a directory for its 512 regions, and the replay loop's test of a raw page is one
// probe and one load, the same for every hugepage size.

import { alloc, allocBound, doublingBound, free } from './arena';
import { PHYS_BASE } from './constants';
import { framePhys, rawPerFolio } from './pool';

const CHUNK: usize = 128;
const RAW_PER_CHUNK: u32 = 512;
export const BIT_POISONED: u32 = 0;
export const BIT_CORRUPTED: u32 = 1;

// Hash entries of 16 B: the key (u64, 0 = empty) and the chunk's address (u32), side by
// side so that a probe and its chunk pointer take one cache line.
const ENTRY: usize = 16;
let table: usize = 0;
let cap: u32 = 0;
let used: u32 = 0;

/** The hash table's address and capacity (entries), for the replay loop and its native baseline. */
export function poisonTable(): usize { return table; }
export function poisonTableCap(): u32 { return cap; }

/**
 * The key of the 2 MiB region holding phys on host h: the host in the high word, the
 * region's number in the host's physical memory + 1 below (regions lie below 2^31: hosts
 * end below 2^52), so no key is 0.
 */
// @ts-ignore: decorator
@inline export function regionKey(h: u32, phys: u64): u64 {
  return (<u64>h << 32) | (((phys - PHYS_BASE) >> 21) + 1);
}

// @ts-ignore: decorator
@inline function slotOf(k: u64, mask: u32): u32 {
  return <u32>((k * 0x9e37_79b9_7f4a_7c15) >> 32) & mask;
}

/** The chunk of region key k in the table at t of `capacity` entries, or 0 (inlined into the replay loop). */
// @ts-ignore: decorator
@inline export function chunkAt(t: usize, capacity: u32, k: u64): usize {
  if (capacity == 0) return 0;
  const mask = capacity - 1;
  let i = slotOf(k, mask);
  let at = load<u64>(t + (<usize>i << 4));
  while (at != k && at != 0) {
    i = (i + 1) & mask;
    at = load<u64>(t + (<usize>i << 4));
  }
  return at == 0 ? 0 : <usize>load<u32>(t + (<usize>i << 4), 8);
}

/** Whether bit `which` of raw page `raw` (its number in the 2 MiB region) is set in chunk c. */
// @ts-ignore: decorator
@inline export function chunkBit(c: usize, raw: u32, which: u32): bool {
  return ((load<u64>(c + (<usize>which << 6) + (<usize>((raw & 511) >> 6) << 3)) >> (raw & 63)) & 1) != 0;
}

function insert(k: u64, c: usize): void {
  if ((used + 1) * 2 > cap) rehash(cap == 0 ? 64 : cap * 2);
  const mask = cap - 1;
  let i = slotOf(k, mask);
  while (load<u64>(table + (<usize>i << 4)) != 0) i = (i + 1) & mask;
  store<u64>(table + (<usize>i << 4), k);
  store<u32>(table + (<usize>i << 4), <u32>c, 8);
  used++;
}

function rehash(next: u32): void {
  const old = table;
  const oldCap = cap;
  table = alloc(<usize>next * ENTRY);
  cap = next;
  used = 0;
  for (let i: u32 = 0; i < oldCap; i++) {
    const k = load<u64>(old + (<usize>i << 4));
    if (k != 0) insert(k, <usize>load<u32>(old + (<usize>i << 4), 8));
  }
  if (oldCap != 0) free(old, <usize>oldCap * ENTRY);
}

/**
 * Heap bytes poisoning `n` more raw pages may take: each may add a chunk, and the hash
 * doubles to stay at most half full.
 */
export function poison_bound(n: u64): u64 {
  return n * allocBound(CHUNK) + doublingBound(cap, 2 * (<u64>used + n) + 2, ENTRY, 64);
}

/** The chunk covering raw page `raw` of the folio, or 0 (created when `create`). */
function chunkOf(h: u32, sc: u32, local: u32, raw: u32, create: bool): usize {
  const k = regionKey(h, framePhys(h, sc, local) + (<u64>raw << 12));
  let c = chunkAt(table, cap, k);
  if (c == 0 && create) {
    c = alloc(CHUNK);
    insert(k, c);
  }
  return c;
}

export function rawTest(h: u32, sc: u32, local: u32, raw: u32, which: u32): bool {
  const c = chunkOf(h, sc, local, raw, false);
  return c != 0 && chunkBit(c, raw, which);
}

export function rawSet(h: u32, sc: u32, local: u32, raw: u32, which: u32): void {
  const c = chunkOf(h, sc, local, raw, true);
  const word = c + (<usize>which << 6) + (<usize>((raw & 511) >> 6) << 3);
  store<u64>(word, load<u64>(word) | ((<u64>1) << (raw & 63)));
}

/**
 * First raw page in [from, to) whose `which` bit is set, or -1. Walks 64 bits at a time
 * and skips whole 2 MiB regions without a chunk.
 */
export function firstRawSet(h: u32, sc: u32, local: u32, from: u32, to: u32, which: u32): i32 {
  let raw = from;
  let c: usize = 0;
  let region: u32 = 0xffff_ffff;
  while (raw < to) {
    if (raw / RAW_PER_CHUNK != region) {
      region = raw / RAW_PER_CHUNK;
      c = chunkOf(h, sc, local, raw, false);
    }
    if (c == 0) {
      raw = (raw | 511) + 1;
      continue;
    }
    const bits = load<u64>(c + (<usize>which << 6) + (<usize>((raw & 511) >> 6) << 3)) >> (raw & 63);
    if (bits != 0) {
      const hit = raw + <u32>ctz<u64>(bits);
      return hit < to ? <i32>hit : -1;
    }
    raw = (raw | 63) + 1;
  }
  return -1;
}

/** Number of raw pages of the folio whose `which` bit is set (poisoned by default). */
export function poisonedCount(h: u32, sc: u32, local: u32, which: u32 = BIT_POISONED): u32 {
  if (used == 0) return 0;
  let n: u32 = 0;
  const raws = rawPerFolio(sc);
  for (let raw: u32 = 0; raw < raws; raw += RAW_PER_CHUNK) {
    const c = chunkOf(h, sc, local, raw, false);
    if (c == 0) continue;
    for (let i: usize = 0; i < 8; i++) n += <u32>popcnt<u64>(load<u64>(c + (<usize>which << 6) + (i << 3)));
  }
  return n;
}
