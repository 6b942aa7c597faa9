// Batch replay: access and error events written by the host straight into columns in
// linear memory, replayed in one call. The hot loop walks the page table inline and only
// leaves it (fault-in, HWPOISON entry, a poisoned folio, a dead or unmapped process) for
// the same sys_access path a single call takes, so replay and the API cannot disagree.

import { alloc, allocBound, arena_reserve, free } from './arena';
import { ENOMEM, HPAGE_1G_SHIFT, HPAGE_2M_SHIFT, LOG_MCE_USER, PAGE_SHIFT, PTE_ADDR_MASK, _PAGE_PRESENT, _PAGE_PSE, _PAGE_RW, _PAGE_SIM_POISONED } from './constants';
import { memory_failure, NOT_MAPPED, folio_vaddr } from './mfr';
import { outbox_push } from './outbox';
import { BIT_CORRUPTED, rawTest } from './poison';
import {
  H_ACCESS_SIGNALLED, H_BAD_EVENTS, H_DEAD_EVENTS, HF_PANICKED, addHostStat, firstProc,
  foundSc, framePhys, hostFlags, physToFrame,
} from './pool';
import { PF_KVM_GUEST, P_ACCESSES, P_PGD_OFF, countProcUeMapped, procAlive, procFlags, procHost, procNext, procRecord } from './procs';
import { access_bound, memory_failure_bound } from './reserve';
import { sys_access } from './syscalls';
import { tlbEnabled, tlb_access } from './tlb';

// Access columns: proc (u32), va (f64), write (u8). Error columns: host (u32), phys (f64),
// flags (u8: bit 0 UE, bit 1 consumed by the workload).
let accProc: usize = 0;
let accVa: usize = 0;
let accWrite: usize = 0;
let accCap: u32 = 0;
let errHost: usize = 0;
let errPhys: usize = 0;
let errFlags: usize = 0;
let errCap: u32 = 0;

const ERR_UE: u8 = 1;
const ERR_CONSUMED: u8 = 2;

/** Where the last replay call stopped for want of memory (-ENOMEM for that event), or -1. */
let stoppedAt: i32 = -1;
export function replay_stopped_at(): i32 { return stoppedAt; }

/** Bytes of `cap` rows of columns of the given widths. */
function columnsBound(cap: u32, a: u64, b: u64, c: u64): u64 {
  return allocBound(<u64>cap * a) + allocBound(<u64>cap * b) + allocBound(<u64>cap * c);
}

/** Makes room for `cap` access events; the host then writes the columns. 0 or -ENOMEM. */
export function replay_reserve_access(cap: u32): i32 {
  if (cap <= accCap) return 0;
  if (!arena_reserve(columnsBound(cap, 4, 8, 1))) return -ENOMEM;
  free(accProc, <usize>accCap << 2);
  free(accVa, <usize>accCap << 3);
  free(accWrite, <usize>accCap);
  accProc = alloc(<usize>cap << 2);
  accVa = alloc(<usize>cap << 3);
  accWrite = alloc(<usize>cap);
  accCap = cap;
  return 0;
}
export function replay_access_proc(): usize { return accProc; }
export function replay_access_va(): usize { return accVa; }
export function replay_access_write(): usize { return accWrite; }

export function replay_reserve_errors(cap: u32): i32 {
  if (cap <= errCap) return 0;
  if (!arena_reserve(columnsBound(cap, 4, 8, 1))) return -ENOMEM;
  free(errHost, <usize>errCap << 2);
  free(errPhys, <usize>errCap << 3);
  free(errFlags, <usize>errCap);
  errHost = alloc(<usize>cap << 2);
  errPhys = alloc(<usize>cap << 3);
  errFlags = alloc(<usize>cap);
  errCap = cap;
  return 0;
}
export function replay_error_host(): usize { return errHost; }
export function replay_error_phys(): usize { return errPhys; }
export function replay_error_flags(): usize { return errFlags; }

/**
 * The slow path of one access: whatever a single 1-byte load or store would do. False,
 * with nothing done, when the kernel's memory cannot hold what it may allocate.
 */
