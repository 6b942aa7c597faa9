// A fetch() response holding the kernel's wasm, compiled.

/** Compiles a response, streaming when the server says it is wasm. */
export async function compileResponse(response: Response | PromiseLike<Response>): Promise<WebAssembly.Module> {
  const res = await response;
  if (!res.ok) throw new Error(`mfrsim kernel: fetching ${res.url} failed: HTTP ${res.status}`);
  // compileStreaming insists on the application/wasm type; file and static hosts may not send it.
  if (res.headers.get('content-type')?.split(';')[0]?.trim() === 'application/wasm') return WebAssembly.compileStreaming(res);
  return WebAssembly.compile(await res.arrayBuffer());
}
