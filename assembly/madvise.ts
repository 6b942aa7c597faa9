// MADV_HWPOISON (madvise_inject_error): every step of the range is checked first, in step
// order and as if the earlier steps had run, so the first failing step decides the error and
// a failed call changes nothing; then each step faults its page in if needed and runs
// memory_failure with the caller as consumer.

import {
  EFAULT, EHWPOISON, EINVAL, EIO, EOPNOTSUPP, EPERM, F_HWPOISON, HPAGE_2M_SHIFT, LOG_INJECT,
  MADV_HWPOISON, MADV_SOFT_OFFLINE, PAGE_SHIFT, PAGE_SIZE, SC_THP, SLOT_EMPTY, SLOT_RESERVED,
} from './constants';
import { handle_mm_fault } from './fault';
import { fileIndices, slotGet } from './files';
import { NO_FILE, VM_FAULT_OK } from './hugetlb';
import { keyset_add, keyset_has, keyset_reset } from './keyset';
import { memory_failure } from './mfr';
import { outbox_push } from './outbox';
import { huge_pte_offset, is_hwpoison_entry, leafShift, pte_phys, pte_present, walk_leaf } from './pagetable';
import { POLICY_DEFAULT, file_policy } from './policy';
import { BIT_POISONED, rawTest } from './poison';
import {
  HF_PANICKED, folioWord, framePhys, foundSc, hostFlags, physToFrame, poolAvailable, poolFree, scOfShift,
} from './pool';
import {
  PF_CAP_SYS_ADMIN, V_FILE, V_FLAGS, V_PGOFF, V_SHIFT, V_START, VM_SHARED, VM_THP, find_vma,
  procAlive, procFlags, procHost, procPgd, procPid, vmaAt,
} from './procs';

// What a step poisons, as a key (kind | owner, index << 20 | raw): a raw page under KEEP,
// HGM and THP (two steps on one raw page collide: EHWPOISON), the whole hugepage under
// DEFAULT, which takes it offline (a later step on it finds it unmapped: EFAULT). Mapped
// pages are named by pfn; pages not yet faulted in by their file and page-cache index, or
// by the process and their virtual address in 2 MiB units (unique whatever the page size).
const K_RAW_PFN: u64 = 1;
const K_FOLIO_PFN: u64 = 2;
const K_UNFAULTED_RAW: u64 = 3;
const K_UNFAULTED_FOLIO: u64 = 4;
/** A page some step faults in: counted against its pool once, however many steps reach it. */
const K_FAULT: u64 = 5;
const OWNER_FILE: u64 = 8;

let stepA: u64 = 0;
let stepB: u64 = 0;
/** The page the step faults in (faultA == 0: none), its frame class and whether it is reserved. */
let faultA: u64 = 0;
let faultB: u64 = 0;
let faultSc: u32 = 0;
let faultReserved: bool = false;

// @ts-ignore: decorator
@inline function isFolioKey(a: u64): bool {
  return (a & 7) == K_FOLIO_PFN || (a & 7) == K_UNFAULTED_FOLIO;
}

function setUnfaulted(keep: bool, file: bool, owner: u64, idx: u64, raw: u32, sc: u32, reserved: bool): void {
  const who = (file ? OWNER_FILE : 0) | (owner << 4);
  stepA = (keep ? K_UNFAULTED_RAW : K_UNFAULTED_FOLIO) | who;
  stepB = (idx << 20) | (keep ? <u64>raw : 0);
  faultA = K_FAULT | who;
  faultB = idx << 20;
  faultSc = sc;
  faultReserved = reserved;
}

