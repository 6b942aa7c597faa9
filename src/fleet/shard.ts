// A fleet shard: many simulated hosts in one kernel instance, each with its HugeTLB pools
// (and THP memory) and VMs (a VMM process mapping one memfd, or anonymous THP memory),
// replayed in batches straight from linear
// memory. A fleet larger than one wasm32 instance holds is split into shards by host
// (pool.ts); per-host results do not depend on the split.
import {
  MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, MFD_HUGETLB, MFD_HUGE_1GB, MFD_HUGE_2MB, MFD_MF_KEEP_UE_MAPPED,
  PROT_READ, PROT_WRITE,
} from '../host/constants.js';
import { Counter, ErrFlag, HostFlag, MAX_FRAMES_PER_KERNEL, Out, ProcFlag, instantiateKernel, kernelMemoryFull, type KernelExports } from '../kernel/kernel.js';
import { drainOutbox, isLogRecord } from '../kernel/outbox.js';
import { RecoveryTally } from '../costs/recovery-cost.js';
import { DEFAULT_COST_SETTINGS, unitCosts, type Environment, type UnitCosts } from '../costs/cost-table.js';
import { decodeWork } from '../costs/work-record.js';
import { ENOMEM } from '../host/constants.js';
import { largestHostBytes } from './plan.js';
import { sysError } from '../host/syserror.js';
import { configureTlb, type TlbConfig, type TranslationStats } from '../costs/translation.js';
import type { HugepageSize } from '../host/types.js';
import { keepVersionOf, type KeepVersionOption } from '../host/kernel-behaviour.js';

/**
 * How a region is backed: a HugeTLB memfd without or with MFD_MF_KEEP_UE_MAPPED, or
 * anonymous THP memory (MAP_PRIVATE | MAP_ANONYMOUS; 2 MiB folios from the host's thpPages).
 */
export type Policy = 'default' | 'keep' | 'thp';

/** One mapping of a process: a HugeTLB memfd, or anonymous THP memory. */
export interface RegionSpec {
  /** Fixed virtual address (default: placed by mmap). */
  address?: number;
  /** Bytes (rounded up to the hugepage size). */
  length: number;
  /** The hugepage size; THP regions are always '2M'. */
  hugepage: HugepageSize;
  policy: Policy;
  /** MAP_SHARED (default) or MAP_PRIVATE. */
  shared?: boolean;
}

/**
 * A process on a host: a VM (one memfd of `memory` bytes, the VMM's guest memory) or, with
 * `regions`, any set of mappings (a traced program's address space).
 */
export interface VmSpec {
  memory?: number;
  hugepage?: HugepageSize;
  policy?: Policy;
  /** Fixed address of the guest memory mapping (default: placed by mmap). */
  address?: number;
  regions?: RegionSpec[];
  /** The process handles SIGBUS (default true) or dies of it. */
  handlesSigbus?: boolean;
  mceKill?: 'default' | 'early' | 'late';
  /** Fault every mapping in at boot, as VMMs pre-fault guest memory (default true). */
  prefault?: boolean;
  /** The VMM runs a KVM guest: its replayed accesses are guest accesses (default false). */
  kvmGuest?: boolean;
}

/** A host of a fleet shard: its pools, its VMs and its kernel options. */
export interface HostSpec {
  hugepages: { '2M'?: number; '1G'?: number };
  vms: VmSpec[];
  keepVersion?: KeepVersionOption;
  earlyKill?: boolean;
  /** HugeTLB files without MFD_MF_KEEP_UE_MAPPED split to 4 KiB around a UE (HGM). */
  hgm?: boolean;
  /** 2 MiB folios of ordinary memory for THP regions, after the pools (default 0). */
  thpPages?: number;
  /** Probability that splitting a THP on a UE fails (default 0). */
  thpSplitFailure?: number;
  /** Seeds the host's random choices (THP split failures); a uint32 (default 0). */
  seed?: number;
  /** The hugetlb vmemmap optimisation (HVO) is on: dissolves re-allocate vmemmap first (default on). */
  hvo?: boolean;
  /** Where the host kernel runs, for the recovery cost model (default bare metal). */
  environment?: Environment;
}

