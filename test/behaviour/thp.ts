// Anonymous THP (mm/huge_memory.c, memory_failure's THP path; docs/semantics.md "THP"):
// MAP_PRIVATE|MAP_ANONYMOUS without
// MAP_HUGETLB maps 2 MiB folios of ordinary memory (host option thpPages). A memory failure
// on a mapped folio splits its PMD leaf into 4 KiB PTEs and poisons the raw page's PTE (lsb
// 12, "dirty LRU page"), unless the split fails (host options thpSplitFailure and seed: lsb
// 21, "unsplit thp: Failed", the PMD leaf stays).
import type * as uvu from 'uvu';
import * as assert from 'uvu/assert';
import {
  BUS_ADRERR,
  BUS_MCEERR_AO,
  BUS_MCEERR_AR,
  MADV_HWPOISON,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_HUGE_1GB,
  MAP_HUGETLB,
  MAP_PRIVATE,
  MAP_SHARED,
  PROT_READ,
} from '../../src/host/constants.js';
import type { HostOptions, PageTableLeaf, SimHost, SimProcess, SpawnOptions, ThpCounters } from '../../src/host/types.js';
import {
  type CreateHost,
  expectCleanFailure,
  expectError,
  GiB,
  hex,
  MiB,
  PAGE,
  pfnOf,
  PHYS_BASE,
  physOf,
  RW,
  sigbus,
  snapshot,
  VMM,
} from './helpers.js';

const MB2 = 2 * MiB;
const BIG_MB2 = BigInt(MB2);
/** The flags of an anonymous THP mapping. */
const THP = MAP_PRIVATE | MAP_ANONYMOUS;
/** lsb of a SIGBUS for a split folio (one raw page) and for an unsplit one (the whole folio). */
const LSB_SPLIT = 12;
const LSB_UNSPLIT = 21;
/** The first mapping of a process of `span` bytes (2 MiB multiple) goes right below 0x7f00_0000_0000. */
const firstMap = (span: number) => 0x7f00_0000_0000n - BigInt(span);
/** The UE hits byte 0x40 of raw page 5 of folio 0. */
const UE_OFF = 0x5040n;
const RAW = 0x5000n;

const big = (x: number) => BigInt(x);
const leaf = (level: PageTableLeaf['level'], hwpoison = false): PageTableLeaf => ({ level, hwpoison });
const PMD = leaf('pmd');
const pte = (hwpoison = false) => leaf('pte', hwpoison);
const thpCounters = (total: number, free: number, split: number): ThpCounters => ({ total, free, split });

const stats = (recovered: number, failed = 0) => ({ total: recovered + failed, ignored: 0, failed, delayed: 0, recovered });

/** Where THP folio 0 lies: after the 1 GiB pool and the 2 MiB pool. */
function thpBase(opts: HostOptions): bigint {
  return big(PHYS_BASE + (opts.hugepages?.['1G'] ?? 0) * GiB + (opts.hugepages?.['2M'] ?? 0) * MB2);
}

// ---- kernel log lines, literally ------------------------------------------------------------
const pfnHex = (phys: bigint) => hex(pfnOf(phys));
const mceLine = (phys: bigint) => `mce: Uncorrected hardware memory error in user-access at ${hex(phys)}`;
const injecting = (phys: bigint, vaddr: bigint) =>
  `Injecting memory failure for pfn 0x${pfnHex(phys)} at process virtual address 0x${hex(vaddr)}`;
const sending = (phys: bigint, comm: string, p: SimProcess) =>
  `Memory failure: 0x${pfnHex(phys)}: Sending SIGBUS to ${comm}:${p.pid} due to hardware memory corruption`;
const already = (phys: bigint) => `Memory failure: 0x${pfnHex(phys)}: recovery action for already poisoned page: Failed`;
const killing = (comm: string, p: SimProcess, vaddr: bigint) =>
  `MCE: Killing ${comm}:${p.pid} due to hardware memory corruption fault at ${hex(vaddr)}`;
const recovered = (phys: bigint) => `Memory failure: 0x${pfnHex(phys)}: recovery action for dirty LRU page: Recovered`;
const unsplit = (phys: bigint) => `Memory failure: 0x${pfnHex(phys)}: recovery action for unsplit thp: Failed`;
const freeBuddy = (phys: bigint) => `Memory failure: 0x${pfnHex(phys)}: recovery action for free buddy page: Recovered`;

// ---- the split-failure draw of docs/semantics.md, written with bigints (independent of Math.imul) ---
const M32 = 0xffff_ffffn;

function mix32(x: bigint): bigint {
  x &= M32;
  x ^= x >> 16n;
  x = (x * 0x7feb352dn) & M32;
  x ^= x >> 15n;
  x = (x * 0x846ca68bn) & M32;
  x ^= x >> 16n;
  return x;
}

/** Whether the split attempt for raw page `pfn`, with `total` events counted before it, fails. */
function predictSplitFails(probability: number, seed: number, total: number, pfn: bigint): boolean {
  const u = mix32(BigInt(seed) ^ mix32((pfn & M32) ^ ((BigInt(total) * 0x9e3779b1n) & M32)));
  return Number(u) / 2 ** 32 < probability;
}

interface Scene {
  host: SimHost;
  /** The owner of the THP mapping: comm "thp-vm". */
  p: SimProcess;
  /** A THP mapping of two 2 MiB regions, every byte written: folio 0, then folio 1. */
  map: bigint;
  /** Physical address of folio 0. */
  phys: bigint;
}

interface SceneOptions {
  host?: HostOptions;
  owner?: SpawnOptions;
}

/** A host with 4 THP folios (unless `host` says otherwise) and one process with two of them mapped. */
async function thpScene(createHost: CreateHost, o: SceneOptions = {}): Promise<Scene> {
  const opts: HostOptions = { thpPages: 4, ...o.host };
  const host = await createHost(opts);
  const p = host.spawn({ ...VMM, name: 'thp-vm', ...o.owner });
  const map = p.mmap(0, 2 * MB2, RW, THP, -1, 0);
  assert.is(map, firstMap(2 * MB2));
  assert.equal(p.write(map, 2 * MB2), { ok: true });
  const phys = physOf(p, map);
  assert.is(phys, thpBase(opts), 'the first touch takes the lowest THP folio');
  assert.is(physOf(p, map + BIG_MB2), phys + BIG_MB2);
  assert.equal([p.pageTableLeaf(map), p.pageTableLeaf(map + BIG_MB2)], [PMD, PMD]);
  return { host, p, map, phys };
}

/** The leaves of `proc` at each address. */
function leavesAt(proc: SimProcess, addrs: readonly bigint[]): (PageTableLeaf | null)[] {
  return addrs.map((va) => proc.pageTableLeaf(va));
}

/** Mapping `map` (folio 0 split, poisoned at `raws`; folio 1 intact): PTEs around the raw pages, PMD above. */
function expectSplitShape(p: SimProcess, map: bigint, raws: readonly bigint[]): void {
  const isPoisoned = (va: bigint) => raws.includes(va - map - ((va - map) % big(PAGE)));
  const expected = (va: bigint) => pte(isPoisoned(va));
  for (const raw of raws) {
    assert.equal(leavesAt(p, [map + raw, map + raw + 0xfffn]), [pte(true), pte(true)], `+0x${hex(raw)} is a HWPOISON PTE`);
    // Its neighbours inside the folio: present PTEs unless poisoned themselves.
    const around = [map + raw - 1n, map + raw + 0x1000n].filter((va) => va >= map && va < map + BIG_MB2);
    assert.equal(leavesAt(p, around), around.map(expected), 'its neighbours are PTEs');
  }
  const ends = [map, map + BIG_MB2 - 1n];
  assert.equal(leavesAt(p, ends), ends.map(expected), 'the whole folio is mapped by PTEs');
  assert.equal(leavesAt(p, [map + BIG_MB2, map + 2n * BIG_MB2 - 1n]), [PMD, PMD], 'folio 1 stays a PMD leaf');
}

