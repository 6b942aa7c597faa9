// HGM, high-granularity mapping (the proposed, never merged hugetlb HGM series, as its cover
// letter states the intent; docs/semantics.md "HGM"): on an `hgm` host a UE
// on a hugepage of a memfd without MFD_MF_KEEP_UE_MAPPED splits every mapper's leaf down to
// 4 KiB and poisons only the raw page's PTE. Also the page-table view (pageTableLeaf,
// pageTablePages) on hosts without HGM.
import type * as uvu from 'uvu';
import * as assert from 'uvu/assert';
import {
  BUS_ADRERR,
  BUS_MCEERR_AO,
  BUS_MCEERR_AR,
  FALLOC_FL_KEEP_SIZE,
  FALLOC_FL_PUNCH_HOLE,
  MADV_HWPOISON,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_HUGE_1GB,
  MAP_HUGETLB,
  MAP_PRIVATE,
  MAP_SHARED,
  PROT_READ,
} from '../../src/host/constants.js';
import type { HostOptions, HugepageSize, Num, PageTableLeaf, SimHost, SimProcess } from '../../src/host/types.js';
import {
  type CreateHost,
  expectCleanFailure,
  expectError,
  H,
  hex,
  HS,
  MiB,
  memfdFlags,
  PAGE,
  pfnOf,
  physOf,
  type Policy,
  RW,
  sigbus,
  SIZES,
  VMM,
} from './helpers.js';

const MB2 = 2 * MiB;

/** The leaf level of a hugepage-sized mapping. */
const HUGE_LEVEL: Readonly<Record<HugepageSize, PageTableLeaf['level']>> = { '2M': 'pmd', '1G': 'pud' };

/**
 * Where the first UE hits hugepage 0 (byte 0x40 of a raw page that is neither the first nor
 * the last of its 2 MiB region): raw page 5; in a 1 GiB page raw page 5 of 2 MiB region 3.
 */
const UE_OFF: Readonly<Record<HugepageSize, number>> = { '2M': 0x5040, '1G': 3 * MB2 + 0x5040 };

/** Page-table pages one mapper's split of one hugepage allocates: a PTE table; for 1 GiB a PMD table too. */
const SPLIT_PAGES: Readonly<Record<HugepageSize, number>> = { '2M': 1, '1G': 2 };

const leaf = (level: PageTableLeaf['level'], hwpoison = false): PageTableLeaf => ({ level, hwpoison });
const pte = (hwpoison = false) => leaf('pte', hwpoison);
const rawOf = (offset: number) => BigInt(offset - (offset % PAGE));
const big = (x: number) => BigInt(x);

const stats = (recovered: number, failed = 0, ignored = 0) => ({
  total: recovered + failed + ignored,
  ignored,
  failed,
  delayed: 0,
  recovered,
});

interface Scene {
  host: SimHost;
  size: HugepageSize;
  h: number;
  /** Creates the memfd, maps it (2 hugepages) and writes every byte. mceKill 'default'. */
  a: SimProcess;
  /** Gets the fd with sendFd; maps hugepage 1 alone (never touched), then both, and reads every byte. */
  b: SimProcess;
  fdA: number;
  fdB: number;
  mapA: bigint;
  mapB: bigint;
  /** B's mapping of hugepage 1 alone, above mapB; never faulted in. */
  extraB: bigint;
  /** Physical address of hugepage 0. */
  phys: bigint;
}

interface SceneOptions {
  hgm?: boolean;
  policy?: Policy;
  earlyKill?: boolean;
  bHandlesSigbus?: boolean;
  host?: HostOptions;
}

/** Two processes sharing a 2-hugepage memfd of `size` (both mappings faulted in). */
async function twoMappers(createHost: CreateHost, size: HugepageSize, o: SceneOptions = {}): Promise<Scene> {
  const host = await createHost({
    hugepages: { '2M': 4, '1G': 3 },
    hgm: o.hgm ?? true,
    earlyKill: o.earlyKill ?? false,
    ...o.host,
  });
  const h = H[size];
  const a = host.spawn({ ...VMM, name: 'vmm-a' });
  const b = host.spawn({ ...VMM, name: 'vmm-b', handlesSigbus: o.bHandlesSigbus ?? true });
  const fdA = a.memfdCreate('guest-ram', memfdFlags(size, o.policy ?? 'DEFAULT'));
  a.ftruncate(fdA, 2 * h);
  const mapA = a.mmap(0, 2 * h, RW, MAP_SHARED, fdA, 0);
  assert.equal(a.write(mapA, 2 * h), { ok: true });
  const fdB = a.sendFd(fdA, b);
  const extraB = b.mmap(0, h, RW, MAP_SHARED, fdB, h);
  const mapB = b.mmap(0, 2 * h, RW, MAP_SHARED, fdB, 0);
  assert.is(mapB, extraB - big(2 * h));
  assert.equal(b.read(mapB, 2 * h), { ok: true });
  const phys = physOf(a, mapA);
  assert.is(physOf(b, mapB), phys);
  assert.is(host.pageTablePages(), 0, 'nothing is split before a UE');
  return { host, size, h, a, b, fdA, fdB, mapA, mapB, extraB, phys };
}

