// The library and the playground in a browser. The public entry points are bundled with
// esbuild for the browser (no Node module may enter), run in Debian's headless Chromium, and
// must agree with Node: the library's figures with the same calls in Node, the playground's
// selftest verdicts with `mfrsim selftest`, its study with `mfrsim study` on the same scenario.
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import * as esbuild from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_SCENARIO } from '../src/study/default-scenario.js';
import { libraryChecks } from './browser/library-checks.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist/cli/main.js');
/** What may never reach a browser bundle: Node built-ins, Node-only mfrsim code, Node-only packages. */
const NODE_ONLY = /^node:|dist\/platform\/node\/|dist\/traces\/|dist\/errors\/(format|detect|import-log)\.js|dist\/errors\/readers\/|dist\/fleet\/replay-trace\.js|dist\/cli\/|node_modules\/(better-sqlite3|piscina|cli-progress|commander|xz-decompress)\//;

let browser: Browser;
let tmp: string;

test.before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'mfrsim-browser-'));
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});

test.after(async () => {
  await browser?.close();
  await rm(tmp, { recursive: true, force: true });
});

/** A page that records console errors and uncaught exceptions. */
async function watchedPage(): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return { page, errors };
}

/** Bundles for the browser, resolving mfrsim through its package exports as a user's bundler would. */
async function bundle(options: esbuild.BuildOptions): Promise<esbuild.Metafile> {
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    metafile: true,
    logLevel: 'silent',
    // The repository's tsconfig maps #platform/* to the Node sources for tsc and tsx; a user's
    // bundler sees only package.json, as here.
    tsconfigRaw: '{}',
    ...options,
  });
  return result.metafile!;
}

test('each browser entry point bundles for the browser without a Node module', async () => {
  for (const entry of ['mfrsim', 'mfrsim/fleet', 'mfrsim/errors', 'mfrsim/study']) {
    const meta = await bundle({ stdin: { contents: `export * from '${entry}';`, resolveDir: ROOT }, write: false, outdir: join(tmp, 'entries') });
    const inputs = Object.keys(meta.inputs);
    assert.ok(inputs.some((f) => f.startsWith('dist/')), `${entry}: bundled from dist/`);
    assert.equal(inputs.filter((f) => NODE_ONLY.test(f)), [], `${entry}: Node-only inputs`);
    if (entry !== 'mfrsim/errors') assert.ok(inputs.some((f) => f.includes('dist/platform/browser/')), `${entry}: the browser platform code`);
  }
  // Node-only code exists in the Node build, so the check above can fail.
  const node = await bundle({ stdin: { contents: "export * from 'mfrsim/errors';", resolveDir: ROOT }, platform: 'node', write: false, outdir: join(tmp, 'node') });
  assert.ok(Object.keys(node.inputs).some((f) => NODE_ONLY.test(f)));
});

test('the library runs in Chromium with no shim and gives the figures Node gives', async () => {
  const out = join(tmp, 'app');
  await bundle({
    entryPoints: [join(ROOT, 'test/browser/library-page.ts')],
    outdir: out,
    splitting: true,
    loader: { '.wasm': 'file' },
    assetNames: 'assets/[name]-[hash]',
  });
  await writeFile(join(out, 'index.html'), '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script type="module" src="library-page.js"></script>\n');
  // A static server: the bundle, and the package's kernel where the browser build looks for it
  // (three folders up from the code that fetches it), as bundlers that copy it leave it.
  const server: Server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url!, 'http://x').pathname));
    const file = path === '/build/kernel.wasm' ? join(ROOT, 'build/kernel.wasm') : path.startsWith('/app/') ? join(out, path.slice(5)) : null;
    const body = file === null ? null : await readFile(file).catch(() => null);
    if (body === null) return void res.writeHead(404).end();
    const type = { '.js': 'text/javascript', '.html': 'text/html', '.wasm': 'application/wasm' }[extname(file!)] ?? 'application/octet-stream';
    res.writeHead(200, { 'content-type': type }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const { page, errors } = await watchedPage();
  try {
    const [inNode] = await Promise.all([
      libraryChecks(0),
      page.goto(`http://127.0.0.1:${port}/app/index.html`).then(() => page.waitForFunction(() => window.done !== undefined, null, { timeout: 60_000 })),
    ]);
    const done = await page.evaluate(() => window.done!);
    if ('error' in done) return assert.unreachable(done.error);
    assert.equal(errors, [], 'console errors');
    assert.equal(done.kernelForms, ['URL', 'string', 'ArrayBuffer', 'Uint8Array', 'WebAssembly.Module', 'Response']);
    assert.is(done.charts, 5, 'the five charts drawn in the page');
    assert.ok(done.missingDependencyError);
    assert.is(done.results.readme.signals, '[{"signo":7,"code":4,"addr":"ram+0x1000","addrLsb":12}]');
    assert.equal(done.results.readme.read, { ok: true });
    assert.ok(done.results.errors.ues > 0 && done.results.study.policies.length === 4);
    assert.equal(done.results, inNode, 'the browser and Node agree');
  } finally {
    await page.close();
    server.close();
  }
});

