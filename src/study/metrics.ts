// The figures of the side-by-side table, in order: one definition per line of the table,
// shared by the terminal, CSV and HTML reports so that they always agree. Operator figures
// (what a fleet owner decides on) come first; kernel figures (how the kernel got there) after.
import { formatBytes, formatDuration, formatMeanCount, formatNumber, formatPercent } from '../format/units.js';
import type { Interval } from './intervals.js';
import type { PolicyRow, StudyReport } from './report.js';

/** One line of the side-by-side table. */
export interface Metric {
  /** CSV column name. */
  key: string;
  /** Row label for people; a leading two spaces mark a detail of the line above. */
  label: string;
  /** Operator figures (memory, VMs, SIGBUS, costs) or kernel figures (the mechanism). */
  group: 'operator' | 'kernel';
  /** The policy's figure (null where it does not apply). */
  value(row: PolicyRow): number | null;
  /** A figure for people. */
  format(value: number): string;
}

const count = formatMeanCount;
const bytes = (n: number) => (n === 0 ? '0' : formatBytes(n));
const percent = (x: number) => formatPercent(x, 3);
const duration = (ns: number) => (ns === 0 ? '0' : formatDuration(ns));
const fixed1 = (x: number) => formatNumber(x, 1);
/** A release latency, or null (shown "-") for a policy that dissolved nothing at release. */
const released = (r: PolicyRow, ns: number) => (r.recovery.release.events === 0 ? null : ns);

/** Memory lost at the end of every whole year before the end: the loss over time, in short. */
function yearlyLoss(report: StudyReport): Metric[] {
  const out: Metric[] = [];
  for (let year = 1; year < report.scenario.years; year++) {
    const step = report.stepYears.filter((y) => y <= year + 1e-9).length - 1;
    if (step < 0) continue;
    out.push({ key: `memory_lost_bytes_year_${year}`, label: `  after year ${year}`, group: 'operator', value: (r) => r.series.bytesLost[step]!, format: bytes });
  }
  return out;
}

const OPERATOR: Metric[] = [
  { key: 'hugepages_offlined', label: 'hugepages offlined whole', group: 'operator', value: (r) => r.hugepagesOfflined, format: count },
  { key: 'hugepages_leaked', label: 'hugepages leaked (after release)', group: 'operator', value: (r) => r.hugepagesLeaked, format: count },
  { key: 'thp_folios_retired', label: 'THP folios out of THP memory', group: 'operator', value: (r) => r.thpFoliosRetired, format: count },
  { key: 'affected_vms', label: 'VMs with a UE on their memory', group: 'operator', value: (r) => r.affectedVms.vms, format: count },
  { key: 'vms_killed', label: 'VMs killed', group: 'operator', value: (r) => r.vmsKilled, format: count },
  { key: 'sigbus', label: 'SIGBUS delivered', group: 'operator', value: (r) => r.sigbus.total, format: count },
  { key: 'sigbus_per_affected_vm', label: '  per affected VM', group: 'operator', value: (r) => r.affectedVms.sigbusPerVm, format: fixed1 },
  { key: 'accesses_failed', label: 'sampled accesses failed', group: 'operator', value: (r) => r.accessesFailed, format: count },
  { key: 'translation_loss_affected_vms', label: 'translation loss, affected VMs', group: 'operator', value: (r) => r.affectedVms.translationLoss, format: percent },
  { key: 'translation_loss', label: '  fleet-wide', group: 'operator', value: (r) => r.translation.throughputLoss, format: percent },
  { key: 'recovery_p99_ns', label: 'memory_failure latency p99', group: 'operator', value: (r) => r.recovery.p99Ns, format: duration },
  { key: 'release_p99_ns', label: 'release latency p99', group: 'operator', value: (r) => released(r, r.recovery.release.p99Ns), format: duration },
];

