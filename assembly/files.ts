// HugeTLB memfds: size, hugepage size, the KEEP bit, open fds, mapping VMAs, and the page
// cache (index -> folio). Each index holds SLOT_EMPTY, SLOT_RESERVED (a reservation made at
// mmap time and not yet used), or the host-local frame + 1. VMMs fault their memory in
// order from a pool that hands out consecutive frames, so the cache is kept as extents:
// runs of indices that are all reserved, or that hold consecutive frames, sorted by first
// index and merged where they meet. Lookups are a binary search.

import { allocBound, doublingBound, free, realloc } from './arena';
import { SLOT_EMPTY, SLOT_RESERVED } from './constants';

const FILE_SIZE: usize = 48;
const F_HOST: usize = 0;
const F_FLAGS: usize = 4;
const F_SHIFT: usize = 8;
const F_NFDS: usize = 12;
const F_NVMAS: usize = 16;
const F_EXTENTS: usize = 20; // the extent array
const F_EXT_CAP: usize = 24; // its capacity in extents
const F_EXT_COUNT: usize = 28;
const F_BYTES: usize = 32; // u64 i_size
const F_INDEX_CAP: usize = 40; // u64: a power of two (at least 8) above every index ever filled

// An extent: u64 first index, u32 length, u32 value (SLOT_RESERVED, or the slot value of
// its first index: frame + 1, the next index holding the next frame).
const EXTENT: usize = 16;
const E_START: usize = 0;
const E_LEN: usize = 8;
const E_VALUE: usize = 12;
const FIRST_EXTENTS: u64 = 4;

export const FL_KEEP: u32 = 1;
export const FL_LIVE: u32 = 2;

let files: usize = 0;
let fileCap: u32 = 0;
let fileCount: u32 = 0;

// @ts-ignore: decorator
@inline function filePtr(f: u32): usize {
  return files + <usize>f * FILE_SIZE;
}

export function file_create(h: u32, hs: u32, keep: bool): u32 {
  if (fileCount == fileCap) {
    const next = fileCap == 0 ? <u32>16 : fileCap * 2;
    files = realloc(files, <usize>fileCap * FILE_SIZE, <usize>next * FILE_SIZE);
    fileCap = next;
  }
  const f = fileCount++;
  const fp = filePtr(f);
  store<u32>(fp + F_HOST, h);
  store<u32>(fp + F_FLAGS, FL_LIVE | (keep ? FL_KEEP : 0));
  store<u32>(fp + F_SHIFT, hs);
  return f;
}

/** Heap bytes file_create may take: the file table doubling once. */
export function file_create_bound(): u64 {
  return fileCount < fileCap ? 0 : allocBound(<u64>(fileCap == 0 ? 16 : fileCap * 2) * FILE_SIZE);
}

export function fileHost(f: u32): u32 { return load<u32>(filePtr(f) + F_HOST); }
export function fileShift(f: u32): u32 { return load<u32>(filePtr(f) + F_SHIFT); }
export function fileLive(f: u32): bool { return (load<u32>(filePtr(f) + F_FLAGS) & FL_LIVE) != 0; }
export function fileKeep(f: u32): bool { return (load<u32>(filePtr(f) + F_FLAGS) & FL_KEEP) != 0; }
export function fileSize(f: u32): u64 { return load<u64>(filePtr(f) + F_BYTES); }
export function setFileSize(f: u32, size: u64): void { store<u64>(filePtr(f) + F_BYTES, size); }
export function fileFds(f: u32): u32 { return load<u32>(filePtr(f) + F_NFDS); }
export function fileVmas(f: u32): u32 { return load<u32>(filePtr(f) + F_NVMAS); }
export function addFileFds(f: u32, d: i32): void {
  store<u32>(filePtr(f) + F_NFDS, <u32>(<i32>fileFds(f) + d));
}
export function addFileVmas(f: u32, d: i32): void {
  store<u32>(filePtr(f) + F_NVMAS, <u32>(<i32>fileVmas(f) + d));
}

/** Number of page-cache indices the file's size covers (ceil(size / H)). */
export function fileIndices(f: u32): u64 {
  const hs = fileShift(f);
  return (fileSize(f) + ((<u64>1 << hs) - 1)) >> hs;
}

/** Indices at or above this bound hold nothing (truncation and eviction scan below it). */
export function cacheCap(f: u32): u64 {
  return load<u64>(filePtr(f) + F_INDEX_CAP);
}

export function extentCount(f: u32): u32 {
  return load<u32>(filePtr(f) + F_EXT_COUNT);
}

// @ts-ignore: decorator
@inline function extentPtr(f: u32, i: u32): usize {
  return <usize>load<u32>(filePtr(f) + F_EXTENTS) + <usize>i * EXTENT;
}

export function extentStart(f: u32, i: u32): u64 { return load<u64>(extentPtr(f, i) + E_START); }
export function extentLen(f: u32, i: u32): u32 { return load<u32>(extentPtr(f, i) + E_LEN); }
export function extentValue(f: u32, i: u32): u32 { return load<u32>(extentPtr(f, i) + E_VALUE); }

// @ts-ignore: decorator
@inline function extentEnd(f: u32, i: u32): u64 {
  return extentStart(f, i) + <u64>extentLen(f, i);
}

/** The slot value `k` indices into an extent of value v. */
// @ts-ignore: decorator
@inline function valueAt(v: u32, k: u64): u32 {
  return v == SLOT_RESERVED ? v : v + <u32>k;
}