/** The leaves of `proc` at each address. */
function leavesAt(proc: SimProcess, addrs: readonly bigint[]): (PageTableLeaf | null)[] {
  return addrs.map((va) => proc.pageTableLeaf(va));
}

/**
 * The shape HGM must give a mapping `map` of hugepage 0 (poisoned at the raw pages
 * `rawOffsets`, each neither first nor last of its 2 MiB region) and a healthy hugepage 1.
 */
function expectHgmShape(proc: SimProcess, size: HugepageSize, map: bigint, rawOffsets: readonly number[]): void {
  const h = H[size];
  const regions = new Set(rawOffsets.map((o) => Math.floor(o / MB2)));
  const isPoisoned = (va: bigint) => rawOffsets.some((o) => map + rawOf(o) === va - (va % big(PAGE)));
  for (const off of rawOffsets) {
    const raw = map + rawOf(off);
    assert.equal(
      leavesAt(proc, [raw, raw + 0x40n, raw + 0xfffn]),
      [pte(true), pte(true), pte(true)],
      `the poisoned raw page at +0x${hex(rawOf(off))} is a HWPOISON PTE`,
    );
    // Its neighbours and the first and last byte of its 2 MiB region: present PTEs.
    const region = map + big(Math.floor(off / MB2) * MB2);
    const around = [raw - 1n, raw + 0x1000n, region, region + big(MB2 - 1)];
    assert.equal(leavesAt(proc, around), around.map((va) => pte(isPoisoned(va))), 'its 2 MiB region is mapped by PTEs');
  }
  if (size === '1G') {
    // The 2 MiB regions without a poisoned raw page stay PMD leaves of the split PUD.
    for (const region of [0, 1, 4, 511]) {
      if (regions.has(region)) continue;
      const at = map + big(region * MB2);
      assert.equal(leavesAt(proc, [at, at + big(MB2 - 1)]), [leaf('pmd'), leaf('pmd')], `region ${region} is a PMD leaf`);
    }
  }
  assert.equal(leavesAt(proc, [map + big(h), map + big(2 * h - 1)]), [leaf(HUGE_LEVEL[size]), leaf(HUGE_LEVEL[size])], 'hugepage 1 stays huge');
}

/** `fn` must fail like expectCleanFailure and leave the page tables as they were. */
function expectCleanFailureWithTables(
  host: SimHost,
  procs: readonly SimProcess[],
  probes: readonly [SimProcess, bigint][],
  fn: () => unknown,
  code: string,
  syscall?: string,
): void {
  const tables = host.pageTablePages();
  const leaves = probes.map(([p, va]) => p.pageTableLeaf(va));
  expectCleanFailure(host, procs, fn, code, syscall);
  assert.is(host.pageTablePages(), tables);
  assert.equal(
    probes.map(([p, va]) => p.pageTableLeaf(va)),
    leaves,
  );
}

