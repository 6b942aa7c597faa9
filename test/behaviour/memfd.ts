// memfd_create flag validation (mm/memfd.c sanitize_flags, then hugetlb_file_setup for the
// size; docs/semantics.md "memfd_create") and fd numbering.
import type * as uvu from 'uvu';
import * as assert from 'uvu/assert';
import {
  MAP_SHARED,
  MFD_ALLOW_SEALING,
  MFD_CLOEXEC,
  MFD_EXEC,
  MFD_HUGE_1GB,
  MFD_HUGE_2MB,
  MFD_HUGE_SHIFT,
  MFD_HUGETLB,
  MFD_MF_KEEP_UE_MAPPED,
  MFD_NOEXEC_SEAL,
} from '../../src/host/constants.js';
import { type CreateHost, expectCleanFailure, expectError, H, PAGE, RW, VMM } from './helpers.js';

const KEEP = MFD_MF_KEEP_UE_MAPPED;

export function defineMemfd(suite: uvu.Test, createHost: CreateHost): void {
  const setup = async (policyCapable = true) => {
    const host = await createHost({ hugepages: { '2M': 4, '1G': 1 }, policyCapable });
    return { host, proc: host.spawn(VMM) };
  };

  suite('valid HugeTLB flags are accepted, with or without KEEP and a size', async () => {
    const { proc } = await setup();
    for (const flags of [
      MFD_HUGETLB,
      MFD_HUGETLB | MFD_HUGE_2MB,
      MFD_HUGETLB | MFD_HUGE_1GB,
      MFD_HUGETLB | KEEP,
      MFD_HUGETLB | KEEP | MFD_HUGE_2MB,
      MFD_HUGETLB | KEEP | MFD_HUGE_1GB,
      MFD_HUGETLB | MFD_CLOEXEC | MFD_ALLOW_SEALING,
      MFD_HUGETLB | MFD_NOEXEC_SEAL,
      MFD_HUGETLB | MFD_EXEC,
    ]) {
      const fd = proc.memfdCreate('ok', flags);
      assert.ok(fd >= 3);
      proc.close(fd);
    }
  });

  suite('without a size field a HugeTLB memfd uses 2 MiB pages', async () => {
    const { host, proc } = await setup();
    const fd = proc.memfdCreate('default-size', MFD_HUGETLB | KEEP);
    expectError(() => proc.ftruncate(fd, PAGE), 'EINVAL', 'ftruncate');
    proc.ftruncate(fd, H['2M']);
    const map = proc.mmap(0, PAGE, RW, MAP_SHARED, fd, 0);
    assert.is(map % BigInt(H['2M']), 0n);
    assert.equal(proc.write(map, PAGE), { ok: true });
    assert.is(host.hugepages('2M').free, 3);
    assert.is(host.hugepages('1G').free, 1);
  });

  suite('invalid flag combinations fail with EINVAL', async () => {
    const { host, proc } = await setup();
    const cases: [string, number][] = [
      ['KEEP without HUGETLB', KEEP],
      ['KEEP with a size but without HUGETLB', KEEP | MFD_HUGE_2MB],
      ['unknown bit 0x40', MFD_HUGETLB | 0x40],
      ['unknown bit 0x100', MFD_HUGETLB | 0x100],
      ['unknown bit 0x2000000', MFD_HUGETLB | 0x2000000],
      ['a size without HUGETLB', MFD_HUGE_2MB],
      ['NOEXEC_SEAL with EXEC', MFD_HUGETLB | MFD_NOEXEC_SEAL | MFD_EXEC],
      ['an unsupported size without HUGETLB', 24 << MFD_HUGE_SHIFT],
      ['bits above 32', 2 ** 32 + MFD_HUGETLB],
    ];
    for (const [, flags] of cases) {
      expectCleanFailure(host, [proc], () => proc.memfdCreate('bad', flags), 'EINVAL', 'memfd_create');
    }
    // The fd numbering is untouched by the failures.
    assert.is(proc.memfdCreate('after', MFD_HUGETLB), 3);
  });

  suite('a hugepage size x86-64 does not have fails with ENODEV (hugetlb_file_setup)', async () => {
    const { host, proc } = await setup();
    for (const log2 of [24, 16, 34, 22, 63]) {
      for (const flags of [MFD_HUGETLB | (log2 << MFD_HUGE_SHIFT), MFD_HUGETLB | KEEP | (log2 << MFD_HUGE_SHIFT)]) {
        expectCleanFailure(host, [proc], () => proc.memfdCreate('bad-size', flags >>> 0), 'ENODEV', 'memfd_create');
      }
    }
    // A supported size whose pool is empty is accepted; the mapping then fails.
    const empty = await createHost({ hugepages: { '2M': 1 } });
    const q = empty.spawn(VMM);
    const fd = q.memfdCreate('no-1g', MFD_HUGETLB | MFD_HUGE_1GB);
    q.ftruncate(fd, H['1G']);
    expectError(() => q.mmap(0, H['1G'], RW, MAP_SHARED, fd, 0), 'ENOMEM', 'mmap');
  });

  suite('negative, fractional and NaN flags fail with EINVAL', async () => {
    const { host, proc } = await setup();
    for (const flags of [-1, -MFD_HUGETLB, 4.5, NaN, Infinity]) {
      expectCleanFailure(host, [proc], () => proc.memfdCreate('bad', flags), 'EINVAL', 'memfd_create');
    }
  });

  suite('a memfd without MFD_HUGETLB is not modelled: EOPNOTSUPP', async () => {
    const { host, proc } = await setup();
    for (const flags of [0, MFD_CLOEXEC, MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL]) {
      expectCleanFailure(host, [proc], () => proc.memfdCreate('shmem', flags), 'EOPNOTSUPP', 'memfd_create');
    }
  });

  suite('a kernel without the series treats MFD_MF_KEEP_UE_MAPPED as unknown', async () => {
    const { host, proc } = await setup(false);
    for (const flags of [MFD_HUGETLB | KEEP, MFD_HUGETLB | KEEP | MFD_HUGE_1GB, KEEP]) {
      expectCleanFailure(host, [proc], () => proc.memfdCreate('probe', flags), 'EINVAL', 'memfd_create');
    }
    assert.is(proc.memfdCreate('plain', MFD_HUGETLB | MFD_HUGE_1GB), 3);
  });

  suite('fds start at 3 and reuse the lowest free number', async () => {
    const { proc } = await setup();
    const a = proc.memfdCreate('a', MFD_HUGETLB);
    const b = proc.memfdCreate('b', MFD_HUGETLB);
    const c = proc.memfdCreate('c', MFD_HUGETLB);
    assert.equal([a, b, c], [3, 4, 5]);
    proc.close(b);
    proc.close(a);
    assert.is(proc.memfdCreate('d', MFD_HUGETLB), 3);
    assert.is(proc.memfdCreate('e', MFD_HUGETLB), 4);
    assert.is(proc.memfdCreate('f', MFD_HUGETLB), 6);
  });

  suite('sendFd gives the receiver its lowest free fd for the same file', async () => {
    const { host, proc } = await setup();
    const other = host.spawn(VMM);
    const own = other.memfdCreate('own', MFD_HUGETLB);
    assert.is(own, 3);
    const fd = proc.memfdCreate('shared', MFD_HUGETLB | KEEP);
    proc.ftruncate(fd, H['2M']);
    const sent = proc.sendFd(fd, other);
    assert.is(sent, 4);
    // The receiver sees the file's size: the same file.
    assert.is(other.pread(sent, PAGE, 0), PAGE);
    expectCleanFailure(host, [proc, other], () => proc.sendFd(99, other), 'EBADF');
    other.exit();
    expectCleanFailure(host, [proc, other], () => proc.sendFd(fd, other), 'ESRCH');
  });
}
