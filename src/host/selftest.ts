// The upstream hugetlb-mfr selftest (tools/testing/selftests/mm/hugetlb-mfr.c, posted with
// the MFD_MF_KEEP_UE_MAPPED series v3, Feb 2026), run inside the simulator. Under KEEP it
// checks the series' promises: every MADV_HWPOISON returns 0 with SIGBUS lsb 12 at the raw
// page, every byte still reads back, HugePages_Total holds until the release dissolves the
// hugepage. The same script on a plain MFD_HUGETLB memfd checks today's hard offline: lsb
// 21/30 for the first raw page, EFAULT for the next ones (GUP meets the HWPOISON entry:
// vm_fault_to_errno), SIGBUS on the first byte of hugepage 0, and the poisoned hugepage
// leaked, not dissolved, at the release (it stays pinned by memory_failure's reference).
import {
  BUS_MCEERR_AO, BUS_MCEERR_AR, MADV_HWPOISON, MAP_SHARED, MFD_HUGETLB, MFD_HUGE_1GB,
  MFD_HUGE_2MB, MFD_MF_KEEP_UE_MAPPED, PROT_READ, PROT_WRITE,
} from './constants.js';
import { Host } from './host.js';
import { isSystemError } from './syserror.js';
import type { HugepageSize, SimHost, SimProcess } from './types.js';
import { kernelBehaviour, type KernelBehaviour, type KeepVersionOption } from './kernel-behaviour.js';

/** The memfd the selftest makes: with MFD_MF_KEEP_UE_MAPPED ('keep') or without ('default'). */
export type SelftestPolicy = 'keep' | 'default';

/** What `runSelftest` runs. */
export interface SelftestOptions {
  /** The hugepage size of the memfd. */
  size: HugepageSize;
  /** With or without MFD_MF_KEEP_UE_MAPPED. */
  policy: SelftestPolicy;
  /** Raw pages poisoned by MADV_HWPOISON, 1..8. */
  pages: number;
  /** The host to run on (default: a fresh Host with 8 free hugepages of the size). */
  host?: SimHost;
  /** The KEEP version the host runs (default 'intended'); the report states it. */
  keepVersion?: KeepVersionOption;
  /**
   * Called after each step with the step and the state to look at; the selftest waits for a
   * returned promise, so a caller can show the steps one at a time.
   */
  onStep?: (step: SelftestStep, state: SelftestState) => void | Promise<void>;
}

/** The selftest's host and process after a step, and its memfd and mapping while they exist. */
export interface SelftestState {
  host: SimHost;
  process: SimProcess;
  /** The memfd, until the release step closes it. */
  fd?: number;
  /** The 4-hugepage mapping, from mmap until the release step unmaps it. */
  map?: bigint;
}

/** One step of the selftest and how it went. */
export interface SelftestStep {
  /** kselftest number, from 1. */
  n: number;
  name: string;
  ok: boolean;
  /** What was expected and what happened, in words. */
  expected: string;
  actual: string;
}

/** A selftest run: its settings, its steps, and whether every step went as expected. */
export interface SelftestReport {
  size: HugepageSize;
  policy: SelftestPolicy;
  pages: number;
  /** The kernel behaviour the test ran against. */
  kernel: KernelBehaviour;
  steps: SelftestStep[];
  passed: boolean;
}

/** The offsets the upstream test poisons, all inside hugepage 0. */
export const SELFTEST_OFFSETS: Record<HugepageSize, readonly number[]> = {
  '2M': [0x020000, 0x041000, 0x07f000, 0x120000, 0x13f000, 0x141000, 0x17f000, 0x18f000],
  '1G': [0x200000, 0x3ff000, 0x801000, 0x2000000, 0x3fff000, 0x4001000, 0x7fff000, 0x8011000],
};

const HUGE_SHIFT: Record<HugepageSize, number> = { '2M': 21, '1G': 30 };

function describeError(err: unknown): string {
  return isSystemError(err) ? err.code : err instanceof Error ? err.message : String(err);
}

function sigText(s: { code: number; addr: bigint; addrLsb: number } | undefined): string {
  if (!s) return 'no signal';
  const code = s.code === BUS_MCEERR_AR ? 'AR' : s.code === BUS_MCEERR_AO ? 'AO' : `code ${s.code}`;
  return `SIGBUS ${code} addr=0x${s.addr.toString(16)} lsb=${s.addrLsb}`;
}

