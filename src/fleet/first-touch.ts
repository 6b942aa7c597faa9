// The default address space of a replayed trace: hugepages are backed as the trace first
// touches them, the way the kernel faults a program's memory in, so a trace is read once.
// The first access to a hugepage maps the aligned window around it (one HugeTLB memfd of
// 128 MiB, or one hugepage of 1 GiB, or anonymous THP memory) unless an earlier one did, and
// faults the hugepage in just before the access replays; UEs waiting on the physical frame
// the fault took are applied then, before the access, as DRAM damage would be found by it.
import { streamRng, uniform, uniformInt } from '../errors/rng.js';
import { ErrFlag } from '../kernel/kernel.js';
import { ACCESS_WRITE, HUGEPAGE_BYTES, type AccessBatch } from '../traces/types.js';
import type { HugetlbPolicy, LayoutRegion } from '../traces/layout.js';
import type { HugepageSize } from '../host/types.js';
import { REPLAY_BATCH, type FleetShard, type VmHandle } from './shard.js';

/**
 * Bytes of hugepages the first-touch host's pool holds (more when the error stream's UEs lie
 * higher): 2,048 windows of 2 MiB pages or 256 hugepages of 1 GiB, ample for one traced
 * process, at a boot cost of a few milliseconds (the pool's frames are set up at boot).
 */
export const FIRST_TOUCH_POOL_BYTES = 2 ** 38;
/** A memfd backs at least this much around a touched hugepage (64 hugepages of 2 MiB). */
const WINDOW_BYTES = 2 ** 27;
const RAW_PAGE = 4096;
/** x86-64 user addresses (4-level paging) lie below 2^47. */
const USER_SPACE_END = 2 ** 47;
/**
 * The process sees every trace address with bit 46 flipped. A program loaded at 0x108000
 * under valgrind touches the hugepage at 0, which no process can map (vm.mmap_min_addr), so
 * some move is needed; flipping one top bit moves every address at once without changing
 * which addresses share a page-table page at any level below the top or a TLB set, so
 * translation costs and outcomes are those of the trace's own addresses. Reported addresses
 * are flipped back.
 */
const FLIP_BIT = 2 ** 46;

export function flipAddress(a: number): number {
  return a < FLIP_BIT ? a + FLIP_BIT : a - FLIP_BIT;
}

/** A UE waiting for its frame to be faulted in. */
export interface PendingUe {
  /** Its place among the host's UEs in the stream. */
  order: number;
  phys: number;
  /** ErrFlag bits for the kernel's error columns. */
  flags: number;
}

export interface FirstTouchOptions {
  trace: string;
  hugepage: HugepageSize;
  /** HugeTLB memfds without or with MFD_MF_KEEP_UE_MAPPED, or anonymous THP. */
  policy: HugetlbPolicy | 'thp';
  sharing: 'shared' | 'private';
  /** UEs for this host in stream order, applied when the frame they hit is faulted in. */
  ues: PendingUe[];
  /** Poison one raw page in this share of the touched hugepages (seeded per hugepage). */
  poisonFraction: number;
  seed: number;
}

export class FirstTouchSpace {
  /** UEs handled by the kernel, and those outside the pools. */
  applied = 0;
  outsideHost = 0;
  private readonly unit: number;
  private readonly window: number;
  /** Touched units (hugepages, or THP folios), one bit each, by trace address. */
  private readonly touched: Int32Array;
  private readonly mapped: Uint8Array;
  private readonly windows: number[] = [];
  private readonly firstTouches = new Int32Array(REPLAY_BATCH);
  /** Pending UEs by frame number, in stream order. */
  private readonly pending = new Map<number, PendingUe[]>();
  private readonly frameBytes: number;
  private events = 0;

  constructor(
    private readonly shard: FleetShard,
    private readonly vm: VmHandle,
    private readonly opts: FirstTouchOptions,
    private readonly poolBase: number,
  ) {
    const H = HUGEPAGE_BYTES[opts.hugepage];
    // THP memory is faulted in 2 MiB folios whatever the layout's hugepage size.
    this.unit = opts.policy === 'thp' ? HUGEPAGE_BYTES['2M'] : H;
    this.frameBytes = this.unit;
    this.window = Math.max(H, WINDOW_BYTES);
    this.touched = new Int32Array(USER_SPACE_END / this.unit / 32);
    this.mapped = new Uint8Array(USER_SPACE_END / this.window);
    for (const ue of opts.ues) {
      const frame = this.frameOf(ue.phys);
      const list = this.pending.get(frame);
      if (list) list.push(ue);
      else this.pending.set(frame, [ue]);
    }
  }