/**
 * The host with its VMs' memory as anonymous THP over the physical memory of its HugeTLB
 * pools (the 1 GiB pool first, as booted), every region a THP region.
 */
export function withThpBacking(spec: HostSpec): HostSpec {
  const thpPages = (spec.hugepages['1G'] ?? 0) * 512 + (spec.hugepages['2M'] ?? 0) + (spec.thpPages ?? 0);
  return {
    ...spec, hugepages: {}, thpPages,
    vms: spec.vms.map((vm) => ({ ...vm, policy: 'thp', regions: vm.regions?.map((r) => ({ ...r, policy: 'thp' })) })),
  };
}

/** A host's own seed (for its kernel's random choices) from a run's seed and its fleet number. */
export function hostSeed(seed: number, fleetHost: number): number {
  return (Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) ^ fleetHost) >>> 0;
}

/** A VM as the replay sees it: its kernel process and where its (first) mapping lies. */
export interface VmHandle {
  host: number;
  proc: number;
  base: number;
  size: number;
  /**
   * The VM's declared hugepage size. A THP-backed VM keeps it, so poisoning and workloads
   * pick the same guest offsets (and physical pages) under every policy.
   */
  hugepageShift: number;
}

/** A host's figures after a replay (sums over hosts with `sumStats`). */
export interface HostStats {
  accesses: number;
  ok: number;
  faultIns: number;
  sigbus: number;
  sigbusByCode: { BUS_ADRERR: number; BUS_MCEERR_AR: number; BUS_MCEERR_AO: number; SI_KERNEL: number };
  killed: number;
  bytesLost: number;
  hugepagesLost: number;
  rawPagesPoisoned: number;
  /** Page-table pages allocated by HGM splits and not yet freed. */
  pageTablePages: number;
  /** The translation cost model's counts (zero unless the shard enabled it). */
  translation: TranslationStats;
  /** Hugepages dissolved (KEEP and HGM at release, free and private ones at once). */
  dissolves: number;
  /** vmemmap pages restored before those dissolves under HVO (7 per 2 MiB, 4095 per 1 GiB hugepage). */
  vmemmapPagesRestored: number;
  /** Loads that consumed a raw page already known to be poisoned (a new machine check each). */
  repeatedConsumption: number;
  /** KEEP v3 releases of a kept hugepage that dropped more references than they held. */
  refcountUnderflows: number;
  /** Healthy 4 KiB pages that dissolved hugepages gave back to the buddy allocator. */
  buddyPagesReturned: number;
  deadProcessEvents: number;
  unmappedEvents: number;
  memoryFailure: { total: number; ignored: number; failed: number; delayed: number; recovered: number };
  pools: Record<HugepageSize, { nr: number; free: number }>;
  /** THP memory: folios still usable, free ones, in-use ones split to 4 KiB. */
  thp: { total: number; free: number; split: number };
}

/** One VM's figures after a replay: its accesses, their page walks, and the UEs on its memory. */
export interface VmStats {
  /** Guest accesses replayed for the VM (including those that failed). */
  accesses: number;
  /** Accesses the translation model translated (those that completed; zero unless it is on). */
  translated: number;
  /** Page-walk cycles of the translated accesses. */
  walkCycles: number;
  /** Replayed UEs that hit memory the VM mapped: it is affected when there is at least one. */
  uesMapped: number;
  /** Still running (not killed, not exited). */
  alive: boolean;
}

/** A signal delivered during a replay: the fleet host, the process, si_code, si_addr and si_addr_lsb. */
export interface SignalRecord {
  host: number;
  pid: number;
  code: number;
  addr: bigint;
  addrLsb: number;
}

