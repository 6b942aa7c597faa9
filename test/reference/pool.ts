// HugeTLB pools: every hugepage (folio) of one size, the free list, and the reservation
// counter. Hugepages never move: frame i of a pool always has the same physical address.
// The THP memory (docs/semantics.md, "THP") is a pool of 2 MiB folios too, marked `thp`: it
// has no reservations and HugePages_* never count it.
import type { HugepageSize, PoolCounters } from '../../src/host/types.js';
import { HUGE_BYTES, HUGE_SHIFT, PAGE_SIZE } from './layout.js';
import type { HugetlbFile } from './file.js';
import type { RefProcess } from './model.js';

/**
 * free: on the pool's free list. inuse: allocated (page cache, private, or leaked).
 * dissolved: gone from the pool; its healthy raw pages belong to the buddy allocator.
 * A THP folio is in use while mapped by its owner; it is "dissolved" when it leaves THP
 * memory (a UE while free, or freed with a poisoned raw page).
 */
export type HugepageState = 'free' | 'inuse' | 'dissolved';

/** Who holds an in-use hugepage. A leaked hugepage (DEFAULT, truncated) has no owner. */
export type Owner =
  | { kind: 'file'; file: HugetlbFile; index: number }
  | { kind: 'private'; process: RefProcess; slot: number }
  | { kind: 'leaked' };

export class Hugepage {
  state: HugepageState = 'free';
  owner: Owner | null = null;
  /** Raw page indices the kernel knows are bad (the folio's raw_hwp_list). */
  readonly poisoned = new Set<number>();
  /** Raw page indices whose data the hardware really lost (real UEs only). */
  readonly corrupted = new Set<number>();

  constructor(
    readonly size: HugepageSize,
    readonly phys: number,
    /** A THP folio of ordinary memory, not a HugeTLB hugepage. */
    readonly thp = false,
  ) {}

  get bytes(): number {
    return HUGE_BYTES[this.size];
  }

  get shift(): number {
    return HUGE_SHIFT[this.size];
  }

  /** The raw 4 KiB page frame number of raw page `raw`. */
  pfn(raw: number): number {
    return (this.phys + raw * PAGE_SIZE) / PAGE_SIZE;
  }
}

export class Pool {
  readonly pages: Hugepage[] = [];
  /** A stack: the last element is the top (allocated next, freed onto). */
  private readonly freeStack: Hugepage[] = [];
  resv = 0;

  constructor(
    readonly size: HugepageSize,
    readonly base: number,
    count: number,
    /** The THP memory: 2 MiB folios of ordinary memory, never reserved. */
    readonly thp = false,
  ) {
    for (let i = 0; i < count; i++) this.pages.push(new Hugepage(size, base + i * HUGE_BYTES[size], thp));
    // Lowest address on top at boot.
    for (let i = count - 1; i >= 0; i--) this.freeStack.push(this.pages[i]!);
  }

  get end(): number {
    return this.base + this.pages.length * HUGE_BYTES[this.size];
  }

  get free(): number {
    return this.freeStack.length;
  }

  get nr(): number {
    return this.pages.filter((p) => p.state !== 'dissolved').length;
  }

  /** Pages an allocation without a reservation may take. Negative after a UE dissolved a page backing a reservation. */
  /** Pages an allocation without a reservation may take: free - resv, never below 0 (a UE
   *  can dissolve a free page that backs a reservation). */
  get available(): number {
    return Math.max(0, this.free - this.resv);
  }

  counters(): PoolCounters {
    return { nr: this.nr, free: this.free, resv: this.resv, surplus: 0 };
  }

  /** The hugepage holding physical address `phys`, if it is in this pool. */
  lookup(phys: number): Hugepage | undefined {
    if (phys < this.base || phys >= this.end) return undefined;
    return this.pages[Math.floor((phys - this.base) / HUGE_BYTES[this.size])];
  }

  /** Physical addresses on the free list, top first. */
  freeList(): number[] {
    return this.freeStack.map((p) => p.phys).reverse();
  }

  /** Pops the top of the free list. The caller has checked that one is there. */
  allocate(owner: Owner): Hugepage {
    const page = this.freeStack.pop();
    if (!page) throw new Error('reference model: allocation from an empty free list');
    page.state = 'inuse';
    page.owner = owner;
    return page;
  }

  /** Returns a healthy hugepage to the top of the free list. */
  release(page: Hugepage): void {
    page.state = 'free';
    page.owner = null;
    this.freeStack.push(page);
  }

  /** Takes a hugepage out of the pool for good (free or in use). */
  dissolve(page: Hugepage): void {
    if (page.state === 'free') this.freeStack.splice(this.freeStack.indexOf(page), 1);
    page.state = 'dissolved';
    page.owner = null;
  }
}
