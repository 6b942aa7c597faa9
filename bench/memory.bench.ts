// Linear memory per hugepage of the replay benchmark's fleets of 1M hugepages (2 MiB and
// 1 GiB; targets 20 / 23 B healthy, 4 KiB more per poisoned 1 GiB hugepage). Then memory of
// fleet replays as the fleet grows: peak RSS of 10^4, 10^5 and 10^6 hosts with a
// fixed shard size and worker count, each size in a child process of its own (fleet-rss.ts).
// Target: flat, the largest within 1.5x of the smallest. For contrast, in the same run, the
// fleet described as a list of hosts with every host's figures kept (what grows with the
// host count). `--only=memory` runs this suite alone; it takes a few minutes.
import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FleetShard } from '../src/fleet/shard.js';
import { poisonHost } from '../src/fleet/workload.js';
import { HUGEPAGES, SEED, SHAPES, hostSpecs } from './replay.bench.js';

const HOSTS_PER_SHARD = 2000;
const WORKERS = 2;
const SIZES = [1e4, 1e5, 1e6];
const LISTED_SIZES = [1e4, 1e5];

interface RssRun {
  hosts: number;
  hostsPerShard: number;
  workers: number;
  listed: boolean;
  accesses: number;
  hostsReported: number;
  wallSeconds: number;
  peakRssMiB: number;
}

function measure(hosts: number, listed: boolean): RssRun {
  const child = fileURLToPath(new URL('./fleet-rss.ts', import.meta.url));
  const args = ['--import', 'tsx', child, String(hosts), String(HOSTS_PER_SHARD), String(WORKERS), ...(listed ? ['listed'] : [])];
  const run = JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 20 })) as RssRun;
  if (run.accesses !== hosts * 100 || run.hostsReported !== hosts) throw new Error(`fleet of ${hosts} hosts: not every host ran`);
  process.stderr.write(`  ${hosts} hosts${listed ? ' (listed, per-host figures kept)' : ''}: ${run.peakRssMiB.toFixed(0)} MiB peak RSS, ${run.wallSeconds.toFixed(1)} s\n`);
  return run;
}

/**
 * Bytes of the kernel's linear memory per hugepage after booting the fleet (every VM
 * faulted in), all of it and less an empty shard's (the replay columns and other fixed
 * buffers of a kernel instance); then per hugepage given one poisoned raw page (1%).
 */
function bytesPerHugepage(): Record<string, unknown> {
  const empty = FleetShard.create([]).heapBytes();
  const out: Record<string, unknown> = {};
  for (const shape of SHAPES) {
    const shard = FleetShard.create(hostSpecs(shape));
    const healthy = shard.heapBytes();
    let poisoned = 0;
    for (let h = 0; h < shape.hosts; h++) {
      for (const [vm, offsets] of poisonHost(shard, h, h, SEED, { fraction: 0.01 })) {
        poisoned += new Set(offsets.map((off) => Math.floor(off / 2 ** vm.hugepageShift))).size;
      }
    }
    out[shape.name] = {
      hugepages: HUGEPAGES,
      bytesPerHealthyHugepage: healthy / HUGEPAGES,
      bytesPerHealthyHugepageLessFixedBuffers: (healthy - empty) / HUGEPAGES,
      fixedBuffersBytes: empty,
      poisonedHugepages: poisoned,
      extraBytesPerPoisonedHugepage: (shard.heapBytes() - healthy) / poisoned,
    };
    process.stderr.write(`  ${shape.name}: ${(healthy / HUGEPAGES).toFixed(2)} B per healthy hugepage (${((healthy - empty) / HUGEPAGES).toFixed(2)} less fixed buffers), ${((shard.heapBytes() - healthy) / poisoned).toFixed(0)} B more per poisoned one\n`);
  }
  return out;
}

export async function benchMemory(): Promise<Record<string, unknown>> {
  const perHugepage = bytesPerHugepage();
  const streamed = SIZES.map((n) => measure(n, false));
  const listed = LISTED_SIZES.map((n) => measure(n, true));
  const rss = streamed.map((r) => r.peakRssMiB);
  return {
    perHugepage,
    hostsPerShard: HOSTS_PER_SHARD,
    workers: WORKERS,
    fleet: 'one KEEP VM of 8 x 2 MiB per host, 25% poisoned, 100 random accesses per host (bench/fleet-rss.ts)',
    streamed: streamed.map(({ hosts, peakRssMiB, wallSeconds }) => ({ hosts, peakRssMiB, wallSeconds })),
    largestOverSmallest: Math.max(...rss) / Math.min(...rss),
    listedWithPerHostKept: listed.map(({ hosts, peakRssMiB, wallSeconds }) => ({ hosts, peakRssMiB, wallSeconds })),
    targets: { largestOverSmallest: 1.5, bytesPerHealthy2MHugepage: 20, bytesPerHealthy1GHugepage: 23, extraBytesPerPoisoned1GHugepage: 4096 },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify(await benchMemory(), null, 2));
}
