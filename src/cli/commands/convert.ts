// `mfrsim convert`: an access trace in any supported format -> mfrsim's binary trace format
// (docs/formats.md), which later runs read many times faster than text.
import { Command, Option } from 'commander';
import { TraceWriter } from '../../traces/binary.js';
import { DEFAULT_BATCH_SIZE, MIN_BATCH_SIZE } from '../../traces/batch.js';
import { openTrace } from '../../traces/open.js';
import { TRACE_FORMATS, type TraceFormat } from '../../traces/types.js';
import { formatParagraph } from '../../format/table.js';
import { formatBytes, formatCount, formatDuration } from '../../format/units.js';
import { integerFlag } from '../flags.js';
import { addHelpExamples } from '../help.js';
import { checkInputs, checkOutputs } from '../output.js';
import { fileProgress } from '../progress.js';

interface ConvertOptions {
  format: TraceFormat | 'auto';
  out: string;
  batchSize: number;
  salvage?: boolean;
}

export function registerConvertCommand(program: Command): void {
  const cmd = program
    .command('convert')
    .description("convert an access trace (plain or .xz) to mfrsim's binary trace format")
    .argument('<input>', 'trace file')
    .addOption(new Option('-f, --format <format>', 'input format').choices(['auto', ...TRACE_FORMATS]).default('auto'))
    .requiredOption('-o, --out <file>', 'output file')
    .option('--batch-size <n>', 'events per batch', integerFlag(MIN_BATCH_SIZE, 1 << 24), DEFAULT_BATCH_SIZE)
    .option('--salvage', 'read what an mfrsim trace that was never finished (or is cut short) holds: its complete blocks')
    .action(async (input: string, options: ConvertOptions) => {
      process.stdout.write(`${formatParagraph(await convertTrace(input, options), { hang: 2 })}\n`);
    });
  addHelpExamples(cmd, [
    ['mfrsim convert run.lackey.xz --out run.mfr', 'a compressed lackey trace (format detected) to the binary format'],
    ['mfrsim convert samples.txt --format perf -o samples.mfr', "`perf script` output of physical addresses"],
  ]);
}

/** Converts `input` and returns a one-line summary. */
async function convertTrace(input: string, options: ConvertOptions): Promise<string> {
  await checkInputs([{ flag: 'the trace', path: input }]);
  await checkOutputs([{ flag: '--out', path: options.out, stdout: false }], [input]);
  const trace = await openTrace(input, { format: options.format, batchSize: options.batchSize, salvage: options.salvage });
  // The trace appears at --out only when complete; a failure leaves an old --out as it was.
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
  const skipped = trace.skippedRecords > 0 ? `, ${formatCount(trace.skippedRecords)} records skipped (no physical address)` : '';
  const salvaged = trace.salvaged ? `salvaged ${formatCount(trace.salvaged.events)} events of an unfinished trace (reading stopped at ${trace.salvaged.stoppedAt})\n` : '';
  return (
    salvaged +
    `${formatCount(writer.eventCount)} events (${trace.format}${trace.compressed ? ', xz' : ''}, ` +
    `${trace.physical ? 'physical' : 'virtual'} addresses${skipped}) -> ${options.out} ` +
    `in ${formatDuration(seconds * 1e9)} (${formatBytes(trace.fileSize / Math.max(seconds, 1e-3))}/s)`
  );
}
