// The kernel's only interface to the host: numbers in, numbers out. Addresses and sizes
// cross as f64 (exact below 2^53, which covers 48-bit virtual and 52-bit physical
// addresses: hosts are refused beyond 2^52) so no call needs a BigInt. Errors come back as
// -errno. Every entry point that may allocate first reserves its worst case
// (assembly/reserve.ts): out of linear memory, it returns -ENOMEM and changes nothing.

import { EINVAL, EIO, ENOMEM, ESRCH, LOG_MCE_USER } from './constants';
import { alloc, allocBound, arenaExhausted, arenaOverruns, arena_reserve, heapUsed } from './arena';
import * as bound from './reserve';
import { NOT_MAPPED, folio_vaddr, host_panicked, memory_failure } from './mfr';
import { outbox_push } from './outbox';
import {
  H_ACCESS_SIGNALLED, H_BAD_EVENTS, H_PT_PAGES, H_TLB_ACCESSES, H_TLB_L1_MISSES, H_TLB_WALKS,
  H_TLB_WALK_REFS, H_TLB_WALK_CYCLES, H_DISSOLVES, H_REPEAT_MCE, firstProc, H_BYTES_LOST, H_DEAD_EVENTS, H_FAULT_INS,
  H_HUGEPAGES_LOST, H_KILLED, H_SIG_ADRERR, H_SIG_AO, H_SIG_AR, H_SIG_KERNEL, hostStat,
  H_MF_DELAYED, H_MF_FAILED, H_MF_IGNORED, H_MF_RECOVERED, H_MF_TOTAL, buddyPages, createHost,
  framePhys, hostCounter, hostFlags, hwCorruptedPages, listFree, physToFrame, foundSc,
  poolFree, poolNr, poolResv, reserveFrames, setHostFlag, hostFrames, thpSplitCount, H_REFCOUNT_UNDERFLOWS, host_create_bound,
  reserve_frames_bound,
} from './pool';
import { HPAGE_1G_SHIFT, HPAGE_2M_SHIFT, PAGE_SHIFT, PHYS_BASE, SC_1G, SC_2M, SC_THP } from './constants';
import {
  PF_KVM_GUEST, proc_create, proc_create_bound, procAccesses, procAlive, procTranslated, procUesMapped, procWalkCycles, procFlags, procHost, procNext, procPgd, procPid, set_current,
} from './procs';
import { tlb_spawn_bound, tlb_spawned } from './tlb';

/** Replayed accesses of host h: the sum over its processes. */
function hostAccesses(h: u32): f64 {
  let n: f64 = 0;
  for (let p = firstProc(h); p >= 0; p = procNext(<u32>p)) n += procAccesses(<u32>p);
  return n;
}
import * as sys from './syscalls';
import { sys_madvise } from './madvise';

export {
  outbox_ptr, outbox_count, outbox_clear, outbox_set_limit, outbox_dropped_signals, outbox_dropped_log,
} from './outbox';
export { tlb_configure } from './tlb';
export {
  replay_reserve_access, replay_access_proc, replay_access_va, replay_access_write, replay_access,
  replay_reserve_errors, replay_error_host, replay_error_phys, replay_error_flags, replay_errors,
  replay_stopped_at, replay_slow_events,
} from './replay';
export { replay_native_layout } from './layout';
export { arena_set_limit } from './arena';

/** Whether the last -ENOMEM came from the kernel's own linear memory (not a pool). */
export function arena_exhausted(): bool {
  return arenaExhausted();
}
/** Allocations beyond their call's reservation so far (0 unless a bound is wrong). */
export function arena_overruns(): u32 {
  return arenaOverruns();
}

/** x86-64's physical address width (MAXPHYADDR): a host's last byte must lie below 2^52. */
const PHYS_ADDR_BITS: u64 = 52;

/** A host's number, or -EINVAL (memory beyond 2^52) or -ENOMEM. */
export function host_create(n2M: u32, n1G: u32, nThp: u32, flags: u32, seed: u32, thpSplitFailure: f64): i32 {
  const end = PHYS_BASE + (<u64>n1G << HPAGE_1G_SHIFT) + ((<u64>n2M + <u64>nThp) << HPAGE_2M_SHIFT);
  if (end > (<u64>1 << PHYS_ADDR_BITS)) return -EINVAL;
  if (!arena_reserve(host_create_bound(n2M, n1G, nThp))) return -ENOMEM;
  return <i32>createHost(n2M, n1G, nThp, flags, seed, thpSplitFailure);
}

