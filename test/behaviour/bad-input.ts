// Bad input: every failing call throws the documented error and changes nothing (the
// pools, free lists, counters, kernel log and every process's signals are compared before
// and after).
import type * as uvu from 'uvu';
import * as assert from 'uvu/assert';
import {
  BUS_MCEERR_AR,
  FALLOC_FL_KEEP_SIZE,
  FALLOC_FL_PUNCH_HOLE,
  MADV_HWPOISON,
  MADV_SOFT_OFFLINE,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_HUGETLB,
  MAP_PRIVATE,
  MAP_SHARED,
  MFD_HUGETLB,
  PROT_READ,
} from '../../src/host/constants.js';
import type { Num, SimHost, SimProcess } from '../../src/host/types.js';
import { type CreateHost, expectCleanFailure, expectError, GiB, H, memfdFlags, PAGE, RW, sigbus, snapshot, VMM } from './helpers.js';

const h = H['2M'];
/** Numbers that are not addresses: negative, fractional, NaN, infinite, too big. */
const BAD_NUMBERS: readonly unknown[] = [-1, -h, 0.5, h + 0.5, NaN, Infinity, -Infinity, 2 ** 53, -1n, 2n ** 53n, '4096', null];

interface Scene {
  host: SimHost;
  p: SimProcess;
  other: SimProcess;
  fd: number;
  /** A written 2-hugepage shared mapping of fd. */
  map: bigint;
}

/** A KEEP memfd of 2 hugepages, mapped and written, plus a bystander process. */
async function scene(createHost: CreateHost): Promise<Scene> {
  const host = await createHost({ hugepages: { '2M': 4, '1G': 1 } });
  const p = host.spawn(VMM);
  const other = host.spawn(VMM);
  const fd = p.memfdCreate('guest', memfdFlags('2M', 'KEEP'));
  p.ftruncate(fd, 2 * h);
  const map = p.mmap(0, 2 * h, RW, MAP_SHARED, fd, 0);
  p.write(map, 2 * h);
  // Some history, so that "nothing changed" covers non-empty logs and signals.
  p.madvise(map + 0x1000n, PAGE, MADV_HWPOISON);
  return { host, p, other, fd, map };
}

