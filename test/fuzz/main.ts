// `npm run fuzz`: every fuzz target for a time budget (FUZZ_SECONDS per target, default 60;
// FUZZ_SEED, default random; FUZZ_ONLY, a substring of target names), reporting executions
// per target (and, with FUZZ_COVERAGE=1, the blocks of src/ the inputs reached).
// A failing input is saved as corpus/<target>/crash-<hash>, so that `npm test` replays it
// from then on; the run then exits 1.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BlockCoverage } from './coverage.js';
import { CORPUS, fuzzTarget } from './run.js';
import { TARGETS } from './targets.js';

const seconds = Number(process.env.FUZZ_SECONDS ?? 60);
const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const only = process.env.FUZZ_ONLY ?? '';
const measure = process.env.FUZZ_COVERAGE === '1';
console.log(`fuzzing ${seconds} s per target (property-based), seed ${seed} (FUZZ_SEED=${seed} repeats the draws)`);
let failed = 0;
for (const target of TARGETS.filter((t) => t.name.includes(only))) {
  const coverage = measure ? await BlockCoverage.start() : undefined;
  const r = await fuzzTarget(target, { seed, timeMs: seconds * 1000, coverage });
  await coverage?.stop();
  const rate = Math.round(r.executions / r.seconds);
  console.log(
    `${r.target.padEnd(24)} ${String(r.executions).padStart(9)} executions in ${r.seconds.toFixed(1)} s (${rate}/s), corpus ${r.corpus}` +
      `${r.blocks !== undefined ? `, ${r.blocks} blocks of src/ reached` : ''}${r.failure ? '  FAILED' : ''}`,
  );
  if (!r.failure) continue;
  failed++;
  console.log(r.failure.error);
  if (typeof r.failure.input !== 'string') {
    const bytes = target.encode(r.failure.input as never);
    const dir = join(CORPUS, target.name);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `crash-${createHash('sha1').update(bytes).digest('hex').slice(0, 12)}`);
    writeFileSync(file, bytes);
    console.log(`saved the failing input as ${file}`);
  }
}
process.exit(failed > 0 ? 1 : 0);
