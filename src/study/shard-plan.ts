// A study's shards as a plan for an executor (src/shards/): each job is a contiguous host
// range of one replicate under every run (the policies and their baselines), named by the
// resolved scenario, the digest of every replicate's UEs, the runs, the replicate and the hosts.
import { sha256Hex } from '#platform/digest';
import type { ShardPlan } from '../shards/plan.js';
import type { StudyUes } from './error-stream.js';
import type { Scenario } from './scenario.js';
import type { StudyShardResult, StudyShardTask } from './shard.js';

/** SHA-256 of the study's UEs, column by column. */
export function studyUesDigest(ues: StudyUes): string {
  return sha256Hex([ues.host, ues.time, ues.phys, ues.flags].map((col) => new Uint8Array(col.buffer, col.byteOffset, col.byteLength)));
}

/** `ues`: each replicate's; `runNames` names the runs every task carries, in order ("baseline", "keep", ...). */
export function studyShardPlan(scenario: Scenario, ues: readonly StudyUes[], tasks: StudyShardTask[], runNames: readonly string[]): ShardPlan<StudyShardTask, StudyShardResult> {
  const hostYears = (hosts: number) => hosts * runNames.length * scenario.years;
  return {
    kind: 'study',
    identity: { scenario, ues: ues.length === 1 ? studyUesDigest(ues[0]!) : ues.map(studyUesDigest), runs: runNames },
    files: [],
    unit: 'host-years',
    measure: (r) => hostYears(r.hostCount),
    jobs: tasks.map((t) => ({
      // One replicate keeps the keys of studies without replicates.
      key: ues.length === 1 ? { firstHost: t.firstHost, hostCount: t.hostCount } as Record<string, number> : { replicate: t.replicate, firstHost: t.firstHost, hostCount: t.hostCount },
      label: `${ues.length === 1 ? '' : `replicate ${t.replicate + 1}, `}hosts ${t.firstHost}-${t.firstHost + t.hostCount - 1}`,
      task: t,
      weight: hostYears(t.hostCount),
    })),
  };
}
