#!/usr/bin/env node
// mfrsim's command line: one subcommand per file in commands/, each loaded only when it runs
// (a subcommand's modules, the kernel, zod schemas, vega, sqlite, worker pools, cost tens to
// hundreds of milliseconds to load); help and unknown commands load them all.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';

type Register = (program: Command) => void;

const COMMANDS: Record<string, () => Promise<Register>> = {
  study: async () => (await import('./commands/study.js')).registerStudyCommand,
  selftest: async () => (await import('./commands/selftest.js')).registerSelftestCommand,
  replay: async () => (await import('./commands/replay.js')).registerReplayCommand,
  convert: async () => (await import('./commands/convert.js')).registerConvertCommand,
  errors: async () => (await import('./commands/errors.js')).registerErrorsCommand,
};

const program = new Command();
program
  .name('mfrsim')
  .description('Simulate Linux memory-failure recovery policies for HugeTLB memory.')
  .version((JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version)
  .showHelpAfterError();

// The subcommand is the first argument that is not an option (mfrsim has no global option
// that takes a value).
const named = process.argv.slice(2).find((a) => !a.startsWith('-'));
const wanted = named !== undefined && named in COMMANDS ? [named] : Object.keys(COMMANDS);
for (const register of await Promise.all(wanted.map((name) => COMMANDS[name]!()))) register(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`mfrsim: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
