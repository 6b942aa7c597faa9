// Random scenarios for differential testing: host options plus a sequence of operations.
// Operations are plain data with small indices ("the most recent fd of process 1"); they
// are resolved against what the first host returned, so both hosts get identical
// arguments. Besides single random operations, scenarios contain short purposeful
// sequences (create, size, map and touch a memfd; share it with another process; map and
// touch anonymous THP and poison its folios; map a memfd twice; poison one hugepage twice
// and release it) so that hugepages and THP folios are in use, mapped by several processes
// and VMAs, hit by errors, and released poisoned.
import fc from 'fast-check';
import {
  FALLOC_FL_KEEP_SIZE,
  FALLOC_FL_PUNCH_HOLE,
  MADV_HWPOISON,
  MADV_SOFT_OFFLINE,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_HUGE_1GB,
  MAP_HUGETLB,
  MAP_PRIVATE,
  MAP_SHARED,
  MFD_HUGE_1GB,
  MFD_HUGE_2MB,
  MFD_HUGETLB,
  MFD_MF_KEEP_UE_MAPPED,
  PROT_READ,
  PROT_WRITE,
} from '../../src/host/constants.js';
import type { HostOptions, HugepageSize, SpawnOptions } from '../../src/host/types.js';

const MiB = 1 << 20;
const GiB = 1 << 30;
const PAGE = 4096;
export const UNIT: Readonly<Record<HugepageSize, number>> = { '2M': 2 * MiB, '1G': GiB };

/**
 * `p`, `f`, `m`, `to` pick a process, fd or mapping: 0 is the most recent one, k the k-th
 * before it (modulo how many there are); BAD (7) asks for an fd that is not open.
 */
export const BAD = 7;

export type Op =
  | { op: 'spawn'; opts: Required<Pick<SpawnOptions, 'mceKill' | 'handlesSigbus' | 'capSysAdmin' | 'kvmGuest'>> }
  | { op: 'memfdCreate'; p: number; size: HugepageSize | 'none'; keep: boolean; extraFlags: number }
  | { op: 'ftruncate'; p: number; f: number; pages: number; extra: number }
  | { op: 'fallocate'; p: number; f: number; mode: number; off: number; len: number; offExtra: number; lenExtra: number }
  | {
      op: 'mmap';
      p: number;
      f: number;
      anon: boolean;
      /** With anon: no MAP_HUGETLB (MAP_PRIVATE: an anonymous THP mapping, laid out in 2 MiB units). */
      thp?: boolean;
      huge1G: boolean;
      type: number;
      prot: number;
      pages: number;
      shave: number;
      offPages: number;
      offExtra: number;
      place: 'any' | 'hint' | 'fixed' | 'fixed-taken';
      slot: number;
    }
  | { op: 'munmap'; p: number; m: number; offPages: number; pages: number; extra: number }
  | {
      op: 'read' | 'write';
      p: number;
      m: number;
      hugeIdx: number;
      off: number;
      len: number;
      /** From the KVM guest the process runs (EINVAL when it runs none). */
      guest?: boolean;
    }
  | { op: 'madvise'; p: number; m: number; hugeIdx: number; raw: number; misalign: boolean; len: number; advice: number }
  | { op: 'pread'; p: number; f: number; off: number; len: number }
  | { op: 'translate'; p: number; m: number; off: number }
  | {
      op: 'pageTableLeaf';
      p: number;
      m: number;
      /** mapped: inside (or just past) a mapping; unmapped: an address far from every mapping. */
      where: 'mapped' | 'unmapped';
      hugeIdx: number;
      /** 2 MiB region of a 1 GiB hugepage (ignored for 2 MiB mappings). */
      region: number;
      off: number;
    }
  | { op: 'sendFd'; p: number; f: number; to: number }
  | { op: 'close'; p: number; f: number }
  | { op: 'exit'; p: number }
  | {
      op: 'injectUE';
      /**
       * mapped: the page under a mapping (found with translate on the first host); pool: any
       * pool page; thp: any THP folio (by the physical layout; a pool page without THP memory).
       */
      where: 'mapped' | 'pool' | 'thp' | 'outside';
      p: number;
      m: number;
      hugeIdx: number;
      size: HugepageSize;
      frame: number;
      raw: number;
      byte: number;
      consumer: 'none' | 'self' | 'other';
    }
  | { op: 'sysctl'; name: 'vm.memory_failure_early_kill' | 'vm.memory_failure_recovery'; value: number | undefined };

