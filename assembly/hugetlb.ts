// HugeTLB memory management: fault-in, the page cache's life cycle (truncate, punch hole,
// release), unmapping and process exit. Names follow mm/hugetlb.c and fs/hugetlbfs.

import {
  F_ANON, F_FILE, F_HWPOISON, F_LEAKED, HPAGE_1G_SHIFT, HPAGE_2M_SHIFT, LOG_REFCOUNT_UNDERFLOW, PAGE_SHIFT,
  PTE_ADDR_MASK, SLOT_EMPTY, SLOT_RESERVED,
} from './constants';
import {
  addFileFds, addFileVmas, cacheCap, cache_clear, extentCount, extentFrom, extentLen, extentStart, extentValue,
  fileFds, fileHost, fileIndices, fileShift, fileLive, fileVmas, file_free, slotGet, slotSet,
} from './files';
import { POLICY_DEFAULT, POLICY_HGM, POLICY_KEEP, file_policy } from './policy';
import { outbox_push } from './outbox';
import { doublingBound, realloc } from './arena';
import { zap_huge_pmd } from './thp';
import { work_leaf, work_release_dissolve, work_split_table } from './work';
import {
  free_empty_pmd_table, free_split_tables, huge_pte_offset, is_table_link, make_pte_hwpoison_entry, mk_huge_pte,
  pte_phys, pte_present, split_huge_leaf,
} from './pagetable';
import { BIT_CORRUPTED, BIT_POISONED, firstRawSet, poisonedCount } from './poison';
import {
  HF_KEEP_V3, H_FAULT_INS, H_PT_PAGES, H_REFCOUNT_UNDERFLOWS, addBuddyPages, bumpCounter, hostFlags, addCounter, addHostStat, addPoolResv, shiftOf,
  dequeue_hugetlb_folio, dissolveFolio, enqueue_hugetlb_folio, firstProc, folioWord, framePhys,
  physToFrame, foundSc, poolAvailable, rawPerFolio, scOfShift, setFolioOwner, setFolioWord,
} from './pool';
import {
  V_END, V_FILE, V_FLAGS, V_PGOFF, V_SHIFT, V_START, VM_SHARED, VM_THP, VM_WRITE, fdLimit,
  fd_clear, i_mmap_begin, i_mmap_next, i_mmap_proc, vma_end_index, vma_first_index,
  vma_index_address, current, fdget, first_vma_above, insert_vma, markDead, procHost, procPgd, procPid,
  remove_vma, vmaAt, vmaCount,
} from './procs';

export const NO_FILE: u32 = 0xffff_ffff;
export const VM_FAULT_OK: i32 = 0;
export const VM_FAULT_SIGBUS: i32 = 1;
export const VM_FAULT_HWPOISON_LARGE: i32 = 2;

/** A poisoned folio that leaves use: dissolved (nr-1) with its healthy raw pages freed. */
export function dissolve_poisoned_folio(h: u32, sc: u32, local: u32): void {
  addBuddyPages(h, <f64>(rawPerFolio(sc) - poisonedCount(h, sc, local)));
  dissolveFolio(h, sc, local);
}

/**
 * The KEEP series v3 as posted, at the release of a kept folio: it drops one reference per
 * raw page a real UE poisoned while memory_failure held only one (acknowledged in the v3
 * review). From two such raw pages on, the folio's refcount underflows; the first page
 * freed with it is reported by bad_page() (mm/page_alloc.c).
 */
function keep_v3_put_hwpoison_refs(h: u32, sc: u32, local: u32): void {
  if ((hostFlags(h) & HF_KEEP_V3) == 0 || poisonedCount(h, sc, local, BIT_CORRUPTED) < 2) return;
  bumpCounter(h, H_REFCOUNT_UNDERFLOWS);
  const p = current();
  outbox_push(LOG_REFCOUNT_UNDERFLOW, h, p < 0 ? 0 : procPid(<u32>p), 0, framePhys(h, sc, local) >> PAGE_SHIFT, 0);
}

/**
 * The page cache lets go of a folio (remove_inode_single_folio + free_huge_folio): a healthy
 * one returns to the pool; a poisoned one is dissolved under KEEP and, under DEFAULT, stays
 * pinned by memory-failure's reference: leaked, never returned. The caller empties its index.
 */
