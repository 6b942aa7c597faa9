// What every `--help` ends with: the exit statuses, then two or three examples that run as
// written (from the repository's root, for the files it ships).
import type { Command } from 'commander';
import { EXIT_FAILURE, EXIT_USAGE } from './usage-error.js';

/** The exit statuses, as every `--help` states them. */
export const EXIT_STATUS_HELP =
  `Exit status: 0 success, ${EXIT_FAILURE} failure (an input that is not what it should be, a run that failed),\n` +
  `             ${EXIT_USAGE} usage error (a bad flag, path or output, refused before any work).`;

/** One example: the command line and what it does. */
export type HelpExample = [command: string, what: string];

/** Ends `cmd`'s help with the exit statuses and `examples`. */
export function addHelpExamples(cmd: Command, examples: readonly HelpExample[]): Command {
  const lines = ['', EXIT_STATUS_HELP, '', 'Examples:'];
  for (const [command, what] of examples) lines.push(`  # ${what}`, `  $ ${command}`);
  return cmd.addHelpText('after', lines.join('\n'));
}
