// Files a run names (error streams, scenarios) in Node: read from disk.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

export { readErrorStream, readErrorStreamHeader } from '../../errors/format.js';

/** A text file's contents. */
export function readTextFile(path: string): Promise<string> {
  return readFile(path, 'utf8');
}

/** A path given inside `file`, resolved against that file's folder. */
export function resolveBeside(file: string, path: string): string {
  return resolve(dirname(file), path);
}
