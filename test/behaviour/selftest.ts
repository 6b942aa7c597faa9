// The upstream selftests: tools/testing/selftests/mm/hugetlb-mfr.c (posted with the
// MFD_MF_KEEP_UE_MAPPED series v3) for both hugepage sizes, 1..8 poisoned raw pages and both
// policies, and its companion hugetlb-read-hwpoison.c (pread stops before the poisoned raw
// page: hugetlbfs_read_iter, adjust_range_hwpoison).
import type * as uvu from 'uvu';
import * as assert from 'uvu/assert';
import { BUS_MCEERR_AR, MADV_HWPOISON, MAP_SHARED } from '../../src/host/constants.js';
import type { HugepageSize } from '../../src/host/types.js';
import {
  expectError,
  H,
  HS,
  memfdFlags,
  PAGE,
  physOf,
  POLICIES,
  type CreateHost,
  type Policy,
  RW,
  sigbus,
  SIZES,
  VMM,
} from './helpers.js';

/** The selftest's offsets, all inside hugepage 0. */
export const SELFTEST_OFFSETS: Readonly<Record<HugepageSize, readonly number[]>> = {
  '2M': [0x020000, 0x041000, 0x07f000, 0x120000, 0x13f000, 0x141000, 0x17f000, 0x18f000],
  '1G': [0x200000, 0x3ff000, 0x801000, 0x2000000, 0x3fff000, 0x4001000, 0x7fff000, 0x8011000],
};

/** A host with at least 4 free hugepages of each size. */
const SELFTEST_HOST = { hugepages: { '2M': 6, '1G': 4 } };

export function defineSelftest(suite: uvu.Test, createHost: CreateHost): void {
  for (const size of SIZES) {
    for (const policy of POLICIES) {
      for (let n = 1; n <= 8; n++) {
        suite(`hugetlb-mfr ${size} ${policy}, ${n} poisoned page(s)`, async () => {
          await hugetlbMfr(createHost, size, policy, n);
        });
      }
    }
  }
  for (const size of SIZES) {
    for (const policy of POLICIES) {
      suite(`hugetlb-read-hwpoison ${size} ${policy}: pread stops at the poisoned raw page`, async () => {
        await readHwpoison(createHost, size, policy);
      });
    }
  }
}

async function hugetlbMfr(createHost: CreateHost, size: HugepageSize, policy: Policy, n: number): Promise<void> {
  const h = H[size];
  const offsets = SELFTEST_OFFSETS[size];
  const host = await createHost(SELFTEST_HOST);
  const proc = host.spawn({ ...VMM, name: 'hugetlb-mfr' });
  const before = host.hugepages(size).nr;
  assert.ok(host.hugepages(size).free >= 4);

  // 1-2: create, size, map and fault in 4 hugepages.
  const fd = proc.memfdCreate('hugetlb_tmp', memfdFlags(size, policy));
  proc.ftruncate(fd, 4 * h);
  const map = proc.mmap(0, 4 * h, RW, MAP_SHARED, fd, 0);
  assert.equal(proc.write(map, 4 * h), { ok: true });
  assert.equal(host.hugepages(size), { nr: before, free: before - 4, resv: 0, surplus: 0 });
  const hugepage0 = physOf(proc, map);

  // 3: poison n raw pages of hugepage 0.
  for (let i = 0; i < n; i++) {
    const addr = map + BigInt(offsets[i]!);
    if (policy === 'KEEP' || i === 0) {
      assert.is(proc.madvise(addr, PAGE, MADV_HWPOISON), 0);
      assert.is(proc.signals.length, i + 1);
      assert.equal(proc.signals[i], sigbus(BUS_MCEERR_AR, addr, policy === 'KEEP' ? 12 : HS[size]));
    } else {
      // DEFAULT unmapped the whole hugepage at i = 0: MADV_HWPOISON cannot reach it.
      expectError(() => proc.madvise(addr, PAGE, MADV_HWPOISON), 'EFAULT', 'madvise');
      assert.is(proc.signals.length, 1);
    }
  }
  const poisoned = policy === 'KEEP' ? n : 1;
  assert.equal(host.memoryFailureStats(), { total: poisoned, ignored: 0, failed: 0, delayed: 0, recovered: poisoned });
  assert.is(host.meminfo().HardwareCorrupted, 4 * poisoned);

  // 4: read back every byte.
  if (policy === 'KEEP') {
    assert.equal(proc.read(map, 4 * h), { ok: true });
    assert.is(proc.signals.length, n);
    assert.is(proc.translate(map), hugepage0, 'the mapping stays huge');
  } else {
    assert.equal(proc.read(map, 4 * h), { ok: false, signal: sigbus(BUS_MCEERR_AR, map, HS[size]) });
    assert.is(proc.signals.length, 2);
    assert.is(proc.translate(map), null);
    assert.equal(proc.read(map + BigInt(h), 3 * h), { ok: true }, 'the other hugepages are intact');
  }
  assert.ok(proc.alive);

  // 5-6: nr is unchanged until release; KEEP dissolves the poisoned hugepage, DEFAULT leaks it.
  assert.is(host.hugepages(size).nr, before);
  proc.ftruncate(fd, 0);
  proc.munmap(map, 4 * h);
  proc.close(fd);
  if (policy === 'KEEP') {
    assert.equal(host.hugepages(size), { nr: before - 1, free: before - 1, resv: 0, surplus: 0 });
  } else {
    assert.equal(host.hugepages(size), { nr: before, free: before - 1, resv: 0, surplus: 0 });
  }
  assert.not.ok(host.freeHugepages(size).includes(hugepage0));
}

async function readHwpoison(createHost: CreateHost, size: HugepageSize, policy: Policy): Promise<void> {
  const h = H[size];
  const host = await createHost(SELFTEST_HOST);
  const proc = host.spawn(VMM);
  const fd = proc.memfdCreate('hugetlb_read_hwpoison', memfdFlags(size, policy));
  proc.ftruncate(fd, h);
  const map = proc.mmap(0, h, RW, MAP_SHARED, fd, 0);
  assert.equal(proc.write(map, h), { ok: true });
  const bad = h / 2 + PAGE;
  assert.is(proc.madvise(map + BigInt(bad), PAGE, MADV_HWPOISON), 0);

  assert.is(proc.pread(fd, h, 0), h / 2 + PAGE);
  assert.is(proc.pread(fd, 100, bad - 10), 10);
  expectError(() => proc.pread(fd, h, bad), 'EIO', 'pread');
  expectError(() => proc.pread(fd, 1, bad + PAGE - 1), 'EIO', 'pread');
  assert.is(proc.pread(fd, h, bad + PAGE), h - bad - PAGE);
  assert.is(proc.pread(fd, h, h), 0, 'at EOF');
  assert.is(proc.pread(fd, 0, 0), 0);
}
