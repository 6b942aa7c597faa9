// `mfrsim errors gen` and `mfrsim errors import`, run in-process.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { registerErrorsCommand } from '../src/cli/commands/errors.js';
import { readErrorStream, readErrorStreamHeader, STREAM_GENERATED, STREAM_WALL_CLOCK } from '../src/errors/format.js';

const dir = mkdtempSync(join(tmpdir(), 'mfrsim-errors-cli-'));
const path = (name: string) => join(dir, name);

/** Runs `mfrsim errors ...` and returns what it printed on stdout. */
async function mfrsim(...args: string[]): Promise<string> {
  const program = new Command().name('mfrsim').exitOverride();
  program.configureOutput({ writeErr: () => {}, writeOut: () => {} });
  registerErrorsCommand(program);
  const printed: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    printed.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  try {
    await program.parseAsync(['node', 'mfrsim', 'errors', ...args]);
  } finally {
    process.stdout.write = write;
  }
  return printed.join('');
}

async function rejection(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (err) {
    return (err as Error).message;
  }
  return 'no error';
}

async function countRecords(file: string): Promise<number> {
  let n = 0;
  for await (const b of readErrorStream(file)) n += b.length;
  return n;
}

test('gen writes a stream, prints the calibration report and puts it in the JSON', async () => {
  const out = path('gen.bin');
  const json = path('gen.json');
  const printed = await mfrsim('gen', '--hosts', '40', '--years', '1', '--seed', '3', '--out', out, '--json', json, '--dimms-per-host', '8', '--mapping', 'xor');
  assert.match(printed, /calibration \(dram model, profile datacenter-2009, 40 hosts x 1 years, 320 DIMM-years\)/);
  assert.match(printed, /DIMMs with a CE per year/);
  const summary = JSON.parse(readFileSync(json, 'utf8'));
  assert.is(summary.config.topology.dimmsPerChannel, 1);
  assert.is(summary.config.mapping.kind, 'xor');
  assert.is(summary.config.profile, 'datacenter-2009');
  assert.ok(summary.calibration.figures.dimmsWithCePerYear >= 0);
  const header = await readErrorStreamHeader(out);
  assert.equal([header.flags, header.hostCount, header.seed, header.physBase], [STREAM_GENERATED, 40, 3, 2 ** 32]);
  assert.is(await countRecords(out), summary.records);
  assert.is(summary.records, summary.calibration.errors.total);
});

test('gen without --out only reports; incident mode and parameter files work', async () => {
  const params = path('params.json');
  writeFileSync(params, JSON.stringify({ incident: { perHostYear: 0.5 } }));
  const printed = await mfrsim('gen', '--mode', 'incident', '--hosts', '200', '--params', params);
  assert.match(printed, /no --out: records not written/);
  assert.match(printed, /calibration \(incident model, profile datacenter-2009, 200 hosts/);
  assert.match(printed, /incident classes: page/);
});

test('gen --json - carries the calibration checks: name, source, target range, measured value', async () => {
  const printed = await mfrsim('gen', '--hosts', '3000', '--years', '1', '--json', '-');
  const { config, calibration } = JSON.parse(printed);
  assert.is(calibration.profile, config.profile);
  assert.ok(calibration.checks.length >= 6);
  for (const c of calibration.checks) {
    assert.equal(Object.keys(c).sort(), ['measured', 'name', 'ok', 'source', 'target']);
    assert.is(c.target.length, 2);
  }
  assert.ok(calibration.checks.some((c: { source: string }) => c.source.includes('SIGMETRICS 2009')));
});

test('gen --profile and --weakened-ecc choose the rates', async () => {
  const json = JSON.parse(await mfrsim('gen', '--hosts', '500', '--profile', 'jaguar-ddr2', '--weakened-ecc', '0.5', '--json', '-'));
  assert.is(json.config.profile, 'jaguar-ddr2');
  assert.is(json.config.dram.weakenedEccShare, 0.5);
  assert.is(json.config.dram.hostFrailtyShape, null);
  assert.ok(json.calibration.checks.every((c: { source: string }) => c.source.includes('SC 2012')));
  assert.match(await rejection(() => mfrsim('gen', '--profile', 'ddr9')), /Allowed choices are datacenter-2009, jaguar-ddr2/);
  assert.match(await rejection(() => mfrsim('gen', '--weakened-ecc', '2')), /from 0 to 1/);
});

test('gen explains bad topologies and parameters', async () => {
  assert.match(await rejection(() => mfrsim('gen', '--dimms-per-host', '12')), /--dimms-per-host 12 is not a multiple of sockets x channels \(2 x 4\)/);
  const params = path('bad.json');
  writeFileSync(params, JSON.stringify({ dram: { frailtySigma: -1 } }));
  assert.match(await rejection(() => mfrsim('gen', '--params', params)), /dram\.frailtySigma/);
  assert.match(await rejection(() => mfrsim('gen', '--hosts', 'many')), /must be an integer from 1 to 10,000,000/);
});

const KMSG = `[  10.0] mce: Uncorrected hardware memory error in user-access at 3710b3400
[  10.1] Memory failure: 0x3710b3: recovery action for huge page: Recovered
[  20.0] mce: Uncorrected hardware memory error in user-access at nowhere
[  30.0] EDAC MC0: 1 CE memory read error on DIMM_A1 (channel:0 slot:0 page:0x42 offset:0x80 grain:32)
`;

test('import converts a log; malformed records stop it with file and line, or are skipped', async () => {
  const log = path('kern.log');
  writeFileSync(log, KMSG);
  const out = path('kern.bin');
  assert.is(await rejection(() => mfrsim('import', log, '--out', path('x.bin'))), `${log}: line 3: an "mce: Uncorrected hardware memory error" line without a hex physical address at its end`);
  const printed = await mfrsim('import', log, '--skip-bad', '--out', out);
  // The summary wraps to the terminal's width.
  assert.match(printed.replace(/\s+/g, ' '), /\(kmsg\): 2 records -> .*kern\.bin; 1 malformed skipped \(first: line 3: /);
  assert.is(await countRecords(out), 2);
  const header = await readErrorStreamHeader(out);
  assert.equal([header.recordCount, header.flags & STREAM_WALL_CLOCK, header.spanSeconds], [2, 0, 20]);
});

test('import maps SmartMem coordinates with the chosen topology', async () => {
  const csv = path('sm.csv');
  writeFileSync(csv, 'sid,cpuid,channelid,dimmid,rankid,bankid,rowid,columnid,log_time\nA,0,0,0,0,1,2,3,1700000000\nB,0,0,0,0,1,2,3,1700000001\n');
  const out = path('sm.bin');
  const json = path('sm.json');
  await mfrsim('import', csv, '--format', 'smartmem', '--out', out, '--json', json, '--dimms-per-host', '8');
  const summary = JSON.parse(readFileSync(json, 'utf8'));
  assert.equal([summary.format, summary.records, summary.stats.hostCount], ['smartmem', 2, 2]);
  assert.is((await readErrorStreamHeader(out)).hostCount, 2);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
