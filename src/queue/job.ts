// What travels through Redis: the shard job's data, its content-digest id, where results
// are kept, and the version both sides must share.
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { encode } from './codec.js';
import type { ShardKind } from '../shards/plan.js';

/** The BullMQ queue every coordinator and worker shares; its keys start with the prefix. */
export const QUEUE_NAME = 'shards';
export const KEY_PREFIX = 'mfrsim';

/** This package's version: a job runs only on a worker of the version that planned it. */
export const MFRSIM_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** The hash holding a run's shard results (field: job id), until the coordinator has written its outputs. */
export function resultsKey(runDigest: string): string {
  return `${KEY_PREFIX}:run:${runDigest}`;
}

/** The list of a run's job ids in the order their results were written (the coordinator reads what is new). */
export function doneKey(runDigest: string): string {
  return `${KEY_PREFIX}:run:${runDigest}:done`;
}

/** An input file of the plan, as the coordinator read it. */
export interface JobFile {
  /** The path as the task names it. */
  path: string;
  /** Where the coordinator found it (the task's path may be relative to its directory). */
  absolute: string;
  sha256: string;
  bytes: number;
  /** The file itself, base64, when it is small enough to carry in the job. */
  content?: string;
}

export interface ShardJobData {
  /** The mfrsim version that planned the job. */
  version: string;
  kind: ShardKind;
  run: string;
  label: string;
  files: JobFile[];
  /** Seconds the run's results are kept after the last write. */
  resultsTtl: number;
  /** The task, encoded (codec.ts). */
  task: string;
}

/** What a worker returns to BullMQ; the result itself is in the run's results hash. */
export interface ShardJobReturn {
  resultBytes: number;
  seconds: number;
}

export function sha256(...parts: string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex');
}

/** The run's digest: the version, the kind, what the results depend on and the input files' contents. */
export function runDigest(version: string, kind: ShardKind, identity: unknown, files: readonly JobFile[]): string {
  return sha256(version, kind, encode(identity), ...files.map((f) => `${f.path}=${f.sha256}`));
}

/** A job's id: the run's digest and the shard's key (BullMQ ids must not contain ':'). */
export function jobId(run: string, key: Record<string, string | number>): string {
  return sha256(run, encode(key)).slice(0, 40);
}

/** Size and SHA-256 of a file, read as a stream. */
export async function digestFile(path: string): Promise<{ sha256: string; bytes: number; mtimeMs: number }> {
  const { size, mtimeMs } = await stat(path);
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return { sha256: h.digest('hex'), bytes: size, mtimeMs };
}
