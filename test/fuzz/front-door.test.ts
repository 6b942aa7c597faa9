// The fuzzed front door, in its short fixed budget: every committed corpus file (seeds and
// crashes found before) and then FUZZ_TEST_RUNS (default 150) drawn inputs per target, from a
// fixed seed, so every `npm test` runs the same inputs. `npm run fuzz` runs longer.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fuzzTarget } from './run.js';
import { TARGETS } from './targets.js';

const RUNS = Number(process.env.FUZZ_TEST_RUNS ?? 150);
const SEED = 20240601;

for (const target of TARGETS) {
  test(`${target.name}: ${RUNS} fuzzed inputs keep the property`, async () => {
    const r = await fuzzTarget(target, { seed: SEED, runs: RUNS });
    assert.is(r.failure, null, r.failure ? `${JSON.stringify(r.failure.input, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v))}\n${r.failure.error}` : '');
    assert.is(r.executions, r.corpus + RUNS);
  });
}

test.run();
