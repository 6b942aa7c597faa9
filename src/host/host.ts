// The single-host API: a simulated Linux host with HugeTLB pools, processes that make
// system calls, and hardware UEs. All state lives in the wasm kernel; this file validates
// arguments, makes one kernel call per operation, and turns the kernel's outbox records
// into signals and kernel log lines.
import { EBADF, EINVAL, EIO, ENOMEM, ESRCH, SIGBUS } from './constants.js';
import { formatBytes } from '../format/units.js';
import { toAddr, toFlags } from './args.js';
import { compileKernel } from '../kernel/compile.js';
import { Counter, HostFlag, MAX_FRAMES_PER_KERNEL, Out, ProcFlag, instantiateKernel, kernelMemoryFull, loadKernel, type KernelExports } from '../kernel/kernel.js';
import { drainOutbox, formatLogLine, isLogRecord, type OutboxRecord } from '../kernel/outbox.js';
import { sysError } from './syserror.js';
import { KEEP_VERSIONS, keepVersionOf } from './kernel-behaviour.js';
import type {

  AccessOptions, AccessResult, HostOptions, HugepageSize, Meminfo, MemoryFailureStats, Num, PageTableLeaf, PoolCounters, ThpCounters,
  Signal, SimHost, SimProcess, SpawnOptions,
} from './types.js';

const SIZE_CLASS: Record<HugepageSize, number> = { '2M': 0, '1G': 1 };
/** Where a host's physical memory starts (the pools; assembly/constants.ts PHYS_BASE). */
const PHYS_BASE = 2 ** 32;
/** x86-64's physical address width (MAXPHYADDR): a host's memory must end at or below 2^52. */
export const PHYS_ADDR_LIMIT = 2 ** 52;
const LEAF_LEVEL: PageTableLeaf['level'][] = ['pud', 'pmd', 'pte'];
const SYSCTL_FLAG: Record<string, number> = {
  'vm.memory_failure_recovery': HostFlag.recovery,
  'vm.memory_failure_early_kill': HostFlag.earlyKill,
};

function checkCount(value: unknown, what: string): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > 0x3fffffff) {
    throw new RangeError(`Host.create: ${what} must be an integer in [0, 2^30), got ${String(value)}`);
  }
  return value;
}

function sizeClass(size: HugepageSize, what: string): number {
  const sc = SIZE_CLASS[size];
  if (sc === undefined) throw new RangeError(`${what}: size must be '2M' or '1G', got ${String(size)}`);
  return sc;
}

/**
 * A simulated Linux host: HugeTLB pools and THP memory, processes making system calls, and
 * hardware UEs, all in its own wasm kernel instance. Boot one with `Host.create`.
 */
export class Host implements SimHost {
  /** Kernel log records not yet formatted, and the lines formatted so far. */
  private readonly pendingLog: OutboxRecord[] = [];
  private readonly log: string[] = [];
  private readonly byPid = new Map<number, Process>();

  private constructor(
    /** @internal */ readonly kernel: KernelExports,
    /** @internal */ readonly id: number,
  ) {}