export interface Scenario {
  host: HostOptions;
  ops: Op[];
}

const w = <T>(weight: number, arbitrary: fc.Arbitrary<T>) => ({ weight, arbitrary });
const constant = <T>(x: T) => fc.constant(x);

/** Mostly the most recent object, sometimes an older one. */
const pick = fc.oneof(w(6, constant(0)), w(3, fc.nat({ max: 5 })));
/** Like pick, sometimes asking for a bad fd. */
const pickFd = fc.oneof(w(6, constant(0)), w(3, fc.nat({ max: 5 })), w(1, constant(BAD)));
const proc = fc.nat({ max: 5 });
/** Raw page indices that collide often: first, second, one in the middle, last of 2 MiB. */
const rawIndex = fc.oneof(w(3, fc.constantFrom(0, 1, 5, 511)), w(1, fc.nat({ max: 1023 })));
/** Byte offsets inside a hugepage: page boundaries, raw pages that get poisoned, anything. */
const byteOffset = fc.oneof(
  w(3, fc.constantFrom(0, 1, PAGE - 1, PAGE, 5 * PAGE + 0x40, 511 * PAGE, 2 * MiB - 1)),
  w(1, fc.nat({ max: 2 * MiB })),
);
const byteLength = fc.oneof(
  w(4, fc.constantFrom(1, 0x10, PAGE, PAGE + 1, 2 * MiB, 4 * MiB)),
  w(1, fc.constantFrom(0, GiB, 2 * GiB)),
  w(2, fc.integer({ min: 1, max: 6 * MiB })),
);

const hostOptions: fc.Arbitrary<HostOptions> = fc.record({
  hugepages: fc.record({
    '2M': fc.oneof(w(9, fc.integer({ min: 2, max: 8 })), w(1, fc.nat({ max: 1 }))),
    '1G': fc.nat({ max: 2 }),
  }),
  policyCapable: fc.oneof(w(9, constant(true)), w(1, constant(false))),
  keepVersion: fc.constantFrom<'intended' | 'v3' | 'v4'>('intended', 'v3', 'v3', 'v4'),
  earlyKill: fc.boolean(),
  memoryFailureRecovery: fc.oneof(w(29, constant(true)), w(1, constant(false))),
  hgm: fc.oneof(w(2, constant(false)), w(1, constant(true))),
  thpPages: fc.oneof(w(1, constant(0)), w(2, fc.integer({ min: 1, max: 6 }))),
  thpSplitFailure: fc.oneof(w(3, fc.constantFrom(0, 0.5, 1)), w(1, constant(0.25))),
  // The split-failure draw mixes in all 32 bits of the seed.
  seed: fc.oneof(w(1, constant(0)), w(3, fc.integer({ min: 0, max: 0xffff_ffff }))),
});

const spawnOp: fc.Arbitrary<Op> = fc.record({
  op: constant('spawn' as const),
  opts: fc.record({
    mceKill: fc.constantFrom<'default' | 'early' | 'late'>('default', 'early', 'late'),
    handlesSigbus: fc.oneof(w(3, constant(true)), w(1, constant(false))),
    capSysAdmin: fc.oneof(w(9, constant(true)), w(1, constant(false))),
    kvmGuest: fc.oneof(w(1, constant(false)), w(1, constant(true))),
  }),
});

const memfdOp = fc.record({
  op: constant('memfdCreate' as const),
  p: proc,
  size: fc.constantFrom<HugepageSize | 'none'>('2M', '2M', '1G', 'none'),
  keep: fc.boolean(),
  // A second size field, or a size x86-64 has no hstate for (64 KiB, 16 MiB: ENODEV).
  extraFlags: fc.oneof(w(19, constant(0)), w(1, fc.constantFrom(0x40, MFD_HUGE_2MB, 16 << 26, 24 << 26))),
});

