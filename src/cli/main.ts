#!/usr/bin/env node
// mfrsim's command line: one subcommand per file in commands/, each loaded only when it runs
// (a subcommand's modules, the kernel, zod schemas, vega, sqlite, worker pools, cost tens to
// hundreds of milliseconds to load); help and unknown commands load them all.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { addHelpExamples } from './help.js';
import { EXIT_FAILURE, EXIT_USAGE, UsageError } from './usage-error.js';

type Register = (program: Command) => void;

const COMMANDS: Record<string, () => Promise<Register>> = {
  study: async () => (await import('./commands/study.js')).registerStudyCommand,
  selftest: async () => (await import('./commands/selftest.js')).registerSelftestCommand,
  replay: async () => (await import('./commands/replay.js')).registerReplayCommand,
  convert: async () => (await import('./commands/convert.js')).registerConvertCommand,
  errors: async () => (await import('./commands/errors.js')).registerErrorsCommand,
  worker: async () => (await import('./commands/worker.js')).registerWorkerCommand,
};

const program = new Command();
program
  .name('mfrsim')
  .description('Simulate Linux memory-failure recovery policies for HugeTLB memory.')
  .version((JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version)
  .showHelpAfterError()
  // Commander's own usage errors are thrown (subcommands inherit this), so that the handler
  // below gives every usage error the same exit status.
  .exitOverride();
addHelpExamples(program, [
  ['mfrsim study --html report.html', 'compare the policies on the embedded cloud-region scenario, with an HTML report'],
  ['mfrsim errors gen --hosts 1000 --years 3 --mode incident --dimm-gib 8 --out fleet.mfrerr', 'generate three years of memory errors for 1,000 hosts'],
  ['mfrsim replay --fleet examples/fleet-1g.json --errors fleet.mfrerr --policy keep', 'replay those errors on a fleet whose VMs keep poisoned hugepages mapped'],
]);

// The subcommand is the first argument that is not an option (mfrsim has no global option
// that takes a value).
const named = process.argv.slice(2).find((a) => !a.startsWith('-'));
const wanted = named !== undefined && named in COMMANDS ? [named] : Object.keys(COMMANDS);
for (const register of await Promise.all(wanted.map((name) => COMMANDS[name]!()))) register(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  // Commander has already printed its message (or the help, or the version: status 0).
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE);
  process.stderr.write(`mfrsim: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(err instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE);
});
