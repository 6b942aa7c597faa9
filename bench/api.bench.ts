// Single-call latency through the Host API (wasm kernel) against the reference model:
// 4 KiB read and write, MADV_HWPOISON and injectUE, each on a fresh raw page where the call
// poisons one. Both run the same scene: a KEEP memfd of 4 x 1 GiB, fully faulted in.
import {
  MADV_HWPOISON, MAP_SHARED, MFD_HUGETLB, MFD_HUGE_1GB, MFD_MF_KEEP_UE_MAPPED, PROT_READ, PROT_WRITE,
} from '../src/host/constants.js';
import { Host } from '../src/host/host.js';
import type { SimHost } from '../src/host/types.js';
import { RefHost } from '../test/reference/model.js';
import { measure, type Latency } from './stats.js';

const GiB = 2 ** 30;
const PAGES = (4 * GiB) / 4096;

async function scene(host: SimHost) {
  const p = host.spawn({ capSysAdmin: true, handlesSigbus: true });
  const fd = p.memfdCreate('guest', MFD_HUGETLB | MFD_HUGE_1GB | MFD_MF_KEEP_UE_MAPPED);
  p.ftruncate(fd, 4 * GiB);
  const map = p.mmap(0, 4 * GiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  p.write(map, 4 * GiB);
  const phys = p.translate(map)!;
  return { p, map, phys };
}

async function latencies(create: () => Promise<SimHost>): Promise<Record<string, Latency>> {
  const host = await create();
  const { p, map, phys } = await scene(host);
  let r = 0;
  let m = 0;
  let u = 0;
  // madvise walks raw pages upwards from the start, injectUE downwards from the end, so no
  // call meets a page another already poisoned; reads and writes avoid both ranges' pages.
  return measure({
    'read 4 KiB': () => p.read(map + BigInt(((r = (r + 7919) % (PAGES / 2)) + PAGES / 4) * 4096), 4096),
    'write 4 KiB': () => p.write(map + BigInt(((r = (r + 7919) % (PAGES / 2)) + PAGES / 4) * 4096), 4096),
    'madvise(MADV_HWPOISON)': () => p.madvise(map + BigInt(m++ * 4096), 4096, MADV_HWPOISON),
    injectUE: () => host.injectUE(phys + BigInt((PAGES - 1 - u++) * 4096)),
  }, { time: 400 });
}

export async function benchApi(): Promise<Record<string, unknown>> {
  const kernel = await latencies(() => Host.create({ hugepages: { '1G': 4 } }));
  const reference = await latencies(() => Promise.resolve(RefHost.create({ hugepages: { '1G': 4 } })));
  const speedup = Object.fromEntries(Object.keys(kernel).map((k) => [k, reference[k]!.p50 / kernel[k]!.p50]));
  return { unit: 'ns per call', kernel, reference, referenceOverKernelP50: speedup, targetP50Ns: 1000 };
}
