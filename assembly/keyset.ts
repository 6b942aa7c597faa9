// A set of 128-bit keys (two u64 words, the first never 0) for the length of one system
// call: open addressing with linear probing, doubled when half full, emptied by reset
// (which also gives back what a large call grew, so small calls stay cheap).

import { alloc, allocBound, doublingBound, free } from './arena';

const ENTRY: usize = 16;
const MIN_CAP: u32 = 64;
let table: usize = 0;
let cap: u32 = 0;
let used: u32 = 0;

function slotOf(a: u64, b: u64): u32 {
  return <u32>(((a * 0x9e3779b97f4a7c15) ^ (b * 0xc2b2ae3d27d4eb4f)) >> 40);
}

/** Heap bytes a reset and `n` adds may take. */
export function keyset_bound(n: u64): u64 {
  return allocBound(<u64>MIN_CAP * ENTRY) + doublingBound(MIN_CAP, 2 * n + 2, ENTRY, MIN_CAP);
}

/** Empties the set. */
export function keyset_reset(): void {
  if (cap != MIN_CAP) {
    if (cap != 0) free(table, <usize>cap * ENTRY);
    cap = MIN_CAP;
    table = alloc(<usize>cap * ENTRY);
  }
  memory.fill(table, 0, <usize>cap * ENTRY);
  used = 0;
}

export function keyset_has(a: u64, b: u64): bool {
  const mask = cap - 1;
  let i = slotOf(a, b) & mask;
  let k = load<u64>(table + <usize>i * ENTRY);
  while (k != 0) {
    if (k == a && load<u64>(table + <usize>i * ENTRY, 8) == b) return true;
    i = (i + 1) & mask;
    k = load<u64>(table + <usize>i * ENTRY);
  }
  return false;
}

/** Adds (a, b); a must not be 0. */
export function keyset_add(a: u64, b: u64): void {
  if ((used + 1) * 2 > cap) grow();
  const mask = cap - 1;
  let i = slotOf(a, b) & mask;
  while (load<u64>(table + <usize>i * ENTRY) != 0) i = (i + 1) & mask;
  store<u64>(table + <usize>i * ENTRY, a);
  store<u64>(table + <usize>i * ENTRY, b, 8);
  used++;
}

function grow(): void {
  const old = table;
  const oldCap = cap;
  cap <<= 1;
  table = alloc(<usize>cap * ENTRY);
  memory.fill(table, 0, <usize>cap * ENTRY);
  used = 0;
  for (let i: u32 = 0; i < oldCap; i++) {
    const at = old + <usize>i * ENTRY;
    const a = load<u64>(at);
    if (a != 0) keyset_add(a, load<u64>(at, 8));
  }
  free(old, <usize>oldCap * ENTRY);
}
