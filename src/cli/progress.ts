// A progress bar for streaming a trace file (bytes read, events/s, ETA) on stderr, shown
// only when stderr is a terminal so that pipes and logs stay clean.
import { SingleBar } from 'cli-progress';

const MIB = 1 << 20;

export interface FileProgress {
  /** Reports progress: file bytes consumed so far and events handled so far. */
  update(bytesRead: number, events: number): void;
  stop(): void;
}

export function fileProgress(label: string, fileSize: number): FileProgress {
  if (!process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new SingleBar({
    stream: process.stderr,
    format: `${label} [{bar}] {percentage}% | {readMiB}/{totalMiB} MiB | {rate} events/s | ETA {eta_formatted}`,
    etaBuffer: 50,
  });
  const totalMiB = (fileSize / MIB).toFixed(0);
  const started = performance.now();
  const payload = (bytesRead: number, events: number) => ({
    readMiB: (bytesRead / MIB).toFixed(0),
    totalMiB,
    rate: Math.round(events / Math.max((performance.now() - started) / 1000, 1e-3)).toLocaleString('en-US'),
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
