// Replays a recorded access trace (any size, streamed, read once) against one simulated
// host: the traced program's hugepages are backed as it first touches them (first-touch.ts),
// or by the memfds of a layout file; the host's UEs come from an error stream (or a seeded
// fraction of poisoned hugepages), and every access is replayed in wasm batches.
import { FLAG_SCRUB, FLAG_UE } from '../errors/batch.js';
import { readErrorStream } from '../errors/format.js';
import { streamRng, uniformInt } from '../errors/rng.js';
import { sampleWithoutReplacement } from './workload.js';
import { ErrFlag } from '../kernel/kernel.js';
import { FleetShard, REPLAY_BATCH, withThpBacking, type HostSpec, type HostStats, type RegionSpec, type SignalRecord } from './shard.js';
import { FIRST_TOUCH_POOL_BYTES, FirstTouchSpace, type PendingUe } from './first-touch.js';
import { openTrace } from '../traces/open.js';
import { ACCESS_WRITE, HUGEPAGE_BYTES, type TraceFormat, type TraceReader } from '../traces/types.js';
import type { AddressLayout } from '../traces/layout.js';
import type { RecoverySummary } from '../costs/recovery-cost.js';
import type { Environment } from '../costs/cost-table.js';
import type { TlbConfig } from '../costs/translation.js';
import type { HugepageSize } from '../host/types.js';

const PHYS_BASE = 2 ** 32;
/** Lowest address a mapping may start at (vm.mmap_min_addr). */
const MMAP_MIN_ADDR = 0x10000;
/**
 * Where a layout file that starts below mmap_min_addr is moved: a hugepage-aligned region at 0
 * (a program loaded at 0x108000 under valgrind, say) cannot be mapped there, so every trace
 * address is replayed this far up instead. Translation costs and outcomes do not change.
 */
const RELOCATION = 2 ** 40;

/** What `replayTrace` replays, and against what. */
export interface TraceReplayOptions {
  /** The trace file. */
  trace: string;
  /** Its format (default: detected). */
  format?: TraceFormat | 'auto';
  /** A layout file; default: hugepages backed as the trace first touches them. */
  layout?: string;
  hugepage?: HugepageSize;
  /**
   * Policy of the default layout; 'hgm' also makes the host split HugeTLB mappings (HGM);
   * 'thp' maps every region as anonymous THP instead of HugeTLB.
   */
  policy?: 'default' | 'keep' | 'hgm' | 'thp';
  /** With policy 'thp': the probability that a split fails (default 0). */
  thpSplitFailure?: number;
  /** An mfrsim error stream; its UEs for `errorsHost` are applied before the trace runs. */
  errors?: string;
  /** Which host of the stream this one is; 'auto': the first host with a UE (default 0). */
  errorsHost?: number | 'auto';
  /** Share of the layout's hugepages given one poisoned raw page (scrub UEs) before the run. */
  poisonFraction?: number;
  seed?: number;
  /** Run the translation cost model on the trace's accesses. */
  translation?: TlbConfig;
  /** The traced process dies of SIGBUS instead of handling it (default: it handles it). */
  killOnSigbus?: boolean;
  /** The recovery cost model: the host runs the hugetlb vmemmap optimisation (HostSpec.hvo). */
  hvo?: boolean;
  /** The recovery cost model: bare metal or a VM (HostSpec.environment). */
  environment?: Environment;
  /** Read what an unfinished mfrsim trace or error stream holds instead of refusing it. */
  salvage?: boolean;
  /** Called as the trace is read. */
  onProgress?: (p: { bytesRead: number; fileSize: number; events: number }) => void;
}

