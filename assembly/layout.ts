// Where the replay loop's tables and records lie in linear memory, for the native baseline
// of the benchmark (bench/native/replay.c): it replays the same events over a dump of this
// memory with the same fast-path checks, so it must find the same tables the same way.

import { poisonTable, poisonTableCap } from './poison';
import { PROC_RECORD_BYTES, P_HOST_OFF, P_PGD_OFF, procTable } from './procs';
import { replay_access_proc, replay_access_va, replay_access_write } from './replay';

const FIELDS: i32 = 9;
const layout: usize = memory.data(FIELDS * 4, 4);

// @ts-ignore: decorator
@inline function field(i: i32, v: usize): void {
  store<u32>(layout + (<usize>i << 2), <u32>v);
}

/** Fills the layout block (u32 fields, in the order bench/native/replay.c reads them); returns its address. */
export function replay_native_layout(): usize {
  field(0, replay_access_proc());
  field(1, replay_access_va());
  field(2, replay_access_write());
  field(3, procTable());
  field(4, PROC_RECORD_BYTES);
  field(5, P_PGD_OFF);
  field(6, P_HOST_OFF);
  field(7, poisonTable());
  field(8, poisonTableCap());
  return layout;
}
