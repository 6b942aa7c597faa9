// Where every replayed access ended: each in exactly one category, so they add up to the
// accesses replayed and nothing goes unreported.
import type { HostStats } from '../fleet/shard.js';

export interface AccessOutcomes {
  /** The access completed (no signal). */
  completed: number;
  /** The access raised a signal (SIGBUS: a poisoned page, or a fault the pool could not back). */
  signalled: number;
  /** The address is not mapped: outside the layout (-EFAULT from the access). */
  outsideLayout: number;
  /** The process had already died (of an earlier SIGBUS), or its host had panicked. */
  deadProcess: number;
}

export function accessOutcomes(s: HostStats): AccessOutcomes {
  return {
    completed: s.ok,
    signalled: s.accesses - s.ok - s.unmappedEvents - s.deadProcessEvents,
    outsideLayout: s.unmappedEvents,
    deadProcess: s.deadProcessEvents,
  };
}