/** A trace's replay: its outcomes, what the UEs cost, and the host's figures. */
export interface TraceReplayResult {
  trace: string;
  format: TraceFormat;
  /** The layout file's regions, or the windows first touches backed. */
  layout: AddressLayout;
  /**
   * Added to every trace address when a layout file's first region starts below
   * mmap_min_addr, else 0: signal addresses are the process's. (First-touch replays report
   * trace addresses.)
   */
  relocation: number;
  accesses: number;
  ok: number;
  sigbus: number;
  sigbusByCode: HostStats['sigbusByCode'];
  bytesLost: number;
  hugepagesLost: number;
  rawPagesPoisoned: number;
  processKilled: boolean;
  /**
   * What became of the error stream's records (each in one category): UEs applied, CEs
   * skipped, UEs outside the host's pools, records of other stream hosts.
   */
  errors: { host: number; records: number; applied: number; corrected: number; outsideHost: number; otherHosts: number };
  /** With `salvage`, what an unfinished mfrsim trace gave; else null. */
  salvaged: TraceReader['salvaged'];
  host: HostStats;
  signalLog: SignalRecord[];
  signalsDropped: number;
  recovery: RecoverySummary;
  replaySeconds: number;
  eventsPerSecond: number;
}

/**
 * The host whose UEs to apply ('auto': the first host with one, else 0) and the highest
 * physical address among its UEs (0 when it has none).
 */
async function scanUEs(path: string, want: number | 'auto', salvage: boolean): Promise<{ host: number; maxAddress: number }> {
  let host = want === 'auto' ? -1 : want;
  let max = 0;
  for await (const b of readErrorStream(path, { salvage })) {
    for (let i = 0; i < b.length; i++) {
      if ((b.flags[i]! & FLAG_UE) === 0) continue;
      if (host < 0) host = b.host[i]!;
      if (b.host[i] === host && b.physAddr[i]! > max) max = b.physAddr[i]!;
    }
  }
  return { host: Math.max(host, 0), maxAddress: max };
}

/**
 * Replays one recorded trace against one simulated host: the hugepages it touches (or a
 * layout file) backed per the policy, after the UEs of an error stream or a seeded poisoning.
 */
export async function replayTrace(opts: TraceReplayOptions): Promise<TraceReplayResult> {
  const trace = await openTrace(opts.trace, { format: opts.format ?? 'auto', batchSize: REPLAY_BATCH, salvage: opts.salvage });
  if (trace.physical) {
    throw new Error(`${opts.trace}: the trace carries physical addresses; replay needs the virtual ones (perf script -F addr)`);
  }
  return opts.layout ? replayWithLayout(trace, opts.layout, opts) : replayFirstTouch(trace, opts);
}

/** The host booted for a replay: the given pools and one process with `regions`, after the policy. */
function bootHost(opts: TraceReplayOptions, hugepages: HostSpec['hugepages'], regions: RegionSpec[]): FleetShard {
  const spec: HostSpec = {
    hugepages, hgm: opts.policy === 'hgm', vms: [{ regions, handlesSigbus: !opts.killOnSigbus }], hvo: opts.hvo, environment: opts.environment,
  };
  const shard = FleetShard.create([opts.policy === 'thp' ? { ...withThpBacking(spec), thpSplitFailure: opts.thpSplitFailure, seed: opts.seed } : spec]);
  if (opts.translation) shard.enableTranslationModel(opts.translation);
  return shard;
}

/** The pool frames of `size` that cover every UE of the stream up to `top`, 1 GiB pages first. */
function framesUpTo(top: number, size: HugepageSize, below1G: number): number {
  if (top === 0) return 0;
  return Math.floor((top - PHYS_BASE - (size === '2M' ? below1G : 0)) / HUGEPAGE_BYTES[size]) + 1;
}

