// Fault footprints in DRAM coordinates: each field is a value plus a wildcard mask (as in
// FaultSim); the footprint is every (rank, bank, row, column) whose fixed bits match.
// A partial extent ("a fraction of the rows", "<= 30% of a row's columns") is a random
// choice of wildcard bits: k wildcard bits cover 2^k rows or columns.
import type { DramModelConfig } from './config.js';
import {
  MODE_BANK,
  MODE_BIT,
  MODE_COLUMN,
  MODE_MULTI_BANK,
  MODE_MULTI_RANK,
  MODE_ROW,
  MODE_WORD,
  type FaultMode,
} from './fit.js';
import { popcount, randomBits, randomSubmask, uniformInt, type Rng } from './rng.js';
import { BANK_BITS, BANKS, BURST_BITS, COLUMN_BITS, COLUMNS, type Topology } from './topology.js';

export interface Footprint {
  rank: number;
  rankMask: number;
  bank: number;
  bankMask: number;
  row: number;
  rowMask: number;
  /** Column including the burst beat (the low BURST_BITS bits). */
  col: number;
  colMask: number;
  /** DQ pins of the device that read wrong (one beat of the device's data). */
  dqMask: number;
}

const BURST_MASK = (1 << BURST_BITS) - 1;
const ALL_BANKS = BANKS - 1;
const ALL_COLUMNS = COLUMNS - 1;

function bitsIn(rng: Rng, [lo, hi]: readonly [number, number], max: number): number {
  const a = Math.min(lo, max);
  const b = Math.min(hi, max);
  return a + uniformInt(rng, b - a + 1);
}

/** Samples the footprint of a fault of `mode` on one device of a rank (or all ranks). */
export function sampleFootprint(rng: Rng, mode: FaultMode, rank: number, t: Topology, p: DramModelConfig): Footprint {
  const allRows = t.rows - 1;
  const fp: Footprint = {
    rank,
    rankMask: 0,
    bank: uniformInt(rng, BANKS),
    bankMask: 0,
    row: randomBits(rng, allRows),
    rowMask: 0,
    col: randomBits(rng, ALL_COLUMNS),
    colMask: 0,
    dqMask: 0,
  };
  const allDq = (1 << t.dqPerDevice) - 1;
  const partialColumns = () => randomSubmask(rng, ALL_COLUMNS, bitsIn(rng, p.faultColumnBits, COLUMN_BITS));
  switch (mode) {
    case MODE_BIT:
      break;
    case MODE_WORD:
      fp.dqMask = allDq;
      break;
    case MODE_COLUMN:
      fp.rowMask = randomSubmask(rng, allRows, bitsIn(rng, p.columnFaultRowBits, t.rowBits));
      break;
    case MODE_ROW:
      fp.colMask = partialColumns();
      break;
    case MODE_BANK:
      fp.rowMask = allRows;
      fp.colMask = partialColumns();
      break;
    case MODE_MULTI_BANK:
      fp.bankMask = randomSubmask(rng, ALL_BANKS, 1 + uniformInt(rng, BANK_BITS));
      fp.rowMask = allRows;
      fp.colMask = partialColumns();
      break;
    case MODE_MULTI_RANK:
      fp.rankMask = t.ranksPerDimm - 1;
      fp.bankMask = randomSubmask(rng, ALL_BANKS, uniformInt(rng, BANK_BITS + 1));
      fp.rowMask = allRows;
      fp.colMask = partialColumns();
      break;
    default:
      throw new Error(`unknown fault mode ${mode}`);
  }
  if (fp.dqMask === 0) {
    const multiPin = mode !== MODE_BIT && rng.next() >>> 0 < p.multiPinShare * 2 ** 32;
    fp.dqMask = multiPin
      ? randomSubmask(rng, allDq, 2 + uniformInt(rng, t.dqPerDevice - 1))
      : 1 << uniformInt(rng, t.dqPerDevice);
  }
  clearWildcardBits(fp);
  return fp;
}

