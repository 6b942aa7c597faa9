// perf samples with physical addresses: the text of
//   perf script -F comm,event,addr,phys_addr,data_page_size        (weight 1), or
//   perf script -F comm,period,event,addr,phys_addr,data_page_size (weight = period)
// after `perf mem record --phys-data --data-page-size`. perf prints, in this order,
// `%16s ` comm, `%10u ` period, `%*s: ` event, `%16x` addr, `%16x` phys_addr and ` %s` page
// size (4K, 2M, 1G, N/A). Commands may contain spaces, so lines are read from the right.
import { pushSample } from './batch.js';
import {
  LineError,
  bytesEqual,
  contentEnd,
  findNewline,
  isHexToken,
  lineText,
  nextLineStart,
  parseDec,
  parseDecToken,
  parseHexToken,
  parsedEnd,
  text,
  tokenStart,
  trimEnd,
  type LineParser,
} from './lines.js';
import { ACCESS_READ, ACCESS_WRITE, type AccessBatch } from './types.js';

const STORE = 'store';
const HASH = 0x23;
const COLON = 0x3a;
const MAX_PAGE_SIZE = 0xffffffff;
const UNIT_SHIFT: Record<number, number> = { 0x42: 0, 0x4b: 10, 0x4d: 20, 0x47: 30 }; // B K M G

export class PerfParser implements LineParser {
  readonly maxEventsPerLine = 1;
  /** Samples whose physical address perf could not resolve (printed as 0). */
  skipped = 0;
  private eventIndex = 0;

  parseLine(buf: Uint8Array, start: number, limit: number, out: AccessBatch): number {
    const newline = findNewline(buf, start, limit);
    const next = nextLineStart(newline, limit);
    if (buf[start] === HASH) return next; // header and comment lines

    let end = trimEnd(buf, start, contentEnd(buf, start, newline));
    let tokStart = tokenStart(buf, start, end);
    const pageSize = parsePageSize(buf, tokStart, end);

    end = trimEnd(buf, start, tokStart);
    tokStart = tokenStart(buf, start, end);
    if (tokStart === end || buf[end - 1] === COLON) throw missing(buf, start, limit, 'phys_addr');
    const physAddr = parseHexToken(buf, tokStart, end, 'phys_addr');

    // The virtual address is not used, and may be a kernel one above 2^53: only check it.
    end = trimEnd(buf, start, tokStart);
    tokStart = tokenStart(buf, start, end);
    if (tokStart === end || buf[end - 1] === COLON) throw missing(buf, start, limit, 'addr');
    if (!isHexToken(buf, tokStart, end)) throw new LineError(`addr '${text(buf, tokStart, end)}' is not a hex number`);

    // The event name ends with ':'; the token before it, if numeric and preceded by the
    // command, is the period.
    end = trimEnd(buf, start, tokStart);
    if (end === start || buf[end - 1] !== COLON) throw missing(buf, start, limit, "the event name ending in ':'");
    const eventStart = tokenStart(buf, start, end - 1);
    if (eventStart === end - 1) throw missing(buf, start, limit, 'the event name');
    const kind = containsStore(buf, eventStart, end - 1) ? ACCESS_WRITE : ACCESS_READ;
    let weight = 1;
    end = trimEnd(buf, start, eventStart);
    if (end > start) {
      const periodStart = tokenStart(buf, start, end);
      if (periodStart > start && isDigits(buf, periodStart, end)) weight = parseDecToken(buf, periodStart, end, 'period');
    }

    if (physAddr === 0) this.skipped++;
    else pushSample(out, physAddr, kind, weight, pageSize, this.eventIndex++);
    return next;
  }
}

/** `4K`, `2M`, `1G`, `512B` (perf's unit_number__scnprintf) or `N/A` (unknown, 0). */
function parsePageSize(buf: Uint8Array, start: number, end: number): number {
  if (bytesEqual(buf, start, end, 'N/A')) return 0;
  const value = parseDec(buf, start, end, 'data_page_size');
  const shift = parsedEnd === end - 1 ? UNIT_SHIFT[buf[end - 1]] : undefined;
  if (shift === undefined) {
    throw new LineError(`data_page_size '${text(buf, start, end)}' is not like 4K, 2M, 1G or N/A`);
  }
  const bytes = value * 2 ** shift;
  if (bytes > MAX_PAGE_SIZE) throw new LineError(`data_page_size ${text(buf, start, end)} is above 4 GiB`);
  return bytes;
}

function missing(buf: Uint8Array, start: number, limit: number, what: string): LineError {
  return new LineError(
    `expected 'comm [period] event: addr phys_addr data_page_size', missing ${what} in '${lineText(buf, start, limit).trim()}'`,
  );
}

function isDigits(buf: Uint8Array, start: number, end: number): boolean {
  for (let p = start; p < end; p++) if (buf[p] < 0x30 || buf[p] > 0x39) return false;
  return true;
}

/** Store events (mem-stores, all_stores, ...) name themselves; everything else is a load. */
function containsStore(buf: Uint8Array, start: number, end: number): boolean {
  for (let p = start; p + STORE.length <= end; p++) {
    let i = 0;
    while (i < STORE.length && (buf[p + i] | 0x20) === STORE.charCodeAt(i)) i++;
    if (i === STORE.length) return true;
  }
  return false;
}
