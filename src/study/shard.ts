// One shard of a study: a range of hosts under every run that simulates them (the error-free
// baselines and the policies). Each run boots the range's hosts in its own kernel instance;
// then each host is walked through the study's steps once: a step's sampled accesses are
// drawn once and replayed under every run, with the run's UEs applied in time order between
// them (accesses spread evenly over the step), and each run samples the host's losses at the
// step's end. Runs in a worker thread (src/study/worker.ts) or inline; per-host figures do
// not depend on the shard, since every host has its own kernel state, TLBs and random
// streams.
import { FLAG_SCRUB } from '../errors/batch.js';
import { FleetShard, REPLAY_BATCH, hostSeed, type HostSpec, type HostStats, type VmHandle, type VmStats } from '../fleet/shard.js';
import { ErrFlag } from '../kernel/kernel.js';
import type { RecoveryTally } from '../costs/recovery-cost.js';
import type { TlbConfig } from '../costs/translation.js';
import { HostAccessStream, type GuestAccesses } from './access.js';
import type { StudyUes } from './error-stream.js';
import type { AccessModel } from './scenario.js';

/** One run over the shard's hosts. */
export interface ShardRun {
  /** Index of the run (policy or baseline). */
  run: number;
  /** Every host of the run boots as this one. */
  host: HostSpec;
  /** The run's UEs on the shard's hosts (fleet host numbers), ordered by host and time, all before the study's end. */
  ues: StudyUes;
  /**
   * Simulate only the hosts that UEs hit: the others run exactly as in the error-free
   * baseline of the run's backing, which the caller reuses for them.
   */
  onlyHostsWithUes: boolean;
}

export interface StudyShardTask {
  /** The replicate the shard belongs to (its seed is the replicate's). */
  replicate: number;
  firstHost: number;
  hostCount: number;
  runs: ShardRun[];
  /** The access model of each VM of a host, in host.vms order (the same under every run). */
  access: AccessModel[];
  seed: number;
  steps: number;
  stepSeconds: number;
  translation: TlbConfig;
  releaseAtEnd: boolean;
}

/** Fleet figures sampled at the end of every step. */
export const SERIES_FIELDS = ['bytesLost', 'hugepagesLost', 'rawPagesPoisoned', 'sigbus', 'killed'] as const;
/** Per series field, the fleet's figure at the end of each step. */
export type StepSeries = Record<(typeof SERIES_FIELDS)[number], number[]>;

/** What one run did on the hosts of the shard it simulated. */
export interface ShardRunResult {
  run: number;
  /** Fleet numbers of the hosts simulated, ascending. */
  hosts: number[];
  /** Per simulated host, its figures at the end of the study (after the release, when there is one). */
  stats: HostStats[];
  /** Per simulated host, each VM's own figures at the end of the study, before the release. */
  vms: VmStats[][];
  /** Per simulated host, SERIES_FIELDS at the end of every step (field-major: field * steps + step). */
  series: Float64Array[];
  recovery: ReturnType<RecoveryTally['encode']>;
  /** UEs replayed, and those the kernel handled (the rest fell outside the pools). */
  uesReplayed: number;
  uesHandled: number;
  /** Per simulated host, FNV-1a over the UEs it replayed, in order: equal digests, equal streams. */
  ueDigests: number[];
}

/** Where a shard's time went, in seconds (for the benchmarks' breakdown; reports ignore it). */
export interface ShardTiming {
  /** Booting the hosts and pre-faulting their VMs' memory, every run. */
  boot: number;
  /** Drawing the sampled accesses (once per host and step, for every run). */
  accessDraw: number;
  /** Replaying the sampled accesses (the kernel's loop and the translation model), every run. */
  accessReplay: number;
  /** Replaying the UEs (memory_failure and the policies). */
  ueReplay: number;
  /** Reading the figures at each step's end and at the study's end. */
  sampling: number;
  /** Every VMM's exit at the end (releaseAtEnd). */
  release: number;
  /** The whole shard. */
  total: number;
  /** When the shard finished (performance.timeOrigin + performance.now(), ms): the worker transfer ends at its receipt. */
  finishedAt: number;
}