const SHIFT: Record<HugepageSize, number> = { '2M': 21, '1G': 30 };
const MFD_SIZE: Record<HugepageSize, number> = { '2M': MFD_HUGE_2MB, '1G': MFD_HUGE_1GB };

/** Events per replay call: large enough that the call overhead vanishes. */
export const REPLAY_BATCH = 1 << 16;

/** A shard's settings. */
export interface ShardOptions {
  /** Signals kept in the signal log; the rest are counted as dropped (default 10,000). */
  signalLogCapacity?: number;
}

/**
 * Many simulated hosts in one kernel instance: boots them with their VMs, replays columns of
 * access and error events written straight into the kernel's memory, and reads per-host
 * figures back. In a browser, `await loadKernel()` before `FleetShard.create`.
 */
export class FleetShard {
  readonly vms: VmHandle[] = [];
  /** Latency and work of every recovery event the shard's hosts ran. */
  readonly recovery: RecoveryTally;
  kernelLogLines = 0;
  /**
   * Signals kept per host, each host's in delivery order. The log is these in host order,
   * cut at its capacity: a shard applies all its hosts' error-stream UEs before any host's
   * workload, so delivery order depends on the sharding and host order does not.
   */
  private readonly kept: SignalRecord[][] = [];
  private keptTotal = 0;
  private dropped = 0;
  private readonly kernel: KernelExports;
  private readonly signalLogCapacity: number;
  /** Each host's recovery unit costs and HVO setting (from its spec). */
  private readonly hostCosts: { costs: UnitCosts; hvo: boolean }[] = [];

  private constructor(readonly hostCount: number, opts: ShardOptions) {
    this.kernel = instantiateKernel();
    this.signalLogCapacity = opts.signalLogCapacity ?? 10_000;
    this.recovery = new RecoveryTally();
    this.outOfMemory('replay columns', this.kernel.replay_reserve_access(REPLAY_BATCH));
    this.outOfMemory('replay columns', this.kernel.replay_reserve_errors(REPLAY_BATCH));
  }

  /**
   * Boots every host and every VM; each VM faults its whole guest memory in (as VMMs
   * pre-fault). A host that no kernel instance holds is refused first (plan.ts).
   */
  static create(hosts: readonly HostSpec[], opts: ShardOptions = {}): FleetShard {
    largestHostBytes(hosts);
    const shard = new FleetShard(hosts.length, opts);
    const total = (size: HugepageSize) => hosts.reduce((n, h) => n + (h.hugepages[size] ?? 0), 0);
    const thp = hosts.reduce((n, h) => n + (h.thpPages ?? 0), 0);
    const frames = total('2M') + total('1G') + thp;
    if (frames > MAX_FRAMES_PER_KERNEL) {
      throw new RangeError(`a shard of ${frames} hugepages and THP folios exceeds one kernel instance (${MAX_FRAMES_PER_KERNEL}); use fewer hosts per shard`);
    }
    shard.outOfMemory('reserve_frames', shard.kernel.reserve_frames(total('2M'), total('1G'), thp));
    hosts.forEach((spec, i) => shard.bootHost(spec, i));
    return shard;
  }

  /** Throws when a kernel call returned -ENOMEM for want of the instance's own memory. */
  private outOfMemory(what: string, ret: number, host?: number): void {
    const why = ret === -ENOMEM ? kernelMemoryFull(this.kernel) : undefined;
    if (why === undefined) return;
    const change = this.hostCount > 1 ? 'run fewer hosts per shard' : 'give the host less memory or 1G hugepages instead of 2M';
    throw sysError(ENOMEM, what, `${host === undefined ? '' : `host ${host}: `}${why}; ${change}`);
  }

