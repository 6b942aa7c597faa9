// The generator's calibration against the published field figures of its profiles, on a
// large simulated fleet (30,000 hosts x 1 year: a second or two of counting per profile).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { computeCalibration, formatCalibration, type CalibrationReport } from '../src/errors/calibration.js';
import { parseGeneratorConfig } from '../src/errors/config.js';
import { FIT_MODE_SHARES } from '../src/errors/fit.js';
import { calibrate, tallyFleet } from '../src/errors/generator.js';
import { DEFAULT_PROFILE, ERROR_PROFILES } from '../src/errors/profiles.js';

const FLEET = { hosts: 30000, years: 1, seed: 2024 };

function outOfRange(r: CalibrationReport): string[] {
  return r.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.measured} not in [${c.target.join(', ')}] (${c.source})`);
}

test('the default profile reproduces every published figure it cites', () => {
  const r = calibrate(FLEET);
  console.log(formatCalibration(r));
  assert.is(r.profile, DEFAULT_PROFILE);
  // Every check of the profile applies to a chipkill DRAM-model stream, each with its source and range.
  assert.is(r.checks.length, ERROR_PROFILES[DEFAULT_PROFILE].checks.length);
  for (const c of r.checks) {
    assert.ok(c.name && c.source.length > 20 && c.target[0] <= c.target[1] && Number.isFinite(c.measured), c.name);
  }
  assert.equal(outOfRange(r), []);
  const byName = (name: string) => r.checks.find((c) => c.name === name)!.measured;
  // The published values themselves, not merely the bands: >8% of DIMMs, about a third of machines, 1.3%.
  assert.ok(Math.abs(byName('DIMMs with a CE per year') - 0.085) < 0.005);
  assert.ok(Math.abs(byName('machines with a CE per year') - 1 / 3) < 0.03);
  assert.ok(Math.abs(byName('machines with a UE per year') - 0.013) < 0.002);
  // UEs mostly follow CEs from faults already present, as field studies report.
  assert.ok(r.figures.ueHostsWithEarlierCe! > 0.83);
});

test('jaguar-ddr2 keeps the SC12 FIT table and checks only its fault modes', () => {
  const r = calibrate({ ...FLEET, profile: 'jaguar-ddr2' });
  assert.equal(outOfRange(r), []);
  assert.ok(r.checks.every((c) => c.source.includes('SC 2012')));
  assert.is(r.checks.length, FIT_MODE_SHARES.length + 1);
  assert.ok(r.figures.hostsWithUePerYear < 0.01, 'the DDR2 table alone gives fewer UEs than the fleet-wide figures');
});

test('the incident shortcut is checked against the UE rate of its profile only', () => {
  const r = calibrate({ mode: 'incident', hosts: 10000, years: 1, seed: 3 });
  assert.equal(r.checks.map((c) => c.name), ['machines with a UE per year']);
  assert.equal(outOfRange(r), []);
  const weights = [0.55, 0.2, 0.2, 0.05];
  r.figures.incidentClasses!.forEach((c, i) => assert.ok(Math.abs(c.share - weights[i]!) < 0.05, `${c.class} ${c.share}`));
  assert.is(r.figures.dimmsWithCePerYear, null);
  assert.is(r.errors.ce, 0);
});

test('what the user gives wins over the profile; the rest of the profile stays', () => {
  const c = parseGeneratorConfig({ dram: { fitScale: 1 } });
  assert.is(c.dram.fitScale, 1);
  assert.is(c.dram.hostFrailtyShape, ERROR_PROFILES['datacenter-2009'].params.dram!.hostFrailtyShape);
  assert.is(parseGeneratorConfig({ profile: 'jaguar-ddr2' }).dram.hostFrailtyShape, null);
  for (const bad of ['ddr9', 'toString', 7]) assert.throws(() => parseGeneratorConfig({ profile: bad } as never), /profile/);
});

test('weakened ECC turns a share of multi-pin single-device faults into UEs', () => {
  const small = { hosts: 5000, years: 1, seed: 5 };
  const full = calibrate(small);
  const weak = calibrate({ ...small, dram: { weakenedEccShare: 1 } });
  assert.is(full.figures.weakEccFaults, 0);
  assert.ok(weak.figures.weakEccFaults > 50, `${weak.figures.weakEccFaults} weakened-ECC faults`);
  assert.ok(weak.figures.hostsWithUePerYear > 2 * full.figures.hostsWithUePerYear, `${weak.figures.hostsWithUePerYear} vs ${full.figures.hostsWithUePerYear}`);
  const half = calibrate({ ...small, dram: { weakenedEccShare: 0.5 } });
  const ratio = half.figures.weakEccFaults / weak.figures.weakEccFaults;
  assert.ok(ratio > 0.4 && ratio < 0.6, `half the share, about half the faults (${ratio})`);
});

test('the multi-bit fault share re-weights the fault modes', () => {
  const r = calibrate({ hosts: 5000, years: 1, seed: 6, dram: { multiBitShare: 0.3 } });
  const bit = r.figures.faultModes!.find((m) => m.mode === 'bit')!.share;
  assert.ok(Math.abs(bit - 0.7) < 0.03, `bit faults ${bit}`);
  assert.ok(r.checks.some((c) => c.name.startsWith('bit faults') && !c.ok), 'the SC12 mode check notices');
});

test('SECDED fleets see more UEs than chipkill fleets', () => {
  const small = { hosts: 5000, years: 1, seed: 5 };
  const chipkill = calibrate(small).figures.hostsWithUePerYear;
  const secded = calibrate({ ...small, topology: { ecc: 'secded' } }).figures.hostsWithUePerYear;
  assert.ok(secded > 2 * chipkill, `SECDED ${secded} vs chipkill ${chipkill}`);
});

test('tallies of consecutive host ranges merge into the whole fleet\'s', () => {
  const config = parseGeneratorConfig({ hosts: 600, years: 2, seed: 9 });
  const whole = computeCalibration(tallyFleet(config), config);
  const merged = tallyFleet(config, { firstHost: 0, hostCount: 250 }).merge(tallyFleet(config, { firstHost: 250, hostCount: 350 }));
  assert.equal(computeCalibration(merged, config), whole);
  assert.throws(() => tallyFleet(config, { firstHost: 0, hostCount: 100 }).merge(tallyFleet(config, { firstHost: 200, hostCount: 100 })), /consecutive/);
});

test.run();
