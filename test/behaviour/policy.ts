// KEEP versus DEFAULT in detail: repeated UEs (try_memory_failure_hugetlb), the intended
// KEEP behaviour versus v3 as posted, real UEs versus MADV_HWPOISON, fault-in of a poisoned
// hugepage, release, private mappings.
import type * as uvu from 'uvu';
import * as assert from 'uvu/assert';
import {
  BUS_MCEERR_AR,
  FALLOC_FL_KEEP_SIZE,
  FALLOC_FL_PUNCH_HOLE,
  MADV_HWPOISON,
  MAP_ANONYMOUS,
  MAP_HUGETLB,
  MAP_PRIVATE,
  MAP_SHARED,
  SI_KERNEL,
} from '../../src/host/constants.js';
import type { HostOptions, HugepageSize, SimHost, SimProcess } from '../../src/host/types.js';
import {
  type CreateHost,
  expectError,
  H,
  hex,
  HS,
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

interface Mapped {
  host: SimHost;
  proc: SimProcess;
  fd: number;
  map: bigint;
  /** Physical address of hugepage 0. */
  phys: bigint;
}

/** A VMM with a 2-hugepage memfd, mapped shared and written. */
async function mapped(createHost: CreateHost, policy: Policy, size: HugepageSize = '2M', opts: HostOptions = {}): Promise<Mapped> {
  const host = await createHost({ hugepages: { '2M': 4, '1G': 2 }, ...opts });
  const proc = host.spawn({ ...VMM, name: 'vmm' });
  const fd = proc.memfdCreate('guest', memfdFlags(size, policy));
  proc.ftruncate(fd, 2 * H[size]);
  const map = proc.mmap(0, 2 * H[size], RW, MAP_SHARED, fd, 0);
  assert.equal(proc.write(map, 2 * H[size]), { ok: true });
  return { host, proc, fd, map, phys: physOf(proc, map) };
}

const stats = (recovered: number, failed = 0, ignored = 0) => ({
  total: recovered + failed + ignored,
  ignored,
  failed,
  delayed: 0,
  recovered,
});

export function definePolicy(suite: uvu.Test, createHost: CreateHost): void {
  for (const size of SIZES) {
    suite(`KEEP intended (${size}): a second real UE on another raw page is recovered with lsb 12`, async () => {
      const m = await mapped(createHost, 'KEEP', size);
      m.host.injectUE(m.phys + 0x1000n, { consumer: m.proc });
      m.host.injectUE(m.phys + 0x9000n, { consumer: m.proc });
      assert.equal(m.proc.signals, [
        sigbus(BUS_MCEERR_AR, m.map + 0x1000n, 12),
        sigbus(BUS_MCEERR_AR, m.map + 0x9000n, 12),
      ]);
      assert.equal(m.host.memoryFailureStats(), stats(2));
      assert.is(m.host.meminfo().HardwareCorrupted, 8);
      assert.is(m.proc.translate(m.map), m.phys);
    });
  }

  suite('KEEP v3: a second real UE is "get hwpoison page: Ignored", not recovered, and the consumer gets SIGBUS SI_KERNEL', async () => {
    const m = await mapped(createHost, 'KEEP', '2M', { keepVersion: 'v3' });
    m.host.injectUE(m.phys + 0x1000n, { consumer: m.proc });
    m.host.injectUE(m.phys + 0x9040n, { consumer: m.proc });
    assert.equal(m.proc.signals, [sigbus(BUS_MCEERR_AR, m.map + 0x1000n, 12), sigbus(SI_KERNEL, 0n, 0)]);
    assert.equal(m.host.memoryFailureStats(), stats(1, 0, 1));
    assert.is(m.host.meminfo().HardwareCorrupted, 8, 'the raw page is still recorded');
    const pfn = hex(pfnOf(m.phys + 0x9000n));
    assert.equal(m.host.kernelLog().slice(3), [
      `mce: Uncorrected hardware memory error in user-access at ${hex(m.phys + 0x9040n)}`,
      `Memory failure: 0x${pfn}: recovery action for get hwpoison page: Ignored`,
      'mce: Memory error not recovered',
    ]);
    assert.ok(m.proc.alive);
    assert.is(m.proc.translate(m.map), m.phys, 'still mapped');
  });

  suite('KEEP v3: a scrubbed second UE is ignored without any signal; MADV_HWPOISON is still recovered', async () => {
    const m = await mapped(createHost, 'KEEP', '2M', { keepVersion: 'v3' });
    assert.is(m.proc.madvise(m.map, PAGE, MADV_HWPOISON), 0);
    assert.is(m.proc.madvise(m.map + 0x1000n, PAGE, MADV_HWPOISON), 0, 'v3 only ignores real UEs');
    m.host.injectUE(m.phys + 0x2000n);
    assert.equal(m.host.memoryFailureStats(), stats(2, 0, 1));
    assert.is(m.proc.signals.length, 2);
    assert.equal(m.host.kernelLog().slice(-1), [
      `Memory failure: 0x${hex(pfnOf(m.phys + 0x2000n))}: recovery action for get hwpoison page: Ignored`,
    ]);
  });

  suite('KEEP v3: the first real UE on a hugepage is recovered', async () => {
    const m = await mapped(createHost, 'KEEP', '2M', { keepVersion: 'v3' });
    m.host.injectUE(m.phys + 0x1000n, { consumer: m.proc });
    assert.equal(m.proc.signals, [sigbus(BUS_MCEERR_AR, m.map + 0x1000n, 12)]);
    assert.equal(m.host.memoryFailureStats(), stats(1));
  });

  suite('KEEP: a corrupted raw page raises a new machine check; a MADV_HWPOISON page reads fine', async () => {
    const m = await mapped(createHost, 'KEEP');
    m.host.injectUE(m.phys + 0x3000n); // patrol scrub: no consumer, late kill: no signal
    assert.equal(m.proc.signals, []);
    assert.is(m.proc.madvise(m.map + 0x5000n, PAGE, MADV_HWPOISON), 0);
    assert.is(m.proc.signals.length, 1);
    const logBefore = m.host.kernelLog().length;

    assert.equal(m.proc.read(m.map + 0x5000n, PAGE), { ok: true }, 'only poisoned, data intact');
    assert.equal(m.proc.read(m.map, 0x3000), { ok: true }, 'healthy raw pages before it');
    assert.equal(m.proc.read(m.map + 0x4000n, H['2M'] - 0x4000), { ok: true }, 'healthy raw pages after it');
    const result = m.proc.read(m.map + 0x2ff0n, 0x100);
    const signal = sigbus(BUS_MCEERR_AR, m.map + 0x3000n, 12);
    assert.equal(result, { ok: false, signal });
    assert.equal(m.proc.signals.slice(1), [signal]);
    const pfn = hex(pfnOf(m.phys + 0x3000n));
    assert.equal(m.host.kernelLog().slice(logBefore), [
      `mce: Uncorrected hardware memory error in user-access at ${hex(m.phys + 0x3000n)}`,
      `Memory failure: 0x${pfn}: Sending SIGBUS to vmm:${m.proc.pid} due to hardware memory corruption`,
      `Memory failure: 0x${pfn}: recovery action for already poisoned page: Failed`,
    ]);
    assert.equal(m.host.memoryFailureStats(), stats(2), 'an already-poisoned page is not counted again');
    assert.equal(m.proc.write(m.map + 0x3000n, 1), { ok: false, signal });
    assert.is(m.proc.translate(m.map + 0x3000n), m.phys + 0x3000n, 'the translation stays huge');
  });

  suite('KEEP: a new mapping and a new process fault the poisoned hugepage in normally', async () => {
    const m = await mapped(createHost, 'KEEP');
    m.host.injectUE(m.phys + 0x1000n, { consumer: m.proc });
    const other = m.host.spawn(VMM);
    const fd = m.proc.sendFd(m.fd, other);
    const map2 = other.mmap(0, H['2M'], RW, MAP_SHARED, fd, 0);
    assert.equal(other.read(map2, 0x1000), { ok: true });
    assert.is(other.translate(map2), m.phys);
    assert.equal(other.read(map2 + 0x1000n, 1), { ok: false, signal: sigbus(BUS_MCEERR_AR, map2 + 0x1000n, 12) });
  });

  suite('KEEP: release dissolves the poisoned hugepage, the healthy ones go back to the pool', async () => {
    const m = await mapped(createHost, 'KEEP');
    m.host.injectUE(m.phys + 0x1000n);
    assert.equal(m.host.hugepages('2M'), { nr: 4, free: 2, resv: 0, surplus: 0 });
    m.proc.close(m.fd);
    assert.equal(m.host.hugepages('2M'), { nr: 4, free: 2, resv: 0, surplus: 0 }, 'still mapped');
    m.proc.munmap(m.map, 2 * H['2M']);
    assert.equal(m.host.hugepages('2M'), { nr: 3, free: 3, resv: 0, surplus: 0 });
    assert.not.ok(m.host.freeHugepages('2M').includes(m.phys));
    // The dissolved hugepage's raw pages are buddy memory now.
    m.host.injectUE(m.phys + 0x1000n);
    m.host.injectUE(m.phys + 0x2000n);
    assert.equal(m.host.kernelLog().slice(-2), [
      `Memory failure: 0x${hex(pfnOf(m.phys + 0x1000n))}: recovery action for already poisoned page: Failed`,
      `Memory failure: 0x${hex(pfnOf(m.phys + 0x2000n))}: recovery action for free buddy page: Recovered`,
    ]);
  });

  suite('KEEP: punching the poisoned hugepage out dissolves it at once', async () => {
    const m = await mapped(createHost, 'KEEP');
    m.host.injectUE(m.phys + 0x1000n);
    m.proc.fallocate(m.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, H['2M']);
    assert.equal(m.host.hugepages('2M'), { nr: 3, free: 2, resv: 0, surplus: 0 });
    assert.is(m.proc.translate(m.map), null, 'the punched range is unmapped');
    // A new access faults a fresh hugepage in.
    assert.equal(m.proc.read(m.map + 0x1000n, 1), { ok: true });
    assert.ok(m.proc.translate(m.map) !== m.phys);
  });

  suite('DEFAULT: any access, fault-in or new mapping of the poisoned hugepage gets SIGBUS lsb hs', async () => {
    const m = await mapped(createHost, 'DEFAULT');
    m.host.injectUE(m.phys + 0x1000n);
    assert.equal(m.proc.signals, [], 'late kill, no consumer');
    assert.is(m.proc.translate(m.map), null);
    assert.equal(m.proc.write(m.map + 0x1ff000n, 8), { ok: false, signal: sigbus(BUS_MCEERR_AR, m.map + 0x1ff000n, 21) });
    const other = m.host.spawn(VMM);
    const fd = m.proc.sendFd(m.fd, other);
    const map2 = other.mmap(0, 2 * H['2M'], RW, MAP_SHARED, fd, 0);
    assert.equal(other.read(map2 + 0x123n, 1), { ok: false, signal: sigbus(BUS_MCEERR_AR, map2 + 0x123n, 21) });
    assert.is(other.translate(map2), null);
    assert.equal(other.read(map2 + BigInt(H['2M']), H['2M']), { ok: true });
    // Healthy data is unreachable through pread too, from the poisoned raw page on.
    assert.is(other.pread(fd, H['2M'], 0), 0x1000);
  });

  suite('DEFAULT: a new raw page of a poisoned hugepage fails; the same raw page is already poisoned', async () => {
    const m = await mapped(createHost, 'DEFAULT');
    m.host.injectUE(m.phys + 0x1000n, { consumer: m.proc });
    m.host.injectUE(m.phys + 0x2000n, { consumer: m.proc });
    m.host.injectUE(m.phys + 0x2000n, { consumer: m.proc });
    m.host.injectUE(m.phys + 0x3000n);
    assert.equal(m.proc.signals, [
      sigbus(BUS_MCEERR_AR, m.map + 0x1000n, 21),
      sigbus(BUS_MCEERR_AR, m.map + 0x2000n, 21),
      sigbus(BUS_MCEERR_AR, m.map + 0x2000n, 21),
    ]);
    assert.equal(m.host.memoryFailureStats(), stats(1, 2));
    assert.is(m.host.meminfo().HardwareCorrupted, 12);
    const pfn = (off: bigint) => hex(pfnOf(m.phys + off));
    const sending = (off: bigint) =>
      `Memory failure: 0x${pfn(off)}: Sending SIGBUS to vmm:${m.proc.pid} due to hardware memory corruption`;
    const mce = (off: bigint) => `mce: Uncorrected hardware memory error in user-access at ${hex(m.phys + off)}`;
    assert.equal(m.host.kernelLog(), [
      mce(0x1000n),
      sending(0x1000n),
      `Memory failure: 0x${pfn(0x1000n)}: recovery action for huge page: Recovered`,
      mce(0x2000n),
      sending(0x2000n),
      `Memory failure: 0x${pfn(0x2000n)}: recovery action for huge page: Failed`,
      mce(0x2000n),
      sending(0x2000n),
      `Memory failure: 0x${pfn(0x2000n)}: recovery action for already poisoned page: Failed`,
      `Memory failure: 0x${pfn(0x3000n)}: recovery action for huge page: Failed`,
    ]);
  });

  suite('DEFAULT: release leaks the poisoned hugepage (nr unchanged, never free again)', async () => {
    const m = await mapped(createHost, 'DEFAULT');
    m.host.injectUE(m.phys + 0x1000n);
    m.proc.munmap(m.map, 2 * H['2M']);
    m.proc.close(m.fd);
    assert.equal(m.host.hugepages('2M'), { nr: 4, free: 3, resv: 0, surplus: 0 });
    assert.not.ok(m.host.freeHugepages('2M').includes(m.phys));
    // A leaked hugepage is still "in use": another raw page fails, no signal.
    m.host.injectUE(m.phys + 0x5000n);
    assert.equal(m.host.memoryFailureStats(), stats(1, 1));
  });

  for (const size of SIZES) {
    suite(`MAP_PRIVATE of a KEEP memfd (${size}) follows DEFAULT: lsb hs, dissolved at once`, async () => {
      const host = await createHost({ hugepages: { '2M': 4, '1G': 3 } });
      const proc = host.spawn(VMM);
      const h = H[size];
      const fd = proc.memfdCreate('guest', memfdFlags(size, 'KEEP'));
      proc.ftruncate(fd, 2 * h);
      const shared = proc.mmap(0, h, RW, MAP_SHARED, fd, 0);
      const priv = proc.mmap(0, 2 * h, RW, MAP_PRIVATE, fd, 0);
      assert.equal(proc.write(shared, h), { ok: true });
      assert.equal(proc.write(priv, 2 * h), { ok: true });
      // One page-cache hugepage and two private copies.
      const nr = size === '2M' ? 4 : 3;
      assert.equal(host.hugepages(size), { nr, free: nr - 3, resv: 0, surplus: 0 });
      const privPhys = physOf(proc, priv);
      assert.ok(privPhys !== physOf(proc, shared), 'the private copy is its own hugepage');

      assert.is(proc.madvise(priv + 0x4000n, PAGE, MADV_HWPOISON), 0);
      assert.equal(proc.signals, [sigbus(BUS_MCEERR_AR, priv + 0x4000n, HS[size])]);
      assert.is(host.hugepages(size).nr, nr - 1, 'dissolved at once');
      assert.is(proc.translate(priv), null);
      assert.equal(proc.read(priv + 0x10n, 1), { ok: false, signal: sigbus(BUS_MCEERR_AR, priv + 0x10n, HS[size]) });
      expectError(() => proc.madvise(priv, PAGE, MADV_HWPOISON), 'EFAULT', 'madvise');
      // The file's own hugepage is untouched.
      assert.equal(proc.read(shared, h), { ok: true });
      proc.munmap(priv, 2 * h);
      assert.is(host.hugepages(size).nr, nr - 1);
    });
  }

  suite('anonymous private HugeTLB memory follows DEFAULT', async () => {
    const host = await createHost({ hugepages: { '2M': 2 } });
    const proc = host.spawn({ ...VMM, name: 'anon' });
    const map = proc.mmap(0, H['2M'], RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
    assert.equal(proc.write(map, H['2M']), { ok: true });
    const phys = physOf(proc, map);
    host.injectUE(phys + 0x7000n, { consumer: proc });
    assert.equal(proc.signals, [sigbus(BUS_MCEERR_AR, map + 0x7000n, 21)]);
    assert.equal(host.hugepages('2M'), { nr: 1, free: 1, resv: 0, surplus: 0 });
    proc.exit();
    assert.equal(host.hugepages('2M'), { nr: 1, free: 1, resv: 0, surplus: 0 });
  });
}
