// HugeTLB memfds: size, hugepage size, the KEEP bit, open fds, mapping VMAs, and the page
// cache (index -> folio) as one u32 slot per index: SLOT_EMPTY, SLOT_RESERVED (a
// reservation made at mmap time and not yet used), or the host-local frame + 1.

import { allocBound, free, realloc } from './arena';
import { SLOT_EMPTY } from './constants';

const FILE_SIZE: usize = 48;
const F_HOST: usize = 0;
const F_FLAGS: usize = 4;
const F_SHIFT: usize = 8;
const F_NFDS: usize = 12;
const F_NVMAS: usize = 16;
const F_CACHE: usize = 20;
const F_CACHE_CAP: usize = 24;
const F_BYTES: usize = 32; // u64 i_size

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

/** Capacity of the slot array: indices at or above it are SLOT_EMPTY. */
export function cacheCap(f: u32): u32 {
  return load<u32>(filePtr(f) + F_CACHE_CAP);
}

export function slotGet(f: u32, idx: u64): u32 {
  const fp = filePtr(f);
  if (idx >= <u64>load<u32>(fp + F_CACHE_CAP)) return SLOT_EMPTY;
  return load<u32>(<usize>load<u32>(fp + F_CACHE) + (<usize>idx << 2));
}

export function slotSet(f: u32, idx: u64, v: u32): void {
  const fp = filePtr(f);
  let cap = load<u32>(fp + F_CACHE_CAP);
  if (idx >= <u64>cap) {
    if (v == SLOT_EMPTY) return;
    let next = cap == 0 ? <u32>8 : cap;
    while (<u64>next <= idx) next *= 2;
    store<u32>(fp + F_CACHE, <u32>realloc(<usize>load<u32>(fp + F_CACHE), <usize>cap << 2, <usize>next << 2));
    store<u32>(fp + F_CACHE_CAP, next);
    cap = next;
  }
  store<u32>(<usize>load<u32>(fp + F_CACHE) + (<usize>idx << 2), v);
}

/** Heap bytes slotSet may take to store index idx of file f (-1: a new file). */
export function slot_bound(f: i32, idx: u64): u64 {
  if (f >= 0 && idx < <u64>cacheCap(<u32>f)) return 0;
  let next: u64 = 8;
  while (next <= idx) next <<= 1;
  return allocBound(next << 2);
}

/** The file is gone: its slot array goes back to the arena. */
export function file_free(f: u32): void {
  const fp = filePtr(f);
  free(<usize>load<u32>(fp + F_CACHE), <usize>load<u32>(fp + F_CACHE_CAP) << 2);
  store<u32>(fp + F_CACHE, 0);
  store<u32>(fp + F_CACHE_CAP, 0);
  store<u32>(fp + F_FLAGS, load<u32>(fp + F_FLAGS) & ~FL_LIVE);
}

