// `mfrsim selftest`: the upstream hugetlb-mfr selftest (tools/testing/selftests/mm/
// hugetlb-mfr.c of the MFD_MF_KEEP_UE_MAPPED series v3) inside the simulator, printed like a
// kselftest (TAP), or both policies side by side, with the kernel behaviour it ran.
import { Command, Option } from 'commander';
import { runSelftest, type SelftestPolicy, type SelftestReport } from '../../host/selftest.js';
import type { HugepageSize } from '../../host/types.js';
import { KEEP_VERSIONS, type KeepVersionOption } from '../../host/kernel-behaviour.js';
import { integerFlag } from '../flags.js';
import { addHelpExamples } from '../help.js';

function policyTitle(r: SelftestReport): string {
  return r.policy === 'keep' ? 'MFD_MF_KEEP_UE_MAPPED' : 'DEFAULT (MFD_HUGETLB)';
}

/** The kernel behaviour a report ran against, in one line. */
function kernelText(r: SelftestReport): string {
  return `kernel: MFD_MF_KEEP_UE_MAPPED ${r.kernel.keepVersionText}; log lines and counters ${r.kernel.logLines.generation}`;
}

/** One report as kselftest TAP output. */
export function formatTap(r: SelftestReport): string {
  const lines = [
    'TAP version 13',
    `1..${r.steps.length}`,
    `# hugetlb-mfr: ${r.size} hugepages, ${policyTitle(r)}, ${r.pages} poisoned raw page(s)`,
    `# ${kernelText(r)}`,
  ];
  for (const s of r.steps) {
    lines.push(`${s.ok ? 'ok' : 'not ok'} ${s.n} ${s.name}`);
    if (!s.ok) lines.push(`#   expected: ${s.expected}`, `#   actual:   ${s.actual}`);
  }
  const pass = r.steps.filter((s) => s.ok).length;
  lines.push(`# Totals: pass:${pass} fail:${r.steps.length - pass} xfail:0 xpass:0 skip:0 error:0`);
  return lines.join('\n');
}

/** Two reports of the same size, one row per step: what each policy did. */
export function formatSideBySide(keep: SelftestReport, dflt: SelftestReport): string {
  const rows: string[][] = [['#', 'step', 'MFD_MF_KEEP_UE_MAPPED', 'DEFAULT (MFD_HUGETLB)']];
  const n = Math.max(keep.steps.length, dflt.steps.length);
  for (let i = 0; i < n; i++) {
    const k = keep.steps[i];
    const d = dflt.steps[i];
    const name = k && d && k.name !== d.name ? `${k.name} / ${d.name}` : (k ?? d)!.name;
    const cell = (s: typeof k) => (s ? `${s.ok ? 'ok' : 'NOT OK'}: ${s.actual}` : '');
    rows.push([String(i + 1), name, cell(k), cell(d)]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd();
  const out = [
    `hugetlb-mfr, ${keep.size} hugepages, ${keep.pages} poisoned raw page(s): ${keep.passed && dflt.passed ? 'both policies behave as the test expects' : 'MISMATCH'}`,
    kernelText(keep),
    line(rows[0]!),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.slice(1).map(line),
  ];
  return out.join('\n');
}

export function registerSelftestCommand(program: Command): void {
  const cmd = program
    .command('selftest')
    .description('run the upstream hugetlb-mfr selftest (tools/testing/selftests/mm/hugetlb-mfr.c, MFD_MF_KEEP_UE_MAPPED v3) inside the simulator')
    .addOption(new Option('--size <size>', 'hugepage size (default: both)').choices(['2M', '1G']))
    .option('--pages <n>', 'raw pages to poison with MADV_HWPOISON, 1..8', integerFlag(1, 8), 8)
    .addOption(new Option('--policy <policy>', 'one policy as TAP output (default: both, side by side)').choices(['keep', 'default']))
    .addOption(new Option('--keep-version <version>', 'MFD_MF_KEEP_UE_MAPPED as intended (not posted code) or as posted in v3; v4 = intended').choices([...KEEP_VERSIONS]).default('intended'))
    .option('--json', 'print the reports as JSON (with the kernel behaviour they ran)')
    .action(async (opts: { size?: HugepageSize; pages: number; policy?: SelftestPolicy; keepVersion: KeepVersionOption; json?: boolean }) => {
      const sizes: HugepageSize[] = opts.size ? [opts.size] : ['2M', '1G'];
      const policies: SelftestPolicy[] = opts.policy ? [opts.policy] : ['keep', 'default'];
      const reports: SelftestReport[] = [];
      for (const size of sizes) {
        for (const policy of policies) reports.push(await runSelftest({ size, policy, pages: opts.pages, keepVersion: opts.keepVersion }));
      }
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(reports, null, 2)}\n`);
      } else if (opts.policy) {
        process.stdout.write(`${reports.map(formatTap).join('\n\n')}\n`);
      } else {
        const blocks = sizes.map((_, i) => formatSideBySide(reports[2 * i]!, reports[2 * i + 1]!));
        process.stdout.write(`${blocks.join('\n\n')}\n`);
      }
      if (!reports.every((r) => r.passed)) process.exitCode = 1;
    });
  addHelpExamples(cmd, [
    ['mfrsim selftest', 'both policies side by side, for 2 MiB and 1 GiB hugepages'],
    ['mfrsim selftest --policy keep --size 2M --pages 8', 'one run as kselftest TAP output'],
    ['mfrsim selftest --keep-version v3 --json', 'MFD_MF_KEEP_UE_MAPPED as posted in v3, as JSON'],
  ]);
}
