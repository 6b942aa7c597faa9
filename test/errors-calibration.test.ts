// The generator's calibration against the field facts of spec §2.3, on a large simulated fleet.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { computeCalibration, formatCalibration } from '../src/errors/calibration.js';
import { FIT_MODE_SHARES, FIT_PERMANENT_SHARE } from '../src/errors/fit.js';
import { calibrate, tallyFleet } from '../src/errors/generator.js';

// 30,000 hosts x 16 DIMMs x 1 year = 480,000 DIMM-years: about a second of counting.
const FLEET = { hosts: 30000, years: 1, seed: 2024 };

test('default DRAM model lands in the field ranges', () => {
  const r = calibrate(FLEET);
  const text = formatCalibration(r);
  assert.ok(text.includes('DIMMs with a CE per year'));
  console.log(text);

  const ce = r.dimmsWithCePerYear.value!;
  assert.ok(ce >= 0.02 && ce <= 0.08, `DIMMs with a CE per year ${ce}`);
  const ue = r.hostsWithUePerYear.value;
  assert.ok(ue >= 0.002 && ue <= 0.013, `hosts with a UE per year ${ue}`);
  // Meza et al.: mean ~55x median. A heavy tail: the ratio moves with the sample, so the band is wide.
  const ratio = r.errorsPerAffectedHostYear.meanOverMedian;
  assert.ok(ratio >= 20 && ratio <= 150, `mean/median errors per affected host-year ${ratio}`);
  // Schroeder et al.: the top 20% of DIMMs with errors give more than 94% of the errors.
  const top = r.top20DimmErrorShare.value!;
  assert.ok(top >= 0.9 && top <= 1, `top-20% DIMM share ${top}`);
  r.faultModes!.forEach((m, i) => {
    assert.ok(Math.abs(m.share - FIT_MODE_SHARES[i]) < 0.02, `${m.mode}: ${m.share} vs FIT ${FIT_MODE_SHARES[i]}`);
  });
  assert.ok(Math.abs(r.permanentShare!.value - FIT_PERMANENT_SHARE) < 0.02, `permanent share ${r.permanentShare!.value}`);
  assert.ok(r.channelEvents > 0 && r.overlapFaults > 0);
});

test('SECDED fleets see more UEs than chipkill fleets', () => {
  const small = { hosts: 5000, years: 1, seed: 5 };
  const chipkill = calibrate(small).hostsWithUePerYear.value;
  const secded = calibrate({ ...small, topology: { ecc: 'secded' } }).hostsWithUePerYear.value;
  assert.ok(secded > 2 * chipkill, `SECDED ${secded} vs chipkill ${chipkill}`);
});

test('the incident shortcut gives its configured UE rate and page mixture', () => {
  const r = calibrate({ mode: 'incident', hosts: 30000, years: 1, seed: 3 });
  const expected = 1 - Math.exp(-0.013);
  const ue = r.hostsWithUePerYear.value;
  assert.ok(Math.abs(ue - expected) < 0.2 * expected, `hosts with a UE per year ${ue}`);
  const weights = [0.55, 0.2, 0.2, 0.05];
  r.incidentClasses!.forEach((c, i) => assert.ok(Math.abs(c.share - weights[i]) < 0.05, `${c.class} ${c.share}`));
  assert.is(r.dimmsWithCePerYear.value, null);
  assert.is(r.errors.ce, 0);
});

test('tallies of consecutive host ranges merge into the whole fleet\'s', () => {
  const config = { hosts: 600, years: 2, seed: 9 };
  const whole = computeCalibration(tallyFleet(config), 'dram');
  const merged = tallyFleet(config, { firstHost: 0, hostCount: 250 }).merge(tallyFleet(config, { firstHost: 250, hostCount: 350 }));
  assert.equal(computeCalibration(merged, 'dram'), whole);
  assert.throws(() => tallyFleet(config, { firstHost: 0, hostCount: 100 }).merge(tallyFleet(config, { firstHost: 200, hostCount: 100 })), /consecutive/);
});

test.run();
