// Anonymous transparent hugepages: the PMD-mapped 2 MiB folios of a THP VMA, faulted in
// from the host's THP memory and given back when unmapped. Names follow mm/huge_memory.c.
// Their memory failures are handled in mfr.ts (memory_failure_thp). THP memory keeps its
// free folios on a stack of its own frame class, with the pools' stack code
// (enqueue_hugetlb_folio / dequeue_hugetlb_folio).

import { F_ANON, F_HWPOISON, F_THP_SPLIT, HPAGE_2M_SHIFT, PTE_ADDR_MASK, SC_THP } from './constants';
import { VM_FAULT_OK, VM_FAULT_SIGBUS } from './hugetlb';
import { is_table_link, mk_huge_pte, pte_phys } from './pagetable';
import { poisonedCount } from './poison';
import {
  H_FAULT_INS, addBuddyPages, addHostStat, addThpSplit, dequeue_hugetlb_folio, enqueue_hugetlb_folio,
  folioWord, framePhys, physToFrame, rawPerFolio, retireThpFolio, setFolioOwner, setFolioWord,
} from './pool';
import { procHost } from './procs';

/** do_huge_pmd_anonymous_page: maps a fresh THP folio at the empty PMD `entry`. */
export function do_huge_pmd_anonymous_page(p: u32, va: u64, writable: bool, entry: usize): i32 {
  const h = procHost(p);
  const local = dequeue_hugetlb_folio(h, SC_THP);
  // No THP memory left: the 4 KiB fallback is not modelled (docs/semantics.md, THP).
  if (local < 0) return VM_FAULT_SIGBUS;
  setFolioWord(h, SC_THP, <u32>local, F_ANON);
  setFolioOwner(h, SC_THP, <u32>local, p, <u32>(va >> HPAGE_2M_SHIFT));
  store<u64>(entry, mk_huge_pte(framePhys(h, SC_THP, <u32>local), writable, false));
  addHostStat(h, H_FAULT_INS, 1);
  return VM_FAULT_OK;
}

/**
 * zap_huge_pmd: the folio behind a THP VMA's PMD entry `e` (a leaf, or a PTE table once
 * split) is freed: back to THP memory when healthy; with a poisoned raw page it leaves THP
 * memory and its healthy raw pages go to the buddy allocator. The caller clears the entry.
 */
export function zap_huge_pmd(h: u32, e: u64): void {
  if (e == 0) return;
  // A split folio's frame is named by its first PTE (present or HWPOISON, both keep it).
  const phys = is_table_link(e) ? pte_phys(load<u64>(<usize>(e & PTE_ADDR_MASK))) : pte_phys(e);
  const local = <u32>physToFrame(h, phys);
  const word = folioWord(h, SC_THP, local);
  if ((word & F_THP_SPLIT) != 0) addThpSplit(h, -1);
  if ((word & F_HWPOISON) == 0) {
    enqueue_hugetlb_folio(h, SC_THP, local);
    return;
  }
  addBuddyPages(h, <f64>(rawPerFolio(SC_THP) - poisonedCount(h, SC_THP, local)));
  retireThpFolio(h, local);
}
