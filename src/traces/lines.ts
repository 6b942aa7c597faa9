// The shared machinery of the text readers: a chunked line scanner over a byte source, number
// and token parsers that work on the byte buffer (no string per line, no regex), and the loop
// that turns parsed lines into batches. A format only supplies a LineParser.
//
// Parsers pass positions as arguments and return values, rather than moving a cursor object:
// measured on lackey, a cursor kept in object fields ran at about two thirds of this speed.
import type { AccessBatch } from './types.js';
import { CompressedDataError, TraceFormatError } from './errors.js';
import { readFully, type ByteSource } from './source.js';

/** Bytes per read. */
const LINE_CHUNK_SIZE = 4 << 20;
/** The longest line accepted. */
const MAX_LINE = 1 << 20;

const NEWLINE = 0x0a;
const RETURN = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const HASH = 0x23;

/** Value of each byte as a hex digit, -1 when it is not one. */
export const HEX_DIGIT = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX_DIGIT[0x30 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX_DIGIT[0x41 + i] = 10 + i;
  HEX_DIGIT[0x61 + i] = 10 + i;
}

/** A malformed line; the reading loop adds the file and line number. */
export class LineError extends Error {}

/** Where the last parse* call stopped; read it right after the call. */
export let parsedEnd = 0;

/** Parses hex digits (no prefix) at `p`; fails unless there is at least one, or above 2^53-1. */
export function parseHex(buf: Uint8Array, p: number, limit: number, what: string): number {
  let q = p;
  let value = 0;
  while (q < limit) {
    const digit = HEX_DIGIT[buf[q]];
    if (digit < 0) break;
    value = value * 16 + digit;
    q++;
  }
  if (q === p || value > Number.MAX_SAFE_INTEGER) throw numberError(buf, p, q, limit, what, 'hex');
  parsedEnd = q;
  return value;
}

/** Parses decimal digits at `p`; fails unless there is at least one, or above 2^53-1. */
export function parseDec(buf: Uint8Array, p: number, limit: number, what: string): number {
  let q = p;
  let value = 0;
  while (q < limit) {
    const digit = buf[q] - 0x30;
    if (digit < 0 || digit > 9) break;
    value = value * 10 + digit;
    q++;
  }
  if (q === p || value > Number.MAX_SAFE_INTEGER) throw numberError(buf, p, q, limit, what, 'decimal');
  parsedEnd = q;
  return value;
}

/** Parses hex with an optional 0x/0X prefix. */
export function parsePrefixedHex(buf: Uint8Array, p: number, limit: number, what: string): number {
  return parseHex(buf, hasHexPrefix(buf, p, limit) ? p + 2 : p, limit, what);
}

/** Parses 0x-prefixed hex or plain decimal. */
export function parseHexOrDec(buf: Uint8Array, p: number, limit: number, what: string): number {
  return hasHexPrefix(buf, p, limit) ? parseHex(buf, p + 2, limit, what) : parseDec(buf, p, limit, what);
}

/** Parses the whole of [start, end) as hex digits (no prefix). */
export function parseHexToken(buf: Uint8Array, start: number, end: number, what: string): number {
  const value = parseHex(buf, start, end, what);
  if (parsedEnd !== end) throw new LineError(`${what} '${text(buf, start, end)}' is not a hex number`);
  return value;
}

/** Parses the whole of [start, end) as decimal digits. */
export function parseDecToken(buf: Uint8Array, start: number, end: number, what: string): number {
  const value = parseDec(buf, start, end, what);
  if (parsedEnd !== end) throw new LineError(`${what} '${text(buf, start, end)}' is not a decimal number`);
  return value;
}

/** Whether [start, end) is a non-empty run of hex digits. */
export function isHexToken(buf: Uint8Array, start: number, end: number): boolean {
  for (let p = start; p < end; p++) if (HEX_DIGIT[buf[p]] < 0) return false;
  return end > start;
}

function hasHexPrefix(buf: Uint8Array, p: number, limit: number): boolean {
  return p + 1 < limit && buf[p] === 0x30 && (buf[p + 1] | 0x20) === 0x78;
}

export function skipSpaces(buf: Uint8Array, p: number, limit: number): number {
  while (p < limit && (buf[p] === SPACE || buf[p] === TAB)) p++;
  return p;
}

/** Skips at least one space; fails otherwise. */
export function requireSpaces(buf: Uint8Array, p: number, limit: number, after: string): number {
  const q = skipSpaces(buf, p, limit);
  if (q === p) throw expected(buf, p, limit, `a space after ${after}`);
  return q;
}

/** The end of the token (run of non-space bytes) starting at `p`. */
export function tokenEnd(buf: Uint8Array, p: number, limit: number): number {
  while (p < limit && !isSeparator(buf[p])) p++;
  return p;
}

