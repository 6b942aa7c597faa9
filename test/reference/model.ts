// The reference model: a plain TypeScript implementation of docs/semantics.md, written to
// be read, not to be fast. Differential tests run it side by side with the wasm-backed host
// and require both to agree on every observable result.
import { toAddr, toFlags } from '../../src/host/args.js';
import {
  BUS_ADRERR,
  BUS_MCEERR_AO,
  BUS_MCEERR_AR,
  EBADF,
  EBUSY,
  EEXIST,
  EFAULT,
  EHWPOISON,
  EINVAL,
  EIO,
  ENODEV,
  ENOMEM,
  ENOSPC,
  EOPNOTSUPP,
  EPERM,
  ESRCH,
  FALLOC_FL_KEEP_SIZE,
  FALLOC_FL_PUNCH_HOLE,
  MADV_HWPOISON,
  MADV_SOFT_OFFLINE,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_HUGETLB,
  MAP_PRIVATE,
  MAP_SHARED,
  MFD_EXEC,
  MFD_HUGETLB,
  MFD_MF_KEEP_UE_MAPPED,
  MFD_NOEXEC_SEAL,
  PROT_READ,
  PROT_WRITE,
  SI_KERNEL,
  SIGBUS,
} from '../../src/host/constants.js';
import { sysError } from '../../src/host/syserror.js';
import type {
  AccessResult,
  HostOptions,
  HugepageSize,
  Meminfo,
  MemoryFailureStats,
  Num,
  PageTableLeaf,
  PoolCounters,
  Signal,
  SimHost,
  SimProcess,
  SpawnOptions,
  ThpCounters,
  AccessOptions,
} from '../../src/host/types.js';
import { KEEP_VERSIONS, type KeepVersion } from '../../src/host/kernel-behaviour.js';
import { HugetlbFile } from './file.js';
import {
  alignDown,
  alignUp,
  HUGE_BYTES,
  HUGE_SHIFT,
  MMAP_BASE,
  PAGE_SIZE,
  PHYS_BASE,
  GiB,
  sizeOfShift,
  TASK_SIZE,
} from './layout.js';
import { logLine } from './log.js';
import {
  firstHwpoisonPte,
  isHwpoisonPte,
  isSplit,
  leafAt,
  type Leaf,
  type PresentLeaf,
  presentLeaf,
  splitPmd,
  splitToRaw,
  tablePages,
} from './pagetable.js';
import { Hugepage, Pool } from './pool.js';
import { splitFails } from './thp.js';

/** A virtual memory area. All bounds are multiples of the hugepage size H. */
interface Vma {
  start: number;
  end: number;
  hsize: HugepageSize;
  prot: number;
  shared: boolean;
  /** The mapped file (null for a private anonymous mapping). */
  file: HugetlbFile | null;
  /** An anonymous THP mapping (MAP_PRIVATE|MAP_ANONYMOUS without MAP_HUGETLB): hsize 2M, nothing reserved. */
  thp: boolean;
  /** File offset of `start`, in bytes. */
  pgoff: number;
  /** Private mappings: slot address -> the process's own hugepage (or THP folio). */
  privatePages: Map<number, Hugepage>;
  /** Private mappings: slot addresses still holding the VMA's reservation. */
  privateReserved: Set<number>;
}

/**
 * How memory_failure treats an in-use hugepage: KEEP for a file created with
 * MFD_MF_KEEP_UE_MAPPED, HGM for any other file's hugepage on an `hgm` host, else DEFAULT.
 * A THP folio has rules of its own (docs: "THP").
 */
type Policy = 'KEEP' | 'HGM' | 'DEFAULT' | 'THP';

/** Where a fault-in would take its hugepage from, or why it would raise SIGBUS. */
type FaultPlan =
  | { kind: 'cached'; page: Hugepage }
  | { kind: 'allocate'; reserved: boolean }
  | { kind: 'sigbus'; code: number; lsb: number };

type MceKill = NonNullable<SpawnOptions['mceKill']>;

const MFD_KNOWN_LOW = 0x3f;
const MAP_KNOWN_LOW = MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_HUGETLB;
/** Bits 26..31 of memfd_create / mmap flags carry log2 of the hugepage size. */
const SIZE_FIELD_UNIT = 2 ** 26;
const MMAP_MIN_ADDR = 0x10000;

const SYSCTLS = ['vm.memory_failure_early_kill', 'vm.memory_failure_recovery'] as const;

function sizeField(flags: number): number {
  return Math.floor(flags / SIZE_FIELD_UNIT) & 0x3f;
}

function lowBits(flags: number): number {
  return flags % SIZE_FIELD_UNIT;
}

function sigbus(code: number, addr: number, addrLsb: number): Signal {
  return { signo: SIGBUS, code, addr: BigInt(addr), addrLsb };
}

export class RefHost implements SimHost {
  // Everything below is internal to the model; RefProcess reaches into it.
  readonly pools: Record<HugepageSize, Pool>;
  /** THP memory: 2 MiB folios placed after the HugeTLB pools. */
  readonly thpPool: Pool;
  readonly processes: RefProcess[] = [];
  readonly log: string[] = [];
  readonly stats: MemoryFailureStats = { total: 0, ignored: 0, failed: 0, delayed: 0, recovered: 0 };
  readonly policyCapable: boolean;
  readonly keepVersion: KeepVersion;
  /** High-granularity mapping for non-KEEP file hugepages. */
  readonly hgm: boolean;
  /** Probability that a THP split fails, and the seed of its draw. */
  readonly thpSplitFailure: number;
  readonly seed: number;
  earlyKill: boolean;
  recovery: boolean;
  hardwareCorruptedKb = 0;
  panickedFlag = false;
  /** KEEP v3 releases that dropped more folio references than they held. */
  underflows = 0;
  /** The process on whose behalf the kernel runs (Linux's `current`); null for a patrol scrub. */
  current: RefProcess | null = null;
  private nextPid = 1000;
  private nextFileId = 1;

  private constructor(opts: HostOptions) {
    const nThp = RefHost.thpPages(opts.thpPages);
    this.thpSplitFailure = RefHost.probability(opts.thpSplitFailure);
    this.seed = RefHost.seed(opts.seed);
    const n1G = RefHost.poolCount(opts.hugepages?.['1G']);
    const n2M = RefHost.poolCount(opts.hugepages?.['2M']);
    this.pools = {
      '1G': new Pool('1G', PHYS_BASE, n1G),
      '2M': new Pool('2M', PHYS_BASE + n1G * GiB, n2M),
    };
    this.thpPool = new Pool('2M', this.pools['2M'].end, nThp, true);
    this.policyCapable = opts.policyCapable ?? true;
    if (opts.keepVersion !== undefined && !KEEP_VERSIONS.includes(opts.keepVersion)) {
      throw sysError(EINVAL, 'create', `keepVersion must be 'intended', 'v3' or 'v4'`);
    }
    // 'v4' names the intended behaviour: no v4 was posted.
    this.keepVersion = opts.keepVersion === 'v3' ? 'v3' : 'intended';
    this.earlyKill = opts.earlyKill ?? false;
    this.recovery = opts.memoryFailureRecovery ?? true;
    this.hgm = opts.hgm ?? false;
  }

