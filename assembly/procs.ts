// Processes: flags, a page table, VMAs (kept sorted by start) and an fd table.

import { allocBound, realloc } from './arena';
import { pgd_alloc, tables_bound } from './pagetable';
import { hostAppendProc, nextPid } from './pool';

const PROC_SIZE: usize = 80;
const P_HOST: usize = 0;
const P_PID: usize = 4;
const P_FLAGS: usize = 8;
const P_PGD: usize = 12;
const P_VMAS: usize = 16;
const P_NVMAS: usize = 20;
const P_VMA_CAP: usize = 24;
const P_FDS: usize = 28;
const P_FD_CAP: usize = 32;
const P_NEXT: usize = 36; // next process of the same host, -1 at the end
const P_MMAP_BASE: usize = 40; // u64, top-down placement
export const P_ACCESSES: usize = 48; // f64, replayed accesses (counted per process: no branch per event)
const P_WALK_CYCLES: usize = 56; // f64, the translation model's page-walk cycles of the process's accesses
const P_UES_MAPPED: usize = 64; // u32, replayed UEs that hit memory the process mapped
const P_TRANSLATED: usize = 72; // f64, accesses the translation model translated (those that completed)

export const PF_ALIVE: u32 = 1;
export const PF_CAP_SYS_ADMIN: u32 = 2;
export const PF_MCE_EARLY: u32 = 4;
export const PF_MCE_LATE: u32 = 8;
export const PF_HANDLES_SIGBUS: u32 = 16;
/** A VMM running a KVM guest: its replayed accesses come from the guest (stage-2 faults). */
export const PF_KVM_GUEST: u32 = 32;

export const VMA_SIZE: usize = 40;
export const V_START: usize = 0;
export const V_END: usize = 8;
export const V_PGOFF: usize = 16; // u64 byte offset into the file
export const V_FILE: usize = 24;
export const V_FLAGS: usize = 28;
export const V_SHIFT: usize = 32;
export const VM_SHARED: u32 = 1;
export const VM_READ: u32 = 2;
export const VM_WRITE: u32 = 4;
/** An anonymous THP mapping (MAP_PRIVATE | MAP_ANONYMOUS without MAP_HUGETLB). */
export const VM_THP: u32 = 8;

const MMAP_BASE: u64 = 0x7f00_0000_0000;

let procs: usize = 0;
let procCap: u32 = 0;
let procCount: u32 = 0;

// @ts-ignore: decorator
@inline function procPtr(p: u32): usize {
  return procs + <usize>p * PROC_SIZE;
}

export function proc_create(h: u32, flags: u32): u32 {
  if (procCount == procCap) {
    const next = procCap == 0 ? <u32>16 : procCap * 2;
    procs = realloc(procs, <usize>procCap * PROC_SIZE, <usize>next * PROC_SIZE);
    procCap = next;
  }
  const p = procCount++;
  const pp = procPtr(p);
  store<u32>(pp + P_HOST, h);
  store<u32>(pp + P_FLAGS, flags | PF_ALIVE);
  store<u32>(pp + P_PGD, <u32>pgd_alloc());
  store<i32>(pp + P_NEXT, -1);
  store<u64>(pp + P_MMAP_BASE, MMAP_BASE);
  store<f64>(pp + P_WALK_CYCLES, 0);
  store<u32>(pp + P_UES_MAPPED, 0);
  store<f64>(pp + P_TRANSLATED, 0);
  const prev = hostAppendProc(h, p);
  if (prev >= 0) store<i32>(procPtr(<u32>prev) + P_NEXT, p);
  store<u32>(pp + P_PID, nextPid(h));
  return p;
}

// The process on whose behalf the kernel runs (Linux's `current`), or -1 in interrupt-like
// context (a patrol-scrub UE). Set at every system call and when a killed task exits.
let currentProc: i32 = -1;
export function current(): i32 { return currentProc; }
export function set_current(p: i32): void { currentProc = p; }

/** Heap bytes proc_create may take: the process table doubling once, and a PGD page. */
export function proc_create_bound(): u64 {
  const table = procCount < procCap ? 0 : allocBound(<u64>(procCap == 0 ? 16 : procCap * 2) * PROC_SIZE);
  return table + tables_bound(1);
}

/** Processes created so far (kernel process numbers are below this). */
export function procTotal(): u32 {
  return procCount;
}

