// A progress bar for streaming a trace file (bytes read, events/s, ETA) on stderr, shown
// only when stderr is a terminal so that pipes and logs stay clean.
import { SingleBar } from 'cli-progress';
import { formatBytes, formatCount } from '../format/units.js';

export interface FileProgress {
  /** Reports progress: file bytes consumed so far and events handled so far. */
  update(bytesRead: number, events: number): void;
  stop(): void;
}

export function fileProgress(label: string, fileSize: number): FileProgress {
  if (!process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new SingleBar({
    stream: process.stderr,
    format: `${label} [{bar}] {percentage}% | {read} of {total} | {rate} events/s | ETA {eta_formatted}`,
    etaBuffer: 50,
  });
  const total = formatBytes(fileSize);
  const started = performance.now();
  const payload = (bytesRead: number, events: number) => ({
    read: formatBytes(bytesRead),
    total,
    rate: formatCount(events / Math.max((performance.now() - started) / 1000, 1e-3)),
  });
  bar.start(fileSize, 0, payload(0, 0));
  return {
    update(bytesRead, events) {
      bar.update(bytesRead, payload(bytesRead, events));
    },
    stop() {
      bar.stop();
    },
  };
}
