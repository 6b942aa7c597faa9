// `mfrsim convert`: an access trace in any supported format -> mfrsim's binary trace format
// (docs/formats.md), which later runs read many times faster than text.
import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { TraceWriter } from '../../traces/binary.js';
import { DEFAULT_BATCH_SIZE, MIN_BATCH_SIZE } from '../../traces/batch.js';
import { openTrace } from '../../traces/open.js';
import { TRACE_FORMATS, type TraceFormat } from '../../traces/types.js';
import { fileProgress } from '../progress.js';

const MIB = 1 << 20;

interface ConvertOptions {
  format: TraceFormat | 'auto';
  out: string;
  batchSize: number;
}

function batchSize(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < MIN_BATCH_SIZE) throw new InvalidArgumentError(`must be an integer >= ${MIN_BATCH_SIZE}.`);
  return n;
}

export function registerConvertCommand(program: Command): void {
  program
    .command('convert')
    .description("convert an access trace (plain or .xz) to mfrsim's binary trace format")
    .argument('<input>', 'trace file')
    .addOption(new Option('-f, --format <format>', 'input format').choices(['auto', ...TRACE_FORMATS]).default('auto'))
    .requiredOption('-o, --out <file>', 'output file')
    .option('--batch-size <n>', 'events per batch', batchSize, DEFAULT_BATCH_SIZE)
    .action(async (input: string, options: ConvertOptions) => {
      process.stdout.write(`${await convertTrace(input, options)}\n`);
    });
}

/** Converts `input` and returns a one-line summary. */
async function convertTrace(input: string, options: ConvertOptions): Promise<string> {
  if (resolve(input) === resolve(options.out)) throw new Error('--out must differ from the input file');
  const trace = await openTrace(input, { format: options.format, batchSize: options.batchSize });
  const writer = await TraceWriter.create(options.out, { physical: trace.physical, columns: trace.columns });
  const progress = fileProgress('converting', trace.fileSize);
  const started = performance.now();
  try {
    for await (const batch of trace) {
      await writer.write(batch);
      progress.update(trace.bytesRead, writer.eventCount);
    }
  } catch (err) {
    progress.stop();
    await writer.abort();
    throw err;
  }
  progress.stop();
  await writer.close();
  const seconds = (performance.now() - started) / 1000;
  const skipped = trace.skippedRecords > 0 ? `, ${trace.skippedRecords} records skipped (no physical address)` : '';
  return (
    `${writer.eventCount} events (${trace.format}${trace.compressed ? ', xz' : ''}, ` +
    `${trace.physical ? 'physical' : 'virtual'} addresses${skipped}) -> ${options.out} ` +
    `in ${seconds.toFixed(1)} s (${(trace.fileSize / MIB / Math.max(seconds, 1e-3)).toFixed(0)} MiB/s)`
  );
}
