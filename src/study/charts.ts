// The study's charts as vega-lite specifications, rendered to SVG on the server (no
// browser, no scripts in the report): memory lost over time, memory lost against the
// translation cost on the affected VMs, recovery latency distributions, and what became of
// the poisoned HugeTLB hugepages and THP folios (separate charts: different page sizes).
// Policies keep one colour, dash pattern and marker shape in every chart, lines that overlap
// carry one shared direct label, and every mark has a tooltip (an SVG <title>).
import type { TopLevelSpec } from 'vega-lite';
import { importOptional } from '../platform/optional.js';
import { formatBytes, formatDuration, formatMeanCount, formatPercent } from '../format/units.js';
import { resolved, type Interval } from './intervals.js';
import type { StudyReport } from './report.js';

/**
 * A vega-lite specification (vega-lite's TopLevelSpec), typed loosely so that mfrsim's types
 * need no vega-lite installed.
 */
export type ChartSpec = object;

/** One chart of the study report: its title, its caption, and what it draws. */
export interface Chart {
  /** The chart's heading. */
  title: string;
  /** What it shows, in a sentence or two. */
  caption: string;
  /** The vega-lite specification, data included. */
  spec: ChartSpec;
}

/** A chart as built here, where the specification is checked against vega-lite's types. */
type VegaLiteChart = Chart & { spec: TopLevelSpec };

