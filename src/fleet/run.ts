// One shard of a fleet run: boot the shard's hosts, poison them, replay their workloads,
// and return per-host figures. Runs in a worker thread (worker.ts) or inline; a uniform
// fleet's hosts are expanded here, in the thread that boots them.
import { FLAG_SCRUB, FLAG_UE } from '../errors/batch.js';
import { readErrorStream } from '#platform/files';
import { expandShard, type ShardHosts } from './hosts.js';
import { FleetShard, REPLAY_BATCH, type HostStats, type SignalRecord } from './shard.js';
import { ErrFlag, loadKernel } from '../kernel/kernel.js';
import type { RecoveryTally } from '../costs/recovery-cost.js';
import type { TlbConfig } from '../costs/translation.js';
import { poisonHost, replayHostWorkload, type PoisonSpec, type WorkloadSpec } from './workload.js';

/** One shard of a fleet run: its hosts and what to replay against them. */
export interface ShardTask {
  /** The shard's hosts, and the fleet index of the first one. */
  hosts: ShardHosts;
  firstHost: number;
  seed: number;
  poison?: PoisonSpec;
  /** An mfrsim error stream: fleet host h takes the stream's UEs of host h, in order. */
  errors?: string;
  /** Read what an unfinished error stream holds instead of refusing it. */
  salvage?: boolean;
  workload?: WorkloadSpec;
  /** Run the translation cost model on the workload's accesses. */
  translation?: TlbConfig;
  /** Events per replay call (results do not depend on it). */
  batch?: number;
  signalLogCapacity?: number;
}

/** A shard's figures, per host, with its fleet numbering. */
export interface ShardResult {
  firstHost: number;
  hosts: HostStats[];
  signalLog: SignalRecord[];
  signalsDropped: number;
  heapBytes: number;
  replaySeconds: number;
  recovery: ReturnType<RecoveryTally['encode']>;
  /** The error stream's records: all of them, and what became of those of the shard's hosts. */
  errors: ShardErrorOutcomes;
}

/** What became of a shard's error-stream records, each in one category. */
export interface ShardErrorOutcomes {
  /** Records in the stream (every shard reads all of it). */
  streamRecords: number;
  /** UEs of the shard's hosts inside their pools, applied. */
  applied: number;
  /** CEs of the shard's hosts, skipped. */
  corrected: number;
  /** UEs of the shard's hosts outside their pools. */
  outsidePools: number;
}

/** Runs one shard (on the calling thread): boots its hosts, applies the UEs, poisoning and workload. */
export async function runShard(task: ShardTask): Promise<ShardResult> {
  await loadKernel(); // a browser compiles the kernel before the first shard; Node already has
  const hosts = expandShard(task.hosts, task.firstHost);
  const shard = FleetShard.create(hosts, { signalLogCapacity: task.signalLogCapacity });
  const batch = Math.min(task.batch ?? REPLAY_BATCH, REPLAY_BATCH);
  const start = performance.now();
  const errors = task.errors ? await applyErrors(shard, task) : { streamRecords: 0, applied: 0, corrected: 0, outsidePools: 0 };
  if (task.translation) shard.enableTranslationModel(task.translation);
  for (let local = 0; local < hosts.length; local++) {
    // Streams are keyed by the fleet-wide host index, never the shard-local one.
    const fleetHost = task.firstHost + local;
    const poisoned = task.poison ? poisonHost(shard, local, fleetHost, task.seed, task.poison) : new Map();
    if (task.workload) replayHostWorkload(shard, local, fleetHost, task.seed, task.workload, poisoned, batch);
  }
  const replaySeconds = (performance.now() - start) / 1000;
  const stats = hosts.map((_, h) => shard.hostStats(h));
  // The VMs end with the run: their memfds are released, and the hugepages KEEP and HGM kept
  // poisoned are dissolved now (the release latency); the figures above are from before.
  for (const vm of shard.vms) shard.exitVm(vm);
  return {
    firstHost: task.firstHost,
    hosts: stats,
    signalLog: shard.signalLog.map((s) => ({ ...s, host: s.host + task.firstHost })),
    signalsDropped: shard.signalsDropped,
    heapBytes: shard.heapBytes(),
    replaySeconds,
    recovery: shard.recovery.encode(),
    errors,
  };
}

/** The shard's hosts take their UEs from the error stream (consumed ones by the first mapper). */
async function applyErrors(shard: FleetShard, task: ShardTask): Promise<ShardErrorOutcomes> {
  const last = task.firstHost + shard.hostCount;
  const out: ShardErrorOutcomes = { streamRecords: 0, applied: 0, corrected: 0, outsidePools: 0 };
  for await (const b of readErrorStream(task.errors!, { salvage: task.salvage })) {
    const cols = shard.errorColumns();
    let n = 0;
    out.streamRecords += b.length;
    for (let i = 0; i < b.length; i++) {
      const host = b.host[i]!;
      if (host < task.firstHost || host >= last) continue;
      if ((b.flags[i]! & FLAG_UE) === 0) {
        out.corrected++;
        continue;
      }
      cols.host[n] = host - task.firstHost;
      cols.phys[n] = b.physAddr[i]!;
      cols.flags[n] = ErrFlag.ue | ((b.flags[i]! & FLAG_SCRUB) === 0 ? ErrFlag.consumed : 0);
      n++;
    }
    const handled = shard.replayErrors(n);
    out.applied += handled;
    out.outsidePools += n - handled;
  }
  return out;
}