/** A channel event's poisoned lines on one DIMM: 2^k lines of one rank row. */
export function sampleChannelEventFootprint(rng: Rng, t: Topology, lines: number): Footprint {
  const lineBits = Math.min(COLUMN_BITS - BURST_BITS, Math.max(0, Math.round(Math.log2(lines))));
  const fp: Footprint = {
    rank: uniformInt(rng, t.ranksPerDimm),
    rankMask: 0,
    bank: uniformInt(rng, BANKS),
    bankMask: 0,
    row: randomBits(rng, t.rows - 1),
    rowMask: 0,
    col: randomBits(rng, ALL_COLUMNS),
    colMask: randomSubmask(rng, ALL_COLUMNS & ~BURST_MASK, lineBits),
    dqMask: 0,
  };
  clearWildcardBits(fp);
  return fp;
}

/**
 * A channel fault's part on one DIMM: one data lane (one DQ of one device position) of every
 * rank, bank and row, for 2^k of the columns.
 */
export function sampleChannelFaultFootprint(rng: Rng, t: Topology, lane: number, columnBits: readonly [number, number]): Footprint {
  const fp: Footprint = {
    rank: 0,
    rankMask: t.ranksPerDimm - 1,
    bank: 0,
    bankMask: ALL_BANKS,
    row: 0,
    rowMask: t.rows - 1,
    col: randomBits(rng, ALL_COLUMNS),
    colMask: randomSubmask(rng, ALL_COLUMNS, bitsIn(rng, columnBits, COLUMN_BITS)),
    dqMask: 1 << lane,
  };
  clearWildcardBits(fp);
  return fp;
}

function clearWildcardBits(fp: Footprint): void {
  fp.rank &= ~fp.rankMask;
  fp.bank &= ~fp.bankMask;
  fp.row &= ~fp.rowMask;
  fp.col &= ~fp.colMask;
}

/** Distinct 64-byte lines the footprint covers (beats of one burst share a line). */
export function footprintLines(fp: Footprint): number {
  return 2 ** (popcount(fp.rankMask) + popcount(fp.bankMask) + popcount(fp.rowMask) + popcount(fp.colMask >> BURST_BITS));
}

function fieldsMeet(a: number, aMask: number, b: number, bMask: number): boolean {
  return ((a ^ b) & ~aMask & ~bMask) === 0;
}

/** The locations (down to the column beat) both footprints cover, or null. */
export function intersectFootprints(a: Footprint, b: Footprint): Footprint | null {
  if (
    !fieldsMeet(a.rank, a.rankMask, b.rank, b.rankMask) ||
    !fieldsMeet(a.bank, a.bankMask, b.bank, b.bankMask) ||
    !fieldsMeet(a.row, a.rowMask, b.row, b.rowMask) ||
    !fieldsMeet(a.col, a.colMask, b.col, b.colMask)
  ) {
    return null;
  }
  return {
    rank: a.rank | b.rank,
    rankMask: a.rankMask & b.rankMask,
    bank: a.bank | b.bank,
    bankMask: a.bankMask & b.bankMask,
    row: a.row | b.row,
    rowMask: a.rowMask & b.rowMask,
    col: a.col | b.col,
    colMask: a.colMask & b.colMask,
    dqMask: a.dqMask | b.dqMask,
  };
}

/** Calls `visit` for every line of the footprint (first beat of each); for tests and small footprints. */
export function forEachLine(fp: Footprint, visit: (rank: number, bank: number, row: number, col: number) => void): void {
  const lineColMask = fp.colMask & ~BURST_MASK;
  const col0 = fp.col & ~BURST_MASK;
  for (let r = fp.rankMask; ; r = (r - 1) & fp.rankMask) {
    for (let b = fp.bankMask; ; b = (b - 1) & fp.bankMask) {
      for (let w = fp.rowMask; ; w = (w - 1) & fp.rowMask) {
        for (let c = lineColMask; ; c = (c - 1) & lineColMask) {
          visit(fp.rank | r, fp.bank | b, fp.row | w, col0 | c);
          if (c === 0) break;
        }
        if (w === 0) break;
      }
      if (b === 0) break;
    }
    if (r === 0) break;
  }
}