/** Moves `end` back over spaces, not before `from`. */
export function trimEnd(buf: Uint8Array, from: number, end: number): number {
  while (end > from && (buf[end - 1] === SPACE || buf[end - 1] === TAB)) end--;
  return end;
}

/** The start of the token that ends at `end` (which follows a non-space), not before `from`. */
export function tokenStart(buf: Uint8Array, from: number, end: number): number {
  while (end > from && buf[end - 1] !== SPACE && buf[end - 1] !== TAB) end--;
  return end;
}

/** Position of the newline that ends the line containing `p`, or `limit`. */
export function findNewline(buf: Uint8Array, p: number, limit: number): number {
  while (p < limit && buf[p] !== NEWLINE) p++;
  return p;
}

/** The end of the line's content: `newline`, or one before it after a `\r`. */
export function contentEnd(buf: Uint8Array, lineStart: number, newline: number): number {
  return newline > lineStart && buf[newline - 1] === RETURN ? newline - 1 : newline;
}

/** Past the newline after `newline` (a position from findNewline). */
export function nextLineStart(newline: number, limit: number): number {
  return newline < limit ? newline + 1 : limit;
}

/** Finishes a line: only spaces may remain. Returns where the next line starts. */
export function endLine(buf: Uint8Array, p: number, limit: number, after: string): number {
  if (p < limit && buf[p] === NEWLINE) return p + 1; // the usual case, decided at once
  const q = blankRest(buf, p, limit);
  if (q < 0) throw new LineError(`unexpected ${describe(buf, skipSpaces(buf, p, limit), limit)} after ${after}`);
  return q;
}

/** Where the next line starts if only spaces remain on this one, else -1. */
function blankRest(buf: Uint8Array, p: number, limit: number): number {
  p = skipSpaces(buf, p, limit);
  if (p < limit && buf[p] === RETURN) p++;
  if (p === limit) return p;
  return buf[p] === NEWLINE ? p + 1 : -1;
}

