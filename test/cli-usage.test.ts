// The command line's manners: usage errors (bad flags, out-of-range numbers, bad paths, two
// outputs on stdout) exit 2 before any work; failures exit 1; help exits 0 and says so.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const CLI = new URL('../dist/cli/main.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'mfrsim-usage-'));
const at = (name: string) => join(dir, name);

function mfrsim(...args: string[]): { status: number | null; stdout: string; stderr: string; ms: number } {
  const started = Date.now();
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - started };
}

test('--help documents the exit statuses and exits 0', () => {
  const r = mfrsim('--help');
  assert.is(r.status, 0);
  assert.match(r.stdout, /Exit status: 0 success, 1 failure \(.*\),\n\s+2 usage error/);
});

test('numeric flags out of range are usage errors that name the range', () => {
  for (const [args, message] of [
    [['errors', 'gen', '--years', '1e6'], /--years <y>' argument '1e6' is invalid\. must be a number above 0 and at most 100/],
    [['errors', 'gen', '--hosts', '0'], /must be an integer from 1 to 10,000,000/],
    [['errors', 'gen', '--incident-rate', '1e6'], /must be a number from 0 to 1,000/],
    [['replay', '--fleet', 'x.json', '--workers', '-1'], /must be an integer from 0 to 1,024/],
    [['replay', '--fleet', 'x.json', '--poison-fraction', '2'], /must be a number from 0 to 1/],
    [['selftest', '--pages', '9'], /must be an integer from 1 to 8/],
    [['convert', 'x', '--out', 'y', '--batch-size', '8'], /must be an integer from 64 to/],
    [['study', '--seed', '-3'], /must be an integer from 0 to 4,294,967,295/],
  ] as const) {
    const r = mfrsim(...args);
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});

test('bad output paths and two outputs on stdout are refused before any work', () => {
  writeFileSync(at('fleet.json'), JSON.stringify({ hosts: 1, host: { hugepages: { '2M': 8 }, vms: [{ memory: 2 ** 21, hugepage: '2M' }] } }));
  for (const [args, message] of [
    // A default study takes a minute: refused at once, it never starts.
    [['study', '--html', 'no/such/dir/report.html'], /--html no\/such\/dir\/report\.html: the directory .*no\/such\/dir does not exist/],
    [['study', '--json', '-', '--csv', '-'], /--json and --csv would both write to stdout/],
    [['study', '--html', '-'], /--html cannot write to stdout/],
    [['study', '--json', 'same.out', '--csv', 'same.out'], /--json and --csv name the same file same\.out/],
    [['study', '--json', '.'], /--json \. is a directory/],
    [['errors', 'gen', '--out', '-', '--json', '-'], /--out and --json would both write to stdout/],
    [['replay', '--fleet', 'fleet.json', '--json', 'fleet.json'], /--json fleet\.json is also an input/],
    [['replay', '--fleet', 'missing.json'], /--fleet missing\.json does not exist/],
    [['replay', '--trace', 'a', '--fleet', 'fleet.json'], /exactly one of --trace, --traces or --fleet/],
    [['convert', 'nothing.lackey', '--out', 'x.mfr'], /the trace nothing\.lackey does not exist/],
    [['errors', 'import', 'nothing.log'], /the log nothing\.log does not exist/],
  ] as const) {
    const r = mfrsim(...args);
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.ok(r.ms < 20_000, `${args.join(' ')} was refused up front (${r.ms} ms)`);
  }
  assert.equal(readdirSync(dir).sort(), ['fleet.json']);
});

test('failures exit 1 and leave no output', () => {
  writeFileSync(at('bad.lackey'), ' L 1000,8\n L 2000,8\n L zz,8\n');
  const r = mfrsim('convert', 'bad.lackey', '--out', 'bad.mfr');
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /bad\.lackey:3: expected a hex address, found 'zz,8' \(read as lackey/);
  assert.not.ok(existsSync(at('bad.mfr')));

  writeFileSync(at('README.md'), '# mfrsim\n\nSimulates memory-failure recovery.\n');
  const imp = mfrsim('errors', 'import', 'README.md', '--out', 'readme.mfrerr');
  assert.is(imp.status, 1);
  assert.match(imp.stderr, /README\.md: not an error log mfrsim reads: expected rasdaemon's SQLite database, mcelog output/);
  assert.not.ok(existsSync(at('readme.mfrerr')), 'a failed import leaves no stream');
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
