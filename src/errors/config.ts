// Configuration of the error-stream generators. Every estimate of the model ([E] in
// docs/error-streams.md) is a parameter here, with its default; a named profile
// (profiles.ts) sets the parameters its publications calibrate, and what a user gives wins.
import { z } from 'zod';
import { DEFAULT_PROFILE, ERROR_PROFILES, PROFILE_NAMES, type ProfileName } from './profiles.js';

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
  /**
   * Shape of a gamma-distributed per-host frailty (mean 1) shared by the host's DIMMs and
   * channels: platform and board effects, which make errors cluster on some machines (a
   * small shape: most hosts nearly error-free, a minority prone). null: none. [E]
   */
  hostFrailtyShape: z.number().positive().nullable().default(null),
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
  /**
   * Permanent memory-channel faults per host-year: one data lane of a channel fails for a
   * share of its columns on every DIMM of the channel (correctable; the errors of a failing
   * channel or controller, Meza et al. DSN 2015). [E]
   */
  channelFaultsPerHostYear: z.number().nonnegative().default(0),
  /** A channel fault covers 2^k columns of every row, k uniform in this range. [E] */
  channelFaultColumnBits: range(3, 10),
  /** Share of permanent faults that are intermittent (the rest are active). [E] */
  intermittentShare: z.number().min(0).max(1).default(0.7),
  /** Per-read error probability of an intermittent fault, log-uniform in this range. [E] */
  intermittentQ: range(1e-4, 1e-1),
  /**
   * Share of the faults that affect more than one bit (every mode but single-bit); the FIT
   * table's modes are re-weighted to it. null: the table's own (SC12: 50.4%). Beigi et al.,
   * HPCA 2023, reported ">45%" for DDR4 and revised it down in their 2024 corrigendum
   * (docs/error-streams.md, "Multi-bit faults").
   */
  multiBitShare: z.number().min(0).max(1).nullable().default(null),
  /**
   * Share of the faults other than single-bit and word faults whose errors span several DQ
   * pins of the device: what decides SECDED's UEs and weakened ECC's. No field study we
   * could read gives it. [E]
   */
  multiPinShare: z.number().min(0).max(1).default(0.5),
  /**
   * Weakened ECC: share of the single-device faults spanning several DQ pins that the
   * platform's ECC cannot correct (0: full chipkill). Li et al., SC 2022 (ByteDance): on
   * recent Intel server platforms the ECC cannot correct some single-chip error-bit
   * patterns. [E]
   */
  weakenedEccShare: z.number().min(0).max(1).default(0),
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

/** The longest stream the generator accepts, in years. */
export const MAX_YEARS = 100;

const GeneratorObject = z.object({
  mode: z.enum(['dram', 'incident']).default('dram'),
  /** The error-rate profile: its publications set the model's calibrated parameters. */
  profile: z.enum(PROFILE_NAMES).default(DEFAULT_PROFILE),
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

type Json = Record<string, unknown>;

/** `over` laid on `base`, objects merged key by key (arrays and values replaced). */
export function deepMerge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b) ? deepMerge(b as Json, v as Json) : v;
  }
  return out;
}

/** The profile's parameters under what the input gives (an unknown profile is left to the schema to report). */
function withProfile(input: unknown): unknown {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return input;
  const name = (input as Json).profile ?? DEFAULT_PROFILE;
  if (typeof name !== 'string' || !Object.hasOwn(ERROR_PROFILES, name)) return input;
  return deepMerge(ERROR_PROFILES[name as ProfileName].params as Json, input as Json);
}

export const GeneratorConfigSchema = z.preprocess(withProfile, GeneratorObject);

/** The generator settings a study scenario gives: the fleet's shape, seed and duration come from the scenario. */
export const GeneratorSettingsSchema = z.preprocess(
  withProfile,
  GeneratorObject.omit({ seed: true, hosts: true, years: true, topology: true, physBase: true }).strict(),
);

export type TopologyConfig = z.infer<typeof TopologySchema>;
export type MappingConfig = z.infer<typeof MappingSchema>;
export type DramModelConfig = z.infer<typeof DramModelSchema>;
export type ReportingConfig = z.infer<typeof ReportingSchema>;
export type IncidentConfig = z.infer<typeof IncidentSchema>;
/** The error generator's settings, every default filled in (`parseGeneratorConfig`). */
export type GeneratorConfig = z.infer<typeof GeneratorObject>;
/** The error generator's settings as given: any field may be left to its default. */
export type GeneratorConfigInput = z.input<typeof GeneratorObject>;

/** Parses and completes a configuration; throws one readable message listing every problem. */
export function parseGeneratorConfig(input: GeneratorConfigInput = {}): GeneratorConfig {
  const parsed = GeneratorConfigSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`);
    throw new Error(`invalid generator configuration: ${problems.join('; ')}`);
  }
  return parsed.data;
}
