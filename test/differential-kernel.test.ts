// The wasm kernel against the reference model: random operation sequences must give the
// same results, errors, signals, counters, free lists and kernel log lines.
import { test } from 'uvu';
import { Host } from '../src/host/host.js';
import { runDifferential } from './differential.js';
import { RefHost } from './reference/model.js';

test('kernel and reference model agree on random operation sequences', async () => {
  await runDifferential(
    (opts) => Promise.resolve(RefHost.create(opts)),
    (opts) => Host.create(opts),
    { runs: Number(process.env.MFRSIM_DIFF_RUNS ?? 1500), seed: Number(process.env.MFRSIM_DIFF_SEED ?? 20261125) },
  );
});

test.run();
