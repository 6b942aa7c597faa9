// What each kernel entry point may allocate at most, from its arguments and the state
// before it changes anything. The entry point reserves that much (arena_reserve) and
// returns -ENOMEM when linear memory cannot hold it, so no allocation fails halfway through
// a call and a failed call changes nothing. The bounds err on the large side: they only
// decide how close to wasm32's 4 GiB a call is still accepted.

import { HPAGE_1G_SHIFT, HPAGE_2M_SHIFT, MAP_ANONYMOUS, MAP_HUGETLB, MAP_HUGE_SHIFT, MAP_SHARED, PAGE_SHIFT } from './constants';
import { cache_bound, extentCount, file_create_bound, fileHost, fileShift } from './files';
import { put_files_bound } from './hugetlb';
import { outbox_bound } from './outbox';
import { tables_bound } from './pagetable';
import { poison_bound } from './poison';
import { HF_HGM, H_PT_PAGES, firstProc, hostCounter, hostFlags, hwCorruptedPages, poolFree, scOfShift } from './pool';
import {
  V_FILE, V_FLAGS, V_SHIFT, VM_SHARED, fd_install_bound, fdget, mappedBytes, procHost, procNext, vmaAt, vma_insert_bound,
  vmaCount,
} from './procs';
import { kill_queue_bound } from './signal';

/** Outbox records of one memory_failure() beyond three per process (log, signal, death). */
const MF_RECORDS: u64 = 6;
const TASK_SIZE: u64 = 0x7fff_ffff_f000;

/**
 * `n` memory_failure() events on host h, with `records` more outbox records around them:
 * new poison blocks, log records and signals for every process and VMA (a victim is queued
 * per VMA, collect_procs_file), the death queue, splits
 * (HGM: every VMA's leaf, a 1 GiB leaf into 2 MiB leaves and one of those into PTEs; THP:
 * the owner's PMD into PTEs), and the exit of a killed process.
 */
export function memory_failure_bound(h: u32, n: u64, records: u64): u64 {
  let procs: u64 = 0;
  let vmas: u64 = 0;
  for (let p = firstProc(h); p >= 0; p = procNext(<u32>p)) {
    procs++;
    vmas += <u64>vmaCount(<u32>p);
  }
  const splits: u64 = (hostFlags(h) & HF_HGM) != 0 ? 2 * vmas : 1;
  return poison_bound(n) + outbox_bound(n * (MF_RECORDS + 3 * (procs + vmas)) + records) + kill_queue_bound(procs + vmas)
    + tables_bound(n * splits) + put_files_bound(vmas);
}

/**
 * Faulting in hugepages over `span` bytes of p's mappings: the PUD and PMD tables of the
 * range, on an HGM host the split tables of poisoned folios (per poisoned raw page at most a
 * PTE table and its 1 GiB folio's PMD table, and per folio at most 513 tables), and the
 * page-cache extents of shared mappings.
 */
function fault_bound(p: u32, span: u64): u64 {
  let tables = (span >> HPAGE_1G_SHIFT) + 2 + (span >> 39) + 2;
  const h = procHost(p);
  if ((hostFlags(h) & HF_HGM) != 0) {
    const split = 2 * <u64>hwCorruptedPages(h);
    const most = ((span >> HPAGE_2M_SHIFT) + 2) * 513;
    tables += split < most ? split : most;
  }
  return tables_bound(tables) + fault_cache_bound(p, span);
}

/**
 * A fault on a shared mapping adds a folio to its file's page cache: at most two extents (a
 * reserved extent split around it, and its own), for at most as many hugepages as the span
 * covers and the pool has free. Each shared VMA's file is bounded on its own, as if it took
 * every fault: the sum stays a bound where files are mapped twice.
 */
function fault_cache_bound(p: u32, span: u64): u64 {
  let bytes: u64 = 0;
  for (let i: u32 = 0; i < vmaCount(p); i++) {
    const v = vmaAt(p, i);
    if ((load<u32>(v + V_FLAGS) & VM_SHARED) == 0) continue;
    const f = load<u32>(v + V_FILE);
    const hs = load<u32>(v + V_SHIFT);
    const free = <u64>poolFree(fileHost(f), scOfShift(hs));
    const hugepages = (span >> hs) + 2;
    bytes += cache_bound(<i32>f, 2 * (hugepages < free ? hugepages : free));
  }
  return bytes;
}

