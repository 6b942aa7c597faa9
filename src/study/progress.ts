// The study's progress bar on stderr (simulated host-years over all runs), shown only when
// stderr is a terminal so that pipes and logs stay clean.
import { SingleBar } from 'cli-progress';

export interface StudyProgress {
  update(done: number, total: number): void;
  stop(): void;
}

export function studyProgress(): StudyProgress {
  if (!process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new SingleBar({
    stream: process.stderr,
    format: 'study [{bar}] {percentage}% | {value}/{total} host-years | ETA {eta_formatted}',
    etaBuffer: 20,
  });
  let started = false;
  return {
    update(done, total) {
      if (!started) bar.start(total, 0);
      started = true;
      bar.update(Math.round(done));
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
