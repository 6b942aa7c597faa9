// The kernel's wasm in a browser: fetched and compiled while it streams in. The package's
// own build/kernel.wasm is found next to this module (bundlers that follow
// `new URL(..., import.meta.url)` copy it); pages can hand in their own (loadKernel).
import { compileResponse } from '../../kernel/wasm-response.js';
import type * as Node from '../node/kernel-wasm.js';

export const bundledKernelSync: typeof Node.bundledKernelSync = () => {
  throw new Error('mfrsim kernel: in a browser the kernel is compiled asynchronously; await loadKernel() (or Host.create()) first');
};

// The URL is made on first use: a script bundle without import.meta must still load.
export const fetchKernel: typeof Node.fetchKernel = (url = new URL('../../../build/kernel.wasm', import.meta.url)) => compileResponse(fetch(url));
