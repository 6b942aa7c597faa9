import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatBytes, formatCount, formatDuration, formatMeanCount, formatNumber, formatPercent } from '../src/format/units.js';

test('sizes are IEC binary units with thousands separators', () => {
  assert.is(formatBytes(0), '0 bytes');
  assert.is(formatBytes(1), '1 byte');
  assert.is(formatBytes(4096), '4 KiB');
  assert.is(formatBytes(6165626), '5.88 MiB');
  assert.is(formatBytes(153 * 2 ** 30), '153 GiB');
  assert.is(formatBytes(1.5 * 2 ** 30), '1.50 GiB');
  assert.is(formatBytes(2 ** 40 * 999), '999 TiB');
  assert.is(formatBytes(2 ** 50 * 1234), '1,234 PiB');
  assert.is(formatBytes(-4096), '-4 KiB');
});

test('counts, durations and shares', () => {
  assert.is(formatCount(1234567.4), '1,234,567');
  assert.is(formatDuration(850), '850 ns');
  assert.is(formatDuration(12_345), '12.3 us');
  assert.is(formatDuration(2.5e9), '2.50 s');
  assert.is(formatPercent(0.0123), '1.23%');
  assert.is(formatMeanCount(2.25), '2.3');
  assert.is(formatMeanCount(1), '1');
  assert.is(formatMeanCount(10119.4), '10,119');
  assert.is(formatNumber(31060.14), '31,060.1');
  assert.is(formatNumber(2.5, 2), '2.50');
});

test.run();
