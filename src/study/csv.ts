// The side-by-side table as CSV (raw numbers), one column per metric: per policy, a row per
// replicate, then the mean and its 95% interval; then, per policy against DEFAULT, the paired
// differences the same way. A study with one replicate has no interval rows.
import { studyMetrics } from './metrics.js';
import type { Interval } from './intervals.js';
import { POLICIES } from './policies.js';
import type { StudyReport } from './report.js';

/** One CSV field: quoted when it holds a quote, a comma or a line break. */
export function csvField(v: string | number | null): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * The table as CSV. Columns: policy, label, row ("replicate", "mean", "ci95_low",
 * "ci95_high", or the same prefixed "difference_" for policy minus DEFAULT), replicate
 * (1-based, on replicate rows), seed, then one per metric.
 */
export function formatCsv(r: StudyReport): string {
  const metrics = studyMetrics(r);
  const header = ['policy', 'label', 'row', 'replicate', 'seed', ...metrics.map((m) => m.key)];
  const rows: (string | number | null)[][] = [];
  const block = (policy: string, label: string, prefix: string, figures: Record<string, Interval | null>) => {
    const at = (f: (i: Interval) => number | null) => metrics.map((m) => { const i = figures[m.key]; return i ? f(i) : null; });
    r.replicates.forEach((rep, k) => rows.push([policy, label, `${prefix}replicate`, k + 1, rep.seed, ...at((i) => i.values[k] ?? null)]));
    if (r.replicates.length < 2) return;
    rows.push([policy, label, `${prefix}mean`, null, null, ...at((i) => i.mean)]);
    rows.push([policy, label, `${prefix}ci95_low`, null, null, ...at((i) => i.low)]);
    rows.push([policy, label, `${prefix}ci95_high`, null, null, ...at((i) => i.high)]);
  };
  for (const p of r.policies) block(p.policy, p.label, '', p.intervals);
  for (const d of r.differences) block(d.policy, `${POLICIES[d.policy].label} - ${POLICIES[d.against].label}`, 'difference_', d.figures);
  return [header, ...rows].map((row) => row.map(csvField).join(',')).join('\n') + '\n';
}
