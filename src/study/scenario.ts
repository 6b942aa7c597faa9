// A study scenario: the fleet, its workloads, the error stream, the duration and the policies
// to compare (docs/study.md). Validated with zod; every problem is reported with its JSON
// path and the reason, all at once.
import { readTextFile, resolveBeside } from '#platform/files';
import { z } from 'zod';
import { DEFAULT_COST_SETTINGS, type CostSettings } from '../costs/cost-table.js';
import { GeneratorSettingsSchema, TopologySchema } from '../errors/config.js';
import { HOURS_PER_YEAR } from '../errors/faults.js';
import { childSeed, streamRng } from '../errors/rng.js';
import { makeTopology } from '../errors/topology.js';
import { POLICY_NAMES } from './policies.js';

const GiB = 2 ** 30;
/** The most replicates a study runs: beyond a few dozen, intervals narrow too slowly to pay. */
export const MAX_REPLICATES = 100;
/** The random stream replicate seeds are drawn from (src/errors/rng.ts streams). */
const STREAM_REPLICATE = 0x57d3;
const HUGEPAGE_BYTES = { '2M': 2 ** 21, '1G': 2 ** 30 } as const;

const AccessSchema = z.strictObject({
  /** Share of the VM's memory the guest touches (its working set). */
  workingSet: z.number().gt(0).max(1).default(0.25),
  /** Guest accesses sampled per VM per step: the simulation's access rate. */
  accessesPerStep: z.number().int().nonnegative().default(500),
  /** Share of the working set that is hot. */
  hotFraction: z.number().gt(0).max(1).default(0.1),
  /** Share of the accesses that go to the hot part. */
  hotShare: z.number().min(0).max(1).default(0.9),
  /** Share of stores among the accesses. */
  writeFraction: z.number().min(0).max(1).default(0.3),
});

const WorkloadSchema = z.strictObject({
  name: z.string().min(1),
  vmsPerHost: z.number().int().min(1),
  /** Guest memory of each VM, a multiple of the hugepage size. */
  memoryGiB: z.number().positive(),
  hugepage: z.enum(['2M', '1G']).default('1G'),
  /** The VMM handles SIGBUS (injects an MCE into the guest) or dies of it. */
  handlesSigbus: z.boolean().default(true),
  mceKill: z.enum(['default', 'early', 'late']).default('default'),
  access: AccessSchema.prefault({}),
});

const FleetSchema = z.strictObject({
  hosts: z.number().int().min(1).max(1_000_000),
  /** Each host's DRAM: sockets x channels x DIMMs; the error generator uses the same shape. */
  memory: TopologySchema.strict().prefault({}),
  /** HugeTLB pools per host; they start at 4 GiB of the host's physical address space, 1 GiB pages first. */
  pools: z.strictObject({ '1G': z.number().int().nonnegative().default(0), '2M': z.number().int().nonnegative().default(0) }),
  earlyKill: z.boolean().default(false),
  /** MFD_MF_KEEP_UE_MAPPED as intended (not posted code) or as posted in v3; 'v4' = 'intended'. */
  keepVersion: z.enum(['intended', 'v3', 'v4']).default('intended'),
  /**
   * Under the THP policy: the probability that splitting a poisoned THP fails because the
   * folio is pinned (e.g. guest memory pinned for device passthrough) [E].
   */
  thpSplitFailure: z.number().min(0).max(1).default(0.05),
  /** The hugetlb vmemmap optimisation (HVO) is on: every dissolve re-allocates the hugepage's vmemmap first. */
  hvo: z.boolean().default(DEFAULT_COST_SETTINGS.hvo),
  /** Where the host kernel runs, for the recovery cost model: on bare metal or in a VM. */
  environment: z.enum(['bare-metal', 'vm']).default(DEFAULT_COST_SETTINGS.environment),
});

const ErrorsSchema = z
  .strictObject({
    /** The generator's settings (its profile's parameters filled in); hosts, years, seed and topology come from the scenario. */
    generate: GeneratorSettingsSchema.optional(),
    /** An mfrsim error stream; a relative path is relative to the scenario file. */
    file: z.string().min(1).optional(),
  })
  .refine((e) => (e.generate === undefined) !== (e.file === undefined), 'give exactly one of "generate" (generator settings) or "file" (an mfrsim error stream)');

const TranslationSchema = z.strictObject({
  /** Host walk levels per guest reference (nested paging: 4). */
  nestedLevels: z.number().int().min(0).max(4).default(4),
  cyclesPerWalkRef: z.number().positive().optional(),
  cyclesPerAccess: z.number().positive().optional(),
  pageWalkCache: z.boolean().optional(),
});

