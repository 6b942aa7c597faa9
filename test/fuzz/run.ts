// Runs fuzz targets: the committed corpus first (every seed and every past crash is a
// regression case), then inputs drawn by fast-check for a fixed number of runs (npm test:
// deterministic) or for a time budget (npm run fuzz). The fuzzing is property-based, not
// coverage-guided: see docs/formats.md, "Fuzzing".
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
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
  /** The failing input (shrunk) and why, when the property broke. */
  failure: { input: unknown; error: string } | null;
}

export interface FuzzBudget {
  seed: number;
  /** Runs after the corpus (npm test), or a time budget in ms (npm run fuzz). */
  runs?: number;
  timeMs?: number;
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
  const result = await fc.check(fc.asyncProperty(target.input(seeds), run), {
    seed: budget.seed,
    numRuns: budget.runs ?? Number.MAX_SAFE_INTEGER,
    interruptAfterTimeLimit: budget.timeMs,
    markInterruptAsFailure: false,
    examples: [],
  });
  return {
    target: target.name,
    corpus: corpus.length,
    executions,
    seconds: (performance.now() - started) / 1000,
    failure: result.failed ? { input: result.counterexample?.[0], error: String((result.errorInstance as Error | undefined)?.stack ?? result.errorInstance) } : null,
  };
}
