import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { registerConvertCommand } from '../src/cli/commands/convert.js';
import { TraceFormatError } from '../src/traces/errors.js';
import { readEvents, tempDir, writeFile } from './traces-fixtures.js';

const dir = tempDir();

/** Runs `mfrsim convert ...args` and returns what it printed on stdout. */
async function convert(...args: string[]): Promise<string> {
  const program = new Command().exitOverride().configureOutput({ writeErr: () => {} });
  registerConvertCommand(program);
  const write = process.stdout.write;
  let printed = '';
  process.stdout.write = ((chunk: string) => ((printed += chunk), true)) as typeof process.stdout.write;
  try {
    await program.parseAsync(['node', 'mfrsim', 'convert', ...args]);
  } finally {
    process.stdout.write = write;
  }
  return printed;
}

test('convert writes the binary trace and reports what it did', async () => {
  const input = writeFile(dir, 'in.trace', '0x2000D5C0 READ 30\n0x2000D600 WRITE 35\n');
  const out = `${dir}/out.mfr`;
  const summary = await convert(input, '--out', out);
  assert.match(summary, new RegExp(`^2 events \\(dramsim3, virtual addresses\\) -> ${out} in `));
  assert.equal(await readEvents(out), await readEvents(input));
});

test('convert honours --format and --batch-size', async () => {
  const input = writeFile(dir, 'ls.txt', 'LD 0x40\nST 0x80\n');
  const out = `${dir}/ls.mfr`;
  assert.match(await convert(input, '-f', 'ramulator2', '-o', out, '--batch-size', '64'), /^2 events \(ramulator2/);
  assert.equal(await readEvents(out), await readEvents(input, { format: 'ramulator2' }));
});

test('a malformed input fails with file and line, and leaves no output', async () => {
  const input = writeFile(dir, 'bad.lackey', 'I  10,1\n L 20\n');
  const out = `${dir}/bad.mfr`;
  try {
    await convert(input, '-f', 'lackey', '-o', out);
    assert.unreachable();
  } catch (err) {
    assert.instance(err, TraceFormatError);
    assert.is((err as Error).message, `${input}:2: expected ',' after the address, found end of line`);
  }
  assert.not.ok(existsSync(out));
});

test('convert rejects an unknown format, a tiny batch, and writing over its input', async () => {
  const input = writeFile(dir, 'x.lackey', 'I  10,1\n');
  for (const [args, reason] of [
    [['-f', 'csv', '-o', `${dir}/y.mfr`], /Allowed choices are auto, lackey/],
    [['--batch-size', '3', '-o', `${dir}/y.mfr`], /must be an integer from 64 to/],
    [['-o', input], /--out .*x\.lackey is also an input/],
  ] as const) {
    try {
      await convert(input, ...args);
      assert.unreachable();
    } catch (err) {
      assert.match((err as Error).message, reason);
    }
  }
});

test.run();
