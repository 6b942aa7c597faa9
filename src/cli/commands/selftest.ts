// `mfrsim selftest`: the upstream hugetlb-mfr selftest (tools/testing/selftests/mm/
// hugetlb-mfr.c of the MFD_MF_KEEP_UE_MAPPED series v3) inside the simulator, printed like a
// kselftest (TAP), or both policies side by side, with the kernel behaviour it ran.
import { Command, Option } from 'commander';
import { runSelftest, type SelftestPolicy, type SelftestReport } from '../../host/selftest.js';
import type { HugepageSize } from '../../host/types.js';
import { KEEP_VERSIONS, type KeepVersionOption } from '../../host/kernel-behaviour.js';
import { formatParagraph, formatTable, TERMINAL_WIDTH, type TableColumn } from '../../format/table.js';
import { integerFlag } from '../flags.js';
import { addHelpExamples } from '../help.js';

function policyTitle(r: SelftestReport): string {
  return r.policy === 'keep' ? 'MFD_MF_KEEP_UE_MAPPED' : 'DEFAULT (MFD_HUGETLB)';
}

/** The kernel behaviour a report ran against, in one line. */
function kernelText(r: SelftestReport): string {
  return `kernel: MFD_MF_KEEP_UE_MAPPED ${r.kernel.keepVersionText}; log lines and counters ${r.kernel.logLines.generation}`;
}

/** A TAP diagnostic: `text` on "#" lines that fit the terminal, continuation lines indented. */
function diagnostic(text: string, indent = ''): string[] {
  return formatParagraph(text, { width: TERMINAL_WIDTH - 2 - indent.length, hang: 2 }).split('\n').map((l) => `# ${indent}${l}`);
}

/** One report as kselftest TAP output. */
export function formatTap(r: SelftestReport): string {
  const lines = [
    'TAP version 13',
    `1..${r.steps.length}`,
    ...diagnostic(`hugetlb-mfr: ${r.size} hugepages, ${policyTitle(r)}, ${r.pages} poisoned raw page(s)`),
    ...diagnostic(kernelText(r)),
  ];
  for (const s of r.steps) {
    lines.push(`${s.ok ? 'ok' : 'not ok'} ${s.n} ${s.name}`);
    if (!s.ok) lines.push(...diagnostic(`expected: ${s.expected}`, '  '), ...diagnostic(`actual:   ${s.actual}`, '  '));
  }
  const pass = r.steps.filter((s) => s.ok).length;
  lines.push(`# Totals: pass:${pass} fail:${r.steps.length - pass} xfail:0 xpass:0 skip:0 error:0`);
  return lines.join('\n');
}

/** The side-by-side table's columns: the step, and what each policy did (text that wraps). */
const SIDE_BY_SIDE: TableColumn[] = [
  { header: '#', align: 'right' },
  { header: 'step', wrap: true },
  { header: 'MFD_MF_KEEP_UE_MAPPED', wrap: true },
  { header: 'DEFAULT (MFD_HUGETLB)', wrap: true },
];

/** Two reports of the same size, one row per step: what each policy did. */
export function formatSideBySide(keep: SelftestReport, dflt: SelftestReport): string {
  const rows: string[][] = [];
  const n = Math.max(keep.steps.length, dflt.steps.length);
  for (let i = 0; i < n; i++) {
    const k = keep.steps[i];
    const d = dflt.steps[i];
    const name = k && d && k.name !== d.name ? `${k.name} / ${d.name}` : (k ?? d)!.name;
    const cell = (s: typeof k) => (s ? `${s.ok ? 'ok' : 'NOT OK'}: ${s.actual}` : '');
    rows.push([String(i + 1), name, cell(k), cell(d)]);
  }
  return [
    formatParagraph(`hugetlb-mfr, ${keep.size} hugepages, ${keep.pages} poisoned raw page(s): ${keep.passed && dflt.passed ? 'both policies behave as the test expects' : 'MISMATCH'}`),
    formatParagraph(kernelText(keep), { hang: 2 }),
    formatTable(SIDE_BY_SIDE, rows, { rule: true }),
  ].join('\n');
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
