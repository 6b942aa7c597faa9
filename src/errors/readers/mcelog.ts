// mcelog's text log: blank-line-separated records with lines such as "CPU 0 BANK 2",
// "MISC 0 ADDR 12345000", "TIME 1422553404 Thu Jan 29 ...", "STATUS 8c000000000000b0 MCGSTATUS 0".
// ADDR is the physical byte address; STATUS is IA32_MCi_STATUS.
import { UNKNOWN_DIMM, UNKNOWN_FAULT } from '../batch.js';
import { CAUSE_UNKNOWN } from '../faults.js';
import { numberedLines, parseHex, RecordCollector, type ErrorLogImport, type ReaderOptions } from './common.js';
import { decodeMciStatus } from './mci-status.js';

interface PendingRecord {
  /** First line of the record (0: nothing seen yet). */
  line: number;
  /** A machine-check banner or "CPU n BANK n" line was seen. */
  mce: boolean;
  status: string | null;
  statusLine: number;
  addr: string | null;
  addrLine: number;
  time: number | null;
}

const RECORD_START = /^(Hardware event\b|MCE \d+$)/;
const MCE_LINE = /^(Hardware event\b|MCE \d+$)|\bCPU \d+ BANK \d+\b/;
const STATUS = /(?:^|\s)STATUS (\S+)/; // not MCGSTATUS: needs a space or the line start before it
const ADDR = /(?:^|\s)ADDR (\S+)/;
const TIME = /(?:^|\s)TIME (\S+)/;

function newRecord(): PendingRecord {
  return { line: 0, mce: false, status: null, statusLine: 0, addr: null, addrLine: 0, time: null };
}

function hasRegisters(rec: PendingRecord): boolean {
  return rec.status !== null || rec.addr !== null || rec.time !== null;
}

function finish(rec: PendingRecord, out: RecordCollector): void {
  if (!rec.mce && rec.status === null) return; // no machine-check content (banners, daemon messages)
  if (rec.status === null) return out.bad(`line ${rec.line}`, 'machine-check record without a STATUS line');
  if (!/^(0x)?[0-9a-f]{1,16}$/i.test(rec.status)) return out.bad(`line ${rec.statusLine}`, `STATUS "${rec.status}" is not a 64-bit hex value`);
  const status = decodeMciStatus(BigInt('0x' + rec.status.replace(/^0x/i, '')));
  if (!status.valid) return out.bad(`line ${rec.statusLine}`, `STATUS ${rec.status} lacks the VAL bit (63)`);
  if (!status.addressValid || rec.addr === null) return out.ignore();
  const addr = parseHex(rec.addr);
  if (addr === null) return out.bad(`line ${rec.addrLine}`, `ADDR "${rec.addr}" is not a hex physical address`);
  out.push(`line ${rec.addrLine}`, rec.time ?? 0, 0, addr, status.flags, CAUSE_UNKNOWN, UNKNOWN_DIMM, UNKNOWN_FAULT, 1);
}

/** Reads mcelog's text log. */
export function readMcelog(file: string, opts: ReaderOptions = {}): ErrorLogImport {
  const out = new RecordCollector(file, opts);
  async function* batches() {
    let rec = newRecord();
    for await (const [n, text] of numberedLines(file, out.stats)) {
      const line = text.trim();
      if (line === '' || (RECORD_START.test(line) && hasRegisters(rec))) {
        finish(rec, out);
        rec = newRecord();
        if (line === '') continue;
      }
      if (rec.line === 0) rec.line = n;
      if (MCE_LINE.test(line)) rec.mce = true;
      const status = STATUS.exec(line);
      if (status) {
        rec.status = status[1];
        rec.statusLine = n;
      }
      const addr = ADDR.exec(line);
      if (addr) {
        rec.addr = addr[1];
        rec.addrLine = n;
      }
      const time = TIME.exec(line);
      if (time) {
        const t = Number(time[1]);
        if (Number.isFinite(t)) rec.time = t;
        else out.bad(`line ${n}`, `TIME "${time[1]}" is not Unix seconds`);
      }
      const batch = out.full();
      if (batch) yield batch;
    }
    finish(rec, out);
    const rest = out.rest();
    if (rest) yield rest;
  }
  return { file, batches: batches(), stats: out.stats };
}
