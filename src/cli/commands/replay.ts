// `mfrsim replay`: a recorded access trace against one simulated host, or a fleet
// description with synthetic workloads across worker threads. Prints a summary table and,
// with --json, writes the figures.
// A trace replay and a fleet replay load only their own modules (the fleet's worker pool
// and zod schema are not needed to replay a trace).
import { Command, InvalidArgumentError, Option } from 'commander';
import type { FleetDescription } from '../../fleet/description.js';
import type { HostSpec, HostStats } from '../../fleet/shard.js';
import { fractionFlag, integerFlag, seedFlag } from '../flags.js';
import { addHelpExamples } from '../help.js';
import { formatParagraph, formatTable, type TableColumn } from '../../format/table.js';
import { formatBytes, formatCount, formatDuration, formatNumber, formatPercent } from '../../format/units.js';
import { accessOutcomes } from '../outcomes.js';
import { checkInputs, checkOutputs, writeOutputs } from '../output.js';
import type { RecoverySummary } from '../../costs/recovery-cost.js';
import type { Environment } from '../../costs/cost-table.js';
import type { TraceReplayResult } from '../../fleet/replay-trace.js';
import { DEFAULT_TLB, translationFigures } from '../../costs/translation.js';
import { TRACE_FORMATS, type TraceFormat } from '../../traces/types.js';
import { UsageError } from '../usage-error.js';
import type { HugepageSize } from '../../host/types.js';
import { kernelBehaviour } from '../../host/kernel-behaviour.js';
import type { TracePolicy } from '../../fleet/trace-batch.js';
import { addQueueOptions, openQueue, type QueueFlags, type QueueSession } from '../queue.js';

interface ReplayOptions extends QueueFlags {
  trace?: string;
  traces?: string;
  fleet?: string;
  format: TraceFormat | 'auto';
  errors?: string;
  errorsHost: number | 'auto';
  layout?: string;
  /** The first policy of --policy, and all of them (a list with --traces only). */
  policy: TracePolicy;
  policies: TracePolicy[];
  thpSplitFailure?: number;
  hugepage: HugepageSize;
  poisonFraction?: number;
  seed: number;
  killOnSigbus?: boolean;
  workers?: number;
  hostsPerShard?: number;
  tlb?: boolean;
  nested: number;
  json?: string;
  hvo?: 'on' | 'off';
  environment?: Environment;
  salvage?: boolean;
  csv?: string;
}

/** The options as commander parses them (--policy: a list). */
type ReplayFlags = Omit<ReplayOptions, 'policy' | 'policies'> & { policy: TracePolicy[] };

const POLICIES: readonly TracePolicy[] = ['default', 'keep', 'hgm', 'thp'];

function policyList(value: string): TracePolicy[] {
  const names = value.split(',').map((n) => n.trim());
  const unknown = names.filter((n) => !(POLICIES as string[]).includes(n));
  if (unknown.length > 0) throw new InvalidArgumentError(`unknown policy ${unknown.join(', ')}; choose from ${POLICIES.join(', ')}.`);
  if (new Set(names).size !== names.length) throw new InvalidArgumentError('a policy is listed twice.');
  return names as TracePolicy[];
}

/** The translation cost model's lines of the summary (when it ran). */
function translationRows(s: HostStats, o: ReplayOptions): [string, string][] {
  if (!o.tlb) return [];
  const f = translationFigures(s.translation, DEFAULT_TLB.cyclesPerAccess);
  return [
    ['TLB walks', `${formatNumber(f.walksPerKiloAccess)} per 1,000 accesses (${formatNumber(f.walkCyclesPerAccess)} cycles per access${o.nested ? `, nested ${o.nested} levels` : ''})`],
    ['walk share of cycles', `${formatPercent(f.walkShare)} (at ${formatCount(DEFAULT_TLB.cyclesPerAccess)} cycles per access otherwise)`],
  ];
}

/** The recovery cost model's lines of the summary: memory_failure latency, and release latency (deferred dissolves). */
function recoveryRows(r: RecoverySummary): [string, string][] {
  const us = formatDuration;
  return [
    ['memory_failure latency', r.events === 0 ? 'no recovery events'
      : `p50 ${us(r.p50Ns)}, p99 ${us(r.p99Ns)}, max ${us(r.maxNs)} over ${formatCount(r.events)} events (${us(r.totalNs)} in all)`],
    ['release latency', r.release.events === 0 ? 'no hugepage dissolved at release'
      : `p50 ${us(r.release.p50Ns)}, p99 ${us(r.release.p99Ns)}, max ${us(r.release.maxNs)} over ${formatCount(r.release.dissolves)} dissolves (${us(r.release.totalNs)} in all)`],
  ];
}

