// The figures of the side-by-side table, in order: one definition per line of the table,
// shared by the terminal, CSV and HTML reports so that they always agree.
import type { PolicyRow, StudyReport } from './report.js';

/** One line of the side-by-side table. */
export interface Metric {
  /** CSV column name. */
  key: string;
  /** Row label for people. */
  label: string;
  /** The policy's figure (null where it does not apply). */
  value(row: PolicyRow): number | null;
  /** A figure for people. */
  format(value: number): string;
}

const GiB = 2 ** 30;
const MiB = 2 ** 20;

const count = (n: number) => Math.round(n).toLocaleString('en-US');
function bytes(n: number): string {
  if (n >= GiB) return `${(n / GiB).toLocaleString('en-US', { maximumFractionDigits: 1 })} GiB`;
  if (n >= MiB) return `${(n / MiB).toFixed(2)} MiB`;
  return n === 0 ? '0' : `${(n / 1024).toLocaleString('en-US')} KiB`;
}
const percent = (x: number) => `${(x * 100).toFixed(3)}%`;
const micros = (ns: number) => `${(ns / 1000).toFixed(1)} us`;
const millis = (ns: number) => `${(ns / 1e6).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} ms`;
const fixed1 = (x: number) => x.toFixed(1);
/** A release latency, or null (shown "-") for a policy that dissolved nothing at release. */
const released = (r: PolicyRow, ns: number) => (r.recovery.release.events === 0 ? null : ns);

/** Memory lost at the end of every whole year before the end: the loss over time, in short. */
function yearlyLoss(report: StudyReport): Metric[] {
  const out: Metric[] = [];
  for (let year = 1; year < report.scenario.years; year++) {
    const step = report.stepYears.filter((y) => y <= year + 1e-9).length - 1;
    if (step < 0) continue;
    out.push({ key: `memory_lost_bytes_year_${year}`, label: `memory lost after year ${year}`, value: (r) => r.series.bytesLost[step]!, format: bytes });
  }
  return out;
}

const METRICS: Metric[] = [
  { key: 'memory_lost_bytes', label: 'memory lost (end)', value: (r) => r.memoryLostBytes, format: bytes },
  { key: 'raw_pages_poisoned', label: 'raw 4 KiB pages poisoned', value: (r) => r.rawPagesPoisoned, format: count },
  { key: 'hugepages_offlined', label: 'hugepages offlined whole', value: (r) => r.hugepagesOfflined, format: count },
  { key: 'hugepages_leaked', label: 'hugepages leaked (after release)', value: (r) => r.hugepagesLeaked, format: count },
  { key: 'hugepages_dissolved', label: 'hugepages dissolved', value: (r) => r.hugepagesDissolved, format: count },
  { key: 'vmemmap_pages_restored', label: '  vmemmap pages restored', value: (r) => r.vmemmapPagesRestored, format: count },
  { key: 'buddy_pages_returned', label: '  4 KiB pages back to buddy', value: (r) => r.buddyPagesReturned, format: count },
  { key: 'thp_folios_retired', label: 'THP folios out of THP memory', value: (r) => r.thpFoliosRetired, format: count },
  { key: 'sigbus', label: 'SIGBUS delivered', value: (r) => r.sigbus.total, format: count },
  { key: 'sigbus_mceerr_ar', label: '  BUS_MCEERR_AR', value: (r) => r.sigbus.BUS_MCEERR_AR, format: count },
  { key: 'sigbus_mceerr_ao', label: '  BUS_MCEERR_AO', value: (r) => r.sigbus.BUS_MCEERR_AO, format: count },
  { key: 'sigbus_si_kernel', label: '  SI_KERNEL', value: (r) => r.sigbus.SI_KERNEL, format: count },
  { key: 'sigbus_adrerr', label: '  BUS_ADRERR', value: (r) => r.sigbus.BUS_ADRERR, format: count },
  { key: 'repeated_consumption', label: 'loads of known-bad pages', value: (r) => r.repeatedConsumption, format: count },
  { key: 'refcount_underflows', label: 'refcount underflows (v3 release defect)', value: (r) => r.refcountUnderflows, format: count },
  { key: 'vms_killed', label: 'VMs killed', value: (r) => r.vmsKilled, format: count },
  { key: 'accesses_failed', label: 'sampled accesses failed', value: (r) => r.accessesFailed, format: count },
  { key: 'mf_recovered', label: 'memory_failure recovered', value: (r) => r.memoryFailure.recovered, format: count },
  { key: 'mf_failed', label: 'memory_failure failed', value: (r) => r.memoryFailure.failed, format: count },
  { key: 'mf_ignored', label: 'memory_failure ignored', value: (r) => r.memoryFailure.ignored, format: count },
  { key: 'walks_per_kilo_access', label: 'page walks per 1,000 accesses', value: (r) => r.translation.walksPerKiloAccess, format: fixed1 },
  { key: 'translation_loss', label: 'translation throughput loss', value: (r) => r.translation.throughputLoss, format: percent },
  { key: 'translation_loss_worst_host', label: '  on the worst host', value: (r) => r.translation.worstHostThroughputLoss, format: percent },
  { key: 'split_page_table_pages', label: 'page-table pages (splits)', value: (r) => r.splitPageTablePages, format: count },
  { key: 'recovery_events', label: 'memory_failure events', value: (r) => r.recovery.events, format: count },
  { key: 'recovery_p50_ns', label: 'memory_failure latency p50', value: (r) => r.recovery.p50Ns, format: micros },
  { key: 'recovery_p99_ns', label: 'memory_failure latency p99', value: (r) => r.recovery.p99Ns, format: micros },
  { key: 'recovery_max_ns', label: 'memory_failure latency max', value: (r) => r.recovery.maxNs, format: micros },
  { key: 'recovery_total_ns', label: 'memory_failure kernel time', value: (r) => r.recovery.totalNs, format: millis },
  // KEEP's and HGM's deferred work, priced where it happens: the dissolves at release.
  { key: 'release_dissolves', label: 'release-time dissolves', value: (r) => r.recovery.release.dissolves, format: count },
  { key: 'release_p50_ns', label: 'release latency p50', value: (r) => released(r, r.recovery.release.p50Ns), format: micros },
  { key: 'release_p99_ns', label: 'release latency p99', value: (r) => released(r, r.recovery.release.p99Ns), format: micros },
  { key: 'release_max_ns', label: 'release latency max', value: (r) => released(r, r.recovery.release.maxNs), format: micros },
  { key: 'release_total_ns', label: 'release kernel time', value: (r) => r.recovery.release.totalNs, format: millis },
  { key: 'recovery_leaves', label: 'leaves unmapped or split', value: (r) => r.recovery.work.leaves, format: count },
  { key: 'recovery_tasks', label: 'tasks walked', value: (r) => r.recovery.work.tasks, format: count },
];

/** Every figure of a report, in table order (the CSV's columns: the same for every study). */
export function studyMetrics(report: StudyReport): Metric[] {
  return [...yearlyLoss(report), ...METRICS];
}

/** The lines of the table people read: figures that apply to none of the policies are left out. */
export function shownMetrics(report: StudyReport): Metric[] {
  return studyMetrics(report).filter((m) => report.policies.some((p) => m.value(p) !== null));
}

/** A metric's value for people ("-" where it does not apply). */
export function formatMetric(m: Metric, row: PolicyRow): string {
  const v = m.value(row);
  return v === null ? '-' : m.format(v);
}
