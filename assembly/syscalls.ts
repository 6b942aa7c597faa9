// The system calls a simulated process makes, each validating everything before it changes
// anything, so a call that fails leaves no trace. Errors are returned as -errno.

import {
  BUS_ADRERR, BUS_MCEERR_AR, EBADF, EEXIST, EFAULT, EINVAL, EIO, ENODEV, ENOMEM, ENOSPC, ESRCH, EOPNOTSUPP,
  F_HWPOISON, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, HPAGE_1G_SHIFT, HPAGE_2M_SHIFT,
  LOG_KILLING, LOG_MCE_USER, MAP_ANONYMOUS, MAP_FIXED, MAP_HUGETLB, MAP_HUGE_SHIFT, MAP_PRIVATE, MAP_SHARED,
  MFD_EXEC, MFD_HUGETLB, MFD_HUGE_SHIFT, MFD_MF_KEEP_UE_MAPPED, MFD_NOEXEC_SEAL, PAGE_SHIFT,
  PAGE_SIZE, PROT_READ, PROT_WRITE, SLOT_EMPTY, SLOT_RESERVED, _PAGE_SIM_POISONED,
} from './constants';
import {
  addFileFds, addFileVmas, cacheCap, fileHost, fileShift, fileSize, file_create, setFileSize,
  slotGet, slotSet,
} from './files';
import {
  NO_FILE, VM_FAULT_HWPOISON_LARGE, VM_FAULT_OK, do_exit, do_munmap, fput,
  hugetlb_add_to_page_cache, hugetlb_vmdelete_list, remove_inode_hugepages,
} from './hugetlb';
import { handle_mm_fault } from './fault';
import { memory_failure } from './mfr';
import { outbox_push } from './outbox';
import { huge_pte_offset, is_hwpoison_entry, leafShift, pte_phys, pte_present, walk_leaf } from './pagetable';
import { BIT_CORRUPTED, BIT_POISONED, firstRawSet } from './poison';
import {
  HF_PANICKED, HF_POLICY_CAPABLE, addPoolResv, folioWord, hostFlags, physToFrame, foundSc,
  poolAvailable, poolFree, scOfShift,
} from './pool';
import {
  V_END, V_FLAGS, V_SHIFT, V_START, VM_READ, VM_SHARED, VM_THP, VM_WRITE, fd_clear, fd_install,
  fdget, find_vma, first_vma_above, insert_vma, mmapBase, procAlive, procHost, procPgd, procPid, range_mapped, setMmapBase,
  vmaAt, vmaCount,
} from './procs';
import { reap_killed, send_sigbus } from './signal';

const TASK_SIZE: u64 = 0x7fff_ffff_f000;
const MMAP_MIN_ADDR: u64 = 0x10000;
const MFD_ALL_FLAGS: u32 = 0x3f;
const HUGE_FIELD_MASK: u32 = 0x3f;

// @ts-ignore: decorator
@inline function hugeMask(hs: u32): u64 {
  return (<u64>1 << hs) - 1;
}

/** A hugepage-size field (MFD_HUGE_* / MAP_HUGE_*): 0 = default 2 MiB, else 21 or 30; -1 bad. */
function hugeShiftOf(field: u32): i32 {
  if (field == 0 || field == HPAGE_2M_SHIFT) return <i32>HPAGE_2M_SHIFT;
  if (field == HPAGE_1G_SHIFT) return <i32>HPAGE_1G_SHIFT;
  return -1;
}

export function sys_memfd_create(p: u32, flags: u32): i32 {
  const h = procHost(p);
  const known = (hostFlags(h) & HF_POLICY_CAPABLE) != 0 ? MFD_ALL_FLAGS : MFD_ALL_FLAGS & ~MFD_MF_KEEP_UE_MAPPED;
  const sizeField = (flags >> MFD_HUGE_SHIFT) & HUGE_FIELD_MASK;
  if ((flags & ~(MFD_ALL_FLAGS | (HUGE_FIELD_MASK << MFD_HUGE_SHIFT))) != 0) return -EINVAL;
  if ((flags & MFD_ALL_FLAGS & ~known) != 0) return -EINVAL;
  if ((flags & MFD_NOEXEC_SEAL) != 0 && (flags & MFD_EXEC) != 0) return -EINVAL;
  const hugetlb = (flags & MFD_HUGETLB) != 0;
  if (!hugetlb && (sizeField != 0 || (flags & MFD_MF_KEEP_UE_MAPPED) != 0)) return -EINVAL;
  // A size x86-64 has no hstate for (e.g. MFD_HUGE_16MB): hugetlb_file_setup -> ENODEV.
  const hs = hugeShiftOf(sizeField);
  if (hs < 0) return -ENODEV;
  if (!hugetlb) return -EOPNOTSUPP;
  const f = file_create(h, <u32>hs, (flags & MFD_MF_KEEP_UE_MAPPED) != 0);
  addFileFds(f, 1);
  return fd_install(p, f);
}