  static create(opts: HostOptions = {}): RefHost {
    return new RefHost(opts);
  }

  private static poolCount(n: number | undefined): number {
    if (n === undefined) return 0;
    if (!Number.isSafeInteger(n) || n < 0) throw sysError(EINVAL, 'create', `pool size must be a non-negative integer, got ${n}`);
    return n;
  }

  private static thpPages(n: unknown): number {
    if (n === undefined) return 0;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
      throw new RangeError(`RefHost.create: thpPages must be a non-negative safe integer, got ${String(n)}`);
    }
    return n;
  }

  private static probability(p: unknown): number {
    if (p === undefined) return 0;
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) {
      throw new RangeError(`RefHost.create: thpSplitFailure must be a number in [0, 1], got ${String(p)}`);
    }
    return p;
  }

  private static seed(seed: unknown): number {
    if (seed === undefined) return 0;
    if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) {
      throw new RangeError(`RefHost.create: seed must be a uint32, got ${String(seed)}`);
    }
    return seed;
  }

  // ---- SimHost -------------------------------------------------------------------------

  get panicked(): boolean {
    return this.panickedFlag;
  }

  spawn(opts: SpawnOptions = {}): RefProcess {
    this.guard('spawn');
    const mceKill = opts.mceKill ?? 'default';
    if (!['default', 'early', 'late'].includes(mceKill)) throw sysError(EINVAL, 'spawn', `bad mceKill ${String(mceKill)}`);
    // Defaults describe a VMM: privileged, with a SIGBUS handler.
    const proc = new RefProcess(
      this, this.nextPid++, opts.name ?? 'task', opts.capSysAdmin ?? true, mceKill, opts.handlesSigbus ?? true, opts.kvmGuest ?? false,
    );
    this.processes.push(proc);
    return proc;
  }

  injectUE(physAddr: Num, opts: { consumer?: SimProcess } = {}): void {
    this.guard('injectUE');
    const phys = toAddr(physAddr, 'injectUE', 'physAddr');
    const page = this.pageAt(phys);
    if (!page) throw sysError(EINVAL, 'injectUE', `physical address 0x${phys.toString(16)} is outside the host`);
    const raw = Math.floor((phys - page.phys) / PAGE_SIZE);
    let consumer: RefProcess | null = null;
    if (opts.consumer !== undefined) {
      if (!opts.consumer.alive) throw sysError(ESRCH, 'injectUE', 'consumer is not alive');
      if (!(opts.consumer instanceof RefProcess) || opts.consumer.host !== this) {
        throw sysError(EINVAL, 'injectUE', 'consumer belongs to another host');
      }
      consumer = opts.consumer;
      if (page.state !== 'inuse' || !this.victimsOf(page, raw).some((v) => v.proc === consumer)) {
        throw sysError(EINVAL, 'injectUE', 'consumer does not map that page');
      }
      this.log.push(logLine.userAccessMce(phys));
    }
    // The machine check runs on the consumer's CPU, or (patrol scrub) on behalf of nobody.
    this.current = consumer;
    this.memoryFailure(page, raw, consumer, true);
  }

  sysctl(name: string, value?: number): number {
    this.guard('sysctl');
    if (!(SYSCTLS as readonly string[]).includes(name)) throw sysError(EINVAL, 'sysctl', `unknown sysctl ${name}`);
    if (value !== undefined) {
      if (value !== 0 && value !== 1) throw sysError(EINVAL, 'sysctl', `${name} takes 0 or 1`);
      if (name === 'vm.memory_failure_early_kill') this.earlyKill = value === 1;
      else this.recovery = value === 1;
    }
    return (name === 'vm.memory_failure_early_kill' ? this.earlyKill : this.recovery) ? 1 : 0;
  }

  hugepages(size: HugepageSize): PoolCounters {
    return this.pool(size).counters();
  }

  meminfo(): Meminfo {
    const p = this.pools['2M'].counters();
    return {
      HardwareCorrupted: this.hardwareCorruptedKb,
      HugePages_Total: p.nr,
      HugePages_Free: p.free,
      HugePages_Rsvd: p.resv,
      HugePages_Surp: p.surplus,
      Hugepagesize: 2048,
      AnonHugePages: this.thpMappedHuge() * 2048,
    };
  }

  memoryFailureStats(): MemoryFailureStats {
    return { ...this.stats };
  }

  kernelLog(): string[] {
    return [...this.log];
  }

  freeHugepages(size: HugepageSize): bigint[] {
    return this.pool(size).freeList().map((a) => BigInt(a));
  }

  thp(): ThpCounters {
    return { total: this.thpPool.nr, free: this.thpPool.free, split: this.thpSplit() };
  }

  refcountUnderflows(): number {
    return this.underflows;
  }

  pageTablePages(): number {
    // Every process, dead ones included: a panic stops the machine without freeing anything
    // (a process that exited has no leaves left).
    let pages = 0;
    for (const proc of this.processes) for (const leaf of proc.leaves.values()) pages += tablePages(leaf);
    return pages;
  }

  // ---- internals shared with RefProcess --------------------------------------------------

  /** After a panic every call fails with EIO. */
  guard(syscall: string): void {
    if (this.panickedFlag) throw sysError(EIO, syscall, 'the host has panicked');
  }

  pool(size: HugepageSize): Pool {
    const pool = this.pools[size];
    if (!pool) throw sysError(EINVAL, 'hugepages', `unknown hugepage size ${String(size)}`);
    return pool;
  }

  pageAt(phys: number): Hugepage | undefined {
    return this.pools['1G'].lookup(phys) ?? this.pools['2M'].lookup(phys) ?? this.thpPool.lookup(phys);
  }

  /** The pool a hugepage or THP folio belongs to. */
  poolOf(page: Hugepage): Pool {
    return page.thp ? this.thpPool : this.pools[page.size];
  }

  /** The recovery policy of an in-use hugepage (docs: memory_failure rule 4, "HGM", "THP"). */
  policyOf(page: Hugepage): Policy {
    if (page.thp) return 'THP';
    return page.owner?.kind === 'file' ? this.filePolicy(page.owner.file) : 'DEFAULT';
  }

  /** The leaf that maps an in-use THP folio: its owner's, at the folio's slot. */
  thpLeaf(folio: Hugepage): Leaf | undefined {
    const owner = folio.owner;
    return owner?.kind === 'private' ? owner.process.leaves.get(owner.slot) : undefined;
  }

  /** In-use THP folios whose PMD leaf was split into a PTE table. */
  private thpSplit(): number {
    return this.thpPool.pages.filter((folio) => folio.state === 'inuse' && isSplit(this.thpLeaf(folio))).length;
  }

  /** In-use THP folios still mapped by a PMD leaf (AnonHugePages). */
  private thpMappedHuge(): number {
    return this.thpPool.nr - this.thpPool.free - this.thpSplit();
  }

  /** The policy of the hugepages in `file`'s page cache (the unnamed file of a shared anonymous mapping included). */
  filePolicy(file: HugetlbFile): Policy {
    if (file.keep) return 'KEEP';
    return this.hgm ? 'HGM' : 'DEFAULT';
  }

  newFile(name: string, hsize: HugepageSize, keep: boolean, anonymous: boolean): HugetlbFile {
    return new HugetlbFile(this.nextFileId++, name, hsize, keep, anonymous);
  }

  alive(): RefProcess[] {
    return this.processes.filter((p) => p.alive);
  }

  isMapped(file: HugetlbFile): boolean {
    return this.alive().some((p) => p.vmas.some((v) => v.file === file));
  }

  /** A file with no fd and no VMA is released: every page removed, every reservation dropped. */
  releaseIfUnused(file: HugetlbFile): void {
    if (file.fds === 0 && !this.isMapped(file)) this.truncateFrom(file, 0);
  }

  /** Removes every index >= `first` (pages and reservations), in ascending index order. */
  truncateFrom(file: HugetlbFile, first: number): void {
    this.removeIndices(file, first, Infinity);
  }

  /** Removes every index in [from, to): mappers' leaves, reservations, pages. */
  removeIndices(file: HugetlbFile, from: number, to: number): void {
    const pool = this.pools[file.hsize];
    for (const index of file.reservedIn(from, to)) {
      file.reserved.delete(index);
      pool.resv--;
    }
    for (const index of file.populatedIn(from, to)) {
      const page = file.cache.get(index)!;
      for (const proc of this.alive()) proc.clearFileLeaves(file, index);
      file.cache.delete(index);
      this.removeFromCache(page);
    }
  }

  /** A page leaves the page cache: healthy -> free list; poisoned -> dissolved (KEEP, HGM) or leaked (DEFAULT). */
  private removeFromCache(page: Hugepage): void {
    const pool = this.pools[page.size];
    const policy = this.policyOf(page);
    if (page.poisoned.size === 0) {
      pool.release(page);
    } else if (policy !== 'DEFAULT') {
      if (policy === 'KEEP') this.keepV3PutHwpoisonRefs(page);
      pool.dissolve(page);
    } else {
      page.owner = { kind: 'leaked' };
    }
  }

  /**
   * KEEP v3 as posted drops one reference per raw page a real UE poisoned while
   * memory_failure held one: from two on, the release underflows the folio's refcount and
   * bad_page() reports the first page freed with it (docs: "KEEP versions").
   */
  private keepV3PutHwpoisonRefs(page: Hugepage): void {
    if (this.keepVersion !== 'v3' || page.corrupted.size < 2) return;
    this.underflows++;
    const who = this.current;
    this.log.push(logLine.badPageState(who ? who.comm : 'task', page.pfn(0)));
  }

  /**
   * A private hugepage or THP folio unmapped by its owner: healthy -> top of its free list,
   * poisoned -> dissolved (a poisoned private hugepage already was, at its memory failure; a
   * poisoned THP folio leaves THP memory now).
   */
  freePrivate(page: Hugepage): void {
    if (page.state !== 'inuse') return;
    const pool = this.poolOf(page);
    if (page.poisoned.size === 0) pool.release(page);
    else pool.dissolve(page);
  }

  /**
   * The VMAs that map raw page `raw` of `page` (collect_procs_file: one entry per VMA), by
   * process in pid order and by address within a process, each with the virtual address of
   * that raw page there. A VMA counts whether or not its leaf was faulted in.
   */
  victimsOf(page: Hugepage, raw: number): { proc: RefProcess; vaddr: number }[] {
    const out: { proc: RefProcess; vaddr: number }[] = [];
    const owner = page.owner;
    if (page.state !== 'inuse' || !owner) return out;
    const rawOffset = raw * PAGE_SIZE;
    if (owner.kind === 'file') {
      const offset = owner.index * page.bytes;
      for (const proc of this.alive()) {
        for (const vma of proc.vmas) {
          if (vma.shared && vma.file === owner.file && vma.pgoff <= offset && offset < vma.pgoff + (vma.end - vma.start)) {
            out.push({ proc, vaddr: vma.start + (offset - vma.pgoff) + rawOffset });
          }
        }
      }
    } else if (owner.kind === 'private' && owner.process.alive) {
      out.push({ proc: owner.process, vaddr: owner.slot + rawOffset });
    }
    return out;
  }

  private isEarlyKill(proc: RefProcess): boolean {
    return proc.mceKill === 'early' || (proc.mceKill === 'default' && this.earlyKill);
  }

  private count(result: 'recovered' | 'failed' | 'ignored'): void {
    this.stats.total++;
    this.stats[result]++;
  }

  private panic(pfn: number): void {
    this.log.push(logLine.panic(pfn));
    this.panickedFlag = true;
    // The machine stops: processes are gone, but nothing is torn down or counted.
    for (const proc of this.processes) proc.alive = false;
  }

  /** Records a newly poisoned raw page. */
  private poison(page: Hugepage, raw: number, real: boolean): void {
    page.poisoned.add(raw);
    if (real) page.corrupted.add(raw);
    this.hardwareCorruptedKb += PAGE_SIZE / 1024;
  }

  /**
   * memory_failure() for raw page `raw` of `page`. `consumer` is the process that consumed
   * the error (AR); null for a patrol-scrub error (AO). `real` is a hardware UE (the data is
   * lost), false for MADV_HWPOISON. Returns 0, EHWPOISON (the consumer was signalled for an
   * already-poisoned page; a THP that could not be split) or EBUSY (ignored), as positive
   * errnos.
   */
  memoryFailure(page: Hugepage, raw: number, consumer: RefProcess | null, real: boolean): number {
    const pfn = page.pfn(raw);
    if (!this.recovery) {
      this.panic(pfn);
      return 0;
    }

    const pool = this.poolOf(page);
    if (page.state === 'free') {
      // A free hugepage is dissolved; a free THP folio leaves THP memory for the buddy allocator.
      pool.dissolve(page);
      this.poison(page, raw, real);
      this.log.push(logLine.recoveryAction(pfn, page.thp ? 'free buddy page' : 'free huge page', 'Recovered'));
      this.count('recovered');
      return 0;
    }
    if (page.state === 'dissolved') {
      if (page.poisoned.has(raw)) {
        if (real) page.corrupted.add(raw);
        return this.alreadyPoisoned(page, raw, null, 0);
      }
      this.poison(page, raw, real);
      this.log.push(logLine.recoveryAction(pfn, 'free buddy page', 'Recovered'));
      this.count('recovered');
      return 0;
    }

    if (page.thp) return this.thpMemoryFailure(page, raw, consumer, real);
    const policy = this.policyOf(page);
    const lsb = policy === 'DEFAULT' ? page.shift : 12;

    if (page.poisoned.has(raw)) {
      if (real) page.corrupted.add(raw);
      return this.alreadyPoisoned(page, raw, consumer, lsb);
    }

    const wasPoisoned = page.poisoned.size > 0;
    this.poison(page, raw, real);

    if (policy === 'KEEP' && this.keepVersion === 'v3' && real && wasPoisoned) {
      // v3 as posted: get_hwpoison_page fails, the event is ignored, and the machine-check
      // handler kills the consumer with a plain SIGBUS (kill_me_maybe -> kill_me_now).
      this.count('ignored');
      this.log.push(logLine.recoveryAction(pfn, 'get hwpoison page', 'Ignored'));
      if (consumer) {
        this.log.push(logLine.notRecovered());
        consumer.deliver(sigbus(SI_KERNEL, 0, 0));
        this.killUnhandled([consumer]);
      }
      return EBUSY;
    }
    if (policy === 'DEFAULT' && wasPoisoned) {
      // Already offlined: the new raw page is recorded, the consumer signalled, the event
      // counted as failed.
      const signalled = this.killAccessingProcess(page, raw, consumer, lsb);
      this.count('failed');
      this.log.push(logLine.recoveryAction(pfn, 'huge page', 'Failed'));
      this.killUnhandled(signalled);
      return signalled.length > 0 ? EHWPOISON : 0;
    }

    // Recovered: KEEP leaves every mapping alone; DEFAULT unmaps the whole hugepage; HGM
    // splits every present leaf down to the raw page's PTE and unmaps that PTE only. The
    // victims are collected while the folio is still mapped.
    const signalled = this.killProcs(page, raw, consumer, lsb);
    if (policy === 'DEFAULT') for (const proc of this.alive()) proc.poisonLeaves(page);
    else if (policy === 'HGM') for (const proc of this.alive()) proc.splitLeaves(page, raw);
    if (policy === 'DEFAULT' && page.owner?.kind === 'private') pool.dissolve(page);
    this.count('recovered');
    this.log.push(logLine.recoveryAction(pfn, 'huge page', 'Recovered'));
    this.killUnhandled(signalled);
    return 0;
  }

  /**
   * memory_failure() for raw page `raw` of an in-use THP folio (docs: "THP"): the folio's
   * PMD leaf is split to 4 KiB and the raw page's PTE poisoned, unless the split attempt
   * fails (then the PMD leaf stays, marked by the folio's poisoned raw pages).
   */
  private thpMemoryFailure(folio: Hugepage, raw: number, consumer: RefProcess | null, real: boolean): number {
    const pfn = folio.pfn(raw);
    const leaf = this.thpLeaf(folio);
    if (leaf?.kind !== 'present') throw new Error('reference model: an in-use THP folio without its PMD leaf');
    const split = leaf.split !== null;

    if (folio.poisoned.has(raw)) {
      if (real) folio.corrupted.add(raw);
      // Reported at 4 KiB even while the PMD maps the folio (check_hwpoisoned_pmd_entry).
      return this.alreadyPoisoned(folio, raw, consumer, 12);
    }

    const total = this.stats.total; // before this event
    this.poison(folio, raw, real);
    if (!split && splitFails(this.thpSplitFailure, this.seed, total, pfn)) {
      const signalled = this.killProcs(folio, raw, consumer, folio.shift);
      this.count('failed');
      this.log.push(logLine.recoveryAction(pfn, 'unsplit thp', 'Failed'));
      this.killUnhandled(signalled);
      return EHWPOISON;
    }
    // Split now (every poisoned raw page, earlier failed attempts included), or already split.
    if (split) splitToRaw(leaf, raw);
    else splitPmd(leaf, folio.poisoned);
    const signalled = this.killProcs(folio, raw, consumer, 12);
    this.count('recovered');
    this.log.push(logLine.recoveryAction(pfn, 'dirty LRU page', 'Recovered'));
    this.killUnhandled(signalled);
    return 0;
  }

  /**
   * An already-poisoned raw page: the consumer is signalled where its page table still maps
   * the folio, then "recovery action for already poisoned page: Failed" is logged, uncounted.
   */
  private alreadyPoisoned(page: Hugepage, raw: number, consumer: RefProcess | null, lsb: number): number {
    const signalled = this.killAccessingProcess(page, raw, consumer, lsb);
    this.log.push(logLine.recoveryAction(page.pfn(raw), 'already poisoned page', 'Failed'));
    this.killUnhandled(signalled);
    return signalled.length > 0 ? EHWPOISON : 0;
  }

  /** Whether some live process's page table maps `page` with a present leaf (folio_mapped). */
  private folioMapped(page: Hugepage): boolean {
    return this.alive().some((proc) => [...proc.leaves.values()].some((leaf) => leaf.kind === 'present' && leaf.page === page));
  }

  /**
   * collect_procs + kill_procs: AR to the consumer and AO to early-kill processes, once per
   * VMA; nobody when no page table maps the folio (hwpoison_user_mappings).
   */
  private killProcs(page: Hugepage, raw: number, consumer: RefProcess | null, lsb: number): RefProcess[] {
    if (!this.folioMapped(page)) return [];
    const signalled: RefProcess[] = [];
    for (const v of this.victimsOf(page, raw)) {
      const code = v.proc === consumer ? BUS_MCEERR_AR : this.isEarlyKill(v.proc) ? BUS_MCEERR_AO : 0;
      if (code === 0) continue;
      this.sendSigbus(v.proc, code, v.vaddr, lsb, page.pfn(raw));
      signalled.push(v.proc);
    }
    return signalled;
  }

  /**
   * kill_accessing_process: AR to the consumer at the lowest address where its page table
   * has a leaf (present or HWPOISON) for the folio.
   */
  private killAccessingProcess(page: Hugepage, raw: number, consumer: RefProcess | null, lsb: number): RefProcess[] {
    if (!consumer) return [];
    const hit = this.victimsOf(page, raw).find((v) => v.proc === consumer && consumer.leaves.has(alignDown(v.vaddr, page.bytes)));
    if (!hit) return [];
    this.sendSigbus(consumer, BUS_MCEERR_AR, hit.vaddr, lsb, page.pfn(raw));
    return [consumer];
  }

  /** kill_proc: one SIGBUS, logged as the kernel does. */
  private sendSigbus(proc: RefProcess, code: number, vaddr: number, lsb: number, pfn: number): void {
    proc.deliver(sigbus(code, vaddr, lsb));
    this.log.push(logLine.sendingSigbus(pfn, proc.comm, proc.pid));
  }

  private killUnhandled(signalled: RefProcess[]): void {
    for (const proc of signalled) if (proc.alive && !proc.handlesSigbus) proc.die();
  }
}

