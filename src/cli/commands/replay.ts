// `mfrsim replay`: a recorded access trace against one simulated host, or a fleet
// description with synthetic workloads across worker threads. Prints a summary table and,
// with --json, writes the figures.
import { readFile, writeFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { z } from 'zod';
import { withThpBacking, type HostSpec, type HostStats } from '../../fleet/shard.js';
import { runFleet } from '../../fleet/pool.js';
import { fileProgress } from '../progress.js';
import { StreamedArrayJson } from '../per-host-json.js';
import type { RecoverySummary } from '../../costs/recovery-cost.js';
import { replayTrace } from '../../fleet/replay-trace.js';
import { DEFAULT_TLB, translationFigures } from '../../costs/translation.js';
import { TRACE_FORMATS, type TraceFormat } from '../../traces/index.js';
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

const region = z.object({
  address: z.number().int().nonnegative().optional(),
  length: z.number().int().positive(),
  hugepage: z.enum(['2M', '1G']),
  policy: z.enum(['default', 'keep', 'thp']),
  shared: z.boolean().optional(),
});
const vm = z.object({
  memory: z.number().int().positive().optional(),
  hugepage: z.enum(['2M', '1G']).optional(),
  policy: z.enum(['default', 'keep', 'thp']).optional(),
  regions: z.array(region).optional(),
  handlesSigbus: z.boolean().optional(),
  mceKill: z.enum(['default', 'early', 'late']).optional(),
}).refine((v) => v.regions !== undefined || v.memory !== undefined, 'a VM needs memory or regions');
const host = z.object({
  hugepages: z.object({ '2M': z.number().int().nonnegative().optional(), '1G': z.number().int().nonnegative().optional() }),
  vms: z.array(vm),
  keepVersion: z.enum(['v3', 'v4']).optional(),
  earlyKill: z.boolean().optional(),
  hgm: z.boolean().optional(),
  thpPages: z.number().int().nonnegative().optional(),
  thpSplitFailure: z.number().min(0).max(1).optional(),
});
/** A fleet description: `hosts` copies of `host`, poisoned and driven by a workload. */
const fleetSchema = z.object({
  hosts: z.number().int().positive(),
  host,
  seed: z.number().int().optional(),
  poison: z.object({ fraction: z.number().min(0).max(1) }).optional(),
  workload: z.object({
    pattern: z.enum(['random', 'sequential', 'poisoned']),
    accessesPerHost: z.number().int().nonnegative(),
    writeFraction: z.number().min(0).max(1).optional(),
  }).optional(),
});

async function loadFleet(path: string): Promise<z.infer<typeof fleetSchema>> {
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const parsed = fleetSchema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${path}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
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

/** Addresses (bigints) as hex strings. */
const bigintHex = (_k: string, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v);

async function writeJson(target: string, data: unknown): Promise<void> {
  const text = `${JSON.stringify(data, bigintHex, 2)}\n`;
  if (target === '-') process.stdout.write(text);
  else await writeFile(target, text);
}

async function replayTraceCommand(o: ReplayOptions): Promise<void> {
  let progress: ReturnType<typeof fileProgress> | undefined;
  const r = await replayTrace({
    trace: o.trace!, format: o.format, layout: o.layout, hugepage: o.hugepage, policy: o.policy, thpSplitFailure: o.thpSplitFailure,
    errors: o.errors, errorsHost: o.errorsHost, poisonFraction: o.poisonFraction, seed: o.seed,
    killOnSigbus: o.killOnSigbus,
    translation: o.tlb ? { nestedLevels: o.nested } : undefined,
    onProgress: ({ bytesRead, fileSize, events }) => {
      progress ??= fileProgress('replaying', fileSize);
      progress.update(bytesRead, events);
    },
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
  // The per-host figures of the JSON output stream through a temporary file, so a fleet of
  // any size is written in bounded memory.
  const perHost = o.json ? new StreamedArrayJson(bigintHex) : undefined;
  const r = await runFleet({
    // Each host draws its own THP split failures (seeded by its fleet index), whatever the sharding.
    hosts: { count: fleet.hosts, host, seed },
    seed,
    poison: fleet.poison,
    errors: o.errors,
    workload: fleet.workload,
    translation: o.tlb ? { nestedLevels: o.nested } : undefined,
    workers: o.workers,
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
    process.stdout.write(`${summary(`fleet replay of ${o.fleet} (${fleet.hosts} hosts)`, r.total, [
      recoveryRow(r.recovery),
      ...translationRows(r.total, o),
      ['throughput', `${Math.round(eventsPerSecond).toLocaleString('en-US')} events/s end to end (${r.wallSeconds.toFixed(2)} s)`],
    ])}\n`);
  }
  if (o.json && perHost) {
    await perHost.finish(o.json === '-' ? process.stdout : o.json, {
      ...r.total, eventsPerSecond, wallSeconds: r.wallSeconds, recovery: r.recovery, perHost: null,
      signalLog: r.signalLog, signalsDropped: r.signalsDropped,
    }, 'perHost');
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
    .option('--workers <n>', 'worker threads for --fleet (default: one per core; at most one per core and per shard; a single trace is one address space)', nonNegativeInt)
    .option('--tlb', 'run the translation cost model (TLB and page walks) on the accesses')
    .option('--nested <levels>', 'with --tlb: the host walk depth of a virtualised guest (0 native, 2-4)', nonNegativeInt, 0)
    .option('--json <file>', 'write the figures as JSON ("-": stdout only)')
    .action(async (o: ReplayOptions, cmd: Command) => {
      if ((o.trace === undefined) === (o.fleet === undefined)) throw new Error('replay needs exactly one of --trace or --fleet');
      if (o.thpSplitFailure !== undefined && o.policy !== 'thp') throw new Error('--thp-split-failure applies to --policy thp only');
      await (o.trace ? replayTraceCommand(o) : replayFleetCommand(o, cmd.getOptionValueSource('policy') === 'cli'));
    });
}
