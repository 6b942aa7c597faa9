// Loading the kernel as an embedder does (a module, its bytes, a URL, a response), and the
// message a feature gives when its optional package is missing.
import { readFile } from 'node:fs/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Host } from '../src/host/host.js';
import type { HostOptions } from '../src/host/types.js';
import { loadKernel } from '../src/kernel/kernel.js';
import { importOptional, MissingDependencyError } from '../src/platform/optional.js';

const WASM = new URL('../build/kernel.wasm', import.meta.url);

type KernelWasm = NonNullable<HostOptions['wasm']>;

/** The message of what `f` throws. */
async function failure(f: () => Promise<unknown>): Promise<string> {
  try {
    await f();
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  return 'no error';
}

/** A host booted from `wasm` works: its pool is there and a process maps and touches it. */
async function boots(wasm: KernelWasm): Promise<void> {
  const host = await Host.create({ hugepages: { '2M': 2 }, wasm });
  assert.is(host.hugepages('2M').nr, 2);
  const p = host.spawn();
  const addr = p.mmap(0, 2 << 20, 3, 0x22 | 0x40000 | (21 << 26), -1, 0);
  assert.equal(p.write(addr, 4096), { ok: true });
}

test('Host.create({ wasm }) takes the kernel as bytes, a module, a file URL or a response', async () => {
  const bytes = await readFile(WASM);
  await boots(bytes);
  await boots(new Uint8Array(bytes).buffer);
  await boots(await WebAssembly.compile(bytes));
  await boots(WASM);
  await boots(WASM.href);
  await boots(new Response(bytes, { headers: { 'content-type': 'application/wasm' } }));
  await boots(Promise.resolve(new Response(bytes)));
});

test('a wasm that is not the kernel, or a value that is no kernel at all, is refused before anything boots', async () => {
  // The smallest valid module: no exports.
  const empty = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  assert.match(await failure(() => Host.create({ wasm: empty })), /not an mfrsim kernel/);
  assert.match(await failure(() => Host.create({ wasm: 42 as never })), /must be a WebAssembly\.Module, bytes, a URL or a fetch\(\) response/);
  assert.match(await failure(() => Host.create({ wasm: 'kernel.wasm' })), /is not a URL/);
  assert.match(await failure(() => Host.create({ wasm: new Response('nope', { status: 404 }) })), /HTTP 404/);
});

test('loadKernel() compiles once and hands back the same module', async () => {
  const a = await loadKernel();
  assert.ok(a instanceof WebAssembly.Module);
  assert.is(await loadKernel(), a);
});

test('a missing optional package is named with the command that installs it; other failures pass through', async () => {
  const absent = 'mfrsim-absent-package';
  const err = await importOptional(absent, 'Drawing things', () => import(absent)).catch((e: unknown) => e);
  assert.instance(err, MissingDependencyError);
  const missing = err as MissingDependencyError;
  assert.is(missing.packageName, absent);
  assert.is(missing.code, 'ERR_MFRSIM_MISSING_DEPENDENCY');
  assert.is(missing.message, `Drawing things needs the optional package "${absent}", which is not installed: npm install ${absent}`);
  // A package that is there but fails, or lacks one of its own dependencies, is not "missing".
  const broken = new Error("Cannot find package 'mfrsim-absent-packagex' imported from /x.js");
  Object.assign(broken, { code: 'ERR_MODULE_NOT_FOUND' });
  const other = await importOptional(absent, 'Drawing things', () => Promise.reject(broken)).catch((e: unknown) => e);
  assert.is(other, broken);
});

test.run();
