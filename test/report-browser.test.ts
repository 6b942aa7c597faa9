// The HTML study report as people see it: headless Chromium opens a report of a small study
// with replicates at a desktop width (1280 px) and a phone's (400 px), checks that it opens
// with the verdict, that every chart mark has a tooltip, that nothing is fetched and that the
// phone layout does not scroll sideways, and saves screenshots under test-output/.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_SCENARIO } from '../src/study/default-scenario.js';
import { formatHtml } from '../src/study/html.js';
import { buildReport, type StudyReport } from '../src/study/report.js';
import { runStudy } from '../src/study/run.js';
import { parseScenario } from '../src/study/scenario.js';

const OUT = fileURLToPath(new URL('../test-output/report/', import.meta.url));
let browser: Browser;
let report: StudyReport;
let file: string;

test.before(async () => {
  const scenario = parseScenario({
    ...structuredClone(DEFAULT_SCENARIO),
    name: 'report-check',
    description: 'The default scenario cut down to 20 hosts over two years, with UEs on most hosts, three replicates.',
    years: 2,
    stepsPerYear: 4,
    replicates: 3,
    fleet: { ...DEFAULT_SCENARIO.fleet, hosts: 20 },
    errors: { generate: { mode: 'incident', incident: { perHostYear: 1, classWeights: [0.5, 0.3, 0.2, 0] } } },
  });
  report = buildReport(await runStudy(scenario, { workers: 0 }));
  await mkdir(OUT, { recursive: true });
  file = join(OUT, 'report.html');
  await writeFile(file, await formatHtml(report));
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

test.after(async () => {
  await browser?.close();
});

for (const width of [1280, 400]) {
  test(`at ${width} px the report opens with the verdict, fetches nothing, and does not scroll sideways`, async () => {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    try {
      const fetched: string[] = [];
      page.on('request', (r) => fetched.push(r.url()));
      await page.goto(`file://${file}`);
      assert.equal(fetched, [`file://${file}`], 'nothing but the file itself is fetched');
      const first = await page.$eval('body', (b) => [...b.children].find((e) => e.tagName === 'SECTION' || e.tagName === 'TABLE' || e.tagName === 'FIGURE')?.id ?? '');
      assert.is(first, 'verdict', 'the verdict comes before any table or chart');
      const verdict = await page.$eval('#verdict', (s) => ({ text: s.textContent ?? '', rows: s.querySelectorAll('tbody tr').length }));
      assert.match(verdict.text, /3 replicates of 20 hosts over 2 years/);
      assert.match(verdict.text, /hugepage memory saved/);
      assert.is(verdict.rows, report.verdict.rows.length);
      const kernelFolded = await page.$eval('details:has(table.kernel)', (d) => !(d as HTMLDetailsElement).open);
      assert.ok(kernelFolded, 'the kernel figures are folded away');
      // The screenshots first: they show what went wrong when a check fails.
      await page.screenshot({ path: join(OUT, `report-${width}.png`), fullPage: true });
      await page.screenshot({ path: join(OUT, `report-${width}-top.png`) });
      const scroll = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
      assert.ok(scroll.scroll <= scroll.client, `${scroll.scroll} px of content in ${scroll.client} px`);
    } finally {
      await page.close();
    }
  });
}

test('every chart mark carries a tooltip (an SVG <title>)', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  try {
    await page.goto(`file://${file}`);
    const marks = await page.$$eval('figure svg [role="graphics-symbol"]', (els) => els.map((e) => e.querySelector(':scope > title')?.textContent ?? ''));
    assert.ok(marks.length > 20, `${marks.length} marks`);
    assert.ok(marks.every((t) => t.length > 0), 'a mark without a <title>');
    // A figure's interval is in the table cell's tooltip, with the values it came from.
    const tip = await page.$eval('table.operator td[title]', (td) => td.getAttribute('title'));
    assert.match(tip ?? '', /95% interval .* to .*; replicates: /);
  } finally {
    await page.close();
  }
});

test.run();
