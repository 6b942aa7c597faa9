// Behaviours where the simulator follows current upstream Linux to the letter, each with the
// function that decides it: pread across hugepages (hugetlbfs_read_iter,
// adjust_range_hwpoison), accesses from a KVM guest (kvm_send_hwpoison_signal), victims per
// VMA and unmapped folios (collect_procs_file, hwpoison_user_mappings), x86 do_sigbus's log
// line, and the KEEP versions (intended behaviour, v3 as posted with its refcount underflow).
import type * as uvu from 'uvu';
import * as assert from 'uvu/assert';
import {
  BUS_MCEERR_AO,
  BUS_MCEERR_AR,
  FALLOC_FL_KEEP_SIZE,
  FALLOC_FL_PUNCH_HOLE,
  MADV_HWPOISON,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  MAP_SHARED,
  MFD_HUGETLB,
  SI_KERNEL,
} from '../../src/host/constants.js';
import type { HostOptions, HugepageSize, SimHost, SimProcess } from '../../src/host/types.js';
import {
  type CreateHost,
  expectCleanFailure,
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

const MB2 = H['2M'];
const big = (n: number) => BigInt(n);
const killing = (comm: string, p: SimProcess, at: bigint) => `MCE: Killing ${comm}:${p.pid} due to hardware memory corruption fault at ${hex(at)}`;

interface Guest {
  host: SimHost;
  /** A VMM running a KVM guest, its memfd mapped and written. */
  vmm: SimProcess;
  fd: number;
  map: bigint;
  phys: bigint;
}

async function guestVm(createHost: CreateHost, size: HugepageSize, policy: Policy, opts: HostOptions = {}): Promise<Guest> {
  const host = await createHost({ hugepages: { '2M': 4, '1G': 3 }, ...opts });
  const vmm = host.spawn({ ...VMM, name: 'qemu', kvmGuest: true });
  const fd = vmm.memfdCreate('guest-ram', memfdFlags(size, policy));
  vmm.ftruncate(fd, 2 * H[size]);
  const map = vmm.mmap(0, 2 * H[size], RW, MAP_SHARED, fd, 0);
  assert.equal(vmm.write(map, 2 * H[size]), { ok: true });
  return { host, vmm, fd, map, phys: physOf(vmm, map) };
}

export function defineUpstream(suite: uvu.Test, createHost: CreateHost): void {
  // ---- pread ------------------------------------------------------------------------------
  for (const size of SIZES) {
    suite(`pread ${size} (hugetlbfs_read_iter): a later hugepage starting with a poisoned raw page fails the whole read with EIO`, async () => {
      const h = H[size];
      const g = await guestVm(createHost, size, 'KEEP');
      // Hugepage 1 poisoned at its first raw page; hugepage 0 clean.
      assert.is(g.vmm.madvise(g.map + big(h), PAGE, MADV_HWPOISON), 0);
      expectError(() => g.vmm.pread(g.fd, 2 * h, 0), 'EIO', 'pread');
      expectError(() => g.vmm.pread(g.fd, h + 1, h - 10), 'EIO', 'pread');
      // Up to the end of hugepage 0 the read is whole; inside hugepage 1 past the raw page too.
      assert.is(g.vmm.pread(g.fd, h, 0), h);
      assert.is(g.vmm.pread(g.fd, h, h + PAGE), h - PAGE);
      // Inside one hugepage the read stays short: it stops before hugepage 1 is reached.
      assert.is(g.vmm.madvise(g.map + 0x3000n, PAGE, MADV_HWPOISON), 0);
      assert.is(g.vmm.pread(g.fd, 2 * h, 0), 0x3000);
      // From after that raw page, hugepage 0 is clean and hugepage 1 starts poisoned: EIO.
      expectError(() => g.vmm.pread(g.fd, 2 * h, 0x4000), 'EIO', 'pread');
    });
  }

  suite('pread: a poisoned raw page in the middle of a later hugepage gives a short read up to it', async () => {
    const g = await guestVm(createHost, '2M', 'DEFAULT');
    g.host.injectUE(g.phys + big(MB2) + 0x5000n);
    assert.is(g.vmm.pread(g.fd, 2 * MB2, 0x1000), MB2 - 0x1000 + 0x5000);
    expectError(() => g.vmm.pread(g.fd, 2 * MB2, MB2 + 0x5000 + 0x10), 'EIO', 'pread');
  });

  // ---- accesses from a KVM guest ----------------------------------------------------------
  for (const size of SIZES) {
    suite(`guest access ${size}, DEFAULT: an offlined hugepage is signalled by KVM (AR, host virtual address of the 4 KiB page, lsb 12, no line)`, async () => {
      const g = await guestVm(createHost, size, 'DEFAULT');
      g.host.injectUE(g.phys + 0x7040n);
      const log = g.host.kernelLog();
      const at = g.map + 0x9123n;
      assert.equal(g.vmm.read(at, 8, { guest: true }), { ok: false, signal: sigbus(BUS_MCEERR_AR, g.map + 0x9000n, 12) });
      assert.equal(g.host.kernelLog(), log, 'kvm_send_hwpoison_signal logs nothing');
      // The same access from the VMM itself: x86 do_sigbus, exact address, lsb of the hugepage.
      assert.equal(g.vmm.read(at, 8), { ok: false, signal: sigbus(BUS_MCEERR_AR, at, HS[size]) });
      assert.equal(g.host.kernelLog(), [...log, killing('qemu', g.vmm, at)]);
      // A guest fault-in of the offlined hugepage through a new mapping: KVM again.
      const again = g.vmm.mmap(0, H[size], RW, MAP_SHARED, g.fd, 0);
      assert.equal(g.vmm.write(again + 0x10n, 1, { guest: true }), { ok: false, signal: sigbus(BUS_MCEERR_AR, again, 12) });
      assert.equal(g.host.memoryFailureStats().total, 1, 'no memory failure: nothing was consumed');
    });
  }

  suite('guest access, HGM: a HWPOISON PTE is signalled by KVM at the 4 KiB page', async () => {
    const g = await guestVm(createHost, '1G', 'DEFAULT', { hgm: true });
    g.host.injectUE(g.phys + 0x12345000n);
    const log = g.host.kernelLog();
    assert.equal(g.vmm.read(g.map + 0x12345abcn, 1, { guest: true }), { ok: false, signal: sigbus(BUS_MCEERR_AR, g.map + 0x12345000n, 12) });
    assert.equal(g.vmm.read(g.map + 0x12346000n, PAGE, { guest: true }), { ok: true }, 'the rest stays reachable');
    assert.equal(g.host.kernelLog(), log);
  });

  suite('guest access, THP split: a HWPOISON PTE is signalled by KVM at the 4 KiB page', async () => {
    const host = await createHost({ thpPages: 2 });
    const vmm = host.spawn({ ...VMM, name: 'qemu', kvmGuest: true });
    const map = vmm.mmap(0, 2 * MB2, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert.equal(vmm.write(map, 2 * MB2), { ok: true });
    host.injectUE(physOf(vmm, map) + 0x3008n);
    assert.equal(vmm.write(map + 0x3ff0n, 4, { guest: true }), { ok: false, signal: sigbus(BUS_MCEERR_AR, map + 0x3000n, 12) });
    assert.is(host.kernelLog().filter((l) => l.startsWith('MCE: Killing')).length, 0);
  });

  for (const size of SIZES) {
    suite(`guest access ${size}, KEEP: a corrupted raw page is a machine check handled by memory_failure, as from the host`, async () => {
      const g = await guestVm(createHost, size, 'KEEP');
      g.host.injectUE(g.phys + 0x7040n);
      const before = g.host.kernelLog().length;
      assert.equal(g.vmm.read(g.map + 0x7100n, 1, { guest: true }), { ok: false, signal: sigbus(BUS_MCEERR_AR, g.map + 0x7000n, 12) });
      const pfn = hex(pfnOf(g.phys + 0x7000n));
      assert.equal(g.host.kernelLog().slice(before), [
        `mce: Uncorrected hardware memory error in user-access at ${hex(g.phys + 0x7100n)}`,
        `Memory failure: 0x${pfn}: Sending SIGBUS to qemu:${g.vmm.pid} due to hardware memory corruption`,
        `Memory failure: 0x${pfn}: recovery action for already poisoned page: Failed`,
      ]);
      assert.equal(g.vmm.read(g.map, 0x7000, { guest: true }), { ok: true }, 'healthy raw pages read fine');
    });
  }

  suite('guest access: a process that runs no KVM guest cannot make one (EINVAL); a failed guest fault-in is EFAULT, no signal', async () => {
    const g = await guestVm(createHost, '2M', 'DEFAULT');
    const plain = g.host.spawn({ ...VMM, name: 'plain' });
    const fd = g.vmm.sendFd(g.fd, plain);
    const map = plain.mmap(0, MB2, RW, MAP_SHARED, fd, 0);
    expectCleanFailure(g.host, [g.vmm, plain], () => plain.read(map, 1, { guest: true }), 'EINVAL', 'read');
    expectCleanFailure(g.host, [g.vmm, plain], () => plain.write(map, 1, { guest: true }), 'EINVAL', 'write');
    // Beyond the end of the file: the host task gets BUS_ADRERR, KVM_RUN fails with EFAULT.
    const empty = g.vmm.memfdCreate('empty', MFD_HUGETLB);
    const beyond = g.vmm.mmap(0, MB2, RW, MAP_SHARED, empty, 0);
    g.vmm.ftruncate(empty, 0);
    const signals = g.vmm.signals.length;
    expectError(() => g.vmm.read(beyond, 1, { guest: true }), 'EFAULT', 'read');
    assert.is(g.vmm.signals.length, signals);
    assert.is(g.vmm.read(beyond, 1).ok, false);
  });

  // ---- victims: one per VMA, none for an unmapped folio -------------------------------------
  suite('collect_procs_file: an early-kill process mapping the page through two VMAs gets two AO signals', async () => {
    const host = await createHost({ hugepages: { '2M': 2 }, earlyKill: true });
    const a = host.spawn({ ...VMM, name: 'a' });
    const fd = a.memfdCreate('twice', memfdFlags('2M', 'KEEP'));
    a.ftruncate(fd, MB2);
    const upper = a.mmap(0, MB2, RW, MAP_SHARED, fd, 0);
    const lower = a.mmap(0, MB2, RW, MAP_SHARED, fd, 0);
    assert.equal(a.write(upper, 1), { ok: true });
    host.injectUE(physOf(a, upper) + 0x2000n);
    assert.equal(a.signals, [sigbus(BUS_MCEERR_AO, lower + 0x2000n, 12), sigbus(BUS_MCEERR_AO, upper + 0x2000n, 12)]);
    assert.is(host.kernelLog().filter((l) => l.includes('Sending SIGBUS to a:')).length, 2);
  });

  for (const policy of ['KEEP', 'DEFAULT'] as const) {
    suite(`hwpoison_user_mappings, ${policy}: a folio in the page cache that nobody has faulted in signals nobody`, async () => {
      const host = await createHost({ hugepages: { '2M': 2 }, earlyKill: true });
      const a = host.spawn({ ...VMM, name: 'a' });
      const fd = a.memfdCreate('cold', memfdFlags('2M', policy));
      const phys = host.freeHugepages('2M')[0]!;
      a.fallocate(fd, 0, 0, MB2);
      const map = a.mmap(0, MB2, RW, MAP_SHARED, fd, 0);
      assert.ok(!host.freeHugepages('2M').includes(phys), 'fallocate took the top of the free list');
      host.injectUE(phys + 0x4000n);
      assert.equal(a.signals, [], 'the VMA covers it, but no page table maps it');
      assert.equal(host.memoryFailureStats(), { total: 1, ignored: 0, failed: 0, delayed: 0, recovered: 1 });
      // Touching it now: KEEP maps it (its raw page is only poisoned by a scrub, corrupted);
      // DEFAULT took it offline.
      const touch = a.read(map + 0x4000n, 1);
      assert.is(touch.ok, false);
    });
  }

  // ---- KEEP versions ------------------------------------------------------------------------
  suite('keepVersion: "intended" is the default and "v4" an alias of it', async () => {
    for (const keepVersion of [undefined, 'intended', 'v4'] as const) {
      const g = await guestVm(createHost, '2M', 'KEEP', keepVersion ? { keepVersion } : {});
      g.host.injectUE(g.phys + 0x1000n, { consumer: g.vmm });
      g.host.injectUE(g.phys + 0x2000n, { consumer: g.vmm });
      assert.equal(g.host.memoryFailureStats(), { total: 2, ignored: 0, failed: 0, delayed: 0, recovered: 2 }, String(keepVersion));
      g.vmm.exit();
      assert.is(g.host.refcountUnderflows(), 0);
    }
  });

  suite('KEEP v3: releasing a kept hugepage that took two real UEs underflows its refcount (counted, bad_page logged)', async () => {
    const g = await guestVm(createHost, '2M', 'KEEP', { keepVersion: 'v3' });
    g.host.injectUE(g.phys + 0x1000n, { consumer: g.vmm });
    g.host.injectUE(g.phys + 0x2000n, { consumer: g.vmm });
    assert.equal(g.vmm.signals, [sigbus(BUS_MCEERR_AR, g.map + 0x1000n, 12), sigbus(SI_KERNEL, 0n, 0)]);
    assert.equal(g.host.memoryFailureStats(), { total: 2, ignored: 1, failed: 0, delayed: 0, recovered: 1 });
    assert.is(g.host.refcountUnderflows(), 0, 'nothing is released yet');
    const nr = g.host.hugepages('2M').nr;
    g.vmm.munmap(g.map, 2 * MB2);
    g.vmm.close(g.fd);
    assert.is(g.host.refcountUnderflows(), 1);
    assert.equal(g.host.kernelLog().slice(-1), [`BUG: Bad page state in process qemu  pfn:${hex(pfnOf(g.phys))}`]);
    assert.is(g.host.hugepages('2M').nr, nr - 1, 'dissolved all the same');
  });

  suite('KEEP v3: one real UE, or MADV_HWPOISON only, releases cleanly; the intended version never underflows', async () => {
    for (const [keepVersion, poison] of [['v3', 'one UE'], ['v3', 'madvise'], ['intended', 'two UEs']] as const) {
      const g = await guestVm(createHost, '2M', 'KEEP', { keepVersion });
      if (poison === 'madvise') {
        assert.is(g.vmm.madvise(g.map + 0x1000n, PAGE, MADV_HWPOISON), 0);
        assert.is(g.vmm.madvise(g.map + 0x2000n, PAGE, MADV_HWPOISON), 0);
      } else {
        g.host.injectUE(g.phys + 0x1000n);
        if (poison === 'two UEs') g.host.injectUE(g.phys + 0x2000n);
      }
      const log = g.host.kernelLog();
      g.vmm.exit();
      assert.is(g.host.refcountUnderflows(), 0, `${keepVersion}, ${poison}`);
      assert.equal(g.host.kernelLog(), log);
    }
  });

  suite('KEEP v3: a VMM killed by its SIGBUS releases the kept hugepage as it exits; bad_page names it', async () => {
    const host = await createHost({ hugepages: { '2M': 2 }, keepVersion: 'v3' });
    const vmm = host.spawn({ ...VMM, name: 'doomed', handlesSigbus: false });
    const fd = vmm.memfdCreate('guest-ram', memfdFlags('2M', 'KEEP'));
    vmm.ftruncate(fd, MB2);
    const map = vmm.mmap(0, MB2, RW, MAP_SHARED, fd, 0);
    assert.equal(vmm.write(map, 1), { ok: true });
    const phys = physOf(vmm, map);
    vmm.close(fd);
    host.injectUE(phys + 0x1000n);
    host.injectUE(phys + 0x2000n);
    assert.ok(vmm.alive, 'a scrubbed UE signals nobody');
    // A load of a corrupted raw page: a machine check, AR, and the VMM dies of it.
    assert.is(vmm.read(map + 0x1000n, 1).ok, false);
    assert.not.ok(vmm.alive);
    assert.is(host.refcountUnderflows(), 1);
    assert.equal(host.kernelLog().slice(-1), [`BUG: Bad page state in process doomed  pfn:${hex(pfnOf(phys))}`]);
  });

  suite('KEEP v3 defects apply to KEEP files only (a punched-out DEFAULT hugepage is leaked, never underflows)', async () => {
    const g = await guestVm(createHost, '2M', 'DEFAULT', { keepVersion: 'v3' });
    g.host.injectUE(g.phys + 0x1000n);
    g.host.injectUE(g.phys + 0x2000n);
    g.vmm.fallocate(g.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, MB2);
    assert.is(g.host.refcountUnderflows(), 0);
  });
}