export class RefProcess implements SimProcess {
  alive = true;
  readonly signalLog: Signal[] = [];
  readonly fds = new Map<number, HugetlbFile>();
  /** Sorted by start address. */
  vmas: Vma[] = [];
  /** Slot address (H-aligned) -> leaf entry. */
  readonly leaves = new Map<number, Leaf>();
  private mmapBase = MMAP_BASE;

  constructor(
    readonly host: RefHost,
    readonly pid: number,
    readonly comm: string,
    readonly capSysAdmin: boolean,
    readonly mceKill: MceKill,
    readonly handlesSigbus: boolean,
    /** A VMM running a KVM guest: its accesses may come from the guest. */
    readonly kvmGuest: boolean,
  ) {}

  get signals(): readonly Signal[] {
    return [...this.signalLog];
  }

  // ---- system calls --------------------------------------------------------------------

  memfdCreate(name: string, flags: number): number {
    this.enter('memfd_create');
    const f = toFlags(flags, 'memfd_create', 'flags');
    const low = lowBits(f);
    const shift = sizeField(f);
    const known = this.host.policyCapable ? MFD_KNOWN_LOW : MFD_KNOWN_LOW & ~MFD_MF_KEEP_UE_MAPPED;
    if (low & ~known) throw sysError(EINVAL, 'memfd_create', 'unknown flags');
    if (low & MFD_NOEXEC_SEAL && low & MFD_EXEC) throw sysError(EINVAL, 'memfd_create', 'MFD_NOEXEC_SEAL with MFD_EXEC');
    const hugetlb = (low & MFD_HUGETLB) !== 0;
    if (shift !== 0 && !hugetlb) throw sysError(EINVAL, 'memfd_create', 'a size without MFD_HUGETLB');
    const keep = (low & MFD_MF_KEEP_UE_MAPPED) !== 0;
    if (keep && !hugetlb) throw sysError(EINVAL, 'memfd_create', 'MFD_MF_KEEP_UE_MAPPED without MFD_HUGETLB');
    const hsize = shift === 0 ? '2M' : sizeOfShift(shift);
    // hugetlb_file_setup: no hstate of that size on x86-64.
    if (!hsize) throw sysError(ENODEV, 'memfd_create', `no ${shift}-bit hugepage size`);
    if (!hugetlb) throw sysError(EOPNOTSUPP, 'memfd_create', 'only HugeTLB memfds are modelled');
    const file = this.host.newFile(name, hsize, keep, false);
    return this.installFd(file);
  }

