// DRAMsim3 traces: `0x2000D5C0 READ 30` (hex address, operation, decimal cycle). WRITE, write,
// P_MEM_WR and BOFF are writes (the set DRAMsim's trace readers treat as writes); any other
// operation word is a read.
import { pushAccess } from './batch.js';
import {
  LineError,
  bytesEqual,
  endLine,
  parseDec,
  parsePrefixedHex,
  parsedEnd,
  requireSpaces,
  skipSpaces,
  text,
  tokenEnd,
  type LineParser,
} from './lines.js';
import { ACCESS_READ, ACCESS_WRITE, type AccessBatch } from './types.js';

const WRITE_OPS = ['WRITE', 'write', 'P_MEM_WR', 'BOFF'];

export class Dramsim3Parser implements LineParser {
  readonly maxEventsPerLine = 1;
  readonly skipped = 0;

  parseLine(buf: Uint8Array, start: number, limit: number, out: AccessBatch): number {
    const addr = parsePrefixedHex(buf, skipSpaces(buf, start, limit), limit, 'address');
    const opStart = requireSpaces(buf, parsedEnd, limit, 'the address');
    const opEnd = tokenEnd(buf, opStart, limit);
    if (!isOperationWord(buf, opStart, opEnd)) {
      throw new LineError(`expected an operation such as READ or WRITE, found '${text(buf, opStart, opEnd)}'`);
    }
    const kind = isWriteOp(buf, opStart, opEnd) ? ACCESS_WRITE : ACCESS_READ;
    const cycle = parseDec(buf, requireSpaces(buf, opEnd, limit, 'the operation'), limit, 'cycle');
    const next = endLine(buf, parsedEnd, limit, 'the cycle');
    pushAccess(out, addr, kind, 0, cycle);
    return next;
  }
}

function isWriteOp(buf: Uint8Array, start: number, end: number): boolean {
  for (const op of WRITE_OPS) if (bytesEqual(buf, start, end, op)) return true;
  return false;
}

/** A letter followed by letters, digits or underscores (so a number is never an operation). */
function isOperationWord(buf: Uint8Array, start: number, end: number): boolean {
  if (start === end || !isLetter(buf[start])) return false;
  for (let p = start + 1; p < end; p++) {
    const b = buf[p];
    if (!isLetter(b) && !(b >= 0x30 && b <= 0x39) && b !== 0x5f) return false;
  }
  return true;
}

function isLetter(b: number): boolean {
  const lower = b | 0x20;
  return lower >= 0x61 && lower <= 0x7a;
}
