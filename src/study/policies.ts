// The recovery policies a study compares. Each entry says how a host runs under the policy
// (memfd flags of the VMs' guest memory, host options); the rest of the study is the same
// for every policy, so a new policy (THP, once the kernel models it) is one more entry.
import type { HostSpec, Policy } from '../fleet.js';

interface StudyPolicy {
  /** Column heading of the report. */
  label: string;
  /** One line on what the kernel does on a UE under this policy. */
  summary: string;
  /** The scenario's host as it runs under this policy. */
  host(spec: HostSpec): HostSpec;
}

function withVmPolicy(spec: HostSpec, policy: Policy): HostSpec {
  return { ...spec, vms: spec.vms.map((vm) => ({ ...vm, policy })) };
}

export const POLICIES = {
  default: {
    label: 'DEFAULT (hard offline)',
    summary: 'the whole hugepage is unmapped from every mapper and leaked at release',
    host: (spec) => withVmPolicy(spec, 'default'),
  },
  keep: {
    label: 'MFD_MF_KEEP_UE_MAPPED',
    summary: 'only the poisoned 4 KiB pages are lost; the mapping stays huge; dissolved at release',
    host: (spec) => withVmPolicy(spec, 'keep'),
  },
  hgm: {
    label: 'HGM (split to 4 KiB)',
    summary: 'every mapping is split to 4 KiB around the poisoned page, which alone is unmapped',
    host: (spec) => ({ ...withVmPolicy(spec, 'default'), hgm: true }),
  },
} satisfies Record<string, StudyPolicy>;

export type PolicyName = keyof typeof POLICIES;

export const POLICY_NAMES = Object.keys(POLICIES) as [PolicyName, ...PolicyName[]];
