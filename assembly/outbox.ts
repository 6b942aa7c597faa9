// Records the kernel leaves for the host after a call: delivered signals, deaths, and
// kernel log records (formatted into the kernel's log lines on the host side).
// Record layout (32 bytes): u32 type, u32 host, u32 pid, u32 arg, u64 a, u64 b.

import { doublingBound, realloc } from './arena';
import { OUT_SIGNAL, OUT_WORK } from './constants';

export const OUT_RECORD: usize = 32;
let buf: usize = 0;
let cap: u32 = 0;
let count: u32 = 0;
// Replay bounds the outbox: records past the limit are counted, not kept.
let limit: u32 = 0xffff_ffff;
let droppedSignals: f64 = 0;
let droppedLog: f64 = 0;

export function outbox_push(type: u32, host: u32, pid: u32, arg: u32, a: u64, b: u64): void {
  // Work records (one per recovery event, never per access) are always kept: the recovery
  // cost model needs every one.
  if (count >= limit && type != OUT_WORK) {
    if (type == OUT_SIGNAL) droppedSignals++;
    else droppedLog++;
    return;
  }
  if (count == cap) {
    const next = cap == 0 ? <u32>256 : cap * 2;
    buf = realloc(buf, <usize>cap * OUT_RECORD, <usize>next * OUT_RECORD);
    cap = next;
  }
  const r = buf + <usize>count * OUT_RECORD;
  store<u32>(r, type);
  store<u32>(r, host, 4);
  store<u32>(r, pid, 8);
  store<u32>(r, arg, 12);
  store<u64>(r, a, 16);
  store<u64>(r, b, 24);
  count++;
}

/** Heap bytes `n` more records may take (until the host drains the outbox). */
export function outbox_bound(n: u64): u64 {
  return doublingBound(cap, <u64>count + n, OUT_RECORD, 256);
}

export function outbox_ptr(): usize {
  return buf;
}

export function outbox_count(): u32 {
  return count;
}

export function outbox_clear(): void {
  count = 0;
  droppedSignals = 0;
  droppedLog = 0;
}

/** Keeps at most `n` records until the next clear (0xffffffff: unbounded). */
export function outbox_set_limit(n: u32): void {
  limit = n;
}

/** Signal records not kept because of the limit, since the last clear. */
export function outbox_dropped_signals(): f64 {
  return droppedSignals;
}

/** Log records not kept because of the limit, since the last clear. */
export function outbox_dropped_log(): f64 {
  return droppedLog;
}