  /** Boots a host. Pools are given in hugepages per size; the defaults are empty pools. */
  static async create(opts: HostOptions = {}): Promise<Host> {
    const n2M = checkCount(opts.hugepages?.['2M'], "hugepages['2M']");
    const n1G = checkCount(opts.hugepages?.['1G'], "hugepages['1G']");
    const nThp = checkCount(opts.thpPages, 'thpPages');
    if (n2M + n1G + nThp > MAX_FRAMES_PER_KERNEL) {
      throw new RangeError(`Host.create: ${n2M + n1G + nThp} hugepages and THP folios exceed one kernel instance (${MAX_FRAMES_PER_KERNEL}); split the memory over hosts`);
    }
    const physEnd = PHYS_BASE + n1G * 2 ** 30 + (n2M + nThp) * 2 ** 21;
    if (physEnd > PHYS_ADDR_LIMIT) {
      throw new RangeError(
        `Host.create: the pools and THP memory end at ${formatBytes(physEnd)}, beyond x86-64's 52-bit physical ` +
        `address space (4 PiB, memory starts at 4 GiB); give the host fewer hugepages`,
      );
    }
    if (opts.keepVersion !== undefined && !KEEP_VERSIONS.includes(opts.keepVersion)) {
      throw new RangeError(`Host.create: keepVersion must be 'intended', 'v3' or 'v4' (an alias of 'intended'), got ${String(opts.keepVersion)}`);
    }
    const splitFailure = opts.thpSplitFailure === undefined ? 0 : opts.thpSplitFailure;
    if (typeof splitFailure !== 'number' || !(splitFailure >= 0 && splitFailure <= 1)) {
      throw new RangeError(`Host.create: thpSplitFailure must be a probability in [0, 1], got ${String(opts.thpSplitFailure)}`);
    }
    const seed = opts.seed === undefined ? 0 : opts.seed;
    if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`Host.create: seed must be an integer in [0, 2^32), got ${String(opts.seed)}`);
    }
    let flags = 0;
    if (opts.memoryFailureRecovery !== false) flags |= HostFlag.recovery;
    if (opts.earlyKill === true) flags |= HostFlag.earlyKill;
    if (opts.policyCapable !== false) flags |= HostFlag.policyCapable;
    if (keepVersionOf(opts.keepVersion) === 'v3') flags |= HostFlag.keepV3;
    if (opts.hgm === true) flags |= HostFlag.hgm;
    const kernel = instantiateKernel(await (opts.wasm === undefined ? loadKernel() : compileKernel(opts.wasm)));
    const id = kernel.host_create(n2M, n1G, nThp, flags, seed, splitFailure);
    if (id < 0) throw sysError(-id, 'Host.create', kernelMemoryFull(kernel));
    return new Host(kernel, id);
  }

  /** True once a memory failure panicked the host (vm.memory_failure_recovery = 0). */
  get panicked(): boolean {
    return (this.kernel.host_counter(this.id, Counter.flags) & HostFlag.panicked) !== 0;
  }

  spawn(opts: SpawnOptions = {}): Process {
    this.checkAlive('spawn');
    const mceKill = opts.mceKill ?? 'default';
    if (mceKill !== 'default' && mceKill !== 'early' && mceKill !== 'late') {
      throw new RangeError(`spawn: mceKill must be 'default', 'early' or 'late', got ${String(mceKill)}`);
    }
    let flags = 0;
    if (opts.capSysAdmin !== false) flags |= ProcFlag.capSysAdmin;
    if (mceKill === 'early') flags |= ProcFlag.mceEarly;
    if (mceKill === 'late') flags |= ProcFlag.mceLate;
    if (opts.handlesSigbus !== false) flags |= ProcFlag.handlesSigbus;
    if (opts.kvmGuest === true) flags |= ProcFlag.kvmGuest;
    const p = this.syscall('spawn', this.kernel.proc_spawn(this.id, flags));
    const proc = new Process(this, p, this.kernel.proc_pid(p), opts.name ?? 'task');
    this.byPid.set(proc.pid, proc);
    return proc;
  }

  injectUE(physAddr: Num, opts: { consumer?: SimProcess } = {}): void {
    const phys = toAddr(physAddr, 'injectUE', 'physAddr');
    let consumer = -1;
    if (opts.consumer !== undefined) {
      if (!(opts.consumer instanceof Process) || opts.consumer.host !== this) {
        throw sysError(EINVAL, 'injectUE', 'the consumer is not a process of this host');
      }
      consumer = opts.consumer.kid;
    }
    this.syscall('injectUE', this.kernel.inject_ue(this.id, phys, consumer), why('injectUE'));
  }

  sysctl(name: string, value?: number): number {
    const flag = SYSCTL_FLAG[name];
    if (flag === undefined) throw sysError(EINVAL, 'sysctl', `unknown sysctl ${JSON.stringify(name)}`);
    this.checkAlive('sysctl');
    if (value !== undefined) {
      if (value !== 0 && value !== 1) throw sysError(EINVAL, 'sysctl', `${name} takes 0 or 1, got ${String(value)}`);
      this.kernel.host_set_flag(this.id, flag, value);
    }
    return (this.kernel.host_counter(this.id, Counter.flags) & flag) !== 0 ? 1 : 0;
  }

  hugepages(size: HugepageSize): PoolCounters {
    // The kernel numbers its pool counters nr, free, resv per size class, 2M first.
    const base = sizeClass(size, 'hugepages') * 3;
    const c = (i: number) => this.kernel.host_counter(this.id, base + i);
    return { nr: c(Counter.nr2M), free: c(Counter.free2M), resv: c(Counter.resv2M), surplus: 0 };
  }

  meminfo(): Meminfo {
    const pool = this.hugepages('2M');
    const thp = this.thp();
    return {
      HardwareCorrupted: this.kernel.host_counter(this.id, Counter.hwCorruptedPages) * 4,
      HugePages_Total: pool.nr,
      HugePages_Free: pool.free,
      HugePages_Rsvd: pool.resv,
      HugePages_Surp: pool.surplus,
      Hugepagesize: 2048,
      AnonHugePages: (thp.total - thp.free - thp.split) * 2048,
    };
  }

  thp(): ThpCounters {
    const c = (i: number) => this.kernel.host_counter(this.id, i);
    return { total: c(Counter.thpTotal), free: c(Counter.thpFree), split: c(Counter.thpSplit) };
  }

  memoryFailureStats(): MemoryFailureStats {
    const c = (i: number) => this.kernel.host_counter(this.id, i);
    return {
      total: c(Counter.mfTotal),
      ignored: c(Counter.mfIgnored),
      failed: c(Counter.mfFailed),
      delayed: c(Counter.mfDelayed),
      recovered: c(Counter.mfRecovered),
    };
  }

  kernelLog(): string[] {
    for (const r of this.pendingLog) this.log.push(formatLogLine(r, (pid) => this.byPid.get(pid)?.name ?? 'task'));
    this.pendingLog.length = 0;
    return [...this.log];
  }

  freeHugepages(size: HugepageSize): bigint[] {
    const n = this.syscall('freeHugepages', this.kernel.host_free_list(this.id, sizeClass(size, 'freeHugepages')));
    const addrs = new Float64Array(this.kernel.memory.buffer, this.kernel.scratch_ptr(), n);
    return Array.from(addrs, (a) => BigInt(a));
  }

  pageTablePages(): number {
    return this.kernel.host_counter(this.id, Counter.ptPages);
  }

  refcountUnderflows(): number {
    return this.kernel.host_counter(this.id, Counter.refcountUnderflows);
  }

  private checkAlive(call: string): void {
    if (this.panicked) throw sysError(EIO, call, 'the host has panicked');
  }

  /**
   * Finishes a kernel call: drains the outbox into signals and log lines, then throws the
   * call's error, if any. `detail` explains a failure in words.
   * @internal
   */
  syscall(name: string, ret: number, detail?: string | ((errno: number) => string | undefined)): number {
    this.drainOutbox();
    if (ret < 0) {
      // The kernel instance's own memory, not a pool, is what ran out.
      const full = ret === -ENOMEM ? kernelMemoryFull(this.kernel) : undefined;
      throw sysError(-ret, name, full ?? (typeof detail === 'function' ? detail(-ret) : detail));
    }
    return ret;
  }

  private drainOutbox(): void {
    drainOutbox(this.kernel, (r) => {
      if (r.type === Out.signal) {
        this.byPid.get(r.pid)?.deliver({ signo: SIGBUS, code: r.arg & 0xffff, addr: BigInt(r.a), addrLsb: r.arg >>> 16 });
      } else if (isLogRecord(r.type)) {
        this.pendingLog.push({ ...r });
      }
      // Out.killed: `alive` is read from the kernel.
    });
  }
}