export function sys_ftruncate(p: u32, fd: i32, size: u64): i32 {
  const f = fdget(p, fd);
  if (f < 0) return -EBADF;
  const hs = fileShift(<u32>f);
  if ((size & hugeMask(hs)) != 0) return -EINVAL;
  // hugetlb_vmtruncate runs whether the file grows or shrinks: nothing survives beyond the
  // new size, neither pages (fallocate KEEP_SIZE) nor reservations (read-only mappings).
  setFileSize(<u32>f, size);
  const from = size >> hs;
  const to = cacheCap(<u32>f);
  if (from < to) {
    hugetlb_vmdelete_list(<u32>f, from, to);
    remove_inode_hugepages(<u32>f, from, to);
  }
  return 0;
}

export function sys_fallocate(p: u32, fd: i32, mode: u32, offset: u64, len: u64): i32 {
  const f = fdget(p, fd);
  if (f < 0) return -EBADF;
  if (len == 0) return -EINVAL;
  const hs = fileShift(<u32>f);
  const H: u64 = <u64>1 << hs;
  const end = offset + len;
  if (mode == (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)) {
    const from = (offset + H - 1) >> hs;
    const to = end >> hs;
    if (from < to) {
      hugetlb_vmdelete_list(<u32>f, from, to);
      remove_inode_hugepages(<u32>f, from, to);
    }
    return 0;
  }
  if (mode != 0 && mode != FALLOC_FL_KEEP_SIZE) return -EOPNOTSUPP;
  const from = offset >> hs;
  const to = (end + H - 1) >> hs;
  let unreserved: u64 = 0;
  let reserved: u64 = 0;
  for (let idx = from; idx < to; idx++) {
    const s = slotGet(<u32>f, idx);
    if (s == SLOT_EMPTY) unreserved++;
    else if (s == SLOT_RESERVED) reserved++;
  }
  const h = fileHost(<u32>f);
  const sc = scOfShift(hs);
  if (unreserved > <u64>poolAvailable(h, sc) || unreserved + reserved > <u64>poolFree(h, sc)) return -ENOSPC;
  for (let idx = from; idx < to; idx++) {
    const s = slotGet(<u32>f, idx);
    if (s == SLOT_EMPTY || s == SLOT_RESERVED) hugetlb_add_to_page_cache(<u32>f, idx);
  }
  if (mode == 0 && end > fileSize(<u32>f)) setFileSize(<u32>f, end);
  return 0;
}

/** Where a new mapping of `len` goes, or 0 when the request cannot be placed. */
function get_unmapped_area(p: u32, addr: u64, len: u64, hs: u32, fixed: bool): u64 {
  if (addr != 0) {
    const aligned = (addr & hugeMask(hs)) == 0;
    const fits = addr >= MMAP_MIN_ADDR && addr + len <= TASK_SIZE;
    if (aligned && fits && !range_mapped(p, addr, addr + len)) return addr;
    if (fixed) return 0;
  }
  let top = mmapBase(p);
  while (true) {
    if (top < len + MMAP_MIN_ADDR) return 0;
    const a = (top - len) & ~hugeMask(hs);
    if (!range_mapped(p, a, a + len)) {
      setMmapBase(p, a);
      return a;
    }
    top = a;
  }
}

/** Counts indices [from, to) of f with neither a folio nor a reservation. */
function region_chg(f: u32, from: u64, to: u64): u64 {
  let n: u64 = 0;
  for (let idx = from; idx < to; idx++) if (slotGet(f, idx) == SLOT_EMPTY) n++;
  return n;
}

