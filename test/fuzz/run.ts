// Runs fuzz targets: the committed corpus first (every seed and every past crash is a
// regression case), then inputs drawn by fast-check, for a fixed number of runs from a fixed
// seed (npm test: the same inputs every time) or for a time budget (npm run fuzz).
//
// The fuzzing is property-based, not coverage-guided. Guidance by V8 block coverage (inputs
// reaching new blocks of src/ promoted to seeds) was built and measured against this plain
// loop on the same seeds and budgets (20 s and 60 s per target): it reached 0-6% more blocks
// on some targets and fewer on others, so it was not kept. Block coverage can still be
// measured and reported (coverage.ts, FUZZ_COVERAGE=1).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type { BlockCoverage } from './coverage.js';
import type { FuzzTarget } from './targets.js';

export const CORPUS = new URL('./corpus/', import.meta.url).pathname;

export function corpusOf(target: FuzzTarget<never>): { name: string; bytes: Uint8Array }[] {
  const dir = join(CORPUS, target.name);
  if (!existsSync(dir)) return [];
  return readdirSync(dir).sort().map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(dir, name))) }));
}

export interface FuzzReport {
  target: string;
  corpus: number;
  executions: number;
  seconds: number;
  /** With coverage measured: distinct blocks of src/ reached. */
  blocks?: number;
  /** The failing input (shrunk) and why, when the property broke. */
  failure: { input: unknown; error: string } | null;
}

export interface FuzzBudget {
  seed: number;
  /** Runs after the corpus (npm test), or a time budget in ms (npm run fuzz). */
  runs?: number;
  timeMs?: number;
  /** Measure the block coverage the inputs reach. */
  coverage?: BlockCoverage;
}

export async function fuzzTarget(target: FuzzTarget<never>, budget: FuzzBudget): Promise<FuzzReport> {
  const started = performance.now();
  const corpus = corpusOf(target);
  let executions = 0;
  const run = async (input: never) => {
    executions++;
    await target.run(input);
  };
  // Every corpus file as it is: the seeds, and each crash found earlier (a regression case).
  for (const c of corpus) {
    try {
      await run(target.decode(c.bytes) as never);
    } catch (err) {
      return { target: target.name, corpus: corpus.length, executions, seconds: (performance.now() - started) / 1000, failure: { input: `corpus/${target.name}/${c.name}`, error: String((err as Error).stack ?? err) } };
    }
  }
  const seeds = corpus.map((c) => c.bytes);
  const cov = budget.coverage;
  if (cov) await cov.newBlocks();
  const report = (failure: FuzzReport['failure']): FuzzReport => ({
    target: target.name, corpus: corpus.length, executions, seconds: (performance.now() - started) / 1000, failure,
    ...(cov ? { blocks: cov.blocks } : {}),
  });
  const measured = cov
    ? async (input: never) => {
        await run(input);
        await cov.newBlocks();
      }
    : run;
  const result = await fc.check(fc.asyncProperty(target.input(seeds), measured), {
    seed: budget.seed,
    numRuns: budget.runs ?? Number.MAX_SAFE_INTEGER,
    interruptAfterTimeLimit: budget.timeMs,
    markInterruptAsFailure: false,
    examples: [],
  });
  return report(result.failed ? { input: result.counterexample?.[0], error: String((result.errorInstance as Error | undefined)?.stack ?? result.errorInstance) } : null);
}
