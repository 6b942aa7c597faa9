// The study for the terminal, at most 100 columns wide: what ran, the verdict (sentences and
// its table), then the full table in two parts, operator figures and kernel figures. Policy
// columns carry short names, explained in a legend; a figure's interval goes on a line of
// its own when the figure and its interval do not fit side by side.
import { formatParagraph, TERMINAL_WIDTH } from '../format/table.js';
import { formatCount, formatDuration } from '../format/units.js';
import { formatHalfWidth, formatMetric, shownMetrics, type Metric } from './metrics.js';
import { baselineText, type StudyReport } from './report.js';

/** The terminal's width the study fits in (every command's). */
export { TERMINAL_WIDTH as TABLE_COLUMNS };

/**
 * A table: a label column, then right-aligned columns. Each cell is one or two parts (a
 * figure and its interval); both share a line where the table fits `width`, else the
 * second parts go on a line below.
 */
function layout(head: string[], rows: { label: string; cells: [string, string][] }[], width = TERMINAL_WIDTH): string[] {
  const joined = rows.map((r) => [r.label, ...r.cells.map(([a, b]) => (b ? `${a} ${b}` : a))]);
  const fits = (table: string[][]) => head.map((_, c) => Math.max(head[c]!.length, ...table.map((row) => row[c]!.length))).reduce((s, w) => s + w + 2, -2) <= width;
  const table = fits(joined) ? joined : rows.flatMap((r) => {
    const main = [r.label, ...r.cells.map(([a]) => a)];
    return r.cells.some(([, b]) => b) ? [main, ['', ...r.cells.map(([, b]) => b)]] : [main];
  });
  const widths = head.map((_, c) => Math.max(head[c]!.length, ...table.map((row) => row[c]!.length)));
  const line = (cells: string[]) => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd();
  return [line(head), ...table.map(line)];
}

function metricRows(r: StudyReport, metrics: Metric[]) {
  return metrics.map((m) => ({
    label: m.label,
    cells: r.policies.map((p): [string, string] => [formatMetric(m, p), formatHalfWidth(m, p.intervals[m.key] ?? null)]),
  }));
}

/** The study for the terminal: what ran, the verdict, then the operator and kernel tables. */
export function formatTable(r: StudyReport): string {
  const s = r.scenario;
  const st = r.stream;
  const head = ['', ...r.policies.map((p) => p.short)];
  const n = r.replicates.length;
  const ues = r.replicates.map((x) => x.stream.ues);
  const v = r.verdict;
  const out = [
    formatParagraph(`study ${s.name}: ${formatCount(s.fleet.hosts)} hosts x ${s.years} ${s.years === 1 ? 'year' : 'years'} (${r.steps} steps), ${n === 1 ? '1 replicate' : `${n} replicates`}, policies ${s.policies.join(', ')}`),
    formatParagraph(n === 1
      ? `errors: ${st.source}: ${formatCount(st.ues)} UEs on ${formatCount(st.hostsWithUes)} hosts (${formatCount(st.uesHandled)} in hugepage memory; ${formatCount(st.corrected)} CEs, ${formatCount(st.beyondFleet)} beyond the fleet, ${formatCount(st.beyondDuration)} after the end skipped)`
      : `errors: ${r.replicates[0]!.stream.source.replace(/, seed \d+/, '')}, one stream per replicate: ${formatCount(Math.min(...ues))} to ${formatCount(Math.max(...ues))} UEs (seeds ${r.replicates.map((x) => x.seed).join(', ')})`, { hang: 2 }),
    formatParagraph(`translation baseline (no errors): ${baselineText(r)}`, { hang: 2 }),
    formatParagraph(`kernel: MFD_MF_KEEP_UE_MAPPED ${r.kernel.keepVersionText}; log lines and counters ${r.kernel.logLines.generation}`, { hang: 2 }),
    '',
    'VERDICT',
    ...v.sentences.map((line) => formatParagraph(line)),
    '',
  ];
  if (v.rows.length > 0) {
    const saving = v.rows.some((row) => row.kind === 'saving');
    out.push(
      ...layout(['', ...r.policies.map((p) => p.short)], v.rows.map((row) => ({
        label: row.label,
        cells: row.cells.map((c): [string, string] => (c.text === 'not resolved' || !c.plusMinus ? [c.text, ''] : [c.mean, c.plusMinus])),
      }))),
      formatParagraph(`${saving ? 'Savings are against DEFAULT per 1,000 hosts per year; ' : ''}translation loss is against an error-free run, on the VMs with a UE on their memory.` +
        `${n > 1 ? ' ±: the 95% interval\'s half-width. not resolved: the interval includes 0.' : ''}`),
      '',
    );
  }
  out.push(
    'OPERATOR FIGURES (totals over the fleet and the study; means over the replicates)',
    ...layout(head, metricRows(r, shownMetrics(r, 'operator'))),
    '',
    'KERNEL FIGURES',
    ...layout(head, metricRows(r, shownMetrics(r, 'kernel'))),
    '',
    ...r.policies.map((p) => formatParagraph(`${p.short}: ${p.label}: ${p.summary}`, { hang: 2 })),
    '',
    formatParagraph(`${formatCount(r.hostYears)} host-years per run${n > 1 ? ` and replicate (${n} replicates)` : ''} in ${formatDuration(r.wallSeconds * 1e9)} ` +
      `(${formatCount(r.hostYearsPerSecond)} simulated host-years/s, baselines included)`),
  );
  return out.join('\n');
}