function remove_from_page_cache(f: u32, local: u32): void {
  const h = fileHost(f);
  const sc = scOfShift(fileShift(f));
  const policy = file_policy(f);
  if ((folioWord(h, sc, local) & F_HWPOISON) == 0) {
    enqueue_hugetlb_folio(h, sc, local);
  } else if (policy != POLICY_DEFAULT) {
    if (policy == POLICY_KEEP) keep_v3_put_hwpoison_refs(h, sc, local);
    dissolve_poisoned_folio(h, sc, local);
    work_release_dissolve(h, sc, policy);
  } else {
    setFolioWord(h, sc, local, F_LEAKED | F_HWPOISON);
  }
}

/** remove_inode_hugepages + hugetlb_unreserve_pages over indices [from, to), in index order. */
export function remove_inode_hugepages(f: u32, from: u64, to: u64): void {
  const h = fileHost(f);
  const sc = scOfShift(fileShift(f));
  const end = to < cacheCap(f) ? to : cacheCap(f);
  for (let i = extentFrom(f, from); i < extentCount(f) && extentStart(f, i) < end; i++) {
    const start = extentStart(f, i);
    const lo = from > start ? from : start;
    const stop = start + <u64>extentLen(f, i);
    const hi = end < stop ? end : stop;
    const v = extentValue(f, i);
    if (v == SLOT_RESERVED) {
      addPoolResv(h, sc, -<i32>(hi - lo));
    } else {
      for (let idx = lo; idx < hi; idx++) remove_from_page_cache(f, v - 1 + <u32>(idx - start));
    }
  }
  cache_clear(f, from, end);
}

/** hugetlb_vmdelete_list: clears every shared mapper's leaves for file indices [from, to). */
export function hugetlb_vmdelete_list(f: u32, from: u64, to: u64): void {
  i_mmap_begin(firstProc(fileHost(f)), f);
  for (let v = i_mmap_next(); v != 0; v = i_mmap_next()) {
    const hs = load<u32>(v + V_SHIFT);
    const lo = max(from, vma_first_index(v));
    const hi = min(to, vma_end_index(v));
    for (let idx = lo; idx < hi; idx++) {
      clear_huge_entry(fileHost(f), huge_pte_offset(procPgd(i_mmap_proc()), vma_index_address(v, idx), hs, false), hs);
    }
  }
}

/** Empties a hugepage-level entry (slot may be 0: no table), freeing HGM split tables. */
function clear_huge_entry(h: u32, slot: usize, hs: u32): void {
  if (slot == 0) return;
  const freed = free_split_tables(load<u64>(slot), hs);
  if (freed != 0) addCounter(h, H_PT_PAGES, -<i32>freed);
  store<u64>(slot, 0);
}

/**
 * HGM and THP: splits p's mapping of a hugepage (its hugepage-level slot, shift hs, present)
 * down to the 4 KiB PTE of raw page `raw` and makes that PTE a HWPOISON entry. Regions
 * already split are reused; the table pages allocated are counted.
 */
export function split_to_raw_pte(h: u32, slot: usize, va: u64, hs: u32, raw: u32): void {
  const rawVa = (va & ~((<u64>1 << hs) - 1)) + (<u64>raw << PAGE_SHIFT);
  let at = slot;
  let shift = hs;
  while (shift > PAGE_SHIFT) {
    if (!is_table_link(load<u64>(at))) {
      if (!pte_present(load<u64>(at))) return;
      split_huge_leaf(at, shift);
      addCounter(h, H_PT_PAGES, 1);
      work_split_table();
    }
    shift -= 9;
    at = <usize>(load<u64>(at) & PTE_ADDR_MASK) + (<usize>((rawVa >> shift) & 511) << 3);
  }
  store<u64>(at, make_pte_hwpoison_entry(pte_phys(load<u64>(at))));
  work_leaf();
}

/** Splits a mapping of a poisoned folio down to a HWPOISON PTE per poisoned raw page. */
export function split_poisoned_to_raw_ptes(h: u32, sc: u32, local: u32, slot: usize, va: u64): void {
  const hs = shiftOf(sc);
  const n = rawPerFolio(sc);
  for (let raw = firstRawSet(h, sc, local, 0, n, BIT_POISONED); raw >= 0; raw = firstRawSet(h, sc, local, <u32>raw + 1, n, BIT_POISONED)) {
    split_to_raw_pte(h, slot, va, hs, <u32>raw);
  }
}

