// A fleet description (`mfrsim replay --fleet FILE`, docs/formats.md): `hosts` copies of
// `host`, poisoned and driven by a synthetic workload. Validated strictly: an unknown key (a
// typo such as `poisson`) is an error naming its JSON path, never silently ignored.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';

const region = z.strictObject({
  address: z.number().int().nonnegative().optional(),
  length: z.number().int().positive(),
  hugepage: z.enum(['2M', '1G']),
  policy: z.enum(['default', 'keep', 'thp']),
  shared: z.boolean().optional(),
});
const vm = z
  .strictObject({
    memory: z.number().int().positive().optional(),
    hugepage: z.enum(['2M', '1G']).optional(),
    policy: z.enum(['default', 'keep', 'thp']).optional(),
    regions: z.array(region).optional(),
    handlesSigbus: z.boolean().optional(),
    mceKill: z.enum(['default', 'early', 'late']).optional(),
    kvmGuest: z.boolean().optional(),
  })
  .refine((v) => v.regions !== undefined || v.memory !== undefined, 'a VM needs memory or regions');
const host = z.strictObject({
  hugepages: z.strictObject({ '2M': z.number().int().nonnegative().optional(), '1G': z.number().int().nonnegative().optional() }),
  vms: z.array(vm),
  keepVersion: z.enum(['intended', 'v3', 'v4']).optional(),
  earlyKill: z.boolean().optional(),
  hgm: z.boolean().optional(),
  thpPages: z.number().int().nonnegative().optional(),
  thpSplitFailure: z.number().min(0).max(1).optional(),
  hvo: z.boolean().optional(),
  environment: z.enum(['bare-metal', 'vm']).optional(),
});
const fleetSchema = z.strictObject({
  hosts: z.number().int().positive(),
  host,
  seed: z.number().int().min(0).max(0xffffffff).optional(),
  poison: z.strictObject({ fraction: z.number().min(0).max(1) }).optional(),
  workload: z
    .strictObject({
      pattern: z.enum(['random', 'sequential', 'poisoned']),
      accessesPerHost: z.number().int().nonnegative(),
      writeFraction: z.number().min(0).max(1).optional(),
    })
    .optional(),
});

export type FleetDescription = z.infer<typeof fleetSchema>;

/** A fleet file that cannot be used: the file, the JSON path of the problem and why. */
export class FleetDescriptionError extends Error {
  constructor(
    readonly file: string,
    /** e.g. `host.vms[0].memory`; empty for the document as a whole. */
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${file}: ${path ? `${path}: ` : ''}${reason}`);
    this.name = 'FleetDescriptionError';
  }
}

function jsonPath(path: readonly PropertyKey[]): string {
  return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i > 0 ? '.' : ''}${String(key)}`)).join('');
}

/** Validates a parsed fleet document; `file` names it in errors. */
export function parseFleet(document: unknown, file: string): FleetDescription {
  const parsed = fleetSchema.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    // An unknown key: name it, at the path of the object that holds it.
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    const where = keys.length > 0 ? [...issue.path, keys[0]!] : issue.path;
    const reason = keys.length > 0 ? `unknown key${keys.length > 1 ? `s ${keys.join(', ')}` : ''} (not part of a fleet description)` : issue.message;
    throw new FleetDescriptionError(file, jsonPath(where), reason);
  }
  return parsed.data;
}

export async function loadFleet(file: string): Promise<FleetDescription> {
  let document: unknown;
  try {
    document = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    if (err instanceof SyntaxError) throw new FleetDescriptionError(file, '', `invalid JSON: ${err.message}`);
    throw err;
  }
  return parseFleet(document, file);
}
