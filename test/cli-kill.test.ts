// A run killed mid-way (SIGKILL, which no process can catch) leaves no new output and every
// old output as it was; a catchable signal (SIGTERM) leaves nothing at all. Each command is
// the built CLI (dist/cli/main.js, which `npm test` builds first), given inputs large enough
// to be killed while it works.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_SCENARIO } from '../src/study/default-scenario.js';
import { parseScenario } from '../src/study/scenario.js';

const CLI = new URL('../dist/cli/main.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'mfrsim-kill-'));
const at = (name: string) => join(dir, name);
const OLD = 'an old output that must survive\n';

/**
 * Runs mfrsim with `args`, waits until `ready()` says it is mid-way, then sends `signal`.
 * Fails if the run ends by itself first.
 */
async function killMidway(args: string[], ready: () => boolean, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, sig) => resolve({ code, signal: sig })));
  let done = false;
  void exited.then(() => (done = true));
  const deadline = Date.now() + 60_000;
  while (!ready()) {
    if (done) assert.unreachable(`mfrsim ${args.join(' ')} ended before it could be killed: ${stderr}`);
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.not.ok(done, `mfrsim ${args.join(' ')} ended before it could be killed: ${stderr}`);
  child.kill(signal);
  const end = await exited;
  assert.is(end.signal, signal, `killed by ${signal} (exit ${end.code}; ${stderr})`);
}

/** A hidden temporary file of a streamed output exists and has grown past `bytes`. */
function partialGrown(target: string, bytes: number): () => boolean {
  const prefix = `.${target}.`;
  return () => readdirSync(dir).some((n) => n.startsWith(prefix) && n.endsWith('.partial') && statSync(at(n)).size > bytes);
}

/** Files in the directory other than the hidden partial files a SIGKILL may leave. */
function visibleFiles(): string[] {
  return readdirSync(dir).filter((n) => !n.endsWith('.partial')).sort();
}

function started(ms: number): () => boolean {
  const t = Date.now() + ms;
  return () => Date.now() > t;
}

test('errors gen: killed while streaming, the old stream and no JSON; the next run clears the partial file', async () => {
  writeFileSync(at('gen.mfrerr'), OLD);
  const before = visibleFiles();
  await killMidway(['errors', 'gen', '--hosts', '400', '--years', '1', '--out', 'gen.mfrerr', '--json', 'gen.json'], partialGrown('gen.mfrerr', 8 << 20));
  assert.equal(visibleFiles(), before, 'no new file');
  assert.is(readFileSync(at('gen.mfrerr'), 'utf8'), OLD);
  assert.ok(readdirSync(dir).some((n) => n.startsWith('.gen.mfrerr.') && n.endsWith('.partial')), 'SIGKILL leaves the hidden partial file');
  // The next run writing the same target removes the partial file of the killed one.
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'errors', 'gen', '--hosts', '2', '--mode', 'incident', '--out', 'gen.mfrerr'], { cwd: dir, stdio: 'ignore' });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}`))));
  });
  assert.not.ok(readdirSync(dir).some((n) => n.endsWith('.partial')), 'the stale partial file is gone');
  assert.is.not(readFileSync(at('gen.mfrerr'), 'utf8'), OLD, 'the completed run replaced the stream');
});

test('errors gen: SIGTERM leaves nothing, not even the partial file', async () => {
  writeFileSync(at('term.mfrerr'), OLD);
  const before = readdirSync(dir).sort();
  await killMidway(['errors', 'gen', '--hosts', '400', '--years', '1', '--out', 'term.mfrerr'], partialGrown('term.mfrerr', 8 << 20), 'SIGTERM');
  assert.equal(readdirSync(dir).sort(), before);
  assert.is(readFileSync(at('term.mfrerr'), 'utf8'), OLD);
});

test('errors import: killed while writing, the old stream stays', async () => {
  const line = '[  30.0] EDAC MC0: 1 CE memory read error on DIMM_A1 (channel:0 slot:0 page:0x42 offset:0x80 grain:32)\n';
  writeFileSync(at('kern.log'), line.repeat(600_000));
  writeFileSync(at('imp.mfrerr'), OLD);
  const before = visibleFiles();
  await killMidway(['errors', 'import', 'kern.log', '--out', 'imp.mfrerr'], partialGrown('imp.mfrerr', 1 << 20));
  assert.equal(visibleFiles(), before);
  assert.is(readFileSync(at('imp.mfrerr'), 'utf8'), OLD);
});

test('convert: killed while writing, the old --out stays', async () => {
  const lines = Array.from({ length: 50_000 }, (_, i) => ` L ${(0x7f0000000000 + i * 4096).toString(16)},8`).join('\n') + '\n';
  writeFileSync(at('big.lackey'), lines.repeat(60));
  writeFileSync(at('big.mfr'), OLD);
  const before = visibleFiles();
  await killMidway(['convert', 'big.lackey', '--out', 'big.mfr'], partialGrown('big.mfr', 1 << 20));
  assert.equal(visibleFiles(), before);
  assert.is(readFileSync(at('big.mfr'), 'utf8'), OLD);
});

test('replay: killed mid-run, no JSON and the old one intact', async () => {
  writeFileSync(at('fleet.json'), JSON.stringify({
    hosts: 2,
    host: { hugepages: { '2M': 512 }, vms: [{ memory: 2 ** 30, hugepage: '2M', policy: 'default' }] },
    poison: { fraction: 0.01 },
    workload: { pattern: 'random', accessesPerHost: 50_000_000 },
  }));
  writeFileSync(at('replay.json'), OLD);
  const before = visibleFiles();
  await killMidway(['replay', '--fleet', 'fleet.json', '--workers', '1', '--json', 'replay.json'], started(1500));
  assert.equal(visibleFiles(), before);
  assert.is(readFileSync(at('replay.json'), 'utf8'), OLD);
});

test('study: killed mid-run, none of JSON, CSV, HTML written and the old JSON intact', async () => {
  const scenario = parseScenario(DEFAULT_SCENARIO, 'the default scenario');
  writeFileSync(at('small.json'), JSON.stringify({ ...scenario, replicates: 1, fleet: { ...scenario.fleet, hosts: 200 } }));
  writeFileSync(at('study.json'), OLD);
  const before = visibleFiles();
  await killMidway(['study', 'small.json', '--workers', '1', '--json', 'study.json', '--csv', 'study.csv', '--html', 'study.html'], started(2000));
  assert.equal(visibleFiles(), before);
  assert.is(readFileSync(at('study.json'), 'utf8'), OLD);
  assert.not.ok(existsSync(at('study.csv')) || existsSync(at('study.html')));
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