/** The process's hugepages backed by the memfds of a layout file, faulted in before the trace runs. */
async function replayWithLayout(trace: TraceReader, layoutFile: string, opts: TraceReplayOptions): Promise<TraceReplayResult> {
  // The layout file's schema (zod) loads only when a layout is given.
  const { loadLayout } = await import('../traces/layout.js');
  const layout = await loadLayout(layoutFile);

  // The host's pools: what the layout maps, and enough to hold every UE of the error stream.
  const need: Record<HugepageSize, number> = { '2M': 0, '1G': 0 };
  for (const r of layout.regions) need[r.hugepageSize] += r.length / HUGEPAGE_BYTES[r.hugepageSize];
  let errorsHost = 0;
  if (opts.errors) {
    const scan = await scanUEs(opts.errors, opts.errorsHost ?? 0, opts.salvage ?? false);
    errorsHost = scan.host;
    const size: HugepageSize = need['1G'] > 0 ? '1G' : '2M';
    need[size] = Math.max(need[size], framesUpTo(scan.maxAddress, size, need['1G'] * HUGEPAGE_BYTES['1G']));
  }
  const relocation = layout.regions[0]!.start < MMAP_MIN_ADDR ? RELOCATION : 0;
  const regions: RegionSpec[] = layout.regions.map((r) => ({
    address: r.start + relocation, length: r.length, hugepage: r.hugepageSize, policy: r.policy, shared: r.sharing === 'shared',
  }));
  const shard = bootHost(opts, need, regions);
  const vm = shard.vms[0]!;

  const errors = opts.errors
    ? await applyErrorStream(shard, opts.errors, errorsHost, opts.salvage ?? false)
    : { host: 0, records: 0, applied: 0, corrected: 0, outsideHost: 0, otherHosts: 0 };
  if (opts.poisonFraction) errors.applied += poisonLayout(shard, layout, relocation, opts.poisonFraction, opts.seed ?? 1);

  const start = performance.now();
  let events = 0;
  for await (const batch of trace) {
    const n = batch.length;
    const { addr, kind } = batch;
    const cols = shard.accessColumns();
    cols.proc.fill(vm.proc, 0, n);
    const { va, write } = cols;
    for (let i = 0; i < n; i++) {
      va[i] = addr[i]! + relocation;
      write[i] = kind[i] === ACCESS_WRITE ? 1 : 0;
    }
    shard.replayAccesses(n);
    events += n;
    opts.onProgress?.({ bytesRead: trace.bytesRead, fileSize: trace.fileSize, events });
  }
  return result(trace, shard, layout, relocation, errors, events, start);
}

/** The process's hugepages backed as the trace first touches them, in one pass over the trace. */
async function replayFirstTouch(trace: TraceReader, opts: TraceReplayOptions): Promise<TraceReplayResult> {
  const hugepage = opts.hugepage ?? '2M';
  const ues = opts.errors
    ? await hostUEs(opts.errors, opts.errorsHost ?? 0, opts.salvage ?? false)
    : { host: 0, records: 0, corrected: 0, otherHosts: 0, list: [], maxAddress: 0 };
  const frames = Math.max(FIRST_TOUCH_POOL_BYTES / HUGEPAGE_BYTES[hugepage], framesUpTo(ues.maxAddress, hugepage, 0));
  const shard = bootHost(opts, { [hugepage]: frames }, []);
  const vm = shard.vms[0]!;
  const space = new FirstTouchSpace(shard, vm, {
    trace: trace.path, hugepage, policy: opts.policy === 'keep' || opts.policy === 'thp' ? opts.policy : 'default', sharing: 'shared',
    ues: ues.list, poisonFraction: opts.poisonFraction ?? 0, seed: opts.seed ?? 1,
  }, PHYS_BASE);

  const start = performance.now();
  let events = 0;
  for await (const batch of trace) {
    space.replay(batch);
    events += batch.length;
    opts.onProgress?.({ bytesRead: trace.bytesRead, fileSize: trace.fileSize, events });
  }
  if (events === 0) throw new Error(`${trace.path}: the trace has no accesses`);
  space.finish();
  const errors = { host: ues.host, records: ues.records, applied: space.applied, corrected: ues.corrected, outsideHost: space.outsideHost, otherHosts: ues.otherHosts };
  const r = result(trace, shard, { regions: space.regions() }, 0, errors, events, start);
  // The process saw every address with bit 46 flipped (first-touch.ts): report the trace's.
  for (const s of r.signalLog) s.addr ^= 1n << 46n;
  return r;
}

