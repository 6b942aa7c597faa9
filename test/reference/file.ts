// A HugeTLB memfd (or the unnamed file behind a MAP_SHARED|MAP_ANONYMOUS mapping): its
// size, page cache and reservations. Which processes map it is not stored here: it is
// found by looking at the processes' VMAs.
import type { HugepageSize } from '../../src/host/types.js';
import { HUGE_BYTES } from './layout.js';
import type { Hugepage } from './pool.js';

export class HugetlbFile {
  /** Bytes; may be any value after fallocate, a multiple of H after ftruncate. */
  size = 0;
  /** index -> hugepage. */
  readonly cache = new Map<number, Hugepage>();
  /** Indices holding a reservation and no page (a populated index is never reserved). */
  readonly reserved = new Set<number>();
  /** Open fds, across every process. */
  fds = 0;

  constructor(
    readonly id: number,
    readonly name: string,
    readonly hsize: HugepageSize,
    /** MFD_MF_KEEP_UE_MAPPED, fixed at creation. */
    readonly keep: boolean,
    /** The unnamed file of a shared anonymous mapping: it never has an fd. */
    readonly anonymous: boolean,
  ) {}

  get H(): number {
    return HUGE_BYTES[this.hsize];
  }

  /** Indices a fault may populate: [0, ceil(size / H)). */
  get indexLimit(): number {
    return Math.ceil(this.size / this.H);
  }

  /** Indices in [from, to) that hold a page, in ascending order. */
  populatedIn(from: number, to: number): number[] {
    return [...this.cache.keys()].filter((i) => i >= from && i < to).sort((a, b) => a - b);
  }

  /** Reserved indices in [from, to), in ascending order. */
  reservedIn(from: number, to: number): number[] {
    return [...this.reserved].filter((i) => i >= from && i < to).sort((a, b) => a - b);
  }
}
