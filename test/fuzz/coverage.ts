// How much of mfrsim's own code (src/) a fuzz run reaches (`FUZZ_COVERAGE=1 npm run fuzz`):
// V8's precise block coverage (node:inspector's Profiler.takePreciseCoverage, which also
// resets the counts), taken after every input, accumulated as distinct blocks.
import { Session } from 'node:inspector/promises';

export class BlockCoverage {
  private readonly seen = new Set<string>();

  private constructor(private readonly session: Session) {}

  static async start(): Promise<BlockCoverage> {
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
    const coverage = new BlockCoverage(session);
    await coverage.newBlocks(); // what loading the code ran
    return coverage;
  }

  /** Blocks of src/ reached since the last call; the number never reached before. */
  async newBlocks(): Promise<number> {
    const { result } = await this.session.post('Profiler.takePreciseCoverage');
    let added = 0;
    for (const script of result) {
      if (!script.url.includes('/src/')) continue;
      for (const fn of script.functions) {
        for (const r of fn.ranges) {
          if (r.count === 0) continue;
          const key = `${script.url}:${r.startOffset}:${r.endOffset}`;
          if (this.seen.has(key)) continue;
          this.seen.add(key);
          added++;
        }
      }
    }
    return added;
  }

  /** Distinct blocks of src/ reached so far. */
  get blocks(): number {
    return this.seen.size;
  }

  async stop(): Promise<void> {
    await this.session.post('Profiler.stopPreciseCoverage');
    this.session.disconnect();
  }
}