/** The cost settings given on the command line (they override a fleet file's). */
function costFlags(o: ReplayOptions): { hvo?: boolean; environment?: Environment } {
  return { ...(o.hvo !== undefined ? { hvo: o.hvo === 'on' } : {}), ...(o.environment !== undefined ? { environment: o.environment } : {}) };
}

/** The summary's columns: a figure's name, and the figure with its breakdown, which wraps. */
const SUMMARY_COLUMNS: TableColumn[] = [{ header: 'figure' }, { header: 'value', wrap: true }];

/** The summary printed for people: one figure per line. */
function summary(title: string, s: HostStats, extra: [string, string][]): string {
  const o = accessOutcomes(s);
  const rows: [string, string][] = [
    ['accesses', formatCount(s.accesses)],
    ['  completed', formatCount(o.completed)],
    ['  signalled', formatCount(o.signalled)],
    ['  outside the layout', formatCount(o.outsideLayout)],
    ['  process already dead', formatCount(o.deadProcess)],
    ['SIGBUS', formatCount(s.sigbus)],
    ['  BUS_MCEERR_AR', formatCount(s.sigbusByCode.BUS_MCEERR_AR)],
    ['  BUS_MCEERR_AO', formatCount(s.sigbusByCode.BUS_MCEERR_AO)],
    ['  BUS_ADRERR', formatCount(s.sigbusByCode.BUS_ADRERR)],
    ['  SI_KERNEL', formatCount(s.sigbusByCode.SI_KERNEL)],
    ['processes killed', formatCount(s.killed)],
    ['raw pages poisoned', formatCount(s.rawPagesPoisoned)],
    ['hugepages lost whole', formatCount(s.hugepagesLost)],
    ['memory lost', formatBytes(s.bytesLost)],
    ['memory failures', `${formatCount(s.memoryFailure.total)} (recovered ${formatCount(s.memoryFailure.recovered)}, failed ${formatCount(s.memoryFailure.failed)}, ` +
      `ignored ${formatCount(s.memoryFailure.ignored)})`],
    ['page-table pages (splits)', formatCount(s.pageTablePages)],
    ['hugepages dissolved', `${formatCount(s.dissolves)} (${formatCount(s.vmemmapPagesRestored)} vmemmap pages restored)`],
    ['repeated consumption', `${formatCount(s.repeatedConsumption)} loads of known-bad pages`],
    ['refcount underflows', `${formatCount(s.refcountUnderflows)} (KEEP v3 releases that dropped more references than they held)`],
    // THP memory, where the host has any: folios still usable, and in-use ones split to 4 KiB.
    ...(s.thp.total > 0 ? [['THP folios', `${formatCount(s.thp.total)} (${formatCount(s.thp.split)} split to 4 KiB, ${formatCount(s.thp.free)} free)`] as [string, string]] : []),
    ...extra,
  ];
  return `${formatParagraph(title)}\n${formatTable(SUMMARY_COLUMNS, rows, { header: false, indent: 2 })}`;
}

/** Addresses (bigints) as hex strings. */
const bigintHex = (_k: string, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v);

/** The JSON output's text (addresses in hex). */
export function jsonText(data: unknown): string {
  return `${JSON.stringify(data, bigintHex, 2)}\n`;
}

/**
 * An error stream whose writer never finished is refused (exit 1) unless --salvage reads its
 * complete records; with --salvage the summary says how many it got.
 */
async function salvageNote(o: ReplayOptions): Promise<string | null> {
  if (!o.errors) return null;
  const { inspectErrorStream } = await import('../../errors/format.js');
  const check = await inspectErrorStream(o.errors);
  if (check.complete) return null;
  if (!o.salvage) throw new Error(`${o.errors}: ${check.problem}${check.header.recordCount === null ? '; --salvage reads the complete records' : ''}`);
  return `salvaged ${formatCount(check.records)} records of the unfinished stream ${o.errors} (${check.problem})`;
}

