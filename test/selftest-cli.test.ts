// The upstream hugetlb-mfr selftest inside the simulator (src/host/selftest.ts): it passes
// for both sizes, both policies and 1 or 8 poisoned pages on the wasm kernel and on the
// reference model, and `mfrsim selftest --json` states the kernel behaviour it ran.
import { Command } from 'commander';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { registerSelftestCommand } from '../src/cli/commands/selftest.js';
import { runSelftest, type SelftestReport } from '../src/host/selftest.js';
import { RefHost } from './reference/model.js';

for (const size of ['2M', '1G'] as const) {
  for (const policy of ['keep', 'default'] as const) {
    for (const pages of [1, 8]) {
      test(`hugetlb-mfr ${size} ${policy} ${pages} page(s) passes on the kernel and on the reference model`, async () => {
        const kernel = await runSelftest({ size, policy, pages });
        const reference = await runSelftest({ size, policy, pages, host: RefHost.create({ hugepages: { [size]: 8 } }) });
        for (const r of [kernel, reference]) assert.ok(r.passed, JSON.stringify(r.steps.filter((s) => !s.ok)));
        assert.equal(reference.steps, kernel.steps);
      });
    }
  }
}

async function selftestJson(args: string[]): Promise<SelftestReport[]> {
  const program = new Command().exitOverride().configureOutput({ writeErr: () => {} });
  registerSelftestCommand(program);
  const out: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => (out.push(chunk), true)) as typeof process.stdout.write;
  try {
    await program.parseAsync(['node', 'mfrsim', 'selftest', '--json', '--size', '2M', ...args]);
  } finally {
    process.stdout.write = write;
  }
  return JSON.parse(out.join('')) as SelftestReport[];
}

test('mfrsim selftest --json carries the KEEP version and the log-line generation', async () => {
  const reports = await selftestJson([]);
  assert.is(reports.length, 2);
  for (const r of reports) {
    assert.ok(r.passed);
    assert.is(r.kernel.keepVersion, 'intended');
    assert.is(r.kernel.keepVersionText, 'intended behaviour (not posted code)');
    assert.is(r.kernel.logLines.generation, 'upstream 2026');
  }
  const v3 = await selftestJson(['--keep-version', 'v3', '--policy', 'keep']);
  assert.is(v3[0]!.kernel.keepVersion, 'v3');
  assert.ok(v3[0]!.passed, 'MADV_HWPOISON is not affected by the v3 defects');
  const alias = await selftestJson(['--keep-version', 'v4', '--policy', 'keep']);
  assert.is(alias[0]!.kernel.keepVersion, 'intended');
});

test.run();
