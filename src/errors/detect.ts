// Tells which kind of error log a file is, from its first bytes and lines and its name.
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { MAGIC } from './format.js';
import { MalformedRecordError } from './readers/common.js';

/** The error-log formats `openErrorLog` reads. */
export const LOG_FORMATS = ['rasdaemon', 'mcelog', 'kmsg', 'smartmem'] as const;
/** An error-log format. */
export type LogFormat = (typeof LOG_FORMATS)[number];
/** What `detectFormat` finds: a log format, or an mfrsim error stream. */
export type DetectedFormat = LogFormat | 'mfrsim';

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');
const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const SNIFF_BYTES = 64 * 1024;
const SNIFF_LINES = 200;

/** What each format looks like, for the message when a file is none of them. */
const EXPECTED =
  "rasdaemon's SQLite database, mcelog output ('CPU n BANK n', 'STATUS ... MCGSTATUS'), kernel log lines from dmesg, " +
  "journalctl -k or /dev/kmsg ('mce: ...', 'Memory failure: 0x<pfn>: ...', EDAC's 'EDAC MCn: n UE ...') " +
  'or a SmartMem-style CSV whose header has row and column columns';

/**
 * A kernel log line: the message starts the line or follows the log's prefix (a dmesg
 * timestamp "] ", syslog's "kernel: ", /dev/kmsg's ";" or a "<n>" level), so that a
 * document that only quotes such messages (a README) is not taken for a log.
 */
const KERNEL_LOG_LINE = /(?:^\s*|\]\s*|kernel:\s*|;|>)(?:mce: |Memory failure: (?:0x)?[0-9a-fA-F]+: |EDAC [\w ]*MC\d+: \d+ (?:CE|UE) )/;

const isComment = (line: string) => line.trim() === '' || /^\s*(#|\/\/)/.test(line);

/** The format of `path`; throws, naming the file and what it expected, when it cannot tell. */
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
  const fail = (reason: string) => new MalformedRecordError(path, '', reason);
  if (head.subarray(0, SQLITE_MAGIC.length).equals(SQLITE_MAGIC)) return 'rasdaemon';
  if (head.subarray(0, MAGIC.length).equals(MAGIC)) return 'mfrsim';
  if (head.subarray(0, XZ_MAGIC.length).equals(XZ_MAGIC)) throw fail('xz-compressed: decompress it first (xz -dk)');
  if (head.length === 0) throw fail(`empty file; expected ${EXPECTED}`);
  const name = basename(path).toLowerCase();
  if (/\.(db|sqlite3?)$/.test(name)) throw fail("named like an SQLite database, but it is not one (no 'SQLite format 3' header)");

  const lines = head.toString('utf8').split(/\r?\n/).slice(0, SNIFF_LINES);
  // A CSV header is the first line that is not a comment.
  const header = lines.find((l) => !isComment(l))?.toLowerCase() ?? '';
  const csvHeader = header.includes(',') && /\b(row|rowid)\b/.test(header) && /\b(col|column|columnid)\b/.test(header);
  // A .csv file with a header row is read as SmartMem: its reader names any missing column.
  if (csvHeader || (name.endsWith('.csv') && header.includes(','))) return 'smartmem';
  if (lines.some((l) => /(^|\s)STATUS [0-9a-fA-F]+ MCGSTATUS\b/.test(l) || /^\s*CPU \d+ BANK \d+/.test(l))) return 'mcelog';
  if (lines.some((l) => KERNEL_LOG_LINE.test(l))) return 'kmsg';
  const first = lines.find((l) => !isComment(l)) ?? lines[0] ?? '';
  const quoted = /[\x00-\x08\x0e-\x1f]/.test(first) ? 'binary data' : `'${first.slice(0, 80)}'`;
  throw fail(
    `not an error log mfrsim reads: expected ${EXPECTED}; its first ${Math.min(lines.length, SNIFF_LINES)} lines have none of them ` +
      `(first line ${quoted}). ` +
      `Pass --format (${LOG_FORMATS.join(', ')}) if it is one of these`,
  );
}
