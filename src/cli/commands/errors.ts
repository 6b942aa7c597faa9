// `mfrsim errors gen` and `mfrsim errors import`: memory-error streams in mfrsim's binary
// format (docs/error-streams.md), generated from the DRAM fault model or the incident
// shortcut, or imported from rasdaemon, mcelog, kernel logs and SmartMem-style CSV.
import { readFile } from 'node:fs/promises';
import { SingleBar } from 'cli-progress';
import { Command, Option } from 'commander';
import { computeCalibration, formatCalibration, type CalibrationReport, type FleetTally } from '../../errors/calibration.js';
import { deepMerge, parseGeneratorConfig, type GeneratorConfig, type GeneratorConfigInput } from '../../errors/config.js';
import { DEFAULT_PROFILE, PROFILE_NAMES, type ProfileName } from '../../errors/profiles.js';
import { LOG_FORMATS, type LogFormat } from '../../errors/detect.js';
import { HOURS_PER_YEAR } from '../../errors/faults.js';
import { ErrorStreamWriter, STREAM_GENERATED, STREAM_WALL_CLOCK, writeErrorStream } from '../../errors/format.js';
import { generateErrorBatches, newFleetTally, tallyFleet } from '../../errors/generator.js';
import { openErrorLog } from '../../errors/import-log.js';
import { makeMapping } from '../../errors/mapping.js';
import { RASDAEMON_TABLES, type RasdaemonTable } from '../../errors/readers/rasdaemon.js';
import { dimmsPerChannelFor, makeTopology } from '../../errors/topology.js';
import { fractionFlag, integerFlag, numberFlag, seedFlag } from '../flags.js';
import { formatParagraph } from '../../format/table.js';
import { formatCount } from '../../format/units.js';
import { addHelpExamples, type HelpExample } from '../help.js';
import { checkInputs, checkOutputs, writeOutputs } from '../output.js';

/** Options shared by both subcommands: the machines' shape and the DRAM -> physical mapping. */
function addMachineOptions(cmd: Command, mappings: string[]): Command {
  return cmd
    .option('--dimms-per-host <n>', 'DIMMs per host (sockets x channels x DIMMs per channel), 1..1024', integerFlag(1, 1024), 16)
    .option('--sockets <n>', 'sockets per host, 1..16', integerFlag(1, 16), 2)
    .option('--channels <n>', 'memory channels per socket, 1..16', integerFlag(1, 16), 4)
    .option('--dimm-gib <n>', 'GiB per DIMM, up to 4096', numberFlag(0, 4096, { above: true }), 32)
    .addOption(new Option('--ecc <scheme>', 'ECC: chipkill (18 x4 devices per rank) or secded (9 x8)').choices(['chipkill', 'secded']).default('chipkill'))
    .addOption(new Option('--mapping <kind>', 'DRAM -> physical address mapping').choices(mappings).default('linear'))
    .option('--channel-interleave <bytes>', 'channel interleave granularity (64, 256, 4096, ...)', integerFlag(64, 8192), 256)
    .option('--phys-base <addr>', "start of each host's physical address space (below 2^52)", integerFlag(0, 2 ** 52 - 1), 2 ** 32);
}

interface MachineFlags {
  dimmsPerHost: number;
  sockets: number;
  channels: number;
  dimmGib: number;
  ecc: 'chipkill' | 'secded';
  mapping: string;
  channelInterleave: number;
  physBase: number;
}

function machineConfig(o: MachineFlags): Pick<GeneratorConfigInput, 'topology' | 'mapping' | 'physBase'> {
  return {
    topology: {
      sockets: o.sockets,
      channelsPerSocket: o.channels,
      dimmsPerChannel: dimmsPerChannelFor(o.dimmsPerHost, o.sockets, o.channels),
      dimmGiB: o.dimmGib,
      ecc: o.ecc,
    },
    mapping: { kind: o.mapping === 'xor' ? 'xor' : 'linear', channelInterleaveBytes: o.channelInterleave },
    physBase: o.physBase,
  };
}

type Json = Record<string, unknown>;

