// Three processes map one memfd (shared with sendFd): who gets which signal for a consumed
// UE (AR) and a patrol-scrub UE (AO), under early, late and default kill, for both policies.
import type * as uvu from 'uvu';
import * as assert from 'uvu/assert';
import { BUS_MCEERR_AO, BUS_MCEERR_AR, MAP_SHARED } from '../../src/host/constants.js';
import type { SimHost, SimProcess } from '../../src/host/types.js';
import {
  type CreateHost,
  H,
  hex,
  memfdFlags,
  pfnOf,
  physOf,
  POLICIES,
  type Policy,
  RW,
  sigbus,
} from './helpers.js';

const h = H['2M'];
/** The UE hits byte 0x40 of raw page 5 of hugepage 0. */
const UE_OFFSET = 0x5040;
const RAW_OFFSET = 0x5000n;

interface Scene {
  host: SimHost;
  /** mceKill 'default': follows the sysctl. */
  a: SimProcess;
  /** mceKill 'early'. */
  b: SimProcess;
  /** mceKill 'late'. */
  c: SimProcess;
  mapA: bigint;
  mapB: bigint;
  mapC: bigint;
  phys: bigint;
}

/**
 * A owns a 2-hugepage memfd and sends it to B and C; all three map it and touch every byte.
 * C first maps hugepage 1 alone, so its mapping of hugepage 0 sits at another address.
 */
async function threeMappers(createHost: CreateHost, policy: Policy, earlyKill: boolean, handlesSigbus = true): Promise<Scene> {
  const host = await createHost({ hugepages: { '2M': 4 }, earlyKill });
  const a = host.spawn({ name: 'vmm-a', mceKill: 'default', handlesSigbus: true, capSysAdmin: true });
  const b = host.spawn({ name: 'vmm-b', mceKill: 'early', handlesSigbus });
  const c = host.spawn({ name: 'vmm-c', mceKill: 'late', handlesSigbus });
  const fd = a.memfdCreate('guest-ram', memfdFlags('2M', policy));
  a.ftruncate(fd, 2 * h);
  const mapA = a.mmap(0, 2 * h, RW, MAP_SHARED, fd, 0);
  assert.equal(a.write(mapA, 2 * h), { ok: true });
  const fdB = a.sendFd(fd, b);
  const fdC = a.sendFd(fd, c);
  const mapB = b.mmap(0, 2 * h, RW, MAP_SHARED, fdB, 0);
  c.mmap(0, h, RW, MAP_SHARED, fdC, h);
  const mapC = c.mmap(0, 2 * h, RW, MAP_SHARED, fdC, 0);
  assert.equal(b.read(mapB, 2 * h), { ok: true });
  assert.equal(c.read(mapC, 2 * h), { ok: true });
  const phys = physOf(a, mapA) + BigInt(UE_OFFSET);
  assert.is(physOf(b, mapB), physOf(a, mapA));
  assert.is(physOf(c, mapC), physOf(a, mapA));
  return { host, a, b, c, mapA, mapB, mapC, phys };
}

export function defineKill(suite: uvu.Test, createHost: CreateHost): void {
  for (const policy of POLICIES) {
    const lsb = policy === 'KEEP' ? 12 : 21;
    for (const earlyKill of [false, true]) {
      for (const event of ['consumed (AR)', 'patrol scrub (AO)'] as const) {
        suite(`${policy}, ${event}, vm.memory_failure_early_kill=${earlyKill ? 1 : 0}: early/late/default kill`, async () => {
          const s = await threeMappers(createHost, policy, earlyKill);
          const consumed = event === 'consumed (AR)';
          s.host.injectUE(s.phys, consumed ? { consumer: s.a } : {});

          // A: AR as the consumer; otherwise AO only when the sysctl makes it early.
          const aSignals = consumed
            ? [sigbus(BUS_MCEERR_AR, s.mapA + RAW_OFFSET, lsb)]
            : earlyKill
              ? [sigbus(BUS_MCEERR_AO, s.mapA + RAW_OFFSET, lsb)]
              : [];
          assert.equal(s.a.signals, aSignals);
          // B (early): AO at its own address. C (late): nothing.
          assert.equal(s.b.signals, [sigbus(BUS_MCEERR_AO, s.mapB + RAW_OFFSET, lsb)]);
          assert.equal(s.c.signals, []);
          assert.ok(s.a.alive && s.b.alive && s.c.alive);

          const pfn = hex(pfnOf(s.phys));
          const sending = (p: SimProcess, comm: string) =>
            `Memory failure: 0x${pfn}: Sending SIGBUS to ${comm}:${p.pid} due to hardware memory corruption`;
          assert.equal(s.host.kernelLog(), [
            ...(consumed ? [`mce: Uncorrected hardware memory error in user-access at ${hex(s.phys)}`] : []),
            ...(aSignals.length ? [sending(s.a, 'vmm-a')] : []),
            sending(s.b, 'vmm-b'),
            `Memory failure: 0x${pfn}: recovery action for huge page: Recovered`,
          ]);
          assert.equal(s.host.memoryFailureStats(), { total: 1, ignored: 0, failed: 0, delayed: 0, recovered: 1 });
          assert.is(s.host.meminfo().HardwareCorrupted, 4);

          const hugepage0 = s.phys - BigInt(UE_OFFSET);
          if (policy === 'KEEP') {
            // Nothing is unmapped; the late-kill process meets the error when it reads it.
            for (const [p, map] of [[s.a, s.mapA], [s.b, s.mapB], [s.c, s.mapC]] as const) {
              assert.is(p.translate(map), hugepage0);
            }
            assert.equal(s.c.read(s.mapC, Number(RAW_OFFSET)), { ok: true });
            assert.equal(s.c.read(s.mapC + RAW_OFFSET + 0x10n, 1), {
              ok: false,
              signal: sigbus(BUS_MCEERR_AR, s.mapC + RAW_OFFSET, 12),
            });
          } else {
            // The whole hugepage is unmapped from every mapper; hugepage 1 stays.
            for (const [p, map] of [[s.a, s.mapA], [s.b, s.mapB], [s.c, s.mapC]] as const) {
              assert.is(p.translate(map), null);
              assert.ok(p.translate(map + BigInt(h)) !== null);
            }
            assert.equal(s.c.read(s.mapC + 0x10n, 1), {
              ok: false,
              signal: sigbus(BUS_MCEERR_AR, s.mapC + 0x10n, 21),
            });
          }
          assert.is(s.c.signals.length, 1);
          assert.ok(s.c.alive);
        });
      }
    }
  }

  for (const policy of POLICIES) {
    suite(`${policy}: mappers without a SIGBUS handler die of AO (early) but not when late`, async () => {
      const s = await threeMappers(createHost, policy, false, false);
      const before = s.host.hugepages('2M');
      s.host.injectUE(s.phys, { consumer: s.a });
      assert.ok(s.a.alive, 'the consumer handles SIGBUS');
      assert.not.ok(s.b.alive, 'early kill: AO kills a process without a handler');
      assert.ok(s.c.alive, 'late kill: no signal yet');
      assert.is(s.b.signals.length, 1);
      assert.is(s.host.hugepages('2M').nr, before.nr);
      // C dies when it consumes the error itself.
      const result = s.c.read(s.mapC + RAW_OFFSET, 1);
      assert.is(result.ok, false);
      assert.not.ok(s.c.alive);
    });
  }
}