  private bootHost(spec: HostSpec, index: number): void {
    const k = this.kernel;
    let flags = HostFlag.recovery | HostFlag.policyCapable;
    if (keepVersionOf(spec.keepVersion) === 'v3') flags |= HostFlag.keepV3;
    if (spec.earlyKill) flags |= HostFlag.earlyKill;
    if (spec.hgm) flags |= HostFlag.hgm;
    const h = k.host_create(spec.hugepages['2M'] ?? 0, spec.hugepages['1G'] ?? 0, spec.thpPages ?? 0, flags, spec.seed ?? 0, spec.thpSplitFailure ?? 0);
    this.outOfMemory('host_create', h, index);
    if (h < 0) throw sysError(-h, 'host_create', `host ${index}: its memory ends beyond x86-64's 52-bit physical address space`);
    if (h !== index) throw new Error('mfrsim: host numbering out of step with the kernel');
    const hvo = spec.hvo ?? DEFAULT_COST_SETTINGS.hvo;
    this.hostCosts.push({ costs: unitCosts({ hvo, environment: spec.environment ?? DEFAULT_COST_SETTINGS.environment }), hvo });
    for (const vm of spec.vms) {
      let pflags = ProcFlag.capSysAdmin;
      if (vm.handlesSigbus !== false) pflags |= ProcFlag.handlesSigbus;
      if (vm.mceKill === 'early') pflags |= ProcFlag.mceEarly;
      if (vm.mceKill === 'late') pflags |= ProcFlag.mceLate;
      if (vm.kvmGuest) pflags |= ProcFlag.kvmGuest;
      const p = k.proc_spawn(h, pflags);
      this.outOfMemory('spawn', p, index);
      const regions = vm.regions ?? [{ address: vm.address, length: vm.memory ?? 0, hugepage: vm.hugepage ?? '2M', policy: vm.policy ?? 'default' }];
      const mapped = regions.map((r) => this.mapRegion(index, p, r, vm.prefault !== false));
      // A process may start with no mapping and map regions later (addRegion).
      this.vms.push({ host: h, proc: p, base: mapped[0]?.base ?? 0, size: mapped[0]?.size ?? 0, hugepageShift: SHIFT[regions[0]?.hugepage ?? '2M'] });
    }
    this.drain();
  }

  private mapRegion(index: number, p: number, r: RegionSpec, prefault: boolean, context = `booting host ${index}: the pool cannot back its VMs`): { base: number; size: number } {
    const k = this.kernel;
    const shift = r.policy === 'thp' ? SHIFT['2M'] : SHIFT[r.hugepage];
    const size = Math.ceil(r.length / 2 ** shift) * 2 ** shift;
    const fixed = r.address !== undefined ? MAP_FIXED : 0;
    if (r.policy === 'thp') {
      const base = this.check('mmap', k.mmap(p, r.address ?? 0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | fixed, -1, 0), index, context);
      if (prefault) this.check('prefault', k.access(p, base, size, 1, 0), index, context);
      return { base, size };
    }
    const memfdFlags = MFD_HUGETLB | MFD_SIZE[r.hugepage] | (r.policy === 'keep' ? MFD_MF_KEEP_UE_MAPPED : 0);
    const fd = this.check('memfd_create', k.memfd_create(p, memfdFlags), index, context);
    this.check('ftruncate', k.ftruncate(p, fd, size), index, context);
    const flags = (r.shared === false ? MAP_PRIVATE : MAP_SHARED) | fixed;
    const base = this.check('mmap', k.mmap(p, r.address ?? 0, size, PROT_READ | PROT_WRITE, flags, fd, 0), index, context);
    if (prefault) this.check('prefault', k.access(p, base, size, 1, 0), index, context);
    return { base, size };
  }

  /** Maps one more region into a booted VM's process, not faulted in; returns its address. */
  addRegion(vm: VmHandle, r: RegionSpec): number {
    return this.mapRegion(vm.host, vm.proc, r, false, `host ${vm.host}: mapping ${r.length} bytes at 0x${(r.address ?? 0).toString(16)}`).base;
  }

  /** Whether the VM's process is still alive (not killed, not exited). */
  isAlive(vm: VmHandle): boolean {
    return this.kernel.proc_alive(vm.proc) !== 0;
  }

