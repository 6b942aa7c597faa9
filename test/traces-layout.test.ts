import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeTrace } from '../src/traces/binary.js';
import { LayoutError, loadLayout, parseLayout, touchedLayout } from '../src/traces/layout.js';
import { openTrace } from '../src/traces/open.js';
import { tempDir, writeFile } from './traces-fixtures.js';

const dir = tempDir();
const MiB = 1 << 20;
const GiB = 1 << 30;

test('touchedLayout backs the touched hugepages, merging runs closer than the gap', async () => {
  // Code at 4 MiB, a heap 6 hugepages above it, a stack far away: two regions.
  const path = writeFile(dir, 't.lackey', 'I  400000,4\n L 1000010,8\n S 1000018,8\n L 7ffe0010,8\n');
  const layout = await touchedLayout(await openTrace(path));
  assert.equal(layout.regions, [
    { name: 'trace-0', start: 4 * MiB, length: 7 * 2 * MiB, hugepageSize: '2M', policy: 'default', sharing: 'shared' },
    { name: 'trace-1', start: 0x7fe00000, length: 2 * MiB, hugepageSize: '2M', policy: 'default', sharing: 'shared' },
  ]);
  const tight = await touchedLayout(await openTrace(path), { gap: 1, hugepageSize: '2M' });
  assert.is(tight.regions.length, 3);
  const gig = await touchedLayout(await openTrace(path), { hugepageSize: '1G', policy: 'keep', sharing: 'private' });
  assert.equal(gig.regions, [{ name: 'trace-0', start: 0, length: 2 * GiB, hugepageSize: '1G', policy: 'keep', sharing: 'private' }]);
  const empty = `${dir}/empty.mfr`;
  await writeTrace(empty, [], { physical: false, columns: (await openTrace(path)).columns });
  assert.equal(await touchedLayout(await openTrace(empty)), { regions: [] });
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
  ['unknown key', { regions: [{ start: 0, length: '2M', hugepageSize: '2M', polcy: 'keep' }] }, 'regions[0].polcy', /unknown key/],
  ['unknown top-level key', { regions: [{ start: 0, length: '2M', hugepageSize: '2M' }], regoins: [] }, 'regoins', /unknown key/],
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

test.run();