/** The span a call on [addr, addr+len) can fault in: no more than p maps (summed only for long ranges). */
function mappedSpan(p: u32, len: u64): u64 {
  if (len <= (<u64>1 << HPAGE_1G_SHIFT)) return len;
  const mapped = mappedBytes(p);
  return len < mapped ? len : mapped;
}

/** sys_access: fault-ins over the range, then at most one machine check and one SIGBUS. */
export function access_bound(p: u32, len: u64): u64 {
  return fault_bound(p, mappedSpan(p, len)) + memory_failure_bound(procHost(p), 1, 2);
}

/**
 * sys_madvise(MADV_HWPOISON): per step a fault-in and a memory_failure(). A step advances by
 * the page it finds (madvise_inject_error): a hugepage, or 4 KiB inside a 2 MiB region split
 * to PTEs (HGM, THP), of which there are at most as many as the host's split PTE tables.
 */
export function madvise_bound(p: u32, len: u64): u64 {
  const span = mappedSpan(p, len);
  const huge = (span >> HPAGE_2M_SHIFT) + 2;
  const tables = <u64>hostCounter(procHost(p), H_PT_PAGES);
  const pages = (span >> PAGE_SHIFT) + 2;
  let steps = huge + (tables < huge ? tables : huge) * (<u64>1 << (HPAGE_2M_SHIFT - PAGE_SHIFT));
  if (steps > pages) steps = pages;
  return fault_bound(p, span) + memory_failure_bound(procHost(p), steps, steps);
}

/**
 * Files released by a call (close, truncate, punch hole, munmap, exit): each poisoned
 * hugepage dissolved at release leaves a work record and, under KEEP v3, a refcount-underflow
 * log line; a host has at most as many poisoned hugepages as poisoned raw pages.
 */
export function release_bound(p: u32): u64 {
  return outbox_bound(2 * <u64>hwCorruptedPages(procHost(p)));
}

/** sys_mmap: a new file (shared anonymous), a VMA, and the reservations in the page cache. */
export function mmap_bound(p: u32, len: u64, flags: u32, fd: i32, offset: u64): u64 {
  const anon = (flags & MAP_ANONYMOUS) != 0;
  const f = anon ? -1 : fdget(p, fd);
  let hs = HPAGE_2M_SHIFT;
  if (f >= 0) hs = fileShift(<u32>f);
  else if (anon && (flags & MAP_HUGETLB) != 0 && ((flags >> MAP_HUGE_SHIFT) & 0x3f) == HPAGE_1G_SHIFT) hs = HPAGE_1G_SHIFT;
  let bytes = file_create_bound() + vma_insert_bound(p);
  // Shared mappings reserve the empty indices of [offset, offset + len): an extent per empty
  // run (at most one more than the extents there are), each inserted before it merges.
  if ((flags & MAP_SHARED) != 0 && (anon || f >= 0)) {
    const pages = ((len < TASK_SIZE ? len : TASK_SIZE) >> hs) + 1;
    const runs = f < 0 ? 1 : <u64>extentCount(<u32>f) + 1;
    bytes += cache_bound(f, (pages < runs ? pages : runs) + 1);
  }
  return bytes;
}

/**
 * sys_fallocate: a folio per index of the range, as many as the pool has free (at most two
 * extents each, a split and its own), or a hole punched (one extent split in two).
 */
export function fallocate_bound(p: u32, fd: i32, offset: u64, len: u64): u64 {
  const f = fdget(p, fd);
  if (f < 0 || len == 0) return 0;
  const hs = fileShift(<u32>f);
  const pages = ((offset + len + ((<u64>1 << hs) - 1)) >> hs) - (offset >> hs);
  const free = <u64>poolFree(fileHost(<u32>f), scOfShift(hs));
  return cache_bound(f, 2 * (pages < free ? pages : free) + 1) + release_bound(p);
}

/** sys_memfd_create: a file and an fd. */
export function memfd_create_bound(p: u32): u64 {
  return file_create_bound() + fd_install_bound(p);
}

/** sys_munmap: a VMA split in two, and the files whose last mapping goes. */
export function munmap_bound(p: u32): u64 {
  return vma_insert_bound(p) + put_files_bound(<u64>vmaCount(p) + 1) + release_bound(p);
}

/** sys_exit: the files whose last mapping goes. */
export function exit_bound(p: u32): u64 {
  return put_files_bound(<u64>vmaCount(p)) + release_bound(p);
}

/** sys_sendfd: an fd in the receiver. */
export function sendfd_bound(q: u32): u64 {
  return fd_install_bound(q);
}
