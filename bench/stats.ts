// Small helpers shared by the benchmark suites: run a tinybench task list and pull medians.
import { Bench, type Task } from 'tinybench';

export interface Latency {
  /** Per call, in nanoseconds. */
  p50: number;
  p99: number;
  mean: number;
  samples: number;
}

/** Runs `tasks` (name -> fn) with tinybench on the hrtime clock; returns per-call latency. */
export async function measure(tasks: Record<string, () => unknown>, opts: { time?: number; iterations?: number } = {}): Promise<Record<string, Latency>> {
  const bench = new Bench({ time: opts.time ?? 500, iterations: opts.iterations ?? 64, timestampProvider: 'hrtimeNow', warmupTime: 100, subtractTimerOverhead: true });
  for (const [name, fn] of Object.entries(tasks)) bench.add(name, fn);
  await bench.run();
  const out: Record<string, Latency> = {};
  for (const task of bench.tasks as Task[]) {
    const r = task.result as { state: string; latency?: { p50: number; p99: number; mean: number; samplesCount: number }; error?: unknown };
    if (!r.latency) throw new Error(`benchmark ${task.name} did not complete (${r.state}): ${String(r.error)}`);
    out[task.name] = { p50: r.latency.p50 * 1e6, p99: r.latency.p99 * 1e6, mean: r.latency.mean * 1e6, samples: r.latency.samplesCount };
  }
  return out;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