  /** Replays a batch of trace events, backing each hugepage at its first touch. */
  replay(batch: AccessBatch): void {
    const n = batch.length;
    const { addr, kind } = batch;
    const cols = this.shard.accessColumns();
    cols.proc.fill(this.vm.proc, 0, n);
    const { va, write } = cols;
    const touched = this.touched;
    const perUnit = 1 / this.unit;
    const firstTouches = this.firstTouches;
    let touches = 0;
    // Kept lean: an exact reciprocal (units are powers of two), int32 unit numbers (user
    // space has at most 2^26), no branch on the previous event's unit (random traces would
    // mispredict it), and the write column in a loop of its own.
    for (let i = 0; i < n; i++) {
      const a = addr[i]!;
      const u = Math.floor(a * perUnit) | 0;
      const word = u >>> 5;
      const bit = 1 << (u & 31);
      // Past user space the word lies beyond the array and reads undefined: a first touch.
      const bits = touched[word]!;
      if ((bits & bit) === 0) {
        if (a >= USER_SPACE_END) this.beyondUserSpace(a, i);
        touched[word] = bits | bit;
        firstTouches[touches++] = i;
      }
      va[i] = a < FLIP_BIT ? a + FLIP_BIT : a - FLIP_BIT;
    }
    for (let i = 0; i < n; i++) write[i] = kind[i] === ACCESS_WRITE ? 1 : 0;
    // Events before each first touch reach hugepages already backed.
    let from = 0;
    for (let k = 0; k < touches && this.shard.isAlive(this.vm); k++) {
      const i = firstTouches[k]!;
      this.shard.replayAccesses(i, from);
      from = i;
      if (!this.shard.isAlive(this.vm)) break;
      this.back(addr[i]!, kind[i] === ACCESS_WRITE, i);
    }
    this.shard.replayAccesses(n, from);
    this.events += n;
  }

  /** Applies the UEs whose frames the trace never used (free hugepages), in stream order. */
  finish(): void {
    const rest = [...this.pending.values()].flat().sort((a, b) => a.order - b.order);
    this.pending.clear();
    this.apply(rest);
  }

  /** The windows backed, as layout regions in trace addresses. */
  regions(): LayoutRegion[] {
    const policy = this.opts.policy === 'thp' ? 'default' : this.opts.policy;
    return [...this.windows].sort((a, b) => a - b).map((w, i) => ({
      name: `trace-${i}`, start: w * this.window, length: this.window, hugepageSize: this.opts.hugepage, policy, sharing: this.opts.sharing,
    }));
  }

  /** Maps the window around trace address `a` if needed, faults its hugepage in, applies what waits on the frame. */
  private back(a: number, isWrite: boolean, i: number): void {
    const w = Math.floor(a / this.window);
    if (this.mapped[w] === 0) {
      const start = w * this.window;
      try {
        this.shard.addRegion(this.vm, {
          address: flipAddress(start), length: this.window, hugepage: this.opts.hugepage,
          policy: this.opts.policy === 'thp' ? 'thp' : this.opts.policy, shared: this.opts.sharing === 'shared',
        });
      } catch (err) {
        throw new Error(`${this.opts.trace}: event ${this.events + i}: cannot back 0x${start.toString(16)}-0x${(start + this.window).toString(16)} (${this.windows.length} windows of ${this.window >> 20} MiB backed so far): ${err instanceof Error ? err.message : String(err)}`);
      }
      this.mapped[w] = 1;
      this.windows.push(w);
    }
    const page = a - (a % this.unit);
    if (this.shard.touch(this.vm, flipAddress(page), isWrite) !== 0) {
      throw new Error(`${this.opts.trace}: event ${this.events + i}: the hugepage at 0x${page.toString(16)} could not be faulted in`);
    }
    const phys = this.shard.physOf(this.vm, flipAddress(page))!;
    const frame = this.frameOf(phys);
    const ues = this.pending.get(frame);
    if (ues) {
      this.pending.delete(frame);
      this.apply(ues);
    }
    if (this.opts.poisonFraction > 0) this.poison(page, phys);
  }

  /** One raw page of the hugepage at trace address `page`, in `poisonFraction` of hugepages. */
  private poison(page: number, phys: number): void {
    const u = page / this.unit;
    const rng = streamRng(this.opts.seed, 3, u % 2 ** 32, Math.floor(u / 2 ** 32));
    if (uniform(rng) >= this.opts.poisonFraction) return;
    const raw = uniformInt(rng, this.unit / RAW_PAGE);
    this.apply([{ order: -1, phys: phys + raw * RAW_PAGE, flags: ErrFlag.ue }]);
  }

  private apply(ues: readonly PendingUe[]): void {
    for (let at = 0; at < ues.length; at += REPLAY_BATCH) {
      const n = Math.min(REPLAY_BATCH, ues.length - at);
      const cols = this.shard.errorColumns();
      for (let k = 0; k < n; k++) {
        cols.host[k] = this.vm.host;
        cols.phys[k] = ues[at + k]!.phys;
        cols.flags[k] = ues[at + k]!.flags;
      }
      const handled = this.shard.replayErrors(n);
      this.applied += handled;
      this.outsideHost += n - handled;
    }
  }

  private frameOf(phys: number): number {
    return Math.floor((phys - this.poolBase) / this.frameBytes);
  }

  private beyondUserSpace(a: number, i: number): never {
    throw new Error(`${this.opts.trace}: event ${this.events + i}: address 0x${a.toString(16)} is beyond the 47-bit user address space`);
  }
}
