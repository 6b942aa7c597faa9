// Memory-error streams: the DRAM fault model and incident generators, their calibration,
// mfrsim's binary stream format, and readers for real error logs.
export {
  ErrorBatchBuilder,
  FLAG_INTERMITTENT,
  FLAG_PERMANENT,
  FLAG_SCRUB,
  FLAG_SOURCE_UNKNOWN,
  FLAG_UE,
  UNKNOWN_DIMM,
  UNKNOWN_FAULT,
  type ErrorBatch,
} from './batch.js';
export { CALIBRATION_TARGETS, computeCalibration, FleetTally, formatCalibration, type CalibrationReport } from './calibration.js';
export { parseGeneratorConfig, type GeneratorConfig, type GeneratorConfigInput } from './config.js';
export { detectFormat, LOG_FORMATS, type DetectedFormat, type LogFormat } from './detect.js';
export { CAUSE_CHANNEL_EVENT, CAUSE_INCIDENT_BASE, CAUSE_OVERLAP, CAUSE_UNKNOWN, HOURS_PER_YEAR } from './faults.js';
export { FAULT_MODES, FIT_PER_DEVICE } from './fit.js';
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
export { calibrate, DEFAULT_BATCH_SIZE, generateErrorBatches, newFleetTally, tallyFleet, type GenerateOptions, type HostRange } from './generator.js';
export { openErrorLog, type OpenLogOptions } from './import-log.js';
export { makeMapping, type DramMapping } from './mapping.js';
export { MalformedRecordError, type ErrorLogImport, type ImportStats, type ReaderOptions } from './readers/common.js';
export { readKmsg } from './readers/kmsg.js';
export { readMcelog } from './readers/mcelog.js';
export { readRasdaemon, RASDAEMON_TABLES, type RasdaemonOptions, type RasdaemonTable } from './readers/rasdaemon.js';
export { readSmartmem, SMARTMEM_COLUMNS, type SmartmemOptions } from './readers/smartmem.js';
export { makeTopology, type Topology } from './topology.js';