export interface StudyShardResult {
  replicate: number;
  firstHost: number;
  hostCount: number;
  runs: ShardRunResult[];
  timing: ShardTiming;
}

/** A run's kernel and what it has done so far. */
interface RunState {
  task: ShardRun;
  shard: FleetShard;
  /** Shard-local host number of each fleet host of the range, -1 where not simulated. */
  local: Int32Array;
  result: ShardRunResult;
  /** The run's next UE. */
  next: number;
}

const now = () => performance.now() / 1000;

export function runStudyShard(task: StudyShardTask): StudyShardResult {
  const started = now();
  const timing: ShardTiming = { boot: 0, accessDraw: 0, accessReplay: 0, ueReplay: 0, sampling: 0, release: 0, total: 0, finishedAt: 0 };
  const { steps } = task;
  const runs = task.runs.map((r) => bootRun(task, r));
  timing.boot = now() - started;
  const perStep = task.access.reduce((n, a) => n + a.accessesPerStep, 0);
  const drawn: GuestAccesses = { vm: new Uint32Array(perStep), offset: new Float64Array(perStep), write: new Uint8Array(perStep) };

  for (let i = 0; i < task.hostCount; i++) {
    const fleetHost = task.firstHost + i;
    const active = runs.filter((r) => r.local[i]! >= 0);
    if (active.length === 0) continue;
    const handles = active.map((r) => r.shard.vms.filter((vm) => vm.host === r.local[i]));
    // One draw serves every run: the VMs have the same sizes under each (memory is a
    // multiple of the hugepage size, and THP folios divide every hugepage size).
    const sizes = handles[0]!.map((vm) => vm.size).join();
    if (handles.some((h) => h.map((vm) => vm.size).join() !== sizes)) throw new Error('mfrsim: a study host\'s VMs differ in size between runs');
    const stream = new HostAccessStream(handles[0]!.map((vm, v) => ({ size: vm.size, model: task.access[v]! })), task.seed, fleetHost);
    const digests = active.map(() => new Fnv1a());
    const series = active.map(() => new Float64Array(SERIES_FIELDS.length * steps));
    for (let step = 0; step < steps; step++) {
      let t = now();
      stream.fill(drawn, perStep);
      timing.accessDraw += now() - t;
      active.forEach((r, k) => replayStep(r, i, fleetHost, step, handles[k]!, drawn, digests[k]!, task, timing));
      t = now();
      active.forEach((r, k) => {
        const s = r.shard.hostStats(r.local[i]!);
        SERIES_FIELDS.forEach((f, j) => (series[k]![j * steps + step] = s[f]));
      });
      timing.sampling += now() - t;
    }
    let t = now();
    const vmStats = active.map((r, k) => handles[k]!.map((vm) => r.shard.vmStats(vm)));
    timing.sampling += now() - t;
    t = now();
    if (task.releaseAtEnd) active.forEach((r, k) => handles[k]!.forEach((vm) => r.shard.exitVm(vm)));
    timing.release += now() - t;
    t = now();
    active.forEach((r, k) => {
      r.result.hosts.push(fleetHost);
      r.result.stats.push(r.shard.hostStats(r.local[i]!));
      r.result.vms.push(vmStats[k]!);
      r.result.series.push(series[k]!);
      r.result.ueDigests.push(digests[k]!.value);
      r.result.uesReplayed += digests[k]!.count;
    });
    timing.sampling += now() - t;
  }
  for (const r of runs) r.result.recovery = r.shard.recovery.encode();
  timing.total = now() - started;
  timing.finishedAt = performance.timeOrigin + performance.now();
  return { replicate: task.replicate, firstHost: task.firstHost, hostCount: task.hostCount, runs: runs.map((r) => r.result), timing };
}

