// Fault footprints through the DRAM -> physical mappings: how many pages one fault touches.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { parseGeneratorConfig } from '../src/errors/config.js';
import { overlapFaults, singleFaultUncorrectable } from '../src/errors/ecc.js';
import { makeFault, type Fault } from '../src/errors/faults.js';
import { MODE_BANK, MODE_BIT, MODE_ROW, MODE_WORD } from '../src/errors/fit.js';
import { footprintLines, forEachLine, sampleFootprint, type Footprint } from '../src/errors/footprint.js';
import { makeMapping, type DramMapping } from '../src/errors/mapping.js';
import { streamRng } from '../src/errors/rng.js';
import { BANKS, COLUMNS, LINES_PER_ROW, makeTopology, type Topology } from '../src/errors/topology.js';

const GiB = 2 ** 30;
const MiB2 = 2 ** 21;

function setup(overrides: object = {}): { t: Topology; m: DramMapping; config: ReturnType<typeof parseGeneratorConfig> } {
  const config = parseGeneratorConfig(overrides);
  const t = makeTopology(config.topology);
  return { t, m: makeMapping(config.mapping, t, config.physBase), config };
}

function addresses(fp: Footprint, dimm: number, m: DramMapping): number[] {
  const out: number[] = [];
  forEachLine(fp, (rank, bank, row, col) => out.push(m.physAddr(dimm, rank, bank, row, col)));
  return out;
}

test('a row fault stays inside one 2 MiB region and touches at most 32 pages (linear mapping)', () => {
  for (const interleave of [64, 256, 4096]) {
    const { t, m, config } = setup({ mapping: { channelInterleaveBytes: interleave } });
    const rng = streamRng(11, interleave);
    for (let i = 0; i < 300; i++) {
      const fp = sampleFootprint(rng, MODE_ROW, i % 2, t, config.dram);
      const addrs = addresses(fp, i % t.dimmsPerHost, m);
      assert.is(addrs.length, footprintLines(fp));
      assert.is(new Set(addrs.map((a) => Math.floor(a / MiB2))).size, 1, 'one 2 MiB region');
      const pages = new Set(addrs.map((a) => Math.floor(a / 4096))).size;
      assert.ok(pages >= 1 && pages <= 32, `${pages} pages`);
    }
  }
});

test('a bank fault spreads over every 1 GiB page of its socket (linear mapping)', () => {
  const { t, m, config } = setup();
  const rng = streamRng(12);
  for (let i = 0; i < 5; i++) {
    // Keep one column line so the enumeration stays small; the rows are what spread it.
    const fp = { ...sampleFootprint(rng, MODE_BANK, 0, t, config.dram), colMask: 0 };
    const dimm = i * 3;
    const gib = new Set(addresses(fp, dimm, m).map((a) => Math.floor(a / GiB)));
    assert.is(gib.size, t.socketBytes / GiB, `${gib.size} distinct 1 GiB pages`);
  }
});

test('bit and word faults hit one 4 KiB page', () => {
  const { t, m, config } = setup({ mapping: { kind: 'xor' } });
  const rng = streamRng(13);
  for (let i = 0; i < 100; i++) {
    for (const mode of [MODE_BIT, MODE_WORD]) {
      const fp = sampleFootprint(rng, mode, 1, t, config.dram);
      assert.is(footprintLines(fp), 1);
      assert.is(new Set(addresses(fp, 5, m).map((a) => Math.floor(a / 4096))).size, 1);
    }
  }
});

test('linear and XOR mappings are one-to-one onto the host range', () => {
  // A small host: 1 socket, 3 channels (not a power of two), 2 ranks, 256 rows: 2^20 * 3/4 lines.
  for (const kind of ['linear', 'xor'] as const) {
    for (const interleave of [64, 4096]) {
      const { t, m } = setup({
        topology: { sockets: 1, channelsPerSocket: 3, dimmsPerChannel: 1, ranksPerDimm: 2, dimmGiB: 1 / 16 },
        mapping: { kind, channelInterleaveBytes: interleave },
        physBase: 2 ** 32,
      });
      assert.is(t.rows, 256);
      const seen = new Uint8Array(t.hostBytes / 64);
      let n = 0;
      let bad = '';
      for (let dimm = 0; dimm < t.dimmsPerHost; dimm++)
        for (let rank = 0; rank < t.ranksPerDimm; rank++)
          for (let bank = 0; bank < BANKS; bank++)
            for (let row = 0; row < t.rows; row++)
              for (let line = 0; line < LINES_PER_ROW; line++) {
                const a = m.physAddr(dimm, rank, bank, row, line << 3);
                const i = (a - 2 ** 32) / 64;
                if (!(Number.isInteger(i) && i >= 0 && i < seen.length) || seen[i] === 1) bad ||= a.toString(16);
                else seen[i] = 1;
                n++;
              }
      assert.is(bad, '', `${kind}/${interleave}: address outside the host or mapped twice`);
      assert.is(n, seen.length);
    }
  }
});

