// The package as users get it: `npm pack`, then `npm install` of the tarball into a fresh
// project with no compiler on PATH (gcc, g++, cc, make, python absent). The library must
// install without a native build in at most 15 MB of node_modules, type-check and run the
// README's example, import each entry point (also with require() where Node allows), name
// the optional package a feature misses, and run the CLI, in full once the optional packages
// are added. Prints the installed size and time (docs/performance.md quotes them).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_SCENARIO } from '../src/study/default-scenario.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const LIMIT_BYTES = 15e6;
/** What an npm install may use to build native code. */
const COMPILERS = /^(gcc|g\+\+|cc|c\+\+|cpp|clang.*|make|gmake|python[\d.]*|.*-(gcc|g\+\+)(-[\d.]+)?)$/;

let tmp: string;
let project: string;
let env: NodeJS.ProcessEnv;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command in the project with the compiler-free PATH; never throws. */
function sh(cmd: string, args: string[], cwd = project): Promise<Result> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** A folder of links to every program on PATH except compilers and build tools. */
async function compilerFreePath(dir: string): Promise<string> {
  await mkdir(dir);
  const seen = new Set<string>();
  for (const folder of (process.env.PATH ?? '').split(delimiter)) {
    const names = await readdir(folder).catch(() => [] as string[]);
    for (const name of names) {
      if (seen.has(name) || COMPILERS.test(name)) continue;
      seen.add(name);
      await symlink(join(folder, name), join(dir, name)).catch(() => undefined);
    }
  }
  return dir;
}

/** Bytes of the files under a folder (apparent size), and the paths matching `flag`. */
async function tree(dir: string, flag: RegExp): Promise<{ bytes: number; flagged: string[] }> {
  let bytes = 0;
  const flagged: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    if (flag.test(path)) flagged.push(path);
    if (entry.isFile()) bytes += (await stat(path)).size;
  }
  return { bytes, flagged };
}

/** The README's library example: the first TypeScript block of "Use it as a library". */
async function readmeExample(): Promise<string> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Use it as a library'));
  const block = /```ts\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error('README.md: no ts block under "Use it as a library"');
  return block[1]!;
}

const SUBPATHS = `
import * as assert from 'node:assert/strict';
import { Host, loadKernel, MissingDependencyError, runSelftest } from 'mfrsim';
import { FleetShard, runFleet, type HostSpec } from 'mfrsim/fleet';
import { openTrace, writeTrace } from 'mfrsim/traces';
import { generateErrorBatches, readRasdaemon, writeErrorStream } from 'mfrsim/errors';
import { buildReport, DEFAULT_SCENARIO, formatHtml, formatTable, parseScenario, runStudy } from 'mfrsim/study';
import { writeFileSync } from 'node:fs';

const report = await runSelftest({ size: '2M', policy: 'keep', pages: 2 });
assert.ok(report.passed);
await loadKernel();
assert.equal(FleetShard.create([{ hugepages: { '2M': 4 }, vms: [] }]).hostCount, 1);
const hosts: HostSpec[] = [{ hugepages: { '2M': 64 }, vms: [{ memory: 2 ** 27, hugepage: '2M', policy: 'keep' }] }];
const fleet = await runFleet({ hosts, seed: 1, poison: { fraction: 0.5 }, workload: { pattern: 'random', accessesPerHost: 1000 }, workers: 0 });
assert.equal(fleet.total.accesses, 1000);
writeFileSync('trace.lackey', ' L 7ff000001000,8\\n S 7ff000202000,8\\n');
assert.equal(await writeTrace('trace.mfr', await openTrace('trace.lackey'), { physical: false, columns: { size: true, time: false, weight: false, pageSize: false } }), 2);
const records = await writeErrorStream('errors.mfrerr', { flags: 0, hostCount: 50, seed: 3, physBase: 2 ** 32, spanSeconds: 0 },
  generateErrorBatches({ hosts: 50, years: 1, mode: 'incident', seed: 3 }));
assert.ok(records > 0);
const scenario = parseScenario({ ...DEFAULT_SCENARIO, replicates: 1, years: 0.25, fleet: { ...DEFAULT_SCENARIO.fleet, hosts: 3 } });
const study = buildReport(await runStudy(scenario, { workers: 0 }));
assert.match(formatTable(study), /MFD_MF_KEEP_UE_MAPPED/);