  ftruncate(fd: number, size: Num): void {
    this.enter('ftruncate');
    const length = toAddr(size, 'ftruncate', 'size');
    const file = this.file(fd, 'ftruncate');
    if (length % file.H !== 0) throw sysError(EINVAL, 'ftruncate', 'size is not a multiple of the hugepage size');
    this.host.truncateFrom(file, length / file.H);
    file.size = length;
  }

  fallocate(fd: number, mode: number, offset: Num, len: Num): void {
    this.enter('fallocate');
    const m = toFlags(mode, 'fallocate', 'mode');
    const off = toAddr(offset, 'fallocate', 'offset');
    const length = toAddr(len, 'fallocate', 'len');
    const file = this.file(fd, 'fallocate');
    if (length === 0) throw sysError(EINVAL, 'fallocate', 'len must be > 0');
    const H = file.H;
    if (m === (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)) {
      this.host.removeIndices(file, alignUp(off, H) / H, Math.floor((off + length) / H));
      return;
    }
    if (m !== 0 && m !== FALLOC_FL_KEEP_SIZE) throw sysError(EOPNOTSUPP, 'fallocate', `mode 0x${m.toString(16)}`);

    const first = Math.floor(off / H);
    const last = Math.ceil((off + length) / H);
    const pool = this.host.pools[file.hsize];
    const needed = last - first - file.populatedIn(first, last).length;
    const unreserved = needed - file.reservedIn(first, last).length;
    if (needed > pool.free || unreserved > pool.available) throw sysError(ENOSPC, 'fallocate', 'not enough free hugepages');
    // `needed` is at most the pool size, so this loop is short.
    for (let index = first; index < last; index++) {
      if (file.cache.has(index)) continue;
      const reserved = file.reserved.delete(index);
      if (reserved) pool.resv--;
      file.cache.set(index, pool.allocate({ kind: 'file', file, index }));
    }
    if (m === 0) file.size = Math.max(file.size, off + length);
  }

