// Sanity checks of the differential harness: the reference model agrees with itself, and
// the comparison catches hosts that differ (deliberately broken wrappers of the model).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MADV_HWPOISON, MAP_SHARED, MFD_HUGETLB, MFD_MF_KEEP_UE_MAPPED } from '../src/host/constants.js';
import type { HostOptions, SimHost, SimProcess } from '../src/host/types.js';
import { compareScenario, type CreateHost, firstDifference, runDifferential, type Scenario } from './differential.js';
import { RefHost } from './reference/model.js';

const reference: CreateHost = (opts) => Promise.resolve(RefHost.create(opts));

/**
 * A reference host seen through proxies that change some answers. Methods run on the real
 * objects (proxies are unwrapped on the way in), so only the overridden answers differ.
 */
function broken(overrides: {
  host?: (host: SimHost, key: string) => unknown;
  process?: (proc: SimProcess, key: string) => unknown;
}): CreateHost {
  return async (opts?: HostOptions) => {
    const real = RefHost.create(opts);
    const unwrap = new WeakMap<object, object>();
    const wrapProcess = (proc: SimProcess): SimProcess => {
      const proxy = new Proxy(proc, {
        get(target, key) {
          const changed = typeof key === 'string' ? overrides.process?.(target, key) : undefined;
          if (changed !== undefined) return changed;
          if (key === 'sendFd') return (fd: number, to: SimProcess) => target.sendFd(fd, (unwrap.get(to) ?? to) as SimProcess);
          const v = Reflect.get(target, key, target) as unknown;
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
      unwrap.set(proxy, proc);
      return proxy;
    };
    return new Proxy(real as SimHost, {
      get(target, key) {
        const changed = typeof key === 'string' ? overrides.host?.(target, key) : undefined;
        if (changed !== undefined) return changed;
        if (key === 'spawn') return (o?: object) => wrapProcess(target.spawn(o));
        if (key === 'injectUE') {
          return (phys: number, o: { consumer?: SimProcess } = {}) =>
            target.injectUE(phys, o.consumer ? { consumer: (unwrap.get(o.consumer) ?? o.consumer) as SimProcess } : {});
        }
        const v = Reflect.get(target, key, target) as unknown;
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
  };
}

const self = suite('differential harness');

self('the reference model agrees with itself over a few hundred random scenarios', async () => {
  await runDifferential(reference, reference, { runs: 300, seed: 20260301 });
});

self('an unmodified proxy agrees with the reference (the wrappers themselves are faithful)', async () => {
  await runDifferential(reference, broken({}), { runs: 100, seed: 7 });
});

/** runDifferential must reject, naming the op sequence. */
async function expectMismatch(createB: CreateHost, runs: number, needle: string): Promise<string> {
  try {
    await runDifferential(reference, createB, { runs, seed: 1234 });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    assert.match(message, 'hosts differ ');
    assert.match(message, 'ops:');
    assert.match(message, needle);
    return message;
  }
  assert.unreachable('the harness did not notice the difference');
  return '';
}

self('catches a counter that is off by one', async () => {
  await expectMismatch(
    broken({ host: (h, k) => (k === 'hugepages' ? (s: '2M' | '1G') => ({ ...h.hugepages(s), nr: h.hugepages(s).nr + 1 }) : undefined) }),
    10,
    'hugepages',
  );
});

self('catches a kernel log that misses "recovery action for already poisoned page"', async () => {
  await expectMismatch(
    broken({
      host: (h, k) => (k === 'kernelLog' ? () => h.kernelLog().filter((l) => !l.endsWith('already poisoned page: Failed')) : undefined),
    }),
    500,
    'kernelLog',
  );
});

self('catches a process that loses its AO signals', async () => {
  await expectMismatch(
    broken({ process: (p, k) => (k === 'signals' ? p.signals.filter((s) => s.code !== 5) : undefined) }),
    500,
    'signals',
  );
});

self('catches a wrong return value', async () => {
  await expectMismatch(
    broken({
      process: (p, k) =>
        k === 'pread' ? (fd: number, len: number, off: number) => Math.max(0, p.pread(fd, len, off) - 1) : undefined,
    }),
    500,
    'result',
  );
});

self('catches an error code that differs', async () => {
  await expectMismatch(
    broken({
      process: (p, k) =>
        k === 'close'
          ? (fd: number) => {
              try {
                p.close(fd);
              } catch (err) {
                throw Object.assign(new Error('wrong'), { code: 'EINVAL', errno: -22 });
              }
            }
          : undefined,
    }),
    500,
    'EINVAL',
  );
});

self('catches THP counters that miss a split', async () => {
  await expectMismatch(broken({ host: (h, k) => (k === 'thp' ? () => ({ ...h.thp(), split: 0 }) : undefined) }), 500, 'thp.split');
});

self('catches THP split failures drawn without the seed', async () => {
  await expectMismatch((opts) => Promise.resolve(RefHost.create({ ...opts, seed: 0 })), 500, 'hosts differ ');
});

self('compareScenario reports the first differing op of a fixed scenario', async () => {
  const scenario: Scenario = {
    host: { hugepages: { '2M': 2 } },
    ops: [
      { op: 'spawn', opts: { mceKill: 'default', handlesSigbus: true, capSysAdmin: true, kvmGuest: false } },
      { op: 'memfdCreate', p: 0, size: '2M', keep: true, extraFlags: 0 },
      { op: 'ftruncate', p: 0, f: 0, pages: 1, extra: 0 },
      {
        op: 'mmap', p: 0, f: 0, anon: false, huge1G: false, type: MAP_SHARED, prot: 3,
        pages: 1, shave: 0, offPages: 0, offExtra: 0, place: 'any', slot: 0,
      },
      { op: 'write', p: 0, m: 0, hugeIdx: 0, off: 0, len: 4096 },
      { op: 'madvise', p: 0, m: 0, hugeIdx: 0, raw: 3, misalign: false, len: 4096, advice: MADV_HWPOISON },
    ],
  };
  assert.is(await compareScenario(reference, reference, scenario), null);
  // B's madvise reports the wrong lsb: the mismatch is at op #5, in p0's signals.
  const wrongLsb = broken({
    process: (p, k) => (k === 'signals' ? p.signals.map((s) => ({ ...s, addrLsb: s.addrLsb === 12 ? 21 : s.addrLsb })) : undefined),
  });
  const report = await compareScenario(reference, wrongLsb, scenario);
  assert.ok(report);
  assert.match(report!, /^hosts differ at op #5: processes\[0\]\.signals\[0\]\.addrLsb: A 12 vs B 21/);
  assert.match(report!, 'p0.madvise(0x7effffe03000, 4096, 100)');
  assert.match(report!, `memfdCreate(0x${(MFD_HUGETLB | MFD_MF_KEEP_UE_MAPPED | (21 << 26)).toString(16)})`);
});

self('firstDifference names the path of the first difference', () => {
  assert.is(firstDifference({ a: [1, 2n] }, { a: [1, 2n] }), null);
  assert.is(firstDifference({ a: [1, 2n] }, { a: [1, 3n] }), 'a[1]: A "0x2n" vs B "0x3n"');
  assert.is(firstDifference({ a: [1] }, { a: [1, 4] }), 'a: length 1 vs 2: A [] B [4]');
  assert.is(firstDifference({ x: 1 }, { x: 1, y: 2 }), 'y: A undefined vs B 2');
});

self.run();
