// The selftest panel: pick a policy, hugepage size and number of poisoned pages, then step
// through the upstream hugetlb-mfr selftest; after each step the kernel's state is drawn.
import { BUS_MCEERR_AO, BUS_MCEERR_AR, runSelftest, type HugepageSize, type SelftestPolicy, type SelftestReport, type Signal } from 'mfrsim';
import { hugepagePicture } from './hugepage-picture.js';
import { snapshot, type Snapshot } from './selftest-state.js';
import { el, esc } from './dom.js';

/** The panel's last finished run, for scripts (and the browser test). */
export interface SelftestPanel {
  report: SelftestReport | null;
}

/** A run abandoned by Start or a new setting. */
class Abandoned extends Error {}

function signalCode(s: Signal): string {
  return s.code === BUS_MCEERR_AR ? 'BUS_MCEERR_AR' : s.code === BUS_MCEERR_AO ? 'BUS_MCEERR_AO' : `code ${s.code}`;
}

function render(shots: Snapshot[], map: bigint | null): void {
  const last = shots[shots.length - 1]!;
  el('st-picture').innerHTML = hugepagePicture(last, map);
  el('st-steps').innerHTML =
    '<thead><tr><th>#</th><th>step</th><th>what happened</th><th></th></tr></thead><tbody>' +
    shots.map((s) => `<tr class="${s.step.ok ? 'ok' : 'fail'}${s === last ? ' current' : ''}"><td>${s.step.n}</td><td>${esc(s.step.name)}</td>` +
      `<td>${esc(s.step.actual)}${s.step.ok ? '' : `<br><small>expected: ${esc(s.step.expected)}</small>`}</td><td>${s.step.ok ? 'ok' : 'NOT OK'}</td></tr>`).join('') +
    '</tbody>';
  const mf = last.memoryFailure;
  el('st-counters').innerHTML = [
    ['HugePages_Total / Free', `${last.pool.nr} / ${last.pool.free}`],
    ['HardwareCorrupted', `${last.hardwareCorruptedKiB} kB`],
    ['memory_failure()', `${mf.total} (recovered ${mf.recovered}, failed ${mf.failed})`],
    ['poisoned 4 KiB pages (memfd offsets)', last.poisoned.length === 0 ? 'none' : last.poisoned.map((p) => `0x${(p * 4096).toString(16)}`).join(', ')],
  ].map(([k, v]) => `<dt>${esc(k!)}</dt><dd>${esc(v!)}</dd>`).join('');
  el('st-signals').innerHTML = last.signals.length === 0
    ? '<caption>no signal yet</caption>'
    : '<caption>signals delivered</caption><thead><tr><th>si_code</th><th>si_addr</th><th>si_addr_lsb</th></tr></thead><tbody>' +
      last.signals.map((s) => `<tr><td>SIGBUS ${signalCode(s)}</td><td>0x${s.addr.toString(16)}${map === null ? '' : ` (map+0x${(s.addr - map).toString(16)})`}</td><td>${s.addrLsb}</td></tr>`).join('') +
      '</tbody>';
}

export function setUpSelftest(): SelftestPanel {
  const panel: SelftestPanel = { report: null };
  const start = el<HTMLButtonElement>('st-start');
  const next = el<HTMLButtonElement>('st-next');
  const toEnd = el<HTMLButtonElement>('st-run');
  const verdict = el('st-verdict');
  let run = 0;
  let running = false;
  let runToEnd = false;
  let resume: (() => void) | null = null;
  let abandon: (() => void) | null = null;

  async function begin(all: boolean): Promise<void> {
    abandon?.();
    const id = ++run;
    running = true;
    runToEnd = all;
    panel.report = null;
    const size = el<HTMLSelectElement>('st-size').value as HugepageSize;
    const policy = el<HTMLSelectElement>('st-policy').value as SelftestPolicy;
    const pages = Number(el<HTMLInputElement>('st-pages').value);
    const shots: Snapshot[] = [];
    let map: bigint | null = null;
    verdict.className = '';
    verdict.textContent = 'running';
    next.disabled = false;
    try {
      const report = await runSelftest({
        size, policy, pages,
        onStep: async (step, state) => {
          if (id !== run) throw new Abandoned();
          const shot = snapshot(step, state, size, shots[shots.length - 1]);
          map = shot.map ?? map;
          shots.push(shot);
          render(shots, map);
          if (runToEnd) return;
          await new Promise<void>((resolve, reject) => {
            resume = resolve;
            abandon = () => reject(new Abandoned());
          });
        },
      });
      panel.report = report;
      verdict.className = report.passed ? 'pass' : 'fail';
      verdict.textContent = report.passed
        ? `passed: every step as the upstream test expects (${size} hugepages, ${policy === 'keep' ? 'MFD_MF_KEEP_UE_MAPPED' : 'DEFAULT'}, ${pages} poisoned page${pages > 1 ? 's' : ''})`
        : `FAILED at step ${report.steps.find((s) => !s.ok)!.n}`;
    } catch (err) {
      if (err instanceof Abandoned) return;
      verdict.className = 'fail';
      verdict.textContent = `error: ${err instanceof Error ? err.message : String(err)}`;
    } finally {
      if (id === run) {
        running = false;
        next.disabled = true;
      }
    }
  }

  start.addEventListener('click', () => void begin(false));
  next.addEventListener('click', () => resume?.());
  toEnd.addEventListener('click', () => {
    if (!running) return void begin(true);
    runToEnd = true;
    resume?.();
  });
  for (const id of ['st-size', 'st-policy', 'st-pages']) el(id).addEventListener('change', () => void begin(false));
  next.disabled = true;
  void begin(false);
  return panel;
}
