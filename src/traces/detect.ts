// `--format auto`: magic bytes first (mfrsim, and xz, which is decompressed transparently),
// then the file name (its extension), then binary content for ChampSim, then the text
// formats' own parsers over the first 64 KiB. A format that reads every sampled line wins;
// failing that, the one that read furthest is taken, and the line where it stopped is the
// error: the cause, with the line, rather than "cannot detect".
import { basename } from 'node:path';
import { formatCount } from '../format/units.js';
import { createAccessBatch } from './batch.js';
import { isMfrsimTrace } from './binary.js';
import { CompressedDataError, TraceFormatError } from './errors.js';
import { TEXT_PARSERS, type TextTraceFormat } from './formats.js';
import { LineScanner, lineBatches, lineText } from './lines.js';
import { memorySource, openByteSource, readFully } from './source.js';
import type { TraceFormat } from './types.js';


const SAMPLE_BYTES = 64 << 10;
const NEWLINE = 0x0a;

/** File name endings (before an optional `.xz`) that name a format. */
const NAME_FORMATS: [RegExp, TraceFormat][] = [
  [/\.champsim(trace)?$/i, 'champsim'],
  [/\.mfr(trace)?$/i, 'mfrsim'],
  [/\.lackey$/i, 'lackey'],
  [/\.perf$/i, 'perf'],
  [/\.dramsim3$/i, 'dramsim3'],
  [/\.ramulator2$/i, 'ramulator2'],
];

/** A trace's detected format and what decided it. */
export interface TraceDetection {
  format: TraceFormat;
  /** What decided it, for messages: "its MFRTRACE magic", "its name", "its first 812 lines". */
  basis: string;
}

/** The format named by the file's extension, if any. */
export function formatFromName(path: string): TraceFormat | undefined {
  const name = basename(path).replace(/\.xz$/i, '');
  return NAME_FORMATS.find(([pattern]) => pattern.test(name))?.[1];
}

/** A trace file's format, from its name and first bytes; fails naming the formats tried. */
export async function detectTraceFormat(path: string): Promise<TraceFormat> {
  return (await detectTrace(path)).format;
}

/** A trace file's format and what decided it (its magic, its name, or its first lines). */
export async function detectTrace(path: string): Promise<TraceDetection> {
  const { bytes, whole } = await readSample(path);
  if (isMfrsimTrace(bytes)) return { format: 'mfrsim', basis: 'its MFRTRACE magic' };
  const named = formatFromName(path);
  if (named === 'champsim' || named === 'mfrsim') return { format: named, basis: 'its name' };
  if (looksBinary(bytes)) return { format: 'champsim', basis: 'its binary content' };
  if (bytes.length === 0) throw new TraceFormatError(path, 0, 'cannot detect the format of an empty file');

  // Only complete lines: the sample may end in the middle of one.
  const lines = whole ? bytes : bytes.subarray(0, bytes.lastIndexOf(NEWLINE) + 1);
  const trials = new Map<TextTraceFormat, Trial>();
  const trial = async (format: TextTraceFormat) => {
    if (!trials.has(format)) trials.set(format, await tryFormat(format, lines, path));
    return trials.get(format)!;
  };
  // A format the name gives is taken when it reads at least one record.
  if (named !== undefined) {
    const t = await trial(named as TextTraceFormat);
    if (t.events > 0) return accept(named, t, 'its name', path);
  }
  for (const format of Object.keys(TEXT_PARSERS) as TextTraceFormat[]) {
    const t = await trial(format);
    if (t.failure === null && t.events > 0) return { format, basis: `its first ${formatCount(t.lines)} lines` };
  }
  // No format reads the whole sample: the one that got furthest is probably right and the
  // line it stopped at is the problem.
  let best: [TextTraceFormat, Trial] | undefined;
  for (const [format, t] of trials) {
    if (t.events > 0 && (!best || t.failure!.line > best[1].failure!.line)) best = [format, t];
  }
  if (best) return accept(best[0], best[1], `lines 1-${best[1].failure!.line - 1}`, path);
  const first = firstDataLine(lines);
  throw new TraceFormatError(
    path,
    0,
    `cannot detect the trace format: no format reads line ${first.line} ('${first.text.slice(0, 80)}'); ` +
      `pass --format (${Object.keys(TEXT_PARSERS).join(', ')}, champsim, mfrsim)`,
  );
}

interface Trial {
  /** Events read before the first failure (or in all). */
  events: number;
  /** Lines read (all of the sample, or up to the failure). */
  lines: number;
  failure: TraceFormatError | null;
}

/** The format, or its failure in the sample as the error, naming the format and why it was chosen. */
function accept(format: TextTraceFormat | TraceFormat, t: Trial, basis: string, path: string): TraceDetection {
  if (t.failure) {
    throw new TraceFormatError(path, t.failure.line, `${t.failure.reason} (read as ${format}, detected from ${basis}; pass --format if it is another format)`);
  }
  return { format, basis };
}

async function readSample(path: string): Promise<{ bytes: Uint8Array; whole: boolean }> {
  const source = await openByteSource(path);
  try {
    const bytes = new Uint8Array(SAMPLE_BYTES);
    let got: number;
    try {
      got = await readFully(source, bytes, 0, SAMPLE_BYTES);
    } catch (err) {
      if (err instanceof CompressedDataError) throw new TraceFormatError(path, 0, err.message);
      throw err;
    }
    return { bytes: bytes.subarray(0, got), whole: got < SAMPLE_BYTES };
  } finally {
    await source.close();
  }
}

/** Control bytes other than tab, newline and carriage return never occur in text traces. */
function looksBinary(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return true;
  return false;
}

/** Runs the format's parser over the sample: how far it got, and its first failure. */
async function tryFormat(format: TextTraceFormat, lines: Uint8Array, path: string): Promise<Trial> {
  const parser = TEXT_PARSERS[format]();
  const scanner = new LineScanner(memorySource(lines), path, Math.max(lines.length, 1));
  const batch = createAccessBatch(256, format === 'perf');
  let events = 0;
  try {
    for await (const full of lineBatches(scanner, parser, batch)) events += full.length;
  } catch (err) {
    // The batch still holds the events parsed before the failing line.
    if (err instanceof TraceFormatError) return { events: events + batch.length + parser.skipped, lines: err.line - 1, failure: err };
    throw err;
  }
  return { events: events + parser.skipped, lines: scanner.lineNo, failure: null };
}

/** The first line that is not blank, a comment or a valgrind banner, for the message. */
function firstDataLine(lines: Uint8Array): { line: number; text: string } {
  let line = 0;
  for (let p = 0; p < lines.length; ) {
    line++;
    const text = lineText(lines, p, lines.length);
    const trimmed = text.trim();
    if (trimmed !== '' && !trimmed.startsWith('#') && !trimmed.startsWith('==')) return { line, text };
    const nl = lines.indexOf(NEWLINE, p);
    p = nl < 0 ? lines.length : nl + 1;
  }
  return { line: 1, text: lineText(lines, 0, lines.length) };
}