  mmap(addr: Num, length: Num, prot: number, flags: number, fd: number, offset: Num): bigint {
    this.enter('mmap');
    const hint = toAddr(addr, 'mmap', 'addr');
    const len = toAddr(length, 'mmap', 'length');
    const off = toAddr(offset, 'mmap', 'offset');
    const p = toFlags(prot, 'mmap', 'prot');
    const f = toFlags(flags, 'mmap', 'flags');
    if (p & ~(PROT_READ | PROT_WRITE)) throw sysError(EINVAL, 'mmap', 'unknown prot bits');
    const low = lowBits(f);
    if (low & ~MAP_KNOWN_LOW) throw sysError(EINVAL, 'mmap', 'unknown flags');
    const type = low & (MAP_SHARED | MAP_PRIVATE);
    if (type !== MAP_SHARED && type !== MAP_PRIVATE) throw sysError(EINVAL, 'mmap', 'exactly one of MAP_SHARED and MAP_PRIVATE');
    const shared = type === MAP_SHARED;
    if (len === 0) throw sysError(EINVAL, 'mmap', 'length must be > 0');

    let file: HugetlbFile | null = null;
    let hsize: HugepageSize;
    const anonymous = (low & MAP_ANONYMOUS) !== 0;
    // MAP_PRIVATE|MAP_ANONYMOUS without MAP_HUGETLB: anonymous THP, laid out in 2 MiB units.
    const thp = anonymous && !(low & MAP_HUGETLB);
    if (thp) {
      // As for a file mapping, the MAP_HUGE size field means nothing without MAP_HUGETLB.
      if (shared) throw sysError(EOPNOTSUPP, 'mmap', 'shared anonymous memory without MAP_HUGETLB (shmem THP) is not modelled');
      hsize = '2M';
    } else if (anonymous) {
      // As in Linux, the fd of an anonymous mapping is ignored.
      const shift = sizeField(f);
      const size = shift === 0 ? '2M' : sizeOfShift(shift);
      if (!size) throw sysError(EINVAL, 'mmap', `no ${shift}-bit hugepage size`);
      hsize = size;
    } else {
      file = this.file(fd, 'mmap');
      hsize = file.hsize;
    }
    const H = HUGE_BYTES[hsize];
    if (off % H !== 0) throw sysError(EINVAL, 'mmap', 'offset is not a multiple of the hugepage size');
    const span = alignUp(len, H);
    if (span > TASK_SIZE) throw sysError(ENOMEM, 'mmap', 'length too large');

    const placed = this.place(hint, span, H, (low & MAP_FIXED) !== 0);

    // hugetlb_reserve_pages: reserve what the mapping may fault in, or fail now. THP reserves nothing.
    const pool = this.host.pools[hsize];
    const count = span / H;
    const first = off / H;
    const needed = thp ? 0 : shared && file ? count - file.populatedIn(first, first + count).length - file.reservedIn(first, first + count).length : count;
    if (needed > pool.available) throw sysError(ENOMEM, 'mmap', 'not enough hugepages to reserve');

    // Validated: apply.
    if (placed.topDown) this.mmapBase = placed.start;
    if (anonymous && shared) {
      file = this.host.newFile('anon_hugepage', hsize, false, true);
      file.size = span;
    }
    const vma: Vma = {
      start: placed.start,
      end: placed.start + span,
      hsize,
      prot: p,
      shared,
      file,
      thp,
      pgoff: anonymous ? 0 : off,
      privatePages: new Map(),
      privateReserved: new Set(),
    };
    if (shared) {
      const backing = file!;
      for (let index = vma.pgoff / H; index < vma.pgoff / H + count; index++) {
        if (!backing.cache.has(index) && !backing.reserved.has(index)) {
          backing.reserved.add(index);
          pool.resv++;
        }
      }
      if (p & PROT_WRITE) backing.size = Math.max(backing.size, vma.pgoff + span);
    } else if (!thp) {
      for (let slot = vma.start; slot < vma.end; slot += H) vma.privateReserved.add(slot);
      pool.resv += count;
    }
    this.vmas.push(vma);
    this.vmas.sort((a, b) => a.start - b.start);
    return BigInt(vma.start);
  }