/** The last fd and the last mapping are gone: every hugepage and reservation goes. */
function hugetlbfs_evict_inode(f: u32): void {
  remove_inode_hugepages(f, 0, cacheCap(f));
  file_free(f);
}

function maybe_release(f: u32): void {
  if (fileLive(f) && fileFds(f) == 0 && fileVmas(f) == 0) hugetlbfs_evict_inode(f);
}

export function fput(f: u32): void {
  addFileFds(f, -1);
  maybe_release(f);
}

// Files whose last mapping went in the current munmap; released once the whole range is
// unmapped (as the kernel's deferred fput does), so private pages are freed first.
let putFiles: usize = 0;
let putCap: u32 = 0;
let putCount: u32 = 0;

function vma_put_file(f: u32): void {
  if (f == NO_FILE) return;
  addFileVmas(f, -1);
  if (putCount == putCap) {
    const next = putCap == 0 ? <u32>8 : putCap * 2;
    putFiles = realloc(putFiles, <usize>putCap << 2, <usize>next << 2);
    putCap = next;
  }
  store<u32>(putFiles + (<usize>putCount << 2), f);
  putCount++;
}

/** Heap bytes one munmap or exit may take to defer the release of `n` files. */
export function put_files_bound(n: u64): u64 {
  return doublingBound(putCap, n, 4, 8);
}

function release_put_files(): void {
  for (let i: u32 = 0; i < putCount; i++) maybe_release(load<u32>(putFiles + (<usize>i << 2)));
  putCount = 0;
}

/**
 * Allocates a folio from the pool: with a reservation (it is used up) or from what is not
 * reserved. Returns the local frame or -1.
 */
function alloc_hugetlb_folio(h: u32, sc: u32, reserved: bool): i32 {
  if (!reserved && poolAvailable(h, sc) == 0) return -1;
  const local = dequeue_hugetlb_folio(h, sc);
  if (local >= 0 && reserved) addPoolResv(h, sc, -1);
  return local;
}

/** Instantiates page-cache index idx of f from the pool (fallocate, fault). -1 when none. */
export function hugetlb_add_to_page_cache(f: u32, idx: u64): i32 {
  const h = fileHost(f);
  const sc = scOfShift(fileShift(f));
  const local = alloc_hugetlb_folio(h, sc, slotGet(f, idx) == SLOT_RESERVED);
  if (local < 0) return -1;
  setFolioWord(h, sc, <u32>local, F_FILE);
  setFolioOwner(h, sc, <u32>local, f, <u32>idx);
  slotSet(f, idx, <u32>local + 1);
  return local;
}

/**
 * hugetlb_no_page: the leaf at `entry` is empty; find or allocate the folio and map it.
 * Returns VM_FAULT_OK, VM_FAULT_SIGBUS (beyond i_size or no hugepage) or
 * VM_FAULT_HWPOISON_LARGE (a DEFAULT folio that memory failure took).
 */
export function hugetlb_no_page(p: u32, vmaIdx: u32, va: u64, entry: usize): i32 {
  const v = vmaAt(p, vmaIdx);
  const hs = load<u32>(v + V_SHIFT);
  const sc = scOfShift(hs);
  const f = load<u32>(v + V_FILE);
  const flags = load<u32>(v + V_FLAGS);
  const h = procHost(p);
  const hva = va & ~((<u64>1 << hs) - 1);
  const idx = (hva - load<u64>(v + V_START) + load<u64>(v + V_PGOFF)) >> hs;
  if (f != NO_FILE && idx >= fileIndices(f)) return VM_FAULT_SIGBUS;
  let local: i32;
  if ((flags & VM_SHARED) != 0) {
    const s = slotGet(f, idx);
    if (s != SLOT_EMPTY && s != SLOT_RESERVED) {
      local = <i32>(s - 1);
      if ((folioWord(h, sc, <u32>local) & F_HWPOISON) != 0 && file_policy(f) == POLICY_DEFAULT) return VM_FAULT_HWPOISON_LARGE;
    } else {
      local = hugetlb_add_to_page_cache(f, idx);
      if (local < 0) return VM_FAULT_SIGBUS;
    }
  } else {
    // A private mapping's first touch gets the process's own copy, from the VMA's reservation.
    local = alloc_hugetlb_folio(h, sc, true);
    if (local < 0) return VM_FAULT_SIGBUS;
    setFolioWord(h, sc, <u32>local, F_ANON);
    setFolioOwner(h, sc, <u32>local, p, <u32>(hva >> hs));
  }
  const poisoned = (folioWord(h, sc, <u32>local) & F_HWPOISON) != 0;
  // A kept folio is mapped huge and marked; an HGM folio is mapped split around its poison.
  const hgm = poisoned && f != NO_FILE && file_policy(f) == POLICY_HGM;
  store<u64>(entry, mk_huge_pte(framePhys(h, sc, <u32>local), (flags & VM_WRITE) != 0, poisoned && !hgm));
  if (hgm) split_poisoned_to_raw_ptes(h, sc, <u32>local, entry, hva);
  addHostStat(h, H_FAULT_INS, 1);
  return VM_FAULT_OK;
}