const mmapOp = fc.record({
  op: constant('mmap' as const),
  p: proc,
  f: pickFd,
  anon: fc.oneof(w(5, constant(false)), w(1, constant(true))),
  thp: fc.oneof(w(2, constant(false)), w(1, constant(true))),
  huge1G: fc.oneof(w(3, constant(false)), w(1, constant(true))),
  type: fc.oneof(w(12, constant(MAP_SHARED)), w(5, constant(MAP_PRIVATE)), w(1, fc.constantFrom(0, MAP_SHARED | MAP_PRIVATE))),
  prot: fc.oneof(w(16, constant(PROT_READ | PROT_WRITE)), w(3, fc.constantFrom(PROT_READ, PROT_WRITE, 0)), w(1, constant(4))),
  pages: fc.oneof(w(9, fc.integer({ min: 1, max: 3 })), w(1, constant(0))),
  shave: fc.constantFrom(0, 0, 0, 0, PAGE),
  offPages: fc.oneof(w(3, constant(0)), w(1, fc.nat({ max: 3 }))),
  offExtra: fc.oneof(w(19, constant(0)), w(1, constant(PAGE))),
  place: fc.oneof(w(12, constant('any' as const)), w(1, fc.constantFrom<'hint' | 'fixed' | 'fixed-taken'>('hint', 'fixed', 'fixed-taken'))),
  slot: fc.nat({ max: 3 }),
});

/** pread offsets: around hugepage boundaries (where a read reaches the next hugepage), or anywhere. */
const preadOffset = fc.oneof(w(2, fc.constantFrom(0, PAGE, 2 * MiB - PAGE, 2 * MiB - 1, 2 * MiB, 4 * MiB - 0x10)), w(1, fc.nat({ max: 6 * MiB })));

/** Which hugepage of a mapping an op aims at: mostly the first. */
const hugeIdx = fc.oneof(w(4, constant(0)), w(1, fc.nat({ max: 2 })));

const accessOp = fc.record({
  op: fc.constantFrom<'read' | 'write'>('read', 'write'),
  p: proc,
  m: pick,
  hugeIdx,
  off: byteOffset,
  len: fc.oneof(w(3, fc.constantFrom(1, 0x10, PAGE)), w(1, byteLength)),
  guest: fc.oneof(w(3, constant(false)), w(1, constant(true))),
});

const injectOp = fc.record({
  op: constant('injectUE' as const),
  where: fc.oneof(
    w(8, constant('mapped' as const)),
    w(4, constant('pool' as const)),
    w(2, constant('thp' as const)),
    w(1, constant('outside' as const)),
  ),
  p: proc,
  m: pick,
  hugeIdx,
  size: fc.constantFrom<HugepageSize>('2M', '2M', '1G'),
  frame: fc.nat({ max: 8 }),
  raw: rawIndex,
  byte: fc.constantFrom(0, 0x40, PAGE - 1),
  consumer: fc.oneof(w(4, constant('self' as const)), w(4, constant('none' as const)), w(1, constant('other' as const))),
});

const madviseOp = fc.record({
  op: constant('madvise' as const),
  p: proc,
  m: pick,
  hugeIdx,
  raw: rawIndex,
  misalign: fc.oneof(w(29, constant(false)), w(1, constant(true))),
  len: fc.oneof(w(8, constant(PAGE)), w(3, fc.constantFrom(2 * PAGE, 2 * MiB + PAGE, 4 * MiB)), w(1, constant(0))),
  advice: fc.oneof(w(29, constant(MADV_HWPOISON)), w(1, fc.constantFrom(MADV_SOFT_OFFLINE, 4))),
});

