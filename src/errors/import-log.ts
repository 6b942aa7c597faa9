// Opens an error log of any supported format as a stream of record batches.
import { detectFormat, type LogFormat } from './detect.js';
import type { DramMapping } from './mapping.js';
import { MalformedRecordError, type ErrorLogImport, type ReaderOptions } from './readers/common.js';
import { readKmsg } from './readers/kmsg.js';
import { readMcelog } from './readers/mcelog.js';
import { readRasdaemon, type RasdaemonTable } from './readers/rasdaemon.js';
import { readSmartmem } from './readers/smartmem.js';
import type { Topology } from './topology.js';

/** How `openErrorLog` reads a log. */
export interface OpenLogOptions extends ReaderOptions {
  /** The log's format (default 'auto': detected). */
  format?: LogFormat | 'auto';
  /** rasdaemon: the table to read. */
  table?: RasdaemonTable | 'auto';
  /** smartmem: the machines' topology and the DRAM -> physical mapping (or 'logged'). */
  topology: Topology;
  /** smartmem: the DRAM to physical mapping, or 'logged' for the logged address. */
  mapping: DramMapping | 'logged';
}

/** Opens an error log of any supported format as a stream of record batches. */
export async function openErrorLog(file: string, opts: OpenLogOptions): Promise<ErrorLogImport & { format: LogFormat }> {
  let format = opts.format ?? 'auto';
  if (format === 'auto') {
    const detected = await detectFormat(file);
    if (detected === 'mfrsim') throw new MalformedRecordError(file, '', 'already an mfrsim error stream; nothing to import');
    format = detected;
  }
  switch (format) {
    case 'rasdaemon':
      return { format, ...readRasdaemon(file, opts) };
    case 'mcelog':
      return { format, ...readMcelog(file, opts) };
    case 'kmsg':
      return { format, ...readKmsg(file, opts) };
    case 'smartmem':
      return { format, ...readSmartmem(file, opts) };
  }
}