  /**
   * The VM's process touches the byte at `va` (a 1-byte load or store): faults its page in
   * like the first replayed access would. Returns the access's result (0, 1 after a signal,
   * or -errno).
   */
  touch(vm: VmHandle, va: number, write: boolean): number {
    const ret = this.kernel.access(vm.proc, va, 1, write ? 1 : 0, 0);
    this.outOfMemory('touch', ret, vm.host);
    this.drain();
    return ret;
  }

  private check(what: string, ret: number, host: number, context: string): number {
    this.outOfMemory(what, ret, host);
    if (ret < 0) throw sysError(-ret, what, context);
    if (ret === 1 && what === 'prefault') throw new Error(`mfrsim: host ${host}: a VM could not fault in its memory`);
    return ret;
  }

  /**
   * Column views for up to REPLAY_BATCH access events (proc, va, write). Views are created
   * fresh on each call because the kernel's memory may have grown since.
   */
  accessColumns(): { proc: Uint32Array; va: Float64Array; write: Uint8Array } {
    const k = this.kernel;
    const buf = k.memory.buffer;
    return {
      proc: new Uint32Array(buf, k.replay_access_proc(), REPLAY_BATCH),
      va: new Float64Array(buf, k.replay_access_va(), REPLAY_BATCH),
      write: new Uint8Array(buf, k.replay_access_write(), REPLAY_BATCH),
    };
  }

  /** Column views for up to REPLAY_BATCH error events (host, phys, flags); fresh on each call, as accessColumns(). */
  errorColumns(): { host: Uint32Array; phys: Float64Array; flags: Uint8Array } {
    const k = this.kernel;
    const buf = k.memory.buffer;
    return {
      host: new Uint32Array(buf, k.replay_error_host(), REPLAY_BATCH),
      phys: new Float64Array(buf, k.replay_error_phys(), REPLAY_BATCH),
      flags: new Uint8Array(buf, k.replay_error_flags(), REPLAY_BATCH),
    };
  }

  /**
   * Replays access events [from, to) already written into accessColumns(). Throws ENOMEM when
   * the kernel instance ran out of memory: the events before the one that needed it ran.
   */
  replayAccesses(to: number, from = 0): void {
    this.kernel.outbox_set_limit(this.outboxRoom());
    this.kernel.replay_access(from, to);
    this.drain();
    this.replayStopped('replay_access', to);
  }

  /** Replays error events [0, n) already written into errorColumns(); returns UEs handled. */
  replayErrors(n: number): number {
    this.kernel.outbox_set_limit(this.outboxRoom());
    const handled = this.kernel.replay_errors(0, n);
    this.drain();
    this.replayStopped('replay_errors', n);
    return handled;
  }

  private replayStopped(what: string, n: number): void {
    const at = this.kernel.replay_stopped_at();
    if (at < 0) return;
    const why = kernelMemoryFull(this.kernel) ?? 'out of memory';
    const change = this.hostCount > 1 ? 'run fewer hosts per shard' : 'give the host less memory';
    throw sysError(ENOMEM, what, `event ${at} of ${n}: ${why} (the ${at} events before it were replayed); ${change}`);
  }

  /** Poisons raw pages as patrol-scrub UEs: `phys` are host-local physical addresses. */
  injectScrubUEs(host: number, phys: readonly number[]): number {
    let handled = 0;
    for (let at = 0; at < phys.length; at += REPLAY_BATCH) {
      const n = Math.min(REPLAY_BATCH, phys.length - at);
      const cols = this.errorColumns();
      cols.host.fill(host, 0, n);
      cols.flags.fill(ErrFlag.ue, 0, n);
      for (let i = 0; i < n; i++) cols.phys[i] = phys[at + i]!;
      handled += this.replayErrors(n);
    }
    return handled;
  }

