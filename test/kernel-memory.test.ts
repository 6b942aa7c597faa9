// The kernel out of linear memory: every call that cannot get the memory it may need fails
// with ENOMEM before it changes anything, the host keeps serving calls, and once memory is
// there again the same calls succeed. The limit is lowered through the kernel's test hook
// (arena_set_limit) so the tests run in seconds. Also: no call allocates beyond what its
// entry point reserved, hosts beyond 52 physical address bits are refused, and addresses
// near 2^52 cross the boundary exactly.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Host } from '../src/host/host.js';
import { FleetShard, type HostSpec } from '../src/fleet/shard.js';
import {
  MAP_SHARED, MFD_HUGETLB, MFD_HUGE_1GB, MFD_HUGE_2MB, MFD_MF_KEEP_UE_MAPPED, PROT_READ, PROT_WRITE,
} from '../src/host/constants.js';
import type { Process } from '../src/host/host.js';
import { RefHost } from './reference/model.js';
import { runDifferential } from './differential.js';
import { ErrFlag } from '../src/kernel/kernel.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

/** Everything a call could change that the API shows. */
function observe(host: Host, procs: Process[]) {
  return {
    pools: [host.hugepages('2M'), host.hugepages('1G')],
    mf: host.memoryFailureStats(),
    meminfo: host.meminfo(),
    log: host.kernelLog(),
    pageTables: host.pageTablePages(),
    procs: procs.map((p) => ({ alive: p.alive, signals: p.signals.length })),
  };
}

/** Runs `call`; on ENOMEM checks that nothing changed and returns false. */
function attempt(host: Host, procs: Process[], what: string, call: () => void, seen: Set<string>): boolean {
  const before = observe(host, procs);
  try {
    call();
    return true;
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (e.code !== 'ENOMEM') throw err;
    assert.match(e.message!, /out of memory/, `${what}: the error says the kernel's memory is full`);
    assert.equal(observe(host, procs), before, `${what}: a call that failed with ENOMEM changed nothing`);
    seen.add(what);
    return false;
  }
}

