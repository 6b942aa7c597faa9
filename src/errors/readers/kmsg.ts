// Kernel log lines (dmesg, journalctl, syslog):
//   mce: Uncorrected hardware memory error in user-access at 3710b3400     (byte address; consumed, AR)
//   Memory failure: 0x3710b3: recovery action for huge page: Recovered     (raw 4 KiB pfn)
//   Memory failure: 0x3710b3: recovery action for already poisoned page: Failed  (a repeat, since Aug 2025)
//   Memory failure: 0x3710b3: already hardware poisoned                    (a repeat, older kernels)
//   EDAC MC0: 1 UE memory read error on ... (channel:0 slot:0 page:0x12345 offset:0x0 grain:32 ...)
// One memory failure prints several lines; they are one record. An "mce:" line opens a
// consumed (AR) event and the "Memory failure:" lines for its pfn that follow belong to it.
// "Memory failure:" lines for a new pfn, with no "mce:" line first, are asynchronous (AO)
// events. A repeat line is a new event (a repeat) unless the open event is the same one:
// current kernels log a consumed repeat as "mce:", "Sending SIGBUS", then "recovery action
// for already poisoned page: Failed" (kill_accessing_process runs first); kernels from 2022
// to mid 2025 log "already hardware poisoned" first and "recovery action for already
// poisoned: Failed" last; older ones only "already hardware poisoned", right after "mce:".
import { FLAG_SCRUB, FLAG_SOURCE_UNKNOWN, FLAG_UE, UNKNOWN_DIMM, UNKNOWN_FAULT } from '../batch.js';
import { CAUSE_UNKNOWN } from '../faults.js';
import { numberedLines, parseDateTime, parseHex, RecordCollector, type ErrorLogImport, type ReaderOptions } from './common.js';

const ISO_PREFIX = /^(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?)\s/;
const BOOT_SECONDS = /\[\s*(\d+\.\d+)\]/;
const MCE_MARK = 'mce: Uncorrected hardware memory error';
const MCE_LINE = /mce: Uncorrected hardware memory error in [\w-]+ at ([0-9a-fA-F]+)\s*$/;
const MF_MARK = 'Memory failure:';
const MF_LINE = /Memory failure: (0x[0-9a-fA-F]+|[0-9a-fA-F]+): (.*)$/;
const OLD_REPEAT = 'already hardware poisoned';
/** The repeat's result line ("already poisoned" before the Aug 2025 fix, "already poisoned page" after). */
const REPEAT_RESULT = /^recovery action for already poisoned( page)?:/;
const EDAC_LINE = /\bEDAC [\w ]*?MC\d+: (\d+) (CE|UE) (.*)$/;
const EDAC_PAGE = /\bpage:(0x[0-9a-fA-F]+|\d+)/;
const EDAC_OFFSET = /\boffset:(0x[0-9a-fA-F]+|\d+)/;

const PAGE_SHIFT = 12;

