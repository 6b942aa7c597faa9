#!/usr/bin/env node
// mfrsim's command line: one subcommand per file in commands/.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerConvertCommand } from './commands/convert.js';
import { registerErrorsCommand } from './commands/errors.js';
import { registerReplayCommand } from './commands/replay.js';
import { registerSelftestCommand } from './commands/selftest.js';
import { registerStudyCommand } from './commands/study.js';
import { registerWorkerCommand } from './commands/worker.js';

const program = new Command();
program
  .name('mfrsim')
  .description('Simulate Linux memory-failure recovery policies for HugeTLB memory.')
  .version((JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version)
  .showHelpAfterError();

registerStudyCommand(program);
registerSelftestCommand(program);
registerReplayCommand(program);
registerConvertCommand(program);
registerErrorsCommand(program);
registerWorkerCommand(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`mfrsim: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
