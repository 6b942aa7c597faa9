// Command-line start-up: how long `mfrsim replay --trace` takes from spawn to its first
// read of the trace (the first open of the file, noted inside the process), alternating with
// a bare `node` that opens the same file (the floor: Node's own start) and, where it builds,
// the baseline commit's command line. Wall clock, and the process's own CPU time, which other
// load on the machine barely changes. Target: <= 150 ms to the first read.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { baselineCli, CLI, median, runCli, timeToOpen, type FirstOpen } from './processes.js';

const ROUNDS = 15;

export async function benchStartup(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'mfrsim-bench-startup-'));
  try {
    const trace = join(dir, 'tiny.lackey');
    writeFileSync(trace, 'I  0023C790,2\n L 1FFEFFF7F0,8\n');
    const replay = (cli: string) => [cli, 'replay', '--trace', trace, '--json', join(dir, 'out.json')];
    const variants: Record<string, string[]> = {
      // Node itself: start, then open the file.
      node: ['-e', `require('node:fs').openSync(${JSON.stringify(trace)})`],
      mfrsim: replay(CLI),
    };
    const base = await baselineCli();
    if (base) variants.baseline = replay(base);
    const opens: Record<string, FirstOpen[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, args] of Object.entries(variants)) opens[name]!.push(await timeToOpen(args, trace));
    }
    const version: Record<string, number[]> = { mfrsim: [], ...(base ? { baseline: [] } : {}) };
    for (let round = 0; round < ROUNDS; round++) {
      version.mfrsim!.push((await runCli(CLI, ['--version'])).seconds * 1000);
      if (base) version.baseline!.push((await runCli(base, ['--version'])).seconds * 1000);
    }
    const ms = (x: number) => +x.toFixed(1);
    const firstRead = Object.fromEntries(Object.entries(opens).map(([name, runs]) => [name, {
      medianMs: ms(median(runs.map((r) => r.ms))),
      minMs: ms(Math.min(...runs.map((r) => r.ms))),
      medianSinceNodeStartMs: ms(median(runs.map((r) => r.sinceStartMs))),
      medianCpuMs: ms(median(runs.map((r) => r.cpuMs))),
    }]));
    const overCpu = (name: string) => ms(median(opens[name]!.map((r) => r.cpuMs)) - median(opens.node!.map((r) => r.cpuMs)));
    return {
      rounds: ROUNDS,
      command: 'mfrsim replay --trace T (a 2-line lackey trace): spawn -> trace file open',
      firstRead,
      // What the command line adds to Node's own start, in CPU time.
      cpuMsOverNode: { mfrsim: overCpu('mfrsim'), ...(base ? { baseline: overCpu('baseline') } : {}) },
      versionMedianMs: Object.fromEntries(Object.entries(version).map(([k, v]) => [k, ms(median(v))])),
      targets: { firstReadMs: 150 },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(`${JSON.stringify(await benchStartup(), null, 2)}\n`);
}
