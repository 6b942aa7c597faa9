// The command line's manners, subcommand by subcommand: every output path is checked before
// any work (exit 2, naming the path), two outputs on stdout are refused, and every file an
// input flag names is refused when it is not what the flag expects (exit 1, naming the file).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const CLI = new URL('../dist/cli/main.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'mfrsim-manners-'));
const at = (name: string) => join(dir, name);

function mfrsim(...args: string[]): { status: number | null; stdout: string; stderr: string; ms: number } {
  const started = Date.now();
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - started };
}

// Inputs every subcommand accepts, so that only the output is wrong.
const INPUTS = ['trace.lackey', 'fleet.json', 'kern.log'];
writeFileSync(at('trace.lackey'), ' L 1000,8\n S 2000,8\n L 201000,8\n');
writeFileSync(at('fleet.json'), JSON.stringify({ hosts: 1, host: { hugepages: { '2M': 8 }, vms: [{ memory: 2 ** 21, hugepage: '2M' }] } }));
writeFileSync(at('kern.log'), '[  10.0] mce: Uncorrected hardware memory error in user-access at 3710b3400\n');

/** Every output flag of every subcommand, with the rest of a command line that would run. */
const OUTPUTS: [string[], string][] = [
  [['study'], '--json'],
  [['study'], '--csv'],
  [['study'], '--html'],
  [['replay', '--trace', 'trace.lackey'], '--json'],
  [['replay', '--fleet', 'fleet.json'], '--json'],
  [['replay', '--traces', '*.lackey'], '--json'],
  [['replay', '--traces', '*.lackey'], '--csv'],
  [['convert', 'trace.lackey'], '--out'],
  [['convert', 'trace.lackey'], '-o'],
  [['errors', 'gen'], '--out'],
  [['errors', 'gen'], '--json'],
  [['errors', 'import', 'kern.log'], '--out'],
  [['errors', 'import', 'kern.log'], '--json'],
];

test('every output path is checked before any work: a missing directory is refused at once with exit 2', () => {
  for (const [args, flag] of OUTPUTS) {
    const r = mfrsim(...args, flag, 'no/such/dir/out');
    const what = `${[...args, flag].join(' ')}: ${r.stderr}`;
    assert.is(r.status, 2, what);
    // -o is --out's short form: the message gives the long one.
    assert.match(r.stderr, `${flag === '-o' ? '--out' : flag} no/such/dir/out: the directory ${at('no/such/dir')} does not exist`, what);
    assert.is(r.stdout, '', what);
    assert.ok(r.ms < 10_000, `${what} refused up front (${r.ms} ms)`);
  }
  assert.equal(readdirSync(dir).sort(), INPUTS.sort());
});

test('two outputs on stdout are refused by every subcommand that has two outputs', () => {
  for (const [args, message] of [
    [['study', '--json', '-', '--csv', '-'], /--json and --csv would both write to stdout/],
    [['replay', '--traces', '*.lackey', '--json', '-', '--csv', '-'], /--json and --csv would both write to stdout/],
    [['errors', 'gen', '--out', '-', '--json', '-'], /--out and --json would both write to stdout/],
    [['errors', 'import', 'kern.log', '--out', '-', '--json', '-'], /--out and --json would both write to stdout/],
    // The HTML report and the binary trace are never written to stdout.
    [['study', '--html', '-'], /--html cannot write to stdout; give a file/],
    [['convert', 'trace.lackey', '--out', '-'], /--out cannot write to stdout; give a file/],
  ] as const) {
    const r = mfrsim(...args);
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.is(r.stdout, '');
  }
});

test('one output on stdout carries only that output: the summary moves to stderr or is left out', () => {
  const json = mfrsim('replay', '--trace', 'trace.lackey', '--poison-fraction', '1', '--json', '-');
  assert.is(json.status, 0, json.stderr);
  assert.ok(JSON.parse(json.stdout).accesses === 3);
  const csv = mfrsim('replay', '--traces', '*.lackey', '--policy', 'keep,default', '--csv', '-');
  assert.is(csv.status, 0, csv.stderr);
  assert.is(csv.stdout.trim().split('\n').length, 3, 'a header and one row per policy, no table');
  const imp = mfrsim('errors', 'import', 'kern.log', '--json', '-');
  assert.is(imp.status, 0, imp.stderr);
  assert.is(JSON.parse(imp.stdout).records, 1);
  assert.match(imp.stderr, /kern\.log \(kmsg\): 1 record/);
});

