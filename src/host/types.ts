// The public shapes of the single-host API. The wasm-backed Host (src/host/host.ts) and the
// reference model (test/reference/model.ts) both implement them, so tests can drive
// either through one interface.
import type { KernelWasm } from '../kernel/compile.js';

/** Addresses, sizes and offsets: a safe integer or a bigint. Returned addresses are bigints. */
export type Num = number | bigint;

export type HugepageSize = '2M' | '1G';

export interface HostOptions {
  /** Pool sizes: how many hugepages of each size the host boots with. */
  hugepages?: { '2M'?: number; '1G'?: number };
  /** The kernel carries the MFD_MF_KEEP_UE_MAPPED series (default true). */
  policyCapable?: boolean;
  /** 'v4' (documented intent, default) or 'v3' (the code as posted). */
  keepVersion?: 'v3' | 'v4';
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

export interface SpawnOptions {
  capSysAdmin?: boolean;
  /** prctl(PR_MCE_KILL): 'early', 'late', or 'default' (follow the sysctl). */
  mceKill?: 'default' | 'early' | 'late';
  /** A VMM that installs a SIGBUS handler survives the signal; otherwise SIGBUS kills. */
  handlesSigbus?: boolean;
  /** The task's comm, as printed in kernel log lines (default "task"). */
  name?: string;
}

/** A delivered signal, with the kernel's numbers (siginfo: si_signo, si_code, si_addr, si_addr_lsb). */
export interface Signal {
  signo: number;
  code: number;
  addr: bigint;
  addrLsb: number;
}

export type AccessResult = { ok: true } | { ok: false; signal: Signal };

export interface PoolCounters {
  nr: number;
  free: number;
  resv: number;
  surplus: number;
}

export interface MemoryFailureStats {
  total: number;
  ignored: number;
  failed: number;
  delayed: number;
  recovered: number;
}

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

export interface SimProcess {
  readonly pid: number;
  readonly alive: boolean;
  /** Every signal delivered to this process, in order. */
  readonly signals: readonly Signal[];
  memfdCreate(name: string, flags: number): number;
  ftruncate(fd: number, size: Num): void;
  fallocate(fd: number, mode: number, offset: Num, len: Num): void;
  mmap(addr: Num, length: Num, prot: number, flags: number, fd: number, offset: Num): bigint;
  munmap(addr: Num, length: Num): void;
  read(addr: Num, length: Num): AccessResult;
  write(addr: Num, length: Num): AccessResult;
  madvise(addr: Num, length: Num, advice: number): number;
  pread(fd: number, length: Num, offset: Num): number;
  translate(vaddr: Num): bigint | null;
  /** The leaf the page table holds for vaddr (present or HWPOISON), or null. Never faults. */
  pageTableLeaf(vaddr: Num): PageTableLeaf | null;
  sendFd(fd: number, to: SimProcess): number;
  close(fd: number): void;
  exit(): void;
}

export interface SimHost {
  readonly panicked: boolean;
  spawn(opts?: SpawnOptions): SimProcess;
  injectUE(physAddr: Num, opts?: { consumer?: SimProcess }): void;
  sysctl(name: string, value?: number): number;
  hugepages(size: HugepageSize): PoolCounters;
  meminfo(): Meminfo;
  memoryFailureStats(): MemoryFailureStats;
  kernelLog(): string[];
  freeHugepages(size: HugepageSize): bigint[];
  /** Page-table pages allocated by HGM and THP splits and not yet freed. */
  pageTablePages(): number;
  /** THP memory counters (docs/semantics.md, THP). */
  thp(): ThpCounters;
}
