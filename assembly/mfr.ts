// memory_failure() for HugeTLB folios and the recovery policies: DEFAULT (hard offline of
// the whole hugepage), MFD_MF_KEEP_UE_MAPPED (keep it mapped; v4 intent or v3 as posted) and
// HGM (split the mappings down to 4 KiB around the poisoned raw page); and for anonymous
// THP folios (split to 4 KiB, unless the split fails).
// Structure and names follow mm/memory-failure.c.

import {
  BUS_MCEERR_AO, BUS_MCEERR_AR, EBUSY, EHWPOISON, F_ANON, F_DISSOLVED, F_FILE, F_FREE, F_HWPOISON, F_THP_SPLIT,
  HPAGE_2M_SHIFT, LOG_NOT_RECOVERED, LOG_PANIC, LOG_RECOVERY, LOG_SENDING, MF_FAILED,
  MF_IGNORED, MF_MSG_ALREADY_POISONED, MF_MSG_BUDDY, MF_MSG_DIRTY_LRU, MF_MSG_FREE_HUGE, MF_MSG_GET_HWPOISON,
  MF_MSG_HUGE, MF_MSG_UNSPLIT_THP, MF_RECOVERED, PAGE_SHIFT, SC_THP, SI_KERNEL, _PAGE_SIM_POISONED,
} from './constants';
import { slotGet } from './files';
import { dissolve_poisoned_folio, split_poisoned_to_raw_ptes, split_to_raw_pte } from './hugetlb';
import { POLICY_DEFAULT, POLICY_HGM, POLICY_KEEP, POLICY_NONE, POLICY_THP, file_policy } from './policy';
import { work_begin, work_dissolve, work_end, work_leaf, work_procs, work_signal, work_vma } from './work';
import { outbox_push } from './outbox';
import { huge_pte_offset, is_hwpoison_entry, make_hwpoison_entry, pte_present } from './pagetable';
import { BIT_CORRUPTED, BIT_POISONED, rawSet, rawTest } from './poison';
import {
  H_BYTES_LOST, H_HUGEPAGES_LOST, H_REPEAT_MCE, H_MF_FAILED, H_MF_IGNORED, H_MF_RECOVERED, H_MF_TOTAL,
  HF_EARLY_KILL, HF_KEEP_V3, addHostStat,
  HF_PANICKED, HF_RECOVERY, addBuddyPages, addHwCorrupted, bumpCounter, dissolve_free_hugetlb_folio,
  firstProc, folioIndex, folioOwner, folioState, folioWord, framePhys, hostFlags, physToFrame,
  foundSc, rawPerFolio, setFolioWord, setHostFlag, shiftOf, addThpSplit, take_free_thp_folio,
  thp_split_fails,
} from './pool';
import {
  PF_MCE_EARLY, PF_MCE_LATE, V_FILE, V_FLAGS, VM_SHARED,
  NO_ADDRESS, find_vma, i_mmap_begin, i_mmap_next, i_mmap_proc, markDead, procAlive, procFlags,
  procHost, procNext, procPgd, procPid, vmaAt, vmaCount, vma_index_address,
} from './procs';
import { reap_killed, send_sigbus } from './signal';

/** Returned by folio_vaddr when the process does not map the folio. */
export const NOT_MAPPED: u64 = 0xffff_ffff_ffff_ffff;

/** Set by folio_vaddr: the index after the VMA it found, to continue the search there. */
let vmaAfter: u32 = 0;

/**
 * The virtual address at which process p maps raw page `raw` of a folio in its lowest VMA
 * at or above index `from` that covers it, or NOT_MAPPED. A file folio counts only while it
 * is in the page cache. A VMA covers the folio whether or not its leaf was faulted in.
 */
export function folio_vaddr(p: u32, h: u32, sc: u32, local: u32, raw: u32, from: u32 = 0): u64 {
  const state = folioState(h, sc, local);
  const hs = shiftOf(sc);
  const rawOff = <u64>raw << PAGE_SHIFT;
  if (state == F_ANON) {
    if (from > 0 || folioOwner(h, sc, local) != p) return NOT_MAPPED;
    const hva = <u64>folioIndex(h, sc, local) << hs;
    const vi = find_vma(p, hva);
    if (vi < 0 || (load<u32>(vmaAt(p, <u32>vi) + V_FLAGS) & VM_SHARED) != 0) return NOT_MAPPED;
    vmaAfter = <u32>vi + 1;
    return hva + rawOff;
  }
  if (state != F_FILE) return NOT_MAPPED;
  const f = folioOwner(h, sc, local);
  const idx = <u64>folioIndex(h, sc, local);
  if (slotGet(f, idx) != local + 1) return NOT_MAPPED;
  const n = vmaCount(p);
  for (let i = from; i < n; i++) {
    const v = vmaAt(p, i);
    if (load<u32>(v + V_FILE) != f || (load<u32>(v + V_FLAGS) & VM_SHARED) == 0) continue;
    const va = vma_index_address(v, idx);
    if (va != NO_ADDRESS) {
      vmaAfter = i + 1;
      return va + rawOff;
    }
  }
  return NOT_MAPPED;
}

