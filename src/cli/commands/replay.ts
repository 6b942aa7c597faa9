// `mfrsim replay`: a recorded access trace against one simulated host, or a fleet
// description with synthetic workloads across worker threads. Prints a summary table and,
// with --json, writes the figures.
// A trace replay and a fleet replay load only their own modules (the fleet's worker pool
// and zod schema are not needed to replay a trace).
import { writeFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { HostSpec, HostStats } from '../../fleet/shard.js';
import type { RecoverySummary } from '../../costs/recovery-cost.js';
import { DEFAULT_TLB, translationFigures } from '../../costs/translation.js';
import { TRACE_FORMATS, type TraceFormat } from '../../traces/types.js';
import type { HugepageSize } from '../../host/types.js';

interface ReplayOptions {
  trace?: string;
  fleet?: string;
  format: TraceFormat | 'auto';
  errors?: string;
  errorsHost: number | 'auto';
  layout?: string;
  policy: 'default' | 'keep' | 'hgm' | 'thp';
  thpSplitFailure?: number;
  hugepage: HugepageSize;
  poisonFraction?: number;
  seed: number;
  killOnSigbus?: boolean;
  workers?: number;
  tlb?: boolean;
  nested: number;
  json?: string;
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('must be a non-negative integer.');
  return n;
}

function fraction(value: string): number {
  const n = Number(value);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError('must be a number from 0 to 1.');
  return n;
}

const GiB = 2 ** 30;

/** The translation cost model's lines of the summary (when it ran). */
function translationRows(s: HostStats, o: ReplayOptions): [string, string][] {
  if (!o.tlb) return [];
  const f = translationFigures(s.translation, DEFAULT_TLB.cyclesPerAccess);
  return [
    ['TLB walks', `${f.walksPerKiloAccess.toFixed(1)} per 1,000 accesses (${f.walkCyclesPerAccess.toFixed(1)} cycles per access${o.nested ? `, nested ${o.nested} levels` : ''})`],
    ['walk share of cycles', `${(f.walkShare * 100).toFixed(2)}% (at ${DEFAULT_TLB.cyclesPerAccess} cycles per access otherwise)`],
  ];
}

/** The recovery cost model's line of the summary. */
function recoveryRow(r: RecoverySummary): [string, string] {
  const us = (ns: number) => `${(ns / 1000).toFixed(1)} us`;
  return ['recovery latency', r.events === 0 ? 'no recovery events'
    : `p50 ${us(r.p50Ns)}, p99 ${us(r.p99Ns)}, max ${us(r.maxNs)} over ${r.events} events (${us(r.totalNs)} in all)`];
}

/** The summary printed for people: one figure per line. */
function summary(title: string, s: HostStats, extra: [string, string][]): string {
  const rows: [string, string][] = [
    ['accesses', s.accesses.toLocaleString('en-US')],
    ['completed', s.ok.toLocaleString('en-US')],
    ['SIGBUS', s.sigbus.toLocaleString('en-US')],
    ['  BUS_MCEERR_AR', s.sigbusByCode.BUS_MCEERR_AR.toLocaleString('en-US')],
    ['  BUS_MCEERR_AO', s.sigbusByCode.BUS_MCEERR_AO.toLocaleString('en-US')],
    ['  BUS_ADRERR', s.sigbusByCode.BUS_ADRERR.toLocaleString('en-US')],
    ['  SI_KERNEL', s.sigbusByCode.SI_KERNEL.toLocaleString('en-US')],
    ['processes killed', String(s.killed)],
    ['raw pages poisoned', s.rawPagesPoisoned.toLocaleString('en-US')],
    ['hugepages lost whole', s.hugepagesLost.toLocaleString('en-US')],
    ['memory lost', `${(s.bytesLost / GiB).toFixed(3)} GiB (${s.bytesLost.toLocaleString('en-US')} bytes)`],
    ['memory failures', `${s.memoryFailure.total} (recovered ${s.memoryFailure.recovered}, failed ${s.memoryFailure.failed}, ignored ${s.memoryFailure.ignored})`],
    ['page-table pages (splits)', s.pageTablePages.toLocaleString('en-US')],
    ['hugepages dissolved', `${s.dissolves} (${s.vmemmapPagesRestored.toLocaleString('en-US')} vmemmap pages restored)`],
    ['repeated consumption', `${s.repeatedConsumption.toLocaleString('en-US')} loads of known-bad pages`],
    // THP memory, where the host has any: folios still usable, and in-use ones split to 4 KiB.
    ...(s.thp.total > 0 ? [['THP folios', `${s.thp.total.toLocaleString('en-US')} (${s.thp.split.toLocaleString('en-US')} split to 4 KiB, ${s.thp.free.toLocaleString('en-US')} free)`] as [string, string]] : []),
    ...extra,
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return [title, ...rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`)].join('\n');
}

async function writeJson(target: string, data: unknown): Promise<void> {
  const text = `${JSON.stringify(data, (_k, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v), 2)}\n`;
  if (target === '-') process.stdout.write(text);
  else await writeFile(target, text);
}

async function replayTraceCommand(o: ReplayOptions): Promise<void> {
  const { replayTrace } = await import('../../fleet/replay-trace.js');
  const fileProgress = process.stderr.isTTY ? (await import('../progress.js')).fileProgress : undefined;
  let progress: { update(bytesRead: number, events: number): void; stop(): void } | undefined;
  const r = await replayTrace({
    trace: o.trace!, format: o.format, layout: o.layout, hugepage: o.hugepage, policy: o.policy, thpSplitFailure: o.thpSplitFailure,
    errors: o.errors, errorsHost: o.errorsHost, poisonFraction: o.poisonFraction, seed: o.seed,
    killOnSigbus: o.killOnSigbus,
    translation: o.tlb ? { nestedLevels: o.nested } : undefined,
    onProgress: fileProgress && (({ bytesRead, fileSize, events }) => {
      progress ??= fileProgress('replaying', fileSize);
      progress.update(bytesRead, events);
    }),
  });
  progress?.stop();
  const regions = r.layout.regions;
  const mapped = regions.reduce((n, x) => n + x.length, 0);
  const json = {
    accesses: r.accesses, ok: r.ok, sigbus: r.sigbus, sigbusByCode: r.sigbusByCode, bytesLost: r.bytesLost,
    hugepagesLost: r.hugepagesLost, rawPagesPoisoned: r.rawPagesPoisoned, processKilled: r.processKilled,
    eventsPerSecond: r.eventsPerSecond, replaySeconds: r.replaySeconds, trace: r.trace, format: r.format,
    layout: r.layout, relocation: r.relocation, errors: r.errors, memoryFailure: r.host.memoryFailure, faultIns: r.host.faultIns, thp: r.host.thp,
    signalLog: r.signalLog, signalsDropped: r.signalsDropped, recovery: r.recovery,
  };
  if (o.json !== '-') {
    process.stdout.write(`${summary(`replay of ${r.trace} (${r.format})`, r.host, [
      ['layout', `${regions.length} region(s), ${(mapped / GiB).toFixed(2)} GiB of ${o.policy === 'thp' ? '2M THP folios' : `${regions[0]!.hugepageSize} hugepages`}, policy ${o.policy === 'hgm' || o.policy === 'thp' ? o.policy : regions[0]!.policy}`],
      ['UEs applied', o.errors
        ? `${r.errors.applied} of stream host ${r.errors.host} (${r.errors.outsideHost} outside the pools, ${r.errors.corrected} CEs skipped)`
        : `${r.errors.applied} (--poison-fraction)`],
      recoveryRow(r.recovery),
      ...translationRows(r.host, o),
      ['throughput', `${Math.round(r.eventsPerSecond).toLocaleString('en-US')} events/s (${r.replaySeconds.toFixed(2)} s)`],
    ])}\n`);
  }
  if (o.json) await writeJson(o.json, json);
}

async function replayFleetCommand(o: ReplayOptions, policyGiven: boolean): Promise<void> {
  const [{ loadFleet }, { runFleet }, { hostSeed, withThpBacking }] = await Promise.all([
    import('../../fleet/description.js'), import('../../fleet/pool.js'), import('../../fleet/shard.js'),
  ]);
  const fleet = await loadFleet(o.fleet!);
  // --policy on the command line overrides every VM's, to compare policies on one fleet;
  // hgm is a host option that splits the mappings of plain HugeTLB memfds; thp backs the
  // VMs with anonymous THP over the same physical memory.
  const vmPolicy: 'keep' | 'default' = o.policy === 'keep' ? 'keep' : 'default';
  const overridden: HostSpec = {
    ...fleet.host,
    hgm: o.policy === 'hgm',
    vms: fleet.host.vms.map((v) => ({ ...v, policy: vmPolicy, regions: v.regions?.map((r) => ({ ...r, policy: vmPolicy })) })),
  };
  const host: HostSpec = !policyGiven ? fleet.host
    : o.policy === 'thp' ? { ...withThpBacking(fleet.host), thpSplitFailure: o.thpSplitFailure ?? fleet.host.thpSplitFailure }
      : overridden;
  const seed = fleet.seed ?? o.seed;
  const showProgress = process.stderr.isTTY;
  const r = await runFleet({
    // Each host draws its own THP split failures, whatever the sharding.
    hosts: Array.from({ length: fleet.hosts }, (_, i) => ({ ...host, seed: hostSeed(seed, i) })),
    seed,
    poison: fleet.poison,
    errors: o.errors,
    workload: fleet.workload,
    translation: o.tlb ? { nestedLevels: o.nested } : undefined,
    workers: o.workers,
    onShardDone: showProgress ? (done, total) => process.stderr.write(`\rreplaying fleet: ${done}/${total} shards`) : undefined,
  });
  if (showProgress) process.stderr.write('\n');
  const eventsPerSecond = r.total.accesses / Math.max(r.wallSeconds, 1e-9);
  if (o.json !== '-') {
    process.stdout.write(`${summary(`fleet replay of ${o.fleet} (${fleet.hosts} hosts)`, r.total, [
      recoveryRow(r.recovery),
      ...translationRows(r.total, o),
      ['throughput', `${Math.round(eventsPerSecond).toLocaleString('en-US')} events/s end to end (${r.wallSeconds.toFixed(2)} s)`],
    ])}\n`);
  }
  if (o.json) {
    await writeJson(o.json, {
      ...r.total, eventsPerSecond, wallSeconds: r.wallSeconds, recovery: r.recovery, perHost: r.perHost,
      signalLog: r.signalLog, signalsDropped: r.signalsDropped,
    });
  }
}

export function registerReplayCommand(program: Command): void {
  program
    .command('replay')
    .description('replay an access trace (or a fleet description) against simulated hosts and report what recovery cost')
    .option('--trace <file>', 'access trace (lackey, Ramulator, DRAMsim3, ChampSim, perf, mfrsim; plain or .xz)')
    .option('--fleet <file>', 'fleet description (JSON: hosts, host, poison, workload) instead of a trace')
    .addOption(new Option('--format <format>', 'trace format').choices(['auto', ...TRACE_FORMATS]).default('auto'))
    .option('--errors <file>', 'mfrsim error stream (mfrsim errors gen/import): its UEs are applied first (with --fleet, stream host h hits fleet host h)')
    .option('--errors-host <n|auto>', 'which host of the error stream is this one ("auto": the first with a UE)', (v: string) => (v === 'auto' ? 'auto' : nonNegativeInt(v)), 0)
    .option('--layout <file>', 'address-space layout (JSON, docs/formats.md); default: the touched hugepages')
    .addOption(new Option('--policy <policy>', 'recovery policy: default (hard offline), keep (MFD_MF_KEEP_UE_MAPPED), hgm (split to 4 KiB) or thp (anonymous THP, split to 4 KiB); with --fleet it overrides every VM\'s').choices(['default', 'keep', 'hgm', 'thp']).default('default'))
    .option('--thp-split-failure <p>', 'with --policy thp: probability that splitting a poisoned THP fails (it is pinned); default 0, or the fleet file\'s', fraction)
    .addOption(new Option('--hugepage <size>', 'hugepage size of the default layout').choices(['2M', '1G']).default('2M'))
    .option('--poison-fraction <f>', 'share of hugepages given one poisoned raw page before the run', fraction)
    .option('--seed <s>', 'random seed', nonNegativeInt, 1)
    .option('--kill-on-sigbus', 'the traced process has no SIGBUS handler and dies of the first one')
    .option('--workers <n>', 'worker threads for --fleet (default: one per core; a single trace is one address space)', nonNegativeInt)
    .option('--tlb', 'run the translation cost model (TLB and page walks) on the accesses')
    .option('--nested <levels>', 'with --tlb: the host walk depth of a virtualised guest (0 native, 2-4)', nonNegativeInt, 0)
    .option('--json <file>', 'write the figures as JSON ("-": stdout only)')
    .action(async (o: ReplayOptions, cmd: Command) => {
      if ((o.trace === undefined) === (o.fleet === undefined)) throw new Error('replay needs exactly one of --trace or --fleet');
      if (o.thpSplitFailure !== undefined && o.policy !== 'thp') throw new Error('--thp-split-failure applies to --policy thp only');
      await (o.trace ? replayTraceCommand(o) : replayFleetCommand(o, cmd.getOptionValueSource('policy') === 'cli'));
    });
}
