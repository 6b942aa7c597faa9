// Trace ingestion speed on one core: a generated ~96 MiB valgrind lackey trace read as text,
// and the same events read from mfrsim's binary format. Each run streams the whole file
// through openTrace's batches (from the page cache: the first read warms it).
import { mkdtempSync, rmSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Bench, type Task } from 'tinybench';
import { writeTrace } from '../src/traces/binary.js';
import { openTrace } from '../src/traces/open.js';
import type { OpenTraceOptions } from '../src/traces/types.js';

const TARGET_BYTES = 96 << 20;
const BLOCK_LINES = 1 << 18;

/** A deterministic 32-bit generator. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
}

/**
 * Lackey lines in the proportions of a real trace (about half instruction fetches), with
 * code, heap and stack addresses; the block is written repeatedly up to the target size.
 */
function lackeyBlock(): string {
  const next = lcg(2026);
  const hex = (base: number, span: number) => (base + (next() % span)).toString(16).toUpperCase().padStart(8, '0');
  const lines: string[] = [];
  for (let i = 0; i < BLOCK_LINES; i++) {
    const r = next() % 20;
    if (r < 10) lines.push(`I  ${hex(0x108000, 1 << 20)},${1 + (next() % 15)}`);
    else if (r < 15) lines.push(` L ${hex(0x1ffeff0000, 1 << 16)},${[1, 2, 4, 8][next() % 4]}`);
    else if (r < 18) lines.push(` S ${hex(0x4a5a000, 1 << 24)},${[4, 8][next() % 2]}`);
    else lines.push(` M ${hex(0x4a5a000, 1 << 24)},4`);
  }
  return `${lines.join('\n')}\n`;
}

/** Reads every batch of a trace; returns the event count. */
async function ingest(path: string, options: OpenTraceOptions): Promise<number> {
  let events = 0;
  for await (const batch of await openTrace(path, options)) events += batch.length;
  return events;
}

export async function benchTraces(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'mfrsim-bench-traces-'));
  try {
    const text = join(dir, 'generated.lackey');
    const block = lackeyBlock();
    writeFileSync(text, '');
    while (statSync(text).size < TARGET_BYTES) appendFileSync(text, block);
    const binary = join(dir, 'generated.mfr');
    const source = await openTrace(text, { format: 'lackey' });
    const converted = performance.now();
    const events = await writeTrace(binary, source, { physical: false, columns: source.columns });
    const convertSeconds = (performance.now() - converted) / 1000;

    const files = { lackey: text, mfrsim: binary } as const;
    const bench = new Bench({ iterations: 7, time: 0, warmupIterations: 1, warmupTime: 0, timestampProvider: 'hrtimeNow' });
    for (const [format, path] of Object.entries(files)) {
      bench.add(format, async () => {
        const n = await ingest(path, { format: format as 'lackey' | 'mfrsim' });
        if (n !== events) throw new Error(`${format}: read ${n} events, expected ${events}`);
      });
    }
    await bench.run();

    const result: Record<string, unknown> = { events };
    for (const task of bench.tasks as Task[]) {
      const r = task.result as { state: string; latency?: { p50: number; min: number; samplesCount: number }; error?: unknown };
      if (!r.latency) throw new Error(`benchmark ${task.name} did not complete (${r.state}): ${String(r.error)}`);
      const bytes = statSync(files[task.name as keyof typeof files]).size;
      const seconds = r.latency.p50 / 1000;
      result[task.name] = {
        fileMiB: +(bytes / 2 ** 20).toFixed(1),
        medianSeconds: +seconds.toFixed(3),
        medianMBps: +(bytes / 1e6 / seconds).toFixed(1),
        medianMeventsPerSec: +(events / 1e6 / seconds).toFixed(1),
        // The fastest run: the least disturbed by other load on a shared machine.
        bestMBps: +(bytes / 1e6 / (r.latency.min / 1000)).toFixed(1),
        samples: r.latency.samplesCount,
      };
    }
    result.convertLackeyToMfrsim = { seconds: +convertSeconds.toFixed(2), MBps: +(statSync(text).size / 1e6 / convertSeconds).toFixed(1) };
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(`${JSON.stringify(await benchTraces(), null, 2)}\n`);
}
