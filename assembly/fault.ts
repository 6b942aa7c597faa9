// handle_mm_fault for an empty hugepage-level entry: the HugeTLB or the anonymous THP fault
// handler, by the kind of VMA.

import { hugetlb_no_page } from './hugetlb';
import { V_FLAGS, VM_THP, VM_WRITE, vmaAt } from './procs';
import { do_huge_pmd_anonymous_page } from './thp';

export function handle_mm_fault(p: u32, vmaIdx: u32, va: u64, entry: usize): i32 {
  const flags = load<u32>(vmaAt(p, vmaIdx) + V_FLAGS);
  if ((flags & VM_THP) != 0) return do_huge_pmd_anonymous_page(p, va, (flags & VM_WRITE) != 0, entry);
  return hugetlb_no_page(p, vmaIdx, va, entry);
}
