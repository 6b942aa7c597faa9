// x86-64 4-level page tables in linear memory. Table pages are 4 KiB pages carved from
// 128 KiB runs of the arena (so the small records allocated between tables leave no
// 4 KiB alignment gaps); freed tables go to a free list of their own. A non-leaf entry holds the linear-memory address of the next table in its address bits,
// a leaf holds the simulated physical address. 1 GiB pages are PUD leaves, 2 MiB pages PMD
// leaves (both with _PAGE_PSE). A HWPOISON entry is non-present with _PAGE_SWP_HWPOISON.

import { alloc, allocBound } from './arena';
import {
  HPAGE_1G_SHIFT, PTE_ADDR_MASK, _PAGE_PRESENT, _PAGE_PSE, _PAGE_RW, _PAGE_SIM_POISONED,
  _PAGE_SWP_HWPOISON, _PAGE_USER,
} from './constants';

const TABLE_BYTES: usize = 4096;
const TABLE_LINK: u64 = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER;
const RUN_BYTES: usize = 128 << 10;
const RUN_TABLES: u64 = <u64>(RUN_BYTES / TABLE_BYTES);

/** The unused rest of the current run, and the freed tables (linked through their first word). */
let runNext: usize = 0;
let runEnd: usize = 0;
let freeTables: usize = 0;

/** A zeroed, 4 KiB-aligned table page: a freed one, else the next of the current run. */
function table_alloc(): usize {
  if (freeTables != 0) {
    const t = freeTables;
    freeTables = load<usize>(t);
    memory.fill(t, 0, TABLE_BYTES);
    return t;
  }
  if (runNext == runEnd) {
    // alloc aligns blocks of 4 KiB and more to 4 KiB, and zeroes them.
    runNext = alloc(RUN_BYTES);
    runEnd = runNext + RUN_BYTES;
  }
  const t = runNext;
  runNext += TABLE_BYTES;
  return t;
}

function table_free(t: usize): void {
  store<usize>(t, freeTables);
  freeTables = t;
}

/** Heap bytes `n` table allocations may take: a new run per RUN_TABLES of them (a sum of bounds stays a bound). */
export function tables_bound(n: u64): u64 {
  return (n + RUN_TABLES - 1) / RUN_TABLES * allocBound(RUN_BYTES);
}

export function pgd_alloc(): usize {
  return table_alloc();
}

// @ts-ignore: decorator
@inline function slot(table: usize, va: u64, shift: u32): usize {
  return table + (<usize>((va >> shift) & 511) << 3);
}

/** The next-level table an entry links to, allocating it when `create` (else 0). */
function descend(entryPtr: usize, create: bool): usize {
  const e = load<u64>(entryPtr);
  if ((e & _PAGE_PRESENT) != 0) return <usize>(e & PTE_ADDR_MASK);
  if (!create) return 0;
  const t = table_alloc();
  store<u64>(entryPtr, <u64>t | TABLE_LINK);
  return t;
}

/**
 * Address of the leaf entry that maps `va` with a hugepage of shift `hs` (a PUD slot for
 * 1 GiB, a PMD slot for 2 MiB). Allocates missing tables when `create`, else returns 0
 * where a table is missing.
 */
export function huge_pte_offset(pgd: usize, va: u64, hs: u32, create: bool): usize {
  const pud = descend(slot(pgd, va, 39), create);
  if (pud == 0) return 0;
  if (hs == HPAGE_1G_SHIFT) return slot(pud, va, 30);
  const pmd = descend(slot(pud, va, 30), create);
  if (pmd == 0) return 0;
  return slot(pmd, va, 21);
}

export function mk_huge_pte(phys: u64, writable: bool, poisoned: bool): u64 {
  return (phys & PTE_ADDR_MASK) | _PAGE_PRESENT | _PAGE_USER | _PAGE_PSE | (writable ? _PAGE_RW : 0)
    | (poisoned ? _PAGE_SIM_POISONED : 0);
}