  munmap(addr: Num, length: Num): void {
    this.enter('munmap');
    const start = toAddr(addr, 'munmap', 'addr');
    const len = toAddr(length, 'munmap', 'length');
    if (len === 0) throw sysError(EINVAL, 'munmap', 'length must be > 0');
    if (start % PAGE_SIZE !== 0) throw sysError(EINVAL, 'munmap', 'addr is not page aligned');
    const end = start + alignUp(len, PAGE_SIZE);
    if (end > TASK_SIZE) throw sysError(EINVAL, 'munmap', 'range beyond the user address space');
    const hit = this.vmas.filter((v) => v.start < end && v.end > start);
    // A hugetlb VMA can only be split at a hugepage boundary (a cut inside it); a range that
    // runs past a VMA's end, or starts before it, does not cut it there.
    for (const v of hit) {
      const H = HUGE_BYTES[v.hsize];
      if ((start > v.start && start % H !== 0) || (end < v.end && end % H !== 0)) {
        throw sysError(EINVAL, 'munmap', 'the range would split a hugepage');
      }
    }
    for (const file of this.unmapRange(start, end)) this.host.releaseIfUnused(file);
  }

  read(addr: Num, length: Num, opts: AccessOptions = {}): AccessResult {
    return this.access(addr, length, PROT_READ, 'read', opts.guest === true);
  }

  write(addr: Num, length: Num, opts: AccessOptions = {}): AccessResult {
    return this.access(addr, length, PROT_WRITE, 'write', opts.guest === true);
  }

  madvise(addr: Num, length: Num, advice: number): number {
    this.enter('madvise');
    const start = toAddr(addr, 'madvise', 'addr');
    const len = toAddr(length, 'madvise', 'length');
    const adv = toFlags(advice, 'madvise', 'advice');
    // do_madvise: the advice and the range first, whoever calls.
    if (adv !== MADV_HWPOISON && adv !== MADV_SOFT_OFFLINE) throw sysError(EINVAL, 'madvise', `advice ${adv}`);
    if (start % PAGE_SIZE !== 0) throw sysError(EINVAL, 'madvise', 'addr is not page aligned');
    if (len === 0) return 0;
    // madvise_inject_error.
    if (!this.capSysAdmin) throw sysError(EPERM, 'madvise', 'MADV_HWPOISON needs CAP_SYS_ADMIN');
    if (adv === MADV_SOFT_OFFLINE) throw sysError(EOPNOTSUPP, 'madvise', 'MADV_SOFT_OFFLINE is not modelled');
    // Step by step, in order: a failing step ends the call, earlier steps stay applied.
    for (let pos = start; pos < start + len; ) {
      const vma = this.vmaAt(pos);
      if (!vma) throw sysError(EFAULT, 'madvise', `0x${pos.toString(16)} is not mapped`);
      const H = HUGE_BYTES[vma.hsize];
      const slot = alignDown(pos, H);
      const raw = (pos - slot) / PAGE_SIZE;
      // get_user_pages_fast: a fault that would raise SIGBUS, or a HWPOISON entry at any
      // level, is EFAULT (vm_fault_to_errno without FOLL_HWPOISON).
      if (!this.leaves.has(slot) && this.faultIn(vma, slot, pos)) throw sysError(EFAULT, 'madvise', 'the page cannot be faulted in');
      const leaf = this.leaves.get(slot)!;
      if (leaf.kind !== 'present' || isHwpoisonPte(leaf, raw)) throw sysError(EFAULT, 'madvise', 'the page is unmapped (poisoned)');
      // page_size(compound_head(page)): the hugepage, or 4 KiB in a THP already split.
      const step = vma.thp && leaf.split ? PAGE_SIZE : H;
      this.host.log.push(logLine.injecting(leaf.page.pfn(raw), pos));
      const ret = this.host.memoryFailure(leaf.page, raw, this, false);
      this.host.guard('madvise');
      if (ret !== 0) throw sysError(ret, 'madvise', ret === EHWPOISON ? 'the page is already poisoned' : 'memory_failure failed');
      // Killed by its own SIGBUS: nothing is left to walk.
      if (!this.alive) return 0;
      pos += step;
    }
    return 0;
  }

  pread(fd: number, length: Num, offset: Num): number {
    this.enter('pread');
    const len = toAddr(length, 'pread', 'length');
    const off = toAddr(offset, 'pread', 'offset');
    const file = this.file(fd, 'pread');
    if (len === 0 || off >= file.size) return 0;
    const end = Math.min(off + len, file.size);
    const H = file.H;
    // The first poisoned byte in [off, end), if any.
    let stop = end;
    for (const index of file.populatedIn(Math.floor(off / H), Math.ceil(end / H))) {
      for (const raw of file.cache.get(index)!.poisoned) {
        const rawStart = index * H + raw * PAGE_SIZE;
        if (rawStart + PAGE_SIZE > off && rawStart < end) stop = Math.min(stop, Math.max(rawStart, off));
      }
    }
    // hugetlbfs_read_iter: a hugepage whose part of the range starts poisoned fails the whole
    // read (adjust_range_hwpoison returns 0: EIO), even after clean hugepages; a poisoned
    // raw page further in a hugepage only shortens it.
    if (stop < end && (stop === off || stop % H === 0)) throw sysError(EIO, 'pread', 'a hugepage of the range starts with a poisoned page');
    return stop - off;
  }

  translate(vaddr: Num): bigint | null {
    this.enter('translate');
    const va = toAddr(vaddr, 'translate', 'vaddr');
    const vma = this.vmaAt(va);
    if (!vma) return null;
    const slot = alignDown(va, HUGE_BYTES[vma.hsize]);
    const leaf = this.leaves.get(slot);
    if (leaf?.kind !== 'present' || isHwpoisonPte(leaf, Math.floor((va - slot) / PAGE_SIZE))) return null;
    return BigInt(leaf.page.phys + (va - slot));
  }

  pageTableLeaf(vaddr: Num): PageTableLeaf | null {
    this.enter('pageTableLeaf');
    const va = toAddr(vaddr, 'pageTableLeaf', 'vaddr');
    const vma = this.vmaAt(va);
    if (!vma) return null;
    const slot = alignDown(va, HUGE_BYTES[vma.hsize]);
    const leaf = this.leaves.get(slot);
    return leaf ? leafAt(leaf, vma.hsize, va - slot) : null;
  }

  sendFd(fd: number, to: SimProcess): number {
    this.enter('sendmsg');
    const file = this.file(fd, 'sendmsg');
    if (!to.alive) throw sysError(ESRCH, 'sendmsg', 'the receiver is not alive');
    if (!(to instanceof RefProcess) || to.host !== this.host) throw sysError(EINVAL, 'sendmsg', 'the receiver is on another host');
    return to.installFd(file);
  }

