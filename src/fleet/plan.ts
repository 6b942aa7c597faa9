// The memory plan of a fleet run, made from the fleet description before anything boots:
// the kernel linear memory each host takes (an upper bound, from the same block sizes the
// kernel's allocator hands out), how many hosts a shard holds, and a refusal, with the
// numbers, of a host that no kernel instance can hold. Shards default to a fixed amount of
// kernel memory, so a run's memory depends on the shard size and the worker count, never
// on the number of hosts in the fleet.
import { DEFAULT_TLB, type TlbConfig } from '../costs/translation.js';
import { formatBytes, formatCount } from '../format/units.js';
import { MAX_FRAMES_PER_KERNEL } from '../kernel/kernel.js';
import type { HostSpec, RegionSpec } from './shard.js';


const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/** Linear memory one kernel instance can hold: wasm32's 4 GiB less a page (assembly/arena.ts). */
export const KERNEL_MEMORY_BYTES = 4 * GiB - 64 * KiB;
/**
 * Left free in every instance for what a plan cannot foresee: the poison bitmaps of an error
 * stream's UEs, HGM and THP split tables, the outbox, the replay columns.
 */
export const KERNEL_HEADROOM_BYTES = 512 * MiB;
/** Kernel memory of a shard when the caller does not choose the shard size. */
export const DEFAULT_SHARD_BYTES = 256 * MiB;

// Record sizes of the kernel's tables (assembly/pool.ts, procs.ts, files.ts).
const HOST_RECORD = 264;
const PROC_RECORD = 80;
const FILE_RECORD = 48;
const VMA_RECORD = 40;
const FRAME_RECORD = 8;
// The page cache keeps 16-byte extents (assembly/files.ts): runs of reserved indices or of
// consecutive frames. A booted VM faults its memory in order from a fresh pool, so a file is
// one run of frames and the reserved rest; each poisoned hugepage may split a run in three.
// Later splits (an error stream's UEs, hole punches) come out of the headroom, and the
// kernel reserves for each operation before it runs (assembly/reserve.ts).
const EXTENT = 16;
const TABLE = 4096;
// Poison of one raw page (assembly/poison.ts): its 2 MiB region's 128 B chunk, and a
// 16-byte hash entry in a table at most half full that doubles as it grows.
const POISON_CHUNK = 128;
const POISON_ENTRY = 16;

/** Heap bytes one allocation of `size` takes at most: its power-of-two block and alignment. */
function allocBound(size: number): number {
  const block = size <= 16 ? 16 : 2 ** Math.ceil(Math.log2(size));
  return block + Math.min(block, TABLE);
}

/**
 * A table that doubles as it grows keeps every block it outgrew on a free list, so its
 * blocks sum to less than twice the last, which is less than twice what it holds.
 */
function doublingBytes(bytes: number): number {
  return 4 * allocBound(bytes);
}

/** Bytes of one process's TLB state when the translation model runs (assembly/tlb.ts). */
export function tlbStateBytes(config: TlbConfig = {}): number {
  const c = { ...DEFAULT_TLB, ...config };
  const structure = (entries: number, assoc: number) => {
    const ways = assoc === 0 || assoc > entries ? entries : assoc;
    return Math.max(1, Math.floor(entries / Math.max(1, ways))) * ways * 8;
  };
  return structure(c.l1Entries4K, c.l1Associativity) + structure(c.l1Entries2M, c.l1Associativity)
    + structure(c.l1Entries1G, 0) + structure(c.l2Entries, c.l2Associativity)
    + structure(c.l2Entries1G, c.l2Associativity) + structure(c.pageWalkCache ? 32 : 0, 4)
    + structure(c.pageWalkCache ? 8 : 0, 0);
}

export interface PlanOptions {
  /** The translation model runs (every process holds a TLB state). */
  translation?: TlbConfig;
  /** Share of each VM's hugepages given a poisoned raw page before the workload. */
  poisonFraction?: number;
}

/** The regions a VM maps (a VM without regions maps its guest memory). */
function regionsOf(vm: HostSpec['vms'][number]): RegionSpec[] {
  return vm.regions ?? [{ length: vm.memory ?? 0, hugepage: vm.hugepage ?? '2M', policy: vm.policy ?? 'default', address: vm.address }];
}

/** One region's page-cache extents, page tables, poison and file record. */
function regionBytes(r: RegionSpec, poisonFraction: number): number {
  const shift = r.policy === 'thp' || r.hugepage === '2M' ? 21 : 30;
  const pages = Math.ceil(r.length / 2 ** shift);
  // PUD tables per 512 GiB and, for 2 MiB leaves, PMD tables per 1 GiB the region crosses.
  const tables = Math.ceil(r.length / (512 * GiB)) + 1 + (shift === 21 ? Math.ceil(r.length / GiB) + 1 : 0);
  const poisoned = Math.ceil(pages * poisonFraction);
  const extents = r.policy === 'thp' ? 0 : doublingBytes((2 + 2 * poisoned) * EXTENT);
  return doublingBytes(FILE_RECORD) + extents + tables * allocBound(TABLE) + poisoned * (allocBound(POISON_CHUNK) + 4 * POISON_ENTRY);
}

