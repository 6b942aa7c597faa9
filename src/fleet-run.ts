// One shard of a fleet run: boot the shard's hosts, poison them, replay their workloads,
// and return per-host figures. Runs in a worker thread (src/fleet-worker.ts) or inline.
import { FleetShard, REPLAY_BATCH, type HostSpec, type HostStats, type SignalRecord } from './fleet.js';
import { poisonHost, replayHostWorkload, type PoisonSpec, type WorkloadSpec } from './workload.js';

export interface ShardTask {
  /** The shard's hosts, and the fleet index of the first one. */
  hosts: HostSpec[];
  firstHost: number;
  seed: number;
  poison?: PoisonSpec;
  workload?: WorkloadSpec;
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
}

export function runShard(task: ShardTask): ShardResult {
  const shard = FleetShard.create(task.hosts, { signalLogCapacity: task.signalLogCapacity });
  const batch = Math.min(task.batch ?? REPLAY_BATCH, REPLAY_BATCH);
  const start = performance.now();
  for (let local = 0; local < task.hosts.length; local++) {
    // Streams are keyed by the fleet-wide host index, never the shard-local one.
    const fleetHost = task.firstHost + local;
    const poisoned = task.poison ? poisonHost(shard, local, fleetHost, task.seed, task.poison) : new Map();
    if (task.workload) replayHostWorkload(shard, local, fleetHost, task.seed, task.workload, poisoned, batch);
  }
  const replaySeconds = (performance.now() - start) / 1000;
  return {
    firstHost: task.firstHost,
    hosts: task.hosts.map((_, h) => shard.hostStats(h)),
    signalLog: shard.signalLog.map((s) => ({ ...s, host: s.host + task.firstHost })),
    signalsDropped: shard.signalsDropped,
    heapBytes: shard.heapBytes(),
    replaySeconds,
  };
}
