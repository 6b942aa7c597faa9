// Study scenarios: the embedded default and the examples are valid; bad scenarios are
// rejected with every problem named by its JSON path and reason.
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_SCENARIO } from '../src/study/default-scenario.js';
import { POLICY_NAMES } from '../src/study/policies.js';
import { loadScenario, parseScenario, ScenarioError, type ScenarioInput } from '../src/study/scenario.js';

const base = (): Record<string, any> => structuredClone(DEFAULT_SCENARIO) as Record<string, any>;

function problems(input: unknown): string[] {
  try {
    parseScenario(input, 'bad.json');
  } catch (err) {
    assert.instance(err, ScenarioError);
    assert.ok((err as Error).message.startsWith('bad.json: invalid scenario:'));
    return (err as ScenarioError).problems;
  }
  assert.unreachable('the scenario was accepted');
  return [];
}

test('the default scenario is valid and compares every policy', () => {
  const s = parseScenario(DEFAULT_SCENARIO);
  assert.equal(s.policies, [...POLICY_NAMES]);
  assert.is(s.fleet.pools['1G'], 120);
  assert.is(s.workloads.every((w) => w.hugepage === '1G'), true);
  assert.is(s.translation.nestedLevels, 4);
});

test('defaults are filled in', () => {
  const s = parseScenario({
    years: 1,
    fleet: { hosts: 2, pools: { '2M': 1024 } },
    workloads: [{ name: 'vm', vmsPerHost: 1, memoryGiB: 2, hugepage: '2M' }],
    errors: { generate: {} },
  } satisfies ScenarioInput);
  assert.is(s.seed, 1);
  assert.is(s.stepsPerYear, 12);
  assert.is(s.workloads[0]!.handlesSigbus, true);
  assert.is(s.workloads[0]!.access.workingSet, 0.25);
  assert.is(s.fleet.memory.dimmGiB, 32);
  assert.is(s.errors.generate!.mode, 'dram');
  assert.is(s.releaseAtEnd, true);
});

test('every example scenario is valid', async () => {
  const dir = new URL('../examples/', import.meta.url);
  const files = (await readdir(dir)).filter((f) => f.startsWith('study-') && f.endsWith('.json'));
  assert.ok(files.length >= 2);
  for (const f of files) await loadScenario(new URL(f, dir).pathname);
});

test('type errors and unknown keys name their JSON path', () => {
  const s = base();
  s.fleet.hostz = 3;
  s.workloads[1].memoryGiB = 'a lot';
  s.workloads[0].access.hotShare = 2;
  assert.equal(problems(s), [
    'fleet: Unrecognized key: "hostz"',
    'workloads[0].access.hotShare: Too big: expected number to be <=1',
    'workloads[1].memoryGiB: Invalid input: expected number, received string',
  ]);
});

test('missing sections are reported as required', () => {
  assert.equal(problems({ years: 3 }), ['fleet: required (object)', 'workloads: required (array)', 'errors: required (object)']);
});

test('VMs must fit the pools and the pools the DRAM', () => {
  const s = base();
  s.workloads[0].vmsPerHost = 10;
  assert.equal(problems(s), ['workloads: the VMs need 336 1G hugepages per host but fleet.pools.1G is 120']);
  const t = base();
  t.fleet.pools['1G'] = 200;
  t.workloads[0].memoryGiB = 1.5;
  assert.equal(problems(t), [
    'fleet.pools: the pools need 200 GiB but a host has 128 GiB of DRAM',
    'workloads[0].memoryGiB: must be a multiple of the hugepage size (1G)',
  ]);
});

test('the DRAM shape must be one the error generator can model', () => {
  const s = base();
  s.fleet.memory.dimmGiB = 12;
  const [p] = problems(s);
  assert.match(p!, /^fleet\.memory\.dimmGiB: 12 GiB DIMMs with 2 ranks give 49152 rows per bank/);
});

test('policies must be known and listed once', () => {
  const s = base();
  s.policies = ['default', 'thb'];
  assert.equal(problems(s), ['policies[1]: Invalid option: expected one of "default"|"keep"|"hgm"|"thp"']);
  s.policies = ['keep', 'default', 'keep'];
  assert.equal(problems(s), ['policies[2]: "keep" is listed twice']);
});

test('the error stream is generated or read from a file, not both', () => {
  const s = base();
  s.errors = { generate: {}, file: 'fleet.mfrerr' };
  assert.equal(problems(s), ['errors: give exactly one of "generate" (generator settings) or "file" (an mfrsim error stream)']);
  s.errors = { generate: { mode: 'dramm', incident: { perHostYear: -1 } } };
  assert.equal(problems(s), [
    'errors.generate.mode: Invalid option: expected one of "dram"|"incident"',
    'errors.generate.incident.perHostYear: Too small: expected number to be >=0',
  ]);
  s.errors = { generate: { seed: 3 } };
  assert.equal(problems(s), ['errors.generate: Unrecognized key: "seed"']);
});

test('a scenario file: bad JSON names the file; a stream path is relative to it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mfrsim-study-'));
  const broken = join(dir, 'broken.json');
  await writeFile(broken, '{ "years": 3,');
  try {
    await loadScenario(broken);
    assert.unreachable();
  } catch (err) {
    assert.instance(err, ScenarioError);
    assert.match((err as Error).message, new RegExp(`^${broken}: invalid scenario:\\n  \\(file\\): `));
  }
  const s = base();
  s.replicates = 1; // a stream file is one draw
  s.errors = { file: 'streams/fleet.mfrerr' };
  const good = join(dir, 'good.json');
  await writeFile(good, JSON.stringify(s));
  assert.is((await loadScenario(good)).errors.file, join(dir, 'streams/fleet.mfrerr'));
});

test.run();