const singleOp: fc.Arbitrary<Op> = fc.oneof(
  w(2, memfdOp),
  w(3, fc.record({
    op: constant('ftruncate' as const),
    p: proc,
    f: pickFd,
    pages: fc.nat({ max: 4 }),
    extra: fc.oneof(w(9, constant(0)), w(1, constant(PAGE))),
  })),
  w(2, fc.record({
    op: constant('fallocate' as const),
    p: proc,
    f: pickFd,
    mode: fc.constantFrom(0, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, 0x8),
    off: fc.nat({ max: 4 }),
    len: fc.nat({ max: 3 }),
    offExtra: fc.constantFrom(0, 0, 0, 1, PAGE),
    lenExtra: fc.constantFrom(0, 0, 0, 1, PAGE),
  })),
  w(4, mmapOp),
  w(2, fc.record({
    op: constant('munmap' as const),
    p: proc,
    m: pick,
    offPages: fc.nat({ max: 2 }),
    pages: fc.nat({ max: 3 }),
    extra: fc.constantFrom(0, 0, 0, 0, 1, PAGE),
  })),
  w(10, accessOp),
  w(6, madviseOp),
  w(3, fc.record({ op: constant('pread' as const), p: proc, f: pickFd, off: preadOffset, len: byteLength })),
  w(2, fc.record({ op: constant('translate' as const), p: proc, m: pick, off: byteOffset })),
  w(3, fc.record({
    op: constant('pageTableLeaf' as const),
    p: proc,
    m: pick,
    where: fc.oneof(w(9, constant('mapped' as const)), w(1, constant('unmapped' as const))),
    hugeIdx,
    // The regions raw indices 0..1023 poison (0, 1) most often.
    region: fc.oneof(w(4, fc.constantFrom(0, 1)), w(1, fc.constantFrom(2, 511)), w(1, fc.nat({ max: 511 }))),
    off: byteOffset,
  })),
  w(3, fc.record({ op: constant('sendFd' as const), p: proc, f: pickFd, to: proc })),
  w(2, fc.record({ op: constant('close' as const), p: proc, f: pickFd })),
  w(1, fc.record({ op: constant('exit' as const), p: proc })),
  w(10, injectOp),
  w(1, fc.record({
    op: constant('sysctl' as const),
    name: fc.constantFrom<'vm.memory_failure_early_kill' | 'vm.memory_failure_recovery'>(
      'vm.memory_failure_early_kill',
      'vm.memory_failure_early_kill',
      'vm.memory_failure_recovery',
    ),
    value: fc.constantFrom(undefined, 0, 1, 1, 1, 2),
  })),
);

/** A process creates a memfd, sizes it, maps it and touches every hugepage. */
const guestSequence: fc.Arbitrary<Op[]> = fc
  .record({ create: memfdOp, pages: fc.integer({ min: 1, max: 3 }), map: mmapOp, touch: fc.constantFrom<'read' | 'write'>('write', 'write', 'read') })
  .map(({ create, pages, map, touch }) => {
    const p = create.p;
    return [
      create,
      { op: 'ftruncate', p, f: 0, pages, extra: 0 },
      { ...map, p, f: 0, anon: false, pages, offPages: 0, offExtra: 0, shave: 0, place: 'any' },
      { op: touch, p, m: 0, hugeIdx: 0, off: 0, len: pages * (create.size === '1G' ? GiB : 2 * MiB) },
    ];
  });

/** A process sends its newest fd to another, which maps it and touches it. */
const shareSequence: fc.Arbitrary<Op[]> = fc
  .record({ from: proc, to: proc, map: mmapOp, len: fc.constantFrom(1, PAGE, 2 * MiB) })
  .map(({ from, to, map, len }) => [
    { op: 'sendFd', p: from, f: 0, to },
    { ...map, p: to, f: 0, anon: false, offPages: 0, offExtra: 0, place: 'any' },
    { op: 'read', p: to, m: 0, hugeIdx: 0, off: 0, len },
  ]);

/** A UE under a mapping, or an aligned MADV_HWPOISON. */
const mappedHit: fc.Arbitrary<Extract<Op, { op: 'injectUE' | 'madvise' }>> = fc.oneof(
  w(3, injectOp.map((op) => ({ ...op, where: 'mapped' as const }))),
  w(1, madviseOp.map((op) => ({ ...op, misalign: false }))),
);

/**
 * A UE (or MADV_HWPOISON) under a mapping, then a look at the page table there: the leaf of
 * the poisoned raw page and of a neighbour, and an access to the raw page. The ops pick the
 * same process, mapping and hugepage, so they aim at the same raw page.
 */
const poisonProbeSequence: fc.Arbitrary<Op[]> = fc
  .record({
    inject: fc.oneof(w(3, injectOp.map((op) => ({ ...op, where: 'mapped' as const }))), w(1, madviseOp.map((op) => ({ ...op, misalign: false })))),
    neighbour: fc.constantFrom(-1, PAGE, 0x40),
    access: fc.constantFrom<'read' | 'write'>('read', 'write'),
    guest: fc.boolean(),
  })
  .map(({ inject, neighbour, access, guest }) => {
    const { p, m, hugeIdx } = inject;
    const at = inject.raw * PAGE;
    const probe = (off: number): Op => ({ op: 'pageTableLeaf', p, m, where: 'mapped', hugeIdx, region: 0, off });
    return [inject, probe(at), probe(Math.max(0, at + neighbour)), { op: access, p, m, hugeIdx, off: at + 0x18, len: 1, guest }];
  });