const GiB = 2 ** 30;
const WIDTH = 480;
const HEIGHT = 280;
const PALETTE = ['#d62728', '#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
const DASHES = [[1, 0], [6, 3], [2, 2], [8, 3, 2, 3], [4, 4], [1, 3]];
const SHAPES = ['circle', 'square', 'triangle-up', 'diamond', 'cross', 'triangle-down'];

/** The same colour, dash pattern and marker for a policy in every chart (by its short name). */
function policyEncoding(r: StudyReport) {
  const domain = r.policies.map((p) => p.short);
  const n = domain.length;
  const legend = { field: 'policy', type: 'nominal' as const, title: 'policy' };
  return {
    color: { ...legend, scale: { domain, range: PALETTE.slice(0, n) } },
    strokeDash: { ...legend, scale: { domain, range: DASHES.slice(0, n) } },
    shape: { ...legend, scale: { domain, range: SHAPES.slice(0, n) } },
  };
}

/**
 * One label per spot: points within 3% of the axes' spans of each other share a label
 * ("KEEP, HGM"), so that overlapping series are named. Labels whose text would still run
 * into an earlier one (near in y, within `reach` of the x span: about a label's width) get
 * `row` 1, 2, ...: the caller moves them up by as many text lines.
 */
function sharedLabels<T extends { policy: string }>(values: T[], x: (v: T) => number, y: (v: T) => number, reach = 1 / 3): (T & { row: number })[] {
  const xs = values.map(x);
  const ys = values.map(y);
  const xSpan = Math.max(...xs) - Math.min(...xs) || 1;
  const ySpan = Math.max(...ys) - Math.min(...ys) || 1;
  const labels: (T & { row: number })[] = [];
  for (const v of values) {
    const near = labels.find((l) => Math.abs(x(l) - x(v)) <= 0.03 * xSpan && Math.abs(y(l) - y(v)) <= 0.03 * ySpan);
    if (near) near.policy = `${near.policy}, ${v.policy}`;
    else labels.push({ ...v, row: labels.filter((l) => Math.abs(x(l) - x(v)) <= xSpan * reach && Math.abs(y(l) - y(v)) <= 0.06 * ySpan).length });
  }
  return labels;
}

const bounds = (i: Interval | null | undefined, k = 1) => (i && i.low !== null && i.high !== null ? { low: i.low * k, high: i.high * k } : null);

function memoryLostOverTime(r: StudyReport): VegaLiteChart {
  // A log scale shows DEFAULT's GiB and KEEP's MiB on one chart; zero losses cannot be drawn.
  const values = r.policies.flatMap((p) =>
    r.stepYears.map((year, i) => ({ policy: p.short, year, gib: p.series.bytesLost[i]! / GiB, tip: `${p.short}, year ${year.toFixed(2)}: ${formatBytes(p.series.bytesLost[i]!)} lost` })).filter((d) => d.gib > 0));
  // The 95% intervals at every whole year (and the end), from the table's figures.
  const whiskers = r.policies.flatMap((p) => Object.entries(p.intervals).flatMap(([key, i]) => {
    const year = key === 'memory_lost_bytes' ? r.scenario.years : Number(/^memory_lost_bytes_year_(\d+)$/.exec(key)?.[1] ?? NaN);
    const b = bounds(i, 1 / GiB);
    if (!Number.isFinite(year) || b === null || b.high <= 0) return [];
    const low = Math.max(b.low, Math.min(...values.map((v) => v.gib)) / 2);
    return [{ policy: p.short, year, low, high: b.high, tip: `${p.short}, year ${year}: 95% interval ${formatBytes(Math.max(0, b.low) * GiB)} to ${formatBytes(b.high * GiB)}` }];
  }));
  const last = r.policies.map((p) => values.filter((v) => v.policy === p.short).at(-1)).filter((v) => v !== undefined);
  const enc = policyEncoding(r);
  const x = { field: 'year', type: 'quantitative' as const, title: 'years' };
  const y = { field: 'gib', type: 'quantitative' as const, title: 'memory lost (GiB, log scale)', scale: { type: 'log' as const } };
  return {
    title: 'Memory lost over time',
    caption: `Fleet memory made unusable by recovery at the end of each step, the mean over ${r.replicates.length === 1 ? 'the one replicate' : `${r.replicates.length} replicates`}` +
      `${r.replicates.length > 1 ? ' with 95% intervals at each whole year (a bar that reaches the bottom: the interval includes 0, which a log scale cannot draw)' : ''} (log scale; steps with no loss yet are not drawn). Policies that lose the same memory share a line and one label.`,
    spec: {
      width: WIDTH, height: HEIGHT,
      layer: [
        { data: { values: whiskers }, mark: { type: 'rule', strokeWidth: 1.5 }, encoding: { x, y: { ...y, field: 'low' }, y2: { field: 'high' }, color: enc.color, description: { field: 'tip' } } },
        { data: { values }, mark: { type: 'line', point: { size: 50, filled: true } }, encoding: { x, y, ...enc, description: { field: 'tip' } } },
        {
          data: { values: sharedLabels(last, (v) => v.year, (v) => Math.log10(v.gib)) },
          mark: { type: 'text', align: 'right', dy: -10, fontSize: 13 },
          encoding: { x, y, text: { field: 'policy' }, description: { field: 'tip' } },
        },
      ],
    },
  };
}

function lossVersusTranslation(r: StudyReport): VegaLiteChart {
  const perKiloHostYear = 1000 / (r.scenario.fleet.hosts * r.scenario.years);
  const values = r.policies.flatMap((p) => {
    const mem = p.intervals['memory_lost_bytes'];
    const cost = p.intervals['translation_loss_affected_vms'];
    if (!mem || !cost || mem.mean <= 0) return [];
    const gib = (mem.mean * perKiloHostYear) / GiB;
    const xb = bounds(cost, 100);
    const yb = bounds(mem, perKiloHostYear / GiB);
    const unresolved = xb !== null && !resolved(cost) && cost.values.some((v) => v !== 0);
    return [{
      policy: p.short, lossPercent: cost.mean * 100, gib,
      xLow: xb?.low ?? cost.mean * 100, xHigh: xb?.high ?? cost.mean * 100,
      yLow: Math.max(yb?.low ?? gib, gib / 10), yHigh: yb?.high ?? gib,
      label: unresolved ? `${p.short} (cost not resolved)` : p.short,
      tip: `${p.short}: ${formatBytes(mem.mean * perKiloHostYear)} lost per 1,000 hosts per year; translation loss on affected VMs ${formatPercent(cost.mean, 3)}` +
        (xb ? ` (95% interval ${formatPercent(xb.low / 100, 3)} to ${formatPercent(xb.high / 100, 3)}${unresolved ? ', not resolved' : ''})` : ''),
    }];
  });
  const enc = policyEncoding(r);
  const x = { field: 'lossPercent', type: 'quantitative' as const, title: 'translation throughput loss on the affected VMs (%)', axis: { format: '.2~f' } };
  const y = { field: 'gib', type: 'quantitative' as const, title: 'memory lost per 1,000 hosts per year (GiB, log)', scale: { type: 'log' as const } };
  return {
    title: 'Memory lost versus translation cost',
    caption: 'Each policy: the memory it loses against what it costs the VMs that had a UE on their memory in page walks, compared with the same VMs in an error-free run on the same backing (HugeTLB or THP; VMs killed are left out). ' +
      (r.replicates.length > 1 ? 'Bars: 95% intervals over the replicates; a cost whose interval includes 0 is marked "not resolved".' : 'One replicate: no intervals, so no cost here is resolved.'),
    spec: {
      width: WIDTH, height: HEIGHT,
      data: { values },
      layer: [
        { mark: { type: 'rule' }, encoding: { x: { ...x, field: 'xLow' }, x2: { field: 'xHigh' }, y, color: enc.color, description: { field: 'tip' } } },
        { mark: { type: 'rule' }, encoding: { x, y: { ...y, field: 'yLow' }, y2: { field: 'yHigh' }, color: enc.color, description: { field: 'tip' } } },
        { mark: { type: 'point', filled: true, size: 140 }, encoding: { x, y, color: enc.color, shape: enc.shape, description: { field: 'tip' } } },
        {
          data: { values: stackedLabels(values.map((v) => ({ ...v, policy: v.label }))) },
          mark: { type: 'text', align: 'left', dx: 10, dy: -10, fontSize: 13 },
          encoding: { x, y: { ...y, field: 'labelGib' }, text: { field: 'policy' }, description: { field: 'tip' } },
        },
      ],
    },
  };
}

/** Labels of the loss-versus-cost chart, stacked upwards where they would run into each other. */
function stackedLabels<T extends { policy: string; lossPercent: number; gib: number; yLow: number; yHigh: number }>(values: T[]): (T & { labelGib: number })[] {
  // The decades the log axis shows: the interval bars' whole span, rounded out as the axis is.
  const top = Math.ceil(Math.log10(Math.max(...values.map((v) => v.yHigh))));
  const bottom = Math.floor(Math.log10(Math.min(...values.map((v) => v.yLow))));
  const decades = Math.max(2, top - bottom);
  // One text line is about a fifteenth of the plot's height.
  // "KEEP (cost not resolved)" is about as wide as the points' spread: stack labels over the whole span.
  return sharedLabels(values, (v) => v.lossPercent, (v) => Math.log10(v.gib), 1).map((l) => ({ ...l, labelGib: l.gib * 10 ** ((l.row * decades) / 15) }));
}

function latencyDistribution(r: StudyReport): VegaLiteChart {
  const values = r.policies.flatMap((p) => p.recovery.percentiles.map((q) => ({
    policy: p.short, micros: q.ns / 1000, percentile: q.percentile, tip: `${p.short}: p${q.percentile} ${formatDuration(q.ns)}`,
  })));
  const enc = policyEncoding(r);
  const x = { field: 'micros', type: 'quantitative' as const, title: 'latency (us, log scale)', scale: { type: 'log' as const } };
  const y = { field: 'percentile', type: 'quantitative' as const, title: 'percentile of events' };
  const ends = r.policies.map((p) => values.filter((v) => v.policy === p.short).at(-1)).filter((v) => v !== undefined);
  return {
    title: 'memory_failure latency distribution',
    caption: 'Simulated kernel time per memory-failure event (the recovery cost model), as a cumulative distribution (percentiles averaged over the replicates); the release latency of deferred dissolves is in the table. Policies whose distributions coincide share a line and one label.',
    spec: {
      width: WIDTH, height: HEIGHT,
      layer: [
        { data: { values }, mark: { type: 'line', point: { size: 50, filled: true }, interpolate: 'step-after' }, encoding: { x, y, ...enc, description: { field: 'tip' } } },
        {
          data: { values: sharedLabels(ends, (v) => Math.log10(v.micros), (v) => v.percentile) },
          mark: { type: 'text', align: 'right', dx: -6, dy: 14, fontSize: 13 },
          encoding: { x, y, text: { field: 'policy' }, description: { field: 'tip' } },
        },
      ],
    },
  };
}

const FATES = ['offlined whole', 'leaked after release', 'dissolved'];

/** HugeTLB hugepages only; THP folios (another page size) have their own chart. */
function hugepageFates(r: StudyReport): VegaLiteChart | null {
  const rows = r.policies.filter((p) => p.thpFoliosRetired === null);
  if (rows.length === 0) return null;
  const sizes = [...new Set(r.scenario.workloads.filter((w) => w.hugepage).map((w) => (w.hugepage === '1G' ? '1 GiB' : '2 MiB')))].join(' and ');
  const values = rows.flatMap((p) => [p.hugepagesOfflined, p.hugepagesLeaked ?? 0, p.hugepagesDissolved].map((n, i) => ({
    policy: p.short, fate: FATES[i]!, hugepages: n, tip: `${p.short}: ${formatMeanCount(n)} hugepages ${FATES[i]}`,
  })));
  return {
    title: `What became of the poisoned HugeTLB hugepages (${sizes})`,
    caption: 'HugeTLB hugepages taken offline whole while the VMs ran, left leaked in the pool after every VM was released, and dissolved (their healthy 4 KiB pages returned to the buddy allocator); means over the replicates.',
    spec: {
      width: WIDTH, height: HEIGHT,
      data: { values },
      mark: 'bar',
      encoding: {
        x: { field: 'policy', type: 'nominal', title: null, sort: rows.map((p) => p.short), axis: { labelAngle: 0 } },
        xOffset: { field: 'fate', type: 'nominal', sort: FATES },
        y: { field: 'hugepages', type: 'quantitative', title: `HugeTLB hugepages (${sizes})` },
        // Not the policy colours: here colour tells fates apart.
        color: { field: 'fate', type: 'nominal', title: 'fate', sort: FATES, scale: { domain: FATES, range: ['#7f7f7f', '#bcbd22', '#17becf'] } },
        description: { field: 'tip' },
      },
    },
  };
}

function thpFolios(r: StudyReport): VegaLiteChart | null {
  const rows = r.policies.filter((p) => p.thpFoliosRetired !== null);
  if (rows.length === 0) return null;
  const values = rows.map((p) => ({ policy: p.short, folios: p.thpFoliosRetired!, tip: `${p.short}: ${formatMeanCount(p.thpFoliosRetired!)} 2 MiB THP folios out of THP memory` }));
  return {
    title: 'THP folios out of THP memory (2 MiB)',
    caption: 'Under THP, 2 MiB folios that left THP memory with a poisoned page: split to 4 KiB (their healthy pages back to the buddy allocator) or, where the split failed, taken out whole; means over the replicates.',
    spec: {
      width: WIDTH, height: Math.round(HEIGHT / 2),
      data: { values },
      mark: 'bar',
      encoding: {
        y: { field: 'policy', type: 'nominal', title: null },
        x: { field: 'folios', type: 'quantitative', title: '2 MiB THP folios' },
        color: policyEncoding(r).color,
        description: { field: 'tip' },
      },
    },
  };
}

/** Long policy names stay whole in legends; text reads at phone width once the SVG is scaled down. */
const CONFIG = { legend: { labelLimit: 320, orient: 'bottom' as const, direction: 'horizontal' as const, columns: 2, labelFontSize: 13, titleFontSize: 13 }, axis: { labelFontSize: 13, titleFontSize: 13 } };

/** The report's charts: memory lost over time, loss against translation cost, recovery latency, hugepage and THP folio fates. */
export function studyCharts(r: StudyReport): Chart[] {
  return [memoryLostOverTime(r), lossVersusTranslation(r), latencyDistribution(r), hugepageFates(r), thpFolios(r)]
    .filter((c): c is VegaLiteChart => c !== null)
    .map((c) => ({ ...c, spec: { ...c.spec, config: CONFIG } as TopLevelSpec }));
}

/** Every mark's accessible description (vega's aria-label) as an SVG <title>: a tooltip in any browser, no script needed. */
function titledMarks(svg: string): string {
  return svg.replace(/<(\w+)([^>]*?) aria-label="([^"]*)"([^>]*?)(\/?)>/g, (_, tag: string, before: string, label: string, after: string, selfClosing: string) =>
    selfClosing
      ? `<${tag}${before} aria-label="${label}"${after}><title>${label}</title></${tag}>`
      : `<${tag}${before} aria-label="${label}"${after}><title>${label}</title>`);
}

/**
 * Renders a chart to a standalone SVG string. `idPrefix` keeps element ids (clip paths)
 * unique when several charts share one HTML page.
 */
export async function renderSvg(spec: ChartSpec, idPrefix: string): Promise<string> {
  // Loaded on first use: the two libraries add about a third of a second to every start of the
  // CLI, and a library install leaves them out (optional peer dependencies).
  const [vega, vegaLite] = await Promise.all([
    importOptional('vega', 'Drawing the study charts', () => import('vega')),
    importOptional('vega-lite', 'Drawing the study charts', () => import('vega-lite')),
  ]);
  const view = new vega.View(vega.parse(vegaLite.compile(spec as TopLevelSpec).spec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    return titledMarks(svg.replace(/id="([^"]+)"/g, `id="${idPrefix}$1"`).replace(/url\(#([^)]+)\)/g, `url(#${idPrefix}$1)`));
  } finally {
    view.finalize();
  }
}
