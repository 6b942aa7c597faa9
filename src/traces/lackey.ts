// Valgrind lackey (`valgrind --tool=lackey --trace-mem=yes`): `I  0023C790,2`,
// ` L BE801950,4`, ` S BE80199C,4`, ` M 0025747C,1`; valgrind's own `==pid==` lines are skipped.
import { pushAccess } from './batch.js';
import {
  HEX_DIGIT,
  LineError,
  endLine,
  expected,
  findNewline,
  lineText,
  nextLineStart,
  parseDec,
  parseHex,
  parsedEnd,
  requireSpaces,
  type LineParser,
} from './lines.js';
import { ACCESS_IFETCH, ACCESS_READ, ACCESS_WRITE, type AccessBatch } from './types.js';

const CHAR_I = 0x49;
const CHAR_L = 0x4c;
const CHAR_S = 0x53;
const CHAR_M = 0x4d;
const CHAR_EQUALS = 0x3d;
const SPACE = 0x20;
const COMMA = 0x2c;
const NEWLINE = 0x0a;
const MAX_SIZE = 0xffff;
/** The fast path takes addresses of up to 13 hex digits (below 2^52: no overflow check). */
const FAST_HEX_DIGITS = 13;

export class LackeyParser implements LineParser {
  readonly maxEventsPerLine = 2;
  readonly skipped = 0;
  runLines = 0;
  private eventIndex = 0;

  /**
   * The records valgrind writes, `I  ADDR,SIZE` and ` X ADDR,SIZE` with a newline, in one
   * loop with the event index and batch length in locals; anything else goes to parseLine.
   */
  parseRun(buf: Uint8Array, start: number, limit: number, out: AccessBatch, flushAbove: number): number {
    // Only whole lines: a last line without its newline is parseLine's.
    if (limit > start && buf[limit - 1] !== NEWLINE) limit = buf.lastIndexOf(NEWLINE, limit - 1) + 1;
    const { addr: addrs, kind: kinds, size: sizes, time } = out;
    let n = out.length;
    let index = this.eventIndex;
    let p = start;
    let lines = 0;
    while (p < limit && n <= flushAbove) {
      const first = buf[p];
      const op = buf[p + 1];
      let kind: number;
      if (first === CHAR_I && op === SPACE) kind = ACCESS_IFETCH;
      else if (first === SPACE && (op === CHAR_L || op === CHAR_M)) kind = ACCESS_READ;
      else if (first === SPACE && op === CHAR_S) kind = ACCESS_WRITE;
      else break;
      let q = p + 2;
      if (buf[q] !== SPACE) break;
      q++;
      // Every line in [p, limit) ends in a newline, which stops both digit loops. Valgrind
      // writes at least 8 hex digits: when there are, they are decoded at once into an int32
      // (no branch per digit), the rest one by one.
      const digits = q;
      let addr = 0;
      if (q + 8 <= limit) {
        const d0 = HEX_DIGIT[buf[q]];
        const d1 = HEX_DIGIT[buf[q + 1]];
        const d2 = HEX_DIGIT[buf[q + 2]];
        const d3 = HEX_DIGIT[buf[q + 3]];
        const d4 = HEX_DIGIT[buf[q + 4]];
        const d5 = HEX_DIGIT[buf[q + 5]];
        const d6 = HEX_DIGIT[buf[q + 6]];
        const d7 = HEX_DIGIT[buf[q + 7]];
        if ((d0 | d1 | d2 | d3 | d4 | d5 | d6 | d7) >= 0) {
          addr = ((d0 << 28) | (d1 << 24) | (d2 << 20) | (d3 << 16) | (d4 << 12) | (d5 << 8) | (d6 << 4) | d7) >>> 0;
          q += 8;
        }
      }
      let digit = HEX_DIGIT[buf[q]];
      while (digit >= 0) {
        addr = addr * 16 + digit;
        digit = HEX_DIGIT[buf[++q]];
      }
      if (q === digits || q - digits > FAST_HEX_DIGITS || buf[q] !== COMMA) break;
      let size = 0;
      let d = buf[++q] - 0x30;
      const sizeStart = q;
      while (d >= 0 && d <= 9) {
        size = size * 10 + d;
        d = buf[++q] - 0x30;
      }
      if (q === sizeStart || size > MAX_SIZE || buf[q] !== NEWLINE) break;
      addrs[n] = addr;
      kinds[n] = kind;
      sizes[n] = size;
      time[n++] = index++;
      // A modify is a load followed by a store of the same bytes.
      if (op === CHAR_M) {
        addrs[n] = addr;
        kinds[n] = ACCESS_WRITE;
        sizes[n] = size;
        time[n++] = index++;
      }
      p = q + 1;
      lines++;
    }
    out.length = n;
    this.eventIndex = index;
    this.runLines = lines;
    return p;
  }

  parseLine(buf: Uint8Array, start: number, limit: number, out: AccessBatch): number {
    // Instruction fetches start in column 0, data accesses in column 1.
    const first = buf[start];
    const op = buf[start + 1];
    let kind: number;
    if (first === CHAR_I) kind = ACCESS_IFETCH;
    else if (first === SPACE && (op === CHAR_L || op === CHAR_M)) kind = ACCESS_READ;
    else if (first === SPACE && op === CHAR_S) kind = ACCESS_WRITE;
    else if (first === CHAR_EQUALS && op === CHAR_EQUALS) return nextLineStart(findNewline(buf, start, limit), limit);
    else throw notARecord(buf, start, limit);

    let p = requireSpaces(buf, first === SPACE ? start + 2 : start + 1, limit, 'the operation');
    const addr = parseHex(buf, p, limit, 'address');
    p = parsedEnd;
    if (p >= limit || buf[p] !== COMMA) throw expected(buf, p, limit, "',' after the address");
    const size = parseDec(buf, p + 1, limit, 'size');
    const next = endLine(buf, parsedEnd, limit, 'the size');
    if (size > MAX_SIZE) throw sizeTooLarge(size);

    pushAccess(out, addr, kind, size, this.eventIndex++);
    // A modify is a load followed by a store of the same bytes.
    if (op === CHAR_M) pushAccess(out, addr, ACCESS_WRITE, size, this.eventIndex++);
    return next;
  }
}

// Error messages are built out of line so that parseLine stays small enough to be inlined.
function notARecord(buf: Uint8Array, start: number, limit: number): LineError {
  return new LineError(`not a lackey record: '${lineText(buf, start, limit)}'`);
}

function sizeTooLarge(size: number): LineError {
  return new LineError(`access size ${size} is above ${MAX_SIZE}`);
}
