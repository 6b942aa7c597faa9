// Batch replay: access and error events written by the host straight into columns in
// linear memory, replayed in one call. The hot loop walks the page table inline and only
// leaves it (fault-in, HWPOISON entry, a poisoned folio, a dead or unmapped process) for
// the same sys_access path a single call takes, so replay and the API cannot disagree.

import { alloc, allocBound, arena_reserve, free } from './arena';
import { ENOMEM, HPAGE_1G_SHIFT, HPAGE_2M_SHIFT, LOG_MCE_USER, PAGE_SHIFT, PTE_ADDR_MASK, _PAGE_PRESENT, _PAGE_PSE, _PAGE_RW, _PAGE_SIM_POISONED } from './constants';
import { memory_failure, NOT_MAPPED, folio_vaddr } from './mfr';
import { outbox_push } from './outbox';
import { BIT_CORRUPTED, chunkAt, chunkBit, poisonTable, poisonTableCap, regionKey } from './poison';
import {
  H_ACCESS_SIGNALLED, H_BAD_EVENTS, H_DEAD_EVENTS, HF_PANICKED, addHostStat, firstProc,
  foundSc, framePhys, hostFlags, physToFrame,
} from './pool';
import {
  PF_KVM_GUEST, PROC_RECORD_BYTES, countProcUeMapped, P_ACCESSES, P_HOST_OFF, P_PGD_OFF, procAlive, procFlags, procHost, procNext, procTable,
} from './procs';
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

/** Events of the last replay_access call that took the slow path (the rest completed inline). */
let slowEvents: u32 = 0;
export function replay_slow_events(): u32 { return slowEvents; }

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
 * poisoned mark completes on the spot; so does one with the mark whose raw page holds no
 * lost data. Everything else takes the slow path. Accesses are counted per process; the
 * outcomes other than success per host.
 *
 * Like the MMU's paging-structure caches, the loop remembers the last 1 GiB region it
 * walked (its PUD entry): consecutive accesses there cost one load from the PMD table. And
 * like a TLB entry it remembers the last clean leaf that completed an access. The slow path
 * may change entries, so it forgets both. Out of memory, the batch stops before the event
 * that needed it (replay_stopped_at).
 *
 * The shape is for the engine's code generator: an inner loop with no calls (the poisoned
 * raw page's test inlined), so that its state stays in registers and the walks of
 * consecutive events overlap; the events it cannot finish (the slow path, the translation
 * model) break out to the outer loop, which handles that one event and re-enters.
 */
