/**
 * Access traces: streaming readers for the formats users have, mfrsim's binary format, and
 * the address-space layout that places virtual-address traces in HugeTLB memory.
 *
 * @module mfrsim/traces
 */
export { ACCESS_IFETCH, ACCESS_READ, ACCESS_WRITE, TRACE_FORMATS } from './types.js';
export type { AccessBatch, OpenTraceOptions, TraceColumns, TraceFormat, TraceReader } from './types.js';
export { TraceFormatError } from './errors.js';
export { createAccessBatch, DEFAULT_BATCH_SIZE } from './batch.js';
export { openTrace } from './open.js';
export { detectTraceFormat } from './detect.js';
export { isTraceFormat } from './formats.js';
export { TraceWriter, writeTrace, type TraceWriterOptions } from './binary.js';
export {
  HUGEPAGE_BYTES,
  LayoutError,
  loadLayout,
  touchedLayout,
  parseLayout,
  type AddressLayout,
  type HugetlbPolicy,
  type LayoutRegion,
  type TouchedLayoutOptions,
} from './layout.js';
