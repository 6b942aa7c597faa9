import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MAP_PRIVATE, MAP_SHARED, MFD_HUGE_1GB, MFD_HUGE_2MB, MFD_HUGETLB, MFD_MF_KEEP_UE_MAPPED } from '../src/constants.js';
import { writeTrace } from '../src/traces/binary.js';
import { LayoutError, defaultLayout, loadLayout, memfdFlags, mmapFlags, parseLayout, traceAddressRange } from '../src/traces/layout.js';
import { openTrace } from '../src/traces/open.js';
import { tempDir, writeFile } from './traces-fixtures.js';

const dir = tempDir();
const MiB = 1 << 20;
const GiB = 1 << 30;

test('defaultLayout rounds the touched range out to whole hugepages', () => {
  assert.equal(defaultLayout(0x7f0000100123, 0x7f00003fffff), {
    regions: [{ name: 'trace', start: 0x7f0000000000, length: 4 * MiB, hugepageSize: '2M', policy: 'default', sharing: 'shared' }],
  });
  const gig = defaultLayout(5 * GiB, 5 * GiB, { hugepageSize: '1G', policy: 'keep', sharing: 'private' });
  assert.equal(gig.regions[0], { name: 'trace', start: 5 * GiB, length: GiB, hugepageSize: '1G', policy: 'keep', sharing: 'private' });
  // The last byte of a page stays in that page; the first byte of the next needs another.
  assert.is(defaultLayout(0, 2 * MiB - 1).regions[0].length, 2 * MiB);
  assert.is(defaultLayout(0, 2 * MiB).regions[0].length, 4 * MiB);
  assert.throws(() => defaultLayout(10, 5), /invalid address range/);
});

test('a layout file: hex, decimal and suffixed sizes, defaults, sorted regions', async () => {
  const path = writeFile(dir, 'ok.json', JSON.stringify({
    regions: [
      { name: 'stack', start: '0x7ffe00000000', length: '64M', hugepageSize: '2M', sharing: 'private' },
      { start: 1073741824, length: '0x80000000', hugepageSize: '1G', policy: 'keep' },
    ],
  }));
  assert.equal(await loadLayout(path), {
    regions: [
      { name: 'region1', start: GiB, length: 2 * GiB, hugepageSize: '1G', policy: 'keep', sharing: 'shared' },
      { name: 'stack', start: 0x7ffe00000000, length: 64 * MiB, hugepageSize: '2M', policy: 'default', sharing: 'private' },
    ],
  });
});

const BAD_LAYOUTS: [string, unknown, string, RegExp][] = [
  ['no regions', { regions: [] }, 'regions', /needs at least one region/],
  ['unknown key', { regions: [{ start: 0, length: '2M', hugepageSize: '2M', polcy: 'keep' }] }, 'regions[0]', /polcy/],
  ['bad hugepage size', { regions: [{ start: 0, length: '2M', hugepageSize: '4K' }] }, 'regions[0].hugepageSize', /2M|1G/],
  ['bad policy', { regions: [{ start: 0, length: '2M', hugepageSize: '2M', policy: 'early' }] }, 'regions[0].policy', /keep|default/],
  ['unaligned start', { regions: [{ start: '0x1000', length: '2M', hugepageSize: '2M' }] }, 'regions[0].start', /multiple of the hugepage size \(2M\)/],
  ['zero length', { regions: [{ start: 0, length: 0, hugepageSize: '1G' }] }, 'regions[0].length', /positive multiple of the hugepage size \(1G\)/],
  ['not a size', { regions: [{ start: 'lots', length: '2M', hugepageSize: '2M' }] }, 'regions[0].start', /expected a byte count or address/],
  ['negative', { regions: [{ start: -2097152, length: '2M', hugepageSize: '2M' }] }, 'regions[0].start', /expected a byte count or address/],
  [
    'overlap',
    { regions: [{ start: '4M', length: '4M', hugepageSize: '2M' }, { start: '6M', length: '2M', hugepageSize: '2M' }] },
    'regions[1]',
    /overlaps regions\[0\]/,
  ],
];

for (const [name, document, path, reason] of BAD_LAYOUTS) {
  test(`layout error: ${name} (at ${path})`, () => {
    try {
      parseLayout(document, 'layout.json');
      assert.unreachable();
    } catch (err) {
      assert.instance(err, LayoutError);
      const e = err as LayoutError;
      assert.is(e.file, 'layout.json');
      assert.is(e.path, path);
      assert.match(e.reason, reason);
      assert.is(e.message, `layout.json: ${path}: ${e.reason}`);
    }
  });
}

test('loadLayout reports invalid JSON', async () => {
  const path = writeFile(dir, 'bad.json', '{ "regions": [ }');
  try {
    await loadLayout(path);
    assert.unreachable();
  } catch (err) {
    assert.instance(err, LayoutError);
    assert.match((err as Error).message, new RegExp(`^${path}: invalid JSON`));
  }
});

test('memfd and mmap flags of a region', () => {
  const [region] = defaultLayout(0, 1, { policy: 'keep' }).regions;
  assert.is(memfdFlags(region), MFD_HUGETLB | MFD_HUGE_2MB | MFD_MF_KEEP_UE_MAPPED);
  assert.is(mmapFlags(region), MAP_SHARED);
  const other = { ...region, hugepageSize: '1G' as const, policy: 'default' as const, sharing: 'private' as const };
  assert.is(memfdFlags(other), MFD_HUGETLB | MFD_HUGE_1GB);
  assert.is(mmapFlags(other), MAP_PRIVATE);
});

test('traceAddressRange: scanned from text, read from a binary header', async () => {
  const path = writeFile(dir, 'r.lackey', 'I  400000,4\n L 7ffe0010,8\n S 600000,8\n');
  const text = await openTrace(path);
  assert.equal(await traceAddressRange(text), { min: 0x400000, max: 0x7ffe0010 });
  const bin = `${path}.mfr`;
  await writeTrace(bin, text, { physical: false, columns: text.columns });
  assert.equal(await traceAddressRange(await openTrace(bin)), { min: 0x400000, max: 0x7ffe0010 });
  const empty = `${dir}/empty.mfr`;
  await writeTrace(empty, [], { physical: false, columns: text.columns });
  assert.is(await traceAddressRange(await openTrace(empty)), undefined);
});

test.run();
