// The study worker: runs one study per message and posts its progress and outcome, so the
// page stays responsive while hundreds of hosts are simulated.
import { loadKernel } from 'mfrsim';
import type { ScenarioInput } from 'mfrsim/study';
import wasm from 'mfrsim/kernel.wasm';
import { runPageStudy, type StudyMessage } from './study-run.js';

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<ScenarioInput>) => void) | null;
  postMessage(message: StudyMessage): void;
};

scope.onmessage = async (e) => {
  try {
    await loadKernel(wasm);
    const outcome = await runPageStudy(e.data, (done, total) => scope.postMessage({ type: 'progress', done, total }));
    scope.postMessage({ type: 'done', ...outcome });
  } catch (err) {
    scope.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  }
};
