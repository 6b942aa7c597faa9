// Tells which kind of error log a file is, from its first bytes and lines.
import { open } from 'node:fs/promises';
import { MAGIC } from './format.js';

/** The error-log formats `openErrorLog` reads. */
export const LOG_FORMATS = ['rasdaemon', 'mcelog', 'kmsg', 'smartmem'] as const;
/** An error-log format. */
export type LogFormat = (typeof LOG_FORMATS)[number];
/** What `detectFormat` finds: a log format, or an mfrsim error stream. */
export type DetectedFormat = LogFormat | 'mfrsim';

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');
const SNIFF_BYTES = 64 * 1024;

/** The format of `path`; throws, naming the file, when it cannot tell. */
export async function detectFormat(path: string): Promise<DetectedFormat> {
  const fh = await open(path, 'r');
  let head: Buffer;
  try {
    const buf = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await fh.read(buf, 0, SNIFF_BYTES, 0);
    head = buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
  if (head.subarray(0, SQLITE_MAGIC.length).equals(SQLITE_MAGIC)) return 'rasdaemon';
  if (head.subarray(0, MAGIC.length).equals(MAGIC)) return 'mfrsim';
  const lines = head.toString('utf8').split(/\r?\n/).slice(0, 200);
  const firstLine = lines.find((l) => l.trim() !== '')?.toLowerCase() ?? '';
  if (firstLine.includes(',') && /\b(row|rowid)\b/.test(firstLine) && /\b(col|column|columnid)\b/.test(firstLine)) return 'smartmem';
  if (lines.some((l) => /(^|\s)STATUS [0-9a-fA-F]+ MCGSTATUS\b/.test(l) || /^\s*CPU \d+ BANK \d+/.test(l))) return 'mcelog';
  if (lines.some((l) => /mce: |Memory failure: |EDAC [\w ]*MC\d+:/.test(l))) return 'kmsg';
  throw new Error(`${path}: cannot tell the log format from its first lines; pass --format (${LOG_FORMATS.join(', ')})`);
}
