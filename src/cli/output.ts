// What every subcommand does with its outputs: all output paths are checked before any work
// starts (the directory exists and is writable, the path is not a directory, no two outputs
// share a path or stdout, no output overwrites an input), and files are written whole or not
// at all (src/io/atomic-file.ts). Input files are checked up front too: a missing one is a
// usage error like a bad output path.
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { writeFilesAtomically } from '../io/atomic-file.js';
import { UsageError } from './usage-error.js';

export interface OutputFlag {
  /** The flag as the user typed it, for messages: "--json". */
  flag: string;
  /** The path given, "-" for stdout, undefined when the flag was not given. */
  path: string | undefined;
  /** Whether "-" (stdout) is allowed (default true). */
  stdout?: boolean;
}

/** Refuses outputs that cannot be written, before any work is done. */
export async function checkOutputs(outputs: readonly OutputFlag[], inputs: readonly (string | undefined)[] = []): Promise<void> {
  const given = outputs.filter((o): o is OutputFlag & { path: string } => o.path !== undefined);
  const toStdout = given.filter((o) => o.path === '-');
  for (const o of toStdout) if (o.stdout === false) throw new UsageError(`${o.flag} cannot write to stdout; give a file`);
  if (toStdout.length > 1) {
    const flags = toStdout.map((o) => o.flag);
    throw new UsageError(`${flags.slice(0, -1).join(', ')} and ${flags.at(-1)} would ${flags.length === 2 ? 'both' : 'all'} write to stdout; send all but one to files`);
  }
  const files = given.filter((o) => o.path !== '-');
  const seen = new Map<string, string>();
  for (const o of files) {
    const full = resolve(o.path);
    const other = seen.get(full);
    if (other) throw new UsageError(`${other} and ${o.flag} name the same file ${o.path}`);
    seen.set(full, o.flag);
    if (inputs.some((i) => i !== undefined && resolve(i) === full)) throw new UsageError(`${o.flag} ${o.path} is also an input; write to another file`);
    await checkWritable(o.flag, o.path);
  }
}

/** Refuses input files that do not exist or cannot be read, before any work is done. */
export async function checkInputs(inputs: readonly { flag: string; path: string | undefined }[]): Promise<void> {
  for (const i of inputs) {
    if (i.path === undefined) continue;
    const s = await stat(i.path).catch(() => null);
    if (!s) throw new UsageError(`${i.flag} ${i.path} does not exist`);
    if (s.isDirectory()) throw new UsageError(`${i.flag} ${i.path} is a directory, not a file`);
    try {
      await access(i.path, constants.R_OK);
    } catch {
      throw new UsageError(`${i.flag} ${i.path} is not readable`);
    }
  }
}

async function checkWritable(flag: string, path: string): Promise<void> {
  const dir = dirname(resolve(path));
  const dirStat = await stat(dir).catch(() => null);
  if (!dirStat) throw new UsageError(`${flag} ${path}: the directory ${dir} does not exist`);
  if (!dirStat.isDirectory()) throw new UsageError(`${flag} ${path}: ${dir} is not a directory`);
  try {
    await access(dir, constants.W_OK);
  } catch {
    throw new UsageError(`${flag} ${path}: the directory ${dir} is not writable`);
  }
  const target = await stat(path).catch(() => null);
  if (target?.isDirectory()) throw new UsageError(`${flag} ${path} is a directory; give a file name`);
}

/**
 * Writes text outputs: "-" to stdout, files all together (each appears whole, and none
 * appears unless every one was written).
 */
export async function writeOutputs(outputs: readonly { path: string | undefined; text: string }[]): Promise<void> {
  const files = outputs.filter((o): o is { path: string; text: string } => o.path !== undefined && o.path !== '-');
  await writeFilesAtomically(files.map((o) => ({ target: o.path, data: o.text })));
  for (const o of outputs) if (o.path === '-') process.stdout.write(o.text);
}
