// The kernel's wasm in Node: build/kernel.wasm is read from disk (synchronously, so that
// FleetShard.create and the worker threads need no await), and file: URLs too.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { compileResponse } from '../../kernel/wasm-response.js';

const BUNDLED = new URL('../../../build/kernel.wasm', import.meta.url);

/** The package's own kernel, compiled now. */
export function bundledKernelSync(): WebAssembly.Module {
  return new WebAssembly.Module(readFileSync(BUNDLED));
}

/** A kernel from a URL (default: the package's own); file: URLs are read from disk. */
export async function fetchKernel(url: URL = BUNDLED): Promise<WebAssembly.Module> {
  if (url.protocol === 'file:') return WebAssembly.compile(await readFile(url));
  return compileResponse(fetch(url));
}
