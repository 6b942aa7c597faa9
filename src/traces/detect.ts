// `--format auto`: magic bytes first (mfrsim, and xz, which is decompressed transparently),
// then the file extension or binary content for ChampSim, then the text formats' own parsers
// run over the first 64 KiB: the first format that accepts every sampled line wins.
import { basename } from 'node:path';
import { createAccessBatch } from './batch.js';
import { isMfrsimTrace } from './binary.js';
import { TraceFormatError } from './errors.js';
import { TEXT_PARSERS, type TextTraceFormat } from './formats.js';
import { LineScanner, lineBatches, lineText } from './lines.js';
import { memorySource, openByteSource, readFully } from './source.js';
import type { TraceFormat } from './types.js';

const SAMPLE_BYTES = 64 << 10;
const CHAMPSIM_NAME = /\.champsim(trace)?(\.xz)?$/i;
const NEWLINE = 0x0a;

/** A trace file's format, from its name and first bytes; fails naming the formats tried. */
export async function detectTraceFormat(path: string): Promise<TraceFormat> {
  const { bytes, whole } = await readSample(path);
  if (isMfrsimTrace(bytes)) return 'mfrsim';
  if (CHAMPSIM_NAME.test(basename(path)) || looksBinary(bytes)) return 'champsim';
  if (bytes.length === 0) throw new TraceFormatError(path, 0, 'cannot detect the format of an empty file');

  // Only complete lines: the sample may end in the middle of one.
  const lines = whole ? bytes : bytes.subarray(0, bytes.lastIndexOf(NEWLINE) + 1);
  for (const format of Object.keys(TEXT_PARSERS) as TextTraceFormat[]) {
    if (await acceptsAll(format, lines, path)) return format;
  }
  const first = lineText(lines, 0, lines.length).slice(0, 80);
  throw new TraceFormatError(path, 0, `cannot detect the trace format (first line '${first}'); pass the format explicitly`);
}

async function readSample(path: string): Promise<{ bytes: Uint8Array; whole: boolean }> {
  const source = await openByteSource(path);
  try {
    const bytes = new Uint8Array(SAMPLE_BYTES);
    const got = await readFully(source, bytes, 0, SAMPLE_BYTES);
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

/** Whether the format's parser reads every line and finds at least one record. */
async function acceptsAll(format: TextTraceFormat, lines: Uint8Array, path: string): Promise<boolean> {
  const parser = TEXT_PARSERS[format]();
  const scanner = new LineScanner(memorySource(lines), path, Math.max(lines.length, 1));
  let events = 0;
  try {
    for await (const batch of lineBatches(scanner, parser, createAccessBatch(256, format === 'perf'))) {
      events += batch.length;
    }
  } catch (err) {
    if (err instanceof TraceFormatError) return false;
    throw err;
  }
  return events + parser.skipped > 0;
}