/** The figures of one trace's replay, as --json writes them. */
export function traceJson(r: TraceReplayResult) {
  return {
    accesses: r.accesses, outcomes: accessOutcomes(r.host), ok: r.ok, sigbus: r.sigbus, sigbusByCode: r.sigbusByCode, bytesLost: r.bytesLost,
    hugepagesLost: r.hugepagesLost, rawPagesPoisoned: r.rawPagesPoisoned, processKilled: r.processKilled,
    eventsPerSecond: r.eventsPerSecond, replaySeconds: r.replaySeconds, trace: r.trace, format: r.format,
    layout: r.layout, relocation: r.relocation, errors: r.errors, memoryFailure: r.host.memoryFailure, faultIns: r.host.faultIns, thp: r.host.thp,
    signalLog: r.signalLog, signalsDropped: r.signalsDropped, recovery: r.recovery, salvaged: r.salvaged,
    refcountUnderflows: r.host.refcountUnderflows, kernel: kernelBehaviour(),
  };
}

async function replayTraceCommand(o: ReplayOptions): Promise<void> {
  const streamNote = await salvageNote(o);
  const { replayTrace } = await import('../../fleet/replay-trace.js');
  const fileProgress = process.stderr.isTTY ? (await import('../progress.js')).fileProgress : undefined;
  let progress: { update(bytesRead: number, events: number): void; stop(): void } | undefined;
  const r = await replayTrace({
    trace: o.trace!, format: o.format, layout: o.layout, hugepage: o.hugepage, policy: o.policy, thpSplitFailure: o.thpSplitFailure,
    errors: o.errors, errorsHost: o.errorsHost, poisonFraction: o.poisonFraction, seed: o.seed,
    killOnSigbus: o.killOnSigbus, salvage: o.salvage, ...costFlags(o),
    translation: o.tlb ? { nestedLevels: o.nested } : undefined,
    onProgress: fileProgress && (({ bytesRead, fileSize, events }) => {
      progress ??= fileProgress('replaying', fileSize);
      progress.update(bytesRead, events);
    }),
  });
  progress?.stop();
  const regions = r.layout.regions;
  const mapped = regions.reduce((n, x) => n + x.length, 0);
  const notes = [
    ...(r.salvaged ? [`salvaged ${formatCount(r.salvaged.events)} events of the unfinished trace ${r.trace} (reading stopped at ${r.salvaged.stoppedAt})`] : []),
    ...(streamNote ? [streamNote] : []),
  ];
  for (const note of notes) process.stderr.write(`${note}\n`);
  const json = traceJson(r);
  if (o.json !== '-') {
    process.stdout.write(`${summary(`replay of ${r.trace} (${r.format})`, r.host, [
      ['layout', `${regions.length} region(s), ${formatBytes(mapped)} of ${o.policy === 'thp' ? '2M THP folios' : `${regions[0]!.hugepageSize} hugepages`}, policy ${o.policy === 'hgm' || o.policy === 'thp' ? o.policy : regions[0]!.policy}`],
      o.errors
        ? ['error records', `${formatCount(r.errors.records)}: ${formatCount(r.errors.applied)} UEs of stream host ${r.errors.host} applied, ` +
          `${formatCount(r.errors.corrected)} CEs skipped, ${formatCount(r.errors.outsideHost)} outside the pools, ` +
          `${formatCount(r.errors.otherHosts)} of other hosts`]
        : ['UEs applied', `${formatCount(r.errors.applied)} (--poison-fraction)`],
      ...recoveryRows(r.recovery),
      ...translationRows(r.host, o),
      ['throughput', `${formatCount(r.eventsPerSecond)} events/s (${formatDuration(r.replaySeconds * 1e9)})`],
    ])}\n`);
  }
  if (o.json) await writeOutputs([{ path: o.json, text: jsonText(json) }]);
}

async function replayFleetCommand(o: ReplayOptions, policyGiven: boolean): Promise<void> {
  const [{ loadFleet }, { withThpBacking }] = await Promise.all([import('../../fleet/description.js'), import('../../fleet/shard.js')]);
  const fleet = await loadFleet(o.fleet!);
  const streamNote = await salvageNote(o);
  if (streamNote) process.stderr.write(`${streamNote}\n`);
  // --policy on the command line overrides every VM's, to compare policies on one fleet;
  // hgm is a host option that splits the mappings of plain HugeTLB memfds; thp backs the
  // VMs with anonymous THP over the same physical memory.
  const vmPolicy: 'keep' | 'default' = o.policy === 'keep' ? 'keep' : 'default';
  const overridden: HostSpec = {
    ...fleet.host,
    hgm: o.policy === 'hgm',
    vms: fleet.host.vms.map((v) => ({ ...v, policy: vmPolicy, regions: v.regions?.map((r) => ({ ...r, policy: vmPolicy })) })),
  };
  const chosen: HostSpec = !policyGiven ? fleet.host
    : o.policy === 'thp' ? { ...withThpBacking(fleet.host), thpSplitFailure: o.thpSplitFailure ?? fleet.host.thpSplitFailure }
      : overridden;
  const host: HostSpec = { ...chosen, ...costFlags(o) };
  const seed = fleet.seed ?? o.seed;
  const queue = await openQueue(o, 'fleet');
  try {
    await fleetRun(o, fleet, host, seed, queue);
    await queue?.finished();
  } finally {
    await queue?.close();
  }
}

