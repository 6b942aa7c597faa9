// `mfrsim replay --traces GLOB --policy keep,default`: every trace of a batch under every
// policy, one shard each, on this machine's threads or on a job queue (--queue); a table of
// one row per trace and policy, and the same figures as JSON or CSV.
import { isAbsolute } from 'node:path';
import { glob } from 'tinyglobby';
import { runTraceBatch, type TraceBatchResult, type TracePolicy } from '../../fleet/trace-batch.js';
import type { TraceFormat } from '../../traces/index.js';
import type { HugepageSize } from '../../host/types.js';
import { csvField } from '../../study/csv.js';
import { formatTable, type TableColumn } from '../../format/table.js';
import { formatBytes, formatCount } from '../../format/units.js';
import { openQueue, type QueueFlags } from '../queue.js';
import { UsageError } from '../usage-error.js';
import { shardProgressBar } from '../shard-progress.js';
import { writeOutputs } from '../output.js';
import { jsonText, traceJson } from './replay.js';

export interface TraceBatchFlags extends QueueFlags {
  traces?: string;
  policies: TracePolicy[];
  format: TraceFormat | 'auto';
  layout?: string;
  hugepage: HugepageSize;
  errors?: string;
  errorsHost: number | 'auto';
  poisonFraction?: number;
  seed: number;
  thpSplitFailure?: number;
  killOnSigbus?: boolean;
  tlb?: boolean;
  nested: number;
  workers?: number;
  json?: string;
  csv?: string;
}

/** The columns of the table and the CSV: a name and the figure of one trace under one policy. */
const COLUMNS: [string, (r: TraceBatchResult) => string | number][] = [
  ['trace', (r) => r.trace],
  ['policy', (r) => r.policy],
  ['format', (r) => r.format],
  ['accesses', (r) => r.accesses],
  ['completed', (r) => r.ok],
  ['sigbus', (r) => r.sigbus],
  ['killed', (r) => (r.processKilled ? 1 : 0)],
  ['rawPagesPoisoned', (r) => r.rawPagesPoisoned],
  ['hugepagesLost', (r) => r.hugepagesLost],
  ['bytesLost', (r) => r.bytesLost],
  ['uesApplied', (r) => r.errors.applied],
  ['recoveryEvents', (r) => r.recovery.events],
];

/** The table's columns: names left, figures right; a long trace path wraps. */
const TABLE: TableColumn[] = [
  { header: 'trace', wrap: true },
  { header: 'policy' },
  { header: 'accesses', align: 'right' },
  { header: 'SIGBUS', align: 'right' },
  { header: 'killed', align: 'right' },
  { header: 'raw pages poisoned', short: 'raw', align: 'right' },
  { header: 'hugepages lost', short: 'lost', align: 'right' },
  { header: 'memory lost', align: 'right' },
  { header: 'UEs applied', short: 'UEs', align: 'right' },
];

function table(results: TraceBatchResult[]): string {
  const rows = results.map((r) => [
    r.trace, r.policy, formatCount(r.accesses), formatCount(r.sigbus), r.processKilled ? 'yes' : 'no',
    formatCount(r.rawPagesPoisoned), formatCount(r.hugepagesLost), formatBytes(r.bytesLost), formatCount(r.errors.applied),
  ]);
  return formatTable(TABLE, rows);
}

function csvText(results: TraceBatchResult[]): string {
  return [COLUMNS.map(([name]) => name), ...results.map((r) => COLUMNS.map(([, value]) => value(r)))].map((row) => row.map(csvField).join(',')).join('\n') + '\n';
}

export async function replayTracesCommand(o: TraceBatchFlags): Promise<void> {
  // Paths as the pattern gives them: absolute for an absolute pattern, else relative.
  const traces = (await glob(o.traces!, { onlyFiles: true, expandDirectories: false, absolute: isAbsolute(o.traces!) })).sort();
  // A pattern that names no file is a bad path, like a missing --trace.
  if (traces.length === 0) throw new UsageError(`--traces ${o.traces}: no file matches (quote the glob so that mfrsim expands it, not the shell)`);
  const queue = await openQueue(o, 'traces');
  try {
    const bar = queue ? undefined : shardProgressBar('traces');
    const results = await runTraceBatch({
      traces,
      policies: o.policies,
      options: {
        format: o.format, layout: o.layout, hugepage: o.hugepage, errors: o.errors, errorsHost: o.errorsHost,
        poisonFraction: o.poisonFraction, seed: o.seed, thpSplitFailure: o.thpSplitFailure, killOnSigbus: o.killOnSigbus,
        translation: o.tlb ? { nestedLevels: o.nested } : undefined,
      },
      executor: queue?.executor,
      workers: o.workers,
      onProgress: bar?.update,
    }).finally(() => bar?.stop());
    if (o.json !== '-' && o.csv !== '-') process.stdout.write(`${table(results)}\n`);
    // Both outputs are rendered first, then written together: neither appears unless both do.
    await writeOutputs([
      { path: o.json, text: o.json ? jsonText({ policies: o.policies, replays: results.map((r) => ({ policy: r.policy, ...traceJson(r) })) }) : '' },
      { path: o.csv, text: o.csv ? csvText(results) : '' },
    ]);
    await queue?.finished();
  } finally {
    await queue?.close();
  }
}
