// Trace ingestion. A generated 216 MB valgrind lackey trace (random addresses in a program's
// code, stack and heap, in a real trace's proportions) and the same events in mfrsim's
// binary format, in a temporary folder:
// - the readers alone, in this process: openTrace's batches end to end (from the page cache);
// - whole processes, as a user runs them: `mfrsim replay --trace FILE` spawned and timed to
//   its exit (start-up, reading, parsing, first-touch backing, the kernel's replay and the
//   report), alternating lackey and binary, and this tree and the baseline commit;
// - peak memory of the replay for the whole trace and for its first eighth.
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Bench, type Task } from 'tinybench';
import { writeTrace } from '../src/traces/binary.js';
import { openTrace } from '../src/traces/open.js';
import type { OpenTraceOptions } from '../src/traces/types.js';
import { baselineCli, CLI, median, runCli, type ProcessRun } from './processes.js';

const TARGET_BYTES = 216e6;
const BLOCK_LINES = 1 << 18;
const ROUNDS = 3;

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

/** The readers alone: MB/s and events/s of openTrace over each file. */
async function readers(files: Record<string, string>, events: number): Promise<Record<string, unknown>> {
  const bench = new Bench({ iterations: 3, time: 0, warmupIterations: 1, warmupTime: 0, timestampProvider: 'hrtimeNow' });
  for (const [format, path] of Object.entries(files)) {
    bench.add(format, async () => {
      const n = await ingest(path, { format: format as 'lackey' | 'mfrsim' });
      if (n !== events) throw new Error(`${format}: read ${n} events, expected ${events}`);
    });
  }
  await bench.run();
  const out: Record<string, unknown> = {};
  for (const task of bench.tasks as Task[]) {
    const r = task.result as { state: string; latency?: { p50: number; min: number; samplesCount: number }; error?: unknown };
    if (!r.latency) throw new Error(`benchmark ${task.name} did not complete (${r.state}): ${String(r.error)}`);
    const bytes = statSync(files[task.name]!).size;
    const seconds = r.latency.p50 / 1000;
    out[task.name] = {
      medianSeconds: +seconds.toFixed(3),
      medianMBps: +(bytes / 1e6 / seconds).toFixed(1),
      medianMeventsPerSec: +(events / 1e6 / seconds).toFixed(1),
      // The fastest run: the least disturbed by other load on a shared machine.
      bestMBps: +(bytes / 1e6 / (r.latency.min / 1000)).toFixed(1),
      samples: r.latency.samplesCount,
    };
  }
  return out;
}

/** The figures of a replay's --json that must not depend on the code's speed. */
function counts(json: string): Record<string, number> {
  const r = JSON.parse(readFileSync(json, 'utf8')) as Record<string, number>;
  return { accesses: r.accesses, ok: r.ok, sigbus: r.sigbus };
}

/** Whole `mfrsim replay --trace` processes, alternating formats and builds. */
async function wholeProcess(files: Record<string, string>, dir: string): Promise<Record<string, unknown>> {
  const clis: Record<string, string> = { mfrsim: CLI };
  const base = await baselineCli();
  if (base) clis.baseline = base;
  const runs: Record<string, ProcessRun[]> = {};
  const outcome: Record<string, Record<string, number>> = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const [format, path] of Object.entries(files)) {
      for (const [build, cli] of Object.entries(clis)) {
        const json = join(dir, `${build}-${format}.json`);
        const run = await runCli(cli, ['replay', '--trace', path, '--json', json]);
        (runs[`${build} ${format}`] ??= []).push(run);
        outcome[`${build} ${format}`] = counts(json);
      }
    }
  }
  const out: Record<string, unknown> = {};
  for (const [key, list] of Object.entries(runs)) {
    const bytes = statSync(files[key.split(' ')[1]!]!).size;
    const seconds = median(list.map((r) => r.seconds));
    const cpu = median(list.map((r) => r.cpuSeconds));
    out[key] = {
      medianSeconds: +seconds.toFixed(3),
      medianMBps: +(bytes / 1e6 / seconds).toFixed(1),
      bestMBps: +(bytes / 1e6 / Math.min(...list.map((r) => r.seconds))).toFixed(1),
      // The process's CPU time: what the throughput would be with a core to itself.
      medianCpuSeconds: +cpu.toFixed(3),
      cpuMBps: +(bytes / 1e6 / cpu).toFixed(1),
      maxRssMiB: +Math.max(...list.map((r) => r.maxRssMiB)).toFixed(1),
      ...outcome[key],
    };
  }
  if (base) {
    for (const format of Object.keys(files)) {
      const a = out[`mfrsim ${format}`] as { medianSeconds: number; medianCpuSeconds: number; accesses: number; ok: number };
      const b = out[`baseline ${format}`] as typeof a;
      out[`speedup ${format}`] = { wall: +(b.medianSeconds / a.medianSeconds).toFixed(2), cpu: +(b.medianCpuSeconds / a.medianCpuSeconds).toFixed(2), sameCounts: a.accesses === b.accesses && a.ok === b.ok };
    }
  }
  return out;
}

export async function benchTraces(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'mfrsim-bench-traces-'));
  try {
    const text = join(dir, 'generated.lackey');
    const block = lackeyBlock();
    writeFileSync(text, '');
    while (statSync(text).size < TARGET_BYTES) appendFileSync(text, block);
    const eighth = join(dir, 'eighth.lackey');
    writeFileSync(eighth, readFileSync(text).subarray(0, Math.ceil(statSync(text).size / 8 / block.length) * block.length));
    const binary = join(dir, 'generated.mfr');
    const source = await openTrace(text, { format: 'lackey' });
    const converted = performance.now();
    const events = await writeTrace(binary, source, { physical: false, columns: source.columns });
    const convertSeconds = (performance.now() - converted) / 1000;
    const files = { lackey: text, mfrsim: binary };

    const result: Record<string, unknown> = {
      events,
      fileMB: { lackey: +(statSync(text).size / 1e6).toFixed(1), mfrsim: +(statSync(binary).size / 1e6).toFixed(1) },
      readers: await readers(files, events),
      replayProcess: await wholeProcess(files, dir),
      convertLackeyToMfrsim: { seconds: +convertSeconds.toFixed(2), MBps: +(statSync(text).size / 1e6 / convertSeconds).toFixed(1) },
    };
    // Constant memory: the replay's peak memory for an eighth of the trace and for all of it.
    const small = await runCli(CLI, ['replay', '--trace', eighth, '--json', join(dir, 'eighth.json')]);
    result.memory = {
      eighthMB: +(statSync(eighth).size / 1e6).toFixed(1),
      eighthMaxRssMiB: +small.maxRssMiB.toFixed(1),
      wholeMaxRssMiB: (result.replayProcess as Record<string, { maxRssMiB: number }>)['mfrsim lackey']!.maxRssMiB,
    };
    result.targets = { lackeyProcessMBps: 200, mfrsimProcessMBps: 1000 };
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(`${JSON.stringify(await benchTraces(), null, 2)}\n`);
}
