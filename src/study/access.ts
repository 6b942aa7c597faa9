// The study's guest access model: each VM touches a working set of 2 MiB chunks of its
// memory, scattered over it as guest pages are; a hot part of the set takes most of the
// accesses. Streams are keyed by (seed, fleet host), so every policy replays the same
// accesses and a host's accesses never depend on its shard. Accesses are drawn as guest
// offsets of the host's VMs, so one draw serves every run the host takes part in.
import { streamRng, uniform, uniformInt, type Rng } from '../errors/rng.js';
import type { AccessModel } from './scenario.js';

const CHUNK_BYTES = 2 ** 21;
const LINE_BYTES = 64;
const LINES_PER_CHUNK = CHUNK_BYTES / LINE_BYTES;
const STREAM_WORKING_SET = 0x57d1;
const STREAM_ACCESS = 0x57d2;

/** Drawn accesses: the VM (its index among the host's), the guest offset, load or store. */
export interface GuestAccesses {
  vm: Uint32Array;
  offset: Float64Array;
  write: Uint8Array;
}

interface VmSampler {
  /** Working-set chunk numbers; the first `hot` of them are the hot part. */
  chunks: Uint32Array;
  hot: number;
  hotShare: number;
  writeFraction: number;
}

/** A random `count` of the chunks 0..total-1 (partial Fisher-Yates). */
function pickChunks(rng: Rng, total: number, count: number): Uint32Array {
  const all = new Uint32Array(total);
  for (let i = 0; i < total; i++) all[i] = i;
  for (let i = 0; i < count; i++) {
    const j = i + uniformInt(rng, total - i);
    const t = all[i]!;
    all[i] = all[j]!;
    all[j] = t;
  }
  return all.slice(0, count);
}

/** One host's access stream: its VMs' accesses, interleaved in proportion to their rates. */
export class HostAccessStream {
  /** Accesses per step, all VMs together. */
  readonly perStep: number;
  private readonly vms: VmSampler[];
  /** Cumulative accesses per step up to and including each VM. */
  private readonly cumulative: number[];
  private readonly rng: Rng;

  /** `vms`: each VM's guest memory size and access model, in the host's order. */
  constructor(vms: readonly { size: number; model: AccessModel }[], seed: number, fleetHost: number) {
    this.vms = vms.map(({ size, model }, i) => {
      const total = Math.max(1, Math.floor(size / CHUNK_BYTES));
      const count = Math.max(1, Math.round(model.workingSet * total));
      const chunks = pickChunks(streamRng(seed, STREAM_WORKING_SET, fleetHost, i), total, count);
      const hot = Math.max(1, Math.round(model.hotFraction * count));
      return { chunks, hot, hotShare: model.hotShare, writeFraction: model.writeFraction };
    });
    let sum = 0;
    this.cumulative = vms.map(({ model }) => (sum += model.accessesPerStep));
    this.perStep = sum;
    this.rng = streamRng(seed, STREAM_ACCESS, fleetHost);
  }

  /** Writes the next `n` accesses into `out` at [0, n). */
  fill(out: GuestAccesses, n: number): void {
    const rng = this.rng;
    for (let i = 0; i < n; i++) {
      const pick = uniformInt(rng, this.perStep);
      let v = 0;
      while (this.cumulative[v]! <= pick) v++;
      const vm = this.vms[v]!;
      const cold = vm.chunks.length - vm.hot;
      const chunk = cold > 0 && uniform(rng) >= vm.hotShare
        ? vm.chunks[vm.hot + uniformInt(rng, cold)]!
        : vm.chunks[uniformInt(rng, vm.hot)]!;
      out.vm[i] = v;
      out.offset[i] = chunk * CHUNK_BYTES + uniformInt(rng, LINES_PER_CHUNK) * LINE_BYTES;
      out.write[i] = uniform(rng) < vm.writeFraction ? 1 : 0;
    }
  }
}
