// The translation cost model: hand-checkable TLB behaviour on tiny traces, and the
// MemCycler anchor (a 2 MiB-backed guest with 5% and 25% of memory split to 4 KiB).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FleetShard, REPLAY_BATCH } from '../src/fleet/shard.js';
import { throughputLoss, translationFigures, type TlbConfig } from '../src/costs/translation.js';

const H = 2 ** 21;

/** One VM of `pages` 2 MiB hugepages (HGM host) that accesses the given hugepage numbers. */
function replay(pages: number, hugepages: number[], config: TlbConfig, split: number[] = []) {
  const shard = FleetShard.create([{ hugepages: { '2M': pages }, hgm: true, vms: [{ memory: pages * H, hugepage: '2M', policy: 'default' }] }]);
  const vm = shard.vms[0]!;
  // A scrub UE in a hugepage splits its mapping down to 4 KiB PTEs.
  shard.injectScrubUEs(0, split.map((hp) => shard.physOf(vm, hp * H)! + 4096));
  shard.enableTranslationModel(config);
  const cols = shard.accessColumns();
  hugepages.forEach((hp, i) => {
    cols.proc[i] = vm.proc;
    cols.va[i] = vm.base + hp * H + 8192;
    cols.write[i] = 0;
  });
  shard.replayAccesses(hugepages.length);
  return shard.hostStats(0).translation;
}

const tiny: TlbConfig = { l1Entries2M: 2, l1Entries4K: 2, l1Associativity: 0, l2Entries: 0, l2Entries1G: 0, pageWalkCache: false, cyclesPerWalkRef: 25 };

test('a 2-entry fully associative L1 with LRU: hits, misses and 3-reference walks', () => {
  const t = replay(4, [0, 1, 0, 2, 0, 1], tiny);
  // 0 miss, 1 miss, 0 hit, 2 miss (evicts 1), 0 hit, 1 miss (evicts 2).
  assert.equal(t, { accesses: 6, l1Misses: 4, walks: 4, walkRefs: 12, walkCycles: 300 });
});

test('an L2 catches what the L1 evicts', () => {
  const t = replay(4, [0, 1, 2, 0, 1, 2], { ...tiny, l2Entries: 16 });
  assert.is(t.l1Misses, 6, 'three pages cycle through two L1 entries');
  assert.is(t.walks, 3, 'the L2 holds all three after their first walk');
});

test('a page-walk cache leaves one reference per walk under a cached PUD entry', () => {
  const t = replay(4, [0, 1, 2, 3], { ...tiny, pageWalkCache: true });
  assert.is(t.walkRefs, 3 + 1 + 1 + 1);
});

test('nested paging: (g + 1) x (n + 1) - 1 references per walk', () => {
  const t = replay(4, [0, 1], { ...tiny, nestedLevels: 4 });
  assert.is(t.walkRefs, 2 * ((3 + 1) * (4 + 1) - 1));
});

test('a split 2 MiB region translates with 4 KiB leaves: 4-reference walks and 4 KiB entries', () => {
  const t = replay(4, [1, 1, 1], tiny, [1]);
  assert.equal({ misses: t.l1Misses, refs: t.walkRefs }, { misses: 1, refs: 4 }, 'one 4 KiB page, walked once');
  const spread = replay(4, [2], tiny, [2]);
  assert.is(spread.walkRefs, 4);
});

test('translation figures: walks per thousand accesses and the walk share of cycles', () => {
  const f = translationFigures({ accesses: 1000, l1Misses: 100, walks: 50, walkRefs: 150, walkCycles: 3750 }, 200);
  assert.is(f.walksPerKiloAccess, 50);
  assert.is(f.walkCyclesPerAccess, 3.75);
  assert.ok(Math.abs(f.walkShare - 3750 / 203750) < 1e-12);
});

test('MemCycler anchor: 5% and 25% of a 2 MiB guest split to 4 KiB cost -1.20% and -5.06%, within 2x', () => {
  const pages = 32768; // a 64 GiB guest
  const run = (fraction: number) => {
    const shard = FleetShard.create([{ hugepages: { '2M': pages }, hgm: true, vms: [{ memory: pages * H, hugepage: '2M', policy: 'default' }] }]);
    const vm = shard.vms[0]!;
    let s = 7;
    const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    const split: number[] = [];
    for (let i = 0; i < pages; i++) if (rnd() < fraction) split.push(shard.physOf(vm, i * H)! + 4096);
    shard.injectScrubUEs(0, split);
    const config = shard.enableTranslationModel({ nestedLevels: 4 });
    const cols = shard.accessColumns();
    for (let r = 0; r < 8; r++) {
      for (let i = 0; i < REPLAY_BATCH; i++) {
        cols.proc[i] = vm.proc;
        cols.va[i] = vm.base + Math.floor((rnd() * vm.size) / 64) * 64;
        cols.write[i] = 0;
      }
      shard.replayAccesses(REPLAY_BATCH);
    }
    return { stats: shard.hostStats(0).translation, cyclesPerAccess: config.cyclesPerAccess };
  };
  const base = run(0);
  for (const [fraction, measured] of [[0.05, 0.012], [0.25, 0.0506]] as const) {
    const loss = throughputLoss(run(fraction).stats, base.stats, base.cyclesPerAccess);
    assert.ok(loss > measured / 2 && loss < measured * 2, `${fraction * 100}% split: predicted ${(loss * 100).toFixed(2)}%, measured ${measured * 100}%`);
  }
});

test.run();
