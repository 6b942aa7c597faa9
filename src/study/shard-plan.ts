// A study's shards as a plan for an executor (src/shards/): each job is a contiguous host
// range under every run (the policies and their baselines), named by the resolved scenario,
// the digest of the UEs, the runs and the hosts.
import { sha256Hex } from '#platform/digest';
import type { ShardPlan } from '../shards/plan.js';
import type { StudyUes } from './error-stream.js';
import type { Scenario } from './scenario.js';
import type { StudyShardResult, StudyShardTask } from './shard.js';

/** SHA-256 of the study's UEs, column by column. */
export function studyUesDigest(ues: StudyUes): string {
  return sha256Hex([ues.host, ues.time, ues.phys, ues.flags].map((col) => new Uint8Array(col.buffer, col.byteOffset, col.byteLength)));
}

/** `runNames` names the runs every task carries, in order ("baseline", "keep", ...). */
export function studyShardPlan(scenario: Scenario, ues: StudyUes, tasks: StudyShardTask[], runNames: readonly string[]): ShardPlan<StudyShardTask, StudyShardResult> {
  const hostYears = (hosts: number) => hosts * runNames.length * scenario.years;
  return {
    kind: 'study',
    identity: { scenario, ues: studyUesDigest(ues), runs: runNames },
    files: [],
    unit: 'host-years',
    measure: (r) => hostYears(r.hostCount),
    jobs: tasks.map((t) => ({
      key: { firstHost: t.firstHost, hostCount: t.hostCount },
      label: `hosts ${t.firstHost}-${t.firstHost + t.hostCount - 1}`,
      task: t,
      weight: hostYears(t.hostCount),
    })),
  };
}