export function procHost(p: u32): u32 { return load<u32>(procPtr(p) + P_HOST); }
export function procPid(p: u32): u32 { return load<u32>(procPtr(p) + P_PID); }
export function procFlags(p: u32): u32 { return load<u32>(procPtr(p) + P_FLAGS); }
export function procAlive(p: u32): bool { return (procFlags(p) & PF_ALIVE) != 0; }
export function markDead(p: u32): void {
  store<u32>(procPtr(p) + P_FLAGS, procFlags(p) & ~PF_ALIVE);
}
export function procPgd(p: u32): usize { return <usize>load<u32>(procPtr(p) + P_PGD); }
export function procAccesses(p: u32): f64 { return load<f64>(procPtr(p) + P_ACCESSES); }
// The process table's layout, for the replay loop's direct loads (and its native baseline).
export const PROC_RECORD_BYTES: usize = PROC_SIZE;
export function procWalkCycles(p: u32): f64 { return load<f64>(procPtr(p) + P_WALK_CYCLES); }
export function procTranslated(p: u32): f64 { return load<f64>(procPtr(p) + P_TRANSLATED); }
export function countProcTranslated(p: u32): void {
  store<f64>(procPtr(p) + P_TRANSLATED, load<f64>(procPtr(p) + P_TRANSLATED) + 1);
}
export function addProcWalkCycles(p: u32, cycles: f64): void {
  store<f64>(procPtr(p) + P_WALK_CYCLES, load<f64>(procPtr(p) + P_WALK_CYCLES) + cycles);
}
export function procUesMapped(p: u32): u32 { return load<u32>(procPtr(p) + P_UES_MAPPED); }
export function countProcUeMapped(p: u32): void {
  store<u32>(procPtr(p) + P_UES_MAPPED, load<u32>(procPtr(p) + P_UES_MAPPED) + 1);
}
export const P_PGD_OFF: usize = P_PGD;
export const P_HOST_OFF: usize = P_HOST;
/** The process table's address (it moves only when a process is created). */
export function procTable(): usize { return procs; }
export function procNext(p: u32): i32 { return load<i32>(procPtr(p) + P_NEXT); }
export function mmapBase(p: u32): u64 { return load<u64>(procPtr(p) + P_MMAP_BASE); }
export function setMmapBase(p: u32, v: u64): void { store<u64>(procPtr(p) + P_MMAP_BASE, v); }

// ---- VMAs -------------------------------------------------------------------------------

export function vmaCount(p: u32): u32 { return load<u32>(procPtr(p) + P_NVMAS); }
/** The i-th VMA in address order. Pointers stay valid until the next insert. */
export function vmaAt(p: u32, i: u32): usize {
  return <usize>load<u32>(procPtr(p) + P_VMAS) + <usize>i * VMA_SIZE;
}

