// mfrsim's library entry point.
export { Host, Process } from './host/host.js';
export { SystemError, isSystemError } from './host/syserror.js';
export * from './host/constants.js';
export type * from './host/types.js';
export { runSelftest, type SelftestOptions, type SelftestReport, type SelftestStep } from './host/selftest.js';
export { kernelBehaviour, type KernelBehaviour, type KeepVersion, type KeepVersionOption } from './host/kernel-behaviour.js';