async function readParams(file: string | undefined): Promise<Json> {
  if (!file) return {};
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('expected a JSON object');
    return parsed as Json;
  } catch (err) {
    throw new Error(`${file}: not a JSON parameter object: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function writeJson(target: string, value: unknown): Promise<void> {
  await writeOutputs([{ path: target, text: JSON.stringify(value, null, 2) + '\n' }]);
}

/** A progress bar on stderr for long runs, only when stderr is a terminal. */
function progressBar(total: number, label: string): { update(done: number): void; stop(): void } {
  const LONG_RUN_HOSTS = 5000;
  if (!process.stderr.isTTY || total < LONG_RUN_HOSTS) return { update() {}, stop() {} };
  const bar = new SingleBar({ stream: process.stderr, format: `${label} [{bar}] {percentage}% | {value}/{total} hosts | ETA {eta}s` });
  bar.start(total, 0);
  const step = Math.max(1, Math.floor(total / 200));
  return {
    update(done) {
      if (done % step === 0 || done === total) bar.update(done);
    },
    stop() {
      bar.stop();
    },
  };
}

interface GenFlags extends MachineFlags {
  hosts: number;
  years: number;
  mode: 'dram' | 'incident';
  profile?: ProfileName;
  weakenedEcc?: number;
  seed: number;
  out?: string;
  json?: string;
  fitScale?: number;
  incidentRate?: number;
  scrubHours?: number;
  params?: string;
  batchSize?: number;
}

async function runGen(o: GenFlags): Promise<void> {
  await checkInputs([{ flag: '--params', path: o.params }]);
  await checkOutputs([{ flag: '--out', path: o.out }, { flag: '--json', path: o.json }], [o.params]);
  const flags: Json = {
    mode: o.mode,
    ...(o.profile !== undefined ? { profile: o.profile } : {}),
    seed: o.seed,
    hosts: o.hosts,
    years: o.years,
    ...machineConfig(o),
    ...(o.fitScale !== undefined || o.weakenedEcc !== undefined
      ? { dram: { ...(o.fitScale !== undefined ? { fitScale: o.fitScale } : {}), ...(o.weakenedEcc !== undefined ? { weakenedEccShare: o.weakenedEcc } : {}) } }
      : {}),
    ...(o.incidentRate !== undefined ? { incident: { perHostYear: o.incidentRate } } : {}),
    ...(o.scrubHours !== undefined ? { reporting: { scrubHours: o.scrubHours } } : {}),
  };
  const config: GeneratorConfig = parseGeneratorConfig(deepMerge(await readParams(o.params), flags) as GeneratorConfigInput);
  const progress = progressBar(config.hosts, 'generating');
  let records: number | null = null;
  let tally: FleetTally;
  try {
    if (o.out) {
      tally = newFleetTally(config);
      records = await writeErrorStream(
        o.out === '-' ? process.stdout : o.out,
        {
          flags: STREAM_GENERATED,
          hostCount: config.hosts,
          seed: config.seed,
          physBase: config.physBase,
          spanSeconds: config.years * HOURS_PER_YEAR * 3600,
        },
        generateErrorBatches(config, { tally, batchSize: o.batchSize, onHost: progress.update }),
      );
    } else {
      tally = tallyFleet(config, {}, progress.update);
    }
  } finally {
    progress.stop();
  }
  const calibration: CalibrationReport = computeCalibration(tally, config);
  // The report goes to stdout unless stdout carries the stream or the JSON.
  const report = o.out === '-' || o.json === '-' ? process.stderr : process.stdout;
  const lines = [formatParagraph(records !== null ? `${formatCount(records)} error records -> ${o.out === '-' ? 'stdout' : o.out}` : 'no --out: records not written'), formatCalibration(calibration)];
  report.write(lines.join('\n') + '\n');
  if (o.json) await writeJson(o.json, { config, records, calibration });
}

interface ImportFlags extends MachineFlags {
  format: LogFormat | 'auto';
  skipBad?: boolean;
  out?: string;
  json?: string;
  table: RasdaemonTable | 'auto';
}

async function runImport(file: string, o: ImportFlags): Promise<void> {
  await checkInputs([{ flag: 'the log', path: file }]);
  await checkOutputs([{ flag: '--out', path: o.out }, { flag: '--json', path: o.json }], [file]);
  const machine = parseGeneratorConfig(machineConfig(o));
  const topology = makeTopology(machine.topology);
  const mapping = o.mapping === 'logged' ? 'logged' : makeMapping(machine.mapping, topology, machine.physBase);
  const log = await openErrorLog(file, { format: o.format, skipBad: o.skipBad, table: o.table, topology, mapping });
  const mapped = log.format === 'smartmem' && mapping !== 'logged';
  const header = { flags: 0, hostCount: 1, seed: 0, physBase: mapped ? machine.physBase : 0, spanSeconds: 0 };
  let records = 0;
  if (o.out) {
    // A failed import leaves no stream (and an old --out as it was).
    const writer = await ErrorStreamWriter.create(o.out === '-' ? process.stdout : o.out, header);
    try {
      for await (const batch of log.batches) await writer.write(batch);
    } catch (err) {
      await writer.abort();
      throw err;
    }
    const s = log.stats;
    await writer.close({
      flags: s.wallClock ? STREAM_WALL_CLOCK : 0,
      hostCount: s.hostCount,
      spanSeconds: s.records > 0 ? s.lastTime - s.firstTime : 0,
    });
    records = writer.recordsWritten;
  } else {
    for await (const batch of log.batches) records += batch.length;
  }
  const s = log.stats;
  // The summary goes to stdout unless stdout carries the stream or the JSON.
  const report = o.out === '-' || o.json === '-' ? process.stderr : process.stdout;
  report.write(formatParagraph(
    `${file} (${log.format}): ${formatCount(records)} ${records === 1 ? 'record' : 'records'}` +
      `${o.out ? ` -> ${o.out === '-' ? 'stdout' : o.out}` : ' (no --out: not written)'}; ` +
      `${formatCount(s.skipped)} malformed skipped${s.firstSkipped ? ` (first: ${s.firstSkipped})` : ''}; ${formatCount(s.ignored)} without a usable address ignored` +
      ` (${formatCount(s.records + s.skipped + s.ignored)} error records read` +
      `${s.lines !== null ? ` from ${formatCount(s.lines)} ${s.lines === 1 ? 'line' : 'lines'}` : ''})`,
    { hang: 2 },
  ) + '\n');
  if (o.json) await writeJson(o.json, { file, format: log.format, records, stats: s });
}

const GEN_EXAMPLES: HelpExample[] = [
  ['mfrsim errors gen --hosts 10000 --years 3 --out fleet.mfrerr', 'three years of DRAM faults for 10,000 hosts, and the calibration report'],
  ['mfrsim errors gen --hosts 1000 --mode incident --incident-rate 0.05 --json -', 'the incident shortcut: the calibration as JSON only, no stream'],
  ['mfrsim errors gen --profile jaguar-ddr2 --ecc secded --out ddr2.mfrerr', "another publication's rates, with SEC-DED ECC"],
];

const IMPORT_EXAMPLES: HelpExample[] = [
  ['mfrsim errors import /var/lib/rasdaemon/ras-mc_event.db --out site.mfrerr', "rasdaemon's database (needs better-sqlite3)"],
  ['mfrsim errors import kern.log --skip-bad --out kern.mfrerr', 'a kernel log (dmesg, journalctl -k), skipping malformed lines'],
  ['mfrsim errors import mcelog.txt --format mcelog --json -', 'mcelog output: the import summary as JSON only'],
];

export function registerErrorsCommand(program: Command): void {
  const errors = program.command('errors').description('generate or import memory-error streams (docs/error-streams.md)');
  addHelpExamples(errors, [GEN_EXAMPLES[0]!, IMPORT_EXAMPLES[0]!]);

  addMachineOptions(
    errors
      .command('gen')
      .description('generate an error stream for a fleet and print its calibration report')
      .option('--hosts <n>', 'hosts in the fleet, 1..10,000,000', integerFlag(1, 10_000_000), 1000)
      .option('--years <y>', 'years of operation to simulate, up to 100', numberFlag(0, 100, { above: true }), 1)
      .addOption(new Option('--mode <mode>', 'DRAM fault model or the incident shortcut').choices(['dram', 'incident']).default('dram'))
      .addOption(new Option('--profile <name>', `error-rate profile: its publications set the model's rates and the calibration checks (default ${DEFAULT_PROFILE})`).choices([...PROFILE_NAMES]))
      .option('--weakened-ecc <share>', 'weakened chipkill: this share of the single-device faults spanning several DQ pins is uncorrectable (Li et al. SC 2022), 0..1', fractionFlag)
      .option('--seed <s>', 'random seed, 0..2^32-1', seedFlag, 1)
      .option('--out <file>', 'write the binary stream to this file ("-": stdout)')
      .option('--json <file>', 'write config, record count and calibration as JSON ("-": stdout)')
      .option('--fit-scale <x>', 'multiplier on the FIT table, 0..10,000', numberFlag(0, 10_000))
      .option('--incident-rate <r>', 'UE incidents per host-year (incident mode), 0..1,000', numberFlag(0, 1000))
      .option('--scrub-hours <h>', 'patrol scrub period, up to 8,760 (a year)', numberFlag(0, 8760, { above: true }))
      .option('--params <file>', 'JSON object overriding any model parameter')
      .option('--batch-size <n>', 'records per batch (the output does not depend on it)', integerFlag(1, 1 << 24)),
    ['linear', 'xor'],
  ).action((o: GenFlags) => runGen(o));
  addHelpExamples(errors.commands.at(-1)!, GEN_EXAMPLES);

  addMachineOptions(
    errors
      .command('import')
      .description('convert an error log (rasdaemon, mcelog, kernel log, SmartMem CSV) to an error stream')
      .argument('<file>', 'the log')
      .addOption(new Option('--format <format>', 'log format').choices(['auto', ...LOG_FORMATS]).default('auto'))
      .addOption(new Option('--table <table>', 'rasdaemon table to read').choices(['auto', ...RASDAEMON_TABLES]).default('auto'))
      .option('--skip-bad', 'skip malformed records (counted) instead of stopping at the first')
      .option('--out <file>', 'write the binary stream to this file ("-": stdout)')
      .option('--json <file>', 'write the import summary as JSON ("-": stdout)'),
    ['linear', 'xor', 'logged'],
  ).action((file: string, o: ImportFlags) => runImport(file, o));
  addHelpExamples(errors.commands.at(-1)!, IMPORT_EXAMPLES);
}