/** Runs the upstream hugetlb-mfr selftest in the simulator, for one hugepage size and policy. */
export async function runSelftest(opts: SelftestOptions): Promise<SelftestReport> {
  const { size, policy, pages } = opts;
  if (!Number.isInteger(pages) || pages < 1 || pages > 8) throw new RangeError(`pages must be 1..8, got ${pages}`);
  const H = 1 << HUGE_SHIFT[size];
  const keep = policy === 'keep';
  const kernel = kernelBehaviour(opts.keepVersion);
  const host = opts.host ?? (await Host.create({ hugepages: { [size]: 8 }, keepVersion: kernel.keepVersion }));
  const proc: SimProcess = host.spawn({ name: 'hugetlb-mfr', capSysAdmin: true });
  const steps: SelftestStep[] = [];
  const state: SelftestState = { host, process: proc };
  const check = async (name: string, ok: boolean, expected: string, actual: string) => {
    const step = { n: steps.length + 1, name, ok, expected, actual };
    steps.push(step);
    await opts.onStep?.(step, { ...state });
  };
  const before = host.hugepages(size).nr;

  const flags = MFD_HUGETLB | (keep ? MFD_MF_KEEP_UE_MAPPED : 0) | (size === '2M' ? MFD_HUGE_2MB : MFD_HUGE_1GB);
  const flagText = `MFD_HUGETLB${keep ? '|MFD_MF_KEEP_UE_MAPPED' : ''}|MFD_HUGE_${size === '2M' ? '2MB' : '1GB'}`;
  let fd: number;
  try {
    fd = proc.memfdCreate('hugetlb_tmp', flags);
    state.fd = fd;
    await check('memfd_create', true, 'an fd', `${flagText} -> fd ${fd}`);
  } catch (err) {
    await check('memfd_create', false, 'an fd', `${flagText} -> ${describeError(err)}`);
    return { size, policy, pages, kernel, steps, passed: false };
  }

  proc.ftruncate(fd, 4 * H);
  const map = proc.mmap(0, 4 * H, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  state.map = map;
  const wrote = proc.write(map, 4 * H);
  await check('write every byte of 4 hugepages', wrote.ok, 'no signal', wrote.ok ? 'no signal' : sigText(wrote.signal));

  const offsets = SELFTEST_OFFSETS[size].slice(0, pages);
  for (const [i, off] of offsets.entries()) {
    const addr = map + BigInt(off);
    const name = `MADV_HWPOISON at map+0x${off.toString(16)}`;
    const seen = proc.signals.length;
    let ret: string;
    try {
      ret = `returned ${proc.madvise(addr, 4096, MADV_HWPOISON)}`;
    } catch (err) {
      ret = describeError(err);
    }
    const sig = proc.signals.length > seen ? proc.signals[proc.signals.length - 1] : undefined;
    const actual = `${ret}, ${sigText(sig)}`;
    if (keep || i === 0) {
      const lsb = keep ? 12 : HUGE_SHIFT[size];
      const ok = ret === 'returned 0' && sig !== undefined
        && (sig.code === BUS_MCEERR_AR || sig.code === BUS_MCEERR_AO) && sig.addr === addr && sig.addrLsb === lsb;
      await check(name, ok, `returned 0, SIGBUS AR/AO addr=0x${addr.toString(16)} lsb=${lsb}`, actual);
    } else {
      await check(name, ret === 'EFAULT' && sig === undefined, 'EFAULT (the hugepage is already offline), no signal', actual);
    }
  }

  const read = proc.read(map, 4 * H);
  if (keep) {
    await check('read every byte of 4 hugepages', read.ok, 'no signal', read.ok ? 'no signal' : sigText(read.signal));
  } else {
    const ok = !read.ok && read.signal.code === BUS_MCEERR_AR && read.signal.addr === map && read.signal.addrLsb === HUGE_SHIFT[size];
    await check('read every byte of 4 hugepages', ok, `SIGBUS AR addr=0x${map.toString(16)} lsb=${HUGE_SHIFT[size]}`, read.ok ? 'no signal' : sigText(read.signal));
  }

  const mid = host.hugepages(size).nr;
  await check('HugePages_Total before release', mid === before, `nr ${before}`, `nr ${mid}`);

  proc.ftruncate(fd, 0);
  proc.munmap(map, 4 * H);
  proc.close(fd);
  delete state.fd;
  delete state.map;
  const after = host.hugepages(size).nr;
  const want = keep ? before - 1 : before;
  await check(
    'release: ftruncate(0), munmap, close',
    after === want, `nr ${want} (${keep ? 'the poisoned hugepage is dissolved' : 'the poisoned hugepage is leaked'})`,
    `nr ${after}${after === before - 1 ? ' (dissolved)' : after === before ? ' (leaked)' : ''}`,
  );
  return { size, policy, pages, kernel, steps, passed: steps.every((s) => s.ok) };
}
