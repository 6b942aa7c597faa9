/**
 * Fleets and replay: many hosts per kernel instance, sharded over worker threads, and one
 * recorded trace replayed against one host.
 *
 * @module mfrsim/fleet
 */
export * from './portable.js';
export { replayTrace, type TraceReplayOptions, type TraceReplayResult } from './replay-trace.js';
