// The kernel log lines, as literal strings: their shape is part of the contract.
import type * as uvu from 'uvu';
import * as assert from 'uvu/assert';
import { MADV_HWPOISON, MAP_SHARED, MFD_HUGETLB } from '../../src/host/constants.js';
import { type CreateHost, H, memfdFlags, PAGE, RW, VMM } from './helpers.js';

// With only a 2 MiB pool, hugepage 0 is at 0x1_0000_0000 (pfn 0x100000) and the first
// mapping of a process goes at 0x7f00_0000_0000 - 2 MiB.
const MAP = 0x7effffe00000n;

export function defineKernelLog(suite: uvu.Test, createHost: CreateHost): void {
  suite('MADV_HWPOISON on a KEEP memfd: injecting, sending, recovered', async () => {
    const host = await createHost({ hugepages: { '2M': 2 } });
    const p = host.spawn({ ...VMM, name: 'qemu-kvm' });
    const fd = p.memfdCreate('guest', memfdFlags('2M', 'KEEP'));
    p.ftruncate(fd, H['2M']);
    assert.is(p.mmap(0, H['2M'], RW, MAP_SHARED, fd, 0), MAP);
    p.write(MAP, 1);
    p.madvise(MAP + 0x21000n, PAGE, MADV_HWPOISON);
    assert.equal(host.kernelLog(), [
      'Injecting memory failure for pfn 0x100021 at process virtual address 0x7effffe21000',
      'Memory failure: 0x100021: Sending SIGBUS to qemu-kvm:1000 due to hardware memory corruption',
      'Memory failure: 0x100021: recovery action for huge page: Recovered',
    ]);
  });

  suite('a consumed UE on a DEFAULT memfd, then an access to the unmapped hugepage (x86 do_sigbus line)', async () => {
    const host = await createHost({ hugepages: { '2M': 2 } });
    const p = host.spawn({ ...VMM, name: 'vm' });
    const fd = p.memfdCreate('guest', MFD_HUGETLB);
    p.ftruncate(fd, H['2M']);
    p.mmap(0, H['2M'], RW, MAP_SHARED, fd, 0);
    p.write(MAP, 1);
    host.injectUE(0x100021abcn, { consumer: p });
    p.read(MAP, 1);
    assert.equal(host.kernelLog(), [
      'mce: Uncorrected hardware memory error in user-access at 100021abc',
      'Memory failure: 0x100021: Sending SIGBUS to vm:1000 due to hardware memory corruption',
      'Memory failure: 0x100021: recovery action for huge page: Recovered',
      'MCE: Killing vm:1000 due to hardware memory corruption fault at 7effffe00000',
    ]);
  });

  suite('scrubbed UEs on free memory; comm defaults to "task"', async () => {
    const host = await createHost({ hugepages: { '2M': 2 } });
    host.injectUE(0x100200000n);
    host.injectUE(0x100200000n);
    host.injectUE(0x1002ff000n);
    const p = host.spawn({ capSysAdmin: true, handlesSigbus: true, mceKill: 'early' });
    const q = host.spawn({ handlesSigbus: true, mceKill: 'early', name: 'peer' });
    const fd = p.memfdCreate('guest', memfdFlags('2M', 'KEEP'));
    p.ftruncate(fd, H['2M']);
    p.mmap(0, H['2M'], RW, MAP_SHARED, fd, 0);
    const fdQ = p.sendFd(fd, q);
    q.mmap(0, H['2M'], RW, MAP_SHARED, fdQ, 0);
    p.write(MAP, 1);
    host.injectUE(0x100000040n);
    assert.equal(host.kernelLog(), [
      'Memory failure: 0x100200: recovery action for free huge page: Recovered',
      'Memory failure: 0x100200: recovery action for already poisoned page: Failed',
      'Memory failure: 0x1002ff: recovery action for free buddy page: Recovered',
      'Memory failure: 0x100000: Sending SIGBUS to task:1000 due to hardware memory corruption',
      'Memory failure: 0x100000: Sending SIGBUS to peer:1001 due to hardware memory corruption',
      'Memory failure: 0x100000: recovery action for huge page: Recovered',
    ]);
  });

  suite('the log is append-only and returned as a copy', async () => {
    const host = await createHost({ hugepages: { '2M': 2 } });
    host.injectUE(0x100000000n);
    const log = host.kernelLog();
    log.push('tampered');
    assert.equal(host.kernelLog(), ['Memory failure: 0x100000: recovery action for free huge page: Recovered']);
  });
}
