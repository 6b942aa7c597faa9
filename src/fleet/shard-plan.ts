// A fleet replay's shards as a plan for an executor (src/shards/): each job is a contiguous
// host range, named by the fleet as run (hosts, seed, poisoning, workload, translation
// model), the error stream's digest and the range.
import type { ShardPlan } from '../shards/plan.js';
import { fleetSize } from './hosts.js';
import type { FleetRun } from './pool.js';
import type { ShardResult, ShardTask } from './run.js';

export function fleetShardPlan(run: FleetRun, tasks: ShardTask[]): ShardPlan<ShardTask, ShardResult> {
  const { hosts, seed, poison, errors, workload, translation, signalLogCapacity } = run;
  const perHost = workload?.accessesPerHost ?? 0;
  return {
    kind: 'fleet',
    // The stream's contents enter the run's digest through `files`.
    identity: { hosts, seed, poison, errors, workload, translation, signalLogCapacity },
    files: errors ? [errors] : [],
    unit: perHost > 0 ? 'events' : 'hosts',
    measure: perHost > 0 ? (r) => r.hosts.reduce((n, h) => n + h.accesses, 0) : (r) => r.hosts.length,
    jobs: tasks.map((t) => ({
      key: { firstHost: t.firstHost, hostCount: fleetSize(t.hosts) },
      label: `hosts ${t.firstHost}-${t.firstHost + fleetSize(t.hosts) - 1}`,
      task: t,
      weight: fleetSize(t.hosts) * (perHost > 0 ? perHost : 1),
    })),
  };
}
