// readAhead: the bytes of the source in order whatever the read sizes, and a failure of the
// source surfaces only after the bytes read before it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { memorySource, readAhead, readFully, type ByteSource } from '../src/traces/source.js';

const bytes = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 7 + 3) & 0xff);

/** Reads a source to its end in reads of the given sizes, in turn. */
async function drain(source: ByteSource, sizes: number[]): Promise<Uint8Array> {
  const out = new Uint8Array(bytes.length + 100);
  let at = 0;
  for (let k = 0; ; k++) {
    const n = await source.read(out, at, sizes[k % sizes.length]!);
    if (n === 0) break;
    at += n;
  }
  return out.subarray(0, at);
}

test('the same bytes in order, for any chunk and read sizes', async () => {
  for (const chunk of [1, 7, 64, 4096, 10_000, 20_000]) {
    for (const sizes of [[1], [8, 700], [10_000], [3, 5000, 1]]) {
      assert.equal(await drain(readAhead(memorySource(bytes), chunk), sizes), bytes, `chunk ${chunk}, reads ${sizes}`);
    }
  }
});

test('a failing source: its bytes first, then the error', async () => {
  const inner = memorySource(bytes.subarray(0, 5000));
  let served = 0;
  const failing: ByteSource = {
    compressed: false,
    get bytesRead() {
      return served;
    },
    async read(into, offset, length) {
      const n = await inner.read(into, offset, length);
      if (n === 0) throw new Error('corrupt data');
      served += n;
      return n;
    },
    async close() {},
  };
  const source = readAhead(failing, 4096);
  const got = new Uint8Array(5000);
  assert.is(await readFully(source, got, 0, 5000), 5000);
  assert.equal(got, bytes.subarray(0, 5000));
  try {
    await source.read(got, 0, 1);
    assert.unreachable();
  } catch (err) {
    assert.is((err as Error).message, 'corrupt data');
  }
  await source.close();
});

test.run();