/** Reads a kernel log (dmesg, journalctl -k): mce:, Memory failure: and EDAC lines. */
export function readKmsg(file: string, opts: ReaderOptions = {}): ErrorLogImport {
  const out = new RecordCollector(file, opts);
  let sawBootTime = false;
  let sawWallClock = false;

  async function* batches() {
    // The event the latest mce:/Memory failure: line opened: its pfn, what opened it (an
    // "mce:" line, an "already hardware poisoned" line), whether a "Memory failure:" line
    // followed, and whether a "recovery action" line has closed it.
    let openPfn = -1;
    let openedByMce = false;
    let openedByOldRepeat = false;
    let sawMfLine = false;
    let closed = false;

    for await (const [n, line] of numberedLines(file, out.stats)) {
      const isMce = line.includes(MCE_MARK);
      const isMf = !isMce && line.includes(MF_MARK);
      const isEdac = !isMce && !isMf && line.includes('EDAC ') && /\b(CE|UE)\b/.test(line);
      if (!isMce && !isMf && !isEdac) continue;

      const where = `line ${n}`;
      const iso = ISO_PREFIX.exec(line);
      let time = iso ? parseDateTime(iso[1]) : NaN;
      sawWallClock ||= !Number.isNaN(time);
      if (Number.isNaN(time)) {
        const boot = BOOT_SECONDS.exec(line);
        time = boot ? parseFloat(boot[1]) : 0;
        sawBootTime ||= boot !== null;
      }

      if (isMce) {
        const m = MCE_LINE.exec(line);
        const addr = m ? parseHex(m[1]) : null;
        if (addr === null) {
          out.bad(where, 'an "mce: Uncorrected hardware memory error" line without a hex physical address at its end');
          continue;
        }
        out.push(where, time, 0, addr, FLAG_UE, CAUSE_UNKNOWN, UNKNOWN_DIMM, UNKNOWN_FAULT, 1);
        openPfn = Math.floor(addr / 2 ** PAGE_SHIFT);
        openedByMce = true;
        openedByOldRepeat = false;
        sawMfLine = false;
        closed = false;
      } else if (isMf) {
        const m = MF_LINE.exec(line);
        const pfn = m ? parseHex(m[1]) : null;
        if (m === null || pfn === null) {
          out.bad(where, 'a "Memory failure:" line without a pfn (expected "Memory failure: 0x<pfn>: <message>")');
          continue;
        }
        const oldRepeat = m[2].startsWith(OLD_REPEAT);
        const repeatResult = REPEAT_RESULT.test(m[2]);
        const belongs = pfn === openPfn && (
          oldRepeat ? openedByMce && !sawMfLine
            : repeatResult ? !closed && (openedByMce || openedByOldRepeat)
              : true);
        if (!belongs) {
          out.push(where, time, 0, pfn * 2 ** PAGE_SHIFT, FLAG_UE | FLAG_SCRUB, CAUSE_UNKNOWN, UNKNOWN_DIMM, UNKNOWN_FAULT, 1);
          openPfn = pfn;
          openedByMce = false;
          openedByOldRepeat = oldRepeat;
          closed = false;
        }
        sawMfLine = true;
        closed ||= m[2].startsWith('recovery action for');
      } else {
        const m = EDAC_LINE.exec(line);
        if (!m) continue; // an EDAC line mentioning CE/UE in passing (driver banners)
        const page = EDAC_PAGE.exec(m[3]);
        if (!page) {
          out.ignore(); // "no information available": the driver could not locate it
          continue;
        }
        const offset = EDAC_OFFSET.exec(m[3]);
        const pageNo = page[1].startsWith('0x') ? parseHex(page[1]) : Number(page[1]);
        const offsetNo = offset ? (offset[1].startsWith('0x') ? parseHex(offset[1]) : Number(offset[1])) : 0;
        if (pageNo === null || offsetNo === null || !Number.isSafeInteger(pageNo) || !Number.isSafeInteger(offsetNo)) {
          out.bad(where, 'an EDAC error line whose page:/offset: fields are not numbers');
          continue;
        }
        const count = Number(m[1]);
        const what = m[3].toLowerCase();
        const source = what.includes('scrub') ? FLAG_SCRUB : what.includes('read') ? 0 : FLAG_SOURCE_UNKNOWN;
        out.push(where, time, 0, pageNo * 2 ** PAGE_SHIFT + offsetNo, (m[2] === 'UE' ? FLAG_UE : 0) | source, CAUSE_UNKNOWN, UNKNOWN_DIMM, UNKNOWN_FAULT, Math.max(1, count));
      }
      const batch = out.full();
      if (batch) yield batch;
    }
    out.stats.wallClock = sawWallClock && !sawBootTime;
    const rest = out.rest();
    if (rest) yield rest;
  }
  return { file, batches: batches(), stats: out.stats };
}
