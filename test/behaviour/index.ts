// Every behavioural suite, run against one SimHost implementation.
import { suite, type Test } from 'uvu';
import { defineBadInput } from './bad-input.js';
import type { CreateHost } from './helpers.js';
import { defineHgm } from './hgm.js';
import { defineKernelLog } from './kernel-log.js';
import { defineKill } from './kill.js';
import { defineLifecycle } from './lifecycle.js';
import { defineMemfd } from './memfd.js';
import { definePolicy } from './policy.js';
import { definePool } from './pool.js';
import { defineSelftest } from './selftest.js';
import { defineThp } from './thp.js';
import { defineUpstream } from './upstream.js';

export type { CreateHost } from './helpers.js';

const SUITES: readonly [string, (s: Test, createHost: CreateHost) => void][] = [
  ['upstream selftests', defineSelftest],
  ['memfd_create', defineMemfd],
  ['early/late/default kill', defineKill],
  ['pools and reservations', definePool],
  ['KEEP versus DEFAULT', definePolicy],
  ['HGM and the page-table view', defineHgm],
  ['THP', defineThp],
  ['upstream parity', defineUpstream],
  ['panic, death and exit', defineLifecycle],
  ['kernel log', defineKernelLog],
  ['bad input', defineBadInput],
];

/** Registers and runs the suites `${name}: ...` against hosts made by `createHost`. */
export function defineAllBehaviour(name: string, createHost: CreateHost): void {
  for (const [title, define] of SUITES) {
    const s = suite(`${name}: ${title}`);
    define(s, createHost);
    s.run();
  }
}
