// The verdict an operator can quote: a few sentences and a small table of what each policy
// saves against DEFAULT per 1,000 hosts per year (memory, VM kills, SIGBUS) and what it
// costs (translation on the VMs that took a UE, recovery and release latency), each with its
// 95% interval. A difference whose interval includes 0 is reported as "not resolved".
import { formatBytes, formatCount, formatDuration, formatMeanCount, formatPercent } from '../format/units.js';
import { resolved, type Interval } from './intervals.js';
import type { PolicyName } from './policies.js';
import type { PolicyRow, StudyReport } from './report.js';

/** One policy's figure in a verdict row. */
export interface VerdictCell {
  policy: PolicyName;
  /** Mean, 95% interval and per-replicate values, in the row's unit (null: does not apply). */
  value: Interval | null;
  /** The interval excludes 0 (null: no interval, or not a comparison). */
  resolved: boolean | null;
  /** The figure for people: "51.0 GiB ±10.9 GiB", "not resolved", "reference", "-". */
  text: string;
  /** The mean and the interval's half-width for people ("" where there is none). */
  mean: string;
  plusMinus: string;
}

/** One line of the verdict table. */
export interface VerdictRow {
  key: string;
  label: string;
  /** Savings against the reference, scaled to 1,000 hosts per year; or costs per event. */
  kind: 'saving' | 'cost';
  cells: VerdictCell[];
}

/** A study's verdict: the sentences and the table they quote. */
export interface Verdict {
  replicates: number;
  /** The policy the savings are measured against (null when the study does not run DEFAULT). */
  reference: PolicyName | null;
  sentences: string[];
  rows: VerdictRow[];
}

const GiB = 2 ** 30;
const HUGEPAGE_BYTES = { '1G': GiB, '2M': 2 ** 21 } as const;

const scaled = (i: Interval, k: number): Interval => ({
  mean: i.mean * k,
  low: i.low === null ? null : i.low * k,
  high: i.high === null ? null : i.high * k,
  values: i.values.map((v) => v * k),
});
/** k < 0 swaps the bounds. */
const times = (i: Interval, k: number): Interval => {
  const s = scaled(i, k);
  return k < 0 ? { ...s, low: s.high, high: s.low } : s;
};

/**
 * A figure with its interval's half-width, or "not resolved" for a comparison whose interval
 * includes 0 (unless every replicate agrees on exactly 0).
 */
function cell(policy: PolicyName, value: Interval | null, format: (x: number) => string, comparison: boolean): VerdictCell {
  if (value === null) return { policy, value, resolved: null, text: '-', mean: '', plusMinus: '' };
  const mean = format(value.mean);
  if (value.low === null || value.high === null) return { policy, value, resolved: null, text: mean, mean, plusMinus: '' };
  const half = (value.high - value.low) / 2;
  const plusMinus = half === 0 ? '' : `±${format(half)}`;
  const isResolved = comparison ? resolved(value) : null;
  const text = comparison && !isResolved && value.values.some((v) => v !== 0) ? 'not resolved' : plusMinus ? `${mean} ${plusMinus}` : mean;
  return { policy, value, resolved: isResolved, text, mean, plusMinus };
}