/**
 * Clears the leaves of [a, b) in VMA v; private and THP folios go back, unused reservations
 * too.
 */
function zap_vma_range(p: u32, v: usize, a: u64, b: u64): void {
  const hs = load<u32>(v + V_SHIFT);
  const sc = scOfShift(hs);
  const h = procHost(p);
  const priv = (load<u32>(v + V_FLAGS) & VM_SHARED) == 0;
  const thp = (load<u32>(v + V_FLAGS) & VM_THP) != 0;
  for (let va = a; va < b; va += <u64>1 << hs) {
    const slot = huge_pte_offset(procPgd(p), va, hs, false);
    const e = slot != 0 ? load<u64>(slot) : 0;
    if (thp) {
      zap_huge_pmd(h, e);
    } else if (priv) {
      if (e == 0) addPoolResv(h, sc, -1);
      else if (pte_present(e)) {
        const local = physToFrame(h, pte_phys(e));
        enqueue_hugetlb_folio(h, foundSc, <u32>local);
      }
      // A HWPOISON leaf's folio was dissolved when it was poisoned.
    }
    clear_huge_entry(h, slot, hs);
  }
  // The PMD tables of 1 GiB regions left without a 2 MiB mapping go (free_pgtables).
  if (hs == HPAGE_2M_SHIFT) {
    for (let region = a >> HPAGE_1G_SHIFT; region <= (b - 1) >> HPAGE_1G_SHIFT; region++) {
      free_empty_pmd_table(procPgd(p), region << HPAGE_1G_SHIFT);
    }
  }
}

/** do_munmap over [start, end): whole, trimmed and split VMAs; then the files let go. */
export function do_munmap(p: u32, start: u64, end: u64): void {
  unmap_region(p, start, end);
  release_put_files();
}

function unmap_region(p: u32, start: u64, end: u64): void {
  let i = first_vma_above(p, start);
  while (i < vmaCount(p)) {
    const v = vmaAt(p, i);
    const vs = load<u64>(v + V_START);
    const ve = load<u64>(v + V_END);
    if (vs >= end) break;
    const a = vs > start ? vs : start;
    const b = ve < end ? ve : end;
    zap_vma_range(p, v, a, b);
    const f = load<u32>(v + V_FILE);
    if (a == vs && b == ve) {
      remove_vma(p, i);
      vma_put_file(f);
      continue;
    }
    if (a == vs) {
      store<u64>(v + V_START, b);
      store<u64>(v + V_PGOFF, load<u64>(v + V_PGOFF) + (b - vs));
    } else if (b == ve) {
      store<u64>(v + V_END, a);
    } else {
      const pgoff = load<u64>(v + V_PGOFF) + (b - vs);
      const flags = load<u32>(v + V_FLAGS);
      const hs = load<u32>(v + V_SHIFT);
      store<u64>(v + V_END, a);
      insert_vma(p, b, ve, pgoff, f, flags, hs);
      if (f != NO_FILE) addFileVmas(f, 1);
      i++;
    }
    i++;
  }
}

/** do_exit: the mm goes (every VMA unmapped, in address order), then the fds. */
export function do_exit(p: u32): void {
  if (vmaCount(p) > 0) do_munmap(p, load<u64>(vmaAt(p, 0) + V_START), load<u64>(vmaAt(p, vmaCount(p) - 1) + V_END));
  const limit = fdLimit(p);
  for (let fd: i32 = 3; fd < limit; fd++) {
    const f = fdget(p, fd);
    if (f < 0) continue;
    fd_clear(p, fd);
    fput(<u32>f);
  }
  markDead(p);
}
