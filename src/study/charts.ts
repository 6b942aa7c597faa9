// The study's charts as vega-lite specifications, rendered to SVG on the server (no
// browser, no scripts in the report): memory lost over time, the loss-versus-translation
// trade-off, recovery latency distributions, and what became of the poisoned hugepages.
import type { TopLevelSpec } from 'vega-lite';
import { importOptional } from '../platform/optional.js';
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
const WIDTH = 560;
const HEIGHT = 300;
const PALETTE = ['#d62728', '#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

/** The same colour for a policy in every chart. */
function policyColor(r: StudyReport) {
  return {
    field: 'policy',
    type: 'nominal' as const,
    title: 'policy',
    scale: { domain: r.policies.map((p) => p.label), range: PALETTE.slice(0, r.policies.length) },
  };
}

function memoryLostOverTime(r: StudyReport): VegaLiteChart {
  // A log scale shows DEFAULT's GiB and KEEP's MiB on one chart; zero losses cannot be drawn.
  const values = r.policies.flatMap((p) =>
    r.stepYears.map((year, i) => ({ policy: p.label, year, gib: p.series.bytesLost[i]! / GiB })).filter((d) => d.gib > 0));
  return {
    title: 'Memory lost over time',
    caption: 'Fleet memory made unusable by recovery at the end of each step (log scale; steps with no loss yet are not drawn; policies that lose the same memory draw one line over the other).',
    spec: {
      width: WIDTH, height: HEIGHT,
      data: { values },
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'year', type: 'quantitative', title: 'years' },
        y: { field: 'gib', type: 'quantitative', title: 'memory lost (GiB, log scale)', scale: { type: 'log' } },
        color: policyColor(r),
      },
    },
  };
}

/**
 * One label per spot: policies whose points lie within 3% of the axes' spans of each other
 * share a label, so their names do not print over each other.
 */
function sharedLabels(values: { policy: string; lossPercent: number; gib: number }[]): typeof values {
  const xs = values.map((v) => v.lossPercent);
  const ys = values.map((v) => Math.log10(v.gib));
  const xSpan = Math.max(...xs) - Math.min(...xs) || 1;
  const ySpan = Math.max(...ys) - Math.min(...ys) || 1;
  const labels: typeof values = [];
  for (const v of values) {
    const near = labels.find((l) => Math.abs(l.lossPercent - v.lossPercent) < 0.03 * xSpan && Math.abs(Math.log10(l.gib / v.gib)) < 0.03 * ySpan);
    if (near) near.policy = `${near.policy}, ${v.policy}`;
    else labels.push({ ...v });
  }
  return labels;
}

function lossVersusTranslation(r: StudyReport): VegaLiteChart {
  const values = r.policies
    .map((p) => ({ policy: p.label, lossPercent: p.translation.throughputLoss * 100, gib: p.memoryLostBytes / GiB }))
    .filter((d) => d.gib > 0);
  const x = { field: 'lossPercent', type: 'quantitative' as const, title: 'translation throughput loss vs. no errors (%)', axis: { format: '.3~f' } };
  const y = { field: 'gib', type: 'quantitative' as const, title: 'memory lost at the end (GiB, log scale)', scale: { type: 'log' as const } };
  return {
    title: 'Memory lost versus translation cost',
    caption: 'Each policy at the end of the study: what it loses in memory against what it costs in page walks, compared with an error-free run on the same memory backing, HugeTLB or THP (hosts where a VM died are left out of the translation figure).',
    spec: {
      width: WIDTH, height: HEIGHT,
      data: { values },
      layer: [
        { mark: { type: 'point', filled: true, size: 160 }, encoding: { x, y, color: policyColor(r) } },
        { data: { values: sharedLabels(values) }, mark: { type: 'text', align: 'left', dx: 10, dy: -8 }, encoding: { x, y, text: { field: 'policy' } } },
      ],
    },
  };
}

function latencyDistribution(r: StudyReport): VegaLiteChart {
  const values = r.policies.flatMap((p) => p.recovery.percentiles.map((q) => ({ policy: p.label, micros: q.ns / 1000, percentile: q.percentile })));
  return {
    title: 'memory_failure latency distribution',
    caption: 'Simulated kernel time per memory-failure event (the recovery cost model), as a cumulative distribution; the release latency of deferred dissolves is in the table.',
    spec: {
      width: WIDTH, height: HEIGHT,
      data: { values },
      mark: { type: 'line', point: true, interpolate: 'step-after' },
      encoding: {
        x: { field: 'micros', type: 'quantitative', title: 'latency (us, log scale)', scale: { type: 'log' } },
        y: { field: 'percentile', type: 'quantitative', title: 'percentile of events' },
        color: policyColor(r),
      },
    },
  };
}

const FATES = ['offlined whole', 'leaked after release', 'dissolved', 'THP folio out of THP memory'];

function hugepageFates(r: StudyReport): VegaLiteChart {
  const values = r.policies.flatMap((p) => [
    { policy: p.label, fate: FATES[0], hugepages: p.hugepagesOfflined },
    { policy: p.label, fate: FATES[1], hugepages: p.hugepagesLeaked ?? 0 },
    { policy: p.label, fate: FATES[2], hugepages: p.hugepagesDissolved },
    { policy: p.label, fate: FATES[3], hugepages: p.thpFoliosRetired ?? 0 },
  ]);
  return {
    title: 'What became of the poisoned hugepages',
    caption: 'Hugepages taken offline whole while the VMs ran, left leaked in the pool after every VM was released, and dissolved (their healthy 4 KiB pages returned to the buddy allocator); under THP, 2 MiB folios that left THP memory (their healthy 4 KiB pages returned to the buddy allocator).',
    spec: {
      width: WIDTH, height: HEIGHT,
      data: { values },
      mark: 'bar',
      encoding: {
        x: { field: 'policy', type: 'nominal', title: null, sort: r.policies.map((p) => p.label), axis: { labelAngle: 0 } },
        xOffset: { field: 'fate', type: 'nominal', sort: FATES },
        y: { field: 'hugepages', type: 'quantitative', title: 'hugepages' },
        // Not the policy colours: here colour tells fates apart.
        color: { field: 'fate', type: 'nominal', title: 'fate', sort: FATES, scale: { domain: FATES, range: ['#7f7f7f', '#bcbd22', '#17becf', '#9467bd'] } },
      },
    },
  };
}

/** Long policy names stay whole in legends. */
const CONFIG = { legend: { labelLimit: 320 } };

/** The report's charts: memory lost over time, loss against translation cost, recovery latency, hugepage fates. */
export function studyCharts(r: StudyReport): Chart[] {
  return [memoryLostOverTime(r), lossVersusTranslation(r), latencyDistribution(r), hugepageFates(r)].map((c) => ({ ...c, spec: { ...c.spec, config: CONFIG } as TopLevelSpec }));
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
    return svg.replace(/id="([^"]+)"/g, `id="${idPrefix}$1"`).replace(/url\(#([^)]+)\)/g, `url(#${idPrefix}$1)`);
  } finally {
    view.finalize();
  }
}