/** mmap: returns the address (as f64) or -errno. */
export function sys_mmap(p: u32, addr: u64, length: u64, prot: u32, flags: u32, fd: i32, offset: u64): f64 {
  const h = procHost(p);
  if ((prot & ~(PROT_READ | PROT_WRITE)) != 0) return -EINVAL;
  if ((flags & ~(MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_HUGETLB | (HUGE_FIELD_MASK << MAP_HUGE_SHIFT))) != 0) {
    return -EINVAL;
  }
  const type = flags & (MAP_SHARED | MAP_PRIVATE);
  if (type != MAP_SHARED && type != MAP_PRIVATE) return -EINVAL;
  const shared = type == MAP_SHARED;
  const anon = (flags & MAP_ANONYMOUS) != 0;
  let f: i32 = -1;
  let hs: i32;
  // MAP_PRIVATE | MAP_ANONYMOUS without MAP_HUGETLB: anonymous memory backed by THP.
  const thp = anon && (flags & MAP_HUGETLB) == 0;
  if (thp) {
    if (shared) return -EOPNOTSUPP;
    hs = <i32>HPAGE_2M_SHIFT;
  } else if (anon) {
    hs = hugeShiftOf((flags >> MAP_HUGE_SHIFT) & HUGE_FIELD_MASK);
    if (hs < 0) return -EINVAL;
  } else {
    f = fdget(p, fd);
    if (f < 0) return -EBADF;
    hs = <i32>fileShift(<u32>f);
  }
  const mask = hugeMask(<u32>hs);
  if ((offset & mask) != 0) return -EINVAL;
  // An anonymous mapping's offset is ignored (its backing file starts with the mapping).
  if (anon) offset = 0;
  const len = (length + mask) & ~mask;
  if (len == 0 || len > TASK_SIZE) return -ENOMEM;
  const fixed = (flags & MAP_FIXED) != 0;
  if (fixed && (addr & mask) != 0) return -EINVAL;
  if (fixed && range_mapped(p, addr, addr + len)) return -EEXIST;
  const sc = scOfShift(<u32>hs);
  const pages = len >> hs;
  const firstIdx = offset >> hs;
  // THP memory is not reserved: a fault finds a folio or fails.
  const chg = thp ? 0 : shared && !anon ? region_chg(<u32>f, firstIdx, firstIdx + pages) : pages;
  if (chg > <u64>poolAvailable(h, sc)) return -ENOMEM;
  const saveBase = mmapBase(p);
  const at = get_unmapped_area(p, addr, len, <u32>hs, fixed);
  if (at == 0) {
    setMmapBase(p, saveBase);
    return -ENOMEM;
  }
  // hugetlb_reserve_pages: shared reservations live in the file, private ones in the VMA.
  if (anon && shared) {
    f = <i32>file_create(h, <u32>hs, false);
    setFileSize(<u32>f, len);
  }
  if (shared) {
    for (let idx = firstIdx; idx < firstIdx + pages; idx++) {
      if (slotGet(<u32>f, idx) == SLOT_EMPTY) slotSet(<u32>f, idx, SLOT_RESERVED);
    }
    if ((prot & PROT_WRITE) != 0 && fileSize(<u32>f) < offset + len) setFileSize(<u32>f, offset + len);
  }
  addPoolResv(h, sc, <i32>chg);
  let vflags: u32 = shared ? VM_SHARED : thp ? VM_THP : 0;
  if ((prot & PROT_READ) != 0) vflags |= VM_READ;
  if ((prot & PROT_WRITE) != 0) vflags |= VM_WRITE;
  insert_vma(p, at, at + len, offset, f < 0 ? NO_FILE : <u32>f, vflags, <u32>hs);
  if (f >= 0) addFileVmas(<u32>f, 1);
  return <f64>at;
}

export function sys_munmap(p: u32, addr: u64, length: u64): i32 {
  if ((addr & (PAGE_SIZE - 1)) != 0) return -EINVAL;
  const end = addr + ((length + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1));
  if (end > TASK_SIZE) return -EINVAL;
  // hugetlb VMAs can only be cut at hugepage boundaries. Walk the VMAs in the range, as
  // do_vmi_munmap() does, not its pages: a range of terabytes over holes costs nothing.
  for (let i = first_vma_above(p, addr); i < vmaCount(p); i++) {
    const v = vmaAt(p, i);
    if (load<u64>(v + V_START) >= end) break;
    const mask = hugeMask(load<u32>(v + V_SHIFT));
    const vend = load<u64>(v + V_END);
    if ((addr > load<u64>(v + V_START) && (addr & mask) != 0) || (end < vend && (end & mask) != 0)) return -EINVAL;
  }
  do_munmap(p, addr, end);
  return 0;
}

