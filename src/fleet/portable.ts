// The part of mfrsim/fleet that runs anywhere, browsers included (where runs stay on the
// calling thread): fleet shards, seeded workloads, fleet runs and their cost models.
export {
  FleetShard,
  hostSeed,
  REPLAY_BATCH,
  sumStats,
  withThpBacking,
  type HostSpec,
  type HostStats,
  type Policy,
  type RegionSpec,
  type ShardOptions,
  type SignalRecord,
  type VmHandle,
  type VmSpec,
  type VmStats,
} from './shard.js';
export { poisonedOffsets, poisonHost, replayHostWorkload, type AccessPattern, type PoisonSpec, type WorkloadSpec } from './workload.js';
export { runShard, type ShardErrorOutcomes, type ShardResult, type ShardTask } from './run.js';
export { runFleet, type FleetErrorOutcomes, type FleetResult, type FleetRun } from './pool.js';
export { DEFAULT_TLB, throughputLoss, translationFigures, type TlbConfig, type TranslationFigures, type TranslationStats } from '../costs/translation.js';
export {
  eventLatency,
  LATENCY_PERCENTILES,
  RecoveryTally,
  releaseLatency,
  WORK_POLICY,
  type LatencySummary,
  type RecoverySummary,
  type RecoveryWork,
  type WorkPolicy,
} from '../costs/recovery-cost.js';
export {
  costTable,
  DEFAULT_COST_SETTINGS,
  formatCostTable,
  unitCosts,
  vmemmapPages,
  type CostEntry,
  type CostSettings,
  type Environment,
  type UnitCostKey,
  type UnitCosts,
} from '../costs/cost-table.js';
export { loadKernel, MAX_FRAMES_PER_KERNEL } from '../kernel/kernel.js';
export type { KernelWasm } from '../kernel/compile.js';
export type { ShardExecutor, ShardJob, ShardKind, ShardPlan, ShardProgress } from '../shards/plan.js';
export { fleetSize, isUniform, type FleetHosts, type ShardHosts, type UniformFleet } from './hosts.js';
