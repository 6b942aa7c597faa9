// Configuration of the error-stream generators. Every estimate of the model ([E] in the spec
// and in docs/error-streams.md) is a parameter here, with its default.
import { z } from 'zod';

const range = (lo: number, hi: number) =>
  z
    .tuple([z.number(), z.number()])
    .default([lo, hi])
    .refine(([a, b]) => a <= b, { message: 'a range must be [low, high] with low <= high' });

export const TopologySchema = z.object({
  sockets: z.number().int().min(1).default(2),
  channelsPerSocket: z.number().int().min(1).default(4),
  dimmsPerChannel: z.number().int().min(1).default(2),
  ranksPerDimm: z.union([z.literal(1), z.literal(2), z.literal(4)]).default(2),
  /** DIMM capacity; with 16 banks and 8 KiB rank rows it fixes the rows per bank (a power of two). */
  dimmGiB: z.number().positive().default(32),
  /** chipkill: 18 x4 devices per rank; secded: 9 x8 devices per rank. */
  ecc: z.enum(['chipkill', 'secded']).default('chipkill'),
});

export const MappingSchema = z.object({
  /** linear interleave, or the same with XOR-hashed bank and channel bits. */
  kind: z.enum(['linear', 'xor']).default('linear'),
  /** Bytes sent to one channel before moving to the next (64 B .. 8 KiB, a power of two). */
  channelInterleaveBytes: z.number().int().default(256),
});

export const DramModelSchema = z.object({
  /** Global multiplier on the FIT table. [E] */
  fitScale: z.number().nonnegative().default(1),
  /** Sigma of the log-normal per-DIMM frailty (mean 1). [E] */
  frailtySigma: z.number().nonnegative().default(1.5),
  /** Fault-rate multiplier reached after the age onset. [E] */
  ageFactor: z.number().positive().default(2),
  /** The age onset is uniform in this range of months. [E] */
  ageOnsetMonths: range(10, 18),
  /** Months over which the rate ramps from 1 to ageFactor after the onset. [E] */
  ageRampMonths: z.number().nonnegative().default(6),
  /**
   * DIMM age at the start of the stream, uniform in this range of months (a mixed-age fleet).
   * Faults from before the start are drawn too: permanent ones still report. [E]
   */
  fleetAgeMonths: range(0, 24),
  /** Host CPU utilisation, uniform in this range. [E] */
  utilisation: range(0.2, 0.8),
  /** util factor = 1 + weight * ln(u / mean u), clipped to utilisationClip. [E] */
  utilisationWeight: z.number().default(0.5),
  utilisationClip: range(0.5, 3),
  /** Correlated channel/controller events per host-year. [E] */
  channelEventsPerHostYear: z.number().nonnegative().default(0.002),
  /** Lines poisoned per DIMM of the channel by one channel event (log-uniform). [E] */
  channelEventLinesPerDimm: range(1, 64),
  /** Share of permanent faults that are intermittent (the rest are active). [E] */
  intermittentShare: z.number().min(0).max(1).default(0.7),
  /** Per-read error probability of an intermittent fault, log-uniform in this range. [E] */
  intermittentQ: range(1e-4, 1e-1),
  /** Share of non-bit faults that corrupt several DQ pins of the device (DDR4: >45%). [E] */
  multiBitShare: z.number().min(0).max(1).default(0.45),
  /** A column fault covers 2^k rows, k uniform in this range (clipped to the row bits). [E] */
  columnFaultRowBits: range(8, 17),
  /** Row, bank and multi-bank faults cover 2^k columns, k uniform in this range (<= 30% of a row). [E] */
  faultColumnBits: range(3, 8),
});

export const ReportingSchema = z.object({
  /** Patrol-scrub period: every line is read once per period. */
  scrubHours: z.number().positive().default(24),
  /** Workload reads that reach DRAM, per line per hour, at utilisation factor 1. [E] */
  accessReadsPerLineHour: z.number().nonnegative().default(0.05),
  /**
   * Most errors one fault gets logged per hour: past this, the OS's CMCI-storm handling and
   * the MCA bank's single register drop the rest. [E]
   */
  maxLoggedPerHour: z.number().positive().default(12),
  /** A DIMM is replaced this long after its first UE; its faults stop then. null: never. [E] */
  replaceAfterUeHours: z.number().positive().nullable().default(168),
});

export const IncidentSchema = z.object({
  /** UE incidents per host-year: 0.013 old fleet (Google 2009), 0.002-0.005 modern chipkill DDR4. [E] */
  perHostYear: z.number().nonnegative().default(0.013),
  /** Mixture weights: single page, pages inside one 2 MiB region, over a rank, over a channel. [E] */
  classWeights: z.tuple([z.number(), z.number(), z.number(), z.number()]).default([0.55, 0.2, 0.2, 0.05]),
  /** Mean pages of a 2 MiB-region incident (geometric). [E] */
  regionMeanPages: z.number().min(1).default(4),
  /** Pages of a rank incident, log-uniform. [E] */
  rankPages: range(1e2, 1e4),
  /** Pages of a channel incident, log-uniform. [E] */
  channelPages: range(1e4, 1e6),
  /** Share of pages that are hot: consumed at once and repeatedly. [E] */
  hotShare: z.number().min(0).max(1).default(0.2),
  /** Mean consumptions of a hot page (geometric). [E] */
  hotRepeatsMean: z.number().min(1).default(3),
  /** Mean seconds between consumptions of a hot page. [E] */
  hotGapSeconds: z.number().positive().default(30),
});

export const MAX_YEARS = 100;

export const GeneratorConfigSchema = z.object({
  mode: z.enum(['dram', 'incident']).default('dram'),
  seed: z.number().int().min(0).max(0xffffffff).default(1),
  hosts: z.number().int().min(1).max(0xfffffffe).default(1000),
  /**
   * At most a century: the fault model follows DIMMs through a service life of years, and its
   * per-year counts grow with the span (more host-years: more hosts).
   */
  years: z.number().positive().max(MAX_YEARS, `at most ${MAX_YEARS} years (for more host-years, generate more hosts)`).default(1),
  /** Each host's physical address space starts here (the simulator's HugeTLB pools start at 4 GiB). */
  physBase: z.number().int().nonnegative().default(2 ** 32),
  topology: TopologySchema.prefault({}),
  mapping: MappingSchema.prefault({}),
  dram: DramModelSchema.prefault({}),
  reporting: ReportingSchema.prefault({}),
  incident: IncidentSchema.prefault({}),
});

export type TopologyConfig = z.infer<typeof TopologySchema>;
export type MappingConfig = z.infer<typeof MappingSchema>;
export type DramModelConfig = z.infer<typeof DramModelSchema>;
export type ReportingConfig = z.infer<typeof ReportingSchema>;
export type IncidentConfig = z.infer<typeof IncidentSchema>;
export type GeneratorConfig = z.infer<typeof GeneratorConfigSchema>;
export type GeneratorConfigInput = z.input<typeof GeneratorConfigSchema>;

/** Parses and completes a configuration; throws one readable message listing every problem. */
export function parseGeneratorConfig(input: GeneratorConfigInput = {}): GeneratorConfig {
  const parsed = GeneratorConfigSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`);
    throw new Error(`invalid generator configuration: ${problems.join('; ')}`);
  }
  return parsed.data;
}