test('the playground: loads without errors, its selftest verdicts and study match the command line', async () => {
  const web = join(tmp, 'web');
  await run(process.execPath, [join(ROOT, 'web/build.mjs'), web]);
  const scenario = { ...DEFAULT_SCENARIO, seed: 11, years: 1, replicates: 1, fleet: { ...DEFAULT_SCENARIO.fleet, hosts: 60 } };
  await writeFile(join(tmp, 'scenario.json'), JSON.stringify(scenario));
  const cli = Promise.all([
    run(process.execPath, [CLI, 'selftest', '--json', '--pages', '5']),
    run(process.execPath, [CLI, 'study', join(tmp, 'scenario.json'), '--workers', '1', '--json', join(tmp, 'cli.json'), '--html', join(tmp, 'cli.html')]),
  ]);
  const { page, errors } = await watchedPage();
  try {
    await page.goto(pathToFileURL(join(web, 'index.html')).href);
    await page.waitForFunction(() => window.playground?.ready || window.playground?.error, null, { timeout: 30_000 });
    assert.is(await page.evaluate(() => window.playground!.error), undefined);

    // The selftest, both policies and sizes: one step at a time first, then to the end.
    const reports: unknown[] = [];
    await page.fill('#st-pages', '5');
    for (const size of ['2M', '1G']) {
      for (const policy of ['keep', 'default']) {
        await page.selectOption('#st-size', size);
        await page.selectOption('#st-policy', policy);
        await page.click('#st-start');
        await page.click('#st-next');
        await page.click('#st-next');
        assert.is(await page.locator('#st-steps tbody tr').count(), 3, 'three steps shown');
        await page.click('#st-run');
        await page.waitForFunction(() => window.playground!.selftest!.report !== null);
        reports.push(await page.evaluate(() => window.playground!.selftest!.report));
        assert.ok(await page.locator('#st-picture svg').count() === 1, 'the picture');
        const poisoned = await page.locator('#st-picture rect.poisoned').count();
        assert.is(poisoned, policy === 'keep' ? 5 : 1, `${size} ${policy}: poisoned 4 KiB pages drawn`);
      }
    }

    await page.fill('#sd-hosts', String(scenario.fleet.hosts));
    await page.fill('#sd-years', String(scenario.years));
    await page.fill('#sd-seed', String(scenario.seed));
    await page.click('#sd-run');
    await page.waitForFunction(() => !window.playground!.study!.running && (window.playground!.study!.outcome || window.playground!.study!.error), null, { timeout: 120_000 });
    const study = await page.evaluate(() => window.playground!.study!);
    assert.is(study.error, null);
    assert.equal(errors, [], 'console errors');

    const [selftest] = await cli;
    assert.equal(reports, JSON.parse(selftest.stdout), 'the selftest reports of the command line');
    const withoutTiming = (r: Record<string, unknown>) => ({ ...r, wallSeconds: 0, hostYearsPerSecond: 0 });
    assert.equal(withoutTiming(study.outcome!.report as never), withoutTiming(JSON.parse(await readFile(join(tmp, 'cli.json'), 'utf8'))), 'the study report of the command line');
    // The same HTML report, charts included, but for the line giving the run's wall time and
    // the last digits of chart coordinates (Chromium's and Node's Math.log may differ by an ulp).
    const comparable = (html: string) =>
      html.replace(/host-years per policy in [\d.]+ s/, '').replace(/\d+\.\d{6,}/g, (n) => Number(n).toPrecision(10));
    assert.is(comparable(study.outcome!.html), comparable(await readFile(join(tmp, 'cli.html'), 'utf8')));
  } finally {
    await page.close();
  }
});

test.run();
