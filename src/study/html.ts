// The self-contained HTML report: the verdict first (sentences and its table), then the
// operator figures, the kernel figures folded away, and the charts as inline SVG, with
// inline styles only: no scripts, fonts or anything else fetched, so it opens offline. The
// page reflows down to a phone's width (400 px) without scrolling sideways.
import { formatCount, formatDuration } from '../format/units.js';
import { renderSvg, studyCharts } from './charts.js';
import { formatHalfWidth, formatMetric, shownMetrics, type Metric } from './metrics.js';
import type { Interval } from './intervals.js';
import { baselineText, type StudyReport } from './report.js';

const STYLE = `
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto; max-width: 980px; padding: 0 1rem; color: #222; line-height: 1.4; }
h1 { font-size: 1.5rem; overflow-wrap: anywhere; } h2 { font-size: 1.15rem; margin-top: 2rem; }
section.verdict { border-left: 4px solid #1f77b4; padding: 0.2rem 1rem; background: #f5f9fc; }
section.verdict p { max-width: 760px; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; width: 100%; }
th, td { padding: 0.2rem 0.5rem; border-bottom: 1px solid #ddd; vertical-align: top; }
td.num { text-align: right; white-space: nowrap; } th { text-align: right; } th:first-child { text-align: left; }
td .pm { display: block; font-size: 0.8em; color: #666; }
td.unresolved { color: #8a6d00; font-style: italic; }
tr.sub td:first-child { padding-left: 1.4rem; color: #555; }
p.note { color: #555; font-size: 0.9rem; }
figure { margin: 1.5rem 0; } figcaption { color: #555; font-size: 0.9rem; max-width: 640px; }
figure svg { max-width: 100%; height: auto; display: block; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; } dt { color: #555; } dd { margin: 0; overflow-wrap: anywhere; }
details { margin: 1.5rem 0; } summary { cursor: pointer; font-weight: 600; }
pre { background: #f6f6f6; padding: 0.8rem; overflow-x: auto; font-size: 0.8rem; }
@media (max-width: 600px) {
  body { margin: 1rem auto; padding: 0 0.5rem; font-size: 0.9rem; }
  section.verdict { padding: 0.2rem 0.4rem; border-left-width: 3px; }
  table { font-size: 0.75rem; }
  th, td { padding: 0.2rem 0.15rem; }
  td.num { white-space: normal; }
  dl { grid-template-columns: 1fr; } dd { margin-bottom: 0.4rem; }
}
`;

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** An interval's bounds and replicate values, for a tooltip. */
function intervalTip(i: Interval | null, format: (x: number) => string): string {
  if (i === null) return '';
  const values = `replicates: ${i.values.map(format).join(', ')}`;
  return i.low === null || i.high === null ? values : `95% interval ${format(i.low)} to ${format(i.high)}; ${values}`;
}

function head(r: StudyReport): string {
  return `<tr><th></th>${r.policies.map((p) => `<th title="${esc(`${p.label}: ${p.summary}`)}">${esc(p.short)}</th>`).join('')}</tr>`;
}

function verdict(r: StudyReport): string {
  const v = r.verdict;
  const rows = v.rows.map((row) => {
    const cells = row.cells.map((c) => {
      const format = (x: number) => x.toLocaleString('en-US', { maximumSignificantDigits: 4 });
      const tip = intervalTip(c.value, format);
      const body = c.text === 'not resolved' ? `not resolved<span class="pm">${esc(c.mean)} ${esc(c.plusMinus)}</span>` : c.plusMinus ? `${esc(c.mean)}<span class="pm">${esc(c.plusMinus)}</span>` : esc(c.text);
      return `<td class="num${c.text === 'not resolved' ? ' unresolved' : ''}"${tip ? ` title="${esc(tip)}"` : ''}>${body}</td>`;
    }).join('');
    return `<tr${row.label.startsWith('  ') ? ' class="sub"' : ''}><td>${esc(row.label.trim())}</td>${cells}</tr>`;
  });
  const table = v.rows.length === 0 ? '' : `<table class="verdict">\n<thead>${head(r)}</thead>\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table>
<p class="note">${v.reference ? 'Savings are against DEFAULT, per 1,000 hosts per year. ' : ''}Translation loss is against an error-free run, on the VMs with a UE on their memory.${v.replicates > 1 ? ' &plusmn;: half-width of the 95% interval; "not resolved": the interval includes 0.' : ''} Hover a figure for its interval and replicate values.</p>`;
  return `<section class="verdict" id="verdict">\n<h2>Verdict</h2>\n${v.sentences.map((s) => `<p>${esc(s)}</p>`).join('\n')}\n${table}\n</section>`;
}

