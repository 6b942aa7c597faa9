// Compiling the kernel from whatever the caller has: a module, its bytes, a URL or a fetch
// response. Node reads file: URLs from disk; everything else is fetched (src/platform/).
import { fetchKernel } from '#platform/kernel-wasm';
import { compileResponse } from './wasm-response.js';

/**
 * A kernel to run: compiled already, its bytes, where to fetch it (a URL, or a string
 * relative to the page in a browser), or a fetch() response.
 */
export type KernelWasm = WebAssembly.Module | BufferSource | URL | string | Response | PromiseLike<Response>;

function toUrl(s: string): URL {
  const base = (globalThis as { location?: { href: string } }).location?.href;
  try {
    return new URL(s, base);
  } catch {
    throw new TypeError(`mfrsim kernel: wasm ${JSON.stringify(s)} is not a URL (in Node, pass the bytes, a file: URL or a WebAssembly.Module)`);
  }
}

/** Compiles a kernel given in any of the KernelWasm forms. */
export async function compileKernel(wasm: KernelWasm): Promise<WebAssembly.Module> {
  const module = await compileAny(wasm);
  const names = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  if (!names.has('memory') || !names.has('host_create') || !names.has('replay_access')) {
    throw new TypeError('mfrsim kernel: the wasm given is not an mfrsim kernel (build/kernel.wasm)');
  }
  return module;
}

async function compileAny(wasm: KernelWasm): Promise<WebAssembly.Module> {
  if (wasm instanceof WebAssembly.Module) return wasm;
  if (wasm instanceof ArrayBuffer || ArrayBuffer.isView(wasm)) return WebAssembly.compile(wasm);
  if (wasm instanceof URL) return fetchKernel(wasm);
  if (typeof wasm === 'string') return fetchKernel(toUrl(wasm));
  if (typeof (wasm as PromiseLike<Response>).then === 'function' || typeof Response !== 'undefined' && wasm instanceof Response) {
    return compileResponse(wasm as Response | PromiseLike<Response>);
  }
  throw new TypeError('mfrsim kernel: wasm must be a WebAssembly.Module, bytes, a URL or a fetch() response');
}