function access_slow(p: u32, va: u64, write: bool): bool {
  const h = procHost(p);
  if (!procAlive(p) || (hostFlags(h) & HF_PANICKED) != 0) {
    addHostStat(h, H_DEAD_EVENTS, 1);
    return true;
  }
  if (!arena_reserve(access_bound(p, 1))) return false;
  // A guest-marked VMM's replayed accesses come from its guest (docs/semantics.md).
  const r = sys_access(p, va, 1, write, (procFlags(p) & PF_KVM_GUEST) != 0);
  if (r == 1) addHostStat(h, H_ACCESS_SIGNALLED, 1);
  else if ((hostFlags(h) & HF_PANICKED) != 0) addHostStat(h, H_DEAD_EVENTS, 1);
  else if (r < 0) addHostStat(h, H_BAD_EVENTS, 1);
  return true;
}

/**
 * Replays access events [from, to). A present leaf that allows the access and has no
 * poisoned mark completes on the spot; everything else takes the slow path. Accesses are
 * counted per process; the outcomes other than success per host.
 *
 * Like the MMU's paging-structure caches, the loop remembers the last 1 GiB region it
 * walked (its PUD entry, and the PMD table below it): consecutive accesses there cost one
 * load. The slow path may change entries, so it forgets them. Out of memory, the batch
 * stops before the event that needed it (replay_stopped_at).
 */
export function replay_access(from: u32, to: u32): void {
  stoppedAt = -1;
  // Runs of events by one process are counted in a register: a per-event store would
  // chain every iteration through memory.
  let runProc: u32 = 0xffff_ffff;
  let run: f64 = 0;
  let pgd: usize = 0;
  let cachedRegion: u64 = NO_REGION;
  let pud: u64 = 0;
  // The last leaf that completed an access (like a TLB entry): its page number, size and
  // whether it allows stores. Only clean leaves (no poisoned mark) are remembered.
  let lastPage: u64 = NO_REGION;
  let lastShift: u64 = 0;
  let lastWritable = false;
  for (let i = from; i < to; i++) {
    const p = load<u32>(accProc + (<usize>i << 2));
    const va = <u64>load<f64>(accVa + (<usize>i << 3));
    const write = load<u8>(accWrite + <usize>i) != 0;
    if (p != runProc) {
      count_run(runProc, run);
      runProc = p;
      run = 0;
      pgd = <usize>load<u32>(procRecord(p) + P_PGD_OFF);
      cachedRegion = NO_REGION;
      lastPage = NO_REGION;
    }
    run++;
    if (va >> lastShift == lastPage && (lastWritable || !write)) {
      if (tlbEnabled) tlb_access(p, va, <u32>lastShift);
      continue;
    }
    const region = va >> 30;
    if (region != cachedRegion) {
      const top = load<u64>(pgd + (<usize>((va >> 39) & 511) << 3));
      pud = (top & _PAGE_PRESENT) == 0 ? 0 : load<u64>(<usize>(top & PTE_ADDR_MASK) + (<usize>(region & 511) << 3));
      cachedRegion = region;
    }
    // A 1 GiB leaf (or nothing) at the PUD, else the PMD entry below it.
    const atPud = (pud & (_PAGE_PRESENT | _PAGE_PSE)) != _PAGE_PRESENT;
    let e = atPud ? pud : load<u64>(<usize>(pud & PTE_ADDR_MASK) + (<usize>((va >> 21) & 511) << 3));
    let shift = atPud ? HPAGE_1G_SHIFT : HPAGE_2M_SHIFT;
    // A 2 MiB region that HGM split: its 4 KiB PTE.
    if (!atPud && (e & (_PAGE_PRESENT | _PAGE_PSE)) == _PAGE_PRESENT) {
      e = load<u64>(<usize>(e & PTE_ADDR_MASK) + (<usize>((va >> 12) & 511) << 3));
      shift = PAGE_SHIFT;
    }
    const need = _PAGE_PRESENT | (write ? _PAGE_RW : 0);
    const bits = e & (need | _PAGE_SIM_POISONED);
    // A kept poisoned folio: only its corrupted raw pages fault (test the bitmap here).
    if (bits == need) {
      lastPage = va >> shift;
      lastShift = shift;
      lastWritable = (e & _PAGE_RW) != 0;
      if (tlbEnabled) tlb_access(p, va, shift);
      continue;
    }
    if (bits == (need | _PAGE_SIM_POISONED) && !raw_corrupted(procHost(p), e, va, shift)) {
      if (tlbEnabled) tlb_access(p, va, shift);
      continue;
    }
    if (!access_slow(p, va, write)) {
      run--;
      stoppedAt = <i32>i;
      break;
    }
    cachedRegion = NO_REGION;
    lastPage = NO_REGION;
  }
  count_run(runProc, run);
}

