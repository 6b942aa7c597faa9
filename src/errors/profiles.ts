// Error-rate profiles: a named set of the DRAM model's parameters, the publications they come
// from, and the published figures the calibration report checks the generated stream
// against (docs/error-streams.md, "Profiles"). A profile only sets parameters; anything the
// user gives wins over it.
import type { DramModelConfig, IncidentConfig, ReportingConfig } from './config.js';
import { formatPercent } from '../format/units.js';
import { FIT_MODE_SHARES, FIT_PER_DEVICE, FIT_PERMANENT_SHARE } from './fit.js';


/** The names of the error-rate profiles. */
export const PROFILE_NAMES = ['datacenter-2009', 'jaguar-ddr2'] as const;
/** An error-rate profile's name. */
export type ProfileName = (typeof PROFILE_NAMES)[number];
/** The profile streams are generated from unless another is named. */
export const DEFAULT_PROFILE: ProfileName = 'datacenter-2009';

/** A figure the calibration report measures (calibration.ts). */
export type CalibrationFigure =
  | 'dimmsWithCePerYear'
  | 'hostsWithCePerYear'
  | 'hostsWithUePerYear'
  | 'meanOverMedianErrors'
  | 'top20DimmErrorShare'
  | 'channelErrorShare'
  | 'permanentShare'
  | `mode:${string}`;

/** A published figure a profile is calibrated to: what is measured, its source and the target range. */
export interface CalibrationCheckSpec {
  name: string;
  /** The publication and what it says. */
  source: string;
  figure: CalibrationFigure;
  /** The range the measured value must fall in (shares as fractions). */
  target: readonly [number, number];
  /** The check applies to fleets with this ECC only. */
  ecc?: 'chipkill' | 'secded';
}

/** A named set of the error model's parameters, with the publications they come from and the checks they must pass. */
export interface ErrorProfile {
  name: ProfileName;
  summary: string;
  sources: readonly string[];
  /** Parameters the profile sets (the rest keep the model's defaults). */
  params: {
    dram?: Partial<DramModelConfig>;
    reporting?: Partial<ReportingConfig>;
    incident?: Partial<IncidentConfig>;
  };
  checks: readonly CalibrationCheckSpec[];
}

const SCHROEDER = 'Schroeder, Pinheiro, Weber, "DRAM Errors in the Wild: A Large-Scale Field Study", SIGMETRICS 2009 (Google fleet, 2.5 years)';
const MEZA = 'Meza, Wu, Kumar, Mutlu, "Revisiting Memory Errors in Large-Scale Production Data Centers", DSN 2015 (Facebook fleet, 14 months, DDR3)';
const SC12 = 'Sridharan & Liberty, "A Study of DRAM Failures in the Field", SC 2012 (Jaguar, DDR2; FIT per device by fault mode, as encoded in FaultSim)';

/** SC12's fault-mode shares (fit.ts: bit 49.6%, ..., multi-rank 5.6%; 71% permanent), within 2 points. */
function sc12ModeChecks(): CalibrationCheckSpec[] {
  const round = (x: number) => Math.round(x * 1e4) / 1e4;
  const band = (x: number) => [round(Math.max(0, x - 0.02)), round(x + 0.02)] as const;
  return [
    ...FIT_PER_DEVICE.map((m, i) => ({
      name: `${m.mode} faults (share of faults)`,
      source: `${SC12}: ${formatPercent(FIT_MODE_SHARES[i]!, 1)} of the FIT`,
      figure: `mode:${m.mode}` as const,
      target: band(FIT_MODE_SHARES[i]!),
    })),
    {
      name: 'permanent faults (share of faults)',
      source: `${SC12}: ${formatPercent(FIT_PERMANENT_SHARE, 0)} of the FIT is permanent faults`,
      figure: 'permanentShare',
      target: band(FIT_PERMANENT_SHARE),
    },
  ];
}

/** Every error-rate profile, by name. */
export const ERROR_PROFILES: Record<ProfileName, ErrorProfile> = {
  'datacenter-2009': {
    name: 'datacenter-2009',
    summary:
      'fleet-wide field figures of large datacenter fleets: Google 2009 (DIMMs and machines with errors per year) ' +
      'and Facebook 2015 (heavy tail, channel and controller errors); fault modes from SC12',
    sources: [SCHROEDER, MEZA, SC12],
    params: {
      dram: {
        fitScale: 3.3,
        frailtySigma: 0.3,
        hostFrailtyShape: 0.18,
        intermittentShare: 0.97,
        intermittentQ: [3e-6, 0.1],
        channelEventsPerHostYear: 0.0095,
        channelFaultsPerHostYear: 0.07,
      },
      incident: { perHostYear: 0.013 },
    },
    checks: [
      { name: 'DIMMs with a CE per year', source: `${SCHROEDER}: "more than 8% of DIMMs affected by errors per year"`, figure: 'dimmsWithCePerYear', target: [0.08, 0.09] },
      { name: 'machines with a CE per year', source: `${SCHROEDER}: "about a third of all machines" see a correctable error per year`, figure: 'hostsWithCePerYear', target: [0.3, 0.37] },
      { name: 'machines with a UE per year', source: `${SCHROEDER}: 1.3% of machines per year (chipkill and SECDED platforms together)`, figure: 'hostsWithUePerYear', target: [0.011, 0.015], ecc: 'chipkill' },
      { name: 'errors per machine: mean / median', source: `${MEZA}: the mean exceeds the median "by around 55x" (a heavy-tail statistic: +-30%)`, figure: 'meanOverMedianErrors', target: [38, 72] },
      { name: 'errors from memory-channel and controller faults', source: `${MEZA}: "non-DRAM memory failures from the memory controller and memory channel cause the majority of errors"`, figure: 'channelErrorShare', target: [0.5, 1] },
      { name: 'errors from the top 20% of DIMMs with errors', source: `${SCHROEDER}: "the top 20% of DIMMs with errors make up over 94% of all observed errors"`, figure: 'top20DimmErrorShare', target: [0.94, 1] },
      ...sc12ModeChecks(),
    ],
  },
  'jaguar-ddr2': {
    name: 'jaguar-ddr2',
    summary: 'the Jaguar supercomputer\'s DDR2 FIT table by fault mode (SC12) with the model\'s default estimates: mfrsim\'s default before the fleet-wide profile',
    sources: [SC12],
    // The multi-pin share mfrsim used before the profiles: streams stay byte-identical to its earlier default.
    params: { dram: { multiPinShare: 0.45 } },
    checks: sc12ModeChecks(),
  },
};
