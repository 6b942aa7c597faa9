// What each trace format carries, and the parser that reads each text format.
import { Dramsim3Parser } from './dramsim3.js';
import { LackeyParser } from './lackey.js';
import type { LineParser } from './lines.js';
import { PerfParser } from './perf.js';
import { Ramulator1CpuParser, Ramulator1DramParser, Ramulator2Parser } from './ramulator.js';
import { TRACE_FORMATS, type TraceColumns, type TraceFormat } from './types.js';

export type TextTraceFormat = Exclude<TraceFormat, 'champsim' | 'mfrsim'>;

/** Text formats in the order auto-detection tries them (the most distinctive first). */
export const TEXT_PARSERS: Record<TextTraceFormat, () => LineParser> = {
  lackey: () => new LackeyParser(),
  ramulator2: () => new Ramulator2Parser(),
  perf: () => new PerfParser(),
  dramsim3: () => new Dramsim3Parser(),
  'ramulator1-dram': () => new Ramulator1DramParser(),
  'ramulator1-cpu': () => new Ramulator1CpuParser(),
};

const NONE: TraceColumns = { size: false, time: false, weight: false, pageSize: false };

/** The columns of each format with a fixed set (an mfrsim trace says in its header). */
export const FORMAT_COLUMNS: Record<Exclude<TraceFormat, 'mfrsim'>, TraceColumns> = {
  lackey: { ...NONE, size: true },
  'ramulator1-dram': NONE,
  'ramulator1-cpu': { ...NONE, time: true },
  ramulator2: NONE,
  dramsim3: { ...NONE, time: true },
  champsim: NONE,
  perf: { ...NONE, weight: true, pageSize: true },
};

export function isTextFormat(format: TraceFormat): format is TextTraceFormat {
  return format in TEXT_PARSERS;
}

/** True for the name of a trace format mfrsim reads. */
export function isTraceFormat(name: string): name is TraceFormat {
  return (TRACE_FORMATS as readonly string[]).includes(name);
}
