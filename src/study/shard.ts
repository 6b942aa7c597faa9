// One shard of one policy's run: boots a range of hosts in a kernel instance, then walks
// each host through the study's steps, applying its UEs in time order between the step's
// accesses (spread evenly over the step) and sampling its losses at every step's end. Runs
// in a worker thread (src/study/worker.ts) or inline; per-host figures do not depend on
// the shard, since every host has its own kernel state, TLBs and random streams.
import { FLAG_SCRUB } from '../errors/batch.js';
import { FleetShard, REPLAY_BATCH, hostSeed, type HostSpec, type HostStats } from '../fleet/shard.js';
import { ErrFlag } from '../kernel/kernel.js';
import type { RecoveryTally } from '../costs/recovery-cost.js';
import type { TlbConfig } from '../costs/translation.js';
import { HostAccessStream } from './access.js';
import type { StudyUes } from './error-stream.js';
import type { AccessModel } from './scenario.js';

export interface StudyShardTask {
  /** Index of the run (policy or baseline) the shard belongs to. */
  run: number;
  /** Every host of the shard boots as this one. */
  host: HostSpec;
  /** The access model of each VM of a host, in host.vms order. */
  access: AccessModel[];
  firstHost: number;
  hostCount: number;
  seed: number;
  steps: number;
  stepSeconds: number;
  /** The shard's UEs (fleet host numbers), ordered by host and time, all before the study's end. */
  ues: StudyUes;
  translation: TlbConfig;
  releaseAtEnd: boolean;
}

/** Fleet figures sampled at the end of every step (sums over the shard's hosts). */
export const SERIES_FIELDS = ['bytesLost', 'hugepagesLost', 'rawPagesPoisoned', 'sigbus', 'killed'] as const;
/** Per series field, the fleet's figure at the end of each step. */
export type StepSeries = Record<(typeof SERIES_FIELDS)[number], number[]>;

export interface StudyShardResult {
  run: number;
  firstHost: number;
  /** Per-host figures at the end of the study (after the release, when there is one). */
  hosts: HostStats[];
  series: StepSeries;
  recovery: ReturnType<RecoveryTally['encode']>;
  /** UEs replayed, and those the kernel handled (the rest fell outside the pools). */
  uesReplayed: number;
  uesHandled: number;
  /** Per host, FNV-1a over the UEs it replayed, in order: equal digests, equal streams. */
  ueDigests: number[];
}

export function runStudyShard(task: StudyShardTask): StudyShardResult {
  const hosts = Array.from({ length: task.hostCount }, (_, i) => ({ ...task.host, seed: hostSeed(task.seed, task.firstHost + i) }));
  const shard = FleetShard.create(hosts, { signalLogCapacity: 0 });
  shard.enableTranslationModel(task.translation);
  const series = Object.fromEntries(SERIES_FIELDS.map((f) => [f, new Array<number>(task.steps).fill(0)])) as StepSeries;
  const { ues } = task;
  const ueDigests: number[] = [];
  let next = 0;
  let uesReplayed = 0;
  let uesHandled = 0;

  for (let local = 0; local < task.hostCount; local++) {
    const fleetHost = task.firstHost + local;
    const vms = shard.vms.filter((vm) => vm.host === local);
    const stream = new HostAccessStream(vms.map((vm, i) => ({ vm, model: task.access[i]! })), task.seed, fleetHost);
    const perStep = stream.perStep;
    const digest = new Fnv1a();
    // Accesses of a step happen at evenly spaced times; a UE comes before the accesses due after it.
    const accessesBefore = (time: number, step: number) =>
      Math.min(perStep, Math.max(0, Math.ceil(((time - step * task.stepSeconds) / task.stepSeconds) * perStep - 0.5)));
    for (let step = 0; step < task.steps; step++) {
      const stepEnd = (step + 1) * task.stepSeconds;
      const due = () => next < ues.length && ues.host[next] === fleetHost && ues.time[next]! < stepEnd;
      let done = 0;
      while (due()) {
        const at = accessesBefore(ues.time[next]!, step);
        replayAccesses(shard, stream, at - done);
        done = at;
        // The UEs due before the same access, in one call.
        const cols = shard.errorColumns();
        let n = 0;
        for (; n < REPLAY_BATCH && due() && accessesBefore(ues.time[next]!, step) === at; n++, next++) {
          cols.host[n] = local;
          cols.phys[n] = ues.phys[next]!;
          cols.flags[n] = ErrFlag.ue | ((ues.flags[next]! & FLAG_SCRUB) === 0 ? ErrFlag.consumed : 0);
          digest.add(fleetHost, ues.phys[next]!, ues.flags[next]!, ues.time[next]!);
        }
        uesHandled += shard.replayErrors(n);
      }
      replayAccesses(shard, stream, perStep - done);
      const s = shard.hostStats(local);
      for (const f of SERIES_FIELDS) series[f][step]! += s[f];
    }
    if (task.releaseAtEnd) releaseVms(shard, vms.map((vm) => vm.proc));
    ueDigests.push(digest.value);
    uesReplayed += digest.count;
  }
  return {
    run: task.run,
    firstHost: task.firstHost,
    hosts: Array.from({ length: task.hostCount }, (_, h) => shard.hostStats(h)),
    series,
    recovery: shard.recovery.encode(),
    uesReplayed,
    uesHandled,
    ueDigests,
  };
}

function replayAccesses(shard: FleetShard, stream: HostAccessStream, count: number): void {
  for (let left = count; left > 0; ) {
    const n = Math.min(left, REPLAY_BATCH);
    stream.fill(shard.accessColumns(), n);
    shard.replayAccesses(n);
    left -= n;
  }
}

/** Every VMM that is still alive exits: its memfd is released, its hugepages freed, leaked or dissolved. */
function releaseVms(shard: FleetShard, procs: readonly number[]): void {
  for (const vm of shard.vms) if (procs.includes(vm.proc)) shard.exitVm(vm);
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
