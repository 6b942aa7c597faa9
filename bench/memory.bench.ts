// Memory of fleet replays as the fleet grows: peak RSS of 10^4, 10^5 and 10^6 hosts with a
// fixed shard size and worker count, each size in a child process of its own (fleet-rss.ts).
// Target: flat, the largest within 1.5x of the smallest. For contrast, in the same run, the
// fleet described as a list of hosts with every host's figures kept (what grows with the
// host count). `--only=memory` runs this suite alone; it takes a few minutes.
import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

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

export async function benchMemory(): Promise<Record<string, unknown>> {
  const streamed = SIZES.map((n) => measure(n, false));
  const listed = LISTED_SIZES.map((n) => measure(n, true));
  const rss = streamed.map((r) => r.peakRssMiB);
  return {
    hostsPerShard: HOSTS_PER_SHARD,
    workers: WORKERS,
    fleet: 'one KEEP VM of 8 x 2 MiB per host, 25% poisoned, 100 random accesses per host (bench/fleet-rss.ts)',
    streamed: streamed.map(({ hosts, peakRssMiB, wallSeconds }) => ({ hosts, peakRssMiB, wallSeconds })),
    largestOverSmallest: Math.max(...rss) / Math.min(...rss),
    listedWithPerHostKept: listed.map(({ hosts, peakRssMiB, wallSeconds }) => ({ hosts, peakRssMiB, wallSeconds })),
    targets: { largestOverSmallest: 1.5 },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify(await benchMemory(), null, 2));
}