// What the optional packages add, asked for without them.
const missing = async (what: () => Promise<unknown>) => {
  try { await what(); } catch (err) { return err instanceof MissingDependencyError ? err.packageName : String(err); }
  return 'no error';
};
console.log(JSON.stringify({
  charts: await missing(() => formatHtml(study)),
  rasdaemon: await missing(async () => { for await (const _ of readRasdaemon('errors.mfrerr').batches); }),
  workers: await missing(() => runFleet({ hosts, seed: 1, workers: 1 })),
  host: typeof Host,
}));
`;

test.before(async () => {
  assert.ok(existsSync(join(ROOT, 'dist/index.js')) && existsSync(join(ROOT, 'build/kernel.wasm')), 'build first: npm run build');
  tmp = await mkdtemp(join(tmpdir(), 'mfrsim-pack-'));
  project = join(tmp, 'project');
  await mkdir(project);
  // A clean environment: none of the npm_* settings of the npm that runs the tests, no colours.
  env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm_|FORCE_COLOR$)/i.test(k)));
  env.NO_COLOR = '1';
  env.PATH = await compilerFreePath(join(tmp, 'bin'));
  env.npm_config_update_notifier = 'false';
});

test.after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

test('the tarball holds what users need and nothing else', async () => {
  const packed = await sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], ROOT);
  assert.is(packed.code, 0, packed.stderr);
  const [{ filename, files }] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
  const paths = files.map((f) => f.path);
  for (const needed of ['dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'dist/platform/browser/kernel-wasm.js', 'build/kernel.wasm', 'cjs/index.cjs', 'LICENSE', 'README.md', 'CHANGELOG.md']) {
    assert.ok(paths.includes(needed), `the tarball lacks ${needed}`);
  }
  assert.equal(paths.filter((p) => /\.map$|kernel-debug|\.wat$|^src\/|^test\/|^web\/|^bench\/|^assembly\//.test(p)), [], 'files users do not need');
  await writeFile(join(tmp, 'tarball'), join(tmp, filename));
});

test('npm install of the tarball: no compiler, no native module, at most 15 MB', async () => {
  assert.ok((await sh('sh', ['-c', 'command -v gcc || command -v make || command -v cc || command -v python3'])).stdout === '', 'a compiler on PATH');
  const tarball = await readFile(join(tmp, 'tarball'), 'utf8');
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'probe', private: true, type: 'module' }));
  const started = performance.now();
  const install = await sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball]);
  const seconds = (performance.now() - started) / 1000;
  assert.is(install.code, 0, install.stderr);
  const lock = JSON.parse(await readFile(join(project, 'node_modules/.package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
  const packages = Object.keys(lock.packages).map((p) => p.replace(/^.*node_modules\//, ''));
  for (const optional of ['better-sqlite3', 'piscina', 'vega', 'vega-lite']) assert.not.ok(packages.includes(optional), `${optional} installed`);
  const { bytes, flagged } = await tree(join(project, 'node_modules'), /\.node$|\/build\/Release$|binding\.gyp$/);
  assert.equal(flagged, [], 'native modules');
  console.log(`  mfrsim installed: ${packages.length} packages, ${(bytes / 1e6).toFixed(1)} MB of node_modules, in ${seconds.toFixed(1)} s`);
  assert.ok(bytes <= LIMIT_BYTES, `${bytes} bytes of node_modules`);
});

test('the README example type-checks and runs; every entry point imports, typed; missing optional packages are named', async () => {
  await writeFile(join(project, 'example.ts'), await readmeExample());
  await writeFile(join(project, 'subpaths.ts'), SUBPATHS);
  // Strict; Node's types and the compiler come from the repository.
  await writeFile(join(project, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, outDir: 'out',
      skipLibCheck: true, types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')],
    },
    files: ['example.ts', 'subpaths.ts'],
  }));
  // skipLibCheck would hide a declaration that imports a package users may not have (checking
  // every library's declarations takes a minute), so mfrsim's own are scanned for what they import.
  const dependencies = Object.keys((JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { dependencies: object }).dependencies);
  const imported = new Set<string>();
  const dist = join(project, 'node_modules/mfrsim/dist');
  const seen = new Set<string>();
  const pending = ['index.d.ts', 'fleet/index.d.ts', 'traces/index.d.ts', 'errors/index.d.ts', 'study/index.d.ts'].map((f) => join(dist, f));
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    const text = (await readFile(file, 'utf8')).replace(/\/\*[\s\S]*?\*\//g, '');
    for (const [, spec] of text.matchAll(/(?:from\s+|import\()['"]([^'"]+)['"]/g)) {
      if (spec!.startsWith('.')) pending.push(join(file, '..', spec!.replace(/\.js$/, '.d.ts')));
      else imported.add(spec!.replace(/^((?:@[^/]+\/)?[^/]+).*$/, '$1'));
    }
  }
  assert.ok(seen.size > 50, `${seen.size} declaration files reached`);
  assert.equal([...imported].filter((p) => !p.startsWith('node:') && !dependencies.includes(p)), [], 'declarations import packages outside the dependencies');
  const tsc = await sh(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', '.']);
  assert.is(tsc.code, 0, tsc.stdout + tsc.stderr);
  const example = await sh(process.execPath, ['out/example.js']);
  assert.is(example.code, 0, example.stderr);
  for (const expected of [/signo: 7,\s+code: 4,[\s\S]*addrLsb: 12/, /\{ ok: true \}/, /recovered: 1/, /mce: Uncorrected hardware memory error in user-access at/]) {
    assert.ok(expected.test(example.stdout), `the example printed ${example.stdout}`);
  }
  const subpaths = await sh(process.execPath, ['out/subpaths.js']);
  assert.is(subpaths.code, 0, subpaths.stderr);
  assert.equal(JSON.parse(subpaths.stdout), { charts: 'vega', rasdaemon: 'better-sqlite3', workers: 'piscina', host: 'function' });
});

test('require(): the ES modules where Node can, else a message that says the package is ESM-only', async () => {
  const entries = ['mfrsim', 'mfrsim/fleet', 'mfrsim/traces', 'mfrsim/errors', 'mfrsim/study'];
  const loaded = await sh(process.execPath, ['-e', `console.log(JSON.stringify(${JSON.stringify(entries)}.map((e) => Object.keys(require(e)).length)))`]);
  assert.is(loaded.code, 0, loaded.stderr);
  const counts = JSON.parse(loaded.stdout) as number[];
  entries.forEach((entry, i) => assert.ok(counts[i]! > 5, `${entry}: ${counts[i]} exports`));
  const old = await sh(process.execPath, ['--no-experimental-require-module', '-e', "require('mfrsim')"]);
  assert.is.not(old.code, 0);
  assert.ok(/mfrsim is an ES module package \(ESM only\): use `import \.\.\. from 'mfrsim'`/.test(old.stderr), old.stderr);
});

test('the CLI: what needs no optional package runs; the rest names what to install, then runs with it', async () => {
  const selftest = await sh('npx', ['--no-install', 'mfrsim', 'selftest', '--size', '2M', '--json']);
  assert.is(selftest.code, 0, selftest.stderr);
  assert.ok((JSON.parse(selftest.stdout) as { passed: boolean }[]).every((r) => r.passed));
  const scenario = join(project, 'scenario.json');
  await writeFile(scenario, JSON.stringify({ ...DEFAULT_SCENARIO, replicates: 1, years: 0.5, fleet: { ...DEFAULT_SCENARIO.fleet, hosts: 4 } }));
  const lean = await sh('npx', ['--no-install', 'mfrsim', 'study', scenario]);
  assert.is.not(lean.code, 0);
  assert.ok(/needs the optional package "piscina", which is not installed: npm install piscina/.test(lean.stderr), lean.stderr);

  const more = await sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', 'piscina', 'vega', 'vega-lite']);
  assert.is(more.code, 0, more.stderr);
  const full = await sh('npx', ['--no-install', 'mfrsim', 'study', scenario, '--workers', '2', '--html', 'report.html']);
  assert.is(full.code, 0, full.stderr);
  assert.is((await readFile(join(project, 'report.html'), 'utf8')).split('<svg').length - 1, 5, 'the report with its five charts');
});

test.run();