export function defineBadInput(suite: uvu.Test, createHost: CreateHost): void {
  suite('bad fds: EBADF', async () => {
    const { host, p, other, fd } = await scene(createHost);
    const fails = (fn: () => unknown, syscall: string) => expectCleanFailure(host, [p, other], fn, 'EBADF', syscall);
    for (const bad of [99, -5, 0, 1, 2, 3.5, NaN]) {
      fails(() => p.ftruncate(bad, h), 'ftruncate');
      fails(() => p.fallocate(bad, 0, 0, h), 'fallocate');
      fails(() => p.mmap(0, h, RW, MAP_SHARED, bad, 0), 'mmap');
      fails(() => p.pread(bad, 1, 0), 'pread');
      fails(() => p.close(bad), 'close');
      fails(() => p.sendFd(bad, other), 'sendmsg');
    }
    fails(() => p.mmap(0, h, RW, MAP_SHARED, -1, 0), 'mmap');
    // An fd of another process is not ours.
    const mine = other.memfdCreate('theirs', MFD_HUGETLB);
    assert.is(mine, 3);
    fails(() => p.pread(fd + 1, 1, 0), 'pread');
    // A closed fd.
    const tmp = p.memfdCreate('tmp', MFD_HUGETLB);
    p.close(tmp);
    fails(() => p.close(tmp), 'close');
  });

  suite('unmapped or wrongly protected addresses: EFAULT, nothing faulted in', async () => {
    const { host, p, other, fd, map } = await scene(createHost);
    const ro = p.mmap(0, h, PROT_READ, MAP_SHARED, fd, 0);
    const fresh = p.memfdCreate('fresh', MFD_HUGETLB);
    p.ftruncate(fresh, h);
    const unfaulted = p.mmap(0, h, RW, MAP_SHARED, fresh, 0);
    const fails = (fn: () => unknown, syscall: string) => expectCleanFailure(host, [p, other], fn, 'EFAULT', syscall);
    fails(() => p.read(0x1000, 1), 'read');
    fails(() => p.write(0x1000, 1), 'write');
    fails(() => p.write(map - 1n, 2), 'write');
    fails(() => p.read(map + BigInt(2 * h) - 1n, 2), 'read');
    fails(() => p.write(ro, 1), 'write');
    fails(() => other.read(map, 1), 'read');
    // The first part is mapped but unfaulted: the check comes before any fault-in.
    fails(() => p.write(unfaulted, h + 1), 'write');
    fails(() => p.madvise(0x200000, PAGE, MADV_HWPOISON), 'madvise');
    fails(() => p.madvise(map + BigInt(2 * h), PAGE, MADV_HWPOISON), 'madvise');
    // A page that cannot be faulted in (beyond EOF) cannot be poisoned either.
    const empty = p.memfdCreate('empty', MFD_HUGETLB);
    const beyond = p.mmap(0, h, PROT_READ, MAP_SHARED, empty, 0);
    fails(() => p.madvise(beyond, PAGE, MADV_HWPOISON), 'madvise');
    assert.is(p.translate(unfaulted), null);
  });

  suite('MADV_HWPOISON (do_madvise): the advice and the range are checked first, whoever calls; then CAP_SYS_ADMIN; a zero length is 0', async () => {
    const { host, p, other, fd, map } = await scene(createHost);
    const fails = (fn: () => unknown, code: string, who: SimProcess[] = [p, other]) => expectCleanFailure(host, who, fn, code, 'madvise');
    const noCap = host.spawn({ capSysAdmin: false, handlesSigbus: true });
    const theirs = noCap.mmap(0, h, RW, MAP_SHARED, p.sendFd(fd, noCap), h);
    const all = [p, other, noCap];
    // An unaligned start is EINVAL even without CAP_SYS_ADMIN; an aligned one is EPERM.
    fails(() => noCap.madvise(theirs + 1n, PAGE, MADV_HWPOISON), 'EINVAL', all);
    fails(() => noCap.madvise(theirs, PAGE, 4), 'EINVAL', all);
    fails(() => noCap.madvise(theirs, PAGE, MADV_HWPOISON), 'EPERM', all);
    fails(() => noCap.madvise(theirs, PAGE, MADV_SOFT_OFFLINE), 'EPERM', all);
    fails(() => p.madvise(map + 1n, PAGE, MADV_HWPOISON), 'EINVAL', all);
    fails(() => p.madvise(map, PAGE, 4), 'EINVAL', all);
    fails(() => p.madvise(map, PAGE, MADV_SOFT_OFFLINE), 'EOPNOTSUPP', all);
    // A zero length returns 0 before anything else is looked at, without CAP_SYS_ADMIN too.
    const before = snapshot(host, all);
    assert.is(p.madvise(map, 0, MADV_HWPOISON), 0);
    assert.is(noCap.madvise(theirs, 0, MADV_HWPOISON), 0);
    assert.is(p.madvise(0x200000, 0, MADV_HWPOISON), 0, 'unmapped: nothing to walk');
    assert.equal(snapshot(host, all), before);
  });

  suite('MADV_HWPOISON applies its steps in order: a failing step leaves the earlier ones applied', async () => {
    const { host, p, fd, map } = await scene(createHost);
    // A KEEP raw page already poisoned: EHWPOISON, and the caller gets SIGBUS AR for it
    // (kill_accessing_process), lsb 12.
    expectError(() => p.madvise(map + 0x1000n, PAGE, MADV_HWPOISON), 'EHWPOISON', 'madvise');
    assert.equal(p.signals.slice(1), [sigbus(BUS_MCEERR_AR, map + 0x1000n, 12)]);
    // Two more mappings below `map`: m0 -> index 0, m1 -> index 1, then map -> 0, 1.
    const m1 = p.mmap(0, h, RW, MAP_SHARED, fd, h);
    const m0 = p.mmap(0, h, RW, MAP_SHARED, fd, 0);
    assert.equal([m0, m1], [map - BigInt(2 * h), map - BigInt(h)]);
    // Step 1 (index 1, raw 1 through m1) is new: poisoned, one AR per VMA mapping index 1
    // (m1 and map + h: collect_procs_file). Step 2 (index 0, raw 1 through `map`) was
    // poisoned before: EHWPOISON, AR at the lowest address whose page table maps it (`map`:
    // m0 was never faulted in).
    expectError(() => p.madvise(m1 + 0x1000n, 2 * h, MADV_HWPOISON), 'EHWPOISON', 'madvise');
    assert.equal(p.signals.slice(2), [
      sigbus(BUS_MCEERR_AR, m1 + 0x1000n, 12),
      sigbus(BUS_MCEERR_AR, map + BigInt(h) + 0x1000n, 12),
      sigbus(BUS_MCEERR_AR, map + 0x1000n, 12),
    ]);
    assert.equal(host.memoryFailureStats(), { total: 2, ignored: 0, failed: 0, delayed: 0, recovered: 2 });
    // Check all, then apply no more: the first step is fine, the second one is unmapped.
    expectError(() => p.madvise(map + BigInt(h) + 0x3000n, 2 * h, MADV_HWPOISON), 'EFAULT', 'madvise');
    assert.equal(host.memoryFailureStats(), { total: 3, ignored: 0, failed: 0, delayed: 0, recovered: 3 });
  });

  for (const policy of ['DEFAULT', 'KEEP'] as const) {
    suite(`MADV_HWPOISON reaching one ${policy} hugepage twice in one call: step 1 is applied, step 2 fails`, async () => {
      const host = await createHost({ hugepages: { '2M': 2 } });
      const p = host.spawn(VMM);
      const fd = p.memfdCreate('twice', memfdFlags('2M', policy));
      p.ftruncate(fd, h);
      const upper = p.mmap(0, h, RW, MAP_SHARED, fd, 0);
      const lower = p.mmap(0, h, RW, MAP_SHARED, fd, 0);
      assert.is(lower, upper - BigInt(h));
      p.write(lower, 1);
      // Step 1 poisons raw page 1 through `lower` (AR for both VMAs); step 2 reaches the same
      // raw page through `upper`: DEFAULT has offlined the hugepage, so the fault-in fails
      // (EFAULT); KEEP faults the kept page in and finds the raw page poisoned (EHWPOISON, AR
      // at the lowest address mapping it).
      const lsb = policy === 'DEFAULT' ? 21 : 12;
      const step1 = [sigbus(BUS_MCEERR_AR, lower + 0x1000n, lsb), sigbus(BUS_MCEERR_AR, upper + 0x1000n, lsb)];
      if (policy === 'DEFAULT') {
        expectError(() => p.madvise(lower + 0x1000n, h + PAGE, MADV_HWPOISON), 'EFAULT', 'madvise');
        assert.equal(p.signals, step1);
        assert.is(p.translate(upper), null, 'the offlined hugepage is not faulted in');
      } else {
        expectError(() => p.madvise(lower + 0x1000n, h + PAGE, MADV_HWPOISON), 'EHWPOISON', 'madvise');
        assert.equal(p.signals, [...step1, sigbus(BUS_MCEERR_AR, lower + 0x1000n, 12)]);
        assert.is(p.translate(upper), p.translate(lower), 'step 2 faulted the kept hugepage in');
      }
      assert.equal(host.memoryFailureStats(), { total: 1, ignored: 0, failed: 0, delayed: 0, recovered: 1 });
    });
  }

  suite('misaligned arguments: EINVAL', async () => {
    const { host, p, other, fd, map } = await scene(createHost);
    const fails = (fn: () => unknown, syscall: string) => expectCleanFailure(host, [p, other], fn, 'EINVAL', syscall);
    fails(() => p.ftruncate(fd, h + PAGE), 'ftruncate');
    fails(() => p.mmap(0, h, RW, MAP_SHARED, fd, PAGE), 'mmap');
    fails(() => p.mmap(0x7e0000001000, h, RW, MAP_SHARED | MAP_FIXED, fd, 0), 'mmap');
    fails(() => p.munmap(map + 1n, h), 'munmap');
    fails(() => p.munmap(map + 0x1000n, h), 'munmap');
    fails(() => p.munmap(map, PAGE), 'munmap');
    fails(() => p.munmap(map, h + PAGE), 'munmap');
  });

  suite('zero lengths: EINVAL', async () => {
    const { host, p, other, fd, map } = await scene(createHost);
    const fails = (fn: () => unknown, syscall: string) => expectCleanFailure(host, [p, other], fn, 'EINVAL', syscall);
    fails(() => p.mmap(0, 0, RW, MAP_SHARED, fd, 0), 'mmap');
    fails(() => p.munmap(map, 0), 'munmap');
    fails(() => p.read(map, 0), 'read');
    fails(() => p.write(map, 0), 'write');
    fails(() => p.fallocate(fd, 0, 0, 0), 'fallocate');
  });

  suite('unknown flags and modes', async () => {
    const { host, p, other, fd } = await scene(createHost);
    const fails = (fn: () => unknown, code: string, syscall: string) => expectCleanFailure(host, [p, other], fn, code, syscall);
    fails(() => p.mmap(0, h, 4, MAP_SHARED, fd, 0), 'EINVAL', 'mmap');
    fails(() => p.mmap(0, h, RW, MAP_SHARED | 0x100000, fd, 0), 'EINVAL', 'mmap');
    fails(() => p.mmap(0, h, RW, 0, fd, 0), 'EINVAL', 'mmap');
    fails(() => p.mmap(0, h, RW, MAP_SHARED | MAP_PRIVATE, fd, 0), 'EINVAL', 'mmap');
    fails(() => p.mmap(0, h, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0), 'EOPNOTSUPP', 'mmap');
    fails(() => p.mmap(0, h, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | (16 << 26), -1, 0), 'EINVAL', 'mmap');
    fails(() => p.fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, h), 'EOPNOTSUPP', 'fallocate');
    fails(() => p.fallocate(fd, 0x10 | FALLOC_FL_KEEP_SIZE, 0, h), 'EOPNOTSUPP', 'fallocate');
    fails(() => p.memfdCreate('x', MFD_HUGETLB | 0x80), 'EINVAL', 'memfd_create');
    fails(() => host.sysctl('vm.unknown', 1), 'EINVAL', 'sysctl');
  });

  suite('negative, fractional, NaN and oversized numbers: EINVAL', async () => {
    const { host, p, other, fd, map } = await scene(createHost);
    const fails = (fn: () => unknown, syscall: string) => expectCleanFailure(host, [p, other], fn, 'EINVAL', syscall);
    for (const bad of BAD_NUMBERS) {
      const n = bad as Num;
      fails(() => p.mmap(n, h, RW, MAP_SHARED, fd, 0), 'mmap');
      fails(() => p.mmap(0, n, RW, MAP_SHARED, fd, 0), 'mmap');
      fails(() => p.mmap(0, h, RW, MAP_SHARED, fd, n), 'mmap');
      fails(() => p.munmap(n, h), 'munmap');
      fails(() => p.munmap(map, n), 'munmap');
      fails(() => p.ftruncate(fd, n), 'ftruncate');
      fails(() => p.fallocate(fd, 0, n, h), 'fallocate');
      fails(() => p.fallocate(fd, 0, 0, n), 'fallocate');
      fails(() => p.read(n, 1), 'read');
      fails(() => p.read(map, n), 'read');
      fails(() => p.write(n, 1), 'write');
      fails(() => p.madvise(n, PAGE, MADV_HWPOISON), 'madvise');
      fails(() => p.madvise(map, n, MADV_HWPOISON), 'madvise');
      fails(() => p.pread(fd, n, 0), 'pread');
      fails(() => p.pread(fd, 1, n), 'pread');
      fails(() => p.translate(n), 'translate');
      fails(() => host.injectUE(n), 'injectUE');
    }
    for (const bad of [-1, 0.5, NaN, 2 ** 32]) {
      fails(() => p.mmap(0, h, bad, MAP_SHARED, fd, 0), 'mmap');
      fails(() => p.mmap(0, h, RW, bad, fd, 0), 'mmap');
      fails(() => p.fallocate(fd, bad, 0, h), 'fallocate');
      fails(() => p.madvise(map, PAGE, bad), 'madvise');
    }
  });

  suite('bigints are accepted wherever a number is', async () => {
    const { p, fd, map } = await scene(createHost);
    const m = p.mmap(0n, BigInt(h), RW, MAP_SHARED, fd, BigInt(h));
    assert.equal(p.read(m, BigInt(PAGE)), { ok: true });
    assert.is(p.pread(fd, BigInt(PAGE), 0n), PAGE);
    assert.is(p.translate(map + 0x10n), p.translate(Number(map) + 0x10));
    p.munmap(m, BigInt(h));
  });

  suite('physical addresses outside the host: EINVAL', async () => {
    const { host, p, other } = await scene(createHost);
    for (const phys of [0, 0xfffff000, 4 * GiB - 1, 5 * GiB + 4 * h, 2 ** 48]) {
      expectCleanFailure(host, [p, other], () => host.injectUE(phys), 'EINVAL', 'injectUE');
    }
  });

  suite('pools that cannot back a mapping: ENOMEM; overlapping MAP_FIXED: EEXIST', async () => {
    const { host, p, other, fd, map } = await scene(createHost);
    const fails = (fn: () => unknown, code: string) => expectCleanFailure(host, [p, other], fn, code, 'mmap');
    fails(() => p.mmap(0, 3 * h, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0), 'ENOMEM');
    fails(() => p.mmap(0, 3 * h, RW, MAP_SHARED, fd, 2 * h), 'ENOMEM');
    fails(() => p.mmap(0, 2 * GiB, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | (30 << 26), -1, 0), 'ENOMEM');
    fails(() => p.mmap(map + BigInt(h), h, RW, MAP_SHARED | MAP_FIXED, fd, 0), 'EEXIST');
    fails(() => p.mmap(map - BigInt(h), 2 * h, RW, MAP_SHARED | MAP_FIXED, fd, 0), 'EEXIST');
  });

  suite('MAP_FIXED and address hints place mappings where asked', async () => {
    const { p, fd, map } = await scene(createHost);
    const at = 0x600000000000n;
    assert.is(p.mmap(at, h, RW, MAP_SHARED | MAP_FIXED, fd, 0), at);
    assert.is(p.mmap(at + BigInt(h), h, RW, MAP_SHARED, fd, h), at + BigInt(h), 'a free, aligned hint is used');
    // A hint in use or misaligned falls back to top-down placement below the last one.
    assert.is(p.mmap(at, h, RW, MAP_SHARED, fd, 0), map - BigInt(h));
    assert.is(p.mmap(at + 0x1000n, h, RW, MAP_SHARED, fd, 0), map - BigInt(2 * h));
    assert.equal(p.read(at, 1), { ok: true });
    assert.is(p.translate(at + 5n), p.translate(map + 5n));
  });

  suite('dead processes: ESRCH', async () => {
    const { host, p, other, fd, map } = await scene(createHost);
    other.exit();
    const fails = (fn: () => unknown, syscall?: string) => expectCleanFailure(host, [p, other], fn, 'ESRCH', syscall);
    fails(() => other.memfdCreate('x', MFD_HUGETLB), 'memfd_create');
    fails(() => other.mmap(0, h, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0), 'mmap');
    fails(() => other.read(map, 1), 'read');
    fails(() => other.exit(), 'exit');
    fails(() => p.sendFd(fd, other));
    fails(() => host.injectUE(p.translate(map)!, { consumer: other }), 'injectUE');
  });

  suite('a munmap of nothing succeeds and changes nothing', async () => {
    const { host, p, other } = await scene(createHost);
    const before = snapshot(host, [p, other]);
    p.munmap(0x100000000000, h);
    assert.equal(snapshot(host, [p, other]), before);
  });
}