test('out of linear memory, every kind of call fails with ENOMEM, changes nothing, and succeeds once memory is back', async () => {
  const host = await Host.create({ hugepages: { '2M': 16384 }, hgm: true });
  const k = host.kernel;
  const procs: Process[] = [];
  const seen = new Set<string>();
  const vm = () => {
    const p = host.spawn();
    procs.push(p);
    return p;
  };
  /** A faulted-in 2 MiB mapping of `mib` MiB: its process, fd and address. */
  const guest = (mib: number) => {
    const p = vm();
    const fd = p.memfdCreate('guest', MFD_HUGETLB | MFD_HUGE_2MB);
    p.ftruncate(fd, mib * MiB);
    const base = p.mmap(0, mib * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    return { p, fd, base };
  };
  host.freeHugepages('2M');
  /** Repeats call(i) with linear memory capped where it is now, until it fails with ENOMEM. */
  const untilFull = (what: string, call: (i: number) => void) => {
    k.arena_set_limit(k.memory.buffer.byteLength);
    let i = 0;
    while (attempt(host, procs, what, () => call(i), seen)) assert.ok(++i < 1_000_000, `${what} never ran out of memory`);
    k.arena_set_limit(2 ** 32);
    // With memory back, the very call that failed succeeds.
    call(i);
  };
  untilFull('spawn', () => vm());
  const a = vm();
  untilFull('memfd_create', () => a.memfdCreate('f', MFD_HUGETLB | MFD_HUGE_2MB));
  const fd = a.memfdCreate('big', MFD_HUGETLB | MFD_HUGE_2MB);
  a.ftruncate(fd, 64 * MiB);
  untilFull('mmap', () => a.mmap(0, 2 * MiB, PROT_READ, MAP_SHARED, fd, (procs.length % 32) * 2 * MiB));
  const g = Array.from({ length: 400 }, () => guest(8));
  untilFull('write', (i) => g[i]!.p.write(g[i]!.base, 8 * MiB));
  const h = guest(16 * 1024);
  h.p.write(h.base, 16 * 1024 * MiB);
  // Each UE on a fresh 2 MiB region splits its leaf into a PTE table (HGM).
  untilFull('injectUE', (i) => host.injectUE(h.p.translate(h.base + BigInt(i * 2 * MiB + 4096))!, { consumer: h.p }));
  untilFull('madvise', (i) => h.p.madvise(h.base + BigInt((4096 + i) * 2 * MiB), 4096, 100));
  assert.equal([...seen].sort(), ['injectUE', 'madvise', 'memfd_create', 'mmap', 'spawn', 'write']);
  // The host still serves every call, and its processes still work.
  assert.ok(procs.every((p) => p.alive));
  assert.ok(h.p.read(h.base + 8192n, 4096).ok);
  assert.is(host.memoryFailureStats().total, host.meminfo().HardwareCorrupted / 4);
  assert.is(k.arena_overruns(), 0, 'no call allocated beyond its reservation');
});

test('a fleet shard out of memory stops its batch at the event that needed memory; resuming gives the same figures', () => {
  const hosts: HostSpec[] = Array.from({ length: 4 }, () => ({
    hugepages: { '1G': 4 }, hgm: true, vms: [{ memory: 4 * GiB, hugepage: '1G', policy: 'default' }],
  }));
  // UEs spread over the 2 MiB regions of each host's 1 GiB pages: each HGM split allocates.
  const ues = Array.from({ length: 4 * 400 }, (_, i) => ({ host: i % 4, phys: 4 * GiB + ((i * 7919) % 2048) * 2 * MiB + ((i * 13) % 512) * 4096 }));
  const replay = (shard: FleetShard, from: number, to: number) => {
    const cols = shard.errorColumns();
    for (let i = from; i < to; i++) {
      cols.host[i - from] = ues[i]!.host;
      cols.phys[i - from] = ues[i]!.phys;
      cols.flags[i - from] = ErrFlag.ue | ErrFlag.consumed;
    }
    return shard.replayErrors(to - from);
  };
  const unlimited = FleetShard.create(hosts);
  replay(unlimited, 0, ues.length);
  const expected = hosts.map((_, h) => unlimited.hostStats(h));
  assert.ok(expected.every((s) => s.pageTablePages > 100), 'HGM splits allocate page tables');

  const shard = FleetShard.create(hosts);
  const k = shard.kernelExports;
  k.arena_set_limit(k.memory.buffer.byteLength + MiB);
  let done = 0;
  let stops = 0;
  while (done < ues.length) {
    try {
      replay(shard, done, ues.length);
      done = ues.length;
    } catch (err) {
      const e = err as { code?: string; message?: string };
      assert.is(e.code, 'ENOMEM');
      const at = k.replay_stopped_at();
      assert.ok(at >= 0 && e.message!.includes(`event ${at} of`), e.message);
      done += at;
      stops++;
      // More memory, and the batch resumes at the event that stopped it.
      k.arena_set_limit(k.memory.buffer.byteLength + MiB);
    }
  }
  assert.ok(stops > 0, 'the limit stopped the replay');
  assert.equal(hosts.map((_, h) => shard.hostStats(h)), expected);
  assert.is(k.arena_overruns(), 0);
});

test('no kernel call allocates beyond what its entry point reserved (random operation sequences)', async () => {
  const kernels: Host[] = [];
  await runDifferential(
    (opts) => Promise.resolve(RefHost.create(opts)),
    async (opts) => {
      const h = await Host.create(opts);
      kernels.push(h);
      return h;
    },
    { runs: 300, seed: 20270101 },
  );
  assert.ok(kernels.length >= 300);
  assert.is(kernels.reduce((n, h) => n + h.kernel.arena_overruns(), 0), 0);
});

test('a host whose memory ends beyond 2^52 is refused at creation, with the numbers', async () => {
  // 4 GiB of low memory + (2^22 - 4) GiB of 1 GiB pages ends exactly at 2^52.
  await Host.create({ hugepages: { '1G': 2 ** 22 - 4 } });
  try {
    await Host.create({ hugepages: { '1G': 2 ** 22 - 4, '2M': 1 } });
    assert.unreachable('a host ending past 2^52 boots');
  } catch (err) {
    assert.instance(err, RangeError);
    assert.match((err as Error).message, /52-bit physical address space/);
    assert.match((err as Error).message, /4\.00 PiB/);
  }
});

test('translate and injectUE are exact at physical addresses near 2^52', async () => {
  // The 2 MiB pool sits after the 1 GiB pool: its last hugepage ends at 2^52.
  const host = await Host.create({ hugepages: { '1G': 2 ** 22 - 5, '2M': 512 } });
  const p = host.spawn();
  const fd = p.memfdCreate('guest', MFD_HUGETLB | MFD_HUGE_2MB | MFD_MF_KEEP_UE_MAPPED);
  p.ftruncate(fd, 2 * MiB);
  const va = p.mmap(0, 2 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  p.write(va, 2 * MiB);
  // The pool's lowest hugepage was taken: 2^52 - 1 GiB.
  const pa = p.translate(va + 0x1f_f123n)!;
  assert.is(pa, 2n ** 52n - 2n ** 30n + 0x1f_f123n, 'the offset survives in the low bits');
  host.injectUE(pa, { consumer: p });
  assert.equal(p.signals[0], { signo: 7, code: 4, addr: va + 0x1f_f000n, addrLsb: 12 });
  assert.ok(p.read(va + 0x1f_e000n, 4096).ok, 'the page below is intact');
  assert.not.ok(p.read(va + 0x1f_f000n, 1).ok, 'the poisoned page is the one translate named');
  const big = await Host.create({ hugepages: { '1G': 2 ** 22 - 4 } });
  const q = big.spawn();
  const fd1 = q.memfdCreate('g', MFD_HUGETLB | MFD_HUGE_1GB);
  q.ftruncate(fd1, GiB);
  const va1 = q.mmap(0, GiB, PROT_READ, MAP_SHARED, fd1, 0);
  q.read(va1, 1);
  assert.is(q.translate(va1 + 0x3fff_fffen), 2n ** 32n + 0x3fff_fffen);
});

test.run();