/** Whether p's page table has a present or HWPOISON leaf at va (of a hugepage of shift hs). */
function leaf_installed(p: u32, va: u64, hs: u32): bool {
  const slot = huge_pte_offset(procPgd(p), va, hs, false);
  if (slot == 0) return false;
  const e = load<u64>(slot);
  return pte_present(e) || is_hwpoison_entry(e);
}

/**
 * folio_mapped: some live process's page table maps the folio (a present leaf, or the table
 * a split left below it). A folio nobody maps signals nobody (hwpoison_user_mappings).
 */
function folio_mapped(h: u32, sc: u32, local: u32): bool {
  const hs = shiftOf(sc);
  for (let p = firstProc(h); p >= 0; p = procNext(<u32>p)) {
    if (!procAlive(<u32>p)) continue;
    for (let va = folio_vaddr(<u32>p, h, sc, local, 0); va != NOT_MAPPED; va = folio_vaddr(<u32>p, h, sc, local, 0, vmaAfter)) {
      const slot = huge_pte_offset(procPgd(<u32>p), va, hs, false);
      if (slot != 0 && pte_present(load<u64>(slot))) return true;
    }
  }
  return false;
}

/** task_early_kill: prctl(PR_MCE_KILL) first, else vm.memory_failure_early_kill. */
function task_early_kill(p: u32): bool {
  const f = procFlags(p);
  if ((f & PF_MCE_EARLY) != 0) return true;
  if ((f & PF_MCE_LATE) != 0) return false;
  return (hostFlags(procHost(p)) & HF_EARLY_KILL) != 0;
}

function log(type: u32, h: u32, pid: u32, arg: u32, pfn: u64): void {
  outbox_push(type, h, pid, arg, pfn, 0);
}

/**
 * action_result: logs "recovery action for <type>: <result>" and counts the event (total and
 * its result) with its kernel work, except for an already-poisoned page, which is logged
 * only (the Aug 2025 "redundant updates for already poisoned pages" fix).
 */
function action_result(h: u32, pfn: u64, type: u32, result: u32, policy: u32): void {
  log(LOG_RECOVERY, h, 0, type | (result << 8), pfn);
  if (type == MF_MSG_ALREADY_POISONED) return;
  bumpCounter(h, H_MF_TOTAL);
  bumpCounter(h, result == MF_RECOVERED ? H_MF_RECOVERED : result == MF_FAILED ? H_MF_FAILED : H_MF_IGNORED);
  work_end(h, policy);
}

/** kill_proc: SIGBUS with BUS_MCEERR_AR/AO, logged as the kernel does. */
function kill_proc(p: u32, pfn: u64, code: u32, addr: u64, lsb: u32): void {
  work_signal();
  log(LOG_SENDING, procHost(p), procPid(p), 0, pfn);
  send_sigbus(p, code, addr, lsb);
}

/**
 * collect_procs + kill_procs, for a folio some process maps: one victim per VMA covering it
 * (collect_procs_file queues a task per VMA), processes in pid order and each one's VMAs in
 * address order; the consumer gets AR, early-kill mappers AO, late-kill mappers nothing
 * (they find out on access).
 */
function kill_procs(h: u32, sc: u32, local: u32, raw: u32, pfn: u64, consumer: i32, lsb: u32): void {
  if (!folio_mapped(h, sc, local)) return;
  for (let p = firstProc(h); p >= 0; p = procNext(<u32>p)) {
    if (!procAlive(<u32>p)) continue;
    work_procs(1);
    const early = p != consumer && task_early_kill(<u32>p);
    for (let va = folio_vaddr(<u32>p, h, sc, local, raw); va != NOT_MAPPED; va = folio_vaddr(<u32>p, h, sc, local, raw, vmaAfter)) {
      work_vma();
      if (p == consumer) kill_proc(<u32>p, pfn, BUS_MCEERR_AR, va, lsb);
      else if (early) kill_proc(<u32>p, pfn, BUS_MCEERR_AO, va, lsb);
    }
  }
}