/**
 * A UE or MADV_HWPOISON on an early raw page of hugepage 1 of the newest mapping, then a
 * pread of the newest fd from the end of hugepage 0 across into hugepage 1.
 */
const preadSequence: fc.Arbitrary<Op[]> = fc
  .record({ hit: mappedHit, raw: fc.constantFrom(0, 0, 1), len: fc.constantFrom(2 * PAGE, 3 * MiB, GiB + PAGE) })
  .map(({ hit, raw, len }) => [
    { ...hit, m: 0, hugeIdx: 1, raw },
    { op: 'pread', p: hit.p, f: 0, off: 2 * MiB - PAGE, len },
    { op: 'pread', p: hit.p, f: 0, off: GiB - PAGE, len },
  ]);

/**
 * A process maps anonymous THP memory (MAP_PRIVATE|MAP_ANONYMOUS; sometimes at a fixed
 * address, sometimes over another mapping, rarely MAP_SHARED), touches some or all of it and
 * asks where it landed (the THP free list's order). Then 0-2 UEs or MADV_HWPOISONs into one
 * folio (two: another split attempt after a failed one, or a raw page poisoned twice), each
 * followed by an access to its raw page and a look at the leaf, then a read of a healthy raw
 * page of the folio, and sometimes the mapping's end (munmap of one folio or all, or exit).
 */
const thpSequence: fc.Arbitrary<Op[]> = fc
  .record({
    map: mmapOp,
    type: fc.oneof(w(19, constant(MAP_PRIVATE)), w(1, constant(MAP_SHARED))),
    huge1G: fc.oneof(w(19, constant(false)), w(1, constant(true))),
    place: fc.oneof(
      w(4, constant('any' as const)),
      w(2, constant('fixed' as const)),
      w(1, fc.constantFrom<'hint' | 'fixed-taken'>('hint', 'fixed-taken')),
    ),
    pages: fc.integer({ min: 1, max: 3 }),
    touch: fc.constantFrom<'read' | 'write'>('write', 'write', 'read'),
    touched: fc.oneof(w(3, constant(-1)), w(2, fc.integer({ min: 0, max: 2 }))),
    hits: fc.array(
      fc.oneof(w(3, injectOp.map((op) => ({ ...op, where: 'mapped' as const }))), w(1, madviseOp.map((op) => ({ ...op, misalign: false })))),
      { maxLength: 2 },
    ),
    hugeIdx,
    healthy: fc.constantFrom(3, 100, 510),
    access: fc.constantFrom<'read' | 'write'>('read', 'write'),
    end: fc.oneof(w(3, constant('none' as const)), w(1, fc.constantFrom<'munmap-folio' | 'munmap' | 'exit'>('munmap-folio', 'munmap', 'exit'))),
  })
  .map(({ map, type, huge1G, place, pages, touch, touched: touchedAny, hits, hugeIdx: hugeIdxAny, healthy, access, end }) => {
    const { p } = map;
    const at = (raw: number) => raw * PAGE;
    const hugeIdx = hugeIdxAny % pages;
    const touched = touchedAny < 0 ? -1 : touchedAny % pages;
    // -1: every folio; k: only the first byte of folio k.
    const touchOp: Op =
      touched < 0 ? { op: touch, p, m: 0, hugeIdx: 0, off: 0, len: pages * 2 * MiB } : { op: touch, p, m: 0, hugeIdx: touched, off: 0x40, len: 1 };
    const ops: Op[] = [
      { ...map, anon: true, thp: true, huge1G, type, place, pages, offPages: 0, offExtra: 0 },
      touchOp,
      { op: 'translate', p, m: 0, off: 0 },
    ];
    for (const hit of hits) {
      const raw = hit.raw % 512;
      ops.push(
        { ...hit, p, m: 0, hugeIdx, raw },
        { op: access, p, m: 0, hugeIdx, off: at(raw), len: 1 },
        { op: 'pageTableLeaf', p, m: 0, where: 'mapped', hugeIdx, region: 0, off: at(raw) },
      );
    }
    if (hits.length > 0) ops.push({ op: 'read', p, m: 0, hugeIdx, off: at(healthy), len: PAGE });
    if (end === 'munmap-folio') ops.push({ op: 'munmap', p, m: 0, offPages: hugeIdx, pages: 1, extra: 0 });
    if (end === 'munmap') ops.push({ op: 'munmap', p, m: 0, offPages: 0, pages, extra: 0 });
    if (end === 'exit') ops.push({ op: 'exit', p });
    return ops;
  });