/** Host counters by number (see src/kernel.ts for the names). */
export function host_counter(h: u32, which: u32): f64 {
  switch (which) {
    case 0: return poolNr(h, 0);
    case 1: return poolFree(h, 0);
    case 2: return poolResv(h, 0);
    case 3: return poolNr(h, 1);
    case 4: return poolFree(h, 1);
    case 5: return poolResv(h, 1);
    case 6: return hostCounter(h, H_MF_TOTAL);
    case 7: return hostCounter(h, H_MF_IGNORED);
    case 8: return hostCounter(h, H_MF_FAILED);
    case 9: return hostCounter(h, H_MF_DELAYED);
    case 10: return hostCounter(h, H_MF_RECOVERED);
    case 11: return hwCorruptedPages(h);
    case 12: return hostFlags(h);
    case 13: return buddyPages(h);
    case 16: return hostStat(h, H_BYTES_LOST);
    case 17: return hostAccesses(h);
    case 18: return hostStat(h, H_ACCESS_SIGNALLED);
    case 19: return hostStat(h, H_FAULT_INS);
    case 20: return hostCounter(h, H_SIG_ADRERR);
    case 21: return hostCounter(h, H_SIG_AR);
    case 22: return hostCounter(h, H_SIG_AO);
    case 23: return hostCounter(h, H_SIG_KERNEL);
    case 24: return hostCounter(h, H_KILLED);
    case 25: return hostCounter(h, H_HUGEPAGES_LOST);
    case 26: return hostStat(h, H_DEAD_EVENTS);
    case 27: return hostStat(h, H_BAD_EVENTS);
    case 28: return hostCounter(h, H_PT_PAGES);
    case 29: return hostStat(h, H_TLB_ACCESSES);
    case 30: return hostStat(h, H_TLB_L1_MISSES);
    case 31: return hostStat(h, H_TLB_WALKS);
    case 32: return hostStat(h, H_TLB_WALK_REFS);
    case 33: return hostStat(h, H_TLB_WALK_CYCLES);
    case 34: return hostCounter(h, H_DISSOLVES);
    case 35: return hostCounter(h, H_DISSOLVES + 4);
    case 36: return hostStat(h, H_REPEAT_MCE);
    case 37: return poolNr(h, SC_THP);
    case 38: return poolFree(h, SC_THP);
    case 39: return thpSplitCount(h);
    case 40: return hostCounter(h, H_REFCOUNT_UNDERFLOWS);
    default: return -1;
  }
}

/** Sizes the kernel for a fleet of n2M + n1G hugepages and nThp THP folios in all: 0 or -ENOMEM. */
export function reserve_frames(n2M: u32, n1G: u32, nThp: u32): i32 {
  const bytes = reserve_frames_bound(SC_2M, n2M) + reserve_frames_bound(SC_1G, n1G) + reserve_frames_bound(SC_THP, nThp);
  if (!arena_reserve(bytes)) return -ENOMEM;
  reserveFrames(SC_2M, n2M);
  reserveFrames(SC_1G, n1G);
  reserveFrames(SC_THP, nThp);
  return 0;
}

export function host_set_flag(h: u32, flag: u32, on: bool): void {
  setHostFlag(h, flag, on);
}

let scratch: usize = 0;
let scratchBytes: usize = 0;

/** Physical addresses (f64) of the pool's free hugepages, top of the stack first; or -ENOMEM. */
export function host_free_list(h: u32, sc: u32): i32 {
  const bytes = <usize>hostFrames(h, sc) << 3;
  if (bytes > scratchBytes) {
    if (!arena_reserve(allocBound(bytes))) return -ENOMEM;
    scratch = alloc(bytes);
    scratchBytes = bytes;
  }
  const n = listFree(h, sc, scratch);
  // Expand the u32 frame list to f64 physical addresses in place, from the back.
  for (let i = <i32>n - 1; i >= 0; i--) {
    store<f64>(scratch + (<usize>i << 3), <f64>framePhys(h, sc, load<u32>(scratch + (<usize>i << 2))));
  }
  return <i32>n;
}

export function scratch_ptr(): usize {
  return scratch;
}

export function heap_used(): f64 {
  return <f64>heapUsed();
}

/** A new process on host h, or -ENOMEM. */
export function proc_spawn(h: u32, flags: u32): i32 {
  if (!arena_reserve(proc_create_bound() + tlb_spawn_bound())) return -ENOMEM;
  const p = proc_create(h, flags);
  tlb_spawned(p);
  return <i32>p;
}
export function proc_pid(p: u32): u32 {
  return procPid(p);
}
/** Linear-memory address of p's page table (the typed-array baseline walks it from JS). */
export function proc_pgd(p: u32): usize {
  return procPgd(p);
}
export function proc_alive(p: u32): bool {
  return procAlive(p);
}
/**
 * Process p's figures: 0 replayed accesses, 1 accesses translated (by the translation model),
 * 2 their page-walk cycles, 3 replayed UEs on memory it mapped.
 */
export function proc_counter(p: u32, which: u32): f64 {
  switch (which) {
    case 0: return procAccesses(p);
    case 1: return procTranslated(p);
    case 2: return procWalkCycles(p);
    case 3: return <f64>procUesMapped(p);
  }
  return 0;
}

/** -errno when process p cannot make a system call now, else 0. */
export function proc_guard(p: u32): i32 {
  return guard(p);
}

