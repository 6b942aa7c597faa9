// A study's shards as a plan for an executor (src/shards/): each job is one run's
// (policy's or baseline's) contiguous host range, named by the resolved scenario, the
// digest of the UEs it replays, the run and the hosts.
import { sha256Hex } from '#platform/digest';
import type { ShardPlan } from '../shards/plan.js';
import type { StudyUes } from './error-stream.js';
import type { Scenario } from './scenario.js';
import type { StudyShardResult, StudyShardTask } from './shard.js';

/** SHA-256 of the study's UEs, column by column. */
export function studyUesDigest(ues: StudyUes): string {
  return sha256Hex([ues.host, ues.time, ues.phys, ues.flags].map((col) => new Uint8Array(col.buffer, col.byteOffset, col.byteLength)));
}

/** `runNames[t.run]` names each task's run ("baseline", "keep", ...). */
export function studyShardPlan(scenario: Scenario, ues: StudyUes, tasks: StudyShardTask[], runNames: readonly string[]): ShardPlan<StudyShardTask, StudyShardResult> {
  return {
    kind: 'study',
    identity: { scenario, ues: studyUesDigest(ues) },
    files: [],
    unit: 'host-years',
    measure: (r) => r.hosts.length * scenario.years,
    jobs: tasks.map((t) => ({
      key: { run: runNames[t.run]!, firstHost: t.firstHost, hostCount: t.hostCount },
      label: `${runNames[t.run]} hosts ${t.firstHost}-${t.firstHost + t.hostCount - 1}`,
      task: t,
      weight: t.hostCount * scenario.years,
    })),
  };
}
