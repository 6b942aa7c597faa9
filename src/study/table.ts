// The study's summary for the terminal: what ran, then the side-by-side table.
import { formatMetric, shownMetrics } from './metrics.js';
import { baselineText, type StudyReport } from './report.js';

/** The study for the terminal: what ran, then the side-by-side table. */
export function formatTable(r: StudyReport): string {
  const s = r.scenario;
  const head = ['', ...r.policies.map((p) => p.label)];
  const rows = shownMetrics(r).map((m) => [m.label, ...r.policies.map((p) => formatMetric(m, p))]);
  const widths = head.map((_, c) => Math.max(head[c]!.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: string[]) => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd();
  const st = r.stream;
  return [
    `study ${s.name}: ${s.fleet.hosts.toLocaleString('en-US')} hosts x ${s.years} years (${r.steps} steps), policies ${s.policies.join(', ')}`,
    `errors: ${st.source}: ${st.ues.toLocaleString('en-US')} UEs on ${st.hostsWithUes} hosts (${st.uesHandled.toLocaleString('en-US')} in hugepage memory; ` +
      `${st.corrected.toLocaleString('en-US')} CEs, ${st.beyondFleet} beyond the fleet, ${st.beyondDuration} after the end skipped)`,
    `translation baseline (no errors): ${baselineText(r)}`,
    `kernel: MFD_MF_KEEP_UE_MAPPED ${r.kernel.keepVersionText}; log lines and counters ${r.kernel.logLines.generation}`,
    '',
    line(head),
    ...rows.map(line),
    '',
    `${r.hostYears.toLocaleString('en-US')} host-years per run in ${r.wallSeconds.toFixed(1)} s (${Math.round(r.hostYearsPerSecond).toLocaleString('en-US')} simulated host-years/s, baselines included)`,
  ].join('\n');
}