  /** The VM's process exits (its mappings and fds go: memfds are released). */
  exitVm(vm: VmHandle): void {
    if (this.kernel.proc_alive(vm.proc)) this.kernel.exit(vm.proc);
    this.drain();
  }

  /** A VM's own figures (a host's are the sums over its VMs and more: hostStats). */
  vmStats(vm: VmHandle): VmStats {
    const c = (i: number) => this.kernel.proc_counter(vm.proc, i);
    return { accesses: c(0), translated: c(1), walkCycles: c(2), uesMapped: c(3), alive: this.kernel.proc_alive(vm.proc) !== 0 };
  }

  /** Physical address of the hugepage that backs guest offset `offset` of a VM, or null. */
  physOf(vm: VmHandle, offset: number): number | null {
    const pa = this.kernel.translate(vm.proc, vm.base + offset);
    return pa < 0 ? null : pa;
  }

  private outboxRoom(): number {
    // A log that keeps signals must see every one (which it keeps depends on the host, not
    // on the call); one that keeps none lets the kernel count them.
    return this.signalLogCapacity === 0 ? 64 : 0xffff_ffff;
  }

  /** The first `signalLogCapacity` signals in host order (each host's in delivery order). */
  get signalLog(): SignalRecord[] {
    return this.kept.flat().slice(0, this.signalLogCapacity);
  }

  /** Signals delivered but not in the log. */
  get signalsDropped(): number {
    return this.dropped + Math.max(0, this.keptTotal - this.signalLogCapacity);
  }

  private keepSignal(signal: SignalRecord): void {
    // Drop it once the hosts up to its own hold a full log: nothing can come before them.
    let before = 0;
    if (this.keptTotal >= this.signalLogCapacity) {
      for (let h = 0; h <= signal.host && before < this.signalLogCapacity; h++) before += this.kept[h]?.length ?? 0;
    }
    if (before >= this.signalLogCapacity) {
      this.dropped++;
      return;
    }
    (this.kept[signal.host] ??= []).push(signal);
    this.keptTotal++;
    // Bound memory: past twice the capacity, cut the log back to the signals it will keep.
    if (this.keptTotal > 2 * this.signalLogCapacity) {
      let room = this.signalLogCapacity;
      for (const list of this.kept) {
        if (!list) continue;
        const keep = Math.min(room, list.length);
        this.dropped += list.length - keep;
        list.length = keep;
        room -= keep;
      }
      this.keptTotal = this.signalLogCapacity;
    }
  }

  private drain(): void {
    this.dropped += this.kernel.outbox_dropped_signals();
    this.kernelLogLines += this.kernel.outbox_dropped_log();
    drainOutbox(this.kernel, (r) => {
      if (isLogRecord(r.type)) this.kernelLogLines++;
      if (r.type === Out.work) this.recovery.record(decodeWork(r), this.hostCosts[r.host]!.costs, this.hostCosts[r.host]!.hvo);
      if (r.type !== Out.signal) return;
      this.keepSignal({ host: r.host, pid: r.pid, code: r.arg & 0xffff, addr: BigInt(r.a), addrLsb: r.arg >>> 16 });
    });
  }

