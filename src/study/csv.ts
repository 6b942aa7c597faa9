// The side-by-side table as CSV: one row per policy, one column per metric (raw numbers).
import { studyMetrics } from './metrics.js';
import type { StudyReport } from './report.js';

/** One CSV field: quoted when it holds a quote, a comma or a line break. */
export function csvField(v: string | number | null): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The side-by-side table as CSV: one row per policy, a column per figure. */
export function formatCsv(r: StudyReport): string {
  const metrics = studyMetrics(r);
  const header = ['policy', 'label', ...metrics.map((m) => m.key)];
  const rows = r.policies.map((p) => [p.policy, p.label, ...metrics.map((m) => m.value(p))]);
  return [header, ...rows].map((row) => row.map(csvField).join(',')).join('\n') + '\n';
}
