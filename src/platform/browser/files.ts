// Files a run names (error streams, scenarios) in a browser: there is no file system, so
// each fails with what to do instead.
import type * as Node from '../node/files.js';

function noFiles(path: string, instead: string): Error {
  return new Error(`${path}: files are read in Node only; in a browser, ${instead}`);
}

export const readErrorStream: typeof Node.readErrorStream = async function* (path) {
  throw noFiles(path, 'generate the error stream (a scenario\'s errors.generate) instead of reading a stream file');
};

export const readErrorStreamHeader: typeof Node.readErrorStreamHeader = (path) =>
  Promise.reject(noFiles(path, 'generate the error stream (a scenario\'s errors.generate) instead of reading a stream file'));

export const readTextFile: typeof Node.readTextFile = (path) => Promise.reject(noFiles(path, 'pass the parsed JSON to parseScenario'));

export const resolveBeside: typeof Node.resolveBeside = (_file, path) => path;
