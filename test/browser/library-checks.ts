// Library calls through the package's public entry points, run the same way in Node and,
// bundled for the browser, in Chromium: the single-host API (the README's example), a fleet
// on the calling thread, a generated error stream and a small study. Returns plain data, so
// the two runs can be compared figure for figure.
import { Host, MAP_SHARED, MFD_HUGETLB, MFD_HUGE_1GB, MFD_MF_KEEP_UE_MAPPED, PROT_READ, PROT_WRITE } from 'mfrsim';
import { runFleet, type HostSpec } from 'mfrsim/fleet';
import { FLAG_UE, generateErrorBatches } from 'mfrsim/errors';
import { buildReport, DEFAULT_SCENARIO, parseScenario, runStudy, type StudyReport } from 'mfrsim/study';

const GiB = 2 ** 30;

export interface LibraryResults {
  readme: { signals: string; read: unknown; stats: unknown; log: string };
  fleet: unknown;
  errors: { records: number; ues: number; hosts: number; lastTime: number };
  /** The study's report without its wall-clock figures. */
  study: Omit<StudyReport, 'wallSeconds' | 'hostYearsPerSecond'>;
}

/** `workers` is left out in the browser, to show that runs stay on the calling thread there by default. */
export async function libraryChecks(workers?: number): Promise<LibraryResults> {
  const host = await Host.create({ hugepages: { '1G': 4 } });
  const vmm = host.spawn({ name: 'qemu', mceKill: 'early' });
  const fd = vmm.memfdCreate('guest', MFD_HUGETLB | MFD_HUGE_1GB | MFD_MF_KEEP_UE_MAPPED);
  vmm.ftruncate(fd, 2n << 30n);
  const ram = vmm.mmap(0, 2n << 30n, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  vmm.write(ram, 2n << 30n);
  host.injectUE(vmm.translate(ram + 0x1234n)!, { consumer: vmm });
  const readme = {
    signals: JSON.stringify(vmm.signals.map((s) => ({ ...s, addr: `ram+0x${(s.addr - ram).toString(16)}` }))),
    read: vmm.read(ram + 0x2000n, 4096),
    stats: host.memoryFailureStats(),
    log: host.kernelLog()[0]!,
  };

  const hosts: HostSpec[] = Array.from({ length: 3 }, (_, i) => ({
    hugepages: { '2M': 600, '1G': 1 },
    vms: [
      { memory: GiB, hugepage: '2M', policy: 'keep' },
      { memory: GiB, hugepage: '1G', policy: i === 1 ? 'keep' : 'default', handlesSigbus: i !== 2 },
    ],
  }));
  const fleet = await runFleet({ hosts, seed: 9, poison: { fraction: 0.03 }, workload: { pattern: 'random', accessesPerHost: 20_000 }, workers });
  const { wallSeconds: _wall, ...fleetFigures } = fleet;

  const errors = { records: 0, ues: 0, hosts: 0, lastTime: 0 };
  const hostsSeen = new Set<number>();
  for (const b of generateErrorBatches({ hosts: 300, years: 2, mode: 'incident', seed: 5 })) {
    errors.records += b.length;
    for (let i = 0; i < b.length; i++) {
      if (b.flags[i]! & FLAG_UE) errors.ues++;
      hostsSeen.add(b.host[i]!);
      errors.lastTime = Math.max(errors.lastTime, b.time[i]!);
    }
  }
  errors.hosts = hostsSeen.size;

  const scenario = parseScenario({ ...DEFAULT_SCENARIO, replicates: 1, years: 1, stepsPerYear: 4, fleet: { ...DEFAULT_SCENARIO.fleet, hosts: 12 }, errors: { generate: { mode: 'incident', incident: { perHostYear: 1 } } } });
  const { wallSeconds: _w, hostYearsPerSecond: _h, ...study } = buildReport(await runStudy(scenario, { workers }));

  return { readme, fleet: JSON.parse(JSON.stringify(fleetFigures, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))), errors, study };
}