/** p's present leaf at va becomes a HWPOISON entry, or only gets the poisoned mark. */
function update_leaf(p: u32, va: u64, hs: u32, hwpoison: bool): void {
  const slot = huge_pte_offset(procPgd(p), va, hs, false);
  if (slot == 0) return;
  const e = load<u64>(slot);
  if (!pte_present(e)) return;
  store<u64>(slot, hwpoison ? make_hwpoison_entry(e) : e | _PAGE_SIM_POISONED);
  // Marking a kept leaf is the simulator's own bookkeeping; unmapping is kernel work.
  if (hwpoison) work_leaf();
}

/**
 * Every mapper's leaf for the folio (the file's shared VMAs, or the owner of a private
 * folio): DEFAULT turns it into a HWPOISON entry (try_to_unmap), KEEP only marks it.
 */
function update_mapper_leaves(h: u32, sc: u32, local: u32, state: u32, hwpoison: bool): void {
  const hs = shiftOf(sc);
  if (state == F_ANON) {
    update_leaf(folioOwner(h, sc, local), <u64>folioIndex(h, sc, local) << hs, hs, hwpoison);
    return;
  }
  const idx = <u64>folioIndex(h, sc, local);
  i_mmap_begin(firstProc(h), folioOwner(h, sc, local));
  for (let v = i_mmap_next(); v != 0; v = i_mmap_next()) {
    const va = vma_index_address(v, idx);
    if (va != NO_ADDRESS) update_leaf(i_mmap_proc(), va, hs, hwpoison);
  }
}

/** HGM: in every mapper whose leaf for the folio is present, split it around the raw page. */
function hgm_split_mappers(h: u32, sc: u32, local: u32, raw: u32): void {
  const hs = shiftOf(sc);
  const idx = <u64>folioIndex(h, sc, local);
  i_mmap_begin(firstProc(h), folioOwner(h, sc, local));
  for (let v = i_mmap_next(); v != 0; v = i_mmap_next()) {
    const va = vma_index_address(v, idx);
    if (va == NO_ADDRESS) continue;
    const slot = huge_pte_offset(procPgd(i_mmap_proc()), va, hs, false);
    if (slot != 0) split_to_raw_pte(h, slot, va, hs, raw);
  }
}

/** vm.memory_failure_recovery = 0: the host panics and everything on it dies. */
function panic(h: u32, pfn: u64): void {
  log(LOG_PANIC, h, 0, 0, pfn);
  setHostFlag(h, HF_PANICKED, true);
  for (let p = firstProc(h); p >= 0; p = procNext(<u32>p)) markDead(<u32>p);
}

/**
 * kill_accessing_process: the consumer of an already-poisoned page gets AR again, at the
 * lowest address where its page table still maps the folio (a present or HWPOISON leaf:
 * the walk of hwpoison_walk_ops). Returns whether it was signalled (memory_failure then
 * returns -EHWPOISON).
 */
function kill_accessing_process(h: u32, sc: u32, local: u32, raw: u32, pfn: u64, consumer: i32, lsb: u32): bool {
  if (consumer < 0) return false;
  const p = <u32>consumer;
  const hs = shiftOf(sc);
  for (let va = folio_vaddr(p, h, sc, local, raw); va != NOT_MAPPED; va = folio_vaddr(p, h, sc, local, raw, vmaAfter)) {
    if (!leaf_installed(p, va, hs)) continue;
    kill_proc(p, pfn, BUS_MCEERR_AR, va, lsb);
    return true;
  }
  return false;
}

/**
 * An already-poisoned raw page: the consumer (a machine check on it, or MADV_HWPOISON) is
 * signalled, then "recovery action for already poisoned page: Failed" is logged and not
 * counted (try_memory_failure_hugetlb and memory_failure after the Aug 2025 fix).
 */
function already_poisoned(h: u32, sc: u32, local: u32, raw: u32, pfn: u64, consumer: i32, lsb: u32, real: bool): i32 {
  // A load (a real machine check) of known-bad memory; MADV_HWPOISON again is not one.
  if (consumer >= 0 && real) addHostStat(h, H_REPEAT_MCE, 1);
  const killed = kill_accessing_process(h, sc, local, raw, pfn, consumer, lsb);
  action_result(h, pfn, MF_MSG_ALREADY_POISONED, MF_FAILED, POLICY_NONE);
  reap_killed();
  return killed ? -EHWPOISON : 0;
}

