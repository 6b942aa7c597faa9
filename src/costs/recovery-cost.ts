// The recovery cost model: the kernel reports, per memory-failure event, the work it did
// (tasks walked, VMAs found, leaves unmapped or split, page-table pages allocated, signals,
// dissolves); this file prices it with configurable unit costs and keeps the latencies in
// an HDR histogram (p50, p99, max), mergeable across shards.
import { createRequire } from 'node:module';
import type * as Hdr from 'hdr-histogram-js';

// hdr-histogram-js takes tens of milliseconds to load: it loads with the first recovery
// event a process prices (a trace replay without UEs never does).
let hdrModule: typeof Hdr | undefined;
const hdr = (): typeof Hdr => (hdrModule ??= createRequire(import.meta.url)('hdr-histogram-js') as typeof Hdr);

/** Nanoseconds per unit of work. Defaults are order-of-magnitude estimates [E]. */
export interface RecoveryCosts {
  /** Entering memory_failure(): the global mutex, page lookup, bookkeeping. */
  base: number;
  /** Walking one task in collect_procs. */
  perTask: number;
  /** One VMA found mapping the page. */
  perVma: number;
  /** One leaf unmapped or changed, with its TLB shootdown (IPIs to the mapper's CPUs). */
  perLeaf: number;
  /**
   * KVM zapping the guest's stage-2 range of an unmapped hugepage (DEFAULT), or of a THP whose
   * split invalidated its range through the mmu notifier (THP).
   */
  perStage2Zap: number;
  /** Allocating and filling one page-table page for a split (HGM, THP). */
  perSplitTable: number;
  /** Delivering one SIGBUS. */
  perSignal: number;
  /** Dissolving a hugepage at memory-failure time (a private page; a free one). */
  perDissolve: number;
}

export const DEFAULT_RECOVERY_COSTS: RecoveryCosts = {
  base: 5_000,
  perTask: 100,
  perVma: 200,
  perLeaf: 3_000,
  perStage2Zap: 20_000,
  perSplitTable: 1_500,
  perSignal: 2_000,
  perDissolve: 10_000,
};

/** The policy codes of the kernel's work records (assembly/policy.ts). */
export const WORK_POLICY = ['default', 'keep', 'hgm', 'none', 'thp'] as const;
export type WorkPolicy = (typeof WORK_POLICY)[number];

export interface RecoveryWork {
  policy: WorkPolicy;
  tasks: number;
  vmas: number;
  leaves: number;
  splitTables: number;
  signals: number;
  dissolves: number;
}

export function eventLatency(w: RecoveryWork, c: RecoveryCosts): number {
  return c.base + w.tasks * c.perTask + w.vmas * c.perVma + w.leaves * c.perLeaf
    + (w.policy === 'default' || w.policy === 'thp' ? w.leaves * c.perStage2Zap : 0) + w.splitTables * c.perSplitTable
    + w.signals * c.perSignal + w.dissolves * c.perDissolve;
}

export interface RecoverySummary {
  events: number;
  /** Simulated kernel time, nanoseconds. */
  totalNs: number;
  p50Ns: number;
  p99Ns: number;
  maxNs: number;
  work: Omit<RecoveryWork, 'policy'>;
}

/** Latencies of recovery events, and the work behind them. */
export class RecoveryTally {
  /** Built with the first event or merge. */
  private latencies: Hdr.Histogram | undefined;
  private totalNs = 0;
  private readonly work = { tasks: 0, vmas: 0, leaves: 0, splitTables: 0, signals: 0, dissolves: 0 };

  constructor(private readonly costs: RecoveryCosts = DEFAULT_RECOVERY_COSTS) {}

  record(w: RecoveryWork): void {
    const ns = eventLatency(w, this.costs);
    this.histogram().recordValue(Math.round(ns));
    this.totalNs += ns;
    for (const k of Object.keys(this.work) as (keyof typeof this.work)[]) this.work[k] += w[k];
  }

  /** A compact form to send between threads. */
  encode(): { histogram: string; totalNs: number; work: RecoverySummary['work'] } {
    const h = this.latencies;
    return { histogram: h ? hdr().encodeIntoCompressedBase64(h) : '', totalNs: this.totalNs, work: { ...this.work } };
  }

  /** Adds a tally encoded by another shard. */
  merge(other: ReturnType<RecoveryTally['encode']>): void {
    if (other.histogram !== '') this.histogram().add(hdr().decodeFromCompressedBase64(other.histogram));
    this.totalNs += other.totalNs;
    for (const k of Object.keys(this.work) as (keyof typeof this.work)[]) this.work[k] += other.work[k];
  }

  summary(): RecoverySummary {
    const h = this.latencies;
    const events = h ? h.totalCount : 0;
    return {
      events,
      totalNs: this.totalNs,
      p50Ns: events ? h!.getValueAtPercentile(50) : 0,
      p99Ns: events ? h!.getValueAtPercentile(99) : 0,
      maxNs: events ? h!.maxValue : 0,
      work: { ...this.work },
    };
  }

  private histogram(): Hdr.Histogram {
    return (this.latencies ??= hdr().build({ lowestDiscernibleValue: 1, highestTrackableValue: 1e12, numberOfSignificantValueDigits: 3 }));
  }
}
