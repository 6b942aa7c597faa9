// What the page draws after each selftest step, read back from the kernel: each hugepage's
// page-table leaf, the poisoned 4 KiB pages of the memfd (found with pread, which stops
// before a poisoned raw page and fails with EIO on one), the signals and the counters.
import {
  isSystemError, type HugepageSize, type MemoryFailureStats, type PoolCounters, type SelftestState, type SelftestStep,
  type Signal,
} from 'mfrsim';

export const PAGE = 4096;
export const HUGEPAGE_BYTES: Record<HugepageSize, number> = { '2M': 2 ** 21, '1G': 2 ** 30 };
/** The selftest maps four hugepages. */
export const MAPPED_HUGEPAGES = 4;

/** A hugepage of the mapping: its leaf, or what the release did to it. */
export type HugepageState = 'not faulted' | 'mapped' | 'mapped, poison kept' | 'offline (HWPOISON)' | 'released';

export interface Snapshot {
  step: SelftestStep;
  size: HugepageSize;
  hugepages: HugepageState[];
  /** Poisoned 4 KiB pages, as page indices into the memfd (after its release: as last seen, still isolated). */
  poisoned: number[];
  /** Every signal so far, and the mapping's address (null before mmap or after munmap). */
  signals: readonly Signal[];
  map: bigint | null;
  pool: PoolCounters;
  hardwareCorruptedKiB: number;
  memoryFailure: MemoryFailureStats;
}

/** The memfd's poisoned raw pages, by 4 KiB index. */
function poisonedPages(state: SelftestState, bytes: number): number[] {
  const out: number[] = [];
  let pos = 0;
  while (pos < bytes) {
    let n: number;
    try {
      n = state.process.pread(state.fd!, bytes - pos, pos);
    } catch (err) {
      if (!isSystemError(err) || err.code !== 'EIO') throw err;
      out.push(pos / PAGE); // the read starts inside a poisoned raw page
      pos += PAGE;
      continue;
    }
    if (n === 0) break;
    pos += n;
  }
  return out;
}

export function snapshot(step: SelftestStep, state: SelftestState, size: HugepageSize, previous?: Snapshot): Snapshot {
  const H = HUGEPAGE_BYTES[size];
  const poisoned = state.fd === undefined ? (previous?.poisoned ?? []) : poisonedPages(state, MAPPED_HUGEPAGES * H);
  const hugepages = Array.from({ length: MAPPED_HUGEPAGES }, (_, i): HugepageState => {
    if (state.map === undefined) return step.name.startsWith('release') ? 'released' : 'not faulted';
    const leaf = state.process.pageTableLeaf(state.map + BigInt(i * H));
    if (leaf === null) return 'not faulted';
    if (leaf.hwpoison) return 'offline (HWPOISON)';
    return poisoned.some((p) => Math.floor((p * PAGE) / H) === i) ? 'mapped, poison kept' : 'mapped';
  });
  return {
    step,
    size,
    hugepages,
    poisoned,
    signals: [...state.process.signals],
    map: state.map ?? null,
    pool: state.host.hugepages(size),
    hardwareCorruptedKiB: state.host.meminfo().HardwareCorrupted,
    memoryFailure: state.host.memoryFailureStats(),
  };
}