const NO_REGION: u64 = 0xffff_ffff_ffff_ffff;

/** Whether the raw page that leaf e (a hugepage of shift hs) maps at va holds lost data. */
function raw_corrupted(h: u32, e: u64, va: u64, hs: u32): bool {
  const phys = (e & PTE_ADDR_MASK) + (va & ((<u64>1 << hs) - 1));
  const local = physToFrame(h, phys);
  const sc = foundSc;
  return rawTest(h, sc, <u32>local, <u32>((phys - framePhys(h, sc, <u32>local)) >> 12), BIT_CORRUPTED);
}

// @ts-ignore: decorator
@inline function count_run(p: u32, n: f64): void {
  if (p == 0xffff_ffff) return;
  const rec = procRecord(p);
  store<f64>(rec + P_ACCESSES, load<f64>(rec + P_ACCESSES) + n);
}

/** Counts the UE at phys against every live process that maps its raw page (the VMs it affects). */
function count_mapped_ue(h: u32, phys: u64): void {
  const local = physToFrame(h, phys);
  const sc = foundSc;
  const raw = <u32>((phys - framePhys(h, sc, <u32>local)) >> 12);
  for (let p = firstProc(h); p >= 0; p = procNext(<u32>p)) {
    if (procAlive(<u32>p) && folio_vaddr(<u32>p, h, sc, <u32>local, raw) != NOT_MAPPED) countProcUeMapped(<u32>p);
  }
}

/** The first live process mapping the raw page at phys (the workload that reads it), or -1. */
function consumer_of(h: u32, phys: u64): i32 {
  const local = physToFrame(h, phys);
  const sc = foundSc;
  const raw = <u32>((phys - framePhys(h, sc, <u32>local)) >> 12);
  for (let p = firstProc(h); p >= 0; p = procNext(<u32>p)) {
    if (procAlive(<u32>p) && folio_vaddr(<u32>p, h, sc, <u32>local, raw) != NOT_MAPPED) return p;
  }
  return -1;
}

/**
 * Replays error events [from, to): each UE inside a pool runs memory_failure, consumed by
 * the first process mapping it when the record says the workload read it. CEs and
 * addresses outside the pools are counted by the caller and skipped here.
 * Returns the number of UEs handled. Out of memory, the batch stops before the event that
 * needed it (replay_stopped_at).
 */
export function replay_errors(from: u32, to: u32): u32 {
  stoppedAt = -1;
  let handled: u32 = 0;
  for (let i = from; i < to; i++) {
    const flags = load<u8>(errFlags + <usize>i);
    if ((flags & ERR_UE) == 0) continue;
    const h = load<u32>(errHost + (<usize>i << 2));
    const phys = <u64>load<f64>(errPhys + (<usize>i << 3));
    if ((hostFlags(h) & HF_PANICKED) != 0 || physToFrame(h, phys) < 0) continue;
    if (!arena_reserve(memory_failure_bound(h, 1, 1))) {
      stoppedAt = <i32>i;
      break;
    }
    count_mapped_ue(h, phys);
    const consumer = (flags & ERR_CONSUMED) != 0 ? consumer_of(h, phys) : -1;
    if (consumer >= 0) outbox_push(LOG_MCE_USER, h, 0, 0, phys, 0);
    memory_failure(h, phys, consumer, true);
    handled++;
  }
  return handled;
}
