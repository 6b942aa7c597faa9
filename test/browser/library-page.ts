// The browser side of test/browser.test.ts: bundled for the browser from the package's
// entry points, it loads the kernel every way a page can, then runs the library checks.
import { Host, loadKernel, MissingDependencyError } from 'mfrsim';
import wasmUrl from 'mfrsim/kernel.wasm';
import { formatHtml, buildReport, parseScenario, runStudy, DEFAULT_SCENARIO } from 'mfrsim/study';
import { libraryChecks, type LibraryResults } from './library-checks.js';

declare global {
  interface Window {
    done?: { results: LibraryResults; kernelForms: string[]; charts: number; missingDependencyError: boolean } | { error: string };
  }
}

async function main(): Promise<void> {
  // The default: fetched from next to the package's code, compiled while it streams.
  const results = await libraryChecks();
  // Handed in: a URL (as esbuild's file loader gives it), its string, bytes, a module, a response.
  const url = new URL(wasmUrl, location.href);
  const bytes = await (await fetch(url)).arrayBuffer();
  const forms: [string, Parameters<typeof loadKernel>[0]][] = [
    ['URL', url],
    ['string', wasmUrl],
    ['ArrayBuffer', bytes],
    ['Uint8Array', new Uint8Array(bytes)],
    ['WebAssembly.Module', await WebAssembly.compile(bytes)],
    ['Response', fetch(url)],
  ];
  const kernelForms: string[] = [];
  for (const [name, wasm] of forms) {
    const host = await Host.create({ hugepages: { '2M': 2 }, wasm });
    if (host.hugepages('2M').nr === 2) kernelForms.push(name);
  }
  await loadKernel(bytes);
  // The charts render in the page too.
  const small = parseScenario({ ...DEFAULT_SCENARIO, years: 0.5, fleet: { ...DEFAULT_SCENARIO.fleet, hosts: 4 } });
  const html = await formatHtml(buildReport(await runStudy(small)));
  window.done = { results, kernelForms, charts: html.split('<svg').length - 1, missingDependencyError: typeof MissingDependencyError === 'function' };
}

main().catch((err: unknown) => {
  window.done = { error: err instanceof Error ? `${err.message}\n${err.stack}` : String(err) };
});