export function defineHgm(suite: uvu.Test, createHost: CreateHost): void {
  for (const size of SIZES) {
    const lsb = 12;
    const off = UE_OFF[size];
    const raw = rawOf(off);

    // ---- the first UE: signals, counters, log, page-table shape -------------------------
    for (const earlyKill of [false, true]) {
      for (const event of ['consumed (AR)', 'patrol scrub (AO)'] as const) {
        suite(`HGM ${size}, ${event}, early_kill=${earlyKill ? 1 : 0}: the raw page's PTE is poisoned in every mapper, lsb 12`, async () => {
          const s = await twoMappers(createHost, size, { earlyKill });
          const consumed = event === 'consumed (AR)';
          const pools = s.host.hugepages(size);
          s.host.injectUE(s.phys + big(off), consumed ? { consumer: s.a } : {});

          const aSignals = consumed
            ? [sigbus(BUS_MCEERR_AR, s.mapA + raw, lsb)]
            : earlyKill
              ? [sigbus(BUS_MCEERR_AO, s.mapA + raw, lsb)]
              : [];
          const bSignals = earlyKill ? [sigbus(BUS_MCEERR_AO, s.mapB + raw, lsb)] : [];
          assert.equal(s.a.signals, aSignals);
          assert.equal(s.b.signals, bSignals);
          assert.ok(s.a.alive && s.b.alive);

          const pfn = hex(pfnOf(s.phys + raw));
          const sending = (p: SimProcess, comm: string) =>
            `Memory failure: 0x${pfn}: Sending SIGBUS to ${comm}:${p.pid} due to hardware memory corruption`;
          assert.equal(s.host.kernelLog(), [
            ...(consumed ? [`mce: Uncorrected hardware memory error in user-access at ${hex(s.phys + big(off))}`] : []),
            ...(aSignals.length ? [sending(s.a, 'vmm-a')] : []),
            ...(bSignals.length ? [sending(s.b, 'vmm-b')] : []),
            `Memory failure: 0x${pfn}: recovery action for huge page: Recovered`,
          ]);
          assert.equal(s.host.memoryFailureStats(), stats(1));
          assert.is(s.host.meminfo().HardwareCorrupted, 4);
          assert.equal(s.host.hugepages(size), pools, 'nothing leaves the pool');

          expectHgmShape(s.a, size, s.mapA, [off]);
          expectHgmShape(s.b, size, s.mapB, [off]);
          assert.is(s.b.pageTableLeaf(s.extraB), null, "B's other mapping of hugepage 1 was never faulted in");
          assert.is(s.host.pageTablePages(), 2 * SPLIT_PAGES[size], 'one split per mapper');

          // Translations: the poisoned raw page has none, its neighbours keep theirs.
          for (const [p, map] of [[s.a, s.mapA], [s.b, s.mapB]] as const) {
            assert.is(p.translate(map + raw), null);
            assert.is(p.translate(map + raw + 0xfffn), null);
            assert.is(p.translate(map + raw - 1n), s.phys + raw - 1n);
            assert.is(p.translate(map + raw + 0x1000n), s.phys + raw + 0x1000n);
            assert.is(p.translate(map), s.phys);
          }
        });
      }
    }

    // ---- accesses after the split ------------------------------------------------------
    suite(`HGM ${size}: only the poisoned raw page faults (AR, exact address, lsb 12, the do_sigbus line, no machine check); every other byte is reachable`, async () => {
      const s = await twoMappers(createHost, size);
      s.host.injectUE(s.phys + big(off));
      assert.equal(s.a.signals, []);
      assert.equal(s.b.signals, []);
      const log = s.host.kernelLog();

      for (const [p, map] of [[s.a, s.mapA], [s.b, s.mapB]] as const) {
        const before = p.signals.length;
        const at = map + raw + 0x123n;
        const signal = sigbus(BUS_MCEERR_AR, at, lsb);
        assert.equal(p.read(at, 8), { ok: false, signal });
        // A range that starts before the raw page faults at the raw page's first byte.
        const edge = sigbus(BUS_MCEERR_AR, map + raw, lsb);
        assert.equal(p.write(map + raw - 0x10n, 0x20), { ok: false, signal: edge });
        assert.equal(p.signals.slice(before), [signal, edge]);
        assert.equal(p.read(map, Number(raw)), { ok: true }, 'every byte before it');
        assert.equal(p.write(map + raw + 0x1000n, 2 * s.h - Number(raw) - PAGE), { ok: true }, 'every byte after it');
        assert.ok(p.alive);
      }
      const killing = (comm: string, pid: number, at: bigint) => `MCE: Killing ${comm}:${pid} due to hardware memory corruption fault at ${hex(at)}`;
      assert.equal(s.host.kernelLog(), [
        ...log,
        killing('vmm-a', s.a.pid, s.mapA + raw + 0x123n),
        killing('vmm-a', s.a.pid, s.mapA + raw),
        killing('vmm-b', s.b.pid, s.mapB + raw + 0x123n),
        killing('vmm-b', s.b.pid, s.mapB + raw),
      ], 'a HWPOISON PTE raises no machine check; x86 do_sigbus logs each fault');
      assert.equal(s.host.memoryFailureStats(), stats(1));
      assert.is(s.host.pageTablePages(), 2 * SPLIT_PAGES[size], 'accesses split nothing');
      // pread stops at the poisoned raw page (any policy).
      assert.is(s.a.pread(s.fdA, s.h, 0), Number(raw));
      expectError(() => s.a.pread(s.fdA, 1, Number(raw) + 5), 'EIO', 'pread');
    });

    // ---- counting page-table pages ------------------------------------------------------
    suite(`HGM ${size}: new raw pages reuse the split tables; only a newly split 2 MiB region or hugepage costs a table per mapper`, async () => {
      const s = await twoMappers(createHost, size);
      const per = SPLIT_PAGES[size];
      s.host.injectUE(s.phys + big(off), { consumer: s.a });
      assert.is(s.host.pageTablePages(), 2 * per);

      // Another raw page of the same 2 MiB region: no new table.
      const same = off + 0x3000;
      s.host.injectUE(s.phys + big(same), { consumer: s.b });
      assert.is(s.host.pageTablePages(), 2 * per);
      assert.equal(s.b.signals, [sigbus(BUS_MCEERR_AR, s.mapB + rawOf(same), lsb)]);
      assert.equal(s.host.memoryFailureStats(), stats(2), 'a second raw page of an HGM hugepage is recovered too');
      assert.equal(s.host.kernelLog().slice(-1), [
        `Memory failure: 0x${hex(pfnOf(s.phys + rawOf(same)))}: recovery action for huge page: Recovered`,
      ]);
      const poisoned = [off, same];

      if (size === '1G') {
        // Another 2 MiB region of the same 1 GiB page: one more PTE table per mapper.
        const other = 200 * MB2 + 0x7000;
        s.host.injectUE(s.phys + big(other), { consumer: s.a });
        assert.is(s.host.pageTablePages(), 2 * (1 + 2));
        poisoned.push(other);
      }
      expectHgmShape(s.a, size, s.mapA, poisoned);
      expectHgmShape(s.b, size, s.mapB, poisoned);

      // Hugepage 1: its own split in both mappers; B's unfaulted second mapping stays empty.
      const one = s.h + 0x9000;
      s.host.injectUE(s.phys + big(one));
      assert.is(s.host.pageTablePages(), (size === '1G' ? 6 : 2) + 2 * per);
      assert.equal(s.a.pageTableLeaf(s.mapA + rawOf(one)), pte(true));
      assert.equal(s.b.pageTableLeaf(s.mapB + rawOf(one)), pte(true));
      assert.is(s.b.pageTableLeaf(s.extraB + 0x9000n), null);
      // Faulting the second mapping in splits it at once.
      assert.equal(s.b.read(s.extraB, 0x9000), { ok: true });
      assert.equal(s.b.pageTableLeaf(s.extraB + 0x9000n), pte(true));
      assert.equal(s.b.pageTableLeaf(s.extraB + 0xa000n), pte(false));
      assert.is(s.host.pageTablePages(), (size === '1G' ? 6 : 2) + 3 * per);
      assert.equal(s.host.memoryFailureStats(), stats(size === '1G' ? 4 : 3));
      assert.is(s.host.meminfo().HardwareCorrupted, 4 * (size === '1G' ? 4 : 3));
    });

    // ---- fault-in of an already poisoned hugepage -----------------------------------------
    suite(`HGM ${size}: a third process faulting the poisoned hugepage in gets it split at once`, async () => {
      const s = await twoMappers(createHost, size);
      const per = SPLIT_PAGES[size];
      const poisoned = size === '1G' ? [off, 7 * MB2 + 0x1000] : [off, 0x1ff000 - 0x3000];
      for (const o of poisoned) s.host.injectUE(s.phys + big(o), { consumer: s.a });
      const tables = s.host.pageTablePages();
      assert.is(tables, 2 * (size === '1G' ? 3 : 1));

      const c = s.host.spawn({ ...VMM, name: 'vmm-c' });
      const fdC = s.a.sendFd(s.fdA, c);
      const mapC = c.mmap(0, 2 * s.h, RW, MAP_SHARED, fdC, 0);
      assert.equal(leavesAt(c, [mapC, mapC + raw]), [null, null], 'nothing faulted in yet');
      assert.equal(c.read(mapC, Number(raw)), { ok: true });
      assert.equal(c.read(mapC + big(s.h), 1), { ok: true });
      expectHgmShape(c, size, mapC, poisoned);
      assert.is(s.host.pageTablePages(), tables + (size === '1G' ? 3 : per));
      assert.is(c.translate(mapC + raw), null);
      assert.is(c.translate(mapC + raw + 0x1000n), s.phys + raw + 0x1000n);
      const log = s.host.kernelLog();
      const killing = (comm: string, pid: number, at: bigint) => `MCE: Killing ${comm}:${pid} due to hardware memory corruption fault at ${hex(at)}`;
      assert.equal(c.read(mapC + raw + 8n, 1), { ok: false, signal: sigbus(BUS_MCEERR_AR, mapC + raw + 8n, lsb) });
      assert.equal(c.signals, [sigbus(BUS_MCEERR_AR, mapC + raw + 8n, lsb)], 'no signal at fault-in');
      assert.equal(s.host.kernelLog(), [...log, killing('vmm-c', c.pid, mapC + raw + 8n)]);

      // A process whose first touch is the poisoned raw page: mapped, split, then SIGBUS.
      const d = s.host.spawn({ ...VMM, name: 'vmm-d' });
      const mapD = d.mmap(0, s.h, RW, MAP_SHARED, s.a.sendFd(s.fdA, d), 0);
      const at = mapD + raw + 0x10n;
      assert.equal(d.write(at, 4), { ok: false, signal: sigbus(BUS_MCEERR_AR, at, lsb) });
      assert.equal(d.pageTableLeaf(mapD + raw), pte(true));
      assert.equal(d.pageTableLeaf(mapD), size === '1G' ? leaf('pmd') : pte());
      assert.is(d.translate(mapD), s.phys);
      assert.equal(s.host.kernelLog().slice(log.length + 1), [killing('vmm-d', d.pid, at)]);
      assert.equal(s.host.memoryFailureStats(), stats(2));
    });

    // ---- the same raw page again ----------------------------------------------------------
    suite(`HGM ${size}: a second UE on the same raw page is "already poisoned page: Failed", AR to the consumer only`, async () => {
      const s = await twoMappers(createHost, size, { earlyKill: true });
      s.host.injectUE(s.phys + big(off));
      const tables = s.host.pageTablePages();
      const aSignals = [...s.a.signals];
      const before = s.host.kernelLog().length;
      const phys = s.phys + raw + 0x80n;
      s.host.injectUE(phys, { consumer: s.b });
      assert.equal(s.b.signals.slice(1), [sigbus(BUS_MCEERR_AR, s.mapB + raw, lsb)]);
      assert.equal(s.a.signals, aSignals, 'no AO for an already poisoned raw page');
      const pfn = hex(pfnOf(phys));
      assert.equal(s.host.kernelLog().slice(before), [
        `mce: Uncorrected hardware memory error in user-access at ${hex(phys)}`,
        `Memory failure: 0x${pfn}: Sending SIGBUS to vmm-b:${s.b.pid} due to hardware memory corruption`,
        `Memory failure: 0x${pfn}: recovery action for already poisoned page: Failed`,
      ]);
      assert.equal(s.host.memoryFailureStats(), stats(1), 'not counted');
      assert.is(s.host.meminfo().HardwareCorrupted, 4);
      assert.is(s.host.pageTablePages(), tables);
      expectHgmShape(s.b, size, s.mapB, [off]);
    });

    suite(`HGM ${size}: keepVersion v3 does not apply: a second real UE on another raw page is recovered`, async () => {
      const s = await twoMappers(createHost, size, { host: { keepVersion: 'v3' } });
      s.host.injectUE(s.phys + 0x1000n, { consumer: s.a });
      s.host.injectUE(s.phys + big(off), { consumer: s.a });
      assert.equal(s.a.signals, [sigbus(BUS_MCEERR_AR, s.mapA + 0x1000n, lsb), sigbus(BUS_MCEERR_AR, s.mapA + raw, lsb)]);
      assert.equal(s.host.memoryFailureStats(), stats(2));
      assert.equal(s.a.pageTableLeaf(s.mapA + raw), pte(true));
    });

    // ---- MADV_HWPOISON ------------------------------------------------------------------
    suite(`HGM ${size}: MADV_HWPOISON returns 0 with AR lsb 12; the same raw page again reaches its HWPOISON PTE: EFAULT, nothing changes`, async () => {
      const s = await twoMappers(createHost, size);
      const addr = s.mapA + raw;
      assert.is(s.a.madvise(addr, PAGE, MADV_HWPOISON), 0);
      assert.equal(s.a.signals, [sigbus(BUS_MCEERR_AR, addr, lsb)]);
      assert.equal(s.b.signals, [], 'late kill');
      const pfn = hex(pfnOf(s.phys + raw));
      assert.equal(s.host.kernelLog(), [
        `Injecting memory failure for pfn 0x${pfn} at process virtual address 0x${hex(addr)}`,
        `Memory failure: 0x${pfn}: Sending SIGBUS to vmm-a:${s.a.pid} due to hardware memory corruption`,
        `Memory failure: 0x${pfn}: recovery action for huge page: Recovered`,
      ]);
      assert.equal(s.host.memoryFailureStats(), stats(1));
      expectHgmShape(s.a, size, s.mapA, [off]);
      expectHgmShape(s.b, size, s.mapB, [off]);
      assert.is(s.host.pageTablePages(), 2 * SPLIT_PAGES[size]);

      const procs = [s.a, s.b];
      const probes: [SimProcess, bigint][] = [[s.a, addr], [s.b, s.mapB + raw], [s.a, s.mapA + big(s.h)]];
      // GUP meets the HWPOISON PTE (vm_fault_to_errno): EFAULT, not EHWPOISON.
      expectCleanFailureWithTables(s.host, procs, probes, () => s.a.madvise(addr, PAGE, MADV_HWPOISON), 'EFAULT', 'madvise');
      expectCleanFailureWithTables(s.host, procs, probes, () => s.b.madvise(s.mapB + raw, PAGE, MADV_HWPOISON), 'EFAULT', 'madvise');
      // Poisoned by MADV_HWPOISON only, the raw page is still unreachable: its PTE is a HWPOISON entry.
      assert.equal(s.a.read(addr + 1n, 1), { ok: false, signal: sigbus(BUS_MCEERR_AR, addr + 1n, lsb) });

      // Another raw page of the same hugepage (unlike DEFAULT, which has unmapped it: EFAULT).
      // In a 1 GiB page it lies in another 2 MiB region: one more PTE table per mapper.
      const second = size === '1G' ? 9 * MB2 + 0x4000 : 0x1000;
      assert.is(s.a.madvise(s.mapA + big(second), PAGE, MADV_HWPOISON), 0);
      assert.equal(s.a.signals.slice(-1), [sigbus(BUS_MCEERR_AR, s.mapA + big(second), lsb)]);
      assert.equal(s.host.memoryFailureStats(), stats(2));
      assert.is(s.host.pageTablePages(), 2 * SPLIT_PAGES[size] + (size === '1G' ? 2 : 0));
      expectHgmShape(s.a, size, s.mapA, [off, second]);
      expectHgmShape(s.b, size, s.mapB, [off, second]);
    });

    suite(`HGM ${size}: MADV_HWPOISON reaching a HWPOISON PTE in a later step fails with EFAULT; the earlier step stays applied`, async () => {
      const s = await twoMappers(createHost, size);
      // Poison raw page `raw` of hugepage 1.
      s.host.injectUE(s.phys + big(s.h) + raw);
      // Step 1: hugepage 0, healthy, poisoned; step 2: hugepage 1, the HWPOISON PTE.
      expectError(() => s.a.madvise(s.mapA + raw, s.h + PAGE, MADV_HWPOISON), 'EFAULT', 'madvise');
      assert.equal(s.a.signals, [sigbus(BUS_MCEERR_AR, s.mapA + raw, lsb)], 'step 1 ran');
      assert.equal(s.a.pageTableLeaf(s.mapA + raw), pte(true), 'hugepage 0 was split');
      assert.equal(s.host.memoryFailureStats(), stats(2));
      // Two steps reaching one raw page of another file's hugepage (through m0, then m1):
      // step 2 faults m1 in, split around the raw page step 1 poisoned: EFAULT.
      const fd = s.a.memfdCreate('more', memfdFlags(size, 'DEFAULT'));
      s.a.ftruncate(fd, s.h);
      const m1 = s.a.mmap(0, s.h, RW, MAP_SHARED, fd, 0);
      const m0 = s.a.mmap(0, s.h, RW, MAP_SHARED, fd, 0);
      assert.is(m0, m1 - big(s.h));
      expectError(() => s.a.madvise(m0 + 0x2000n, s.h + PAGE, MADV_HWPOISON), 'EFAULT', 'madvise');
      // Step 1's victims are A's two VMAs of the page (collect_procs_file), m1's unfaulted too.
      assert.equal(s.a.signals.slice(1), [sigbus(BUS_MCEERR_AR, m0 + 0x2000n, lsb), sigbus(BUS_MCEERR_AR, m1 + 0x2000n, lsb)]);
      assert.equal(leavesAt(s.a, [m0 + 0x2000n, m1 + 0x2000n]), [pte(true), pte(true)], 'both mappings faulted in and split');
      assert.equal(s.host.memoryFailureStats(), stats(3));
    });

    // ---- release -------------------------------------------------------------------------
    suite(`HGM ${size}: unmapping frees the tables; release dissolves the poisoned hugepage (nr-1)`, async () => {
      const s = await twoMappers(createHost, size);
      const nr = s.host.hugepages(size).nr;
      const free = s.host.hugepages(size).free;
      s.host.injectUE(s.phys + big(off), { consumer: s.b });
      s.a.munmap(s.mapA, 2 * s.h);
      assert.is(s.host.pageTablePages(), SPLIT_PAGES[size], "A's tables are freed");
      assert.is(s.a.pageTableLeaf(s.mapA + raw), null);
      s.a.close(s.fdA);
      s.b.exit();
      assert.is(s.host.pageTablePages(), 0);
      assert.equal(s.host.hugepages(size), { nr: nr - 1, free: free + 1, resv: 0, surplus: 0 }, 'dissolved, not leaked');
      assert.not.ok(s.host.freeHugepages(size).includes(s.phys));
      // Its raw pages are buddy memory now.
      s.host.injectUE(s.phys + raw);
      s.host.injectUE(s.phys + raw + 0x1000n);
      assert.equal(s.host.kernelLog().slice(-2), [
        `Memory failure: 0x${hex(pfnOf(s.phys + raw))}: recovery action for already poisoned page: Failed`,
        `Memory failure: 0x${hex(pfnOf(s.phys + raw + 0x1000n))}: recovery action for free buddy page: Recovered`,
      ]);
    });

    suite(`HGM ${size}: truncating and punching the poisoned hugepage out clears the split leaves and dissolves it`, async () => {
      const s = await twoMappers(createHost, size);
      const nr = s.host.hugepages(size).nr;
      const free = s.host.hugepages(size).free;
      // Hugepage 1 poisoned, then truncated away.
      s.host.injectUE(s.phys + big(s.h) + raw);
      assert.is(s.host.pageTablePages(), 2 * SPLIT_PAGES[size]);
      s.a.ftruncate(s.fdA, s.h);
      assert.is(s.host.pageTablePages(), 0);
      assert.equal(leavesAt(s.a, [s.mapA + big(s.h), s.mapA + big(s.h) + raw]), [null, null]);
      assert.equal(s.b.pageTableLeaf(s.mapB + big(s.h) + raw), null);
      assert.equal(s.host.hugepages(size), { nr: nr - 1, free, resv: 0, surplus: 0 });
      assert.equal(s.a.read(s.mapA + big(s.h), 1), { ok: false, signal: sigbus(BUS_ADRERR, s.mapA + big(s.h), 0) });

      // Hugepage 0 poisoned, then punched out; a new access faults a fresh, unsplit hugepage in.
      s.host.injectUE(s.phys + big(off));
      assert.is(s.host.pageTablePages(), 2 * SPLIT_PAGES[size]);
      s.a.fallocate(s.fdA, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, s.h);
      assert.is(s.host.pageTablePages(), 0);
      assert.equal(s.host.hugepages(size), { nr: nr - 2, free, resv: 0, surplus: 0 });
      assert.equal(s.b.read(s.mapB + raw, PAGE), { ok: true });
      assert.equal(s.b.pageTableLeaf(s.mapB + raw), leaf(HUGE_LEVEL[size]));
      assert.ok(s.b.translate(s.mapB) !== s.phys);
    });

    suite(`HGM ${size}: a mapper killed by its AO exits and frees its tables`, async () => {
      const s = await twoMappers(createHost, size, { earlyKill: true, bHandlesSigbus: false });
      s.host.injectUE(s.phys + big(off));
      assert.equal(s.b.signals, [sigbus(BUS_MCEERR_AO, s.mapB + raw, lsb)]);
      assert.not.ok(s.b.alive);
      assert.ok(s.a.alive);
      assert.is(s.host.pageTablePages(), SPLIT_PAGES[size]);
      expectError(() => s.b.pageTableLeaf(s.mapB), 'ESRCH', 'pageTableLeaf');
    });

    // ---- what HGM does not change ---------------------------------------------------------
    suite(`HGM host, KEEP memfd (${size}): still KEEP, nothing split, the translation stays huge`, async () => {
      const s = await twoMappers(createHost, size, { policy: 'KEEP' });
      s.host.injectUE(s.phys + big(off), { consumer: s.a });
      assert.equal(s.a.signals, [sigbus(BUS_MCEERR_AR, s.mapA + raw, 12)]);
      assert.is(s.host.pageTablePages(), 0);
      for (const [p, map] of [[s.a, s.mapA], [s.b, s.mapB]] as const) {
        assert.equal(leavesAt(p, [map, map + raw, map + big(s.h)]), [
          leaf(HUGE_LEVEL[size]),
          leaf(HUGE_LEVEL[size]),
          leaf(HUGE_LEVEL[size]),
        ]);
        assert.is(p.translate(map + raw), s.phys + raw);
      }
      // The corrupted raw page raises a new machine check (KEEP), not a HWPOISON PTE fault.
      const before = s.host.kernelLog().length;
      assert.equal(s.b.read(s.mapB + raw, 1), { ok: false, signal: sigbus(BUS_MCEERR_AR, s.mapB + raw, 12) });
      assert.equal(s.host.kernelLog()[before], `mce: Uncorrected hardware memory error in user-access at ${hex(s.phys + raw)}`);
      assert.equal(s.host.kernelLog().slice(before + 1), [
        `Memory failure: 0x${hex(pfnOf(s.phys + raw))}: Sending SIGBUS to vmm-b:${s.b.pid} due to hardware memory corruption`,
        `Memory failure: 0x${hex(pfnOf(s.phys + raw))}: recovery action for already poisoned page: Failed`,
      ]);
    });

    suite(`HGM host, MAP_PRIVATE (${size}): private hugepages stay DEFAULT (lsb hs, HWPOISON leaf, dissolved)`, async () => {
      const host = await createHost({ hugepages: { '2M': 4, '1G': 3 }, hgm: true });
      const p = host.spawn({ ...VMM, name: 'priv' });
      const h = H[size];
      const fd = p.memfdCreate('guest', memfdFlags(size, 'DEFAULT'));
      p.ftruncate(fd, h);
      const priv = p.mmap(0, h, RW, MAP_PRIVATE, fd, 0);
      const anonFlags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | (size === '1G' ? MAP_HUGE_1GB : 0);
      const anon = p.mmap(0, h, RW, anonFlags, -1, 0);
      assert.equal(p.write(priv, h), { ok: true });
      assert.equal(p.write(anon, h), { ok: true });
      const nr = host.hugepages(size).nr;
      for (const map of [priv, anon]) {
        host.injectUE(physOf(p, map) + big(off), { consumer: p });
        assert.equal(p.signals.slice(-1), [sigbus(BUS_MCEERR_AR, map + raw, HS[size])]);
        assert.equal(leavesAt(p, [map, map + raw]), [leaf(HUGE_LEVEL[size], true), leaf(HUGE_LEVEL[size], true)]);
        assert.is(p.translate(map + raw + 0x1000n), null);
      }
      assert.is(host.pageTablePages(), 0);
      assert.is(host.hugepages(size).nr, nr - 2, 'dissolved at once');
      assert.equal(host.memoryFailureStats(), stats(2));
    });
  }

  suite('HGM host, MAP_SHARED|MAP_ANONYMOUS: its unnamed file follows HGM', async () => {
    const host = await createHost({ hugepages: { '2M': 2 }, hgm: true });
    const p = host.spawn({ ...VMM, name: 'shm' });
    const map = p.mmap(0, H['2M'], RW, MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
    assert.equal(p.write(map, H['2M']), { ok: true });
    host.injectUE(physOf(p, map) + 0x7000n, { consumer: p });
    assert.equal(p.signals, [sigbus(BUS_MCEERR_AR, map + 0x7000n, 12)]);
    assert.equal(leavesAt(p, [map + 0x7000n, map]), [pte(true), pte(false)]);
    assert.is(host.pageTablePages(), 1);
    p.munmap(map, H['2M']);
    assert.is(host.pageTablePages(), 0);
    assert.equal(host.hugepages('2M'), { nr: 1, free: 1, resv: 0, surplus: 0 }, 'released: dissolved');
  });

  suite('HGM: a panic frees no page-table pages; pageTableLeaf then fails with EIO', async () => {
    const s = await twoMappers(createHost, '2M');
    s.host.injectUE(s.phys + 0x1000n);
    assert.is(s.host.pageTablePages(), 2);
    s.host.sysctl('vm.memory_failure_recovery', 0);
    s.host.injectUE(s.phys + 0x2000n);
    assert.ok(s.host.panicked);
    assert.is(s.host.pageTablePages(), 2, 'the machine stopped: nothing was torn down');
    expectError(() => s.a.pageTableLeaf(s.mapA), 'EIO', 'pageTableLeaf');
  });

  // ---- pageTableLeaf without HGM ------------------------------------------------------------
  for (const size of SIZES) {
    const off = UE_OFF[size];
    const raw = rawOf(off);
    const huge = HUGE_LEVEL[size];

    suite(`pageTableLeaf ${size}, no HGM: DEFAULT offlining leaves a HWPOISON ${huge} entry where the leaf was present`, async () => {
      const s = await twoMappers(createHost, size, { hgm: false });
      assert.equal(leavesAt(s.a, [s.mapA, s.mapA + raw, s.mapA + big(2 * s.h - 1)]), [leaf(huge), leaf(huge), leaf(huge)]);
      s.host.injectUE(s.phys + big(off), { consumer: s.a });
      for (const [p, map] of [[s.a, s.mapA], [s.b, s.mapB]] as const) {
        assert.equal(leavesAt(p, [map, map + raw, map + big(s.h - 1)]), [leaf(huge, true), leaf(huge, true), leaf(huge, true)]);
        assert.equal(p.pageTableLeaf(map + big(s.h)), leaf(huge), 'hugepage 1 is untouched');
      }
      assert.is(s.b.pageTableLeaf(s.extraB), null, 'an unfaulted mapping has no leaf');
      assert.is(s.host.pageTablePages(), 0);
      // A new mapper cannot fault it in: nothing is installed.
      const c = s.host.spawn(VMM);
      const mapC = c.mmap(0, s.h, RW, MAP_SHARED, s.a.sendFd(s.fdA, c), 0);
      assert.equal(c.read(mapC + raw, 1), { ok: false, signal: sigbus(BUS_MCEERR_AR, mapC + raw, HS[size]) });
      assert.is(c.pageTableLeaf(mapC), null);
      // Unmapped: no leaf.
      s.a.munmap(s.mapA, 2 * s.h);
      assert.is(s.a.pageTableLeaf(s.mapA + raw), null);
    });

    suite(`pageTableLeaf ${size}, no HGM: a KEEP hugepage stays a present ${huge} leaf`, async () => {
      const s = await twoMappers(createHost, size, { hgm: false, policy: 'KEEP' });
      s.host.injectUE(s.phys + big(off), { consumer: s.a });
      assert.equal(leavesAt(s.b, [s.mapB, s.mapB + raw]), [leaf(huge), leaf(huge)]);
      assert.equal(s.a.pageTableLeaf(s.mapA + raw), leaf(huge));
      assert.is(s.host.pageTablePages(), 0);
    });
  }

  suite('a 1 GiB mapping where 2 MiB mappings (THP, HugeTLB) were unmapped is a PUD leaf: their PMD table went with them', async () => {
    const host = await createHost({ hugepages: { '2M': 2, '1G': 1 }, thpPages: 1 });
    const p = host.spawn(VMM);
    const at = 0x600040000000n;
    const thp = p.mmap(at, MB2, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    const huge2M = p.mmap(at + big(MB2), MB2, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_FIXED, -1, 0);
    assert.equal(p.write(thp, 2 * MB2), { ok: true });
    p.munmap(thp, MB2);
    assert.equal(p.pageTableLeaf(huge2M), leaf('pmd'), 'the other 2 MiB mapping keeps the table');
    p.munmap(huge2M, MB2);
    const fd = p.memfdCreate('guest', memfdFlags('1G', 'DEFAULT'));
    p.ftruncate(fd, H['1G']);
    assert.is(p.mmap(at, H['1G'], RW, MAP_SHARED | MAP_FIXED, fd, 0), at);
    assert.equal(p.write(at + 0x40n, 1), { ok: true });
    assert.equal(p.pageTableLeaf(at), leaf('pud'));
    assert.ok(p.translate(at) !== null, 'faulted in');
  });

  suite('pageTableLeaf: empty where nothing is mapped or faulted in; it never faults', async () => {
    const host = await createHost({ hugepages: { '2M': 2 }, hgm: true });
    const p = host.spawn(VMM);
    const h = H['2M'];
    const fd = p.memfdCreate('guest', memfdFlags('2M', 'DEFAULT'));
    p.ftruncate(fd, h);
    const map = p.mmap(0, h, RW, MAP_SHARED, fd, 0);
    // Read-only, so it does not extend the file: its hugepage 1 lies beyond EOF.
    const ro = p.mmap(0, 2 * h, PROT_READ, MAP_SHARED, fd, 0);
    assert.is(ro, map - big(2 * h));
    const pools = host.hugepages('2M');
    for (const va of [0, 0x1000, ro - 1n, ro, ro + big(h + 5), map, map + 0x1234n, map + big(h), 0x7fff_ffff_f000]) {
      assert.is(p.pageTableLeaf(va), null);
    }
    assert.equal(host.hugepages('2M'), pools, 'nothing was faulted in');
    // Beyond EOF stays empty after a failed access too.
    assert.equal(p.read(ro + big(h), 1), { ok: false, signal: sigbus(BUS_ADRERR, ro + big(h), 0) });
    assert.is(p.pageTableLeaf(ro + big(h)), null);
    assert.equal(p.write(map, 1), { ok: true });
    assert.equal(p.pageTableLeaf(Number(map) + 5), leaf('pmd'));
    assert.equal(p.pageTableLeaf(map + 5n), leaf('pmd'));
  });

  suite('pageTableLeaf: bad numbers are EINVAL, a dead process ESRCH', async () => {
    const host = await createHost({ hugepages: { '2M': 2 }, hgm: true });
    const p = host.spawn(VMM);
    const other = host.spawn(VMM);
    for (const bad of [-1, 0.5, NaN, Infinity, 2 ** 53, -1n, 2n ** 53n, '4096', null] as unknown[]) {
      expectCleanFailure(host, [p, other], () => p.pageTableLeaf(bad as Num), 'EINVAL', 'pageTableLeaf');
    }
    other.exit();
    expectCleanFailure(host, [p, other], () => other.pageTableLeaf(0x7effffe00000n), 'ESRCH', 'pageTableLeaf');
    // Errors win in order: a dead process before a bad number.
    expectCleanFailure(host, [p, other], () => other.pageTableLeaf(-1), 'ESRCH', 'pageTableLeaf');
  });
}
