// The study panel: a small fleet (hundreds of hosts) on the default scenario, or any
// scenario pasted in, run by the wasm kernel in a Web Worker; the result is the same HTML
// report `mfrsim study --html` writes, charts included.
import { DEFAULT_SCENARIO, POLICY_NAMES, POLICIES, type PolicyName, type ScenarioInput } from 'mfrsim/study';
import type { StudyMessage, StudyOutcome } from './study-run.js';
import { el, esc } from './dom.js';

/** The panel's last study, for scripts (and the browser test). */
export interface StudyPanel {
  outcome: StudyOutcome | null;
  error: string | null;
  running: boolean;
}

/** The scenario the form describes: the JSON below it, with the fields' overrides. */
function scenarioOfForm(): ScenarioInput {
  const base = JSON.parse(el<HTMLTextAreaElement>('sd-scenario').value) as ScenarioInput;
  const policies = POLICY_NAMES.filter((p) => el<HTMLInputElement>(`sd-policy-${p}`).checked);
  return {
    ...base,
    seed: Number(el<HTMLInputElement>('sd-seed').value),
    years: Number(el<HTMLInputElement>('sd-years').value),
    fleet: { ...base.fleet, hosts: Number(el<HTMLInputElement>('sd-hosts').value) },
    policies: policies as [PolicyName, ...PolicyName[]],
  };
}

/** Runs in a worker started from a blob: URL, which pages opened from file:// may start too. */
function runInWorker(input: ScenarioInput, onProgress: (done: number, total: number) => void): Promise<StudyOutcome> {
  const worker = new Worker(URL.createObjectURL(new Blob([STUDY_WORKER_SOURCE], { type: 'text/javascript' })));
  return new Promise((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<StudyMessage>) => {
      const m = e.data;
      if (m.type === 'progress') return onProgress(m.done, m.total);
      worker.terminate();
      if (m.type === 'done') resolve({ report: m.report, html: m.html });
      else reject(new Error(m.message));
    };
    worker.onerror = (e) => {
      worker.terminate();
      reject(new Error(e.message));
    };
    worker.postMessage(input);
  });
}

export function setUpStudy(): StudyPanel {
  const panel: StudyPanel = { outcome: null, error: null, running: false };
  // One draw keeps a study on the page's single thread quick; "replicates" in the text adds more.
  el<HTMLTextAreaElement>('sd-scenario').value = JSON.stringify({ ...DEFAULT_SCENARIO, replicates: 1 }, null, 2);
  el<HTMLInputElement>('sd-seed').value = String(DEFAULT_SCENARIO.seed ?? 7);
  el('sd-policies').innerHTML = POLICY_NAMES.map((p) =>
    `<label title="${esc(POLICIES[p].summary)}"><input type="checkbox" id="sd-policy-${p}" checked> ${esc(POLICIES[p].label)}</label>`).join(' ');
  const button = el<HTMLButtonElement>('sd-run');
  const progress = el<HTMLProgressElement>('sd-progress');
  const status = el('sd-status');
  const frame = el<HTMLIFrameElement>('sd-report');

  button.addEventListener('click', async () => {
    panel.running = true;
    panel.error = null;
    button.disabled = true;
    progress.value = 0;
    status.textContent = 'running';
    const started = performance.now();
    try {
      const input = scenarioOfForm();
      const outcome = await runInWorker(input, (done, total) => {
        progress.value = done / total;
        status.textContent = `${Math.round((100 * done) / total)}% of ${total.toLocaleString('en-US')} simulated host-years`;
      });
      panel.outcome = outcome;
      progress.value = 1;
      status.textContent = `done in ${((performance.now() - started) / 1000).toFixed(1)} s: ${outcome.report.hostYears.toLocaleString('en-US')} host-years per policy`;
      frame.srcdoc = outcome.html;
      frame.hidden = false;
    } catch (err) {
      panel.error = err instanceof Error ? err.message : String(err);
      status.textContent = `error: ${panel.error}`;
    } finally {
      panel.running = false;
      button.disabled = false;
    }
  });
  return panel;
}
