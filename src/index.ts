/**
 * mfrsim's library entry point (`mfrsim`): the single-host API, loading the kernel, and the
 * error a feature throws when its optional package is missing. Fleets, traces, error
 * streams and studies are the subpaths mfrsim/fleet, /traces, /errors and /study.
 *
 * @module mfrsim
 */
export * from './host/index.js';
export { loadKernel, MAX_FRAMES_PER_KERNEL } from './kernel/kernel.js';
export type { KernelWasm } from './kernel/compile.js';
export { MissingDependencyError } from './platform/optional.js';
