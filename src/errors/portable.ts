// The part of mfrsim/errors that runs anywhere, browsers included: the DRAM fault model and
// incident generators, their calibration, and error batches in memory. Stream files and
// log readers (index.ts) need Node.
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
export { computeCalibration, FleetTally, formatCalibration, type CalibrationCheck, type CalibrationFigures, type CalibrationReport } from './calibration.js';
export { DEFAULT_PROFILE, ERROR_PROFILES, PROFILE_NAMES, type CalibrationCheckSpec, type CalibrationFigure, type ErrorProfile, type ProfileName } from './profiles.js';
export { parseGeneratorConfig, type GeneratorConfig, type GeneratorConfigInput } from './config.js';
export { CAUSE_CHANNEL_EVENT, CAUSE_CHANNEL_FAULT, CAUSE_INCIDENT_BASE, CAUSE_OVERLAP, CAUSE_UNKNOWN, HOURS_PER_YEAR } from './faults.js';
export { FAULT_MODES, FIT_PER_DEVICE, type ModeFit } from './fit.js';
export { calibrate, DEFAULT_BATCH_SIZE, generateErrorBatches, newFleetTally, tallyFleet, type GenerateOptions, type HostRange } from './generator.js';
export { makeMapping, type DramMapping } from './mapping.js';
export { STREAM_GENERATED, STREAM_WALL_CLOCK } from './stream-flags.js';
export { makeTopology, type Topology } from './topology.js';
export { CountHistogram } from './count-histogram.js';
