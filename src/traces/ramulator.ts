// Ramulator traces. Ramulator 1 reads two kinds: DRAM traces (`0x12345680 R`, fed straight to
// the memory controller) and CPU traces (`<ninst> <readAddr>[ <writebackAddr>]`, where ninst
// counts the non-memory instructions before the access). Ramulator 2's LoadStoreTrace frontend
// reads `LD <addr>` / `ST <addr>`.
import { pushAccess } from './batch.js';
import {
  LineError,
  bytesEqual,
  endLine,
  expected,
  parseDec,
  parseHexOrDec,
  parsePrefixedHex,
  parsedEnd,
  requireSpaces,
  skipSpaces,
  text,
  tokenEnd,
  type LineParser,
} from './lines.js';
import { ACCESS_READ, ACCESS_WRITE, type AccessBatch } from './types.js';

const NEWLINE = 0x0a;
const RETURN = 0x0d;

/** Ramulator 1 DRAM mode: hex address (0x optional), then R or W. */
export class Ramulator1DramParser implements LineParser {
  readonly maxEventsPerLine = 1;
  readonly skipped = 0;
  private eventIndex = 0;

  parseLine(buf: Uint8Array, start: number, limit: number, out: AccessBatch): number {
    const addr = parsePrefixedHex(buf, skipSpaces(buf, start, limit), limit, 'address');
    const opStart = requireSpaces(buf, parsedEnd, limit, 'the address');
    const opEnd = tokenEnd(buf, opStart, limit);
    let kind: number;
    if (bytesEqual(buf, opStart, opEnd, 'R')) kind = ACCESS_READ;
    else if (bytesEqual(buf, opStart, opEnd, 'W')) kind = ACCESS_WRITE;
    else throw expected(buf, opStart, limit, 'R or W');
    const next = endLine(buf, opEnd, limit, 'the operation');
    pushAccess(out, addr, kind, 0, this.eventIndex++);
    return next;
  }
}

/**
 * Ramulator 1 CPU mode. Time is the instruction count: each line stands for `ninst` other
 * instructions followed by the memory instruction, so its read happens at the running count
 * plus ninst. The optional writeback (a dirty line evicted by the read) shares that time.
 */
export class Ramulator1CpuParser implements LineParser {
  readonly maxEventsPerLine = 2;
  readonly skipped = 0;
  private instructions = 0;

  parseLine(buf: Uint8Array, start: number, limit: number, out: AccessBatch): number {
    const bubbles = parseDec(buf, skipSpaces(buf, start, limit), limit, 'instruction count');
    let p = requireSpaces(buf, parsedEnd, limit, 'the instruction count');
    const read = parseHexOrDec(buf, p, limit, 'read address');
    p = skipSpaces(buf, parsedEnd, limit);
    const time = this.instructions + bubbles;
    this.instructions = time + 1;
    if (p < limit && buf[p] !== NEWLINE && buf[p] !== RETURN) {
      if (p === parsedEnd) throw expected(buf, p, limit, 'a space after the read address');
      const writeback = parseHexOrDec(buf, p, limit, 'writeback address');
      p = endLine(buf, parsedEnd, limit, 'the writeback address');
      pushAccess(out, read, ACCESS_READ, 0, time);
      pushAccess(out, writeback, ACCESS_WRITE, 0, time);
      return p;
    }
    p = endLine(buf, p, limit, 'the read address');
    pushAccess(out, read, ACCESS_READ, 0, time);
    return p;
  }
}

/** Ramulator 2 LoadStoreTrace: `LD 0x12340` or `ST 4096` (0x-prefixed hex or decimal). */
export class Ramulator2Parser implements LineParser {
  readonly maxEventsPerLine = 1;
  readonly skipped = 0;
  private eventIndex = 0;

  parseLine(buf: Uint8Array, start: number, limit: number, out: AccessBatch): number {
    const opStart = skipSpaces(buf, start, limit);
    const opEnd = tokenEnd(buf, opStart, limit);
    let kind: number;
    if (bytesEqual(buf, opStart, opEnd, 'LD')) kind = ACCESS_READ;
    else if (bytesEqual(buf, opStart, opEnd, 'ST')) kind = ACCESS_WRITE;
    else throw new LineError(`expected LD or ST, found '${text(buf, opStart, opEnd)}'`);
    const addr = parseHexOrDec(buf, requireSpaces(buf, opEnd, limit, 'the operation'), limit, 'address');
    const next = endLine(buf, parsedEnd, limit, 'the address');
    pushAccess(out, addr, kind, 0, this.eventIndex++);
    return next;
  }
}