test('every subcommand: usage errors exit 2 before any work, failures (bad input content) exit 1', () => {
  writeFileSync(at('broken.json'), '{ "hosts": ');
  const cases: [string[], number, RegExp][] = [
    [['simulate'], 2, /unknown command 'simulate'/],
    [['study', '--policies', 'keep,fast'], 2, /unknown policy fast/],
    [['study', '--frobnicate'], 2, /unknown option '--frobnicate'/],
    [['study', 'broken.json', '--show-scenario'], 1, /broken\.json/],
    [['selftest', '--size', '3G'], 2, /Allowed choices are 2M, 1G/],
    [['replay', '--traces', 'nothing/*.lackey'], 2, /--traces nothing\/\*\.lackey: no file matches/],
    [['replay', '--fleet', 'broken.json'], 1, /broken\.json/],
    [['convert', 'trace.lackey'], 2, /required option '-o, --out <file>' not specified/],
    [['errors', 'gen', '--hosts', '0'], 2, /must be an integer from 1 to 10,000,000/],
    [['errors', 'gen', '--params', 'broken.json'], 1, /broken\.json: not a JSON parameter object/],
    [['errors', 'import', 'kern.log', '--format', 'syslog'], 2, /Allowed choices are auto, rasdaemon, mcelog, kmsg, smartmem/],
    [['worker', 'http://queue:6379'], 2, /the scheme must be redis:\/\/ or rediss:\/\//],
  ];
  for (const [args, status, message] of cases) {
    const r = mfrsim(...args);
    assert.is(r.status, status, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
  }
  rmSync(at('broken.json'));
});

/** Every command's help: the program's, each subcommand's and each of `errors`' subcommands. */
const COMMANDS = [[], ['study'], ['selftest'], ['replay'], ['convert'], ['errors'], ['errors', 'gen'], ['errors', 'import'], ['worker']];
const helps = new Map<string, string>();
function help(path: string[]): string {
  const key = path.join(' ');
  if (!helps.has(key)) {
    const r = mfrsim(...path, '--help');
    assert.is(r.status, 0, `${key} --help: ${r.stderr}`);
    helps.set(key, r.stdout);
  }
  return helps.get(key)!;
}

test('every --help states the exit statuses and ends with two or three examples that use flags the command has', () => {
  for (const path of COMMANDS) {
    const text = help(path);
    const name = `mfrsim ${path.join(' ')} --help`;
    assert.match(text, /Exit status: 0 success, 1 failure \(.*\),\n\s+2 usage error \(/, name);
    const examples = text.slice(text.lastIndexOf('\nExamples:\n')).trimEnd().split('\n').slice(2);
    assert.ok(examples.length >= 4 && examples.length <= 6 && examples.length % 2 === 0, `${name}: ${examples.join('\n')}`);
    for (let i = 0; i < examples.length; i += 2) {
      assert.match(examples[i]!, /^  # \S/, name);
      assert.match(examples[i + 1]!, /^  \$ mfrsim (study|selftest|replay|convert|errors (gen|import)|worker)\b/, name);
      // The example's subcommand has every flag it uses.
      const words = examples[i + 1]!.trim().split(/\s+/).slice(2);
      const sub = words[0] === 'errors' ? words.slice(0, 2) : words.slice(0, 1);
      const options = help(sub).split('\nOptions:\n')[1]!.split('\n\n')[0]!;
      for (const flag of words.filter((w) => /^--?[a-z]/.test(w))) {
        assert.ok(new RegExp(`^\\s+(-\\w, )?${flag}[ ,\\n]`, 'm').test(`${options}\n`), `${name}: ${sub.join(' ')} has no ${flag}`);
      }
    }
  }
});

/** A figure people read that is not in the one unit style: a long number without separators, decimal or mixed units. */
const OFF_STYLE = /(?<![\w.\-/:x])\d{4,}(?![\w\-])|\b(GB|MB|KB|kB|MiB\/s \(|GiB \(|sec|msec|usec)\b|\d\.\d{3} GiB/;

test('figures people read are in one unit style: IEC sizes, separated counts, durations that keep 3 digits', () => {
  const trace = mfrsim('replay', '--trace', 'trace.lackey', '--poison-fraction', '1', '--tlb');
  assert.is(trace.status, 0, trace.stderr);
  assert.match(trace.stdout, /memory lost\s+4 MiB\n/);
  assert.match(trace.stdout, /layout\s+1 region\(s\), 128 MiB of 2M hugepages/);
  assert.match(trace.stdout, /memory_failure latency\s+p50 \d+(\.\d+)? (ns|us|ms), p99 /);
  assert.match(trace.stdout, /throughput\s+[\d,]+ events\/s \([\d.]+ (us|ms|s)\)/);
  const batch = mfrsim('replay', '--traces', '*.lackey', '--policy', 'keep,default', '--poison-fraction', '1');
  assert.is(batch.status, 0, batch.stderr);
  assert.match(batch.stdout, /default .* 4 MiB /);
  const convert = mfrsim('convert', 'trace.lackey', '--out', 'trace.mfr');
  assert.is(convert.status, 0, convert.stderr);
  assert.match(convert.stdout, /^3 events \(lackey, virtual addresses\) -> trace\.mfr in [\d.]+ (us|ms|s) \([\d.,]+ (bytes|KiB|MiB|GiB)\/s\)\n$/);
  rmSync(at('trace.mfr'));
  const gen = mfrsim('errors', 'gen', '--hosts', '2000');
  assert.is(gen.status, 0, gen.stderr);
  assert.match(gen.stdout, /calibration \(dram model, profile datacenter-2009, 2,000 hosts x 1 years, 32,000 DIMM-years\)/);
  assert.match(gen.stdout, /errors per affected host-year: mean [\d,]+\.\d, median [\d,]+\.\d \[[\d,]+ host-years\]/);
  const costs = mfrsim('study', '--show-costs');
  assert.is(costs.status, 0, costs.stderr);
  assert.match(costs.stdout, /^\s+100 ns  collect_procs: walking one task/m);
  for (const [name, text] of [['replay', trace.stdout], ['replay --traces', batch.stdout], ['convert', convert.stdout], ['errors gen', gen.stdout]] as const) {
    assert.not.match(text, OFF_STYLE, `${name}: ${OFF_STYLE.exec(text)?.[0]} in\n${text}`);
  }
});

test('every table and line a command prints for people fits 100 columns', () => {
  // Long names, so that the tables have to wrap.
  const long = 'traces/of/the/benchmark/suite/a-trace-recorded-with-valgrind-lackey-from-spec2017.lackey';
  mkdirSync(at('traces/of/the/benchmark/suite'), { recursive: true });
  writeFileSync(at(long), ' L 1000,8\n S 2000,8\n L 201000,8\n');
  const scenario = JSON.parse(mfrsim('study', '--show-scenario').stdout);
  writeFileSync(at('vm.json'), JSON.stringify({ ...scenario, fleet: { ...scenario.fleet, hvo: false, environment: 'vm' } }));
  const outputs: [string, string[]][] = [
    ['errors gen (DRAM model)', ['errors', 'gen', '--hosts', '2000']],
    ['errors gen (incidents)', ['errors', 'gen', '--hosts', '300', '--mode', 'incident', '--dimm-gib', '8', '--out', 'fleet.mfrerr']],
    ['errors import', ['errors', 'import', 'kern.log', '--out', 'traces/of/the/benchmark/suite/kernel-log-of-the-host-that-failed.mfrerr']],
    ['replay --trace', ['replay', '--trace', long, '--errors', 'fleet.mfrerr', '--errors-host', 'auto', '--tlb', '--nested', '4']],
    ['replay --fleet', ['replay', '--fleet', 'fleet.json', '--errors', 'fleet.mfrerr', '--policy', 'thp']],
    ['replay --traces', ['replay', '--traces', 'traces/**/*.lackey', '--policy', 'default,keep,hgm,thp', '--poison-fraction', '1']],
    ['convert', ['convert', long, '--out', `${long}.mfr`]],
    ['selftest', ['selftest']],
    ['selftest --policy keep', ['selftest', '--policy', 'keep']],
    ['study --show-costs', ['study', '--show-costs']],
    ['study --show-costs (in a VM, HVO off)', ['study', 'vm.json', '--show-costs']],
  ];
  const printed = new Map(outputs.map(([name, args]) => {
    const r = mfrsim(...args);
    assert.is(r.status, 0, `${name}: ${r.stderr}`);
    return [name, r.stdout];
  }));
  for (const path of COMMANDS) printed.set(`${path.join(' ')} --help`, help(path));
  for (const [name, text] of printed) {
    assert.ok(text.length > 0, name);
    for (const line of text.split('\n')) assert.ok(line.length <= 100, `${name}: ${line.length} columns:\n${line}\nin\n${text}`);
  }
});

test("a file that is not what the command reads (this project's README) is refused, naming the file and the formats expected", () => {
  const readme = new URL('../README.md', import.meta.url).pathname;
  const imported = mfrsim('errors', 'import', readme, '--out', 'readme.mfrerr');
  assert.is(imported.status, 1, imported.stderr);
  assert.match(imported.stderr, `mfrsim: ${readme}: not an error log mfrsim reads: expected rasdaemon's SQLite database, mcelog output`);
  assert.match(imported.stderr, /kernel log lines from dmesg, journalctl -k or \/dev\/kmsg \('mce: \.\.\.', 'Memory failure: 0x<pfn>: \.\.\.', EDAC's 'EDAC MCn: n UE \.\.\.'\)/);
  assert.match(imported.stderr, /Pass --format \(rasdaemon, mcelog, kmsg, smartmem\)/);
  for (const args of [['replay', '--trace', readme], ['convert', readme, '--out', 'readme.mfr']]) {
    const r = mfrsim(...args);
    assert.is(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, `mfrsim: ${readme}: cannot detect the trace format: no format reads line `);
    assert.match(r.stderr, /pass --format \(lackey, ramulator2, perf, dramsim3, ramulator1-dram, ramulator1-cpu, champsim, mfrsim\)/);
  }
  assert.not.ok(readdirSync(dir).some((n) => n.startsWith('readme')), 'a refused input leaves no output');
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