/** The last extent starting at or below idx, or -1. */
function extentAtOrBelow(f: u32, idx: u64): i32 {
  let lo: i32 = 0;
  let hi: i32 = <i32>extentCount(f);
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (extentStart(f, <u32>mid) <= idx) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** The first extent that ends after idx (extentCount when none). */
export function extentFrom(f: u32, idx: u64): u32 {
  const i = extentAtOrBelow(f, idx);
  return i >= 0 && idx < extentEnd(f, <u32>i) ? <u32>i : <u32>(i + 1);
}

export function slotGet(f: u32, idx: u64): u32 {
  const i = extentAtOrBelow(f, idx);
  if (i < 0) return SLOT_EMPTY;
  const start = extentStart(f, <u32>i);
  if (idx >= start + <u64>extentLen(f, <u32>i)) return SLOT_EMPTY;
  return valueAt(extentValue(f, <u32>i), idx - start);
}

function setExtent(f: u32, i: u32, start: u64, len: u32, v: u32): void {
  const e = extentPtr(f, i);
  store<u64>(e + E_START, start);
  store<u32>(e + E_LEN, len);
  store<u32>(e + E_VALUE, v);
}

function insertExtent(f: u32, i: u32, start: u64, len: u32, v: u32): void {
  const fp = filePtr(f);
  const n = extentCount(f);
  const cap = load<u32>(fp + F_EXT_CAP);
  if (n == cap) {
    const next = cap == 0 ? <u32>FIRST_EXTENTS : cap * 2;
    store<u32>(fp + F_EXTENTS, <u32>realloc(<usize>load<u32>(fp + F_EXTENTS), <usize>cap * EXTENT, <usize>next * EXTENT));
    store<u32>(fp + F_EXT_CAP, next);
  }
  memory.copy(extentPtr(f, i + 1), extentPtr(f, i), <usize>(n - i) * EXTENT);
  store<u32>(fp + F_EXT_COUNT, n + 1);
  setExtent(f, i, start, len, v);
}

function removeExtents(f: u32, i: u32, count: u32): void {
  const n = extentCount(f);
  memory.copy(extentPtr(f, i), extentPtr(f, i + count), <usize>(n - i - count) * EXTENT);
  store<u32>(filePtr(f) + F_EXT_COUNT, n - count);
}

/** Whether extent j continues extent i: adjacent, and the same reservation or the next frames. */
function continues(f: u32, i: u32, j: u32): bool {
  return extentEnd(f, i) == extentStart(f, j) && valueAt(extentValue(f, i), <u64>extentLen(f, i)) == extentValue(f, j);
}

/** Merges extent i with the one after it where that continues it. */
function mergeNext(f: u32, i: u32): void {
  if (i + 1 >= extentCount(f) || !continues(f, i, i + 1)) return;
  store<u32>(extentPtr(f, i) + E_LEN, extentLen(f, i) + extentLen(f, i + 1));
  removeExtents(f, i + 1, 1);
}

/**
 * Stores v (SLOT_RESERVED or a frame + 1, never SLOT_EMPTY) at index idx: the extent holding
 * idx is split around it, and the new one-index extent merges with its neighbours.
 */
export function slotSet(f: u32, idx: u64, v: u32): void {
  const fp = filePtr(f);
  let cap = load<u64>(fp + F_INDEX_CAP);
  if (idx >= cap) {
    cap = cap == 0 ? 8 : cap;
    while (cap <= idx) cap <<= 1;
    store<u64>(fp + F_INDEX_CAP, cap);
  }
  if (slotGet(f, idx) == v) return;
  cache_clear(f, idx, idx + 1);
  const i = <u32>(extentAtOrBelow(f, idx) + 1);
  insertExtent(f, i, idx, 1, v);
  mergeNext(f, i);
  if (i > 0) mergeNext(f, i - 1);
}

/** Empties indices [from, to): extents inside go, those across an end are cut (one may split in two). */
export function cache_clear(f: u32, from: u64, to: u64): void {
  if (from >= to) return;
  let i = extentFrom(f, from);
  if (i >= extentCount(f) || extentStart(f, i) >= to) return;
  const start = extentStart(f, i);
  const end = extentEnd(f, i);
  const v = extentValue(f, i);
  if (start < from) {
    store<u32>(extentPtr(f, i) + E_LEN, <u32>(from - start));
    if (end > to) {
      insertExtent(f, i + 1, to, <u32>(end - to), valueAt(v, to - start));
      return;
    }
    i++;
  }
  let j = i;
  while (j < extentCount(f) && extentEnd(f, j) <= to) j++;
  if (j < extentCount(f) && extentStart(f, j) < to) {
    const s = extentStart(f, j);
    setExtent(f, j, to, <u32>(extentEnd(f, j) - to), valueAt(extentValue(f, j), to - s));
  }
  removeExtents(f, i, j - i);
}

/**
 * Heap bytes that `extra` more extents may take in file f's extent array (-1: a new file).
 * A slotSet adds at most two (a split and the new one), a cache_clear at most one.
 */
export function cache_bound(f: i32, extra: u64): u64 {
  if (f < 0) return doublingBound(0, extra, EXTENT, FIRST_EXTENTS);
  const fp = filePtr(<u32>f);
  return doublingBound(<u64>load<u32>(fp + F_EXT_CAP), <u64>load<u32>(fp + F_EXT_COUNT) + extra, EXTENT, FIRST_EXTENTS);
}

/** The file is gone: its extent array goes back to the arena. */
export function file_free(f: u32): void {
  const fp = filePtr(f);
  free(<usize>load<u32>(fp + F_EXTENTS), <usize>load<u32>(fp + F_EXT_CAP) * EXTENT);
  store<u32>(fp + F_EXTENTS, 0);
  store<u32>(fp + F_EXT_CAP, 0);
  store<u32>(fp + F_EXT_COUNT, 0);
  store<u64>(fp + F_INDEX_CAP, 0);
  store<u32>(fp + F_FLAGS, load<u32>(fp + F_FLAGS) & ~FL_LIVE);
}
