// One fleet replay in a process of its own, for the memory suite (memory.bench.ts): prints
// the figures and the process's peak resident set size (worker threads included) as JSON.
//   node --import tsx bench/fleet-rss.ts HOSTS HOSTS_PER_SHARD WORKERS [listed]
// `listed` describes the fleet as a list of hosts and keeps every host's figures (what a
// caller holding the whole fleet does); otherwise the fleet is one host described once and
// the per-host figures stream past.
import { runFleet } from '../src/fleet/pool.js';
import { hostSeed, type HostSpec } from '../src/fleet/shard.js';

/** A small host: one KEEP VM of eight 2 MiB hugepages, a quarter of them poisoned. */
export const RSS_HOST: HostSpec = { hugepages: { '2M': 8 }, vms: [{ memory: 8 * 2 ** 21, hugepage: '2M', policy: 'keep' }] };
export const RSS_WORKLOAD = { pattern: 'random' as const, accessesPerHost: 100 };

const [count, perShard, workers] = process.argv.slice(2, 5).map(Number) as [number, number, number];
const listed = process.argv[5] === 'listed';
const seed = 1;
let streamed = 0;
const r = await runFleet({
  hosts: listed ? Array.from({ length: count }, (_, i) => ({ ...RSS_HOST, seed: hostSeed(seed, i) })) : { count, host: RSS_HOST, seed },
  seed,
  poison: { fraction: 0.25 },
  workload: RSS_WORKLOAD,
  hostsPerShard: perShard,
  workers,
  keepPerHost: listed,
  onHost: () => void streamed++,
});
process.stdout.write(`${JSON.stringify({
  hosts: count,
  hostsPerShard: r.hostsPerShard,
  workers: r.workers,
  listed,
  accesses: r.total.accesses,
  sigbus: r.total.sigbus,
  hostsReported: listed ? r.perHost.length : streamed,
  wallSeconds: r.wallSeconds,
  peakRssMiB: process.resourceUsage().maxRSS / 1024,
})}\n`);