/**
 * A process maps its newest fd a second time (or the same range twice) and touches one of
 * the mappings; then a UE or MADV_HWPOISON under it: every VMA of the page is a victim.
 */
const doubleMapSequence: fc.Arbitrary<Op[]> = fc
  .record({ map: mmapOp, hit: mappedHit, touch: fc.constantFrom(0, 1) })
  .map(({ map, hit, touch }) => {
    const { p } = map;
    const again = { ...map, p, f: 0, anon: false, offPages: 0, offExtra: 0, place: 'any' as const };
    return [
      again,
      again,
      { op: 'write', p, m: touch, hugeIdx: 0, off: 0, len: 1 },
      { ...hit, p, m: touch },
      { op: 'read', p, m: 1 - touch, hugeIdx: 0, off: hit.raw * PAGE, len: 1 },
    ];
  });

/**
 * Two UEs (or MADV_HWPOISONs) on two raw pages of one hugepage of the newest mapping, then
 * its release (exit, or close and munmap): KEEP v3's refcount underflow, KEEP's dissolve,
 * DEFAULT's leak.
 */
const releaseSequence: fc.Arbitrary<Op[]> = fc
  .record({
    first: mappedHit,
    second: mappedHit,
    end: fc.constantFrom<'exit' | 'close'>('exit', 'close'),
  })
  .map(({ first, second, end }) => {
    const { p } = first;
    const on = { p, m: 0, hugeIdx: 0 };
    const ops: Op[] = [
      { ...first, ...on },
      { ...second, ...on, raw: (first.raw + 3) % 1024 },
    ];
    if (end === 'exit') ops.push({ op: 'exit', p });
    else ops.push({ op: 'close', p, f: 0 }, { op: 'munmap', p, m: 0, offPages: 0, pages: 3, extra: 0 });
    return ops;
  });

/** Host options, 1-3 spawns, then random operations and sequences (at most about `maxOps`). */
export function scenarioArbitrary(maxOps = 40): fc.Arbitrary<Scenario> {
  const chunk = fc.oneof(
    w(8, singleOp.map((op) => [op])),
    w(3, guestSequence),
    w(2, shareSequence),
    w(2, poisonProbeSequence),
    w(3, thpSequence),
    w(1, doubleMapSequence),
    w(2, releaseSequence),
    w(1, preadSequence),
  );
  return fc.record({
    host: hostOptions,
    ops: fc
      .tuple(fc.array(spawnOp, { minLength: 1, maxLength: 3 }), fc.array(chunk, { minLength: 1, maxLength: Math.max(1, Math.ceil(maxOps / 1.5)), size: 'max' }))
      .map(([spawns, chunks]) => [...spawns, ...chunks.flat()]),
  });
}

/** The memfd_create flags an op asks for. */
export function memfdFlagsOf(op: Extract<Op, { op: 'memfdCreate' }>): number {
  const size = op.size === '2M' ? MFD_HUGE_2MB : op.size === '1G' ? MFD_HUGE_1GB : 0;
  // Added, not OR-ed: a second size field must give an unknown size and bit 31 must stay positive.
  return MFD_HUGETLB + size + (op.keep ? MFD_MF_KEEP_UE_MAPPED : 0) + op.extraFlags;
}

/** The mmap flags an op asks for. */
export function mmapFlagsOf(op: Extract<Op, { op: 'mmap' }>): number {
  let flags = op.type;
  if (op.anon) flags |= op.thp ? MAP_ANONYMOUS : MAP_ANONYMOUS | MAP_HUGETLB;
  // Also for THP, where it is allowed but means nothing (the unit stays 2 MiB).
  if (op.anon && op.huge1G) flags |= MAP_HUGE_1GB;
  if (op.place === 'fixed' || op.place === 'fixed-taken') flags |= MAP_FIXED;
  return flags;
}