/** Why a call failed, per errno, for the calls whose failures have several causes. */
const WHY: Record<string, Record<number, string>> = {
  memfd_create: {
    19: 'no hugepage size of x86-64 (2 MiB, 1 GiB) has that size encoding',
    22: 'unknown flag, size encoding without MFD_HUGETLB, or MFD_MF_KEEP_UE_MAPPED without MFD_HUGETLB',
    95: 'only HugeTLB memfds (MFD_HUGETLB) are simulated',
  },
  ftruncate: { 22: 'size must be a multiple of the file\'s hugepage size' },
  fallocate: { 28: 'not enough free hugepages', 95: 'mode must be 0, FALLOC_FL_KEEP_SIZE or FALLOC_FL_PUNCH_HOLE|FALLOC_FL_KEEP_SIZE' },
  mmap: {
    12: 'the hugepage pool cannot back the mapping, or no room in the address space',
    22: 'bad prot or flags, offset not hugepage-aligned, or MAP_FIXED address not aligned',
    17: 'MAP_FIXED range overlaps an existing mapping',
    95: 'shared anonymous mappings must be MAP_HUGETLB (shmem THP is not simulated)',
  },
  munmap: { 22: 'address or end not aligned to the mapping\'s hugepage size' },
  read: {
    14: 'range not mapped readable, or (a guest access) the page cannot be faulted in: KVM_RUN fails with EFAULT',
    22: 'a guest access by a process that runs no KVM guest',
  },
  write: {
    14: 'range not mapped writable, or (a guest access) the page cannot be faulted in: KVM_RUN fails with EFAULT',
    22: 'a guest access by a process that runs no KVM guest',
  },
  madvise: {
    1: 'MADV_HWPOISON needs CAP_SYS_ADMIN',
    14: 'a step is not mapped, reaches a HWPOISON entry (the page was taken offline), or cannot be faulted in; earlier steps stay applied',
    22: 'unsupported advice or unaligned address',
    95: 'MADV_SOFT_OFFLINE is not simulated',
    133: 'a step reached a raw page already poisoned (the caller got SIGBUS for it) or a THP that could not be split; earlier steps stay applied',
  },
  pread: { 5: 'the read reaches a hugepage whose part of the range starts with a poisoned raw page, or the host has panicked' },
  injectUE: {
    22: 'the address lies outside the host\'s HugeTLB pools and THP memory, or is not mapped by the consumer',
    3: 'the consumer has exited',
    5: 'the host has panicked',
  },
};

