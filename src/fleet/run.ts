// One shard of a fleet run: boot the shard's hosts, poison them, replay their workloads,
// and return per-host figures. Runs in a worker thread (worker.ts) or inline; a uniform
// fleet's hosts are expanded here, in the thread that boots them.
import { FLAG_SCRUB, FLAG_UE } from '../errors/batch.js';
import { readErrorStream } from '../errors/format.js';
import { expandShard, type ShardHosts } from './hosts.js';
import { FleetShard, REPLAY_BATCH, type HostStats, type SignalRecord } from './shard.js';
import { ErrFlag } from '../kernel/kernel.js';
import type { RecoveryTally } from '../costs/recovery-cost.js';
import type { TlbConfig } from '../costs/translation.js';
import { poisonHost, replayHostWorkload, type PoisonSpec, type WorkloadSpec } from './workload.js';

export interface ShardTask {
  /** The shard's hosts, and the fleet index of the first one. */
  hosts: ShardHosts;
  firstHost: number;
  seed: number;
  poison?: PoisonSpec;
  /** An mfrsim error stream: fleet host h takes the stream's UEs of host h, in order. */
  errors?: string;
  workload?: WorkloadSpec;
  /** Run the translation cost model on the workload's accesses. */
  translation?: TlbConfig;
  /** Events per replay call (results do not depend on it). */
  batch?: number;
  signalLogCapacity?: number;
}

export interface ShardResult {
  firstHost: number;
  hosts: HostStats[];
  signalLog: SignalRecord[];
  signalsDropped: number;
  heapBytes: number;
  replaySeconds: number;
  recovery: ReturnType<RecoveryTally['encode']>;
}

export async function runShard(task: ShardTask): Promise<ShardResult> {
  const hosts = expandShard(task.hosts, task.firstHost);
  const shard = FleetShard.create(hosts, { signalLogCapacity: task.signalLogCapacity });
  const batch = Math.min(task.batch ?? REPLAY_BATCH, REPLAY_BATCH);
  const start = performance.now();
  if (task.errors) await applyErrors(shard, task);
  if (task.translation) shard.enableTranslationModel(task.translation);
  for (let local = 0; local < hosts.length; local++) {
    // Streams are keyed by the fleet-wide host index, never the shard-local one.
    const fleetHost = task.firstHost + local;
    const poisoned = task.poison ? poisonHost(shard, local, fleetHost, task.seed, task.poison) : new Map();
    if (task.workload) replayHostWorkload(shard, local, fleetHost, task.seed, task.workload, poisoned, batch);
  }
  const replaySeconds = (performance.now() - start) / 1000;
  return {
    firstHost: task.firstHost,
    hosts: hosts.map((_, h) => shard.hostStats(h)),
    signalLog: shard.signalLog.map((s) => ({ ...s, host: s.host + task.firstHost })),
    signalsDropped: shard.signalsDropped,
    heapBytes: shard.heapBytes(),
    replaySeconds,
    recovery: shard.recovery.encode(),
  };
}

/** The shard's hosts take their UEs from the error stream (consumed ones by the first mapper). */
async function applyErrors(shard: FleetShard, task: ShardTask): Promise<void> {
  const last = task.firstHost + shard.hostCount;
  for await (const b of readErrorStream(task.errors!)) {
    const cols = shard.errorColumns();
    let n = 0;
    for (let i = 0; i < b.length; i++) {
      const host = b.host[i]!;
      if (host < task.firstHost || host >= last || (b.flags[i]! & FLAG_UE) === 0) continue;
      cols.host[n] = host - task.firstHost;
      cols.phys[n] = b.physAddr[i]!;
      cols.flags[n] = ErrFlag.ue | ((b.flags[i]! & FLAG_SCRUB) === 0 ? ErrFlag.consumed : 0);
      n++;
    }
    shard.replayErrors(n);
  }
}
