// The scenario `mfrsim study` runs without input: a cloud region of 1 GiB-HugeTLB VMs over
// three years, drawn eight times (docs/study.md says what it does and does not model). Sized
// so that its headline differences are resolved (their 95% intervals exclude 0) and
// `npm start` still finishes within two minutes on two cores.
import type { ScenarioInput } from './scenario.js';

/** The embedded default scenario: 8 replicates of 250 hosts of 1 GiB-HugeTLB VMs over three years. */
export const DEFAULT_SCENARIO: ScenarioInput = {
  name: 'cloud-region-1g',
  description:
    'Eight independent draws of 250 hosts with 128 GiB of chipkill DDR4 (16 x 8 GiB DIMMs), 120 GiB of it a 1 GiB HugeTLB pool, ' +
    'each running three 32 GiB VMs whose VMM handles SIGBUS and one 16 GiB VM whose VMM does not, ' +
    'for three years of the incident model\'s UEs (0.013 per host-year), sampled monthly.',
  seed: 7,
  replicates: 8,
  years: 3,
  stepsPerYear: 12,
  fleet: {
    hosts: 250,
    memory: { sockets: 2, channelsPerSocket: 4, dimmsPerChannel: 2, ranksPerDimm: 2, dimmGiB: 8, ecc: 'chipkill' },
    pools: { '1G': 120 },
    hvo: true,
    environment: 'bare-metal',
  },
  workloads: [
    {
      name: 'general-purpose',
      vmsPerHost: 3,
      memoryGiB: 32,
      hugepage: '1G',
      handlesSigbus: true,
      access: { workingSet: 0.25, accessesPerStep: 200, hotFraction: 0.1, hotShare: 0.9, writeFraction: 0.3 },
    },
    {
      name: 'no-sigbus-handler',
      vmsPerHost: 1,
      memoryGiB: 16,
      hugepage: '1G',
      handlesSigbus: false,
      access: { workingSet: 0.5, accessesPerStep: 200, hotFraction: 0.1, hotShare: 0.9, writeFraction: 0.3 },
    },
  ],
  errors: { generate: { mode: 'incident' } },
  translation: { nestedLevels: 4 },
  policies: ['default', 'keep', 'hgm', 'thp'],
  releaseAtEnd: true,
};