function result(
  trace: TraceReader, shard: FleetShard, layout: AddressLayout, relocation: number, errors: TraceReplayResult['errors'],
  events: number, start: number,
): TraceReplayResult {
  const replaySeconds = (performance.now() - start) / 1000;
  const host = shard.hostStats(0);
  // The traced program ends: its memfds are released, and the hugepages KEEP and HGM kept
  // poisoned are dissolved now (the release latency); the figures above are from before.
  shard.exitVm(shard.vms[0]!);
  return {
    trace: trace.path,
    format: trace.format,
    layout,
    relocation,
    accesses: host.accesses,
    ok: host.ok,
    sigbus: host.sigbus,
    sigbusByCode: host.sigbusByCode,
    bytesLost: host.bytesLost,
    hugepagesLost: host.hugepagesLost,
    rawPagesPoisoned: host.rawPagesPoisoned,
    processKilled: host.killed > 0,
    errors,
    salvaged: trace.salvaged,
    host,
    signalLog: shard.signalLog,
    signalsDropped: shard.signalsDropped,
    recovery: shard.recovery.summary(),
    replaySeconds,
    eventsPerSecond: events / Math.max(replaySeconds, 1e-9),
  };
}

/** One host's UEs of an error stream, in stream order, with the stream's records, its CEs and other hosts' records counted. */
async function hostUEs(
  path: string, want: number | 'auto', salvage: boolean,
): Promise<{ host: number; records: number; corrected: number; otherHosts: number; list: PendingUe[]; maxAddress: number }> {
  const { host, maxAddress } = await scanUEs(path, want, salvage);
  const list: PendingUe[] = [];
  let records = 0;
  let corrected = 0;
  let otherHosts = 0;
  for await (const b of readErrorStream(path, { salvage })) {
    records += b.length;
    for (let i = 0; i < b.length; i++) {
      if (b.host[i] !== host) otherHosts++;
      else if ((b.flags[i]! & FLAG_UE) === 0) corrected++;
      else list.push({ order: list.length, phys: b.physAddr[i]!, flags: ErrFlag.ue | ((b.flags[i]! & FLAG_SCRUB) === 0 ? ErrFlag.consumed : 0) });
    }
  }
  return { host, records, corrected, otherHosts, list, maxAddress };
}

/** Applies the UEs of one host of an error stream, in stream order. */
async function applyErrorStream(shard: FleetShard, path: string, host: number, salvage: boolean): Promise<TraceReplayResult['errors']> {
  const out = { host, records: 0, applied: 0, corrected: 0, outsideHost: 0, otherHosts: 0 };
  for await (const b of readErrorStream(path, { salvage })) {
    const cols = shard.errorColumns();
    let n = 0;
    out.records += b.length;
    for (let i = 0; i < b.length; i++) {
      if (b.host[i] !== host) {
        out.otherHosts++;
        continue;
      }
      if ((b.flags[i]! & FLAG_UE) === 0) {
        out.corrected++;
        continue;
      }
      cols.host[n] = 0;
      cols.phys[n] = b.physAddr[i]!;
      cols.flags[n] = ErrFlag.ue | ((b.flags[i]! & FLAG_SCRUB) === 0 ? ErrFlag.consumed : 0);
      n++;
    }
    const handled = shard.replayErrors(n);
    out.applied += handled;
    out.outsideHost += n - handled;
  }
  return out;
}

/** Poisons one random raw page in `fraction` of the layout's hugepages, each once (scrub UEs). */
function poisonLayout(shard: FleetShard, layout: AddressLayout, relocation: number, fraction: number, seed: number): number {
  const rng = streamRng(seed, 3);
  const vm = shard.vms[0]!;
  const phys: number[] = [];
  for (const r of layout.regions) {
    const H = HUGEPAGE_BYTES[r.hugepageSize];
    const pages = r.length / H;
    for (const page of sampleWithoutReplacement(rng, pages, Math.round(pages * fraction))) {
      const va = relocation + r.start + page * H + uniformInt(rng, H / 4096) * 4096;
      const pa = shard.physOf({ ...vm, base: 0 }, va);
      if (pa !== null) phys.push(pa);
    }
  }
  return shard.injectScrubUEs(0, phys);
}