/** Checks one step at va on its own (0 or -errno) and sets its key and the page it faults in. */
function madvise_probe(p: u32, vi: u32, va: u64): i32 {
  const h = procHost(p);
  const v = vmaAt(p, vi);
  const hs = load<u32>(v + V_SHIFT);
  const sc = scOfShift(hs);
  const mask = (<u64>1 << hs) - 1;
  const base = va & ~mask;
  const raw = <u32>((va - base) >> PAGE_SHIFT);
  const f = load<u32>(v + V_FILE);
  const shared = (load<u32>(v + V_FLAGS) & VM_SHARED) != 0;
  const thp = (load<u32>(v + V_FLAGS) & VM_THP) != 0;
  // KEEP, HGM and THP poison raw pages; DEFAULT takes the whole hugepage.
  const keep = thp || (shared && file_policy(f) != POLICY_DEFAULT);
  faultA = 0;
  const hugeSlot = huge_pte_offset(procPgd(p), va, hs, false);
  const slot = hugeSlot != 0 ? walk_leaf(hugeSlot, va, hs) : 0;
  const e = slot != 0 ? load<u64>(slot) : 0;
  if (is_hwpoison_entry(e)) return leafShift == PAGE_SHIFT ? -EHWPOISON : -EFAULT;
  if (pte_present(e)) {
    // The leaf may map only part of the folio (HGM, THP): name the raw page by its own pfn.
    stepA = keep ? K_RAW_PFN : K_FOLIO_PFN;
    stepB = keep ? (pte_phys(e) + (va & ((<u64>1 << leafShift) - 1))) >> PAGE_SHIFT : pte_phys(e) >> PAGE_SHIFT;
    const local = <u32>physToFrame(h, pte_phys(e));
    return rawTest(h, foundSc, local, raw, BIT_POISONED) ? -EHWPOISON : 0;
  }
  const idx = (base - load<u64>(v + V_START) + load<u64>(v + V_PGOFF)) >> hs;
  if (f != NO_FILE && idx >= fileIndices(f)) return -EFAULT;
  if (thp) {
    // The first touch takes a folio of THP memory.
    setUnfaulted(true, false, <u64>p, base >> HPAGE_2M_SHIFT, raw, SC_THP, false);
    return 0;
  }
  if (!shared) {
    // The first touch makes the process's own copy, from the VMA's reservation.
    setUnfaulted(false, false, <u64>p, base >> HPAGE_2M_SHIFT, raw, sc, true);
    return 0;
  }
  const s = slotGet(f, idx);
  if (s == SLOT_EMPTY || s == SLOT_RESERVED) {
    setUnfaulted(keep, true, <u64>f, idx, raw, sc, s == SLOT_RESERVED);
    return 0;
  }
  // In the page cache but not mapped here: the fault maps the cached folio.
  const pfn = framePhys(h, sc, s - 1) >> PAGE_SHIFT;
  stepA = keep ? K_RAW_PFN : K_FOLIO_PFN;
  stepB = keep ? pfn + <u64>raw : pfn;
  if ((folioWord(h, sc, s - 1) & F_HWPOISON) == 0) return 0;
  if (!keep) return -EFAULT;
  return rawTest(h, sc, s - 1, raw, BIT_POISONED) ? -EHWPOISON : 0;
}

// Pool pages the checked steps fault in, per frame class: without and with a reservation.
const needUnreserved: usize = memory.data(24, 8);
const needReserved: usize = memory.data(24, 8);

/** Counts the step's fault-in; false when its pool cannot give it after the earlier steps'. */
function pool_can_fault(h: u32): bool {
  if (faultA == 0 || keyset_has(faultA, faultB)) return true;
  keyset_add(faultA, faultB);
  const at = (faultReserved ? needReserved : needUnreserved) + (<usize>faultSc << 3);
  store<u64>(at, load<u64>(at) + 1);
  const unreserved = load<u64>(needUnreserved + (<usize>faultSc << 3));
  const reserved = load<u64>(needReserved + (<usize>faultSc << 3));
  return unreserved <= <u64>poolAvailable(h, faultSc) && unreserved + reserved <= <u64>poolFree(h, faultSc);
}

/** The checks of every step, in order: 0, or the first failing step's -errno. */
function madvise_check(p: u32, addr: u64, end: u64): i32 {
  const h = procHost(p);
  keyset_reset();
  memory.fill(needUnreserved, 0, 24);
  memory.fill(needReserved, 0, 24);
  for (let va = addr; va < end; ) {
    const vi = find_vma(p, va);
    if (vi < 0) return -EFAULT;
    const r = madvise_probe(p, <u32>vi, va);
    if (r < 0) return r;
    // An earlier DEFAULT step took this hugepage offline.
    if (isFolioKey(stepA) && keyset_has(stepA, stepB)) return -EFAULT;
    if (!pool_can_fault(h)) return -EFAULT;
    // An earlier step poisons this raw page.
    if (keyset_has(stepA, stepB)) return -EHWPOISON;
    keyset_add(stepA, stepB);
    va += <u64>1 << load<u32>(vmaAt(p, <u32>vi) + V_SHIFT);
  }
  return 0;
}

export function sys_madvise(p: u32, addr: u64, length: u64, advice: u32): i32 {
  if (advice == MADV_SOFT_OFFLINE) return -EOPNOTSUPP;
  if (advice != MADV_HWPOISON) return -EINVAL;
  if ((procFlags(p) & PF_CAP_SYS_ADMIN) == 0) return -EPERM;
  if (length == 0 || (addr & (PAGE_SIZE - 1)) != 0) return -EINVAL;
  const h = procHost(p);
  const end = addr + ((length + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1));
  const err = madvise_check(p, addr, end);
  if (err != 0) return err;
  for (let va = addr; va < end; ) {
    const vi = find_vma(p, va);
    if (vi < 0 || !procAlive(p)) break;
    const hs = load<u32>(vmaAt(p, <u32>vi) + V_SHIFT);
    const slot = huge_pte_offset(procPgd(p), va, hs, true);
    if (load<u64>(slot) == 0 && handle_mm_fault(p, <u32>vi, va, slot) != VM_FAULT_OK) break;
    const e = load<u64>(walk_leaf(slot, va, hs));
    if (!pte_present(e)) break;
    const phys = pte_phys(e) + ((va & ((<u64>1 << leafShift) - 1)) & ~(PAGE_SIZE - 1));
    outbox_push(LOG_INJECT, h, procPid(p), 0, phys >> PAGE_SHIFT, va);
    memory_failure(h, phys, <i32>p, false);
    if ((hostFlags(h) & HF_PANICKED) != 0) return -EIO;
    va += <u64>1 << hs;
  }
  return 0;
}
