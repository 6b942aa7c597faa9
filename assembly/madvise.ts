// MADV_HWPOISON, as mm/madvise.c does it: do_madvise checks the advice and the range first
// (whoever calls), then madvise_inject_error needs CAP_SYS_ADMIN and walks the range: each
// step pins its page with get_user_pages_fast (faulting it in if needed), runs
// memory_failure with the caller as consumer, and moves on by the size of the compound
// page it found. A failing step ends the call with its error and leaves the earlier steps
// applied.

import {
  EFAULT, EINVAL, EIO, EOPNOTSUPP, EPERM, LOG_INJECT, MADV_HWPOISON, MADV_SOFT_OFFLINE, PAGE_SHIFT,
  PAGE_SIZE,
} from './constants';
import { handle_mm_fault } from './fault';
import { VM_FAULT_OK } from './hugetlb';
import { memory_failure } from './mfr';
import { outbox_push } from './outbox';
import { huge_pte_offset, leafShift, pte_phys, pte_present, walk_leaf } from './pagetable';
import { HF_PANICKED, hostFlags } from './pool';
import { PF_CAP_SYS_ADMIN, V_FLAGS, V_SHIFT, VM_THP, find_vma, procAlive, procFlags, procHost, procPgd, procPid, vmaAt } from './procs';

export function sys_madvise(p: u32, addr: u64, length: u64, advice: u32): i32 {
  // do_madvise: madvise_behavior_valid, then the range.
  if (advice != MADV_HWPOISON && advice != MADV_SOFT_OFFLINE) return -EINVAL;
  if ((addr & (PAGE_SIZE - 1)) != 0) return -EINVAL;
  if (length == 0) return 0;
  // madvise_inject_error.
  if ((procFlags(p) & PF_CAP_SYS_ADMIN) == 0) return -EPERM;
  if (advice == MADV_SOFT_OFFLINE) return -EOPNOTSUPP;
  const h = procHost(p);
  const end = addr + length;
  for (let va = addr; va < end; ) {
    const vi = find_vma(p, va);
    if (vi < 0) return -EFAULT;
    const v = vmaAt(p, <u32>vi);
    const hs = load<u32>(v + V_SHIFT);
    const slot = huge_pte_offset(procPgd(p), va, hs, true);
    // GUP without FOLL_HWPOISON: a fault that raises SIGBUS, HWPOISON entries included,
    // is -EFAULT (vm_fault_to_errno).
    if (load<u64>(slot) == 0 && handle_mm_fault(p, <u32>vi, va, slot) != VM_FAULT_OK) return -EFAULT;
    const e = load<u64>(walk_leaf(slot, va, hs));
    if (!pte_present(e)) return -EFAULT;
    // page_size(compound_head(page)): the hugepage, or 4 KiB for a THP already split.
    const step: u64 = (load<u32>(v + V_FLAGS) & VM_THP) != 0 && leafShift == PAGE_SHIFT ? PAGE_SIZE : <u64>1 << hs;
    const phys = pte_phys(e) + ((va & ((<u64>1 << leafShift) - 1)) & ~(PAGE_SIZE - 1));
    outbox_push(LOG_INJECT, h, procPid(p), 0, phys >> PAGE_SHIFT, va);
    const ret = memory_failure(h, phys, <i32>p, false);
    if ((hostFlags(h) & HF_PANICKED) != 0) return -EIO;
    if (ret != 0) return ret;
    // A caller without a SIGBUS handler died of its signal: nothing is left to walk.
    if (!procAlive(p)) return 0;
    va += step;
  }
  return 0;
}
