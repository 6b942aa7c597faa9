// The translation cost model's configuration and its figures. The TLB itself runs in the
// kernel (assembly/tlb.ts) on the replayed access stream; defaults are a modern x86 core's
// (Intel Skylake-SP, per Intel's optimization reference manual): L1 dTLB 64 x 4 KiB,
// 32 x 2 MiB, 4 x 1 GiB; a shared L2 of 1536 entries for 4 KiB and 2 MiB and 16 for 1 GiB;
// a walk reference costs ~20-40 cycles when the page-table entries hit in the caches.
import { kernelMemoryFull, type KernelExports } from '../kernel/kernel.js';
import { sysError } from '../host/syserror.js';

/** The simulated TLBs and page walk (default: DEFAULT_TLB, a modern x86 core). */
export interface TlbConfig {
  l1Entries4K?: number;
  l1Entries2M?: number;
  l1Entries1G?: number;
  l2Entries?: number;
  l2Entries1G?: number;
  l1Associativity?: number;
  l2Associativity?: number;
  /** Cycles per memory reference of a page walk. */
  cyclesPerWalkRef?: number;
  /** A page-walk cache holds upper-level entries (PUD and PMD). */
  pageWalkCache?: boolean;
  /** Levels of the host's walk for each guest reference (virtualised guests: 2-4; 0 native). */
  nestedLevels?: number;
  /**
   * Cycles an access costs apart from translation, for the throughput estimate. The default
   * is calibrated so that a MemCycler-like guest (2 MiB pages, random access, nested paging,
   * 5% and 25% of memory split to 4 KiB) lands near the measured -1.20% and -5.06%.
   */
  cyclesPerAccess?: number;
}

/** A modern x86 core's TLBs, a page-walk cache, and no nesting. */
export const DEFAULT_TLB: Required<TlbConfig> = {
  l1Entries4K: 64,
  l1Entries2M: 32,
  l1Entries1G: 4,
  l2Entries: 1536,
  l2Entries1G: 16,
  l1Associativity: 4,
  l2Associativity: 12,
  cyclesPerWalkRef: 25,
  pageWalkCache: true,
  nestedLevels: 0,
  cyclesPerAccess: 200,
};

export function configureTlb(k: KernelExports, config: TlbConfig = {}): Required<TlbConfig> {
  const c = { ...DEFAULT_TLB, ...config };
  const ret = k.tlb_configure(
    c.l1Entries4K, c.l1Entries2M, c.l1Entries1G, c.l2Entries, c.l2Entries1G, c.l1Associativity,
    c.l2Associativity, c.cyclesPerWalkRef, c.pageWalkCache ? 1 : 0, c.nestedLevels,
  );
  // Every process gets its TLB state now: the only failure is the kernel's memory.
  if (ret < 0) throw sysError(-ret, 'tlb_configure', kernelMemoryFull(k));
  return c;
}

/** What the translation model counted over the replayed accesses. */
export interface TranslationStats {
  accesses: number;
  l1Misses: number;
  /** L2 misses: page walks. */
  walks: number;
  walkRefs: number;
  walkCycles: number;
}

/** Translation counts with the rates derived from them. */
export interface TranslationFigures extends TranslationStats {
  /** Page walks per thousand accesses. */
  walksPerKiloAccess: number;
  walkCyclesPerAccess: number;
  /** Share of cycles spent walking page tables. */
  walkShare: number;
}

/** Rates from the counts, given the cycles an access costs apart from translation. */
export function translationFigures(s: TranslationStats, cyclesPerAccess: number): TranslationFigures {
  const per = (x: number) => (s.accesses === 0 ? 0 : x / s.accesses);
  const base = s.accesses * cyclesPerAccess;
  return {
    ...s,
    walksPerKiloAccess: per(s.walks) * 1000,
    walkCyclesPerAccess: per(s.walkCycles),
    walkShare: base + s.walkCycles === 0 ? 0 : s.walkCycles / (base + s.walkCycles),
  };
}

/** Throughput lost against a baseline run of the same work (e.g. no page split): 0.012 = -1.2%. */
export function throughputLoss(run: TranslationStats, baseline: TranslationStats, cyclesPerAccess: number): number {
  const cycles = (s: TranslationStats) => s.accesses * cyclesPerAccess + s.walkCycles;
  const perAccess = (s: TranslationStats) => (s.accesses === 0 ? 0 : cycles(s) / s.accesses);
  const b = perAccess(baseline);
  return b === 0 ? 0 : 1 - b / perAccess(run);
}
