// Per-raw-page poison bits: for every hugepage with a poisoned raw page, two 512-bit maps
// per 2 MiB region (64 B *poisoned*: the kernel knows; 64 B *corrupted*: the data is really
// lost). A 2 MiB folio has one such 128 B chunk; a 1 GiB folio has a 512-entry directory
// of chunk pointers, filled on first poison, so a lightly poisoned 1 GiB page costs ~2.2 KiB.
// Folios are found through an open-addressing hash keyed by global frame and frame class.

import { alloc, allocBound, doublingBound, free } from './arena';
import { SC_1G } from './constants';
import { globalFrame } from './pool';

const CHUNK: usize = 128;
const DIR_ENTRIES: u32 = 512;
export const BIT_POISONED: u32 = 0;
export const BIT_CORRUPTED: u32 = 1;

let keys: usize = 0;
let vals: usize = 0;
let cap: u32 = 0;
let used: u32 = 0;

// @ts-ignore: decorator
@inline function hashKey(k: u32): u32 {
  return (k * 0x9e3779b1) >> 7;
}

function find(k: u32): u32 {
  if (cap == 0) return 0;
  const mask = cap - 1;
  let i = hashKey(k) & mask;
  let at = load<u32>(keys + (<usize>i << 2));
  while (at != k && at != 0) {
    i = (i + 1) & mask;
    at = load<u32>(keys + (<usize>i << 2));
  }
  return at == 0 ? 0 : load<u32>(vals + (<usize>i << 2));
}

function insert(k: u32, v: u32): void {
  if ((used + 1) * 2 > cap) rehash(cap == 0 ? 64 : cap * 2);
  const mask = cap - 1;
  let i = hashKey(k) & mask;
  while (load<u32>(keys + (<usize>i << 2)) != 0) i = (i + 1) & mask;
  store<u32>(keys + (<usize>i << 2), k);
  store<u32>(vals + (<usize>i << 2), v);
  used++;
}

function rehash(next: u32): void {
  const oldKeys = keys;
  const oldVals = vals;
  const oldCap = cap;
  keys = alloc(<usize>next << 2);
  vals = alloc(<usize>next << 2);
  cap = next;
  used = 0;
  for (let i: u32 = 0; i < oldCap; i++) {
    const k = load<u32>(oldKeys + (<usize>i << 2));
    if (k != 0) insert(k, load<u32>(oldVals + (<usize>i << 2)));
  }
  if (oldCap != 0) {
    free(oldKeys, <usize>oldCap << 2);
    free(oldVals, <usize>oldCap << 2);
  }
}

/** The hash that finds folios' poison blocks: its keys, values and capacity. */
export function poisonHashKeys(): usize { return keys; }
export function poisonHashVals(): usize { return vals; }
export function poisonHashCap(): u32 { return cap; }

/**
 * Heap bytes poisoning `n` more raw pages may take: each may add a folio's block and a
 * chunk, and the hash doubles to stay at most half full.
 */
export function poison_bound(n: u64): u64 {
  const blocks = n * (allocBound(<u64>DIR_ENTRIES << 2) + allocBound(CHUNK));
  return blocks + 2 * doublingBound(cap, 2 * (<u64>used + n) + 2, 4, 64);
}

/** The folio's poison block (a chunk for 2 MiB, a directory for 1 GiB), or 0. */
function folioBlock(h: u32, sc: u32, local: u32, create: bool): usize {
  const k = ((globalFrame(h, sc, local) << 2) | sc) + 1;
  let b = <usize>find(k);
  if (b == 0 && create) {
    b = alloc(sc == SC_1G ? <usize>DIR_ENTRIES << 2 : CHUNK);
    insert(k, <u32>b);
  }
  return b;
}

/** The chunk covering raw page `raw` of the folio, or 0. */
function chunkOf(h: u32, sc: u32, local: u32, raw: u32, create: bool): usize {
  const b = folioBlock(h, sc, local, create);
  if (b == 0 || sc != SC_1G) return b;
  const slot = b + (<usize>(raw >> 9) << 2);
  let c = <usize>load<u32>(slot);
  if (c == 0 && create) {
    c = alloc(CHUNK);
    store<u32>(slot, <u32>c);
  }
  return c;
}

export function rawTest(h: u32, sc: u32, local: u32, raw: u32, which: u32): bool {
  const c = chunkOf(h, sc, local, raw, false);
  if (c == 0) return false;
  const word = c + (<usize>which << 6) + (<usize>((raw & 511) >> 6) << 3);
  return ((load<u64>(word) >> (raw & 63)) & 1) != 0;
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
  const b = folioBlock(h, sc, local, false);
  if (b == 0) return -1;
  let raw = from;
  while (raw < to) {
    const c = sc == SC_1G ? <usize>load<u32>(b + (<usize>(raw >> 9) << 2)) : b;
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
  const b = folioBlock(h, sc, local, false);
  if (b == 0) return 0;
  let n: u32 = 0;
  const regions: u32 = sc == SC_1G ? DIR_ENTRIES : 1;
  for (let r: u32 = 0; r < regions; r++) {
    const c = sc == SC_1G ? <usize>load<u32>(b + (<usize>r << 2)) : b;
    if (c == 0) continue;
    for (let i: usize = 0; i < 8; i++) n += <u32>popcnt<u64>(load<u64>(c + (<usize>which << 6) + (i << 3)));
  }
  return n;
}