/** The verdict of a report: sentences first, then the table they quote. */
export function studyVerdict(r: StudyReport): Verdict {
  const s = r.scenario;
  const replicates = r.replicates.length;
  const perKiloHostYear = 1000 / (s.fleet.hosts * s.years);
  const poolBytesPerHost = s.fleet.pools['1G'] * HUGEPAGE_BYTES['1G'] + s.fleet.pools['2M'] * HUGEPAGE_BYTES['2M'];
  const ref = r.differences[0]?.against ?? null;
  const refRow = r.policies.find((p) => p.policy === ref);
  const rows: VerdictRow[] = [];

  const count = formatMeanCount;
  const share = (x: number) => formatPercent(x, 3);
  const latency = (x: number) => formatDuration(x);
  // Savings: the reference minus the policy, replicate by replicate, per 1,000 hosts per year.
  const saving = (key: string, label: string, metric: string, format: (x: number) => string, k = perKiloHostYear) => {
    if (ref === null) return;
    rows.push({
      key, label, kind: 'saving',
      cells: r.policies.map((p) => {
        if (p.policy === ref) return { policy: p.policy, value: null, resolved: null, text: 'reference', mean: '', plusMinus: '' };
        const d = r.differences.find((x) => x.policy === p.policy)!.figures[metric] ?? null;
        return cell(p.policy, d === null ? null : times(d, -k), format, true);
      }),
    });
  };
  // Costs: each policy's own figure (translation loss is already against the error-free run).
  const cost = (key: string, label: string, metric: string, format: (x: number) => string, comparison: boolean) => {
    rows.push({
      key, label, kind: 'cost',
      cells: r.policies.map((p) => cell(p.policy, p.intervals[metric] ?? null, format, comparison)),
    });
  };
  saving('memory_saved_bytes', 'hugepage memory saved', 'memory_lost_bytes', formatBytes);
  if (poolBytesPerHost > 0) saving('memory_saved_share', '  share of hugepage memory', 'memory_lost_bytes', share, 1 / (s.fleet.hosts * s.years * poolBytesPerHost));
  saving('vms_killed_avoided', 'VM kills avoided', 'vms_killed', count);
  saving('sigbus_avoided', 'SIGBUS avoided', 'sigbus', count);
  cost('translation_loss_affected_vms', 'translation loss, affected VMs', 'translation_loss_affected_vms', share, true);
  cost('recovery_p99_ns', 'memory_failure latency p99', 'recovery_p99_ns', latency, false);
  cost('release_p99_ns', 'release latency p99', 'release_p99_ns', latency, false);

  return { replicates, reference: ref, sentences: sentences(r, rows, refRow ?? null, perKiloHostYear), rows };
}

/** The verdict in words: how the study ran, then one sentence per policy against the reference. */
function sentences(r: StudyReport, rows: VerdictRow[], refRow: PolicyRow | null, perKiloHostYear: number): string[] {
  const s = r.scenario;
  const n = r.replicates.length;
  const out = [
    `${n === 1 ? 'One replicate' : `${n} replicates`} of ${formatCount(s.fleet.hosts)} hosts over ${s.years} ${s.years === 1 ? 'year' : 'years'}` +
      (n === 1
        ? ' (the scenario\'s seed): figures without intervals, so no difference below is resolved; run more replicates (--replicates) to tell differences from noise.'
        : `, each with its own error stream and workloads: means with 95% intervals (Student t over the replicates), savings paired replicate by replicate and scaled to 1,000 hosts per year.`),
  ];
  const cellOf = (key: string, policy: PolicyName) => rows.find((x) => x.key === key)?.cells.find((c) => c.policy === policy) ?? null;
  const clause = (c: VerdictCell | null, what: string, one = what) => {
    if (c === null || c.value === null) return null;
    if (c.text === 'not resolved') return `no resolved number of ${what} (${c.mean} ${c.plusMinus})`;
    // "1 VM kill", "2.2 VM kills": the noun agrees with the figure as printed.
    const noun = c.mean === '1' ? one : what;
    return `${c.mean} ${noun}${c.plusMinus ? ` (${c.plusMinus})` : ''}`;
  };
  if (refRow !== null) {
    const perYear = (x: number) => formatMeanCount(x * perKiloHostYear);
    out.push(`Per 1,000 hosts per year, DEFAULT, the reference, loses ${formatBytes(refRow.memoryLostBytes * perKiloHostYear)} of hugepage memory, kills ${perYear(refRow.vmsKilled)} VMs and delivers ${perYear(refRow.sigbus.total)} SIGBUS.`);
    for (const p of r.policies) {
      if (p.policy === refRow.policy) continue;
      const saved = clause(cellOf('memory_saved_bytes', p.policy), 'of hugepage memory');
      const kills = clause(cellOf('vms_killed_avoided', p.policy), 'VM kills', 'VM kill');
      const sigbus = clause(cellOf('sigbus_avoided', p.policy), 'SIGBUS');
      const tlb = cellOf('translation_loss_affected_vms', p.policy);
      const cost = tlb === null || tlb.value === null ? '' : tlb.text === 'not resolved'
        ? '; its translation cost on the VMs that took a UE is not resolved'
        : `; it costs the VMs that took a UE ${tlb.text} of their throughput in translation`;
      out.push(`${p.short} saves ${saved ?? 'no memory'} and avoids ${[kills, sigbus].filter(Boolean).join(' and ') || 'nothing'}${cost}.`);
    }
  } else {
    out.push('DEFAULT is not among the policies: nothing is compared against it.');
  }
  return out;
}