/** Kernel linear memory a booted host takes, at most (before an error stream's UEs). */
export function hostKernelBytes(spec: HostSpec, opts: PlanOptions = {}): number {
  const frames = (spec.hugepages['2M'] ?? 0) + (spec.hugepages['1G'] ?? 0) + (spec.thpPages ?? 0);
  const tlb = opts.translation ? allocBound(tlbStateBytes(opts.translation)) + 8 : 0;
  let bytes = doublingBytes(HOST_RECORD) + 2 * frames * FRAME_RECORD;
  for (const vm of spec.vms) {
    const regions = regionsOf(vm);
    bytes += doublingBytes(PROC_RECORD) + allocBound(TABLE) + doublingBytes(regions.length * VMA_RECORD) + doublingBytes(8 * 4) + tlb;
    for (const r of regions) bytes += regionBytes(r, opts.poisonFraction ?? 0);
  }
  return bytes;
}

/** A plan's kernel memory budget for the hosts of one shard. */
export const SHARD_BUDGET_BYTES = KERNEL_MEMORY_BYTES - KERNEL_HEADROOM_BYTES;

const gib = formatBytes;

/**
 * The most kernel memory any one host of the fleet takes; throws, with the numbers and what
 * to change, when a host does not fit in one kernel instance.
 */
export function largestHostBytes(hosts: Iterable<HostSpec>, opts: PlanOptions = {}): number {
  let most = 0;
  let index = 0;
  for (const spec of hosts) {
    const bytes = hostKernelBytes(spec, opts);
    const frames = (spec.hugepages['2M'] ?? 0) + (spec.hugepages['1G'] ?? 0) + (spec.thpPages ?? 0);
    const physEnd = 2 ** 32 + (spec.hugepages['1G'] ?? 0) * GiB + ((spec.hugepages['2M'] ?? 0) + (spec.thpPages ?? 0)) * 2 * MiB;
    if (physEnd > 2 ** 52) {
      throw new RangeError(
        `host ${index}'s memory ends at ${formatBytes(physEnd)}, beyond x86-64's 52-bit physical address space ` +
        '(4 PiB, memory starts at 4 GiB); give it fewer hugepages',
      );
    }
    if (frames > MAX_FRAMES_PER_KERNEL) {
      throw new RangeError(
        `host ${index} has ${formatCount(frames)} hugepages and THP folios, more than one kernel instance numbers ` +
        `(${formatCount(MAX_FRAMES_PER_KERNEL)}); back it with 1G hugepages instead of 2M, or split it over several hosts`,
      );
    }
    if (bytes > SHARD_BUDGET_BYTES) {
      throw new RangeError(
        `host ${index} needs about ${gib(bytes)} of simulator memory (${formatCount(frames)} hugepages and THP folios, ` +
        `${formatCount(spec.vms.length)} VM(s)), more than one kernel instance holds (${gib(SHARD_BUDGET_BYTES)} of wasm32's 4 GiB); ` +
        'give it less memory, back it with 1G hugepages instead of 2M, or split it over several hosts',
      );
    }
    most = Math.max(most, bytes);
    index++;
  }
  return most;
}

/**
 * Hosts per shard: the caller's choice (refused when it does not fit one instance), else an
 * even split over the workers capped at DEFAULT_SHARD_BYTES of kernel memory.
 */
export function hostsPerShard(hosts: number, perHostBytes: number, workers: number, requested?: number): number {
  const fit = Math.max(1, Math.floor(SHARD_BUDGET_BYTES / Math.max(1, perHostBytes)));
  if (requested !== undefined) {
    if (!Number.isSafeInteger(requested) || requested < 1) throw new RangeError(`hosts per shard must be a positive integer, got ${requested}`);
    if (requested > fit) {
      throw new RangeError(
        `${requested} hosts per shard need about ${gib(requested * perHostBytes)} of simulator memory; ` +
        `one kernel instance holds ${formatCount(fit)} of these hosts (${gib(SHARD_BUDGET_BYTES)})`,
      );
    }
    return requested;
  }
  const even = Math.ceil(hosts / Math.max(1, workers));
  const flat = Math.max(1, Math.floor(DEFAULT_SHARD_BYTES / Math.max(1, perHostBytes)));
  return Math.max(1, Math.min(even, flat, fit));
}