/**
 * memory_failure(pfn, flags): a raw page at `phys` is poisoned, by a real UE (`real`: the
 * data is lost too) or by MADV_HWPOISON. `consumer` is the process that consumed it (AR),
 * or -1 for a patrol-scrub find (AO). The caller has checked that phys lies in a pool.
 * Returns 0, or -EHWPOISON where Linux's memory_failure does (the consumer was signalled
 * for an already-poisoned page; a THP that could not be split), or -EBUSY (ignored).
 */
export function memory_failure(h: u32, phys: u64, consumer: i32, real: bool): i32 {
  const pfn = phys >> PAGE_SHIFT;
  if ((hostFlags(h) & HF_RECOVERY) == 0) {
    panic(h, pfn);
    return 0;
  }
  work_begin();
  const local = <u32>physToFrame(h, phys);
  const sc = foundSc;
  const raw = <u32>((phys - framePhys(h, sc, local)) >> PAGE_SHIFT);
  const state = folioState(h, sc, local);
  const already = rawTest(h, sc, local, raw, BIT_POISONED);
  if (real) rawSet(h, sc, local, raw, BIT_CORRUPTED);

  if (state == F_FREE) {
    rawSet(h, sc, local, raw, BIT_POISONED);
    addHwCorrupted(h);
    addBuddyPages(h, <f64>(rawPerFolio(sc) - 1));
    addHostStat(h, H_BYTES_LOST, 4096);
    if (sc == SC_THP) {
      // Free ordinary memory: the buddy allocator takes the bad page out of circulation.
      take_free_thp_folio(h, local);
      action_result(h, pfn, MF_MSG_BUDDY, MF_RECOVERED, POLICY_NONE);
      return 0;
    }
    // A free hugepage is dissolved at once (dissolve_free_hugetlb_folio).
    dissolve_free_hugetlb_folio(h, sc, local);
    work_dissolve(sc);
    action_result(h, pfn, MF_MSG_FREE_HUGE, MF_RECOVERED, POLICY_NONE);
    return 0;
  }
  if (state == F_DISSOLVED) {
    // The raw page already went to the buddy allocator; nobody maps it.
    if (already) return already_poisoned(h, sc, local, raw, pfn, -1, 0, real);
    rawSet(h, sc, local, raw, BIT_POISONED);
    addHwCorrupted(h);
    addBuddyPages(h, -1);
    addHostStat(h, H_BYTES_LOST, 4096);
    action_result(h, pfn, MF_MSG_BUDDY, MF_RECOVERED, POLICY_NONE);
    return 0;
  }

  if (sc == SC_THP) return memory_failure_thp(h, local, raw, pfn, consumer, already, real);
  const policy = state == F_FILE ? file_policy(folioOwner(h, sc, local)) : POLICY_DEFAULT;
  const lsb = policy == POLICY_DEFAULT ? shiftOf(sc) : PAGE_SHIFT;
  if (already) return already_poisoned(h, sc, local, raw, pfn, consumer, lsb, real);
  rawSet(h, sc, local, raw, BIT_POISONED);
  addHwCorrupted(h);
  const word = folioWord(h, sc, local);
  const wasPoisoned = (word & F_HWPOISON) != 0;
  setFolioWord(h, sc, local, word | F_HWPOISON);
  let ret: i32 = 0;

  if (policy == POLICY_HGM) {
    // Only the raw page is lost: every mapping is split around it down to a HWPOISON PTE.
    addHostStat(h, H_BYTES_LOST, 4096);
    kill_procs(h, sc, local, raw, pfn, consumer, lsb);
    hgm_split_mappers(h, sc, local, raw);
    action_result(h, pfn, MF_MSG_HUGE, MF_RECOVERED, policy);
  } else if (policy == POLICY_KEEP) {
    // Only the raw page is lost; the mapping stays huge.
    addHostStat(h, H_BYTES_LOST, 4096);
    if (!wasPoisoned) update_mapper_leaves(h, sc, local, state, false);
    if (real && wasPoisoned && (hostFlags(h) & HF_KEEP_V3) != 0) {
      // v3 as posted: a second real UE on a kept folio fails get_hwpoison_page and is
      // ignored; the machine-check handler finds it not recovered and kills the consumer
      // with a plain SIGBUS (kill_me_maybe -> kill_me_now).
      action_result(h, pfn, MF_MSG_GET_HWPOISON, MF_IGNORED, policy);
      if (consumer >= 0) {
        log(LOG_NOT_RECOVERED, h, 0, 0, pfn);
        send_sigbus(<u32>consumer, SI_KERNEL, 0, 0);
      }
      ret = -EBUSY;
    } else {
      kill_procs(h, sc, local, raw, pfn, consumer, lsb);
      action_result(h, pfn, MF_MSG_HUGE, MF_RECOVERED, policy);
    }
  } else if (wasPoisoned) {
    // The hugepage was already offlined: the new raw page is recorded, the consumer is
    // signalled, and the event counts as failed (the Jan 2026 hugetlb mf_stats fix).
    if (kill_accessing_process(h, sc, local, raw, pfn, consumer, lsb)) ret = -EHWPOISON;
    action_result(h, pfn, MF_MSG_HUGE, MF_FAILED, policy);
  } else {
    // hwpoison_user_mappings: collect the victims, unmap everywhere, signal.
    kill_procs(h, sc, local, raw, pfn, consumer, lsb);
    update_mapper_leaves(h, sc, local, state, true);
    if (state == F_ANON) {
      dissolve_poisoned_folio(h, sc, local);
      work_dissolve(sc);
    }
    addHostStat(h, H_BYTES_LOST, <f64>(<u64>1 << shiftOf(sc)));
    bumpCounter(h, H_HUGEPAGES_LOST);
    action_result(h, pfn, MF_MSG_HUGE, MF_RECOVERED, policy);
  }
  reap_killed();
  return ret;
}

