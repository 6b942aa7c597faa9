// A batch of traces, each replayed under each of a list of policies: one shard per (trace,
// policy), each a pure function of its inputs, run on this process's threads or on a job
// queue (src/shards/). Results come back trace by trace, policies in the order given.
import { readErrorStreamHeader } from '../errors/format.js';
import { openTrace } from '../traces/index.js';
import { loadLayout } from '../traces/layout.js';
import { localExecutor } from '../shards/local.js';
import type { ShardExecutor, ShardPlan, ShardProgress } from '../shards/plan.js';
import { replayTrace, type TraceReplayOptions, type TraceReplayResult } from './replay-trace.js';

export type TracePolicy = NonNullable<TraceReplayOptions['policy']>;

/** One shard: a trace under a policy (the options of a single replay, without a progress callback). */
export type TraceShardTask = Omit<TraceReplayOptions, 'onProgress' | 'policy'> & { policy: TracePolicy };

export interface TraceBatch {
  traces: string[];
  policies: TracePolicy[];
  /** What every replay shares: format, layout, error stream, poisoning, translation model. */
  options: Omit<TraceShardTask, 'trace' | 'policy'>;
  /** Where the shards run (default: threads of this process). */
  executor?: ShardExecutor;
  /** Threads of the default executor (default: one per core), and its progress. */
  workers?: number;
  onProgress?: (p: ShardProgress) => void;
}

export interface TraceBatchResult extends TraceReplayResult {
  policy: TracePolicy;
}

/**
 * Opens every input before any replay starts: each trace (its format and that it carries
 * virtual addresses), the layout and the error stream. Returns each trace's size in bytes.
 */
export async function checkTraceBatch(b: TraceBatch): Promise<number[]> {
  if (b.traces.length === 0) throw new Error('the batch has no traces');
  if (b.policies.length === 0) throw new Error('the batch has no policies');
  const sizes: number[] = [];
  for (const path of b.traces) {
    const trace = await openTrace(path, { format: b.options.format ?? 'auto' });
    if (trace.physical) throw new Error(`${path}: the trace carries physical addresses; replay needs the virtual ones (perf script -F addr)`);
    sizes.push(trace.fileSize);
  }
  if (b.options.layout) await loadLayout(b.options.layout);
  if (b.options.errors) await readErrorStreamHeader(b.options.errors);
  return sizes;
}

export function traceBatchPlan(b: TraceBatch, sizes: readonly number[]): ShardPlan<TraceShardTask, TraceReplayResult> {
  const { traces, policies, options } = b;
  return {
    kind: 'trace',
    identity: { traces, policies, options },
    files: [...traces, ...(options.layout ? [options.layout] : []), ...(options.errors ? [options.errors] : [])],
    unit: 'events',
    measure: (r) => r.accesses,
    jobs: traces.flatMap((trace, t) => policies.map((policy) => ({
      key: { trace, policy },
      label: `${trace} ${policy}`,
      task: { ...options, trace, policy },
      // Replay time grows with the trace's size.
      weight: Math.max(1, sizes[t]!),
    }))),
  };
}

export async function runTraceBatch(b: TraceBatch): Promise<TraceBatchResult[]> {
  const sizes = await checkTraceBatch(b);
  const plan = traceBatchPlan(b, sizes);
  const results = await (b.executor ?? localExecutor({ workers: b.workers, onProgress: b.onProgress })).run(plan);
  return results.map((r, i) => ({ ...r, policy: plan.jobs[i]!.task.policy }));
}

/** The shard function (the worker threads' entry runs it). */
export function runTraceShard(task: TraceShardTask): Promise<TraceReplayResult> {
  return replayTrace(task);
}