const ScenarioSchema = z
  .strictObject({
    name: z.string().min(1).default('study'),
    description: z.string().optional(),
    seed: z.number().int().min(0).max(0xffffffff).default(1),
    /**
     * Independent draws of the error stream and the workloads, each under a seed derived from
     * `seed` (the first is `seed` itself): every figure is reported with its 95% interval.
     */
    replicates: z.number().int().min(1).max(MAX_REPLICATES).default(1),
    years: z.number().positive().max(50),
    stepsPerYear: z.number().int().min(1).max(366).default(12),
    fleet: FleetSchema,
    workloads: z.array(WorkloadSchema).min(1),
    errors: ErrorsSchema,
    translation: TranslationSchema.prefault({}),
    policies: z.array(z.enum(POLICY_NAMES)).min(1).default([...POLICY_NAMES]),
    /** Every VM shuts down at the end (its memfd released): poisoned hugepages are leaked or dissolved. */
    releaseAtEnd: z.boolean().default(true),
  })
  .superRefine((s, ctx) => {
    const problem = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    let hostBytes: number | null = null;
    try {
      hostBytes = makeTopology(s.fleet.memory).hostBytes;
    } catch (err) {
      problem(['fleet', 'memory', 'dimmGiB'], (err as Error).message.replace(/^topology: /, ''));
    }
    const poolBytes = s.fleet.pools['1G'] * HUGEPAGE_BYTES['1G'] + s.fleet.pools['2M'] * HUGEPAGE_BYTES['2M'];
    if (hostBytes !== null && poolBytes > hostBytes) {
      problem(['fleet', 'pools'], `the pools need ${poolBytes / GiB} GiB but a host has ${hostBytes / GiB} GiB of DRAM`);
    }
    const needed = { '1G': 0, '2M': 0 };
    s.workloads.forEach((w, i) => {
      const pages = (w.memoryGiB * GiB) / HUGEPAGE_BYTES[w.hugepage];
      if (!Number.isInteger(pages)) problem(['workloads', i, 'memoryGiB'], `must be a multiple of the hugepage size (${w.hugepage})`);
      needed[w.hugepage] += w.vmsPerHost * Math.ceil(pages);
    });
    for (const size of ['1G', '2M'] as const) {
      if (needed[size] > s.fleet.pools[size]) {
        problem(['workloads'], `the VMs need ${needed[size]} ${size} hugepages per host but fleet.pools.${size} is ${s.fleet.pools[size]}`);
      }
    }
    s.policies.forEach((p, i) => {
      if (s.policies.indexOf(p) !== i) problem(['policies', i], `"${p}" is listed twice`);
    });
    const oneDraw = replicatesProblem(s);
    if (oneDraw) problem(['replicates'], oneDraw);
  });

/** A validated scenario, every default filled in (`parseScenario`, `loadScenario`). */
export type Scenario = z.output<typeof ScenarioSchema>;
/** A scenario as written: any field with a default may be left out (docs/study.md). */
export type ScenarioInput = z.input<typeof ScenarioSchema>;
/** How a workload's VMs touch their memory. */
export type AccessModel = Scenario['workloads'][number]['access'];

/** A scenario that failed validation: `problems` are "path: reason" lines. */
export class ScenarioError extends Error {
  constructor(readonly source: string, readonly problems: string[]) {
    super(`${source}: invalid scenario:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ScenarioError';
  }
}

/** A JSON path as people write it: fleet.pools.1G, workloads[1].access.hotShare. */
function jsonPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `${out ? '.' : ''}${String(key)}`;
  return out || '(root)';
}

/** Validates and completes a scenario; `source` names it in error messages. */
export function parseScenario(input: unknown, source = 'scenario'): Scenario {
  const parsed = ScenarioSchema.safeParse(input);
  if (!parsed.success) {
    const reason = (message: string) => message.replace(/^Invalid input: expected (\w+), received undefined$/, 'required ($1)');
    throw new ScenarioError(source, parsed.error.issues.map((i) => `${jsonPath(i.path)}: ${reason(i.message)}`));
  }
  return parsed.data;
}

/** Reads a scenario file; a relative error-stream path is resolved against the file's folder. */
export async function loadScenario(path: string): Promise<Scenario> {
  let doc: unknown;
  try {
    doc = JSON.parse(await readTextFile(path));
  } catch (err) {
    throw new ScenarioError(path, [`(file): ${err instanceof Error ? err.message : String(err)}`]);
  }
  const scenario = parseScenario(doc, path);
  if (scenario.errors.file !== undefined) scenario.errors.file = resolveBeside(path, scenario.errors.file);
  return scenario;
}

/** The recovery cost model's settings of the scenario's hosts. */
export function costSettingsOf(s: Scenario): CostSettings {
  return { hvo: s.fleet.hvo, environment: s.fleet.environment };
}

/** Simulated steps in the study, and the seconds each covers. */
export function studySteps(s: Scenario): { steps: number; stepSeconds: number } {
  const steps = Math.max(1, Math.round(s.years * s.stepsPerYear));
  return { steps, stepSeconds: (s.years * HOURS_PER_YEAR * 3600) / steps };
}

/**
 * Why the scenario cannot run its replicates, or null: a stream file is one draw of the
 * errors, so replicates would differ in their workloads only and understate the spread.
 */
export function replicatesProblem(s: Pick<Scenario, 'replicates' | 'errors'>): string | null {
  return s.replicates > 1 && s.errors.file !== undefined && s.errors.generate === undefined
    ? `${s.replicates} replicates need a generated error stream ("errors.generate"): a stream file is one draw of the errors`
    : null;
}

/** The seed of replicate r (0-based): the scenario's own seed first, then seeds derived from it. */
export function replicateSeed(s: Pick<Scenario, 'seed'>, r: number): number {
  return r === 0 ? s.seed : childSeed(streamRng(s.seed, STREAM_REPLICATE, r));
}