/**
 * An in-use THP folio: try_to_split_thp_page, then the raw page is an ordinary 4 KiB anon
 * page (its PTE becomes a HWPOISON entry). When the split fails the folio stays mapped
 * whole and marked, the victims get SIGBUS for the whole folio (kill_procs_now) and
 * memory_failure returns -EHWPOISON.
 */
function memory_failure_thp(h: u32, local: u32, raw: u32, pfn: u64, consumer: i32, already: bool, real: bool): i32 {
  const word = folioWord(h, SC_THP, local);
  const split = (word & F_THP_SPLIT) != 0;
  // A raw page of a folio still mapped by its PMD is reported at 4 KiB too
  // (check_hwpoisoned_pmd_entry).
  if (already) return already_poisoned(h, SC_THP, local, raw, pfn, consumer, PAGE_SHIFT, real);
  rawSet(h, SC_THP, local, raw, BIT_POISONED);
  addHwCorrupted(h);
  addHostStat(h, H_BYTES_LOST, 4096);
  setFolioWord(h, SC_THP, local, word | F_HWPOISON);
  let ret: i32 = 0;
  if (!split && thp_split_fails(h, pfn)) {
    update_mapper_leaves(h, SC_THP, local, F_ANON, false);
    kill_procs(h, SC_THP, local, raw, pfn, consumer, HPAGE_2M_SHIFT);
    action_result(h, pfn, MF_MSG_UNSPLIT_THP, MF_FAILED, POLICY_THP);
    ret = -EHWPOISON;
  } else {
    const owner = folioOwner(h, SC_THP, local);
    const va = <u64>folioIndex(h, SC_THP, local) << HPAGE_2M_SHIFT;
    const slot = huge_pte_offset(procPgd(owner), va, HPAGE_2M_SHIFT, false);
    // An in-use THP folio is always mapped by its owner; the guard keeps a broken
    // invariant from writing through a missing table.
    if (slot == 0) unreachable();
    if (split) {
      split_to_raw_pte(h, slot, va, HPAGE_2M_SHIFT, raw);
    } else {
      // Every poisoned raw page, this one and those of failed attempts, loses its PTE.
      split_poisoned_to_raw_ptes(h, SC_THP, local, slot, va);
      setFolioWord(h, SC_THP, local, word | F_HWPOISON | F_THP_SPLIT);
      addThpSplit(h, 1);
    }
    kill_procs(h, SC_THP, local, raw, pfn, consumer, PAGE_SHIFT);
    action_result(h, pfn, MF_MSG_DIRTY_LRU, MF_RECOVERED, POLICY_THP);
  }
  reap_killed();
  return ret;
}

/** True when host h has panicked. */
export function host_panicked(h: u32): bool {
  return (hostFlags(h) & HF_PANICKED) != 0;
}
