// hdr-histogram-js takes tens of milliseconds to load: in Node it loads with the first
// latency a process records (a trace replay without UEs never does), not at start-up.
import { createRequire } from 'node:module';
import type * as Hdr from 'hdr-histogram-js';

let loaded: typeof Hdr | undefined;

/** The hdr-histogram-js module, loaded on first use. */
export function hdr(): typeof Hdr {
  return (loaded ??= createRequire(import.meta.url)('hdr-histogram-js') as typeof Hdr);
}
