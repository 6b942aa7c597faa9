// x86-64 4-level page tables in linear memory. Table pages are 4 KiB blocks of the arena;
// a non-leaf entry holds the linear-memory address of the next table in its address bits,
// a leaf holds the simulated physical address. 1 GiB pages are PUD leaves, 2 MiB pages PMD
// leaves (both with _PAGE_PSE). A HWPOISON entry is non-present with _PAGE_SWP_HWPOISON.

import { alloc } from './arena';
import {
  HPAGE_1G_SHIFT, PTE_ADDR_MASK, _PAGE_PRESENT, _PAGE_PSE, _PAGE_RW, _PAGE_SIM_POISONED,
  _PAGE_SWP_HWPOISON, _PAGE_USER,
} from './constants';

const TABLE_BYTES: usize = 4096;
const TABLE_LINK: u64 = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER;

export function pgd_alloc(): usize {
  return alloc(TABLE_BYTES);
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
  const t = alloc(TABLE_BYTES);
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