/** Boots the hosts of the range that the run simulates. */
function bootRun(task: StudyShardTask, run: ShardRun): RunState {
  const local = new Int32Array(task.hostCount).fill(-1);
  const hosts: HostSpec[] = [];
  let u = 0;
  for (let i = 0; i < task.hostCount; i++) {
    const fleetHost = task.firstHost + i;
    while (u < run.ues.length && run.ues.host[u]! < fleetHost) u++;
    const hit = u < run.ues.length && run.ues.host[u] === fleetHost;
    if (run.onlyHostsWithUes && !hit) continue;
    local[i] = hosts.length;
    hosts.push({ ...run.host, seed: hostSeed(task.seed, fleetHost) });
  }
  const shard = FleetShard.create(hosts, { signalLogCapacity: 0 });
  shard.enableTranslationModel(task.translation);
  const result: ShardRunResult = { run: run.run, hosts: [], stats: [], vms: [], series: [], recovery: shard.recovery.encode(), uesReplayed: 0, uesHandled: 0, ueDigests: [] };
  return { task: run, shard, local, result, next: 0 };
}

/** One step of one host under one run: its UEs due in the step, between the step's accesses. */
function replayStep(
  r: RunState, i: number, fleetHost: number, step: number, vms: readonly VmHandle[], drawn: GuestAccesses,
  digest: Fnv1a, task: StudyShardTask, timing: ShardTiming,
): void {
  const { ues } = r.task;
  const { stepSeconds } = task;
  const perStep = drawn.vm.length;
  const local = r.local[i]!;
  // Accesses of a step happen at evenly spaced times; a UE comes before the accesses due after it.
  const accessesBefore = (time: number) =>
    Math.min(perStep, Math.max(0, Math.ceil(((time - step * stepSeconds) / stepSeconds) * perStep - 0.5)));
  const stepEnd = (step + 1) * stepSeconds;
  while (r.next < ues.length && ues.host[r.next]! < fleetHost) r.next++;
  const due = () => r.next < ues.length && ues.host[r.next] === fleetHost && ues.time[r.next]! < stepEnd;
  let done = 0;
  while (due()) {
    const at = accessesBefore(ues.time[r.next]!);
    replayAccesses(r.shard, vms, drawn, done, at, timing);
    done = at;
    const t = now();
    // The UEs due before the same access, in one call.
    const cols = r.shard.errorColumns();
    let n = 0;
    for (; n < REPLAY_BATCH && due() && accessesBefore(ues.time[r.next]!) === at; n++, r.next++) {
      cols.host[n] = local;
      cols.phys[n] = ues.phys[r.next]!;
      cols.flags[n] = ErrFlag.ue | ((ues.flags[r.next]! & FLAG_SCRUB) === 0 ? ErrFlag.consumed : 0);
      digest.add(fleetHost, ues.phys[r.next]!, ues.flags[r.next]!, ues.time[r.next]!);
    }
    r.result.uesHandled += r.shard.replayErrors(n);
    timing.ueReplay += now() - t;
  }
  replayAccesses(r.shard, vms, drawn, done, perStep, timing);
}

/** Replays drawn accesses [from, to) as the run's VMs' processes. */
function replayAccesses(shard: FleetShard, vms: readonly VmHandle[], drawn: GuestAccesses, from: number, to: number, timing: ShardTiming): void {
  const t = now();
  const proc = vms.map((vm) => vm.proc);
  const base = vms.map((vm) => vm.base);
  for (let at = from; at < to; ) {
    const n = Math.min(to - at, REPLAY_BATCH);
    const cols = shard.accessColumns();
    for (let j = 0; j < n; j++) {
      const v = drawn.vm[at + j]!;
      cols.proc[j] = proc[v]!;
      cols.va[j] = base[v]! + drawn.offset[at + j]!;
    }
    cols.write.set(drawn.write.subarray(at, at + n));
    shard.replayAccesses(n);
    at += n;
  }
  timing.accessReplay += now() - t;
}

/** 32-bit FNV-1a over numbers (as their float64 bytes). */
export class Fnv1a {
  value = 0x811c9dc5;
  count = 0;
  private readonly f64 = new Float64Array(1);
  private readonly bytes = new Uint8Array(this.f64.buffer);

  add(...xs: number[]): void {
    for (const x of xs) {
      this.f64[0] = x;
      for (const b of this.bytes) this.value = Math.imul(this.value ^ b, 0x01000193) >>> 0;
    }
    this.count++;
  }
}
