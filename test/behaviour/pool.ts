// HugeTLB pools: the physical layout, the LIFO free list, UEs on free hugepages,
// reservations, fallocate, and HardwareCorrupted accounting.
import type * as uvu from 'uvu';
import * as assert from 'uvu/assert';
import {
  FALLOC_FL_KEEP_SIZE,
  FALLOC_FL_PUNCH_HOLE,
  MADV_HWPOISON,
  MAP_ANONYMOUS,
  MAP_HUGE_1GB,
  MAP_HUGETLB,
  MAP_PRIVATE,
  MAP_SHARED,
  MFD_HUGETLB,
  PROT_READ,
} from '../../src/host/constants.js';
import {
  type CreateHost,
  expectCleanFailure,
  GiB,
  H,
  hex,
  memfdFlags,
  PAGE,
  pfnOf,
  PHYS_BASE,
  physOf,
  RW,
  VMM,
} from './helpers.js';

const h = H['2M'];
const addrs = (base: number, step: number, n: number) => Array.from({ length: n }, (_, i) => BigInt(base + i * step));

export function definePool(suite: uvu.Test, createHost: CreateHost): void {
  suite('boot layout: 1 GiB pool at 4 GiB, 2 MiB pool after it, lowest address on top', async () => {
    const host = await createHost({ hugepages: { '1G': 2, '2M': 3 } });
    assert.equal(host.freeHugepages('1G'), addrs(PHYS_BASE, GiB, 2));
    assert.equal(host.freeHugepages('2M'), addrs(PHYS_BASE + 2 * GiB, h, 3));
    assert.equal(host.hugepages('1G'), { nr: 2, free: 2, resv: 0, surplus: 0 });
    assert.equal(host.hugepages('2M'), { nr: 3, free: 3, resv: 0, surplus: 0 });
    assert.equal(host.meminfo(), {
      HardwareCorrupted: 0,
      HugePages_Total: 3,
      HugePages_Free: 3,
      HugePages_Rsvd: 0,
      HugePages_Surp: 0,
      Hugepagesize: 2048,
      AnonHugePages: 0,
    });
    assert.equal(host.thp(), { total: 0, free: 0, split: 0 }, 'no THP memory by default');
    assert.equal(host.memoryFailureStats(), { total: 0, ignored: 0, failed: 0, delayed: 0, recovered: 0 });
    assert.equal(host.kernelLog(), []);
    assert.is(host.panicked, false);
  });

  suite('without a 1 GiB pool the 2 MiB pool starts at 4 GiB; pids start at 1000', async () => {
    const host = await createHost({ hugepages: { '2M': 2 } });
    assert.equal(host.freeHugepages('2M'), addrs(PHYS_BASE, h, 2));
    assert.equal(host.freeHugepages('1G'), []);
    assert.equal([host.spawn().pid, host.spawn().pid, host.spawn().pid], [1000, 1001, 1002]);
  });

  suite('the free list is a stack: faults pop the top, freed hugepages go on top', async () => {
    const host = await createHost({ hugepages: { '2M': 3 } });
    const p = host.spawn(VMM);
    const fd = p.memfdCreate('lifo', MFD_HUGETLB);
    p.ftruncate(fd, 2 * h);
    const map = p.mmap(0, 2 * h, RW, MAP_SHARED, fd, 0);
    assert.equal(p.write(map + BigInt(h), 1), { ok: true });
    assert.equal(p.write(map, 1), { ok: true });
    assert.is(physOf(p, map + BigInt(h)), BigInt(PHYS_BASE));
    assert.is(physOf(p, map + 5n), BigInt(PHYS_BASE + h + 5));
    // Truncation frees in index order: index 0 (4G+2M), then index 1 (4G), which ends on top.
    p.ftruncate(fd, 0);
    assert.equal(host.freeHugepages('2M'), [BigInt(PHYS_BASE), BigInt(PHYS_BASE + h), BigInt(PHYS_BASE + 2 * h)]);
    assert.is(p.translate(map), null);
  });

  suite('a UE on a free hugepage dissolves it at once', async () => {
    const host = await createHost({ hugepages: { '2M': 4 } });
    const victim = PHYS_BASE + h;
    host.injectUE(victim + 0x3040);
    assert.equal(host.hugepages('2M'), { nr: 3, free: 3, resv: 0, surplus: 0 });
    assert.equal(host.freeHugepages('2M'), [BigInt(PHYS_BASE), BigInt(PHYS_BASE + 2 * h), BigInt(PHYS_BASE + 3 * h)]);
    assert.equal(host.memoryFailureStats(), { total: 1, ignored: 0, failed: 0, delayed: 0, recovered: 1 });
    assert.is(host.meminfo().HardwareCorrupted, 4);
    const pfn = hex(pfnOf(victim + 0x3000));
    assert.equal(host.kernelLog(), [`Memory failure: 0x${pfn}: recovery action for free huge page: Recovered`]);

    // The same raw page again: already poisoned, not counted.
    host.injectUE(victim + 0x3000);
    // Another raw page of the dissolved hugepage is buddy memory now.
    host.injectUE(victim + 0x7000);
    const pfn2 = hex(pfnOf(victim + 0x7000));
    assert.equal(host.kernelLog().slice(1), [
      `Memory failure: 0x${pfn}: recovery action for already poisoned page: Failed`,
      `Memory failure: 0x${pfn2}: recovery action for free buddy page: Recovered`,
    ]);
    assert.equal(host.memoryFailureStats(), { total: 2, ignored: 0, failed: 0, delayed: 0, recovered: 2 });
    assert.is(host.meminfo().HardwareCorrupted, 8);
    assert.equal(host.hugepages('2M'), { nr: 3, free: 3, resv: 0, surplus: 0 });

    // The pool goes on without it.
    const p = host.spawn(VMM);
    const fd = p.memfdCreate('after', MFD_HUGETLB);
    p.ftruncate(fd, 3 * h);
    const map = p.mmap(0, 3 * h, RW, MAP_SHARED, fd, 0);
    assert.equal(p.write(map, 3 * h), { ok: true });
    assert.equal(host.hugepages('2M'), { nr: 3, free: 0, resv: 0, surplus: 0 });
  });

  suite('a UE on a free 1 GiB hugepage', async () => {
    const host = await createHost({ hugepages: { '1G': 2, '2M': 1 } });
    host.injectUE(PHYS_BASE + GiB + 0x12345678);
    assert.equal(host.hugepages('1G'), { nr: 1, free: 1, resv: 0, surplus: 0 });
    assert.equal(host.hugepages('2M'), { nr: 1, free: 1, resv: 0, surplus: 0 });
    assert.equal(host.freeHugepages('1G'), [BigInt(PHYS_BASE)]);
    assert.equal(host.kernelLog(), [
      `Memory failure: 0x${hex(pfnOf(PHYS_BASE + GiB + 0x12345000))}: recovery action for free huge page: Recovered`,
    ]);
  });

  suite('a consumer cannot consume a UE in a free hugepage; outside the pools is EINVAL', async () => {
    const host = await createHost({ hugepages: { '1G': 1, '2M': 2 } });
    const p = host.spawn(VMM);
    expectCleanFailure(host, [p], () => host.injectUE(PHYS_BASE, { consumer: p }), 'EINVAL');
    for (const phys of [0, PHYS_BASE - 1, PHYS_BASE + GiB + 2 * h, 2 ** 52, BigInt(PHYS_BASE + GiB + 2 * h)]) {
      expectCleanFailure(host, [p], () => host.injectUE(phys), 'EINVAL');
    }
    for (const phys of [-1, 1.5, NaN, Infinity, 2n ** 53n, -1n]) {
      expectCleanFailure(host, [p], () => host.injectUE(phys as number), 'EINVAL');
    }
    // A consumer that does not map the page.
    const fd = p.memfdCreate('m', MFD_HUGETLB);
    p.ftruncate(fd, h);
    const map = p.mmap(0, h, RW, MAP_SHARED, fd, 0);
    p.write(map, 1);
    const other = host.spawn(VMM);
    expectCleanFailure(host, [p, other], () => host.injectUE(physOf(p, map), { consumer: other }), 'EINVAL');
    other.exit();
    expectCleanFailure(host, [p, other], () => host.injectUE(physOf(p, map), { consumer: other }), 'ESRCH');
  });

  suite('shared mappings reserve what they may fault in; mmap fails with ENOMEM otherwise', async () => {
    const host = await createHost({ hugepages: { '2M': 4 } });
    const p = host.spawn(VMM);
    const fd = p.memfdCreate('resv', MFD_HUGETLB);
    p.ftruncate(fd, 3 * h);
    const map = p.mmap(0, 3 * h, RW, MAP_SHARED, fd, 0);
    assert.equal(host.hugepages('2M'), { nr: 4, free: 4, resv: 3, surplus: 0 });
    // A second mapping of the same range reserves nothing more.
    const again = p.mmap(0, 3 * h, PROT_READ, MAP_SHARED, fd, 0);
    assert.is(host.hugepages('2M').resv, 3);
    // Faulting in consumes a reservation.
    assert.equal(p.write(map, 1), { ok: true });
    assert.equal(host.hugepages('2M'), { nr: 4, free: 3, resv: 2, surplus: 0 });
    assert.equal(p.read(again, 1), { ok: true }, 'the second mapping finds the page in the page cache');
    assert.equal(host.hugepages('2M'), { nr: 4, free: 3, resv: 2, surplus: 0 });
    // 1 hugepage is left unreserved: a 2-hugepage mapping of another file cannot be backed.
    const fd2 = p.memfdCreate('resv2', MFD_HUGETLB);
    p.ftruncate(fd2, 2 * h);
    expectCleanFailure(host, [p], () => p.mmap(0, 2 * h, RW, MAP_SHARED, fd2, 0), 'ENOMEM', 'mmap');
    const one = p.mmap(0, h, RW, MAP_SHARED, fd2, 0);
    assert.equal(host.hugepages('2M'), { nr: 4, free: 3, resv: 3, surplus: 0 });
    expectCleanFailure(host, [p], () => p.mmap(0, h, RW, MAP_SHARED, fd2, h), 'ENOMEM', 'mmap');
    // Truncation drops the reservations of the removed indices.
    p.ftruncate(fd, h);
    assert.equal(host.hugepages('2M'), { nr: 4, free: 3, resv: 1, surplus: 0 });
    p.munmap(one, h);
    p.close(fd2);
    assert.equal(host.hugepages('2M'), { nr: 4, free: 3, resv: 0, surplus: 0 });
  });

  suite('a writable shared mapping extends the file; beyond EOF a read-only one gets BUS_ADRERR', async () => {
    const host = await createHost({ hugepages: { '2M': 4 } });
    const p = host.spawn(VMM);
    const fd = p.memfdCreate('grow', MFD_HUGETLB);
    const ro = p.mmap(0, h, PROT_READ, MAP_SHARED, fd, 0);
    assert.is(host.hugepages('2M').resv, 1);
    assert.equal(p.read(ro + 8n, 1), { ok: false, signal: { signo: 7, code: 2, addr: ro + 8n, addrLsb: 0 } });
    assert.is(p.pread(fd, PAGE, 0), 0, 'size 0');
    const rw = p.mmap(0, 2 * h, RW, MAP_SHARED, fd, 0);
    assert.is(p.pread(fd, 3 * h, 0), 2 * h, 'size extended to 2 hugepages');
    assert.equal(p.read(ro, h), { ok: true });
    assert.equal(p.write(rw, 2 * h), { ok: true });
    assert.equal(host.hugepages('2M'), { nr: 4, free: 2, resv: 0, surplus: 0 });
  });

  suite('private mappings reserve every hugepage and give back the unused ones on munmap', async () => {
    const host = await createHost({ hugepages: { '2M': 4 } });
    const p = host.spawn(VMM);
    const anon = p.mmap(0, 3 * h, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
    assert.equal(host.hugepages('2M'), { nr: 4, free: 4, resv: 3, surplus: 0 });
    expectCleanFailure(host, [p], () => p.mmap(0, 2 * h, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0), 'ENOMEM');
    assert.equal(p.write(anon + BigInt(h), 1), { ok: true });
    assert.equal(host.hugepages('2M'), { nr: 4, free: 3, resv: 2, surplus: 0 });
    p.munmap(anon, 2 * h);
    assert.equal(host.hugepages('2M'), { nr: 4, free: 4, resv: 1, surplus: 0 });
    assert.is(host.freeHugepages('2M')[0], BigInt(PHYS_BASE), 'the freed private hugepage is on top');
    p.exit();
    assert.equal(host.hugepages('2M'), { nr: 4, free: 4, resv: 0, surplus: 0 });
  });

  suite('shared anonymous mappings and 1 GiB anonymous mappings', async () => {
    const host = await createHost({ hugepages: { '2M': 2, '1G': 1 } });
    const p = host.spawn(VMM);
    const shared = p.mmap(0, h, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
    const big = p.mmap(0, GiB, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_1GB, -1, 0);
    assert.is(big % BigInt(GiB), 0n);
    assert.equal(p.write(shared, h), { ok: true });
    assert.equal(p.write(big, GiB), { ok: true });
    assert.equal(host.hugepages('2M'), { nr: 2, free: 1, resv: 0, surplus: 0 });
    assert.equal(host.hugepages('1G'), { nr: 1, free: 0, resv: 0, surplus: 0 });
    assert.is(physOf(p, big), BigInt(PHYS_BASE));
    p.munmap(shared, h);
    p.munmap(big, GiB);
    assert.equal(host.hugepages('2M'), { nr: 2, free: 2, resv: 0, surplus: 0 });
    assert.equal(host.hugepages('1G'), { nr: 1, free: 1, resv: 0, surplus: 0 });
  });

  suite('fallocate allocates, fails with ENOSPC, and punches holes', async () => {
    const host = await createHost({ hugepages: { '2M': 4 } });
    const p = host.spawn(VMM);
    const fd = p.memfdCreate('falloc', MFD_HUGETLB);
    p.fallocate(fd, 0, h + 1, h);
    assert.equal(host.hugepages('2M'), { nr: 4, free: 2, resv: 0, surplus: 0 });
    assert.is(p.pread(fd, 4 * h, 0), 2 * h + 1, 'mode 0 sets size = offset + len');
    p.fallocate(fd, FALLOC_FL_KEEP_SIZE, 3 * h, h);
    assert.is(p.pread(fd, 4 * h, 0), 2 * h + 1, 'KEEP_SIZE keeps the size');
    assert.is(host.hugepages('2M').free, 1);
    expectCleanFailure(host, [p], () => p.fallocate(fd, 0, 0, 5 * h), 'ENOSPC', 'fallocate');
    expectCleanFailure(host, [p], () => p.fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, h), 'EOPNOTSUPP', 'fallocate');
    expectCleanFailure(host, [p], () => p.fallocate(fd, 0x8, 0, h), 'EOPNOTSUPP', 'fallocate');
    expectCleanFailure(host, [p], () => p.fallocate(fd, 0, 0, 0), 'EINVAL', 'fallocate');
    // Only whole hugepages inside the range are punched: [h, 2h + h/2) punches index 1.
    p.fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, h, h + h / 2);
    assert.is(host.hugepages('2M').free, 2);
    assert.is(host.freeHugepages('2M')[0], BigInt(PHYS_BASE), 'index 1 got the first hugepage');
    p.close(fd);
    assert.equal(host.hugepages('2M'), { nr: 4, free: 4, resv: 0, surplus: 0 });
  });

  suite('HardwareCorrupted counts kB of raw pages ever poisoned', async () => {
    const host = await createHost({ hugepages: { '2M': 2 } });
    const p = host.spawn(VMM);
    const fd = p.memfdCreate('hc', memfdFlags('2M', 'KEEP'));
    p.ftruncate(fd, h);
    const map = p.mmap(0, h, RW, MAP_SHARED, fd, 0);
    p.write(map, h);
    p.madvise(map, PAGE, MADV_HWPOISON);
    p.madvise(map + 0x1000n, PAGE, MADV_HWPOISON);
    host.injectUE(physOf(p, map) + 0x2000n);
    host.injectUE(physOf(p, map) + 0x2000n);
    assert.is(host.meminfo().HardwareCorrupted, 12);
    // Releasing the file dissolves the hugepage; the count never goes down.
    p.close(fd);
    p.munmap(map, h);
    assert.is(host.hugepages('2M').nr, 1);
    assert.is(host.meminfo().HardwareCorrupted, 12);
  });
}
