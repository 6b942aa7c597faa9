// The self-contained HTML report: the side-by-side table and the charts as inline SVG,
// with inline styles only: no scripts, fonts or anything else fetched, so it opens offline.
import { renderSvg, studyCharts } from './charts.js';
import { formatMetric, shownMetrics } from './metrics.js';
import { baselineText, type StudyReport } from './report.js';

const STYLE = `
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto; max-width: 980px; padding: 0 1rem; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 0.2rem 0.7rem; border-bottom: 1px solid #ddd; }
td.num { text-align: right; } th { text-align: right; } th:first-child { text-align: left; }
tr.sub td:first-child { padding-left: 1.6rem; color: #555; }
figure { margin: 1.5rem 0; } figcaption { color: #555; font-size: 0.9rem; max-width: 640px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; } dt { color: #555; }
pre { background: #f6f6f6; padding: 0.8rem; overflow-x: auto; font-size: 0.8rem; }
`;

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function table(r: StudyReport): string {
  const head = `<tr><th></th>${r.policies.map((p) => `<th title="${esc(p.summary)}">${esc(p.label)}</th>`).join('')}</tr>`;
  const rows = shownMetrics(r).map((m) => {
    const sub = m.label.startsWith('  ');
    const cells = r.policies.map((p) => `<td class="num">${esc(formatMetric(m, p))}</td>`).join('');
    return `<tr${sub ? ' class="sub"' : ''}><td>${esc(m.label.trim())}</td>${cells}</tr>`;
  });
  return `<table>\n<thead>${head}</thead>\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table>`;
}

function facts(r: StudyReport): string {
  const s = r.scenario;
  const st = r.stream;
  const items: [string, string][] = [
    ['fleet', `${s.fleet.hosts.toLocaleString('en-US')} hosts; pools per host: ${Object.entries(s.fleet.pools).filter(([, n]) => n > 0).map(([size, n]) => `${n} x ${size}`).join(', ')}`],
    ['workloads', s.workloads.map((w) => `${w.vmsPerHost} x ${w.memoryGiB} GiB ${w.hugepage} "${w.name}"${w.handlesSigbus ? '' : ' (no SIGBUS handler)'}`).join('; ')],
    ['duration', `${s.years} years in ${r.steps} steps; seed ${s.seed}`],
    ['errors', `${st.source}: ${st.ues.toLocaleString('en-US')} UEs on ${st.hostsWithUes} hosts, ${st.uesHandled.toLocaleString('en-US')} in hugepage memory (stream digest ${st.digest})`],
    ['translation baseline', baselineText(r)],
    ['run', `${r.hostYears.toLocaleString('en-US')} host-years per policy in ${r.wallSeconds.toFixed(1)} s`],
  ];
  return `<dl>\n${items.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('\n')}\n</dl>`;
}

/** The self-contained HTML report: table and charts inline, nothing fetched (needs vega and vega-lite). */
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
${facts(r)}
<h2>Policies side by side</h2>
${table(r)}
${figures.join('\n')}
<details>
<summary>The scenario as it ran</summary>
<pre>${esc(JSON.stringify(r.scenario, null, 2))}</pre>
</details>
</body>
</html>
`;
}