export function sys_close(p: u32, fd: i32): i32 {
  const f = fdget(p, fd);
  if (f < 0) return -EBADF;
  fd_clear(p, fd);
  fput(<u32>f);
  return 0;
}

export function sys_exit(p: u32): void {
  do_exit(p);
}

/** Passes fd to process q (SCM_RIGHTS); returns the new fd in q. */
export function sys_sendfd(p: u32, fd: i32, q: u32): i32 {
  const f = fdget(p, fd);
  if (f < 0) return -EBADF;
  if (!procAlive(q)) return -ESRCH;
  if (procHost(q) != procHost(p)) return -EINVAL;
  addFileFds(<u32>f, 1);
  return fd_install(q, <u32>f);
}

/** pread through the page cache; returns the byte count (as f64) or -errno. */
export function sys_pread(p: u32, fd: i32, len: u64, offset: u64): f64 {
  const f = fdget(p, fd);
  if (f < 0) return -EBADF;
  const size = fileSize(<u32>f);
  if (len == 0 || offset >= size) return 0;
  const end = offset + len < size ? offset + len : size;
  const hs = fileShift(<u32>f);
  const h = fileHost(<u32>f);
  const sc = scOfShift(hs);
  let pos = offset;
  while (pos < end) {
    const idx = pos >> hs;
    const base = idx << hs;
    const next = base + (<u64>1 << hs);
    const stop = next < end ? next : end;
    const s = slotGet(<u32>f, idx);
    if (s != SLOT_EMPTY && s != SLOT_RESERVED && (folioWord(h, sc, s - 1) & F_HWPOISON) != 0) {
      // adjust_range_hwpoison: read up to the first poisoned raw page. When this hugepage's
      // part starts with one, hugetlbfs_read_iter fails the whole call, even after a clean
      // earlier hugepage.
      const from = <u32>((pos - base) >> PAGE_SHIFT);
      const to = <u32>((stop - base + PAGE_SIZE - 1) >> PAGE_SHIFT);
      const bad = firstRawSet(h, sc, s - 1, from, to, BIT_POISONED);
      if (bad >= 0) {
        const badAt = base + (<u64>bad << PAGE_SHIFT);
        return badAt <= pos ? -EIO : <f64>(badAt - offset);
      }
    }
    pos = stop;
  }
  return <f64>(end - offset);
}

/** Checks that [addr, addr+len) lies in VMAs that allow the access. */
function access_ok(p: u32, addr: u64, len: u64, need: u32): bool {
  const end = addr + len;
  for (let va = addr; va < end; ) {
    const vi = find_vma(p, va);
    if (vi < 0) return false;
    const v = vmaAt(p, <u32>vi);
    if ((load<u32>(v + V_FLAGS) & need) != need) return false;
    va = load<u64>(v + V_END);
  }
  return true;
}

/**
 * A fault on a HWPOISON entry (or a fault-in of an offlined hugepage) at `pos`, leaf shift
 * ls. A host access is x86's do_sigbus: the "MCE: Killing" line, then SIGBUS AR at the exact
 * address with the leaf's size. A guest access is a stage-2 fault that KVM resolves through
 * GUP: kvm_send_hwpoison_signal reports the host virtual address of the guest's 4 KiB page
 * with lsb PAGE_SHIFT, whatever the hugepage size, and logs nothing.
 */
function hwpoison_fault(p: u32, pos: u64, ls: u32, guest: bool): i32 {
  if (guest) {
    send_sigbus(p, BUS_MCEERR_AR, pos & ~(PAGE_SIZE - 1), PAGE_SHIFT);
  } else {
    outbox_push(LOG_KILLING, procHost(p), procPid(p), 0, pos, 0);
    send_sigbus(p, BUS_MCEERR_AR, pos, ls);
  }
  reap_killed();
  return 1;
}

/**
 * Touches every byte of [addr, addr+len) in address order, as loads or stores, from the
 * process itself or (`guest`) from the KVM guest it runs. Returns 0, 1 when a SIGBUS stopped
 * it (the signal is in the outbox), or -errno.
 */