function guard(p: u32): i32 {
  if (host_panicked(procHost(p))) return -EIO;
  if (!procAlive(p)) return -ESRCH;
  set_current(<i32>p);
  return 0;
}

/** guard, then the reservation of the call's worst case: 0, -EIO, -ESRCH or -ENOMEM. */
function enter(p: u32, bytes: u64): i32 {
  const g = guard(p);
  if (g != 0) return g;
  return arena_reserve(bytes) ? 0 : -ENOMEM;
}

export function memfd_create(p: u32, flags: u32): i32 {
  const g = enter(p, bound.memfd_create_bound(p));
  return g != 0 ? g : sys.sys_memfd_create(p, flags);
}
export function ftruncate(p: u32, fd: i32, size: f64): i32 {
  const g = enter(p, bound.release_bound(p));
  return g != 0 ? g : sys.sys_ftruncate(p, fd, <u64>size);
}
export function fallocate(p: u32, fd: i32, mode: u32, offset: f64, len: f64): i32 {
  const g = enter(p, bound.fallocate_bound(p, fd, <u64>offset, <u64>len));
  return g != 0 ? g : sys.sys_fallocate(p, fd, mode, <u64>offset, <u64>len);
}
export function mmap(p: u32, addr: f64, len: f64, prot: u32, flags: u32, fd: i32, offset: f64): f64 {
  const g = enter(p, bound.mmap_bound(p, <u64>len, flags, fd, <u64>offset));
  return g != 0 ? <f64>g : sys.sys_mmap(p, <u64>addr, <u64>len, prot, flags, fd, <u64>offset);
}
export function munmap(p: u32, addr: f64, len: f64): i32 {
  const g = enter(p, bound.munmap_bound(p));
  return g != 0 ? g : sys.sys_munmap(p, <u64>addr, <u64>len);
}
/** A load or store by p, or (`guest`) by the KVM guest p runs: EINVAL when it runs none. */
export function access(p: u32, addr: f64, len: f64, write: bool, guest: bool): i32 {
  const g = enter(p, bound.access_bound(p, <u64>len));
  if (g != 0) return g;
  if (guest && (procFlags(p) & PF_KVM_GUEST) == 0) return -EINVAL;
  return sys.sys_access(p, <u64>addr, <u64>len, write, guest);
}
export function madvise(p: u32, addr: f64, len: f64, advice: u32): i32 {
  const g = enter(p, bound.madvise_bound(p, <u64>len));
  return g != 0 ? g : sys_madvise(p, <u64>addr, <u64>len, advice);
}
export function pread(p: u32, fd: i32, len: f64, offset: f64): f64 {
  const g = enter(p, 0);
  return g != 0 ? <f64>g : sys.sys_pread(p, fd, <u64>len, <u64>offset);
}
export function translate(p: u32, va: f64): f64 {
  const g = guard(p);
  return g != 0 ? <f64>g : sys.sys_translate(p, <u64>va);
}
/** The leaf for va (see sys_page_table_leaf); the host checks proc_guard first. */
export function page_table_leaf(p: u32, va: f64): i32 {
  return sys.sys_page_table_leaf(p, <u64>va);
}
export function sendfd(p: u32, fd: i32, q: u32): i32 {
  const g = enter(p, bound.sendfd_bound(q));
  return g != 0 ? g : sys.sys_sendfd(p, fd, q);
}
export function close(p: u32, fd: i32): i32 {
  const g = enter(p, bound.release_bound(p));
  return g != 0 ? g : sys.sys_close(p, fd);
}
export function exit(p: u32): i32 {
  const g = enter(p, bound.exit_bound(p));
  if (g != 0) return g;
  sys.sys_exit(p);
  return 0;
}

/**
 * A hardware UE at phys: consumed by process `consumer` (AR), or found by the patrol
 * scrubber when consumer < 0 (AO).
 */
export function inject_ue(h: u32, phys: f64, consumer: i32): i32 {
  if (host_panicked(h)) return -EIO;
  // The machine check runs on the consumer's CPU, or (patrol scrub) on behalf of nobody.
  set_current(consumer);
  const pa = <u64>phys;
  const local = physToFrame(h, pa);
  if (local < 0) return -EINVAL;
  const sc = foundSc;
  if (consumer >= 0) {
    const c = <u32>consumer;
    if (!procAlive(c)) return -ESRCH;
    if (procHost(c) != h) return -EINVAL;
    const raw = <u32>((pa - framePhys(h, sc, <u32>local)) >> PAGE_SHIFT);
    if (folio_vaddr(c, h, sc, <u32>local, raw) == NOT_MAPPED) return -EINVAL;
  }
  if (!arena_reserve(bound.memory_failure_bound(h, 1, 1))) return -ENOMEM;
  if (consumer >= 0) outbox_push(LOG_MCE_USER, h, 0, 0, pa, 0);
  memory_failure(h, pa, consumer, true);
  return 0;
}