function why(call: string) {
  return (errno: number) => WHY[call]?.[errno];
}

/** A process on a simulated host (`Host.spawn`): its system calls, and the signals delivered to it. */
export class Process implements SimProcess {
  private readonly delivered: Signal[] = [];

  /** @internal */
  constructor(
    /** @internal */ readonly host: Host,
    /** @internal */ readonly kid: number,
    readonly pid: number,
    readonly name: string,
  ) {}

  /** False once it exited or a signal killed it. */
  get alive(): boolean {
    return this.host.kernel.proc_alive(this.kid) !== 0;
  }

  /** Every signal delivered to this process, in order. */
  get signals(): readonly Signal[] {
    return this.delivered;
  }

  /** @internal */
  deliver(sig: Signal): void {
    this.delivered.push(sig);
  }

  private get k(): KernelExports {
    return this.host.kernel;
  }

  private call(name: string, ret: number): number {
    return this.host.syscall(name, ret, why(name));
  }

  /** A panicked host (EIO) or an exited process (ESRCH) fails a call before its arguments are read. */
  private enter(name: string): void {
    const ret = this.k.proc_guard(this.kid);
    if (ret < 0) throw sysError(-ret, name, ret === -EIO ? 'the host has panicked' : `process ${this.pid} has exited`);
  }

  memfdCreate(name: string, flags: number): number {
    this.enter('memfd_create');
    if (typeof name !== 'string' || name.length > 249) throw sysError(EINVAL, 'memfd_create', 'name must be a string of at most 249 characters');
    return this.call('memfd_create', this.k.memfd_create(this.kid, toFlags(flags, 'memfd_create', 'flags')));
  }

  ftruncate(fd: number, size: Num): void {
    this.enter('ftruncate');
    this.call('ftruncate', this.k.ftruncate(this.kid, fdArg(fd, 'ftruncate'), toAddr(size, 'ftruncate', 'size')));
  }

  fallocate(fd: number, mode: number, offset: Num, len: Num): void {
    this.enter('fallocate');
    const off = toAddr(offset, 'fallocate', 'offset');
    const n = toAddr(len, 'fallocate', 'len');
    this.call('fallocate', this.k.fallocate(this.kid, fdArg(fd, 'fallocate'), toFlags(mode, 'fallocate', 'mode'), off, n));
  }

