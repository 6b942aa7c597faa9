// Valgrind lackey (`valgrind --tool=lackey --trace-mem=yes`): `I  0023C790,2`,
// ` L BE801950,4`, ` S BE80199C,4`, ` M 0025747C,1`; valgrind's own `==pid==` lines are skipped.
import { pushAccess } from './batch.js';
import {
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
const MAX_SIZE = 0xffff;

export class LackeyParser implements LineParser {
  readonly maxEventsPerLine = 2;
  readonly skipped = 0;
  private eventIndex = 0;

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
