// Synthetic workloads for fleet replay: which raw pages get poisoned, and the stream of
// guest accesses. Every stream is keyed by (seed, host), so a host's events never depend on
// the shard or worker that replays it, nor on the batch size.
import { streamRng, uniformInt, type Rng } from '../errors/rng.js';
import type { FleetShard, VmHandle } from './shard.js';

/** Where a synthetic workload's accesses go. */
export type AccessPattern = 'random' | 'sequential' | 'poisoned';

/** A synthetic guest workload, replayed per host. */
export interface WorkloadSpec {
  /** random: uniform over each VM; sequential: 64 B strides through guest memory;
   *  poisoned: only hugepages that hold a poisoned raw page. */
  pattern: AccessPattern;
  /** Accesses replayed per host. */
  accessesPerHost: number;
  /** Share of stores among accesses (default 0.3). */
  writeFraction?: number;
}

/** Seeded poisoning before the workload: patrol-scrub UEs on a share of the hugepages. */
export interface PoisonSpec {
  /**
   * Share of each VM's hugepages that get one poisoned raw page (patrol-scrub UEs): exactly
   * round(fraction x hugepages) distinct hugepages.
   */
  fraction: number;
}

const STREAM_POISON = 1;
const STREAM_ACCESS = 2;

/**
 * `k` distinct integers of [0, n), in draw order: the first k steps of a Fisher-Yates
 * shuffle, with the moved entries in a map so that memory is O(k) whatever n.
 */
export function sampleWithoutReplacement(rng: Rng, n: number, k: number): number[] {
  if (k > n) throw new RangeError(`cannot draw ${k} distinct values from ${n}`);
  const moved = new Map<number, number>();
  const out: number[] = [];
  for (let i = 0; i < k; i++) {
    const j = i + uniformInt(rng, n - i);
    const picked = moved.get(j) ?? j;
    moved.set(j, moved.get(i) ?? i);
    out.push(picked);
  }
  return out;
}

/** Guest offsets (hugepage-aligned + raw page) poisoned in one VM, in draw order; one per hugepage. */
export function poisonedOffsets(seed: number, host: number, vmIndex: number, vm: VmHandle, spec: PoisonSpec): number[] {
  const rng = streamRng(seed, STREAM_POISON, host, vmIndex);
  const H = 2 ** vm.hugepageShift;
  const pages = vm.size / H;
  const raw = H / 4096;
  return sampleWithoutReplacement(rng, pages, Math.round(pages * spec.fraction)).map((page) => page * H + uniformInt(rng, raw) * 4096);
}

/**
 * Poisons every VM of the shard's host `local` (fleet host `fleetHost`, which keys the
 * random streams) as its poison settings `spec` say; returns the poisoned guest offsets per VM.
 */
export function poisonHost(shard: FleetShard, local: number, fleetHost: number, seed: number, spec: PoisonSpec): Map<VmHandle, number[]> {
  const byVm = new Map<VmHandle, number[]>();
  const phys: number[] = [];
  shard.vms.filter((vm) => vm.host === local).forEach((vm, i) => {
    const offsets = poisonedOffsets(seed, fleetHost, i, vm, spec);
    byVm.set(vm, offsets);
    for (const off of offsets) {
      const pa = shard.physOf(vm, off);
      if (pa !== null) phys.push(pa);
    }
  });
  shard.injectScrubUEs(local, phys);
  return byVm;
}

/**
 * Replays the access stream of the shard's host `local` (fleet host `fleetHost`) in batches
 * of `batch`. `poisoned` lists the poisoned guest offsets per VM (the 'poisoned' pattern).
 */
export function replayHostWorkload(
  shard: FleetShard, local: number, fleetHost: number, seed: number, spec: WorkloadSpec,
  poisoned: Map<VmHandle, number[]>, batch: number,
): void {
  const vms = shard.vms.filter((vm) => vm.host === local);
  if (vms.length === 0 || spec.accessesPerHost <= 0) return;
  const rng = streamRng(seed, STREAM_ACCESS, fleetHost);
  const writeCut = Math.floor((spec.writeFraction ?? 0.3) * 2 ** 32);
  const targets = vms.map((vm) => (poisoned.get(vm) ?? []).map((off) => Math.floor(off / 2 ** vm.hugepageShift) * 2 ** vm.hugepageShift));
  const hot = vms.map((_, i) => i).filter((i) => targets[i]!.length > 0);
  if (spec.pattern === 'poisoned' && hot.length === 0) return;
  let cursor = 0;
  for (let done = 0; done < spec.accessesPerHost; ) {
    const n = Math.min(batch, spec.accessesPerHost - done);
    const cols = shard.accessColumns();
    for (let i = 0; i < n; i++) {
      let vmIndex: number;
      let offset: number;
      if (spec.pattern === 'sequential') {
        vmIndex = 0;
        offset = cursor;
        cursor = (cursor + 64) % vms[0]!.size;
      } else if (spec.pattern === 'random') {
        vmIndex = uniformInt(rng, vms.length);
        offset = uniformInt(rng, vms[vmIndex]!.size / 64) * 64;
      } else {
        vmIndex = hot[uniformInt(rng, hot.length)]!;
        const pages = targets[vmIndex]!;
        offset = pages[uniformInt(rng, pages.length)]! + uniformInt(rng, 2 ** vms[vmIndex]!.hugepageShift / 64) * 64;
      }
      const vm = vms[vmIndex]!;
      cols.proc[i] = vm.proc;
      cols.va[i] = vm.base + offset;
      cols.write[i] = (rng.next() >>> 0) < writeCut ? 1 : 0;
    }
    shard.replayAccesses(n);
    done += n;
  }
}