  close(fd: number): void {
    this.enter('close');
    const file = this.file(fd, 'close');
    this.fds.delete(fd);
    file.fds--;
    this.host.releaseIfUnused(file);
  }

  exit(): void {
    this.enter('exit');
    this.die();
  }

  // ---- internals -----------------------------------------------------------------------

  /** Every call: EIO after a panic, ESRCH once the process is dead; then it is `current`. */
  private enter(syscall: string): void {
    this.host.guard(syscall);
    if (!this.alive) throw sysError(ESRCH, syscall, `process ${this.pid} has exited`);
    this.host.current = this;
  }

  private file(fd: number, syscall: string): HugetlbFile {
    const file = Number.isInteger(fd) ? this.fds.get(fd) : undefined;
    if (!file) throw sysError(EBADF, syscall, `fd ${String(fd)}`);
    return file;
  }

  installFd(file: HugetlbFile): number {
    let fd = 3;
    while (this.fds.has(fd)) fd++;
    this.fds.set(fd, file);
    file.fds++;
    return fd;
  }

  deliver(signal: Signal): void {
    this.signalLog.push(signal);
  }

  /**
   * Exit (or death by signal), in the kernel's order: the whole address space is unmapped
   * (files left unused are released), then the fds are closed in ascending order.
   */
  die(): void {
    // A task killed by a signal exits on its way back to user space, as `current`.
    this.host.current = this;
    this.alive = false;
    for (const file of this.unmapRange(0, TASK_SIZE)) this.host.releaseIfUnused(file);
    for (const [fd, file] of [...this.fds].sort((a, b) => a[0] - b[0])) {
      this.fds.delete(fd);
      file.fds--;
      this.host.releaseIfUnused(file);
    }
  }

  vmaAt(vaddr: number): Vma | undefined {
    return this.vmas.find((v) => v.start <= vaddr && vaddr < v.end);
  }

  private overlaps(start: number, end: number): boolean {
    return this.vmas.some((v) => v.start < end && v.end > start);
  }

  /** Chooses the address of a new mapping of `span` bytes (docs: "Placement"). */
  private place(hint: number, span: number, H: number, fixed: boolean): { start: number; topDown: boolean } {
    // addr 0 always means "anywhere" (top-down), with or without MAP_FIXED.
    if (fixed && hint !== 0) {
      if (hint % H !== 0) throw sysError(EINVAL, 'mmap', 'MAP_FIXED address is not hugepage aligned');
      if (hint + span > TASK_SIZE) throw sysError(ENOMEM, 'mmap', 'MAP_FIXED range beyond the user address space');
      if (this.overlaps(hint, hint + span)) throw sysError(EEXIST, 'mmap', 'MAP_FIXED range is in use');
      return { start: hint, topDown: false };
    }
    if (hint !== 0 && hint % H === 0 && hint + span <= TASK_SIZE && !this.overlaps(hint, hint + span)) {
      return { start: hint, topDown: false };
    }
    // Top-down below mmapBase, skipping down past any mapping in the way.
    let start = alignDown(this.mmapBase - span, H);
    for (;;) {
      if (this.mmapBase < span || start < MMAP_MIN_ADDR) throw sysError(ENOMEM, 'mmap', 'no room for the mapping');
      const s = start;
      const blocker = this.vmas.filter((v) => v.start < s + span && v.end > s).sort((a, b) => a.start - b.start)[0];
      if (!blocker) return { start, topDown: true };
      if (blocker.start < span) throw sysError(ENOMEM, 'mmap', 'no room for the mapping');
      start = alignDown(blocker.start - span, H);
    }
  }

  /**
   * Unmaps [start, end) (bounds already validated against every VMA's H): clears leaves,
   * frees private hugepages and their unused reservations, splits VMAs. Returns the files
   * whose VMAs went away, for the caller to release once the whole range is gone.
   */
  private unmapRange(start: number, end: number): HugetlbFile[] {
    const files: HugetlbFile[] = [];
    const kept: Vma[] = [];
    for (const vma of this.vmas) {
      if (vma.end <= start || vma.start >= end) {
        kept.push(vma);
        continue;
      }
      const H = HUGE_BYTES[vma.hsize];
      const cutStart = Math.max(start, vma.start);
      const cutEnd = Math.min(end, vma.end);
      const pool = this.host.pools[vma.hsize];
      for (let slot = cutStart; slot < cutEnd; slot += H) {
        this.leaves.delete(slot);
        const page = vma.privatePages.get(slot);
        if (page) this.host.freePrivate(page);
        if (vma.privateReserved.has(slot)) pool.resv--;
      }
      if (vma.start < cutStart) kept.push(this.slice(vma, vma.start, cutStart));
      if (cutEnd < vma.end) kept.push(this.slice(vma, cutEnd, vma.end));
      if (vma.file && !files.includes(vma.file)) files.push(vma.file);
    }
    this.vmas = kept.sort((a, b) => a.start - b.start);
    return files;
  }

  /** The part [start, end) of `vma`, as a VMA of its own. */
  private slice(vma: Vma, start: number, end: number): Vma {
    const inside = (slot: number) => slot >= start && slot < end;
    return {
      ...vma,
      start,
      end,
      pgoff: vma.pgoff + (start - vma.start),
      privatePages: new Map([...vma.privatePages].filter(([slot]) => inside(slot))),
      privateReserved: new Set([...vma.privateReserved].filter(inside)),
    };
  }

  /** DEFAULT recovery: every present leaf of `page` becomes a HWPOISON entry. */
  poisonLeaves(page: Hugepage): void {
    for (const [slot, leaf] of this.leaves) {
      if (leaf.kind === 'present' && leaf.page === page) this.leaves.set(slot, { kind: 'hwpoison' });
    }
  }

  /** HGM recovery: every present leaf of `page` is split down to raw page `raw`'s PTE, which becomes a HWPOISON entry. */
  splitLeaves(page: Hugepage, raw: number): void {
    for (const leaf of this.leaves.values()) {
      if (leaf.kind === 'present' && leaf.page === page) splitToRaw(leaf, raw);
    }
  }

  /** Truncation: shared mappers of `file` lose their leaves for `index`. */
  clearFileLeaves(file: HugetlbFile, index: number): void {
    for (const vma of this.vmas) {
      if (!vma.shared || vma.file !== file) continue;
      const H = file.H;
      const slot = vma.start + index * H - vma.pgoff;
      if (slot >= vma.start && slot < vma.end) this.leaves.delete(slot);
    }
  }

  /** The memory a fault-in of `vma` allocates from: its hugepage pool, or THP memory. */
  private memoryOf(vma: Vma): Pool {
    return vma.thp ? this.host.thpPool : this.host.pools[vma.hsize];
  }

  /** The file index that slot `slot` of a shared VMA maps. */
  private indexOf(vma: Vma, slot: number): number {
    return (slot - vma.start + vma.pgoff) / HUGE_BYTES[vma.hsize];
  }

