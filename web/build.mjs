// Builds the playground into build/web/ (or the folder given as the first argument):
// index.html and one classic script with the kernel's wasm and the study worker inlined, so
// the folder works from file:// and any static host.
// Every module is bundled for the browser: a Node built-in or mfrsim's Node-only platform
// code in the bundle fails the build.
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const root = new URL('..', import.meta.url);
const out = process.argv[2] ? pathToFileURL(`${resolve(process.argv[2])}/`) : new URL('build/web/', root);
const common = {
  absWorkingDir: fileURLToPath(root),
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: 'es2022',
  minify: true,
  tsconfig: 'web/tsconfig.json',
  loader: { '.wasm': 'binary' },
  metafile: true,
  write: false,
  logLevel: 'warning',
  // The kernel's default URL (import.meta.url) is never used: the page hands its wasm in.
  logOverride: { 'empty-import-meta': 'silent' },
};

/** Inputs that must never reach a browser bundle. */
function checkBrowserOnly(result, name) {
  const bad = Object.keys(result.metafile.inputs).filter((f) => f.startsWith('node:') || f.includes('dist/platform/node/') || f.startsWith('src/'));
  if (bad.length > 0) throw new Error(`${name} bundles Node-only or unbuilt code: ${bad.join(', ')}`);
}

const worker = await esbuild.build({ ...common, entryPoints: ['web/src/study-worker.ts'] });
checkBrowserOnly(worker, 'the study worker');
const page = await esbuild.build({
  ...common,
  entryPoints: ['web/src/main.ts'],
  define: { STUDY_WORKER_SOURCE: JSON.stringify(worker.outputFiles[0].text) },
});
checkBrowserOnly(page, 'the page');
await mkdir(out, { recursive: true });
await writeFile(new URL('playground.js', out), page.outputFiles[0].contents);
await copyFile(new URL('web/index.html', root), new URL('index.html', out));
const kib = (n) => `${Math.round(n / 1024)} KiB`;
console.log(`${fileURLToPath(out)}: index.html, playground.js (${kib(page.outputFiles[0].contents.length)}, study worker ${kib(worker.outputFiles[0].contents.length)} of it)`);