export function replay_access(from: u32, to: u32): void {
  stoppedAt = -1;
  slowEvents = 0;
  // Globals read once per call into locals: the engine reloads a global at every use. The
  // slow path moves neither the columns nor the process table (only spawning does).
  const procCol = accProc;
  const vaCol = accVa;
  const writeCol = accWrite;
  const procBase = procTable();
  const tlb = tlbEnabled;
  // The poison hash changes only in the slow path (memory_failure); read again after it.
  let poisons = poisonTable();
  let poisonsCap = poisonTableCap();
  // Runs of events by one process are counted from indices when the process changes: a
  // per-event counter would chain every iteration through memory or a register.
  let runProc: u32 = NO_PROC;
  let runStart = from;
  let pgd: usize = 0;
  let cachedRegion: u64 = NO_REGION;
  let pud: u64 = 0;
  // The last clean leaf (as a TLB entry): the mask of its page, the page's base address for
  // reads, and for writes the same base when the leaf allows them (else NO_PAGE).
  let lastMask: u64 = 0;
  let lastRead: u64 = NO_PAGE;
  let lastWrite: u64 = NO_PAGE;
  // The event the inner loop broke out on, for the outer loop.
  let p: u32 = 0;
  let va: u64 = 0;
  let write = false;
  let e: u64 = 0;
  let shift: u32 = 0;
  let need: u64 = 0;
  let bits: u64 = 0;
  let i = from;
  while (true) {
    for (; i < to; i++) {
      p = load<u32>(procCol + (<usize>i << 2));
      // va < 2^48: the signed conversion is exact and cheaper than the unsigned one.
      va = <u64><i64>load<f64>(vaCol + (<usize>i << 3));
      write = load<u8>(writeCol + <usize>i) != 0;
      if (p != runProc) {
        if (runProc != NO_PROC) count_run(procBase, runProc, i - runStart);
        runProc = p;
        runStart = i;
        pgd = <usize>load<u32>(procBase + <usize>p * PROC_RECORD_BYTES + P_PGD_OFF);
        cachedRegion = NO_REGION;
        lastRead = NO_PAGE;
        lastWrite = NO_PAGE;
      }
      if ((va & lastMask) == (write ? lastWrite : lastRead)) continue;
      const region = va >> 30;
      if (region != cachedRegion) {
        const top = load<u64>(pgd + (<usize>((va >> 39) & 511) << 3));
        pud = (top & _PAGE_PRESENT) == 0 ? 0 : load<u64>(<usize>(top & PTE_ADDR_MASK) + (<usize>(region & 511) << 3));
        cachedRegion = region;
      }
      // A 1 GiB leaf (or nothing) at the PUD, else the PMD entry below it; below a 2 MiB
      // region that HGM split, its 4 KiB PTE.
      if ((pud & (_PAGE_PRESENT | _PAGE_PSE)) != _PAGE_PRESENT) {
        e = pud;
        shift = HPAGE_1G_SHIFT;
      } else {
        e = load<u64>(<usize>(pud & PTE_ADDR_MASK) + (<usize>((va >> 21) & 511) << 3));
        shift = HPAGE_2M_SHIFT;
        if ((e & (_PAGE_PRESENT | _PAGE_PSE)) == _PAGE_PRESENT) {
          e = load<u64>(<usize>(e & PTE_ADDR_MASK) + (<usize>((va >> 12) & 511) << 3));
          shift = PAGE_SHIFT;
        }
      }
      need = _PAGE_PRESENT | (<u64>write << 1); // _PAGE_RW for a store
      bits = e & (need | _PAGE_SIM_POISONED);
      if (bits != need) {
        if (bits != (need | _PAGE_SIM_POISONED)) break;
        // A kept poisoned folio: the raw page's bit in its 2 MiB region's chunk
        // (assembly/poison.ts), inlined; only a raw page with lost data faults.
        const phys = (e & PTE_ADDR_MASK) + (va & ((<u64>1 << shift) - 1));
        const host = load<u32>(procBase + <usize>p * PROC_RECORD_BYTES + P_HOST_OFF);
        const c = chunkAt(poisons, poisonsCap, regionKey(host, phys));
        if (c != 0 && chunkBit(c, <u32>(phys >> PAGE_SHIFT), BIT_CORRUPTED)) break;
        // Not remembered as the last leaf: the next access may hit a corrupted raw page.
        if (tlb) {
          bits = need;
          break;
        }
        continue;
      }
      // With the translation model on, every access goes to it: no leaf is remembered.
      if (tlb) break;
      lastMask = ~((<u64>1 << shift) - 1);
      lastRead = va & lastMask;
      lastWrite = (e & _PAGE_RW) != 0 ? lastRead : NO_PAGE;
    }
    if (i >= to) break;
    // Event i: a completed access for the translation model, or the slow path.
    if (bits == need) {
      tlb_access(p, va, shift);
      i++;
      continue;
    }
    slowEvents++;
    if (!access_slow(p, va, write)) {
      stoppedAt = <i32>i;
      break;
    }
    cachedRegion = NO_REGION;
    lastRead = NO_PAGE;
    lastWrite = NO_PAGE;
    poisons = poisonTable();
    poisonsCap = poisonTableCap();
    i++;
  }
  // Events [runStart, i) of the last run completed: i is `to`, or the event that found no memory.
  if (runProc != NO_PROC) count_run(procBase, runProc, i - runStart);
}

const NO_PROC: u32 = 0xffff_ffff;
const NO_REGION: u64 = 0xffff_ffff_ffff_ffff;
/** Matches no masked address (those have bit 0 clear). */
const NO_PAGE: u64 = 1;

// @ts-ignore: decorator
@inline function count_run(procBase: usize, p: u32, n: u32): void {
  const rec = procBase + <usize>p * PROC_RECORD_BYTES + P_ACCESSES;
  store<f64>(rec, load<f64>(rec) + <f64>n);
}

/**
 * Counts the UE at phys against every live process that maps its raw page (the VMs it
 * affects) and returns the first of them (the workload that reads it), or -1.
 */
function count_mappers(h: u32, phys: u64): i32 {
  const local = physToFrame(h, phys);
  const sc = foundSc;
  const raw = <u32>((phys - framePhys(h, sc, <u32>local)) >> 12);
  let first: i32 = -1;
  for (let p = firstProc(h); p >= 0; p = procNext(<u32>p)) {
    if (!procAlive(<u32>p) || folio_vaddr(<u32>p, h, sc, <u32>local, raw) == NOT_MAPPED) continue;
    countProcUeMapped(<u32>p);
    if (first < 0) first = p;
  }
  return first;
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
    const mapper = count_mappers(h, phys);
    const consumer = (flags & ERR_CONSUMED) != 0 ? mapper : -1;
    if (consumer >= 0) outbox_push(LOG_MCE_USER, h, 0, 0, phys, 0);
    memory_failure(h, phys, consumer, true);
    handled++;
  }
  return handled;
}