function table(r: StudyReport, metrics: Metric[], cls: string): string {
  const rows = metrics.map((m) => {
    const sub = m.label.startsWith('  ');
    const cells = r.policies.map((p) => {
      const i = p.intervals[m.key] ?? null;
      const half = formatHalfWidth(m, i);
      const tip = intervalTip(i, m.format);
      return `<td class="num"${tip ? ` title="${esc(tip)}"` : ''}>${esc(formatMetric(m, p))}${half ? `<span class="pm">${esc(half)}</span>` : ''}</td>`;
    }).join('');
    return `<tr${sub ? ' class="sub"' : ''}><td>${esc(m.label.trim())}</td>${cells}</tr>`;
  });
  return `<table class="${cls}">\n<thead>${head(r)}</thead>\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table>`;
}

function facts(r: StudyReport): string {
  const s = r.scenario;
  const st = r.stream;
  const n = r.replicates.length;
  const ues = r.replicates.map((x) => x.stream.ues);
  const items: [string, string][] = [
    ['fleet', `${formatCount(s.fleet.hosts)} hosts; pools per host: ${Object.entries(s.fleet.pools).filter(([, k]) => k > 0).map(([size, k]) => `${k} x ${size}`).join(', ')}`],
    ['workloads', s.workloads.map((w) => `${w.vmsPerHost} x ${w.memoryGiB} GiB ${w.hugepage} "${w.name}"${w.handlesSigbus ? '' : ' (no SIGBUS handler)'}`).join('; ')],
    ['duration', `${s.years} ${s.years === 1 ? 'year' : 'years'} in ${r.steps} steps`],
    ['replicates', n === 1 ? `1, seed ${s.seed}` : `${n}, seeds ${r.replicates.map((x) => x.seed).join(', ')}`],
    ['errors', n === 1
      ? `${st.source}: ${formatCount(st.ues)} UEs on ${formatCount(st.hostsWithUes)} hosts, ${formatCount(st.uesHandled)} in hugepage memory (stream digest ${st.digest})`
      : `${st.source.replace(/, seed \d+/, '')}, one stream per replicate: ${formatCount(Math.min(...ues))} to ${formatCount(Math.max(...ues))} UEs`],
    ['translation baseline', baselineText(r)],
    ['policies', r.policies.map((p) => `${p.short}: ${p.label}, ${p.summary}`).join('; ')],
    ['run', `${formatCount(r.hostYears)} host-years per policy${n > 1 ? ' and replicate' : ''} in ${formatDuration(r.wallSeconds * 1e9)}`],
  ];
  return `<dl>\n${items.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('\n')}\n</dl>`;
}

/** The self-contained HTML report: verdict, tables and charts inline, nothing fetched (needs vega and vega-lite). */
export async function formatHtml(r: StudyReport): Promise<string> {
  const charts = studyCharts(r);
  const figures = await Promise.all(
    charts.map(async (c, i) => `<figure>\n<h2>${esc(c.title)}</h2>\n${await renderSvg(c.spec, `chart${i}-`)}\n<figcaption>${esc(c.caption)}</figcaption>\n</figure>`),
  );
  const title = `mfrsim study: ${r.scenario.name}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${esc(title)}</h1>
${r.scenario.description ? `<p>${esc(r.scenario.description)}</p>` : ''}
${verdict(r)}
<h2>Operator figures</h2>
<p class="note">Totals over the fleet and the study, means over the replicates${r.replicates.length > 1 ? ' with the half-width of their 95% interval' : ''}.</p>
${table(r, shownMetrics(r, 'operator'), 'operator')}
<details>
<summary>Kernel figures</summary>
${table(r, shownMetrics(r, 'kernel'), 'kernel')}
</details>
${figures.join('\n')}
<h2>The study</h2>
${facts(r)}
<details>
<summary>The scenario as it ran</summary>
<pre>${esc(JSON.stringify(r.scenario, null, 2))}</pre>
</details>
</body>
</html>
`;
}