async function fleetRun(o: ReplayOptions, fleet: FleetDescription, host: HostSpec, seed: number, queue: QueueSession | undefined): Promise<void> {
  const [{ runFleet }, { StreamedArrayJson }] = await Promise.all([import('../../fleet/pool.js'), import('../per-host-json.js')]);
  const showProgress = process.stderr.isTTY && queue === undefined;
  // The per-host figures of the JSON output stream through a temporary file, so a fleet of
  // any size is written in bounded memory.
  const perHost = o.json ? new StreamedArrayJson(bigintHex) : undefined;
  const r = await runFleet({
    // Each host draws its own THP split failures (seeded by its fleet index), whatever the sharding.
    hosts: { count: fleet.hosts, host, seed },
    seed,
    poison: fleet.poison,
    errors: o.errors,
    salvage: o.salvage,
    workload: fleet.workload,
    translation: o.tlb ? { nestedLevels: o.nested } : undefined,
    workers: o.workers,
    // On a queue, enough shards to spread over many workers.
    hostsPerShard: o.hostsPerShard ?? (queue ? Math.max(1, Math.ceil(fleet.hosts / 64)) : undefined),
    executor: queue?.executor,
    keepPerHost: false,
    onHost: perHost ? (_host, stats) => perHost.push(stats) : undefined,
    onNotice: (message) => process.stderr.write(`mfrsim: ${message}\n`),
    onShardDone: showProgress ? (done, total) => process.stderr.write(`\rreplaying fleet: ${done}/${total} shards`) : undefined,
  }).catch((err: unknown) => {
    perHost?.discard();
    throw err;
  });
  if (showProgress) process.stderr.write('\n');
  const eventsPerSecond = r.total.accesses / Math.max(r.wallSeconds, 1e-9);
  if (o.json !== '-') {
    const e = r.errors;
    process.stdout.write(`${summary(`fleet replay of ${o.fleet} (${formatCount(fleet.hosts)} hosts)`, r.total, [
      ...(o.errors
        ? [['error records', `${formatCount(e.records)}: ${formatCount(e.applied)} UEs applied, ${formatCount(e.corrected)} CEs skipped, ` +
          `${formatCount(e.outsidePools)} outside the pools, ${formatCount(e.outsideFleet)} of hosts beyond the fleet`] as [string, string]]
        : []),
      ...recoveryRows(r.recovery),
      ...translationRows(r.total, o),
      ['throughput', `${formatCount(eventsPerSecond)} events/s end to end (${formatDuration(r.wallSeconds * 1e9)})`],
    ])}\n`);
  }
  if (o.json && perHost) {
    await perHost.finish(o.json === '-' ? process.stdout : o.json, {
      ...r.total, outcomes: accessOutcomes(r.total), errors: r.errors, eventsPerSecond, wallSeconds: r.wallSeconds, recovery: r.recovery, perHost: null,
      signalLog: r.signalLog, signalsDropped: r.signalsDropped, kernel: kernelBehaviour(host.keepVersion),
    }, 'perHost');
  }
}

