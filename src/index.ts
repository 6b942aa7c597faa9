// mfrsim's library entry point.
export { Host, Process } from './host.js';
export { SystemError, isSystemError } from './syserror.js';
export * from './constants.js';
export type * from './types.js';
export { runSelftest, type SelftestOptions, type SelftestReport, type SelftestStep } from './selftest.js';
