// Replay throughput on fleets of 1M hugepages (2 MiB: 2 TiB; 1 GiB: 1 PiB), 1% of them
// poisoned, for random, sequential and all-hits-on-poisoned access patterns, each against
// the native baseline (bench/native/replay.c) on the same bytes; the reference model; the
// translation model; worker scaling from 1 to 2. (Bytes per hugepage: bench/memory.bench.ts.)
import { FleetShard, REPLAY_BATCH, type HostSpec } from '../src/fleet/shard.js';
import { runFleet } from '../src/fleet/pool.js';
import { MAP_SHARED, MFD_HUGETLB, MFD_HUGE_2MB, MFD_MF_KEEP_UE_MAPPED, PROT_READ, PROT_WRITE } from '../src/host/constants.js';
import { poisonHost } from '../src/fleet/workload.js';
import { RefHost } from '../test/reference/model.js';
import { measure, median } from './stats.js';
import { dumpMemory, nativeReplay, runNative } from './native.js';

export const HUGEPAGES = 1 << 20;
export const SEED = 2026;

export interface FleetShape {
  name: string;
  hosts: number;
  vmsPerHost: number;
  hugepage: '2M' | '1G';
}

export const SHAPES: FleetShape[] = [
  { name: '2M x 1M (2 TiB)', hosts: 64, vmsPerHost: 8, hugepage: '2M' },
  { name: '1G x 1M (1 PiB)', hosts: 1024, vmsPerHost: 1, hugepage: '1G' },
];

export function hostSpecs(shape: FleetShape): HostSpec[] {
  const perHost = HUGEPAGES / shape.hosts;
  const shift = shape.hugepage === '2M' ? 21 : 30;
  const vmMemory = (perHost / shape.vmsPerHost) * 2 ** shift;
  return Array.from({ length: shape.hosts }, () => ({
    hugepages: { [shape.hugepage]: perHost },
    vms: Array.from({ length: shape.vmsPerHost }, () => ({ memory: vmMemory, hugepage: shape.hugepage, policy: 'keep' as const })),
  }));
}

/** A deterministic 32-bit generator for the event buffers (not part of what is timed). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

type Pattern = 'random' | 'sequential' | 'poisoned';

/** A hugepage with a poisoned raw page: its VM, its offset there, and the raw page's offset. */
interface PoisonedPage { vm: number; offset: number; raw: number }

/** Fills the shard's access columns with one batch of the pattern. */
function fillPattern(shard: FleetShard, pattern: Pattern, poisonedPages: PoisonedPage[]): void {
  const cols = shard.accessColumns();
  const rnd = lcg(SEED);
  const vms = shard.vms;
  for (let i = 0; i < REPLAY_BATCH; i++) {
    let vm = vms[0]!;
    let offset = i * 64;
    if (pattern === 'random') {
      vm = vms[Math.floor(rnd() * vms.length)]!;
      offset = Math.floor((rnd() * vm.size) / 64) * 64;
    } else if (pattern === 'poisoned') {
      // Anywhere in the hugepage but its poisoned raw page: every event is a bitmap test
      // that passes, the same work for the kernel's loop and the native one.
      const hit = poisonedPages[Math.floor(rnd() * poisonedPages.length)]!;
      vm = vms[hit.vm]!;
      do offset = hit.offset + Math.floor((rnd() * 2 ** vm.hugepageShift) / 64) * 64;
      while (Math.floor(offset / 4096) * 4096 === hit.raw);
    }
    cols.proc[i] = vm.proc;
    cols.va[i] = vm.base + offset;
    cols.write[i] = rnd() < 0.3 ? 1 : 0;
  }
}

/** Alternating rounds of the kernel's loop and the native one; each round times REPS batches. */
const ROUNDS = 7;
const REPS = 5;

/**
 * The batch in the shard's columns replayed by the kernel and by the native baseline over a
 * dump of the same memory, alternately: ns per event of each (medians over the rounds) and
 * the median of the rounds' ratios. The two loops' fast-path and slow-path counts must agree.
 */
function compareWithNative(shard: FleetShard, exe: string | null, name: string): Record<string, unknown> {
  const k = shard.kernelExports;
  const timeWasm = (): number => {
    const ns: number[] = [];
    for (let r = 0; r < REPS; r++) {
      const t = process.hrtime.bigint();
      shard.replayAccesses(REPLAY_BATCH);
      ns.push(Number(process.hrtime.bigint() - t) / REPLAY_BATCH);
    }
    return median(ns);
  };
  timeWasm(); // warm-up: the code tiers up, and any state the batch changes settles
  const slow = k.replay_slow_events();
  const counts = { fast: REPLAY_BATCH - slow, slow };
  const wasm: number[] = [];
  if (!exe) {
    for (let r = 0; r < ROUNDS; r++) wasm.push(timeWasm());
    return { wasmNsPerEvent: median(wasm), wasmEventsPerSecond: 1e9 / median(wasm), ...counts };
  }
  const dump = dumpMemory(k, name);
  const check = runNative(exe, dump, REPLAY_BATCH, 1);
  if (check.fast !== counts.fast || check.slow !== counts.slow) {
    throw new Error(`${name}: the native baseline took ${check.fast} fast / ${check.slow} slow events, the kernel ${counts.fast} / ${counts.slow}`);
  }
  const native: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate which goes first, so that neither always runs on a machine the other warmed.
    const timeNative = (): number => runNative(exe, dump, REPLAY_BATCH, REPS).nsPerEvent;
    let w: number;
    let c: number;
    if (r % 2 === 0) {
      w = timeWasm();
      c = timeNative();
    } else {
      c = timeNative();
      w = timeWasm();
    }
    wasm.push(w);
    native.push(c);
    ratios.push(w / c);
  }
  const result = {
    wasmNsPerEvent: median(wasm), nativeNsPerEvent: median(native), wasmOverNative: median(ratios),
    wasmEventsPerSecond: 1e9 / median(wasm), ...counts,
  };
  process.stderr.write(`  ${name}: wasm ${result.wasmNsPerEvent.toFixed(2)} ns/event, C ${result.nativeNsPerEvent.toFixed(2)}, ratio ${result.wasmOverNative.toFixed(2)} (${counts.fast} fast, ${counts.slow} slow)\n`);
  return result;
}

