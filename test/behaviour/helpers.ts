// Shared vocabulary of the behavioural suites: sizes, host factories, error and snapshot
// assertions. Everything here talks to the SimHost interface only.
import * as assert from 'uvu/assert';
import {
  MFD_HUGE_1GB,
  MFD_HUGE_2MB,
  MFD_HUGETLB,
  MFD_MF_KEEP_UE_MAPPED,
  PROT_READ,
  PROT_WRITE,
} from '../../src/host/constants.js';
import type {
  HostOptions,
  HugepageSize,
  Meminfo,
  MemoryFailureStats,
  PoolCounters,
  Signal,
  SimHost,
  SimProcess,
  SpawnOptions,
  ThpCounters,
} from '../../src/host/types.js';

export type CreateHost = (opts?: HostOptions) => Promise<SimHost>;
export type Policy = 'KEEP' | 'DEFAULT';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;
export const PAGE = 4096;
export const RW = PROT_READ | PROT_WRITE;

export const SIZES: readonly HugepageSize[] = ['2M', '1G'];
export const POLICIES: readonly Policy[] = ['KEEP', 'DEFAULT'];
export const H: Readonly<Record<HugepageSize, number>> = { '2M': 2 * MiB, '1G': GiB };
/** log2(H): the si_addr_lsb of a DEFAULT SIGBUS. */
export const HS: Readonly<Record<HugepageSize, number>> = { '2M': 21, '1G': 30 };
export const MFD_SIZE: Readonly<Record<HugepageSize, number>> = { '2M': MFD_HUGE_2MB, '1G': MFD_HUGE_1GB };

/** Physical layout (docs/semantics.md): the 1 GiB pool at 4 GiB, the 2 MiB pool after it. */
export const PHYS_BASE = 4 * GiB;

/** Flags of a HugeTLB memfd of `size` under `policy`. */
export function memfdFlags(size: HugepageSize, policy: Policy): number {
  return MFD_HUGETLB | MFD_SIZE[size] | (policy === 'KEEP' ? MFD_MF_KEEP_UE_MAPPED : 0);
}

/** A VMM: may inject errors, survives SIGBUS. */
export const VMM: SpawnOptions = { capSysAdmin: true, handlesSigbus: true, mceKill: 'default' };

export function sigbus(code: number, addr: bigint, addrLsb: number): Signal {
  return { signo: 7, code, addr, addrLsb };
}

export function hex(x: number | bigint): string {
  return x.toString(16);
}

/** The raw 4 KiB page frame number of a physical address. */
export function pfnOf(phys: number | bigint): bigint {
  return BigInt(phys) >> 12n;
}

const ERRNO: Record<string, number> = {
  EPERM: 1,
  ESRCH: 3,
  EIO: 5,
  EBADF: 9,
  ENOMEM: 12,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ENOSPC: 28,
  EOPNOTSUPP: 95,
  EHWPOISON: 133,
};

/** Runs `fn`, which must throw a system error with `code` (and `syscall` when given). */
export function expectError(fn: () => unknown, code: string, syscall?: string): Error {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  if (thrown === undefined) assert.unreachable(`expected ${code}, but the call succeeded`);
  assert.instance(thrown, Error);
  const err = thrown as Error & { code?: unknown; errno?: unknown; syscall?: unknown };
  assert.is(err.code, code, `expected ${code}, got ${String(err.code)}: ${err.message}`);
  assert.is(err.errno, -ERRNO[code]!, `errno of ${code}`);
  if (syscall !== undefined) assert.is(err.syscall, syscall);
  return err;
}

/** Everything a failed call must leave untouched. */
export interface Snapshot {
  panicked: boolean;
  pools: Record<HugepageSize, PoolCounters>;
  free: Record<HugepageSize, bigint[]>;
  stats: MemoryFailureStats;
  meminfo: Meminfo;
  thp: ThpCounters;
  log: string[];
  processes: { pid: number; alive: boolean; signals: Signal[] }[];
}

export function snapshot(host: SimHost, procs: readonly SimProcess[]): Snapshot {
  return {
    panicked: host.panicked,
    pools: { '2M': host.hugepages('2M'), '1G': host.hugepages('1G') },
    free: { '2M': host.freeHugepages('2M'), '1G': host.freeHugepages('1G') },
    stats: host.memoryFailureStats(),
    meminfo: host.meminfo(),
    thp: host.thp(),
    log: host.kernelLog(),
    processes: procs.map((p) => ({ pid: p.pid, alive: p.alive, signals: [...p.signals] })),
  };
}

/** `fn` must throw `code` and leave the host and `procs` exactly as they were. */
export function expectCleanFailure(
  host: SimHost,
  procs: readonly SimProcess[],
  fn: () => unknown,
  code: string,
  syscall?: string,
): void {
  const before = snapshot(host, procs);
  expectError(fn, code, syscall);
  assert.equal(snapshot(host, procs), before, 'a failed call changed the host');
}

/** The physical address backing `vaddr` in `proc`, which must be mapped. */
export function physOf(proc: SimProcess, vaddr: bigint): bigint {
  const phys = proc.translate(vaddr);
  if (phys === null) assert.unreachable(`0x${hex(vaddr)} is not mapped`);
  return phys!;
}

/** The last signal delivered to `proc`. */
export function lastSignal(proc: SimProcess): Signal | undefined {
  const s = proc.signals;
  return s[s.length - 1];
}