  /** What a fault-in of `slot` would do, without doing it. */
  private faultPlan(vma: Vma, slot: number): FaultPlan {
    const pool = this.memoryOf(vma);
    const shift = HUGE_SHIFT[vma.hsize];
    let reserved: boolean;
    if (vma.shared) {
      const file = vma.file!;
      const index = this.indexOf(vma, slot);
      if (index >= file.indexLimit) return { kind: 'sigbus', code: BUS_ADRERR, lsb: 0 };
      const page = file.cache.get(index);
      if (page) {
        if (page.poisoned.size > 0 && this.host.policyOf(page) === 'DEFAULT') return { kind: 'sigbus', code: BUS_MCEERR_AR, lsb: shift };
        return { kind: 'cached', page };
      }
      reserved = file.reserved.has(index);
    } else {
      // A private mapping of a file still ends at EOF (as in Linux's hugetlb_no_page).
      if (vma.file && this.indexOf(vma, slot) >= vma.file.indexLimit) return { kind: 'sigbus', code: BUS_ADRERR, lsb: 0 };
      // A THP mapping holds no reservation: it takes a free folio or raises SIGBUS (no 4 KiB fallback).
      reserved = vma.privateReserved.has(slot);
    }
    // A reservation guarantees a page unless a UE dissolved the free page backing it.
    const ok = reserved ? pool.free > 0 : pool.available > 0;
    return ok ? { kind: 'allocate', reserved } : { kind: 'sigbus', code: BUS_ADRERR, lsb: 0 };
  }

  /** Faults `slot` in. Returns the SIGBUS to raise at `exact` (not yet delivered), or null. */
  private faultIn(vma: Vma, slot: number, exact: number): Signal | null {
    const plan = this.faultPlan(vma, slot);
    if (plan.kind === 'sigbus') return sigbus(plan.code, exact, plan.lsb);
    let page: Hugepage;
    if (plan.kind === 'cached') {
      page = plan.page;
    } else {
      const pool = this.memoryOf(vma);
      if (plan.reserved) pool.resv--;
      if (vma.shared) {
        const file = vma.file!;
        const index = this.indexOf(vma, slot);
        file.reserved.delete(index);
        page = pool.allocate({ kind: 'file', file, index });
        file.cache.set(index, page);
      } else {
        vma.privateReserved.delete(slot);
        page = pool.allocate({ kind: 'private', process: this, slot });
        vma.privatePages.set(slot, page);
      }
    }
    const leaf = presentLeaf(page);
    this.leaves.set(slot, leaf);
    // HGM: a poisoned hugepage is mapped huge, then split for each poisoned raw page.
    if (this.host.policyOf(page) === 'HGM') {
      for (const raw of [...page.poisoned].sort((a, b) => a - b)) splitToRaw(leaf, raw);
    }
    return null;
  }

  /** A SIGBUS raised by an access: delivered, and fatal without a handler. */
  private raise(signal: Signal): AccessResult {
    this.deliver(signal);
    if (!this.handlesSigbus) this.die();
    return { ok: false, signal };
  }

  private access(addr: Num, length: Num, need: number, syscall: 'read' | 'write', guest: boolean): AccessResult {
    this.enter(syscall);
    const start = toAddr(addr, syscall, 'addr');
    const len = toAddr(length, syscall, 'length');
    if (len === 0) throw sysError(EINVAL, syscall, 'length must be > 0');
    if (guest && !this.kvmGuest) throw sysError(EINVAL, syscall, 'the process runs no KVM guest');
    const end = start + len;
    // Every byte must be mapped with the right protection before anything is touched.
    const segments: Vma[] = [];
    for (let pos = start; pos < end; ) {
      const vma = this.vmaAt(pos);
      if (!vma || !(vma.prot & need)) throw sysError(EFAULT, syscall, `0x${pos.toString(16)} is not ${syscall === 'read' ? 'readable' : 'writable'}`);
      segments.push(vma);
      pos = vma.end;
    }
    for (const vma of segments) {
      const H = HUGE_BYTES[vma.hsize];
      for (let slot = alignDown(Math.max(start, vma.start), H); slot < Math.min(end, vma.end); slot += H) {
        const from = Math.max(start, slot);
        const to = Math.min(end, slot + H);
        if (!this.leaves.has(slot)) {
          const signal = this.faultIn(vma, slot, from);
          if (signal?.code === BUS_MCEERR_AR) return this.hwpoisonFault(from, signal.addrLsb, guest);
          // KVM turns any other failed fault into -EFAULT from KVM_RUN (kvm_handle_error_pfn).
          if (signal && guest) throw sysError(EFAULT, syscall, 'the guest page cannot be faulted in');
          if (signal) return this.raise(signal);
        }
        const leaf = this.leaves.get(slot)!;
        if (leaf.kind === 'hwpoison') return this.hwpoisonFault(from, HUGE_SHIFT[vma.hsize], guest);
        const result = this.touchPresent(leaf, slot, from, to, syscall, guest);
        if (result) return result;
      }
    }
    return { ok: true };
  }

  /**
   * A fault on a HWPOISON entry (or a fault-in of an offlined hugepage) at `at`. From the
   * process: x86 do_sigbus logs "MCE: Killing" and sends AR at the exact address with the
   * leaf's size. From its KVM guest: kvm_send_hwpoison_signal, AR at the host virtual
   * address of the guest's 4 KiB page, lsb 12, no log line.
   */
  private hwpoisonFault(at: number, lsb: number, guest: boolean): AccessResult {
    if (guest) return this.raise(sigbus(BUS_MCEERR_AR, alignDown(at, PAGE_SIZE), 12));
    this.host.log.push(logLine.killing(this.comm, this.pid, at));
    return this.raise(sigbus(BUS_MCEERR_AR, at, lsb));
  }

  /**
   * Touches [from, to) of a present leaf, raw page by raw page: a HWPOISON PTE (HGM, THP)
   * faults with lsb 12; a corrupted raw page raises a machine check (from the guest too: the
   * host handles a machine check taken in guest mode).
   */
  private touchPresent(leaf: PresentLeaf, slot: number, from: number, to: number, syscall: string, guest: boolean): AccessResult | null {
    const page = leaf.page;
    const firstRaw = Math.floor((from - slot) / PAGE_SIZE);
    const lastRaw = Math.floor((to - 1 - slot) / PAGE_SIZE);
    let hit = -1;
    for (const raw of page.corrupted) if (raw >= firstRaw && raw <= lastRaw && (hit < 0 || raw < hit)) hit = raw;
    const pte = firstHwpoisonPte(leaf, firstRaw, lastRaw);
    if (pte >= 0 && (hit < 0 || pte <= hit)) return this.hwpoisonFault(Math.max(from, slot + pte * PAGE_SIZE), 12, guest);
    if (hit < 0) return null;
    const exact = Math.max(from, slot + hit * PAGE_SIZE);
    const before = this.signalLog.length;
    this.host.log.push(logLine.userAccessMce(page.phys + (exact - slot)));
    this.host.memoryFailure(page, hit, this, true);
    this.host.guard(syscall);
    const signal = this.signalLog[before];
    if (!signal) throw new Error('reference model: a machine check delivered no signal');
    return { ok: false, signal };
  }
}