const KERNEL: Metric[] = [
  { key: 'raw_pages_poisoned', label: 'raw 4 KiB pages poisoned', group: 'kernel', value: (r) => r.rawPagesPoisoned, format: count },
  { key: 'hugepages_dissolved', label: 'hugepages dissolved', group: 'kernel', value: (r) => r.hugepagesDissolved, format: count },
  { key: 'vmemmap_pages_restored', label: '  vmemmap pages restored', group: 'kernel', value: (r) => r.vmemmapPagesRestored, format: count },
  { key: 'buddy_pages_returned', label: '  4 KiB pages back to buddy', group: 'kernel', value: (r) => r.buddyPagesReturned, format: count },
  { key: 'sigbus_mceerr_ar', label: 'SIGBUS BUS_MCEERR_AR', group: 'kernel', value: (r) => r.sigbus.BUS_MCEERR_AR, format: count },
  { key: 'sigbus_mceerr_ao', label: 'SIGBUS BUS_MCEERR_AO', group: 'kernel', value: (r) => r.sigbus.BUS_MCEERR_AO, format: count },
  { key: 'sigbus_si_kernel', label: 'SIGBUS SI_KERNEL', group: 'kernel', value: (r) => r.sigbus.SI_KERNEL, format: count },
  { key: 'sigbus_adrerr', label: 'SIGBUS BUS_ADRERR', group: 'kernel', value: (r) => r.sigbus.BUS_ADRERR, format: count },
  { key: 'repeated_consumption', label: 'loads of known-bad pages', group: 'kernel', value: (r) => r.repeatedConsumption, format: count },
  { key: 'refcount_underflows', label: 'refcount underflows (v3 defect)', group: 'kernel', value: (r) => r.refcountUnderflows, format: count },
  { key: 'affected_vms_killed', label: 'affected VMs killed', group: 'kernel', value: (r) => r.affectedVms.killed, format: count },
  { key: 'mf_recovered', label: 'memory_failure recovered', group: 'kernel', value: (r) => r.memoryFailure.recovered, format: count },
  { key: 'mf_failed', label: 'memory_failure failed', group: 'kernel', value: (r) => r.memoryFailure.failed, format: count },
  { key: 'mf_ignored', label: 'memory_failure ignored', group: 'kernel', value: (r) => r.memoryFailure.ignored, format: count },
  { key: 'walks_per_kilo_access', label: 'page walks per 1,000 accesses', group: 'kernel', value: (r) => r.translation.walksPerKiloAccess, format: fixed1 },
  { key: 'translation_loss_worst_host', label: 'translation loss, worst host', group: 'kernel', value: (r) => r.translation.worstHostThroughputLoss, format: percent },
  { key: 'split_page_table_pages', label: 'page-table pages (splits)', group: 'kernel', value: (r) => r.splitPageTablePages, format: count },
  { key: 'recovery_events', label: 'memory_failure events', group: 'kernel', value: (r) => r.recovery.events, format: count },
  { key: 'recovery_p50_ns', label: 'memory_failure latency p50', group: 'kernel', value: (r) => r.recovery.p50Ns, format: duration },
  { key: 'recovery_max_ns', label: 'memory_failure latency max', group: 'kernel', value: (r) => r.recovery.maxNs, format: duration },
  { key: 'recovery_total_ns', label: 'memory_failure kernel time', group: 'kernel', value: (r) => r.recovery.totalNs, format: duration },
  // KEEP's and HGM's deferred work, priced where it happens: the dissolves at release.
  { key: 'release_dissolves', label: 'release-time dissolves', group: 'kernel', value: (r) => r.recovery.release.dissolves, format: count },
  { key: 'release_p50_ns', label: 'release latency p50', group: 'kernel', value: (r) => released(r, r.recovery.release.p50Ns), format: duration },
  { key: 'release_max_ns', label: 'release latency max', group: 'kernel', value: (r) => released(r, r.recovery.release.maxNs), format: duration },
  { key: 'release_total_ns', label: 'release kernel time', group: 'kernel', value: (r) => r.recovery.release.totalNs, format: duration },
  { key: 'recovery_leaves', label: 'leaves unmapped or split', group: 'kernel', value: (r) => r.recovery.work.leaves, format: count },
  { key: 'recovery_tasks', label: 'tasks walked', group: 'kernel', value: (r) => r.recovery.work.tasks, format: count },
];

/** Every figure of a report, in table order (the CSV's columns: the same for every study of the same length). */
export function studyMetrics(report: StudyReport): Metric[] {
  const end: Metric = { key: 'memory_lost_bytes', label: 'memory lost (end)', group: 'operator', value: (r) => r.memoryLostBytes, format: bytes };
  return [end, ...yearlyLoss(report), ...OPERATOR, ...KERNEL];
}

/** The lines of the table people read: figures that apply to none of the policies are left out. */
export function shownMetrics(report: StudyReport, group?: Metric['group']): Metric[] {
  return studyMetrics(report).filter((m) => (group === undefined || m.group === group) && report.policies.some((p) => m.value(p) !== null));
}

/** A metric's value for people ("-" where it does not apply). */
export function formatMetric(m: Metric, row: PolicyRow): string {
  const v = m.value(row);
  return v === null ? '-' : m.format(v);
}

/** The half-width of an interval for people, in the metric's unit ("" without an interval). */
export function formatHalfWidth(m: Pick<Metric, 'format'>, i: Interval | null): string {
  if (i === null || i.low === null || i.high === null) return '';
  const half = (i.high - i.low) / 2;
  return half === 0 ? '' : `±${m.format(half)}`;
}
