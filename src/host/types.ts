// The public shapes of the single-host API. The wasm-backed Host (src/host/host.ts) and the
// reference model (test/reference/model.ts) both implement them, so tests can drive
// either through one interface.
import type { KernelWasm } from '../kernel/compile.js';

import type { KeepVersionOption } from './kernel-behaviour.js';

/** Addresses, sizes and offsets: a safe integer or a bigint. Returned addresses are bigints. */
export type Num = number | bigint;

/** A HugeTLB page size. */
export type HugepageSize = '2M' | '1G';

/** How a host boots (`Host.create`). */
export interface HostOptions {
  /** Pool sizes: how many hugepages of each size the host boots with. */
  hugepages?: { '2M'?: number; '1G'?: number };
  /** The kernel carries the MFD_MF_KEEP_UE_MAPPED series (default true). */
  policyCapable?: boolean;
  /**
   * MFD_MF_KEEP_UE_MAPPED as intended ('intended', the default: the behaviour stated in the
   * v3 review, not posted code) or as posted ('v3', defects included). 'v4' is an alias of
   * 'intended'.
   */
  keepVersion?: KeepVersionOption;
  /** vm.memory_failure_early_kill (default false). */
  earlyKill?: boolean;
  /** vm.memory_failure_recovery (default true; false panics on any memory failure). */
  memoryFailureRecovery?: boolean;
  /** HugeTLB high-granularity mapping: file hugepages without KEEP split to 4 KiB on a UE (default false). */
  hgm?: boolean;
  /** 2 MiB folios of ordinary memory for anonymous THP mappings (default 0). */
  thpPages?: number;
  /** Probability, 0..1, that splitting a THP on a memory failure fails (default 0). */
  thpSplitFailure?: number;
  /** Seeds the host's own random choices (THP split failures); a uint32, default 0. */
  seed?: number;
  /**
   * The kernel to boot: a compiled module, its bytes, a URL or a fetch() response (default:
   * the package's build/kernel.wasm, or what loadKernel() was given). For this host only.
   */
  wasm?: KernelWasm;
}

/** THP memory: folios still usable (free or in use), free ones, in-use ones split to 4 KiB. */
export interface ThpCounters {
  total: number;
  free: number;
  split: number;
}

/** The leaf entry the MMU uses for an address: its level and whether it is a HWPOISON entry. */
export interface PageTableLeaf {
  level: 'pud' | 'pmd' | 'pte';
  hwpoison: boolean;
}

/** A process's settings (`Host.spawn`). */
export interface SpawnOptions {
  capSysAdmin?: boolean;
  /** prctl(PR_MCE_KILL): 'early', 'late', or 'default' (follow the sysctl). */
  mceKill?: 'default' | 'early' | 'late';
  /** A VMM that installs a SIGBUS handler survives the signal; otherwise SIGBUS kills. */
  handlesSigbus?: boolean;
  /** The task's comm, as printed in kernel log lines (default "task"). */
  name?: string;
  /** A VMM running a KVM guest: its accesses may come from the guest (default false). */
  kvmGuest?: boolean;
}

/** How an access is made: by the process itself, or by the KVM guest it runs. */
export interface AccessOptions {
  /**
   * The access comes from the guest (a vCPU, through the stage-2 tables); the process must
   * have been spawned with `kvmGuest`. A fault on offlined or poisoned memory is then
   * signalled by KVM: BUS_MCEERR_AR at the host virtual address of the guest's 4 KiB page,
   * lsb 12 (kvm_send_hwpoison_signal).
   */
  guest?: boolean;
}

/** A delivered signal, with the kernel's numbers (siginfo: si_signo, si_code, si_addr, si_addr_lsb). */
export interface Signal {
  signo: number;
  code: number;
  addr: bigint;
  addrLsb: number;
}

/** The outcome of a read or write: done, or stopped by the signal it raised. */
export type AccessResult = { ok: true } | { ok: false; signal: Signal };

/** A HugeTLB pool's counters, as in /sys/kernel/mm/hugepages/hugepages-<size>kB/. */
export interface PoolCounters {
  nr: number;
  free: number;
  resv: number;
  surplus: number;
}

/** memory_failure() outcomes so far, as the kernel's action_result() counts them. */
export interface MemoryFailureStats {
  total: number;
  ignored: number;
  failed: number;
  delayed: number;
  recovered: number;
}

