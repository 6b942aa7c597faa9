// The single-host API: a simulated Linux host with HugeTLB pools and THP memory, processes
// that make system calls, hardware UEs, and the upstream hugetlb-mfr selftest.
export { Host, Process } from './host.js';
export { SystemError, isSystemError } from './syserror.js';
export * from './constants.js';
export type * from './types.js';
export {
  runSelftest,
  SELFTEST_OFFSETS,
  type SelftestOptions,
  type SelftestPolicy,
  type SelftestReport,
  type SelftestState,
  type SelftestStep,
} from './selftest.js';
export { kernelBehaviour, KEEP_VERSIONS, type KernelBehaviour, type KeepVersion, type KeepVersionOption } from './kernel-behaviour.js';
