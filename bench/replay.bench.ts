// Replay throughput on fleets of 1M hugepages (2 MiB: 2 TiB; 1 GiB: 1 PiB), 1% of them
// poisoned, for random, sequential and all-hits-on-poisoned access patterns; the same
// walk by a plain TypeScript loop over typed arrays and by the reference model; bytes of
// linear memory per hugepage; worker scaling from 1 to 2.
import { FleetShard, REPLAY_BATCH, type HostSpec } from '../src/fleet/shard.js';
import { runFleet } from '../src/fleet/pool.js';
import { MAP_SHARED, MFD_HUGETLB, MFD_HUGE_2MB, MFD_MF_KEEP_UE_MAPPED, PROT_READ, PROT_WRITE } from '../src/host/constants.js';
import { poisonHost } from '../src/fleet/workload.js';
import { RefHost } from '../test/reference/model.js';
import { measure, median } from './stats.js';

const HUGEPAGES = 1 << 20;
const SEED = 2026;

interface FleetShape {
  name: string;
  hosts: number;
  vmsPerHost: number;
  hugepage: '2M' | '1G';
}

const SHAPES: FleetShape[] = [
  { name: '2M x 1M (2 TiB)', hosts: 64, vmsPerHost: 8, hugepage: '2M' },
  { name: '1G x 1M (1 PiB)', hosts: 1024, vmsPerHost: 1, hugepage: '1G' },
];

function hostSpecs(shape: FleetShape): HostSpec[] {
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

/** Fills the shard's access columns with one batch of the pattern. */
function fillPattern(shard: FleetShard, pattern: Pattern, poisonedPages: { vm: number; offset: number }[]): void {
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
      const hit = poisonedPages[Math.floor(rnd() * poisonedPages.length)]!;
      vm = vms[hit.vm]!;
      offset = hit.offset + Math.floor((rnd() * 2 ** vm.hugepageShift) / 64) * 64;
    }
    cols.proc[i] = vm.proc;
    cols.va[i] = vm.base + offset;
    cols.write[i] = rnd() < 0.3 ? 1 : 0;
  }
}

/**
 * The replay fast path as a plain TypeScript loop over typed-array views of the same page
 * tables: the last clean leaf remembered, else walk, check present / writable / poisoned
 * mark. Events that would take the slow path are counted, not handled. Returns the
 * fast-path hits (so the work is not dead code).
 */
function typedArrayReplay(shard: FleetShard, pgdOf: Uint32Array): number {
  const k = shard.kernelExports;
  const mem = new Uint32Array(k.memory.buffer);
  const proc = new Uint32Array(k.memory.buffer, k.replay_access_proc(), REPLAY_BATCH);
  const va = new Float64Array(k.memory.buffer, k.replay_access_va(), REPLAY_BATCH);
  const write = new Uint8Array(k.memory.buffer, k.replay_access_write(), REPLAY_BATCH);
  let ok = 0;
  let lastProc = -1;
  let lastPage = -1;
  let lastSize = 1;
  let lastWritable = false;
  for (let i = 0; i < REPLAY_BATCH; i++) {
    const v = va[i]!;
    const p = proc[i]!;
    const w = write[i]!;
    if (p === lastProc && Math.floor(v / lastSize) === lastPage && (lastWritable || !w)) {
      ok++;
      continue;
    }
    // Entries are u64; table addresses and every flag we test sit in the low word.
    const top = mem[(pgdOf[p]! >>> 2) + (((v / 2 ** 39) & 511) << 1)]!;
    if ((top & 1) === 0) continue;
    const pud = mem[((top & 0xfffff000) >>> 2) + (((v / 2 ** 30) & 511) << 1)]!;
    const atPud = (pud & 0x81) !== 1;
    const e = atPud ? pud : mem[((pud & 0xfffff000) >>> 2) + (((v / 2 ** 21) & 511) << 1)]!;
    const need = w ? 3 : 1;
    if ((e & (need | 0x400)) === need) {
      ok++;
      lastProc = p;
      lastSize = atPud ? 2 ** 30 : 2 ** 21;
      lastPage = Math.floor(v / lastSize);
      lastWritable = (e & 2) !== 0;
    }
  }
  return ok;
}

async function benchShape(shape: FleetShape): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  const shard = FleetShard.create(hostSpecs(shape));
  const bootSeconds = (performance.now() - t0) / 1000;
  const healthyBytes = shard.heapBytes();
  const poisonedPages: { vm: number; offset: number }[] = [];
  let poisonedHugepages = 0;
  for (let h = 0; h < shape.hosts; h++) {
    const byVm = poisonHost(shard, h, h, SEED, { fraction: 0.01 });
    for (const [vm, offsets] of byVm) {
      const index = shard.vms.indexOf(vm);
      const H = 2 ** vm.hugepageShift;
      for (const off of offsets) poisonedPages.push({ vm: index, offset: Math.floor(off / H) * H });
      poisonedHugepages += new Set(offsets.map((off) => Math.floor(off / H))).size;
    }
  }
  const poisonedBytes = shard.heapBytes() - healthyBytes;
  const pgdOf = new Uint32Array(shard.vms.length ? Math.max(...shard.vms.map((v) => v.proc)) + 1 : 0);
  for (const vm of shard.vms) pgdOf[vm.proc] = shard.kernelExports.proc_pgd(vm.proc);

  const patterns: Record<string, unknown> = {};
  for (const pattern of ['random', 'sequential', 'poisoned'] as Pattern[]) {
    fillPattern(shard, pattern, poisonedPages);
    // The typed-array loop has no poison bitmaps to consult, so it is not the same work on
    // the all-hits-on-poisoned pattern: there only the wasm replay is timed.
    const comparable = pattern !== 'poisoned';
    let sink = 0;
    const lat = await measure({
      wasm: () => shard.replayAccesses(REPLAY_BATCH),
      ...(comparable ? { typedArrayLoop: () => (sink += typedArrayReplay(shard, pgdOf)) } : {}),
    }, { time: 1500, iterations: 20 });
    const wasmEventsPerSecond = REPLAY_BATCH / (lat.wasm!.p50 * 1e-9);
    patterns[pattern] = comparable
      ? {
        wasmEventsPerSecond,
        typedArrayEventsPerSecond: REPLAY_BATCH / (lat.typedArrayLoop!.p50 * 1e-9),
        wasmOverTypedArray: lat.typedArrayLoop!.p50 / lat.wasm!.p50,
        typedArrayFastPathHits: sink,
      }
      : { wasmEventsPerSecond };
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
    bytesPerHealthyHugepage: healthyBytes / HUGEPAGES,
    bytesPerPoisonedHugepage: poisonedBytes / poisonedHugepages,
    poisonedHugepages,
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
      randomEventsPerSecond: 250e6, sequentialEventsPerSecond: 500e6, wasmOverTypedArray: 2.5, wasmOverReference: 50,
      bytesPer2MHugepage: 12, bytesPerHealthy1GHugepage: 16, bytesPerPoisoned1GHugepage: 4096, twoWorkerSpeedup: 1.6,
    },
  };
}
