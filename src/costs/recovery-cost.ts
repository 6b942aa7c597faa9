// The recovery cost model: the kernel reports the work of every memory-failure event
// (tasks walked, VMAs found, leaves unmapped or split, page-table pages allocated,
// signals, hugepages dissolved) and of every hugepage dissolved later, when a poisoned
// hugepage kept mapped (KEEP, HGM) leaves its file; this file prices both with the unit
// costs of cost-table.ts and keeps two latency distributions in HDR histograms (p50, p99,
// max), mergeable across shards: memory_failure latency and release latency.
import type { Histogram } from 'hdr-histogram-js';
import { hdr } from '#platform/hdr';
import { vmemmapPages, type UnitCosts } from './cost-table.js';

/** The policy codes of the kernel's work records (assembly/policy.ts). */
export const WORK_POLICY = ['default', 'keep', 'hgm', 'none', 'thp'] as const;
/** The policy that handled a recovery event. */
export type WorkPolicy = (typeof WORK_POLICY)[number];

/** The work of one memory_failure() event, or of one release-time dissolve, as the kernel reports it. */
export interface RecoveryWork {
  policy: WorkPolicy;
  /** A dissolve at release (the file let go of a poisoned hugepage), not a memory_failure() event. */
  release: boolean;
  tasks: number;
  vmas: number;
  leaves: number;
  splitTables: number;
  signals: number;
  dissolves: number;
  /** The hugepage size of the dissolves (21 or 30; 0 without one). */
  hugepageShift: number;
}

function dissolveCost(hugepageShift: number, c: UnitCosts): number {
  return hugepageShift === 30 ? c.dissolve1G : c.dissolve2M;
}

/** Nanoseconds of one memory_failure() event. */
export function eventLatency(w: RecoveryWork, c: UnitCosts): number {
  // Every leaf a VMM's mapping changes also leaves KVM's stage-2 view of it stale (KEEP changes none).
  const stage2 = w.policy === 'default' || w.policy === 'hgm' || w.policy === 'thp' ? w.leaves * c.perStage2Zap : 0;
  return c.entry + w.tasks * c.perTask + w.vmas * c.perVma + w.leaves * c.perLeaf + stage2
    + w.splitTables * c.perSplitTable + w.signals * c.perSignal + w.dissolves * dissolveCost(w.hugepageShift, c);
}

/** Nanoseconds of one release-time dissolve record. */
export function releaseLatency(w: RecoveryWork, c: UnitCosts): number {
  return w.dissolves * dissolveCost(w.hugepageShift, c);
}

/** One latency distribution: how many events, their total and percentiles. */
export interface LatencySummary {
  events: number;
  /** Simulated kernel time, nanoseconds. */
  totalNs: number;
  p50Ns: number;
  p99Ns: number;
  maxNs: number;
}

/** The recovery events of a run: memory_failure() latency, the work behind it, and the release latency. */
export interface RecoverySummary extends LatencySummary {
  /** The work of the memory_failure() events (vmemmap pages: re-allocated by their dissolves under HVO). */
  work: { tasks: number; vmas: number; leaves: number; splitTables: number; signals: number; dissolves: number; vmemmapPages: number };
  /** Hugepages dissolved at release, the vmemmap pages they re-allocated, and their latency. */
  release: LatencySummary & { dissolves: number; vmemmapPages: number };
}

/** The percentiles a latency distribution is drawn at. */
export const LATENCY_PERCENTILES = [0, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 99.9, 100];

/** One latency distribution and its total; its histogram is built with the first value. */
class Latencies {
  private built: Histogram | undefined;
  totalNs = 0;

  private get histogram(): Histogram {
    return (this.built ??= hdr().build({ lowestDiscernibleValue: 1, highestTrackableValue: 1e12, numberOfSignificantValueDigits: 3 }));
  }

  add(ns: number): void {
    this.histogram.recordValue(Math.round(ns));
    this.totalNs += ns;
  }

  summary(): LatencySummary {
    const h = this.built;
    const events = h?.totalCount ?? 0;
    return {
      events,
      totalNs: this.totalNs,
      p50Ns: h && events ? h.getValueAtPercentile(50) : 0,
      p99Ns: h && events ? h.getValueAtPercentile(99) : 0,
      maxNs: h && events ? h.maxValue : 0,
    };
  }

  /** Nanoseconds at each of LATENCY_PERCENTILES (empty without events). */
  percentiles(): { percentile: number; ns: number }[] {
    const h = this.built;
    if (!h || h.totalCount === 0) return [];
    return LATENCY_PERCENTILES.map((percentile) => ({ percentile, ns: percentile === 0 ? h.minNonZeroValue : h.getValueAtPercentile(percentile) }));
  }

  encode(): { histogram: string; totalNs: number } {
    const h = this.built;
    return { histogram: h && h.totalCount ? hdr().encodeIntoCompressedBase64(h) : '', totalNs: this.totalNs };
  }

  merge(other: { histogram: string; totalNs: number }): void {
    if (other.histogram !== '') this.histogram.add(hdr().decodeFromCompressedBase64(other.histogram));
    this.totalNs += other.totalNs;
  }
}

const WORK_KEYS = ['tasks', 'vmas', 'leaves', 'splitTables', 'signals', 'dissolves', 'vmemmapPages'] as const;

/** Latencies of recovery events and of release-time dissolves, and the work behind them. */
export class RecoveryTally {
  private readonly memoryFailure = new Latencies();
  private readonly release = new Latencies();
  private readonly work = { tasks: 0, vmas: 0, leaves: 0, splitTables: 0, signals: 0, dissolves: 0, vmemmapPages: 0 };
  private readonly released = { dissolves: 0, vmemmapPages: 0 };

  /** Prices one work record with its host's unit costs; `hvo`: the host re-allocates vmemmap on a dissolve. */
  record(w: RecoveryWork, costs: UnitCosts, hvo: boolean): void {
    const vmemmap = w.dissolves * vmemmapPages(w.hugepageShift, hvo);
    if (w.release) {
      this.release.add(releaseLatency(w, costs));
      this.released.dissolves += w.dissolves;
      this.released.vmemmapPages += vmemmap;
      return;
    }
    this.memoryFailure.add(eventLatency(w, costs));
    for (const k of WORK_KEYS) if (k !== 'vmemmapPages') this.work[k] += w[k];
    this.work.vmemmapPages += vmemmap;
  }

  /** A compact form to send between threads. */
  encode(): { memoryFailure: ReturnType<Latencies['encode']>; release: ReturnType<Latencies['encode']>; work: RecoverySummary['work']; released: { dissolves: number; vmemmapPages: number } } {
    return { memoryFailure: this.memoryFailure.encode(), release: this.release.encode(), work: { ...this.work }, released: { ...this.released } };
  }

  /** Adds a tally encoded by another shard. */
  merge(other: ReturnType<RecoveryTally['encode']>): void {
    this.memoryFailure.merge(other.memoryFailure);
    this.release.merge(other.release);
    for (const k of WORK_KEYS) this.work[k] += other.work[k];
    this.released.dissolves += other.released.dissolves;
    this.released.vmemmapPages += other.released.vmemmapPages;
  }

  /** The events so far. */
  summary(): RecoverySummary {
    return { ...this.memoryFailure.summary(), work: { ...this.work }, release: { ...this.release.summary(), ...this.released } };
  }

  /** The two latency distributions at LATENCY_PERCENTILES. */
  percentiles(): { memoryFailure: { percentile: number; ns: number }[]; release: { percentile: number; ns: number }[] } {
    return { memoryFailure: this.memoryFailure.percentiles(), release: this.release.percentiles() };
  }
}