/** find_vma: index of the VMA containing va, or -1. */
export function find_vma(p: u32, va: u64): i32 {
  let lo: i32 = 0;
  let hi: i32 = <i32>vmaCount(p) - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = vmaAt(p, <u32>mid);
    if (va < load<u64>(v + V_START)) hi = mid - 1;
    else if (va >= load<u64>(v + V_END)) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/** Index of the first VMA ending above va (the one containing it or the next), or count. */
export function first_vma_above(p: u32, va: u64): u32 {
  const n = vmaCount(p);
  for (let i: u32 = 0; i < n; i++) if (load<u64>(vmaAt(p, i) + V_END) > va) return i;
  return n;
}

/** Whether [start, end) overlaps any VMA. */
export function range_mapped(p: u32, start: u64, end: u64): bool {
  const i = first_vma_above(p, start);
  return i < vmaCount(p) && load<u64>(vmaAt(p, i) + V_START) < end;
}

/** Heap bytes insert_vma may take in p: its VMA array doubling once. */
export function vma_insert_bound(p: u32): u64 {
  const cap = load<u32>(procPtr(p) + P_VMA_CAP);
  return vmaCount(p) < cap ? 0 : allocBound(<u64>(cap == 0 ? 4 : cap * 2) * VMA_SIZE);
}

/** Bytes p maps: no fault-in, split or access of p reaches beyond them. */
export function mappedBytes(p: u32): u64 {
  let n: u64 = 0;
  for (let i: u32 = 0; i < vmaCount(p); i++) {
    const v = vmaAt(p, i);
    n += load<u64>(v + V_END) - load<u64>(v + V_START);
  }
  return n;
}

export function insert_vma(p: u32, start: u64, end: u64, pgoff: u64, file: u32, flags: u32, hs: u32): void {
  const pp = procPtr(p);
  const n = vmaCount(p);
  const cap = load<u32>(pp + P_VMA_CAP);
  if (n == cap) {
    const next = cap == 0 ? <u32>4 : cap * 2;
    store<u32>(pp + P_VMAS, <u32>realloc(<usize>load<u32>(pp + P_VMAS), <usize>cap * VMA_SIZE, <usize>next * VMA_SIZE));
    store<u32>(pp + P_VMA_CAP, next);
  }
  const at = first_vma_above(p, start);
  const base = <usize>load<u32>(pp + P_VMAS);
  memory.copy(base + <usize>(at + 1) * VMA_SIZE, base + <usize>at * VMA_SIZE, <usize>(n - at) * VMA_SIZE);
  const v = base + <usize>at * VMA_SIZE;
  store<u64>(v + V_START, start);
  store<u64>(v + V_END, end);
  store<u64>(v + V_PGOFF, pgoff);
  store<u32>(v + V_FILE, file);
  store<u32>(v + V_FLAGS, flags);
  store<u32>(v + V_SHIFT, hs);
  store<u32>(pp + P_NVMAS, n + 1);
}

export function remove_vma(p: u32, i: u32): void {
  const pp = procPtr(p);
  const n = vmaCount(p);
  const base = <usize>load<u32>(pp + P_VMAS);
  memory.copy(base + <usize>i * VMA_SIZE, base + <usize>(i + 1) * VMA_SIZE, <usize>(n - i - 1) * VMA_SIZE);
  store<u32>(pp + P_NVMAS, n - 1);
}

// ---- the file's mappings (the kernel's i_mmap) ---------------------------------------

/** Returned by vma_index_address where the VMA does not map the index. */
export const NO_ADDRESS: u64 = 0xffff_ffff_ffff_ffff;

/** First page-cache index VMA v maps (its hugepage shift hs). */
export function vma_first_index(v: usize): u64 {
  return load<u64>(v + V_PGOFF) >> load<u32>(v + V_SHIFT);
}

/** One past the last page-cache index VMA v maps. */
export function vma_end_index(v: usize): u64 {
  const hs = load<u32>(v + V_SHIFT);
  return (load<u64>(v + V_PGOFF) >> hs) + ((load<u64>(v + V_END) - load<u64>(v + V_START)) >> hs);
}

/** Where VMA v maps page-cache index idx, or NO_ADDRESS. */
export function vma_index_address(v: usize, idx: u64): u64 {
  if (idx < vma_first_index(v) || idx >= vma_end_index(v)) return NO_ADDRESS;
  return load<u64>(v + V_START) + ((idx - vma_first_index(v)) << load<u32>(v + V_SHIFT));
}

// An iterator over the shared VMAs of one file in the live processes of its host, in pid
// and address order (vma_interval_tree_foreach over mapping->i_mmap). Not reentrant.
let mmapFile: u32 = 0;
let mmapProc: i32 = -1;
let mmapVma: u32 = 0;

export function i_mmap_begin(firstProc: i32, f: u32): void {
  mmapFile = f;
  mmapProc = firstProc;
  mmapVma = 0;
}

/** The next shared VMA of the file (i_mmap_proc() is its process), or 0 at the end. */
export function i_mmap_next(): usize {
  while (mmapProc >= 0) {
    const p = <u32>mmapProc;
    if (procAlive(p)) {
      while (mmapVma < vmaCount(p)) {
        const v = vmaAt(p, mmapVma++);
        if (load<u32>(v + V_FILE) == mmapFile && (load<u32>(v + V_FLAGS) & VM_SHARED) != 0) return v;
      }
    }
    mmapProc = procNext(p);
    mmapVma = 0;
  }
  return 0;
}

export function i_mmap_proc(): u32 {
  return <u32>mmapProc;
}

// ---- fds ----------------------------------------------------------------------------------

const FD_BASE: u32 = 3;

/** The file behind fd, or -1. */
export function fdget(p: u32, fd: i32): i32 {
  const pp = procPtr(p);
  const i = fd - <i32>FD_BASE;
  if (i < 0 || i >= <i32>load<u32>(pp + P_FD_CAP)) return -1;
  return load<i32>(<usize>load<u32>(pp + P_FDS) + (<usize>i << 2)) - 1;
}

/** Heap bytes fd_install may take in p: its fd table doubling once. */
export function fd_install_bound(p: u32): u64 {
  const cap = load<u32>(procPtr(p) + P_FD_CAP);
  return allocBound(<u64>(cap == 0 ? 8 : cap * 2) << 2);
}

/** fd_install at the lowest free fd; returns the fd. */
export function fd_install(p: u32, file: u32): i32 {
  const pp = procPtr(p);
  const cap = load<u32>(pp + P_FD_CAP);
  let table = <usize>load<u32>(pp + P_FDS);
  for (let i: u32 = 0; i < cap; i++) {
    if (load<i32>(table + (<usize>i << 2)) == 0) {
      store<i32>(table + (<usize>i << 2), <i32>file + 1);
      return <i32>(i + FD_BASE);
    }
  }
  const next = cap == 0 ? <u32>8 : cap * 2;
  table = realloc(table, <usize>cap << 2, <usize>next << 2);
  store<u32>(pp + P_FDS, <u32>table);
  store<u32>(pp + P_FD_CAP, next);
  store<i32>(table + (<usize>cap << 2), <i32>file + 1);
  return <i32>(cap + FD_BASE);
}

export function fd_clear(p: u32, fd: i32): void {
  store<i32>(<usize>load<u32>(procPtr(p) + P_FDS) + (<usize>(fd - <i32>FD_BASE) << 2), 0);
}

/** Highest fd number + 1 that could be open (for exit's close loop). */
export function fdLimit(p: u32): i32 {
  return <i32>(load<u32>(procPtr(p) + P_FD_CAP) + FD_BASE);
}

