// Panics (vm.memory_failure_recovery=0), death by an unhandled SIGBUS, exit, and sysctls.
import type * as uvu from 'uvu';
import * as assert from 'uvu/assert';
import {
  BUS_ADRERR,
  BUS_MCEERR_AR,
  MADV_HWPOISON,
  MAP_SHARED,
  MFD_HUGETLB,
  PROT_READ,
} from '../../src/host/constants.js';
import {
  type CreateHost,
  expectError,
  H,
  hex,
  memfdFlags,
  PAGE,
  pfnOf,
  PHYS_BASE,
  physOf,
  RW,
  sigbus,
  VMM,
} from './helpers.js';

const h = H['2M'];

export function defineLifecycle(suite: uvu.Test, createHost: CreateHost): void {
  suite('recovery disabled: a consumed UE panics the host; every later call fails with EIO', async () => {
    const host = await createHost({ hugepages: { '2M': 4 }, memoryFailureRecovery: false });
    const a = host.spawn(VMM);
    const b = host.spawn(VMM);
    const fd = a.memfdCreate('guest', memfdFlags('2M', 'KEEP'));
    a.ftruncate(fd, h);
    const map = a.mmap(0, h, RW, MAP_SHARED, fd, 0);
    a.write(map, h);
    const phys = physOf(a, map) + 0x1230n;
    const pools = host.hugepages('2M');

    host.injectUE(phys, { consumer: a });
    assert.is(host.panicked, true);
    assert.ok(!a.alive && !b.alive, 'every process dies');
    assert.equal(a.signals, [], 'no signals');
    assert.equal(host.kernelLog(), [
      `mce: Uncorrected hardware memory error in user-access at ${hex(phys)}`,
      `Kernel panic - not syncing: Memory failure on page ${hex(pfnOf(phys))}`,
    ]);
    assert.equal(host.memoryFailureStats(), { total: 0, ignored: 0, failed: 0, delayed: 0, recovered: 0 });
    assert.is(host.meminfo().HardwareCorrupted, 0);
    assert.equal(host.hugepages('2M'), pools, 'the machine stopped: nothing was torn down');

    expectError(() => a.read(map, 1), 'EIO');
    expectError(() => a.mmap(0, h, RW, MAP_SHARED, fd, 0), 'EIO', 'mmap');
    expectError(() => b.memfdCreate('x', MFD_HUGETLB), 'EIO', 'memfd_create');
    expectError(() => b.exit(), 'EIO');
    expectError(() => host.spawn(VMM), 'EIO');
    expectError(() => host.injectUE(phys), 'EIO');
    expectError(() => host.sysctl('vm.memory_failure_recovery', 1), 'EIO');
    assert.is(host.kernelLog().length, 2);
  });

  suite('recovery disabled at run time: even a UE on a free hugepage panics', async () => {
    const host = await createHost({ hugepages: { '2M': 2 } });
    const p = host.spawn(VMM);
    assert.is(host.sysctl('vm.memory_failure_recovery'), 1);
    assert.is(host.sysctl('vm.memory_failure_recovery', 0), 0);
    assert.is(host.sysctl('vm.memory_failure_recovery'), 0);
    host.injectUE(PHYS_BASE + h);
    assert.is(host.panicked, true);
    assert.not.ok(p.alive);
    assert.equal(host.kernelLog(), [`Kernel panic - not syncing: Memory failure on page ${hex(pfnOf(PHYS_BASE + h))}`]);
    assert.equal(host.hugepages('2M'), { nr: 2, free: 2, resv: 0, surplus: 0 });
  });

  suite('recovery disabled: MADV_HWPOISON panics too and the call fails with EIO', async () => {
    const host = await createHost({ hugepages: { '2M': 2 }, memoryFailureRecovery: false });
    const p = host.spawn(VMM);
    const fd = p.memfdCreate('guest', MFD_HUGETLB);
    p.ftruncate(fd, h);
    const map = p.mmap(0, h, RW, MAP_SHARED, fd, 0);
    p.write(map, 1);
    const pfn = hex(pfnOf(physOf(p, map)));
    expectError(() => p.madvise(map, PAGE, MADV_HWPOISON), 'EIO', 'madvise');
    assert.ok(host.panicked);
    assert.equal(host.kernelLog(), [
      `Injecting memory failure for pfn 0x${pfn} at process virtual address 0x${hex(map)}`,
      `Kernel panic - not syncing: Memory failure on page ${pfn}`,
    ]);
  });

  suite('a process without a SIGBUS handler is killed by it, and its memory is released', async () => {
    const host = await createHost({ hugepages: { '2M': 4 } });
    const p = host.spawn({ capSysAdmin: true, handlesSigbus: false, name: 'victim' });
    const fd = p.memfdCreate('guest', memfdFlags('2M', 'KEEP'));
    p.ftruncate(fd, 2 * h);
    const map = p.mmap(0, 2 * h, RW, MAP_SHARED, fd, 0);
    p.write(map, 2 * h);
    assert.is(p.madvise(map + 0x3000n, 2 * PAGE, MADV_HWPOISON), 0);
    assert.equal(p.signals, [sigbus(BUS_MCEERR_AR, map + 0x3000n, 12)]);
    assert.not.ok(p.alive);
    // Its only fd and mapping are gone: the KEEP file is released, the poisoned hugepage dissolved.
    assert.equal(host.hugepages('2M'), { nr: 3, free: 3, resv: 0, surplus: 0 });
    expectError(() => p.read(map, 1), 'ESRCH', 'read');
    expectError(() => p.close(fd), 'ESRCH', 'close');
    expectError(() => p.exit(), 'ESRCH', 'exit');
  });

  suite('MADV_HWPOISON over several hugepages stops when the caller is killed', async () => {
    const host = await createHost({ hugepages: { '2M': 4 } });
    const p = host.spawn({ capSysAdmin: true, handlesSigbus: false });
    const fd = p.memfdCreate('guest', memfdFlags('2M', 'KEEP'));
    p.ftruncate(fd, 2 * h);
    const map = p.mmap(0, 2 * h, RW, MAP_SHARED, fd, 0);
    p.write(map, 2 * h);
    assert.is(p.madvise(map, 2 * h, MADV_HWPOISON), 0);
    assert.is(p.signals.length, 1);
    assert.equal(host.memoryFailureStats(), { total: 1, ignored: 0, failed: 0, delayed: 0, recovered: 1 });
  });

  suite('a handled MADV_HWPOISON over several hugepages poisons one raw page per hugepage', async () => {
    const host = await createHost({ hugepages: { '2M': 4 } });
    const p = host.spawn(VMM);
    const fd = p.memfdCreate('guest', memfdFlags('2M', 'KEEP'));
    p.ftruncate(fd, 3 * h);
    const map = p.mmap(0, 3 * h, RW, MAP_SHARED, fd, 0);
    p.write(map, h);
    // Steps at +0x1000, +h+0x1000, +2h+0x1000 (< +2h+0x2000); hugepages 1 and 2 are faulted in.
    assert.is(p.madvise(map + 0x1000n, 2 * h + PAGE, MADV_HWPOISON), 0);
    assert.equal(
      p.signals.map((s) => s.addr),
      [map + 0x1000n, map + BigInt(h + 0x1000), map + BigInt(2 * h + 0x1000)],
    );
    assert.is(host.meminfo().HardwareCorrupted, 12);
    assert.equal(host.hugepages('2M'), { nr: 4, free: 1, resv: 0, surplus: 0 });
  });

  suite('unhandled SIGBUS of every kind kills: HWPOISON entry and BUS_ADRERR', async () => {
    const host = await createHost({ hugepages: { '2M': 4 } });
    const a = host.spawn({ handlesSigbus: false });
    const fd = a.memfdCreate('guest', MFD_HUGETLB);
    const map = a.mmap(0, h, PROT_READ, MAP_SHARED, fd, 0);
    assert.equal(a.read(map + 5n, 1), { ok: false, signal: sigbus(BUS_ADRERR, map + 5n, 0) });
    assert.not.ok(a.alive);
    assert.equal(host.hugepages('2M'), { nr: 4, free: 4, resv: 0, surplus: 0 });

    const b = host.spawn({ handlesSigbus: false });
    const fd2 = b.memfdCreate('guest', MFD_HUGETLB);
    b.ftruncate(fd2, h);
    const map2 = b.mmap(0, h, RW, MAP_SHARED, fd2, 0);
    b.write(map2, 1);
    host.injectUE(physOf(b, map2));
    assert.ok(b.alive, 'late kill, not signalled yet');
    assert.equal(b.read(map2 + 0x10n, 1), { ok: false, signal: sigbus(BUS_MCEERR_AR, map2 + 0x10n, 21) });
    assert.not.ok(b.alive);
    assert.equal(host.hugepages('2M'), { nr: 4, free: 3, resv: 0, surplus: 0 }, 'the DEFAULT hugepage is leaked');
  });

  suite('exit unmaps everything and closes every fd; files shared with others survive', async () => {
    const host = await createHost({ hugepages: { '2M': 4 } });
    const a = host.spawn(VMM);
    const b = host.spawn(VMM);
    const fd = a.memfdCreate('shared', MFD_HUGETLB);
    a.ftruncate(fd, h);
    const own = a.memfdCreate('own', MFD_HUGETLB);
    a.ftruncate(own, h);
    a.fallocate(own, 0, 0, h);
    const map = a.mmap(0, h, RW, MAP_SHARED, fd, 0);
    a.write(map, 1);
    const fdB = a.sendFd(fd, b);
    // A file only mapped (its fd closed) is released by the exit too.
    const mappedOnly = a.memfdCreate('mapped-only', MFD_HUGETLB);
    a.ftruncate(mappedOnly, h);
    const m2 = a.mmap(0, h, RW, MAP_SHARED, mappedOnly, 0);
    a.write(m2, 1);
    a.close(mappedOnly);
    assert.equal(host.hugepages('2M'), { nr: 4, free: 1, resv: 0, surplus: 0 });
    a.exit();
    assert.not.ok(a.alive);
    assert.equal(host.hugepages('2M'), { nr: 4, free: 3, resv: 0, surplus: 0 });
    assert.is(b.pread(fdB, h, 0), h);
    b.close(fdB);
    assert.equal(host.hugepages('2M'), { nr: 4, free: 4, resv: 0, surplus: 0 });
  });

  suite('sysctls read and write 0/1; unknown names and values are EINVAL', async () => {
    const host = await createHost({ hugepages: { '2M': 1 }, earlyKill: true });
    assert.is(host.sysctl('vm.memory_failure_early_kill'), 1);
    assert.is(host.sysctl('vm.memory_failure_early_kill', 0), 0);
    assert.is(host.sysctl('vm.memory_failure_early_kill'), 0);
    assert.is(host.sysctl('vm.memory_failure_recovery'), 1);
    expectError(() => host.sysctl('vm.nr_hugepages'), 'EINVAL', 'sysctl');
    expectError(() => host.sysctl('vm.memory_failure_recovery', 2), 'EINVAL', 'sysctl');
    expectError(() => host.sysctl('vm.memory_failure_early_kill', -1), 'EINVAL', 'sysctl');
    assert.is(host.sysctl('vm.memory_failure_early_kill'), 0);
  });
}
