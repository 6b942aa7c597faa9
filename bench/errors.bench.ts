// Error-stream throughput: fault arrivals and footprints in DIMM-years per second (one core;
// target >= 1e6, FaultSim's anchor 2e5 module-years/s), and error records per second, generated
// and written to mfrsim's binary format (target >= 1e7/s for writing). Medians of tinybench samples.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';
import { ErrorBatchBuilder, type ErrorBatch } from '../src/errors/batch.js';
import { parseGeneratorConfig } from '../src/errors/config.js';
import { DimmArrivals, HOURS_PER_YEAR, type Fault } from '../src/errors/faults.js';
import { encodeRecords, RECORD_BYTES, STREAM_GENERATED, writeErrorStream } from '../src/errors/format.js';
import { generateErrorBatches, tallyFleet } from '../src/errors/generator.js';
import { streamRng } from '../src/errors/rng.js';
import { makeTopology } from '../src/errors/topology.js';

const ARRIVAL_DIMMS = 200_000; // DIMM-years per sample (1-year DIMMs)
const COUNT_FLEET = { hosts: 10_000, years: 1, seed: 11 }; // 160,000 DIMM-years
const RECORD_FLEET = { hosts: 40, years: 1, seed: 7 };
const BATCH = 65_536;
const FILE_BATCHES = 16;

/** A batch of plausible generated records, to time the writer alone. */
function sampleBatch(): ErrorBatch {
  const b = new ErrorBatchBuilder(BATCH);
  const rng = streamRng(99);
  for (let i = 0; i < BATCH; i++) b.push(i * 10.5, i >> 12, 2 ** 32 + (rng.next() >>> 6) * 64, i & 3, i % 7, i & 15, i >> 4, 1);
  return b.take();
}

export async function benchErrors(): Promise<Record<string, unknown>> {
  const config = parseGeneratorConfig({});
  const topology = makeTopology(config.topology);
  const arrivals = new DimmArrivals(topology, config.dram);
  const faults: Fault[] = [];
  const rng = streamRng(1, 2, 3);
  let generatedRecords = 0;
  for (const b of generateErrorBatches(RECORD_FLEET)) generatedRecords += b.length;
  const batch = sampleBatch();
  const encoded = new Uint8Array(BATCH * RECORD_BYTES);
  const dir = mkdtempSync(join(tmpdir(), 'mfrsim-errors-bench-'));
  const header = { flags: STREAM_GENERATED, hostCount: 1, seed: 0, physBase: 2 ** 32, spanSeconds: 0 };
  let file = 0;

  const bench = new Bench({ time: 1500, warmupTime: 300 });
  bench
    .add('fault arrivals + footprints', () => {
      for (let d = 0; d < ARRIVAL_DIMMS; d++) {
        faults.length = 0;
        arrivals.sample(rng, d & 15, HOURS_PER_YEAR, 1, faults);
      }
    })
    .add('fleet counting (arrivals, ECC, report counts, calibration tally)', () => {
      tallyFleet(COUNT_FLEET);
    })
    .add('record generation (faults -> sorted records)', () => {
      for (const b of generateErrorBatches(RECORD_FLEET)) void b;
    })
    .add('binary encoding into a preallocated buffer', () => {
      encodeRecords(batch, encoded);
    })
    .add('binary stream written to a file', async () => {
      await writeErrorStream(join(dir, `w${file++ % 4}.bin`), header, Array.from({ length: FILE_BATCHES }, () => batch));
    });
  try {
    await bench.run();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const medianSeconds = (name: string): number => {
    const r = bench.getTask(name)!.result;
    if (r.state !== 'completed') throw new Error(`bench task "${name}" ended ${r.state}`);
    return r.latency.p50 / 1000;
  };
  const countDimmYears = COUNT_FLEET.hosts * topology.dimmsPerHost * COUNT_FLEET.years;
  return {
    arrivalsDimmYearsPerSec: ARRIVAL_DIMMS / medianSeconds('fault arrivals + footprints'),
    fleetCountingDimmYearsPerSec: countDimmYears / medianSeconds('fleet counting (arrivals, ECC, report counts, calibration tally)'),
    generatedErrorsPerSec: generatedRecords / medianSeconds('record generation (faults -> sorted records)'),
    encodedErrorsPerSec: BATCH / medianSeconds('binary encoding into a preallocated buffer'),
    fileWrittenErrorsPerSec: (BATCH * FILE_BATCHES) / medianSeconds('binary stream written to a file'),
    targets: { dimmYearsPerSec: 1e6, writtenErrorsPerSec: 1e7 },
    anchors: { faultSimModuleYearsPerSec: 2e5 },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify(await benchErrors(), null, 2));
}
