#!/usr/bin/env node
// mfrsim's command line: one subcommand per file in commands/.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerConvertCommand } from './commands/convert.js';
import { registerErrorsCommand } from './commands/errors.js';
import { registerReplayCommand } from './commands/replay.js';
import { registerSelftestCommand } from './commands/selftest.js';
import { registerStudyCommand } from './commands/study.js';
import { registerWorkerCommand } from './commands/worker.js';
import { EXIT_FAILURE, EXIT_USAGE, UsageError } from './usage-error.js';

const program = new Command();
program
  .name('mfrsim')
  .description('Simulate Linux memory-failure recovery policies for HugeTLB memory.')
  .version((JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version)
  .showHelpAfterError()
  // Commander's own usage errors are thrown (subcommands inherit this), so that the handler
  // below gives every usage error the same exit status.
  .exitOverride()
  .addHelpText('after', '\nExit status: 0 success, 1 failure, 2 usage error (a bad flag, path or output).');

registerStudyCommand(program);
registerSelftestCommand(program);
registerReplayCommand(program);
registerConvertCommand(program);
registerErrorsCommand(program);
registerWorkerCommand(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  // Commander has already printed its message (or the help, or the version: status 0).
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE);
  process.stderr.write(`mfrsim: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(err instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE);
});
