/**
 * Memory-error streams: the DRAM fault model and incident generators, their calibration,
 * mfrsim's binary stream format, and readers for real error logs.
 *
 * @module mfrsim/errors
 */
export * from './portable.js';
export { detectFormat, LOG_FORMATS, type DetectedFormat, type LogFormat } from './detect.js';
export {
  ErrorStreamWriter,
  inspectErrorStream,
  readErrorStream,
  readErrorStreamHeader,
  STREAM_GENERATED,
  STREAM_WALL_CLOCK,
  StreamFormatError,
  writeErrorStream,
  type ReadStreamOptions,
  type StreamCheck,
  type StreamHeader,
} from './format.js';
export { openErrorLog, type OpenLogOptions } from './import-log.js';
export { MalformedRecordError, type ErrorLogImport, type ImportStats, type ReaderOptions } from './readers/common.js';
export { readKmsg } from './readers/kmsg.js';
export { readMcelog } from './readers/mcelog.js';
export { readRasdaemon, RASDAEMON_TABLES, type RasdaemonOptions, type RasdaemonTable } from './readers/rasdaemon.js';
export { readSmartmem, SMARTMEM_COLUMNS, type SmartmemOptions } from './readers/smartmem.js';