  mmap(addr: Num, length: Num, prot: number, flags: number, fd: number, offset: Num): bigint {
    this.enter('mmap');
    const a = toAddr(addr, 'mmap', 'addr');
    const len = positive(length, 'mmap', 'length');
    const off = toAddr(offset, 'mmap', 'offset');
    const fdNum = fd === -1 ? -1 : fdArg(fd, 'mmap');
    const ret = this.k.mmap(this.kid, a, len, toFlags(prot, 'mmap', 'prot'), toFlags(flags, 'mmap', 'flags'), fdNum, off);
    return BigInt(this.call('mmap', ret));
  }

  munmap(addr: Num, length: Num): void {
    this.enter('munmap');
    const a = toAddr(addr, 'munmap', 'addr');
    this.call('munmap', this.k.munmap(this.kid, a, positive(length, 'munmap', 'length')));
  }

  read(addr: Num, length: Num, opts: AccessOptions = {}): AccessResult {
    return this.access('read', addr, length, 0, opts);
  }

  write(addr: Num, length: Num, opts: AccessOptions = {}): AccessResult {
    return this.access('write', addr, length, 1, opts);
  }

  private access(name: string, addr: Num, length: Num, write: number, opts: AccessOptions): AccessResult {
    this.enter(name);
    const a = toAddr(addr, name, 'addr');
    const len = positive(length, name, 'length');
    if (a + len > Number.MAX_SAFE_INTEGER) throw sysError(EINVAL, name, 'range beyond 2^53');
    const guest = opts?.guest === true ? 1 : 0;
    if (this.call(name, this.k.access(this.kid, a, len, write, guest)) === 0) return { ok: true };
    return { ok: false, signal: this.delivered[this.delivered.length - 1]! };
  }

  madvise(addr: Num, length: Num, advice: number): number {
    this.enter('madvise');
    const a = toAddr(addr, 'madvise', 'addr');
    const len = toAddr(length, 'madvise', 'length');
    return this.call('madvise', this.k.madvise(this.kid, a, len, toFlags(advice, 'madvise', 'advice')));
  }

  pread(fd: number, length: Num, offset: Num): number {
    this.enter('pread');
    const len = toAddr(length, 'pread', 'length');
    const off = toAddr(offset, 'pread', 'offset');
    return this.call('pread', this.k.pread(this.kid, fdArg(fd, 'pread'), len, off));
  }

  translate(vaddr: Num): bigint | null {
    this.enter('translate');
    const ret = this.k.translate(this.kid, toAddr(vaddr, 'translate', 'vaddr'));
    if (ret === -1) return null;
    // Hosts end below 2^52, so every physical address crosses the boundary exactly.
    if (!Number.isSafeInteger(ret)) throw new Error(`mfrsim: translate returned ${ret}, not an exact address`);
    return BigInt(this.call('translate', ret));
  }

  pageTableLeaf(vaddr: Num): PageTableLeaf | null {
    this.enter('pageTableLeaf');
    const ret = this.k.page_table_leaf(this.kid, toAddr(vaddr, 'pageTableLeaf', 'vaddr'));
    if (ret < 0) return null;
    return { level: LEAF_LEVEL[ret & 3]!, hwpoison: (ret & 4) !== 0 };
  }

  sendFd(fd: number, to: SimProcess): number {
    this.enter('sendmsg');
    if (!(to instanceof Process) || to.host !== this.host) {
      throw sysError(EINVAL, 'sendmsg', 'the receiving process is not on this host');
    }
    const ret = this.k.sendfd(this.kid, fdArg(fd, 'sendmsg'), to.kid);
    return this.host.syscall('sendmsg', ret, (e) => (e === ESRCH ? 'a process has exited' : undefined));
  }

  close(fd: number): void {
    this.enter('close');
    this.call('close', this.k.close(this.kid, fdArg(fd, 'close')));
  }

  exit(): void {
    this.enter('exit');
    this.call('exit', this.k.exit(this.kid));
  }
}

function positive(x: Num, syscall: string, what: string): number {
  const n = toAddr(x, syscall, what);
  if (n === 0) throw sysError(EINVAL, syscall, `${what} must be > 0`);
  return n;
}

function fdArg(fd: unknown, syscall: string): number {
  if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) {
    throw sysError(EBADF, syscall, `fd must be a non-negative integer, got ${String(fd)}`);
  }
  return fd;
}