export function sys_access(p: u32, addr: u64, len: u64, write: bool, guest: bool): i32 {
  if (!access_ok(p, addr, len, write ? VM_WRITE : VM_READ)) return -EFAULT;
  const h = procHost(p);
  const end = addr + len;
  let pos = addr;
  while (pos < end) {
    const vi = <u32>find_vma(p, pos);
    const hs = load<u32>(vmaAt(p, vi) + V_SHIFT);
    const slot = huge_pte_offset(procPgd(p), pos, hs, true);
    if (load<u64>(slot) == 0) {
      const fault = handle_mm_fault(p, vi, pos, slot);
      if (fault == VM_FAULT_HWPOISON_LARGE) return hwpoison_fault(p, pos, hs, guest);
      if (fault != VM_FAULT_OK) {
        // KVM turns any other failed fault into -EFAULT from KVM_RUN
        // (kvm_handle_error_pfn); the host task gets SIGBUS BUS_ADRERR.
        if (guest) return -EFAULT;
        send_sigbus(p, BUS_ADRERR, pos, 0);
        reap_killed();
        return 1;
      }
    }
    // The leaf: the hugepage entry, or below it where HGM split the mapping.
    const leaf = walk_leaf(slot, pos, hs);
    const ls = leafShift;
    const e = load<u64>(leaf);
    const base = pos & ~hugeMask(ls);
    const next = base + (<u64>1 << ls);
    const stop = next < end ? next : end;
    if (is_hwpoison_entry(e)) return hwpoison_fault(p, pos, ls, guest);
    if ((e & _PAGE_SIM_POISONED) != 0) {
      const phys = pte_phys(e);
      const local = <u32>physToFrame(h, phys);
      const sc = foundSc;
      const from = <u32>((pos - base) >> PAGE_SHIFT);
      const to = <u32>((stop - base + PAGE_SIZE - 1) >> PAGE_SHIFT);
      const bad = firstRawSet(h, sc, local, from, to, BIT_CORRUPTED);
      if (bad >= 0) {
        // The load hits lost data: a new machine check on an already-poisoned page, the
        // same from the guest (the host handles a machine check taken in guest mode).
        const badVa = base + (<u64>bad << PAGE_SHIFT);
        const touch = badVa > pos ? badVa : pos;
        outbox_push(LOG_MCE_USER, h, 0, 0, phys + (touch - base), 0);
        memory_failure(h, phys + (<u64>bad << PAGE_SHIFT), <i32>p, true);
        // With recovery off the machine check panicked the host: the load never returns.
        return (hostFlags(h) & HF_PANICKED) != 0 ? -EIO : 1;
      }
    }
    pos = stop;
  }
  return 0;
}

/** The slot of the leaf the MMU would use for va (leafShift tells its size), or 0. */
function leaf_slot(p: u32, va: u64): usize {
  const vi = find_vma(p, va);
  if (vi < 0) return 0;
  const hs = load<u32>(vmaAt(p, <u32>vi) + V_SHIFT);
  const slot = huge_pte_offset(procPgd(p), va, hs, false);
  return slot == 0 ? 0 : walk_leaf(slot, va, hs);
}

/**
 * The leaf for va, encoded: -1 nothing, else level (0 PUD, 1 PMD, 2 PTE) | 4 if it is a
 * HWPOISON entry.
 */
export function sys_page_table_leaf(p: u32, va: u64): i32 {
  const slot = leaf_slot(p, va);
  if (slot == 0) return -1;
  const e = load<u64>(slot);
  if (!pte_present(e) && !is_hwpoison_entry(e)) return -1;
  const level = leafShift == HPAGE_1G_SHIFT ? 0 : leafShift == HPAGE_2M_SHIFT ? 1 : 2;
  return level | (is_hwpoison_entry(e) ? 4 : 0);
}

/** Virtual -> physical through the page table, or -1 when nothing is mapped there. */
export function sys_translate(p: u32, va: u64): f64 {
  const slot = leaf_slot(p, va);
  if (slot == 0) return -1;
  const e = load<u64>(slot);
  if (!pte_present(e)) return -1;
  return <f64>(pte_phys(e) + (va & hugeMask(leafShift)));
}