  /** Host `h`'s figures (h is the shard-local host number). */
  hostStats(h: number): HostStats {
    const c = (i: number) => this.kernel.host_counter(h, i);
    const byCode = {
      BUS_ADRERR: c(Counter.sigAdrerr),
      BUS_MCEERR_AR: c(Counter.sigAR),
      BUS_MCEERR_AO: c(Counter.sigAO),
      SI_KERNEL: c(Counter.sigKernel),
    };
    const accesses = c(Counter.accesses);
    return {
      accesses,
      ok: accesses - c(Counter.accessSignalled) - c(Counter.deadEvents) - c(Counter.badEvents),
      faultIns: c(Counter.faultIns),
      sigbus: byCode.BUS_ADRERR + byCode.BUS_MCEERR_AR + byCode.BUS_MCEERR_AO + byCode.SI_KERNEL,
      sigbusByCode: byCode,
      killed: c(Counter.killed),
      bytesLost: c(Counter.bytesLost),
      hugepagesLost: c(Counter.hugepagesLost),
      rawPagesPoisoned: c(Counter.hwCorruptedPages),
      pageTablePages: c(Counter.ptPages),
      dissolves: c(Counter.dissolves2M) + c(Counter.dissolves1G),
      vmemmapPagesRestored: this.hostCosts[h]!.hvo ? 7 * c(Counter.dissolves2M) + 4095 * c(Counter.dissolves1G) : 0,
      repeatedConsumption: c(Counter.repeatMce),
      refcountUnderflows: c(Counter.refcountUnderflows),
      translation: {
        accesses: c(Counter.tlbAccesses),
        l1Misses: c(Counter.tlbL1Misses),
        walks: c(Counter.tlbWalks),
        walkRefs: c(Counter.tlbWalkRefs),
        walkCycles: c(Counter.tlbWalkCycles),
      },
      buddyPagesReturned: c(Counter.buddyPages),
      deadProcessEvents: c(Counter.deadEvents),
      unmappedEvents: c(Counter.badEvents),
      memoryFailure: {
        total: c(Counter.mfTotal),
        ignored: c(Counter.mfIgnored),
        failed: c(Counter.mfFailed),
        delayed: c(Counter.mfDelayed),
        recovered: c(Counter.mfRecovered),
      },
      pools: {
        '2M': { nr: c(Counter.nr2M), free: c(Counter.free2M) },
        '1G': { nr: c(Counter.nr1G), free: c(Counter.free1G) },
      },
      thp: { total: c(Counter.thpTotal), free: c(Counter.thpFree), split: c(Counter.thpSplit) },
    };
  }

  /** Turns the translation cost model on for every later replayed access. */
  enableTranslationModel(config: TlbConfig = {}): Required<TlbConfig> {
    return configureTlb(this.kernel, config);
  }

  /**
   * The kernel instance (benchmarks read its memory directly).
   * @internal
   */
  get kernelExports(): KernelExports {
    return this.kernel;
  }

  /** Bytes of linear memory the kernel has handed out (all hosts of the shard). */
  heapBytes(): number {
    return this.kernel.heap_used();
  }
}

/** Adds per-host stats field by field (the fleet total is the sum of its hosts). */
export function sumStats(all: readonly HostStats[]): HostStats {
  const zero = (): HostStats => ({
    accesses: 0, ok: 0, faultIns: 0, sigbus: 0,
    sigbusByCode: { BUS_ADRERR: 0, BUS_MCEERR_AR: 0, BUS_MCEERR_AO: 0, SI_KERNEL: 0 },
    killed: 0, bytesLost: 0, hugepagesLost: 0, rawPagesPoisoned: 0, pageTablePages: 0,
    translation: { accesses: 0, l1Misses: 0, walks: 0, walkRefs: 0, walkCycles: 0 }, buddyPagesReturned: 0,
    dissolves: 0, vmemmapPagesRestored: 0, repeatedConsumption: 0, refcountUnderflows: 0, deadProcessEvents: 0,
    unmappedEvents: 0, memoryFailure: { total: 0, ignored: 0, failed: 0, delayed: 0, recovered: 0 },
    pools: { '2M': { nr: 0, free: 0 }, '1G': { nr: 0, free: 0 } },
    thp: { total: 0, free: 0, split: 0 },
  });
  const add = (into: Record<string, unknown>, from: Record<string, unknown>): void => {
    for (const key of Object.keys(from)) {
      const v = from[key];
      if (typeof v === 'number') into[key] = (into[key] as number) + v;
      else add(into[key] as Record<string, unknown>, v as Record<string, unknown>);
    }
  };
  const total = zero();
  for (const s of all) add(total as unknown as Record<string, unknown>, s as unknown as Record<string, unknown>);
  return total;
}