export function registerReplayCommand(program: Command): void {
  const cmd = program
    .command('replay')
    .description('replay an access trace (or a fleet description) against simulated hosts and report what recovery cost')
    .option('--trace <file>', 'access trace (lackey, Ramulator, DRAMsim3, ChampSim, perf, mfrsim; plain or .xz)')
    .option('--traces <glob>', 'a batch of traces (a quoted glob, e.g. "traces/*.lackey"), each replayed under every --policy')
    .option('--fleet <file>', 'fleet description (JSON: hosts, host, poison, workload) instead of a trace')
    .addOption(new Option('--format <format>', 'trace format').choices(['auto', ...TRACE_FORMATS]).default('auto'))
    .option('--errors <file>', 'mfrsim error stream (mfrsim errors gen/import): its UEs are applied first (with --fleet, stream host h hits fleet host h)')
    .option('--errors-host <n|auto>', 'which host of the error stream is this one ("auto": the first with a UE)', (v: string) => (v === 'auto' ? 'auto' : integerFlag(0, 0xffffffff)(v)), 0)
    .option('--layout <file>', 'address-space layout (JSON, docs/formats.md); default: the touched hugepages')
    .addOption(new Option('--policy <policy>', 'recovery policy: default (hard offline), keep (MFD_MF_KEEP_UE_MAPPED), hgm (split to 4 KiB) or thp (anonymous THP, split to 4 KiB); with --fleet it overrides every VM\'s; with --traces a comma-separated list').argParser(policyList).default(['default'], 'default'))
    .option('--thp-split-failure <p>', 'with --policy thp: probability that splitting a poisoned THP fails (it is pinned); default 0, or the fleet file\'s', fractionFlag)
    .addOption(new Option('--hugepage <size>', 'hugepage size of the default layout').choices(['2M', '1G']).default('2M'))
    .option('--poison-fraction <f>', 'share of hugepages given one poisoned raw page before the run', fractionFlag)
    .option('--seed <s>', 'random seed, 0..2^32-1', seedFlag, 1)
    .option('--kill-on-sigbus', 'the traced process has no SIGBUS handler and dies of the first one')
    .option('--workers <n>', 'worker threads for --fleet and --traces (default: one per core; at most one per core and per shard; a single trace is one address space)', integerFlag(0, 1024))
    .option('--hosts-per-shard <n>', 'with --fleet: hosts per shard (default: an even split over the workers); figures do not depend on it', integerFlag(1, 1e7))
    .option('--tlb', 'run the translation cost model (TLB and page walks) on the accesses')
    .option('--nested <levels>', 'with --tlb: the host walk depth of a virtualised guest (0 native, 2-4)', integerFlag(0, 4), 0)
    .option('--json <file>', 'write the figures as JSON ("-": stdout only)')
    .addOption(new Option('--hvo <on|off>', 'hugetlb vmemmap optimisation on the hosts: dissolves re-allocate vmemmap first (recovery cost model; default on, or the fleet file\'s)').choices(['on', 'off']))
    .addOption(new Option('--environment <where>', 'where the host kernel runs, for the recovery cost model (default bare-metal, or the fleet file\'s)').choices(['bare-metal', 'vm']))
    .option('--salvage', 'read what an mfrsim trace or error stream that was never finished holds, instead of refusing it')
    .option('--csv <file>', 'with --traces: one row per trace and policy ("-": stdout only)');
  addQueueOptions(cmd)
    .action(async (flags: ReplayFlags, cmd: Command) => {
      const o: ReplayOptions = { ...flags, policy: flags.policy[0]!, policies: flags.policy };
      if ([o.trace, o.traces, o.fleet].filter((x) => x !== undefined).length !== 1) throw new UsageError('replay needs exactly one of --trace, --traces or --fleet');
      if (o.policies.length > 1 && !o.traces) throw new UsageError('--policy takes a list with --traces only');
      if (o.queue && o.trace) throw new UsageError('--queue applies to --fleet and --traces (a single trace is one shard)');
      if (o.csv && !o.traces) throw new UsageError('--csv applies to --traces only');
      if (o.thpSplitFailure !== undefined && !o.policies.includes('thp')) throw new UsageError('--thp-split-failure applies to --policy thp only');
      await checkInputs([
        { flag: '--trace', path: o.trace }, { flag: '--fleet', path: o.fleet }, { flag: '--errors', path: o.errors }, { flag: '--layout', path: o.layout },
      ]);
      await checkOutputs([{ flag: '--json', path: o.json }, { flag: '--csv', path: o.csv }], [o.trace, o.fleet, o.errors, o.layout]);
      if (o.traces) await (await import('./replay-traces.js')).replayTracesCommand(o);
      else await (o.trace ? replayTraceCommand(o) : replayFleetCommand(o, cmd.getOptionValueSource('policy') === 'cli'));
    });
  addHelpExamples(cmd, [
    ['mfrsim replay --trace prog.lackey --policy keep --errors fleet.mfrerr --errors-host auto', "a Valgrind lackey trace on a host that an error stream's UEs hit"],
    ['mfrsim replay --fleet examples/fleet-1g.json --errors fleet.mfrerr --policy hgm --json hgm.json', 'a fleet of 1,000 hosts under HGM, the figures as JSON'],
    ['mfrsim replay --traces "traces/*.lackey" --policy default,keep,hgm --csv batch.csv', 'every trace of a batch under three policies, one CSV row each'],
  ]);
}