export async function benchShape(shape: FleetShape): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  const shard = FleetShard.create(hostSpecs(shape));
  const bootSeconds = (performance.now() - t0) / 1000;
  const poisonedPages: PoisonedPage[] = [];
  for (let h = 0; h < shape.hosts; h++) {
    const byVm = poisonHost(shard, h, h, SEED, { fraction: 0.01 });
    for (const [vm, offsets] of byVm) {
      const index = shard.vms.indexOf(vm);
      const H = 2 ** vm.hugepageShift;
      for (const off of offsets) poisonedPages.push({ vm: index, offset: Math.floor(off / H) * H, raw: Math.floor(off / 4096) * 4096 });
    }
  }
  const exe = nativeReplay();
  const patterns: Record<string, unknown> = {};
  for (const pattern of ['random', 'sequential', 'poisoned'] as Pattern[]) {
    fillPattern(shard, pattern, poisonedPages);
    patterns[pattern] = compareWithNative(shard, exe, `${shape.hugepage}-${pattern}`);
  }
  // The translation cost model on the random pattern: the same replay with the TLB on.
  fillPattern(shard, 'random', poisonedPages);
  shard.enableTranslationModel({ nestedLevels: 4 });
  const withTlb = await measure({ wasm: () => shard.replayAccesses(REPLAY_BATCH) }, { time: 1500, iterations: 20 });
  return {
    hosts: shape.hosts,
    vms: shard.vms.length,
    translationModelEventsPerSecond: REPLAY_BATCH / (withTlb.wasm!.p50 * 1e-9),
    hugepages: HUGEPAGES,
    bootSeconds,
    poisonedRawPages: poisonedPages.length,
    patterns,
  };
}

/** The reference model on one host of the 2 MiB fleet's shape, event by event through its API. */
async function benchReference(): Promise<number> {
  const H = 2 ** 21;
  const perHost = HUGEPAGES / 64;
  const host = RefHost.create({ hugepages: { '2M': perHost } });
  const p = host.spawn({ capSysAdmin: true, handlesSigbus: true });
  const vmSize = (perHost / 8) * H;
  const maps: bigint[] = [];
  for (let v = 0; v < 8; v++) {
    const fd = p.memfdCreate(`vm${v}`, MFD_HUGETLB | MFD_HUGE_2MB | MFD_MF_KEEP_UE_MAPPED);
    p.ftruncate(fd, vmSize);
    const map = p.mmap(0, vmSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    p.write(map, vmSize);
    maps.push(map);
  }
  const rnd = lcg(SEED);
  const events = Array.from({ length: 20_000 }, () => ({
    addr: maps[Math.floor(rnd() * 8)]! + BigInt(Math.floor((rnd() * vmSize) / 64) * 64),
    write: rnd() < 0.3,
  }));
  const rates: number[] = [];
  for (let rep = 0; rep < 5; rep++) {
    const t = performance.now();
    for (const e of events) (e.write ? p.write(e.addr, 1) : p.read(e.addr, 1));
    rates.push(events.length / ((performance.now() - t) / 1000));
  }
  return median(rates);
}

/** The same fleet run end to end (boot, poison, generate, replay) on 1 and on 2 workers. */
async function benchScaling(): Promise<Record<string, unknown>> {
  const hosts: HostSpec[] = Array.from({ length: 8 }, () => ({
    hugepages: { '2M': 8192 },
    vms: [{ memory: 8 * 2 ** 30, hugepage: '2M' as const, policy: 'keep' as const }, { memory: 8 * 2 ** 30, hugepage: '2M' as const, policy: 'default' as const }],
  }));
  const run = (workers: number) => runFleet({ hosts, seed: SEED, workers, poison: { fraction: 0.01 }, workload: { pattern: 'random', accessesPerHost: 4_000_000 } });
  const one: number[] = [];
  const two: number[] = [];
  for (let rep = 0; rep < 3; rep++) {
    one.push((await run(1)).wallSeconds);
    two.push((await run(2)).wallSeconds);
  }
  return { accesses: 8 * 4_000_000, oneWorkerSeconds: median(one), twoWorkerSeconds: median(two), speedup: median(one) / median(two) };
}

export async function benchReplay(): Promise<Record<string, unknown>> {
  const fleets: Record<string, unknown> = {};
  for (const shape of SHAPES) fleets[shape.name] = await benchShape(shape);
  const referenceEventsPerSecond = await benchReference();
  const random2M = (fleets[SHAPES[0]!.name] as { patterns: Record<string, { wasmEventsPerSecond: number }> }).patterns.random!;
  return {
    fleets,
    referenceEventsPerSecond,
    wasmOverReference: random2M.wasmEventsPerSecond / referenceEventsPerSecond,
    workerScaling: await benchScaling(),
    targets: {
      randomWasmOverNative: 1.15, poisonedWasmOverNative: 1.15, poisoned1GWasmOverNative: 1.5, sequentialEventsPerSecond: 600e6,
      wasmOverReference: 50, twoWorkerSpeedup: 1.6,
    },
  };
}
