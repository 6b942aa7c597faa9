// Field datasets in the SmartMem / SmartHW style (Huawei; cf. Alibaba PAKDD 2021): CSV with a
// header row and DRAM coordinates rather than physical addresses. Columns are matched by
// name, case-insensitively; the coordinates go through the chosen DRAM -> physical mapping,
// or, with the "logged" mapping, a logged physical address column is used as it is.
import { FLAG_SCRUB, FLAG_SOURCE_UNKNOWN, FLAG_UE, UNKNOWN_DIMM, UNKNOWN_FAULT } from '../batch.js';
import { CAUSE_UNKNOWN } from '../faults.js';
import type { DramMapping } from '../mapping.js';
import { BANKS, COLUMNS, dimmIndex, type Topology } from '../topology.js';
import { MalformedRecordError, numberedLines, parseDateTime, parseHex, RecordCollector, type ErrorLogImport, type ReaderOptions } from './common.js';

/** Accepted column names, first match wins. */
export const SMARTMEM_COLUMNS = {
  time: ['log_time', 'logtime', 'error_time', 'collect_time', 'time', 'timestamp'],
  host: ['sid', 'sn_name', 'serial_number', 'sn', 'host', 'hostname', 'server'],
  socket: ['cpuid', 'cpu', 'socket', 'socketid'],
  channel: ['channelid', 'channel'],
  dimm: ['dimmid', 'dimm', 'slot'],
  rank: ['rankid', 'rank'],
  bankGroup: ['bankgroupid', 'bankgroup', 'bg'],
  bank: ['bankid', 'bank'],
  row: ['rowid', 'row'],
  column: ['columnid', 'column', 'col'],
  type: ['error_type_full_name', 'error_type', 'type'],
  address: ['mciaddr', 'phys_addr', 'physaddr', 'address', 'addr'],
} as const;

type Field = keyof typeof SMARTMEM_COLUMNS;
const COORDINATES: readonly Field[] = ['rank', 'bank', 'row', 'column'];
const BANKS_PER_GROUP = 4; // DDR4: 4 bank groups of 4 banks

/** How SmartMem-style CSV rows are placed in the physical address space. */
export interface SmartmemOptions extends ReaderOptions {
  /** The machines' memory topology. */
  topology: Topology;
  /** A DRAM mapping, or 'logged' to use the logged physical address column. */
  mapping: DramMapping | 'logged';
}

/** Splits one CSV line (RFC 4180 quoting; a record may not span lines). */
function splitCsvLine(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else cell += ch;
  }
  cells.push(cell);
  return cells;
}

function parseTime(text: string): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) {
    const value = Number(trimmed);
    return value > 1e11 ? value / 1000 : value; // milliseconds in some exports
  }
  return parseDateTime(trimmed);
}

function sourceFlags(type: string | undefined): number {
  const t = (type ?? '').toUpperCase();
  const ue = /\bUE\b|UNCORR|FATAL/.test(t) ? FLAG_UE : 0;
  const source = t.includes('SCRUB') ? FLAG_SCRUB : t.includes('READ') ? 0 : FLAG_SOURCE_UNKNOWN;
  return ue | source;
}

/** Reads SmartMem-style CSV (one error per row, DRAM coordinates or a logged address). */
export function readSmartmem(file: string, opts: SmartmemOptions): ErrorLogImport {
  const out = new RecordCollector(file, opts);
  const t = opts.topology;
  const hosts = new Map<string, number>();

  async function* batches() {
    let columns: Partial<Record<Field, number>> | null = null;
    for await (const [n, line] of numberedLines(file, out.stats)) {
      if (line.trim() === '') continue;
      const cells = splitCsvLine(line);
      if (!columns) {
        const names = cells.map((c) => c.trim().toLowerCase());
        columns = {};
        for (const field of Object.keys(SMARTMEM_COLUMNS) as Field[]) {
          const at = SMARTMEM_COLUMNS[field].map((name) => names.indexOf(name)).find((i) => i >= 0);
          if (at !== undefined) columns[field] = at;
        }
        const needed: Field[] = opts.mapping === 'logged' ? ['time', 'address'] : ['time', ...COORDINATES];
        const missing = needed.filter((f) => columns![f] === undefined);
        if (missing.length > 0) {
          throw new MalformedRecordError(
            file,
            `line ${n}`,
            `the header lacks ${missing.map((f) => `${f} (${SMARTMEM_COLUMNS[f].join('/')})`).join(', ')}`,
          );
        }
        continue;
      }
      const where = `line ${n}`;
      const cell = (f: Field): string | undefined => (columns![f] === undefined ? undefined : cells[columns![f]!]?.trim());
      const int = (f: Field, fallback: number): number | null => {
        const text = cell(f);
        if (text === undefined || text === '') return columns![f] === undefined ? fallback : null;
        return /^\d+$/.test(text) ? Number(text) : null;
      };

      const time = parseTime(cell('time') ?? '');
      if (Number.isNaN(time)) {
        out.bad(where, `time "${cell('time') ?? ''}" is neither Unix seconds nor a date`);
        continue;
      }
      const hostKey = cell('host') ?? '';
      let host = hosts.get(hostKey);
      if (host === undefined) hosts.set(hostKey, (host = hosts.size));

      let dimm = UNKNOWN_DIMM;
      let addr: number | null;
      if (opts.mapping === 'logged') {
        addr = parseHex(cell('address') ?? '');
        if (addr === null) {
          out.bad(where, `address "${cell('address') ?? ''}" is not a hex physical address`);
          continue;
        }
      } else {
        const socket = int('socket', 0);
        const channel = int('channel', 0);
        const slot = int('dimm', 0);
        const rank = int('rank', 0);
        const bankGroup = int('bankGroup', 0);
        const bankInGroup = int('bank', 0);
        const row = int('row', 0);
        const column = int('column', 0);
        const values = { socket, channel, dimm: slot, rank, bankGroup, bank: bankInGroup, row, column };
        const notNumber = Object.entries(values).find(([, v]) => v === null);
        if (notNumber) {
          out.bad(where, `${notNumber[0]} "${cell(notNumber[0] as Field) ?? ''}" is not a non-negative integer`);
          continue;
        }
        const bank = columns.bankGroup === undefined ? bankInGroup! : bankGroup! * BANKS_PER_GROUP + bankInGroup!;
        const limits: [string, number, number][] = [
          ['socket', socket!, t.sockets],
          ['channel', channel!, t.channelsPerSocket],
          ['dimm', slot!, t.dimmsPerChannel],
          ['rank', rank!, t.ranksPerDimm],
          ['bank', bank, BANKS],
          ['row', row!, t.rows],
          ['column', column!, COLUMNS],
        ];
        const outside = limits.find(([, v, limit]) => v >= limit);
        if (outside) {
          out.bad(where, `${outside[0]} ${outside[1]} is outside the topology (${outside[2]} per level); describe the machines with the topology options`);
          continue;
        }
        dimm = dimmIndex(t, socket!, channel!, slot!);
        addr = opts.mapping.physAddr(dimm, rank!, bank, row!, column!);
      }
      out.push(where, time, host, addr, sourceFlags(cell('type')), CAUSE_UNKNOWN, dimm, UNKNOWN_FAULT, 1);
      const batch = out.full();
      if (batch) yield batch;
    }
    out.stats.hostCount = Math.max(1, hosts.size);
    const rest = out.rest();
    if (rest) yield rest;
  }
  return { file, batches: batches(), stats: out.stats };
}