/** make_hugetlb_hwpoison_entry: the leaf stops translating and remembers the frame. */
export function make_hwpoison_entry(e: u64): u64 {
  return (e & PTE_ADDR_MASK) | _PAGE_PSE | _PAGE_SWP_HWPOISON;
}

// @ts-ignore: decorator
@inline export function pte_present(e: u64): bool {
  return (e & _PAGE_PRESENT) != 0;
}
// @ts-ignore: decorator
@inline export function is_hwpoison_entry(e: u64): bool {
  return (e & (_PAGE_PRESENT | _PAGE_SWP_HWPOISON)) == _PAGE_SWP_HWPOISON;
}
// @ts-ignore: decorator
@inline export function pte_phys(e: u64): u64 {
  return e & PTE_ADDR_MASK;
}

// ---- HGM: splitting hugepage leaves into tables of smaller leaves ----------------------

/** A present entry that links to a lower table (present, without _PAGE_PSE) at a hugepage level. */
// @ts-ignore: decorator
@inline export function is_table_link(e: u64): bool {
  return (e & (_PAGE_PRESENT | _PAGE_PSE)) == _PAGE_PRESENT;
}

/** Set by walk_leaf: the shift of the leaf it found (30, 21 or 12). */
export let leafShift: u32 = 0;

/**
 * The slot of the entry the MMU ends at for va below the hugepage-level slot `slot` (of
 * shift hs): the slot itself, or, where HGM split it, the PMD or PTE entry below.
 */
export function walk_leaf(hugeSlot: usize, va: u64, hs: u32): usize {
  let at = hugeSlot;
  let shift = hs;
  while (shift > 12 && is_table_link(load<u64>(at))) {
    shift -= 9;
    at = slot(<usize>(load<u64>(at) & PTE_ADDR_MASK), va, shift);
  }
  leafShift = shift;
  return at;
}

/**
 * Splits the huge leaf at `at` (shift `shift`, 30 or 21) into a table of 512 leaves one
 * level down (2 MiB leaves with _PAGE_PSE, or 4 KiB PTEs) mapping the same memory with the
 * same permissions. Returns the new table.
 */
export function split_huge_leaf(at: usize, shift: u32): usize {
  const e = load<u64>(at);
  const table = table_alloc();
  const child = shift - 9;
  const flags = (e & (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER)) | (child > 12 ? _PAGE_PSE : 0);
  const base = e & PTE_ADDR_MASK;
  for (let i: u64 = 0; i < 512; i++) store<u64>(table + (<usize>i << 3), (base + (i << child)) | flags);
  store<u64>(at, <u64>table | TABLE_LINK);
  return table;
}

/** Frees the tables below a split hugepage-level entry (shift hs); returns the pages freed. */
export function free_split_tables(e: u64, hs: u32): u32 {
  if (!is_table_link(e) || hs <= 12) return 0;
  const table = <usize>(e & PTE_ADDR_MASK);
  let pages: u32 = 1;
  for (let i: usize = 0; i < 512; i++) pages += free_split_tables(load<u64>(table + (i << 3)), hs - 9);
  table_free(table);
  return pages;
}

/**
 * free_pgd_range for one 1 GiB region: once no entry is left in the PMD table below its PUD
 * entry (every 2 MiB mapping there is gone), the table is freed and the PUD entry cleared,
 * so that a 1 GiB mapping placed there later finds an empty PUD entry, not a stale table.
 */
export function free_empty_pmd_table(pgd: usize, va: u64): void {
  const pud = descend(slot(pgd, va, 39), false);
  if (pud == 0) return;
  const at = slot(pud, va, 30);
  const e = load<u64>(at);
  if (!is_table_link(e)) return;
  const table = <usize>(e & PTE_ADDR_MASK);
  for (let i: usize = 0; i < 512; i++) if (load<u64>(table + (i << 3)) != 0) return;
  table_free(table);
  store<u64>(at, 0);
}

/** make_hwpoison_entry for a 4 KiB PTE. */
export function make_pte_hwpoison_entry(phys: u64): u64 {
  return (phys & PTE_ADDR_MASK) | _PAGE_SWP_HWPOISON;
}