/** The /proc/meminfo lines the simulator models. */
export interface Meminfo {
  /** kB of raw pages ever poisoned. */
  HardwareCorrupted: number;
  HugePages_Total: number;
  HugePages_Free: number;
  HugePages_Rsvd: number;
  HugePages_Surp: number;
  /** kB; the default hugepage size (2 MiB). */
  Hugepagesize: number;
  /** kB of anonymous THP mapped by PMD leaves (in-use folios not split). */
  AnonHugePages: number;
}

/** A simulated process: the system calls it makes and the signals it got. */
export interface SimProcess {
  /** Its process id. */
  readonly pid: number;
  /** False once it exited or a signal killed it. */
  readonly alive: boolean;
  /** Every signal delivered to this process, in order. */
  readonly signals: readonly Signal[];
  /** memfd_create(2): a HugeTLB memfd (MFD_HUGETLB, a size flag, optionally MFD_MF_KEEP_UE_MAPPED); returns the fd. */
  memfdCreate(name: string, flags: number): number;
  /** ftruncate(2): sets the file size (a multiple of the hugepage size); shrinking removes the pages past it. */
  ftruncate(fd: number, size: Num): void;
  /** fallocate(2): allocates hugepages for a range, or punches a hole (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE). */
  fallocate(fd: number, mode: number, offset: Num, len: Num): void;
  /** mmap(2): maps a memfd (fd) or anonymous memory (fd -1, MAP_ANONYMOUS); returns the address. */
  mmap(addr: Num, length: Num, prot: number, flags: number, fd: number, offset: Num): bigint;
  /** munmap(2): unmaps a range. */
  munmap(addr: Num, length: Num): void;
  /** Loads every byte of a range, faulting pages in; stops at the first signal. */
  read(addr: Num, length: Num, opts?: AccessOptions): AccessResult;
  /** Stores to every byte of a range, faulting pages in; stops at the first signal. */
  write(addr: Num, length: Num, opts?: AccessOptions): AccessResult;
  /** madvise(2); MADV_HWPOISON poisons each raw page of the range as a consumed UE would. Returns 0. */
  madvise(addr: Num, length: Num, advice: number): number;
  /** pread(2) from a memfd; returns the bytes read (a read stops before a poisoned raw page; EIO inside one). */
  pread(fd: number, length: Num, offset: Num): number;
  /** The physical address a virtual address maps to, or null when nothing is mapped there. Never faults. */
  translate(vaddr: Num): bigint | null;
  /** The leaf the page table holds for vaddr (present or HWPOISON), or null. Never faults. */
  pageTableLeaf(vaddr: Num): PageTableLeaf | null;
  /** Passes an fd to another process of the host (SCM_RIGHTS); returns the receiver's fd. */
  sendFd(fd: number, to: SimProcess): number;
  /** close(2). */
  close(fd: number): void;
  /** exit(2): unmaps everything and closes every fd. */
  exit(): void;
}

/** A simulated host: its pools and THP memory, its processes, and hardware UEs. */
export interface SimHost {
  /** True once a memory failure panicked it (vm.memory_failure_recovery = 0). */
  readonly panicked: boolean;
  /** Starts a process. */
  spawn(opts?: SpawnOptions): SimProcess;
  /** A hardware UE at a physical address: memory_failure() runs, as if `consumer` loaded it (action required) or a scrubber found it. */
  injectUE(physAddr: Num, opts?: { consumer?: SimProcess }): void;
  /** Reads, or sets then reads, vm.memory_failure_recovery or vm.memory_failure_early_kill. */
  sysctl(name: string, value?: number): number;
  /** A pool's counters. */
  hugepages(size: HugepageSize): PoolCounters;
  /** /proc/meminfo's HugeTLB, THP and HardwareCorrupted lines. */
  meminfo(): Meminfo;
  /** memory_failure() outcomes so far. */
  memoryFailureStats(): MemoryFailureStats;
  /** The kernel log (dmesg) lines so far. */
  kernelLog(): string[];
  /** Physical addresses of a pool's free hugepages, in the order they will be handed out. */
  freeHugepages(size: HugepageSize): bigint[];
  /** Page-table pages allocated by HGM and THP splits and not yet freed. */
  pageTablePages(): number;
  /** THP memory counters (docs/semantics.md, THP). */
  thp(): ThpCounters;
  /** KEEP v3 releases that dropped more folio references than they held (docs/semantics.md). */
  refcountUnderflows(): number;
}
