// The fleet description of `mfrsim replay --fleet` (docs/formats.md): `hosts` copies of
// `host`, poisoned and driven by a workload; validated with zod.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';

const region = z.object({
  address: z.number().int().nonnegative().optional(),
  length: z.number().int().positive(),
  hugepage: z.enum(['2M', '1G']),
  policy: z.enum(['default', 'keep', 'thp']),
  shared: z.boolean().optional(),
});
const vm = z.object({
  memory: z.number().int().positive().optional(),
  hugepage: z.enum(['2M', '1G']).optional(),
  policy: z.enum(['default', 'keep', 'thp']).optional(),
  regions: z.array(region).optional(),
  handlesSigbus: z.boolean().optional(),
  mceKill: z.enum(['default', 'early', 'late']).optional(),
}).refine((v) => v.regions !== undefined || v.memory !== undefined, 'a VM needs memory or regions');
const host = z.object({
  hugepages: z.object({ '2M': z.number().int().nonnegative().optional(), '1G': z.number().int().nonnegative().optional() }),
  vms: z.array(vm),
  keepVersion: z.enum(['v3', 'v4']).optional(),
  earlyKill: z.boolean().optional(),
  hgm: z.boolean().optional(),
  thpPages: z.number().int().nonnegative().optional(),
  thpSplitFailure: z.number().min(0).max(1).optional(),
});
/** A fleet description: `hosts` copies of `host`, poisoned and driven by a workload. */
const fleetSchema = z.object({
  hosts: z.number().int().positive(),
  host,
  seed: z.number().int().optional(),
  poison: z.object({ fraction: z.number().min(0).max(1) }).optional(),
  workload: z.object({
    pattern: z.enum(['random', 'sequential', 'poisoned']),
    accessesPerHost: z.number().int().nonnegative(),
    writeFraction: z.number().min(0).max(1).optional(),
  }).optional(),
});

/** Reads and validates a fleet description; errors name the file and the JSON path. */
export async function loadFleet(path: string): Promise<z.infer<typeof fleetSchema>> {
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const parsed = fleetSchema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${path}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}