test('every location of the default host maps inside [physBase, physBase + host memory)', () => {
  const { t, m, config } = setup({ mapping: { kind: 'xor' } });
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: t.dimmsPerHost - 1 }),
      fc.integer({ min: 0, max: t.ranksPerDimm - 1 }),
      fc.integer({ min: 0, max: BANKS - 1 }),
      fc.integer({ min: 0, max: t.rows - 1 }),
      fc.integer({ min: 0, max: COLUMNS - 1 }),
      (dimm, rank, bank, row, col) => {
        const a = m.physAddr(dimm, rank, bank, row, col);
        return a >= config.physBase && a < config.physBase + t.hostBytes && a % 8 === 0;
      },
    ),
  );
});

function fault(fp: Partial<Footprint>, device: number, onset: number, kind: Fault['kind'] = 'active'): Fault {
  return makeFault(
    { rank: 0, rankMask: 0, bank: 3, bankMask: 0, row: 100, rowMask: 0, col: 40, colMask: 0, dqMask: 1, ...fp },
    { id: -1, dimm: 0, device, cause: MODE_BIT, kind, q: 1, onset, uncorrectable: false, seed: 1 },
  );
}

test('chipkill: faults in two devices meeting in a codeword make a UE; one device never does', () => {
  const { t } = setup();
  const rng = streamRng(14);
  const row = fault({ colMask: 0x3f8 }, 2, 10); // a whole row of device 2
  const bit = fault({ col: 0x48 }, 7, 20); // one beat of device 7 in that row
  const born = overlapFaults(rng, [row, bit], t);
  assert.is(born.length, 1);
  assert.ok(born[0].uncorrectable);
  assert.is(born[0].onset, 20);
  assert.is(footprintLines(born[0]), 1);
  assert.is(overlapFaults(rng, [row, fault({ col: 0x48 }, 2, 20)], t).length, 0, 'same device: corrected');
  assert.is(overlapFaults(rng, [row, fault({ row: 101 }, 7, 20)], t).length, 0, 'different row: no overlap');
  assert.not.ok(singleFaultUncorrectable(fault({ dqMask: 0xf }, 1, 0), t));
});

test('SECDED: several DQ pins of one device, or a second bit in a word, are uncorrectable', () => {
  const { t } = setup({ topology: { ecc: 'secded' } });
  assert.is(t.devicesPerRank, 9);
  assert.ok(singleFaultUncorrectable(fault({ dqMask: 0b11 }, 1, 0), t));
  assert.not.ok(singleFaultUncorrectable(fault({ dqMask: 0b100 }, 1, 0), t));
  const rng = streamRng(15);
  assert.is(overlapFaults(rng, [fault({ dqMask: 1 }, 1, 0), fault({ dqMask: 2 }, 1, 5)], t).length, 1);
  assert.is(overlapFaults(rng, [fault({ dqMask: 1 }, 1, 0), fault({ dqMask: 1 }, 1, 5)], t).length, 0);
});

test('a transient landing on an older permanent fault is a one-off UE; the reverse order is not', () => {
  const { t } = setup();
  const rng = streamRng(16);
  const perm = fault({}, 1, 10);
  const trans = fault({}, 2, 20, 'transient');
  const born = overlapFaults(rng, [perm, trans], t);
  assert.is(born.length, 1);
  assert.is(born[0].kind, 'transient');
  assert.is(overlapFaults(rng, [fault({}, 2, 5, 'transient'), fault({}, 1, 10)], t).length, 0);
});

test.run();
