import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeTrace } from '../src/traces/binary.js';
import { detectTraceFormat } from '../src/traces/detect.js';
import { TraceFormatError } from '../src/traces/errors.js';
import { openTrace } from '../src/traces/open.js';
import type { TraceFormat } from '../src/traces/types.js';
import { champsimRecord, hasTool, tempDir, writeFile, xzCompress } from './traces-fixtures.js';

const dir = tempDir();

const SAMPLES: [TraceFormat, string][] = [
  ['lackey', '==1== Lackey\n==1== Command: ls\nI  0023C790,2\n L BE801950,4\n'],
  ['ramulator1-dram', '0x12345680 R\n0x4cbd56c0 W\n'],
  ['ramulator1-cpu', '3 20734016\n1 20846400\n6 20734208 20841280\n'],
  ['ramulator2', 'LD 0x12340\nST 4096\n'],
  ['dramsim3', '0x2000D5C0 READ 30\n0x2000D600 WRITE 35\n'],
  ['perf', '# header\n            stream  cpu/mem-loads,ldlat=30/P:     7ffd1d4c2a98        1e2a4ca98 4K\n'],
];

for (const [format, text] of SAMPLES) {
  test(`detects ${format} by sniffing its lines`, async () => {
    const path = writeFile(dir, `${format}.txt`, text);
    assert.is(await detectTraceFormat(path), format);
    assert.is((await openTrace(path)).format, format);
  });
}

test('detects xz-compressed text by its decompressed lines', async () => {
  if (!hasTool('xz')) return console.log('traces-detect: xz is not installed, skipping');
  assert.is(await detectTraceFormat(xzCompress(writeFile(dir, 'trace.out', SAMPLES[0][1]))), 'lackey');
});

test('detects ChampSim by binary content or extension, mfrsim by magic', async () => {
  const record = champsimRecord({ srcMem: [0x1000] });
  assert.is(await detectTraceFormat(writeFile(dir, 'noext', record)), 'champsim');
  assert.is(await detectTraceFormat(writeFile(dir, 'x.champsimtrace', record)), 'champsim');
  const mfr = `${dir}/t.bin`;
  await writeTrace(mfr, [], { physical: false, columns: { size: false, time: false, weight: false, pageSize: false } });
  assert.is(await detectTraceFormat(mfr), 'mfrsim');
});

test('a trace of a large first sample: the partial last line is ignored', async () => {
  let text = '';
  while (text.length < 70_000) text += ' L 7ffd1d4c2a98,8\n';
  assert.is(await detectTraceFormat(writeFile(dir, 'big.txt', text)), 'lackey');
});

test('undetectable and empty files are errors naming the file', async () => {
  for (const [name, text, reason] of [
    ['prose.txt', 'hello world\nthis is not a trace\n', /cannot detect the trace format: no format reads line 1 \('hello world'\)/],
    ['empty.txt', '', /cannot detect the format of an empty file/],
  ] as const) {
    const path = writeFile(dir, name, text);
    try {
      await detectTraceFormat(path);
      assert.unreachable();
    } catch (err) {
      assert.instance(err, TraceFormatError);
      assert.is((err as TraceFormatError).file, path);
      assert.match((err as TraceFormatError).reason, reason);
    }
  }
});

test('openTrace refuses unknown formats and tiny batches', async () => {
  const path = writeFile(dir, 'l.txt', SAMPLES[0][1]);
  for (const [opts, reason] of [
    [{ format: 'nope' as TraceFormat }, /unknown trace format 'nope'/],
    [{ batchSize: 8 }, /batch size must be an integer >= 64/],
  ] as const) {
    try {
      await openTrace(path, opts);
      assert.unreachable();
    } catch (err) {
      assert.match((err as Error).message, reason);
    }
  }
});

test.run();
