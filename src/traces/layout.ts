// The address-space layout of a virtual-address trace: which ranges are backed by which
// HugeTLB memfd (hugepage size, memory-failure policy, shared or private mapping). The default
// backs the trace's touched range with one memfd; a JSON layout file describes anything else.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { HugepageSize } from '../host/types.js';
import { HUGEPAGE_BYTES, type TraceReader } from './types.js';

export { HUGEPAGE_BYTES };

/** `keep`: the memfd is created with MFD_MF_KEEP_UE_MAPPED; `default`: hard-offline. */
export type HugetlbPolicy = 'keep' | 'default';

/** One region of an address layout: a hugepage-aligned range backed by one memfd. */
export interface LayoutRegion {
  /** Names the region in reports. */
  name: string;
  /** First byte address; a multiple of the hugepage size. */
  start: number;
  /** Bytes; a positive multiple of the hugepage size. */
  length: number;
  hugepageSize: HugepageSize;
  policy: HugetlbPolicy;
  sharing: 'shared' | 'private';
}

/** Regions sorted by start, not overlapping. */
export interface AddressLayout {
  regions: LayoutRegion[];
}

/** An invalid layout file: the file, the JSON path of the bad value and the reason. */
export class LayoutError extends Error {
  /**
   * @param file the layout file
   * @param path JSON path of the offending value, e.g. `regions[1].start` (empty for the root)
   * @param reason what is wrong
   */
  constructor(
    readonly file: string,
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${file}: ${path ? `${path}: ` : ''}${reason}`);
    this.name = 'LayoutError';
  }
}

const SIZE_UNITS: Record<string, number> = { K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** A byte count or address: a number, or a string in hex (`0x...`), decimal, or with a K/M/G/T suffix. */
const byteValue = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const parsed = typeof value === 'number' ? value : parseByteString(value);
  if (!Number.isSafeInteger(parsed) || parsed < 0) {
    ctx.addIssue({ code: 'custom', message: `expected a byte count or address (0x..., decimal, or like 2M/1G), got ${JSON.stringify(value)}` });
    return z.NEVER;
  }
  return parsed;
});

function parseByteString(text: string): number {
  const match = /^(?:0x([0-9a-f]+)|(\d+)([KMGT])?)$/i.exec(text.trim());
  if (!match) return NaN;
  if (match[1] !== undefined) return parseInt(match[1], 16);
  return Number(match[2]) * (match[3] ? SIZE_UNITS[match[3].toUpperCase()] : 1);
}

const regionSchema = z
  .strictObject({
    name: z.string().optional(),
    start: byteValue,
    length: byteValue,
    hugepageSize: z.enum(['2M', '1G']),
    policy: z.enum(['keep', 'default']).default('default'),
    sharing: z.enum(['shared', 'private']).default('shared'),
  })
  .superRefine((region, ctx) => {
    const page = HUGEPAGE_BYTES[region.hugepageSize];
    if (region.start % page !== 0) {
      ctx.addIssue({ code: 'custom', path: ['start'], message: `must be a multiple of the hugepage size (${region.hugepageSize})` });
    }
    if (region.length === 0 || region.length % page !== 0) {
      ctx.addIssue({ code: 'custom', path: ['length'], message: `must be a positive multiple of the hugepage size (${region.hugepageSize})` });
    }
    if (region.start + region.length > Number.MAX_SAFE_INTEGER) {
      ctx.addIssue({ code: 'custom', path: ['length'], message: 'region ends above 2^53-1' });
    }
  });

const layoutSchema = z
  .strictObject({ regions: z.array(regionSchema).min(1, 'needs at least one region') })
  .superRefine((layout, ctx) => {
    const order = layout.regions.map((_, i) => i).sort((a, b) => layout.regions[a].start - layout.regions[b].start);
    for (let k = 1; k < order.length; k++) {
      const before = layout.regions[order[k - 1]];
      const after = layout.regions[order[k]];
      if (after.start < before.start + before.length) {
        ctx.addIssue({ code: 'custom', path: ['regions', order[k]], message: `overlaps regions[${order[k - 1]}]` });
      }
    }
  });

/** Validates a parsed layout document; `file` names it in errors. */
export function parseLayout(document: unknown, file: string): AddressLayout {
  const result = layoutSchema.safeParse(document);
  if (!result.success) {
    const issue = result.error.issues[0];
    // An unknown key: name it, at the path of the object that holds it.
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    if (keys.length > 0) throw new LayoutError(file, jsonPath([...issue.path, keys[0]]), 'unknown key (not part of a layout)');
    throw new LayoutError(file, jsonPath(issue.path), issue.message);
  }
  const regions = result.data.regions.map((r, i) => ({ ...r, name: r.name ?? `region${i}` }));
  return { regions: regions.sort((a, b) => a.start - b.start) };
}

/** Reads and validates a layout file (docs/formats.md). */
export async function loadLayout(path: string): Promise<AddressLayout> {
  let document: unknown;
  try {
    document = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    if (err instanceof SyntaxError) throw new LayoutError(path, '', `invalid JSON: ${err.message}`);
    throw err;
  }
  return parseLayout(document, path);
}

function jsonPath(path: readonly PropertyKey[]): string {
  return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i > 0 ? '.' : ''}${String(key)}`)).join('');
}

/** How `touchedLayout` groups a trace's hugepages into regions. */
export interface TouchedLayoutOptions {
  hugepageSize?: HugepageSize;
  policy?: HugetlbPolicy;
  sharing?: 'shared' | 'private';
  /** Runs of touched hugepages at most this many hugepages apart share a region (default 64). */
  gap?: number;
}

/**
 * The hugepages a trace touches (read once), merged into regions: runs of touched hugepages
 * closer than `gap` hugepages share one memfd, so a sparse address space (low code, a high
 * stack) does not back its holes. Defaults: 2M pages, policy `default`, shared.
 */
export async function touchedLayout(trace: TraceReader, options: TouchedLayoutOptions = {}): Promise<AddressLayout> {
  const hugepageSize = options.hugepageSize ?? '2M';
  const H = HUGEPAGE_BYTES[hugepageSize];
  const gap = options.gap ?? 64;
  const touched = new Set<number>();
  for await (const batch of trace) {
    for (let i = 0; i < batch.length; i++) touched.add(Math.floor(batch.addr[i]! / H));
  }
  const pages = [...touched].sort((a, b) => a - b);
  const regions: LayoutRegion[] = [];
  for (let i = 0; i < pages.length; ) {
    let j = i;
    while (j + 1 < pages.length && pages[j + 1]! - pages[j]! <= gap) j++;
    regions.push({
      name: `trace-${regions.length}`,
      start: pages[i]! * H,
      length: (pages[j]! - pages[i]! + 1) * H,
      hugepageSize,
      policy: options.policy ?? 'default',
      sharing: options.sharing ?? 'shared',
    });
    i = j + 1;
  }
  return { regions };
}
