// Whole-process measurements for the benchmarks: the mfrsim command line of this tree and of
// a baseline commit (built from git into a temporary folder), timed as the user sees it, and
// the moment a process first opens a file.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * The code before single-pass trace ingestion, lazily loaded commands and the study's shard
 * rework: the "before" of every A/B comparison in docs/performance.md.
 */
export const BASELINE_COMMIT = 'ea6ae44e6a660ac33b35ff004bb8508c087fd4d8';

/** The command line of this tree (built by `npm run bench`). */
export const CLI = join(ROOT, 'dist/cli/main.js');

let baseline: Promise<string | null> | undefined;

/**
 * The baseline commit's command line, built once per benchmark run (git archive, this
 * tree's node_modules, npm run build); null, with the reason on stderr, where it cannot be.
 */
export function baselineCli(): Promise<string | null> {
  baseline ??= (async () => {
    try {
      const dir = mkdtempSync(join(tmpdir(), 'mfrsim-baseline-'));
      process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
      const tar = execFileSync('git', ['-C', ROOT, 'archive', BASELINE_COMMIT], { maxBuffer: 1 << 30 });
      execFileSync('tar', ['-x', '-C', dir], { input: tar });
      symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
      execFileSync('npm', ['run', 'build'], { cwd: dir, stdio: 'ignore' });
      return join(dir, 'dist/cli/main.js');
    } catch (err) {
      process.stderr.write(`bench: no baseline build of ${BASELINE_COMMIT.slice(0, 12)} (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); A/B figures are left out\n`);
      return null;
    }
  })();
  return baseline;
}

export interface ProcessRun {
  /** Wall clock from spawn to exit, seconds. */
  seconds: number;
  /** CPU time of the process (user + system, all threads), seconds. */
  cpuSeconds: number;
  /** Peak resident memory, MiB. */
  maxRssMiB: number;
  stdout: string;
}

/** GNU time reports a child's CPU time, which Node does not; without it CPU figures are NaN. */
const GNU_TIME = '/usr/bin/time';

/** Runs `node cli args...` to its end; fails unless it exits 0. */
export function runCli(cli: string, args: string[]): Promise<ProcessRun> {
  const timed = existsSync(GNU_TIME);
  const report = join(tmpdir(), `mfrsim-bench-time-${process.pid}-${(runs += 1)}`);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = timed
      ? spawn(GNU_TIME, ['-f', '%U %S %M', '-o', report, process.execPath, cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      let cpuSeconds = NaN;
      let maxRssMiB = NaN;
      if (timed) {
        const [user, sys, rssKiB] = readFileSync(report, 'utf8').trim().split(/\s+/).slice(-3).map(Number);
        cpuSeconds = user! + sys!;
        maxRssMiB = rssKiB! / 1024;
        rmSync(report, { force: true });
      }
      if (code !== 0) return reject(new Error(`${cli} ${args.join(' ')}: exit ${code}: ${stderr.trim().split('\n').pop()}`));
      resolve({ seconds, cpuSeconds, maxRssMiB, stdout });
    });
  });
}
let runs = 0;

export interface FirstOpen {
  /** From the spawn to the process's first open of the file, ms. */
  ms: number;
  /** From the process's own start (its performance.timeOrigin) to that open, ms. */
  sinceStartMs: number;
  /** CPU time the process had used by then (all threads), ms. */
  cpuMs: number;
}

// Loaded into the watched process with --import: notes the first open of $MFRSIM_BENCH_FILE
// (fs and fs/promises, the ESM bindings too) and writes when it happened to $MFRSIM_BENCH_REPORT.
const WATCH_OPEN = `data:text/javascript,${encodeURIComponent(`
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
const file = process.env.MFRSIM_BENCH_FILE;
let seen = false;
const note = (path) => {
  if (seen || String(path) !== file) return;
  seen = true;
  const cpu = process.cpuUsage();
  fs.writeFileSync(process.env.MFRSIM_BENCH_REPORT, JSON.stringify({ at: performance.timeOrigin + performance.now(), sinceStart: performance.now(), cpuMs: (cpu.user + cpu.system) / 1000 }));
};
for (const [mod, name] of [[fsp, 'open'], [fs, 'open'], [fs, 'openSync']]) {
  const original = mod[name];
  mod[name] = function (path, ...rest) { note(path); return original.call(this, path, ...rest); };
}
syncBuiltinESMExports();
`)}`;

/**
 * Spawns \`node args...\` and reports when it first opened \`file\`: from the spawn, from the
 * process's own start, and its CPU time by then (which other load on the machine barely
 * changes). A hook loaded with --import notes the open; it costs microseconds.
 */
export async function timeToOpen(args: string[], file: string): Promise<FirstOpen> {
  const report = join(tmpdir(), `mfrsim-bench-open-${process.pid}-${(runs += 1)}`);
  const spawned = performance.timeOrigin + performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', WATCH_OPEN, ...args], {
      stdio: 'ignore', env: { ...process.env, MFRSIM_BENCH_FILE: file, MFRSIM_BENCH_REPORT: report },
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`node ${args.join(' ')}: exit ${code}`))));
  });
  if (!existsSync(report)) throw new Error(`node ${args.join(' ')} never opened ${file}`);
  const { at, sinceStart, cpuMs } = JSON.parse(readFileSync(report, 'utf8')) as { at: number; sinceStart: number; cpuMs: number };
  rmSync(report, { force: true });
  return { ms: at - spawned, sinceStartMs: sinceStart, cpuMs };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