/** Whether [start, end) holds exactly the ASCII bytes of `word`. */
export function bytesEqual(buf: Uint8Array, start: number, end: number, word: string): boolean {
  if (end - start !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (buf[start + i] !== word.charCodeAt(i)) return false;
  return true;
}

export function text(buf: Uint8Array, start: number, end: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1');
}

/** The line that starts at `lineStart`, for error messages. */
export function lineText(buf: Uint8Array, lineStart: number, limit: number): string {
  return text(buf, lineStart, contentEnd(buf, lineStart, findNewline(buf, lineStart, limit)));
}

/** "expected WHAT, found <token at p>". */
export function expected(buf: Uint8Array, p: number, limit: number, what: string): LineError {
  return new LineError(`expected ${what}, found ${describe(buf, p, limit)}`);
}

function numberError(buf: Uint8Array, p: number, q: number, limit: number, what: string, base: string): LineError {
  if (q === p) return expected(buf, p, limit, `a ${base} ${what}`);
  return new LineError(`${what} ${text(buf, p, q)} is above 2^53-1`);
}

function describe(buf: Uint8Array, p: number, limit: number): string {
  if (p >= limit || buf[p] === NEWLINE || buf[p] === RETURN) return 'end of line';
  return `'${text(buf, p, Math.min(tokenEnd(buf, p + 1, limit), p + 24))}'`;
}

function isSeparator(byte: number): boolean {
  return byte === SPACE || byte === TAB || byte === NEWLINE || byte === RETURN;
}

/**
 * Reads a source in large chunks and exposes runs of complete lines: after `fill()`,
 * buf[pos, regionEnd) holds whole lines (the last one may lack its newline at the end of the
 * source). Two buffers alternate so that the next chunk is read while this one is parsed; each
 * has room before its chunk for the partial line carried over from the previous one.
 */
export class LineScanner {
  buf: Buffer;
  pos: number;
  regionEnd: number;
  /** Lines consumed so far. */
  lineNo = 0;
  private spare: Buffer;
  private dataEnd: number;
  private readonly maxLine: number;
  private prefetch: Promise<ReadResult> | null = null;
  private eof = false;

  /**
   * @param chunkSize bytes per read
   * @param maxLine the longest line accepted (at most chunkSize)
   */
  constructor(
    private readonly source: ByteSource,
    readonly file: string,
    private readonly chunkSize = LINE_CHUNK_SIZE,
    maxLine = MAX_LINE,
  ) {
    this.maxLine = Math.min(maxLine, chunkSize);
    this.buf = Buffer.allocUnsafe(this.maxLine + chunkSize);
    this.spare = Buffer.allocUnsafe(this.maxLine + chunkSize);
    this.pos = this.regionEnd = this.dataEnd = this.maxLine;
  }

  /** Loads the next run of complete lines; false at the end of the source. */
  async fill(): Promise<boolean> {
    if (this.eof) return false;
    const tail = this.dataEnd - this.pos;
    if (tail > this.maxLine) throw this.error(this.lineNo + 1, `line longer than ${this.maxLine} bytes`);
    const result = await (this.prefetch ?? this.read(this.spare));
    this.prefetch = null;
    if (result.error) throw result.error;

    // The partial line goes just before the new chunk, then the buffers swap.
    const next = this.spare;
    const start = this.maxLine - tail;
    this.buf.copy(next, start, this.pos, this.dataEnd);
    this.spare = this.buf;
    this.buf = next;
    this.pos = start;
    this.dataEnd = this.maxLine + result.bytes;

    if (result.bytes < this.chunkSize) {
      this.eof = true;
      this.regionEnd = this.dataEnd;
      return this.dataEnd > start;
    }
    const lastNewline = next.lastIndexOf(NEWLINE, this.dataEnd - 1);
    if (lastNewline < this.maxLine) throw this.error(this.lineNo + 1, `line longer than ${this.maxLine} bytes`);
    this.regionEnd = lastNewline + 1;
    this.prefetch = this.read(this.spare);
    return true;
  }

  error(line: number, reason: string): TraceFormatError {
    return new TraceFormatError(this.file, line, reason);
  }

  /** Reads a chunk into `into`; failures are returned, as a prefetch may never be awaited. */
  private read(into: Buffer): Promise<ReadResult> {
    return readFully(this.source, into, this.maxLine, this.chunkSize).then(
      (bytes) => ({ bytes }),
      (err: unknown) => ({
        bytes: 0,
        error: err instanceof CompressedDataError ? this.error(this.lineNo + 1, err.message) : err,
      }),
    );
  }
}

interface ReadResult {
  bytes: number;
  error?: unknown;
}

/** Turns one line of a text format into events. */
export interface LineParser {
  /** The most events one line can produce. */
  readonly maxEventsPerLine: number;
  /** Lines read but not turned into events (not counting blank or comment lines). */
  readonly skipped: number;
  /**
   * Parses the line starting at `start` (it ends at the next newline, or at `limit`), appends
   * its events and returns where the next line starts. Throws LineError when malformed.
   */
  parseLine(buf: Uint8Array, start: number, limit: number, out: AccessBatch): number;
  /**
   * Optional fast path: parses the run of lines from `start` that are in the format's most
   * common form, while the batch holds at most `flushAbove` events, and returns where it
   * stopped: at `limit`, at a full batch, or at the first line it leaves to parseLine (any
   * other form, blank lines and every malformed line, so errors read the same). Sets
   * `runLines` to the lines it parsed.
   */
  parseRun?(buf: Uint8Array, start: number, limit: number, out: AccessBatch, flushAbove: number): number;
  readonly runLines?: number;
}

/** Reads a text trace through `parser`, yielding `batch` (reused) whenever it is full. */
export async function* lineBatches(
  scanner: LineScanner,
  parser: LineParser,
  batch: AccessBatch,
): AsyncGenerator<AccessBatch, void, undefined> {
  const flushAbove = batch.addr.length - parser.maxEventsPerLine;
  batch.length = 0;
  while (await scanner.fill()) {
    while (parseLines(scanner, parser, batch, flushAbove)) {
      yield batch;
      batch.length = 0;
    }
  }
  if (batch.length > 0) yield batch;
}

/**
 * Parses loaded lines until the batch is full (true) or the run is used up (false). Kept out
 * of the generator so that the hot loop is ordinary optimised code.
 */
function parseLines(scanner: LineScanner, parser: LineParser, batch: AccessBatch, flushAbove: number): boolean {
  const buf = scanner.buf;
  const limit = scanner.regionEnd;
  let p = scanner.pos;
  let line = scanner.lineNo;
  const fast = parser.parseRun !== undefined;
  try {
    while (p < limit) {
      if (fast) {
        p = parser.parseRun!(buf, p, limit, batch, flushAbove);
        line += parser.runLines!;
        if (batch.length > flushAbove) {
          scanner.pos = p;
          scanner.lineNo = line;
          return true;
        }
        if (p >= limit) break;
      }
      line++;
      // Only a line starting with a space or a control byte can be blank; '#' starts a comment.
      const blankEnd = buf[p] <= SPACE ? blankRest(buf, p, limit) : buf[p] === HASH ? nextLineStart(findNewline(buf, p, limit), limit) : -1;
      p = blankEnd >= 0 ? blankEnd : parser.parseLine(buf, p, limit, batch);
      if (batch.length > flushAbove) {
        scanner.pos = p;
        scanner.lineNo = line;
        return true;
      }
    }
  } catch (err) {
    if (err instanceof LineError) throw scanner.error(line, err.message);
    throw err;
  }
  scanner.pos = p;
  scanner.lineNo = line;
  return false;
}