/** Creates a host, expecting a RangeError whose message names `option`. */
async function expectBadOption(createHost: CreateHost, opts: HostOptions, option: string): Promise<void> {
  let thrown: unknown;
  try {
    await createHost(opts);
  } catch (err) {
    thrown = err;
  }
  if (thrown === undefined) assert.unreachable(`host creation with ${option} ${String(opts[option as keyof HostOptions])} succeeded`);
  assert.instance(thrown, RangeError, `${option}: a RangeError`);
  assert.match((thrown as Error).message, option);
}

export function defineThp(suite: uvu.Test, createHost: CreateHost): void {
  // ---- mmap ------------------------------------------------------------------------------------
  suite('THP mmap: MAP_PRIVATE|MAP_ANONYMOUS without MAP_HUGETLB is placed and rounded in 2 MiB units and reserves nothing', async () => {
    const host = await createHost({ hugepages: { '2M': 2 }, thpPages: 2 });
    const p = host.spawn(VMM);
    const before = snapshot(host, [p]);
    const one = p.mmap(0, 1, RW, THP, -1, 0);
    assert.is(one, firstMap(MB2), 'one byte rounds up to 2 MiB, placed top-down');
    const two = p.mmap(0, MB2 + 1, RW, THP, -1, 0);
    assert.is(two, one - 2n * BIG_MB2, '2 MiB + 1 rounds up to 4 MiB');
    // More than the THP memory holds: still no ENOMEM, nothing reserved, nothing allocated.
    const many = p.mmap(0, 8 * MB2, RW, THP, -1, 0);
    assert.is(many, two - 8n * BIG_MB2);
    // The MAP_HUGE size field means nothing without MAP_HUGETLB: still 2 MiB units.
    const sized = p.mmap(0, MB2 + PAGE, RW, THP | MAP_HUGE_1GB, -1, 0);
    assert.is(sized, many - 2n * BIG_MB2);
    assert.equal(snapshot(host, [p]), before, 'HugePages_Rsvd, pools, THP counters: unchanged');
    assert.equal(host.thp(), thpCounters(2, 2, 0));
    assert.is(host.meminfo().AnonHugePages, 0);
    assert.equal(leavesAt(p, [one, two, two + BIG_MB2, many]), [null, null, null, null], 'nothing faulted in');
    assert.is(p.translate(one), null);

    // MAP_FIXED needs a 2 MiB-aligned address; a free aligned hint is used.
    expectCleanFailure(host, [p], () => p.mmap(0x6000_0000_1000n, MB2, RW, THP | MAP_FIXED, -1, 0), 'EINVAL', 'mmap');
    assert.is(p.mmap(0x6000_0020_0000n, MB2, RW, THP | MAP_FIXED, -1, 0), 0x6000_0020_0000n);
    expectCleanFailure(host, [p], () => p.mmap(0x6000_0000_0000n, 2 * MB2, RW, THP | MAP_FIXED, -1, 0), 'EEXIST', 'mmap');
    assert.is(p.mmap(0x5000_0000_0000n, MB2, RW, THP, -1, 0), 0x5000_0000_0000n);

    // munmap cuts a THP VMA only at 2 MiB boundaries.
    expectCleanFailure(host, [p], () => p.munmap(two + 0x1000n, PAGE), 'EINVAL', 'munmap');
    expectCleanFailure(host, [p], () => p.munmap(two, MB2 + PAGE), 'EINVAL', 'munmap');
    p.munmap(two + BIG_MB2, MB2);
    assert.equal(p.write(two, MB2), { ok: true }, 'the lower half is still mapped');
    expectError(() => p.read(two + BIG_MB2, 1), 'EFAULT', 'read');
    assert.equal(host.hugepages('2M'), { nr: 2, free: 2, resv: 0, surplus: 0 }, 'the hugetlb pool is not touched');
  });

  suite('THP mmap: MAP_SHARED|MAP_ANONYMOUS without MAP_HUGETLB (shmem THP) is EOPNOTSUPP', async () => {
    const host = await createHost({ hugepages: { '2M': 1 }, thpPages: 2 });
    const p = host.spawn(VMM);
    expectCleanFailure(host, [p], () => p.mmap(0, MB2, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0), 'EOPNOTSUPP', 'mmap');
    expectCleanFailure(host, [p], () => p.mmap(0, MB2, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0), 'EOPNOTSUPP', 'mmap');
    // The usual checks still come first.
    expectCleanFailure(host, [p], () => p.mmap(0, 0, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0), 'EINVAL', 'mmap');
    expectCleanFailure(host, [p], () => p.mmap(0, MB2, RW, MAP_ANONYMOUS, -1, 0), 'EINVAL', 'mmap');
    expectCleanFailure(host, [p], () => p.mmap(0, 0, RW, THP, -1, 0), 'EINVAL', 'mmap');
    // A THP mapping on a host without THP memory is fine too, until it is touched.
    const bare = await createHost({ hugepages: { '2M': 1 } });
    const q = bare.spawn(VMM);
    const map = q.mmap(0, MB2, RW, THP, -1, 0);
    assert.equal(bare.thp(), thpCounters(0, 0, 0));
    assert.equal(q.read(map + 0x10n, 1), { ok: false, signal: sigbus(BUS_ADRERR, map + 0x10n, 0) });
    assert.equal(bare.hugepages('2M'), { nr: 1, free: 1, resv: 0, surplus: 0 }, 'no fallback to the hugetlb pool');
  });

  // ---- fault-in -------------------------------------------------------------------------------
  suite('THP fault-in: each 2 MiB region takes the top of the THP free list (lowest first) with a PMD leaf; an empty list is SIGBUS BUS_ADRERR lsb 0', async () => {
    const opts: HostOptions = { hugepages: { '1G': 1, '2M': 2 }, thpPages: 3 };
    const host = await createHost(opts);
    const base = thpBase(opts);
    assert.is(base, 0x1_4040_0000n, 'after 1 GiB at 4 GiB and two 2 MiB hugepages');
    const p = host.spawn({ ...VMM, name: 'thp-vm' });
    const map = p.mmap(0, 3 * MB2, RW, THP, -1, 0);
    const pools = { '1G': host.hugepages('1G'), '2M': host.hugepages('2M') };
    const freeLists = { '1G': host.freeHugepages('1G'), '2M': host.freeHugepages('2M') };

    // Region 1 first: it gets folio 0.
    assert.equal(p.read(map + BIG_MB2 + 0x123n, 1), { ok: true });
    assert.is(p.translate(map + BIG_MB2 + 0x123n), base + 0x123n);
    assert.equal(leavesAt(p, [map + BIG_MB2, map + 2n * BIG_MB2 - 1n]), [PMD, PMD]);
    assert.is(p.pageTableLeaf(map), null, 'region 0 is not faulted in');
    assert.equal(host.thp(), thpCounters(3, 2, 0));
    assert.is(host.meminfo().AnonHugePages, 2048);
    // A write spanning regions 0 (unfaulted) and 1 (faulted).
    assert.equal(p.write(map + BIG_MB2 - 8n, 16), { ok: true });
    assert.is(p.translate(map), base + BIG_MB2, 'region 0 got folio 1');
    assert.equal(p.write(map + 2n * BIG_MB2, MB2), { ok: true });
    assert.is(p.translate(map + 2n * BIG_MB2 + BIG_MB2 - 1n), base + 3n * BIG_MB2 - 1n, 'region 2 got folio 2');
    assert.equal(host.thp(), thpCounters(3, 0, 0));
    assert.is(host.meminfo().AnonHugePages, 3 * 2048);
    assert.is(host.pageTablePages(), 0);
    // HugePages_* never count THP.
    assert.equal({ '1G': host.hugepages('1G'), '2M': host.hugepages('2M') }, pools);
    assert.equal({ '1G': host.freeHugepages('1G'), '2M': host.freeHugepages('2M') }, freeLists);
    assert.is(host.meminfo().HugePages_Total, 2);
    assert.is(host.meminfo().HugePages_Free, 2);

    // THP memory is exhausted: the next first touch is SIGBUS BUS_ADRERR at the exact address, lsb 0.
    const more = p.mmap(0, MB2, RW, THP, -1, 0);
    const log = host.kernelLog();
    const at = more + 0x1234n;
    assert.equal(p.write(at, 4), { ok: false, signal: sigbus(BUS_ADRERR, at, 0) });
    assert.equal(p.signals, [sigbus(BUS_ADRERR, at, 0)]);
    assert.ok(p.alive, 'it handles SIGBUS');
    assert.is(p.pageTableLeaf(more), null);
    assert.equal(host.kernelLog(), log, 'no log line');
    assert.equal(host.memoryFailureStats(), stats(0));
    assert.equal(host.thp(), thpCounters(3, 0, 0));
  });

  suite('THP: an unmapped healthy folio goes back on top of the THP free list', async () => {
    const s = await thpScene(createHost);
    assert.equal(s.host.thp(), thpCounters(4, 2, 0));
    assert.is(s.host.meminfo().AnonHugePages, 2 * 2048);
    s.p.munmap(s.map + BIG_MB2, MB2);
    assert.equal(s.host.thp(), thpCounters(4, 3, 0));
    assert.is(s.host.meminfo().AnonHugePages, 2048);
    s.p.munmap(s.map, MB2);
    assert.equal(s.host.thp(), thpCounters(4, 4, 0));
    assert.is(s.host.meminfo().AnonHugePages, 0);
    // Folio 0 was freed last: it is on top, then folio 1, then folio 2 from boot.
    const m = s.p.mmap(0, 3 * MB2, RW, THP, -1, 0);
    assert.equal(s.p.read(m, 3 * MB2), { ok: true });
    assert.equal(
      [s.p.translate(m), s.p.translate(m + BIG_MB2), s.p.translate(m + 2n * BIG_MB2)],
      [s.phys, s.phys + BIG_MB2, s.phys + 2n * BIG_MB2],
    );
    s.p.exit();
    assert.equal(s.host.thp(), thpCounters(4, 4, 0));
    assert.is(s.host.meminfo().AnonHugePages, 0);
  });

  // ---- a UE, the split succeeds ------------------------------------------------------------------
  suite('THP split: a consumed UE splits the PMD into PTEs, poisons the raw page\'s PTE; SIGBUS AR lsb 12, "dirty LRU page: Recovered"', async () => {
    const s = await thpScene(createHost, { host: { hugepages: { '2M': 1 }, thpSplitFailure: 0 } });
    const pools = s.host.hugepages('2M');
    assert.equal(s.p.pageTableLeaf(s.map + RAW), PMD, 'a PMD leaf before the UE');
    const anon = s.host.meminfo().AnonHugePages;
    const phys = s.phys + UE_OFF;
    s.host.injectUE(phys, { consumer: s.p });

    assert.equal(s.p.signals, [sigbus(BUS_MCEERR_AR, s.map + RAW, LSB_SPLIT)]);
    assert.ok(s.p.alive);
    assert.equal(s.host.kernelLog(), [mceLine(phys), sending(phys, 'thp-vm', s.p), recovered(phys)]);
    assert.equal(s.host.memoryFailureStats(), stats(1));
    assert.is(s.host.meminfo().HardwareCorrupted, 4);
    assert.is(s.host.meminfo().AnonHugePages, anon - 2048);
    assert.equal(s.host.thp(), thpCounters(4, 2, 1));
    assert.is(s.host.pageTablePages(), 1);
    assert.equal(s.host.hugepages('2M'), pools, 'HugeTLB pools are not involved');
    expectSplitShape(s.p, s.map, [RAW]);

    // Translations: none for the raw page, the others as before.
    assert.is(s.p.translate(s.map + RAW), null);
    assert.is(s.p.translate(s.map + RAW + 0xfffn), null);
    assert.is(s.p.translate(s.map + RAW - 1n), s.phys + RAW - 1n);
    assert.is(s.p.translate(s.map + RAW + 0x1000n), s.phys + RAW + 0x1000n);
    assert.is(s.p.translate(s.map + BIG_MB2 - 1n), s.phys + BIG_MB2 - 1n);
    // Every other byte of the folio is reachable.
    assert.equal(s.p.read(s.map, Number(RAW)), { ok: true });
    assert.equal(s.p.write(s.map + RAW + 0x1000n, 2 * MB2 - Number(RAW) - PAGE), { ok: true });
    assert.is(s.p.signals.length, 1);
  });

  suite('THP split: the poisoned raw page is a HWPOISON PTE: SIGBUS AR at the exact address, lsb 12, the do_sigbus line', async () => {
    const s = await thpScene(createHost);
    s.host.injectUE(s.phys + UE_OFF);
    assert.equal(s.p.signals, [], 'late kill by default: a scrubbed UE signals nobody');
    const log = s.host.kernelLog();
    assert.equal(log, [recovered(s.phys + UE_OFF)]);
    const at = s.map + RAW + 0x123n;
    assert.equal(s.p.read(at, 8), { ok: false, signal: sigbus(BUS_MCEERR_AR, at, LSB_SPLIT) });
    // A range starting before the raw page faults at its first byte.
    const edge = sigbus(BUS_MCEERR_AR, s.map + RAW, LSB_SPLIT);
    assert.equal(s.p.write(s.map + RAW - 0x10n, 0x20), { ok: false, signal: edge });
    assert.equal(s.p.signals, [sigbus(BUS_MCEERR_AR, at, LSB_SPLIT), edge]);
    assert.equal(s.host.kernelLog(), [...log, killing('thp-vm', s.p, at), killing('thp-vm', s.p, s.map + RAW)], 'a HWPOISON PTE raises no machine check');
    assert.equal(s.host.memoryFailureStats(), stats(1));
    assert.is(s.host.meminfo().HardwareCorrupted, 4);
    assert.is(s.host.pageTablePages(), 1);
    assert.equal(s.host.thp(), thpCounters(4, 2, 1));
  });

  suite('THP split: a second UE on another raw page of the split folio reuses the PTE table; the same raw page again is "already poisoned page: Failed"', async () => {
    const s = await thpScene(createHost);
    const first = s.phys + UE_OFF;
    s.host.injectUE(first, { consumer: s.p });
    const second = s.phys + 0x1ff000n;
    s.host.injectUE(second + 0x8n, { consumer: s.p });
    assert.equal(s.p.signals.slice(1), [sigbus(BUS_MCEERR_AR, s.map + 0x1ff000n, LSB_SPLIT)]);
    assert.equal(s.host.kernelLog().slice(3), [mceLine(second + 0x8n), sending(second, 'thp-vm', s.p), recovered(second)]);
    assert.equal(s.host.memoryFailureStats(), stats(2));
    assert.is(s.host.meminfo().HardwareCorrupted, 8);
    assert.is(s.host.pageTablePages(), 1, 'no second table');
    assert.equal(s.host.thp(), thpCounters(4, 2, 1), 'one folio split');
    expectSplitShape(s.p, s.map, [RAW, 0x1ff000n]);

    // The first raw page again: not counted, AR lsb 12 to the consumer only.
    const again = first + 0x100n;
    s.host.injectUE(again, { consumer: s.p });
    assert.equal(s.p.signals.slice(2), [sigbus(BUS_MCEERR_AR, s.map + RAW, LSB_SPLIT)]);
    assert.equal(s.host.kernelLog().slice(6), [mceLine(again), sending(again, 'thp-vm', s.p), already(again)]);
    assert.equal(s.host.memoryFailureStats(), stats(2));
    assert.is(s.host.meminfo().HardwareCorrupted, 8);
    // Scrubbed again: only the line.
    s.host.injectUE(again);
    assert.equal(s.host.kernelLog().slice(9), [already(again)]);
    assert.is(s.p.signals.length, 3);

    // Folio 1: its own split, its own table.
    s.host.injectUE(s.phys + BIG_MB2 + 0x3000n);
    assert.is(s.host.pageTablePages(), 2);
    assert.equal(s.host.thp(), thpCounters(4, 2, 2));
    assert.is(s.host.meminfo().AnonHugePages, 0);
    assert.equal(leavesAt(s.p, [s.map + BIG_MB2 + 0x3000n, s.map + BIG_MB2]), [pte(true), pte()]);
  });

  // ---- early and late kill -------------------------------------------------------------------------
  for (const splitFailure of [0, 1]) {
    const lsb = splitFailure === 0 ? LSB_SPLIT : LSB_UNSPLIT;
    for (const [mceKill, sysctl, early] of [
      ['early', 0, true],
      ['late', 1, false],
      ['default', 1, true],
      ['default', 0, false],
    ] as const) {
      suite(`THP, split ${splitFailure ? 'fails' : 'succeeds'}, scrubbed UE, mceKill ${mceKill}, early_kill=${sysctl}: ${early ? 'AO' : 'no signal'} to the owner (lsb ${lsb})`, async () => {
        const s = await thpScene(createHost, { host: { thpSplitFailure: splitFailure, earlyKill: sysctl === 1 }, owner: { mceKill } });
        const other = s.host.spawn({ ...VMM, name: 'other', mceKill: 'early' });
        const phys = s.phys + UE_OFF;
        s.host.injectUE(phys);
        assert.equal(s.p.signals, early ? [sigbus(BUS_MCEERR_AO, s.map + RAW, lsb)] : []);
        assert.equal(other.signals, [], 'only the owner maps the folio');
        assert.equal(s.host.kernelLog(), [
          ...(early ? [sending(phys, 'thp-vm', s.p)] : []),
          splitFailure ? unsplit(phys) : recovered(phys),
        ]);
        assert.equal(s.host.memoryFailureStats(), splitFailure ? stats(0, 1) : stats(1));
        assert.equal(s.p.pageTableLeaf(s.map + RAW), splitFailure ? PMD : pte(true));
      });
    }
  }

  suite('THP: a consumer that is also early-kill gets AR only', async () => {
    const s = await thpScene(createHost, { host: { earlyKill: true }, owner: { mceKill: 'early' } });
    s.host.injectUE(s.phys + UE_OFF, { consumer: s.p });
    assert.equal(s.p.signals, [sigbus(BUS_MCEERR_AR, s.map + RAW, LSB_SPLIT)]);
    assert.is(s.host.kernelLog().filter((l) => l.includes('Sending SIGBUS')).length, 1);
  });

  suite('THP: an early-kill owner without a SIGBUS handler dies of its AO; its poisoned folio leaves THP memory', async () => {
    const s = await thpScene(createHost, { owner: { mceKill: 'early', handlesSigbus: false } });
    const phys = s.phys + UE_OFF;
    s.host.injectUE(phys);
    assert.equal(s.p.signals, [sigbus(BUS_MCEERR_AO, s.map + RAW, LSB_SPLIT)]);
    assert.not.ok(s.p.alive);
    assert.equal(s.host.kernelLog(), [sending(phys, 'thp-vm', s.p), recovered(phys)], 'recovered, then the owner dies');
    assert.equal(s.host.thp(), thpCounters(3, 3, 0), 'folio 0 left, folio 1 is free');
    assert.is(s.host.pageTablePages(), 0);
    assert.is(s.host.meminfo().AnonHugePages, 0);
  });

  // ---- a UE, the split fails ---------------------------------------------------------------------
  suite('THP split failure: SIGBUS AR lsb 21, "unsplit thp: Failed", the PMD leaf stays', async () => {
    const s = await thpScene(createHost, { host: { thpSplitFailure: 1 } });
    const phys = s.phys + UE_OFF;
    s.host.injectUE(phys, { consumer: s.p });
    assert.equal(s.p.signals, [sigbus(BUS_MCEERR_AR, s.map + RAW, LSB_UNSPLIT)]);
    assert.equal(s.host.kernelLog(), [mceLine(phys), sending(phys, 'thp-vm', s.p), unsplit(phys)]);
    assert.equal(s.host.memoryFailureStats(), stats(0, 1));
    assert.is(s.host.meminfo().HardwareCorrupted, 4);
    assert.is(s.host.meminfo().AnonHugePages, 2 * 2048, 'still mapped by a PMD leaf');
    assert.equal(s.host.thp(), thpCounters(4, 2, 0));
    assert.is(s.host.pageTablePages(), 0);
    assert.equal(leavesAt(s.p, [s.map, s.map + RAW, s.map + BIG_MB2]), [PMD, PMD, PMD]);
    assert.is(s.p.translate(s.map + RAW + 0x40n), phys, 'the raw page is still mapped');
  });

  suite('THP split failure: loading the corrupted raw page is a new machine check ("already poisoned page", AR lsb 12: check_hwpoisoned_pmd_entry); other raw pages read fine', async () => {
    const s = await thpScene(createHost, { host: { thpSplitFailure: 1 } });
    s.host.injectUE(s.phys + UE_OFF);
    assert.equal(s.p.signals, []);
    const before = s.host.kernelLog().length;

    // The signal carries the raw page's address at 4 KiB though the PMD still maps the folio;
    // the mce line the exact physical address.
    const mce = sigbus(BUS_MCEERR_AR, s.map + RAW, LSB_SPLIT);
    assert.equal(s.p.read(s.map + RAW + 0x80n, 4), { ok: false, signal: mce });
    assert.equal(s.host.kernelLog().slice(before), [mceLine(s.phys + RAW + 0x80n), sending(s.phys + RAW, 'thp-vm', s.p), already(s.phys + RAW)]);
    // A range that starts before it stops at its first byte.
    assert.equal(s.p.write(s.map + RAW - 0x10n, 0x20), { ok: false, signal: mce });
    assert.equal(s.host.kernelLog().slice(before + 3), [mceLine(s.phys + RAW), sending(s.phys + RAW, 'thp-vm', s.p), already(s.phys + RAW)]);
    assert.equal(s.p.signals, [mce, mce]);
    assert.equal(s.host.memoryFailureStats(), stats(0, 1), 'machine checks on a poisoned raw page are not counted');
    assert.is(s.host.meminfo().HardwareCorrupted, 4);

    const log = s.host.kernelLog();
    assert.equal(s.p.read(s.map, Number(RAW)), { ok: true });
    assert.equal(s.p.read(s.map + RAW + 0x1000n, 2 * MB2 - Number(RAW) - PAGE), { ok: true });
    assert.equal(s.host.kernelLog(), log, 'no line for healthy raw pages');
    assert.equal(s.p.pageTableLeaf(s.map + RAW), PMD, 'loads split nothing');
    assert.is(s.host.pageTablePages(), 0);
  });

  suite('THP split failure: a second UE on another raw page fails again (failed+1); each corrupted raw page faults', async () => {
    const s = await thpScene(createHost, { host: { thpSplitFailure: 1 } });
    s.host.injectUE(s.phys + UE_OFF, { consumer: s.p });
    const second = s.phys + 0x2000n;
    s.host.injectUE(second, { consumer: s.p });
    assert.equal(s.p.signals.slice(1), [sigbus(BUS_MCEERR_AR, s.map + 0x2000n, LSB_UNSPLIT)]);
    assert.equal(s.host.kernelLog().slice(-1), [unsplit(second)]);
    assert.equal(s.host.memoryFailureStats(), stats(0, 2));
    assert.is(s.host.meminfo().HardwareCorrupted, 8);
    assert.equal(s.p.read(s.map, 0x2000), { ok: true });
    assert.equal(s.p.read(s.map + 0x1000n, 0x3000), { ok: false, signal: sigbus(BUS_MCEERR_AR, s.map + 0x2000n, LSB_SPLIT) });
    assert.equal(s.p.read(s.map + 0x3000n, 0x4000), { ok: false, signal: sigbus(BUS_MCEERR_AR, s.map + RAW, LSB_SPLIT) });
    assert.equal(s.p.read(s.map + 0x3000n, 0x2000), { ok: true });
  });

  suite('THP: a split after failed attempts poisons the PTEs of every poisoned raw page of the folio', async () => {
    // Folio 0 at 4 GiB: find a seed whose draw fails the first attempt and lets the second split.
    const p = 0.5;
    const pfnA = pfnOf(big(PHYS_BASE) + 0x3000n);
    const pfnB = pfnOf(big(PHYS_BASE) + 0x9000n);
    let seed = 0;
    while (!(predictSplitFails(p, seed, 0, pfnA) && !predictSplitFails(p, seed, 1, pfnB))) seed++;
    const s = await thpScene(createHost, { host: { thpSplitFailure: p, seed } });
    assert.is(s.phys, big(PHYS_BASE));

    s.host.injectUE(s.phys + 0x3000n, { consumer: s.p });
    assert.equal(s.host.kernelLog().slice(-1), [unsplit(s.phys + 0x3000n)], `seed ${seed}: the first attempt fails`);
    assert.equal(s.p.pageTableLeaf(s.map + 0x3000n), PMD);
    s.host.injectUE(s.phys + 0x9000n, { consumer: s.p });
    assert.equal(s.host.kernelLog().slice(-1), [recovered(s.phys + 0x9000n)], `seed ${seed}: the second attempt splits`);
    assert.equal(s.p.signals, [
      sigbus(BUS_MCEERR_AR, s.map + 0x3000n, LSB_UNSPLIT),
      sigbus(BUS_MCEERR_AR, s.map + 0x9000n, LSB_SPLIT),
    ]);
    assert.equal(s.host.memoryFailureStats(), stats(1, 1));
    expectSplitShape(s.p, s.map, [0x3000n, 0x9000n]);
    assert.is(s.host.pageTablePages(), 1);
    assert.equal(s.host.thp(), thpCounters(4, 2, 1));
    // The raw page of the failed attempt is now a HWPOISON PTE: lsb 12, no machine check.
    const log = s.host.kernelLog();
    assert.equal(s.p.read(s.map + 0x3010n, 1), { ok: false, signal: sigbus(BUS_MCEERR_AR, s.map + 0x3010n, LSB_SPLIT) });
    assert.equal(s.host.kernelLog(), [...log, killing('thp-vm', s.p, s.map + 0x3010n)]);
    // A UE on it again: already poisoned, lsb 12.
    s.host.injectUE(s.phys + 0x3000n, { consumer: s.p });
    assert.equal(s.p.signals.slice(-1), [sigbus(BUS_MCEERR_AR, s.map + 0x3000n, LSB_SPLIT)]);
    assert.equal(s.host.kernelLog().slice(-2), [sending(s.phys + 0x3000n, 'thp-vm', s.p), already(s.phys + 0x3000n)]);
  });

  // ---- MADV_HWPOISON -------------------------------------------------------------------------------
  suite('THP MADV_HWPOISON, split succeeds: 0, AR lsb 12, a HWPOISON PTE; the same raw page again is EFAULT (GUP meets the HWPOISON PTE)', async () => {
    const s = await thpScene(createHost);
    const addr = s.map + RAW;
    const phys = s.phys + RAW;
    assert.is(s.p.madvise(addr, PAGE, MADV_HWPOISON), 0);
    assert.equal(s.p.signals, [sigbus(BUS_MCEERR_AR, addr, LSB_SPLIT)]);
    assert.equal(s.host.kernelLog(), [injecting(phys, addr), sending(phys, 'thp-vm', s.p), recovered(phys)]);
    assert.equal(s.host.memoryFailureStats(), stats(1));
    assert.is(s.host.meminfo().HardwareCorrupted, 4);
    expectSplitShape(s.p, s.map, [RAW]);
    assert.equal(s.host.thp(), thpCounters(4, 2, 1));

    const tables = s.host.pageTablePages();
    expectCleanFailure(s.host, [s.p], () => s.p.madvise(addr, PAGE, MADV_HWPOISON), 'EFAULT', 'madvise');
    // A later step reaching the HWPOISON PTE fails after the first step (a fault-in) ran.
    const below = s.p.mmap(0, MB2, RW, THP, -1, 0);
    assert.is(below, s.map - BIG_MB2);
    expectError(() => s.p.madvise(below + RAW, MB2 + PAGE, MADV_HWPOISON), 'EFAULT', 'madvise');
    assert.equal(s.p.pageTableLeaf(below + RAW), pte(true), 'step 1 faulted the region in and poisoned it (split)');
    assert.equal(s.p.signals.slice(-1), [sigbus(BUS_MCEERR_AR, below + RAW, LSB_SPLIT)]);
    assert.is(s.host.pageTablePages(), tables + 1);
    assert.equal(s.host.memoryFailureStats(), stats(2));
    // Poisoned by MADV_HWPOISON only, the page is still unreachable: its PTE is a HWPOISON entry.
    assert.equal(s.p.read(addr + 1n, 1), { ok: false, signal: sigbus(BUS_MCEERR_AR, addr + 1n, LSB_SPLIT) });
    // Another raw page of the split folio.
    assert.is(s.p.madvise(s.map + 0x1000n, PAGE, MADV_HWPOISON), 0);
    assert.equal(s.p.signals.slice(-1), [sigbus(BUS_MCEERR_AR, s.map + 0x1000n, LSB_SPLIT)]);
    assert.equal(s.host.memoryFailureStats(), stats(3));
    expectSplitShape(s.p, s.map, [0x1000n, RAW]);
    // In a split folio the steps are 4 KiB apart (page_size of the order-0 page GUP found):
    // raw pages 0x3000 and 0x4000 are poisoned, then the third step meets RAW's HWPOISON PTE.
    expectError(() => s.p.madvise(s.map + 0x3000n, 3 * PAGE, MADV_HWPOISON), 'EFAULT', 'madvise');
    assert.equal(s.p.signals.slice(-2), [sigbus(BUS_MCEERR_AR, s.map + 0x3000n, LSB_SPLIT), sigbus(BUS_MCEERR_AR, s.map + 0x4000n, LSB_SPLIT)]);
    assert.equal(s.host.memoryFailureStats(), stats(5));
    expectSplitShape(s.p, s.map, [0x1000n, 0x3000n, 0x4000n, RAW]);
  });

  suite('THP MADV_HWPOISON, split fails: EHWPOISON after AR lsb 21 (kill_procs_now); the data is intact so every raw page still reads', async () => {
    const s = await thpScene(createHost, { host: { thpSplitFailure: 1 } });
    const addr = s.map + RAW;
    const phys = s.phys + RAW;
    // memory_failure returns -EHWPOISON when the THP cannot be split; madvise passes it on.
    expectError(() => s.p.madvise(addr, PAGE, MADV_HWPOISON), 'EHWPOISON', 'madvise');
    assert.equal(s.p.signals, [sigbus(BUS_MCEERR_AR, addr, LSB_UNSPLIT)]);
    assert.equal(s.host.kernelLog(), [injecting(phys, addr), sending(phys, 'thp-vm', s.p), unsplit(phys)]);
    assert.equal(s.host.memoryFailureStats(), stats(0, 1));
    assert.is(s.host.meminfo().HardwareCorrupted, 4);
    assert.equal(s.p.pageTableLeaf(addr), PMD);
    const log = s.host.kernelLog();
    assert.equal(s.p.read(s.map, 2 * MB2), { ok: true }, 'poisoned, not corrupted: no machine check');
    assert.equal(s.host.kernelLog(), log);
    // The same raw page again: GUP finds the PMD, memory_failure finds it poisoned and
    // signals the caller at 4 KiB (kill_accessing_process, check_hwpoisoned_pmd_entry).
    expectError(() => s.p.madvise(addr, PAGE, MADV_HWPOISON), 'EHWPOISON', 'madvise');
    assert.equal(s.p.signals.slice(1), [sigbus(BUS_MCEERR_AR, addr, LSB_SPLIT)]);
    assert.equal(s.host.kernelLog().slice(log.length), [injecting(phys, addr), sending(phys, 'thp-vm', s.p), already(phys)]);
    assert.equal(s.host.memoryFailureStats(), stats(0, 1), 'not counted again');
    // Two steps, folio 0 then folio 1: the first fails to split, the call ends there.
    expectError(() => s.p.madvise(s.map + 0x4000n, MB2 + PAGE, MADV_HWPOISON), 'EHWPOISON', 'madvise');
    assert.equal(s.host.memoryFailureStats(), stats(0, 2));
    assert.equal(s.p.signals.slice(2), [sigbus(BUS_MCEERR_AR, s.map + 0x4000n, LSB_UNSPLIT)], 'step 2 never ran');
    // A real UE on the first raw page later: already poisoned, now corrupted; loads are machine checks.
    s.host.injectUE(phys + 0x10n);
    assert.equal(s.host.kernelLog().slice(-1), [already(phys + 0x10n)]);
    assert.equal(s.p.read(addr, 1), { ok: false, signal: sigbus(BUS_MCEERR_AR, addr, LSB_SPLIT) });
  });

  suite('THP MADV_HWPOISON: steps fault their regions in, in order; a step THP memory cannot fault in is EFAULT, earlier steps stay applied', async () => {
    const host = await createHost({ thpPages: 2 });
    const p = host.spawn({ ...VMM, name: 'thp-vm' });
    const map = p.mmap(0, 3 * MB2, RW, THP, -1, 0);
    // Three steps, three fault-ins, two folios: steps 1 and 2 run, step 3 fails.
    expectError(() => p.madvise(map + 0x1000n, 2 * MB2 + PAGE, MADV_HWPOISON), 'EFAULT', 'madvise');
    const base = big(PHYS_BASE);
    assert.is(p.translate(map + 0x2000n), base + 0x2000n);
    assert.is(p.translate(map + BIG_MB2 + 0x2000n), base + BIG_MB2 + 0x2000n);
    assert.is(p.pageTableLeaf(map + 2n * BIG_MB2), null);
    assert.equal(host.thp(), thpCounters(2, 0, 2));
    assert.equal(p.signals, [
      sigbus(BUS_MCEERR_AR, map + 0x1000n, LSB_SPLIT),
      sigbus(BUS_MCEERR_AR, map + BIG_MB2 + 0x1000n, LSB_SPLIT),
    ]);
    assert.equal(host.kernelLog(), [
      injecting(base + 0x1000n, map + 0x1000n),
      sending(base + 0x1000n, 'thp-vm', p),
      recovered(base + 0x1000n),
      injecting(base + BIG_MB2 + 0x1000n, map + BIG_MB2 + 0x1000n),
      sending(base + BIG_MB2 + 0x1000n, 'thp-vm', p),
      recovered(base + BIG_MB2 + 0x1000n),
    ]);
    // Region 2 cannot be faulted in: a failure before any step ran changes nothing.
    expectCleanFailure(host, [p], () => p.madvise(map + 2n * BIG_MB2, PAGE, MADV_HWPOISON), 'EFAULT', 'madvise');
  });

  suite('THP MADV_HWPOISON: the first step decides when it fails (a fault-in nothing can give, a HWPOISON PTE)', async () => {
    const host = await createHost({ thpPages: 1 });
    const p = host.spawn({ ...VMM, name: 'thp-vm' });
    const map = p.mmap(0, 2 * MB2, RW, THP, -1, 0);
    // The upper region takes the only folio; its raw page 0 is poisoned (and split off).
    assert.equal(p.write(map + BIG_MB2, 1), { ok: true });
    assert.is(p.madvise(map + BIG_MB2, PAGE, MADV_HWPOISON), 0);
    // Step 1 needs a fault-in THP memory cannot give: EFAULT, nothing changes.
    expectCleanFailure(host, [p], () => p.madvise(map, MB2 + PAGE, MADV_HWPOISON), 'EFAULT', 'madvise');
    // The other way round (the HWPOISON PTE is step 1): EFAULT too, nothing changes.
    const host2 = await createHost({ thpPages: 1 });
    const q = host2.spawn({ ...VMM, name: 'thp-vm' });
    const low = q.mmap(0, 2 * MB2, RW, THP, -1, 0);
    assert.equal(q.write(low, 1), { ok: true });
    assert.is(q.madvise(low, PAGE, MADV_HWPOISON), 0);
    expectCleanFailure(host2, [q], () => q.madvise(low, MB2 + PAGE, MADV_HWPOISON), 'EFAULT', 'madvise');
  });

  suite('MADV_HWPOISON across a THP mapping and a 1 GiB mapping: 2 MiB steps, then a 1 GiB step whose fault-in fails', async () => {
    const host = await createHost({ thpPages: 2, hugepages: { '1G': 1 } });
    const p = host.spawn({ ...VMM, name: 'vm' });
    const thp = p.mmap(GiB - 4 * MiB, 4 * MiB, RW, THP | MAP_FIXED, -1, 0);
    const huge = p.mmap(GiB, GiB, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_1GB | MAP_FIXED, -1, 0);
    assert.equal([thp, huge], [big(GiB - 4 * MiB), big(GiB)]);
    // The free 1 GiB page that backs the mapping's reservation is dissolved by a UE.
    host.injectUE(PHYS_BASE);
    assert.equal(host.hugepages('1G'), { nr: 0, free: 0, resv: 1, surplus: 0 });
    // Two THP steps fault in and poison both folios; the 1 GiB step cannot fault in.
    expectError(() => p.madvise(thp + 0x1000n, 4 * MiB + PAGE, MADV_HWPOISON), 'EFAULT', 'madvise');
    assert.equal(host.thp(), thpCounters(2, 0, 2));
    assert.equal(p.signals, [
      sigbus(BUS_MCEERR_AR, thp + 0x1000n, LSB_SPLIT),
      sigbus(BUS_MCEERR_AR, thp + BIG_MB2 + 0x1000n, LSB_SPLIT),
    ]);
    assert.is(p.pageTableLeaf(huge), null);
    assert.equal(host.memoryFailureStats(), stats(3));
  });

  // ---- free folios ---------------------------------------------------------------------------------
  suite('THP: a UE on a free folio takes it out of THP memory ("free buddy page: Recovered"); later UEs in it are buddy pages', async () => {
    const host = await createHost({ thpPages: 3 });
    const base = big(PHYS_BASE);
    const phys = base + BIG_MB2 + 0x3000n;
    host.injectUE(phys + 0x8n);
    assert.equal(host.kernelLog(), [freeBuddy(phys)]);
    assert.equal(host.memoryFailureStats(), stats(1));
    assert.is(host.meminfo().HardwareCorrupted, 4);
    assert.equal(host.thp(), thpCounters(2, 2, 0));
    assert.equal(host.hugepages('2M'), { nr: 0, free: 0, resv: 0, surplus: 0 });
    // Rule 2: the same raw page again, then another one of the folio.
    host.injectUE(phys);
    host.injectUE(phys + 0x1000n);
    assert.equal(host.kernelLog().slice(1), [already(phys), freeBuddy(phys + 0x1000n)]);
    assert.equal(host.memoryFailureStats(), stats(2));
    assert.is(host.meminfo().HardwareCorrupted, 8);
    assert.equal(host.thp(), thpCounters(2, 2, 0));

    // Faults take folio 0, then folio 2: folio 1 is gone.
    const p = host.spawn(VMM);
    expectCleanFailure(host, [p], () => host.injectUE(phys, { consumer: p }), 'EINVAL', 'injectUE');
    const map = p.mmap(0, 3 * MB2, RW, THP, -1, 0);
    assert.equal(p.read(map, 3 * MB2), { ok: false, signal: sigbus(BUS_ADRERR, map + 2n * BIG_MB2, 0) });
    assert.equal([p.translate(map), p.translate(map + BIG_MB2)], [base, base + 2n * BIG_MB2]);
    assert.equal(host.thp(), thpCounters(2, 0, 0));
  });

  // ---- munmap and exit -----------------------------------------------------------------------------
  suite('THP munmap/exit: a split poisoned folio leaves THP memory (total-1, split-1) and its table is freed', async () => {
    const s = await thpScene(createHost);
    s.host.injectUE(s.phys + UE_OFF, { consumer: s.p });
    assert.equal(s.host.thp(), thpCounters(4, 2, 1));
    assert.is(s.host.pageTablePages(), 1);
    s.p.munmap(s.map, MB2);
    assert.equal(s.host.thp(), thpCounters(3, 2, 0));
    assert.is(s.host.pageTablePages(), 0);
    assert.is(s.host.meminfo().AnonHugePages, 2048);
    assert.is(s.p.pageTableLeaf(s.map + RAW), null);
    // Its healthy raw pages are buddy memory now; the poisoned one stays poisoned.
    s.host.injectUE(s.phys + RAW);
    s.host.injectUE(s.phys + 0x7000n);
    assert.equal(s.host.kernelLog().slice(-2), [already(s.phys + RAW), freeBuddy(s.phys + 0x7000n)]);
    assert.equal(s.host.thp(), thpCounters(3, 2, 0));
    // Exit: the healthy folio 1 goes back.
    s.p.exit();
    assert.equal(s.host.thp(), thpCounters(3, 3, 0));
    assert.is(s.host.meminfo().AnonHugePages, 0);
    // The poisoned folio is never handed out again.
    const q = s.host.spawn(VMM);
    const m = q.mmap(0, 3 * MB2, RW, THP, -1, 0);
    assert.equal(q.read(m, 3 * MB2), { ok: true });
    const got = [q.translate(m), q.translate(m + BIG_MB2), q.translate(m + 2n * BIG_MB2)];
    assert.equal(got, [s.phys + BIG_MB2, s.phys + 2n * BIG_MB2, s.phys + 3n * BIG_MB2]);
  });

  suite('THP exit: an unsplit poisoned folio (failed split) leaves THP memory too', async () => {
    const s = await thpScene(createHost, { host: { thpSplitFailure: 1 } });
    s.host.injectUE(s.phys + BIG_MB2 + 0x1000n);
    assert.equal(s.host.thp(), thpCounters(4, 2, 0));
    s.p.exit();
    assert.equal(s.host.thp(), thpCounters(3, 3, 0));
    assert.is(s.host.pageTablePages(), 0);
    assert.is(s.host.meminfo().AnonHugePages, 0);
    assert.equal(s.host.memoryFailureStats(), stats(0, 1));
  });

  suite('THP: a consumer without a SIGBUS handler dies at its machine check; its folios are freed', async () => {
    const s = await thpScene(createHost, { host: { thpSplitFailure: 1 }, owner: { handlesSigbus: false } });
    s.host.injectUE(s.phys + UE_OFF);
    assert.ok(s.p.alive, 'late kill: nothing delivered');
    const result = s.p.read(s.map + RAW, 1);
    assert.equal(result, { ok: false, signal: sigbus(BUS_MCEERR_AR, s.map + RAW, LSB_SPLIT) });
    assert.not.ok(s.p.alive);
    assert.equal(s.host.thp(), thpCounters(3, 3, 0));
    assert.is(s.host.pageTablePages(), 0);
  });

  suite('THP: recovery disabled: a UE on a folio panics the host; nothing is torn down', async () => {
    const s = await thpScene(createHost, { host: { memoryFailureRecovery: false } });
    s.host.injectUE(s.phys + UE_OFF, { consumer: s.p });
    assert.ok(s.host.panicked);
    assert.equal(s.host.kernelLog(), [mceLine(s.phys + UE_OFF), `Kernel panic - not syncing: Memory failure on page ${pfnHex(s.phys + UE_OFF)}`]);
    assert.equal(s.host.thp(), thpCounters(4, 2, 0));
    assert.is(s.host.meminfo().HardwareCorrupted, 0);
    assert.equal(s.p.signals, []);
    expectError(() => s.p.read(s.map, 1), 'EIO');
  });

  // ---- the split-failure draw ---------------------------------------------------------------------
  suite('THP split failure is drawn from (seed, events counted, pfn) exactly as docs/semantics.md says; equal hosts draw equally', async () => {
    const n = 64;
    const probability = 0.5;
    const seeds = [12345, 0xffff_ffff];
    /** Scrubbed UEs on raw page (37k mod 512) of each of 64 folios; the outcome of each. */
    const run = async (seed: number) => {
      const host = await createHost({ thpPages: n, thpSplitFailure: probability, seed });
      const p = host.spawn({ ...VMM, name: 'thp-vm' });
      const map = p.mmap(0, n * MB2, RW, THP, -1, 0);
      for (let k = 0; k < n; k++) assert.equal(p.read(map + big(k * MB2), 1), { ok: true });
      const outcomes: boolean[] = [];
      for (let k = 0; k < n; k++) {
        const phys = physOf(p, map + big(k * MB2)) + big(((37 * k) % 512) * PAGE);
        const failedBefore = host.memoryFailureStats().failed;
        host.injectUE(phys);
        outcomes.push(host.memoryFailureStats().failed > failedBefore);
      }
      return { host, p, map, outcomes };
    };
    const results = [];
    for (const seed of seeds) {
      const a = await run(seed);
      const b = await run(seed);
      assert.equal(a.outcomes, b.outcomes, `seed ${seed}: the same outcomes twice`);
      assert.equal(a.host.kernelLog(), b.host.kernelLog());
      assert.equal(a.p.signals, b.p.signals);
      // The draw of docs/semantics.md: folio k is the k-th from the lowest, `total` before it is k.
      const predicted = Array.from({ length: n }, (_, k) =>
        predictSplitFails(probability, seed, k, pfnOf(big(PHYS_BASE + k * MB2 + ((37 * k) % 512) * PAGE))),
      );
      assert.equal(a.outcomes, predicted, `seed ${seed}: the outcomes of the documented mix32 draw`);
      const failed = a.outcomes.filter(Boolean).length;
      assert.ok(failed > 0 && failed < n, `seed ${seed}: both outcomes occur (${failed} of ${n} failed)`);
      assert.equal(a.host.memoryFailureStats(), stats(n - failed, failed));
      assert.equal(a.host.thp(), thpCounters(n, 0, n - failed));
      assert.is(a.host.pageTablePages(), n - failed);
      assert.is(a.host.meminfo().AnonHugePages, failed * 2048);
      results.push(a.outcomes);
    }
    assert.not.equal(results[0], results[1], 'another seed, other outcomes');
  });

  suite('THP split failure: probability 0 always splits, 1 never does, whatever the seed', async () => {
    for (const [thpSplitFailure, seed] of [[0, 7], [0, 0xffff_ffff], [1, 7], [1, 0]] as const) {
      const host = await createHost({ thpPages: 8, thpSplitFailure, seed });
      const p = host.spawn(VMM);
      const map = p.mmap(0, 8 * MB2, RW, THP, -1, 0);
      assert.equal(p.write(map, 8 * MB2), { ok: true });
      for (let k = 0; k < 8; k++) host.injectUE(physOf(p, map + big(k * MB2)) + big(k * 0x11000));
      assert.equal(host.memoryFailureStats(), thpSplitFailure === 0 ? stats(8) : stats(0, 8));
    }
  });

  suite('THP split failure: the comparison is strict, u / 2^32 < probability (a draw of u = 0 splits at 0, fails at 2^-32)', async () => {
    // mix32 is a bijection with mix32(0) = 0: with seed = mix32(pfn ^ imul(0, ...)) = mix32(pfn),
    // the first event's draw is u = mix32(0) = 0.
    const phys = big(PHYS_BASE) + UE_OFF;
    const seed = Number(mix32(pfnOf(phys)));
    for (const [thpSplitFailure, fails] of [[0, false], [2 ** -32, true]] as const) {
      const host = await createHost({ thpPages: 1, thpSplitFailure, seed });
      const p = host.spawn(VMM);
      const map = p.mmap(0, MB2, RW, THP, -1, 0);
      assert.equal(p.read(map, 1), { ok: true });
      host.injectUE(phys);
      assert.equal(host.kernelLog(), [fails ? unsplit(phys) : recovered(phys)], `probability ${thpSplitFailure}, seed 0x${hex(seed)}`);
    }
  });

  // ---- host options --------------------------------------------------------------------------------
  suite('THP host options: bad thpPages, thpSplitFailure and seed are RangeErrors naming the option', async () => {
    for (const thpPages of [-1, 1.5, NaN, Infinity, 2 ** 53, '2']) {
      await expectBadOption(createHost, { thpPages: thpPages as number }, 'thpPages');
    }
    for (const thpSplitFailure of [-0.01, 1.01, NaN, Infinity, -Infinity, '0.5']) {
      await expectBadOption(createHost, { thpPages: 1, thpSplitFailure: thpSplitFailure as number }, 'thpSplitFailure');
    }
    for (const seed of [-1, 2 ** 32, 1.5, NaN, Infinity, '1']) {
      await expectBadOption(createHost, { thpPages: 1, seed: seed as number }, 'seed');
    }
    // The bounds themselves are fine.
    for (const opts of [
      { thpPages: 0 },
      { thpPages: 1, thpSplitFailure: 0, seed: 0 },
      { thpPages: 1, thpSplitFailure: 1, seed: 0xffff_ffff },
      { thpSplitFailure: 0.25, seed: 1 },
    ]) {
      const host = await createHost(opts);
      assert.equal(host.thp(), thpCounters(opts.thpPages ?? 0, opts.thpPages ?? 0, 0));
    }
  });

  // ---- THP next to HugeTLB pools -------------------------------------------------------------------
  suite('THP next to HugeTLB pools: folios after both pools; neither side touches the other\'s counters', async () => {
    const opts: HostOptions = { hugepages: { '1G': 1, '2M': 2 }, thpPages: 2 };
    const host = await createHost(opts);
    const base = thpBase(opts);
    const p = host.spawn({ ...VMM, name: 'mixed' });
    const huge = p.mmap(0, MB2, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
    const thp = p.mmap(0, 2 * MB2, RW, THP, -1, 0);
    assert.equal(host.hugepages('2M'), { nr: 2, free: 2, resv: 1, surplus: 0 }, 'the hugetlb mapping reserves; the THP one does not');
    assert.equal(p.write(huge, MB2), { ok: true });
    assert.equal(p.write(thp, 2 * MB2), { ok: true });
    assert.is(p.translate(huge), big(PHYS_BASE + GiB), 'the 2 MiB pool follows the 1 GiB pool');
    assert.is(p.translate(thp), base, 'THP folio 0 follows the 2 MiB pool');
    assert.is(p.translate(thp + BIG_MB2), base + BIG_MB2);
    assert.equal(host.hugepages('2M'), { nr: 2, free: 1, resv: 0, surplus: 0 });
    assert.equal(host.thp(), thpCounters(2, 0, 0));
    assert.equal(host.meminfo(), {
      HardwareCorrupted: 0,
      HugePages_Total: 2,
      HugePages_Free: 1,
      HugePages_Rsvd: 0,
      HugePages_Surp: 0,
      Hugepagesize: 2048,
      AnonHugePages: 2 * 2048,
    });

    // A UE on a THP folio: hugetlb counters unchanged.
    const pools = { '1G': host.hugepages('1G'), '2M': host.hugepages('2M') };
    const freeLists = { '1G': host.freeHugepages('1G'), '2M': host.freeHugepages('2M') };
    host.injectUE(base + BIG_MB2 + 0x4000n, { consumer: p });
    assert.equal(p.signals, [sigbus(BUS_MCEERR_AR, thp + BIG_MB2 + 0x4000n, LSB_SPLIT)]);
    assert.equal({ '1G': host.hugepages('1G'), '2M': host.hugepages('2M') }, pools);
    assert.equal({ '1G': host.freeHugepages('1G'), '2M': host.freeHugepages('2M') }, freeLists);
    assert.equal(host.thp(), thpCounters(2, 0, 1));
    // A UE on the free 2 MiB hugepage and on the in-use private one: THP counters unchanged.
    host.injectUE(big(PHYS_BASE + GiB + MB2));
    assert.equal(host.kernelLog().slice(-1), [`Memory failure: 0x${pfnHex(big(PHYS_BASE + GiB + MB2))}: recovery action for free huge page: Recovered`]);
    host.injectUE(big(PHYS_BASE + GiB) + 0x2000n, { consumer: p });
    assert.equal(p.signals.slice(-1), [sigbus(BUS_MCEERR_AR, huge + 0x2000n, 21)], 'a private hugetlb page stays DEFAULT');
    assert.equal(host.thp(), thpCounters(2, 0, 1));
    assert.equal(host.hugepages('2M'), { nr: 0, free: 0, resv: 0, surplus: 0 });
    assert.equal(leavesAt(p, [huge, thp, thp + BIG_MB2]), [leaf('pmd', true), PMD, pte()]);
    assert.is(host.meminfo().AnonHugePages, 2048);

    // The last byte of THP memory is on the host; the next one is not.
    host.injectUE(base + 2n * BIG_MB2 - 1n);
    expectCleanFailure(host, [p], () => host.injectUE(base + 2n * BIG_MB2), 'EINVAL', 'injectUE');
    // A host without THP memory ends with its pools.
    const bare = await createHost({ hugepages: { '1G': 1, '2M': 2 } });
    expectCleanFailure(bare, [], () => bare.injectUE(base), 'EINVAL', 'injectUE');
  });

  suite('THP on an HGM host: THP folios follow the THP rules, HGM changes nothing for them', async () => {
    const s = await thpScene(createHost, { host: { hgm: true, thpSplitFailure: 1 } });
    s.host.injectUE(s.phys + UE_OFF, { consumer: s.p });
    assert.equal(s.p.signals, [sigbus(BUS_MCEERR_AR, s.map + RAW, LSB_UNSPLIT)]);
    assert.equal(s.host.kernelLog().slice(-1), [unsplit(s.phys + UE_OFF)]);
    assert.equal(s.p.pageTableLeaf(s.map + RAW), PMD);
    assert.is(s.host.pageTablePages(), 0);
  });

  suite('THP: a consumer must map the folio: another process is EINVAL', async () => {
    const s = await thpScene(createHost);
    const other = s.host.spawn(VMM);
    const mapOther = other.mmap(0, MB2, RW, THP, -1, 0);
    assert.equal(other.read(mapOther, 1), { ok: true });
    expectCleanFailure(s.host, [s.p, other], () => s.host.injectUE(s.phys + UE_OFF, { consumer: other }), 'EINVAL', 'injectUE');
    assert.is(physOf(other, mapOther), s.phys + 2n * BIG_MB2, 'each process gets its own folio');
  });
}
