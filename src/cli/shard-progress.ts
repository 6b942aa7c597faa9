// One progress bar for a plan of shard jobs, whichever executor runs them (threads here or
// workers on a queue): shards done (and reused from an earlier attempt), the rate in the
// plan's unit, workers, and the ETA. On stderr, only when stderr is a terminal.
import { SingleBar } from 'cli-progress';
import { formatCount, formatNumber } from '../format/units.js';
import type { ShardProgress } from '../shards/plan.js';

export interface ShardProgressBar {
  update(p: ShardProgress): void;
  stop(): void;
}

export function shardProgressBar(label: string): ShardProgressBar {
  if (!process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new SingleBar({
    stream: process.stderr,
    format: `${label} [{bar}] {percentage}% | {shards} shards{reused} | {rate} | {workers} | ETA {left}`,
  });
  const started = performance.now();
  let running = false;
  return {
    update(p) {
      const seconds = (performance.now() - started) / 1000;
      const ran = p.doneWeight - p.reusedWeight;
      const left = ran > 0 ? (seconds * (p.totalWeight - p.doneWeight)) / ran : NaN;
      const payload = {
        shards: `${p.done}/${p.total}`,
        reused: p.reused > 0 ? ` (${p.reused} reused)` : '',
        rate: `${formatRate(p.measured / Math.max(seconds, 1e-3))} ${p.unit}/s`,
        workers: p.workers < 0 ? 'workers unknown' : `${p.workers} worker${p.workers === 1 ? '' : 's'}`,
        left: Number.isFinite(left) ? formatSeconds(left) : '-',
      };
      if (!running) bar.start(p.totalWeight, p.doneWeight, payload);
      else bar.update(p.doneWeight, payload);
      running = true;
    },
    stop() {
      if (running) bar.stop();
    },
  };
}

function formatRate(x: number): string {
  return x >= 100 ? formatCount(x) : formatNumber(x, x >= 10 ? 1 : 2);
}

function formatSeconds(s: number): string {
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
