// Loads the AssemblyScript kernel (build/kernel.wasm) and describes its exports. The module
// is compiled once per process (Node reads it from disk on first use; browsers fetch it in
// loadKernel); every instance is an independent simulated kernel.
import { bundledKernelSync, fetchKernel } from '#platform/kernel-wasm';
import { formatBytes } from '../format/units.js';
import { compileKernel, type KernelWasm } from './compile.js';


export interface KernelExports {
  memory: WebAssembly.Memory;
  host_create(n2M: number, n1G: number, nThp: number, flags: number, seed: number, thpSplitFailure: number): number;
  reserve_frames(n2M: number, n1G: number, nThp: number): number;
  host_counter(h: number, which: number): number;
  host_set_flag(h: number, flag: number, on: number): void;
  host_free_list(h: number, sc: number): number;
  /** Lowers (or restores) the most linear memory the kernel may grow to, in bytes. */
  arena_set_limit(bytes: number): void;
  arena_exhausted(): number;
  arena_overruns(): number;
  scratch_ptr(): number;
  heap_used(): number;
  proc_spawn(h: number, flags: number): number;
  proc_pid(p: number): number;
  proc_alive(p: number): number;
  /** Process p's figures: 0 replayed accesses, 1 accesses translated, 2 their page-walk cycles, 3 replayed UEs on memory it mapped. */
  proc_counter(p: number, which: number): number;
  proc_pgd(p: number): number;
  proc_guard(p: number): number;
  memfd_create(p: number, flags: number): number;
  ftruncate(p: number, fd: number, size: number): number;
  fallocate(p: number, fd: number, mode: number, offset: number, len: number): number;
  mmap(p: number, addr: number, len: number, prot: number, flags: number, fd: number, offset: number): number;
  munmap(p: number, addr: number, len: number): number;
  access(p: number, addr: number, len: number, write: number, guest: number): number;
  madvise(p: number, addr: number, len: number, advice: number): number;
  pread(p: number, fd: number, len: number, offset: number): number;
  translate(p: number, va: number): number;
  page_table_leaf(p: number, va: number): number;
  sendfd(p: number, fd: number, q: number): number;
  close(p: number, fd: number): number;
  exit(p: number): number;
  inject_ue(h: number, phys: number, consumer: number): number;
  tlb_configure(
    l1_4k: number, l1_2m: number, l1_1g: number, l2: number, l2_1g: number, l1Assoc: number,
    l2Assoc: number, cyclesPerRef: number, pwc: number, nestedLevels: number,
  ): number;
  outbox_ptr(): number;
  outbox_count(): number;
  outbox_clear(): void;
  outbox_set_limit(n: number): void;
  outbox_dropped_signals(): number;
  outbox_dropped_log(): number;
  replay_reserve_access(cap: number): number;
  replay_access_proc(): number;
  replay_access_va(): number;
  replay_access_write(): number;
  replay_access(from: number, to: number): void;
  replay_reserve_errors(cap: number): number;
  replay_error_host(): number;
  replay_error_phys(): number;
  replay_error_flags(): number;
  replay_errors(from: number, to: number): number;
  /** Where the last replay call stopped for want of kernel memory, or -1. */
  replay_stopped_at(): number;
  /** Events of the last replay_access call that took the slow path. */
  replay_slow_events(): number;
  /** Address of the replay loop's table layout, for the benchmark's native baseline (assembly/layout.ts). */
  replay_native_layout(): number;
}

/** host_counter() selectors, in the kernel's order. */
export const Counter = {
  nr2M: 0, free2M: 1, resv2M: 2, nr1G: 3, free1G: 4, resv1G: 5,
  mfTotal: 6, mfIgnored: 7, mfFailed: 8, mfDelayed: 9, mfRecovered: 10,
  hwCorruptedPages: 11, flags: 12, buddyPages: 13,
  bytesLost: 16, accesses: 17, accessSignalled: 18, faultIns: 19, sigAdrerr: 20, sigAR: 21, sigAO: 22,
  sigKernel: 23, killed: 24, hugepagesLost: 25, deadEvents: 26, badEvents: 27, ptPages: 28,
  tlbAccesses: 29, tlbL1Misses: 30, tlbWalks: 31, tlbWalkRefs: 32, tlbWalkCycles: 33,
  dissolves2M: 34, dissolves1G: 35, repeatMce: 36, thpTotal: 37, thpFree: 38, thpSplit: 39, refcountUnderflows: 40,
} as const;

/** Error-event flags of the replay columns (assembly/replay.ts). */
export const ErrFlag = { ue: 1, consumed: 2 } as const;

/** Host flag bits (assembly/pool.ts). */
export const HostFlag = { recovery: 1, earlyKill: 2, policyCapable: 4, keepV3: 8, panicked: 16, hgm: 32 } as const;

/** Process flag bits (assembly/procs.ts). */
export const ProcFlag = { capSysAdmin: 2, mceEarly: 4, mceLate: 8, handlesSigbus: 16, kvmGuest: 32 } as const;

/** Outbox record types (assembly/constants.ts). */
export const Out = {
  signal: 1, killed: 2, mceUser: 10, inject: 11, panic: 12, sending: 14,
  recovery: 15, notRecovered: 16, killing: 17, refcountUnderflow: 18, work: 20,
} as const;
export const OUT_RECORD_BYTES = 32;

/**
 * Hugepage and THP frames one kernel instance takes: wasm32 memory ends at 4 GiB and a frame
 * with its page cache and page-table share costs ~28 B, so larger fleets are sharded.
 */
export const MAX_FRAMES_PER_KERNEL = 64 << 20;

/**
 * Why a call that returned -ENOMEM failed, when the kernel instance's own linear memory (not
 * a hugepage pool) could not hold what the call may allocate; undefined otherwise.
 */
export function kernelMemoryFull(k: KernelExports): string | undefined {
  if (k.arena_exhausted() === 0) return undefined;
  return `the simulator's kernel instance is out of memory (${formatBytes(k.memory.buffer.byteLength)} of linear memory in use; wasm32 holds 4 GiB); nothing was changed`;
}

let compiled: WebAssembly.Module | undefined;
let loading: Promise<WebAssembly.Module> | undefined;

/**
 * Compiles the kernel that later hosts and fleet shards run, once: the one given, or the
 * package's own build/kernel.wasm. Node needs no call (the kernel is read on first use); in
 * a browser, `Host.create`, `runFleet` and `runStudy` call it, and `FleetShard.create` needs
 * it to have been called.
 *
 * @param wasm a compiled module, its bytes, a URL or a fetch() response (default: the package's own)
 * @returns the compiled kernel
 */
export function loadKernel(wasm?: KernelWasm): Promise<WebAssembly.Module> {
  if (wasm !== undefined) return compileKernel(wasm).then((m) => (compiled = m));
  if (compiled) return Promise.resolve(compiled);
  loading ??= fetchKernel().then(
    (m) => (compiled ??= m),
    (err: unknown) => {
      loading = undefined;
      throw err;
    },
  );
  return loading;
}

/** A fresh, independent kernel instance. */
export function instantiateKernel(module: WebAssembly.Module = (compiled ??= bundledKernelSync())): KernelExports {
  const instance = new WebAssembly.Instance(module, {
    env: {
      abort(_msg: number, _file: number, line: number, col: number): never {
        throw new Error(`mfrsim kernel aborted at ${line}:${col}`);
      },
    },
  });
  return instance.exports as unknown as KernelExports;
}
