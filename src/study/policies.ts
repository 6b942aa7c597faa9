// The recovery policies a study compares. Each entry says how a host runs under the policy
// (memfd flags of the VMs' guest memory, host options); the rest of the study is the same
// for every policy, so a new policy is one more entry.
import { withThpBacking, type HostSpec, type Policy } from '../fleet/shard.js';

/**
 * What backs the VMs' guest memory: HugeTLB pools, or anonymous THP over the same physical
 * memory. Each backing has its own error-free baseline for the translation cost.
 */
export type Backing = 'hugetlb' | 'thp';

interface StudyPolicy {
  /** Column heading of the report. */
  label: string;
  /** The policy in a word, where columns are narrow (the terminal); a legend gives the label. */
  short: string;
  backing: Backing;
  /** One line on what the kernel does on a UE under this policy. */
  summary: string;
  /** The scenario's host as it runs under this policy. */
  host(spec: HostSpec): HostSpec;
}

function withVmPolicy(spec: HostSpec, policy: Policy): HostSpec {
  return { ...spec, vms: spec.vms.map((vm) => ({ ...vm, policy })) };
}

/** The policies a study compares, by name: their report label, backing, summary and host. */
export const POLICIES = {
  default: {
    short: 'DEFAULT',
    label: 'DEFAULT (hard offline)',
    backing: 'hugetlb',
    summary: 'the whole hugepage is unmapped from every mapper and leaked at release',
    /** The VMs' memfds without MFD_MF_KEEP_UE_MAPPED. */
    host: (spec) => withVmPolicy(spec, 'default'),
  },
  keep: {
    short: 'KEEP',
    label: 'MFD_MF_KEEP_UE_MAPPED',
    backing: 'hugetlb',
    summary: 'only the poisoned 4 KiB pages are lost; the mapping stays huge; dissolved at release',
    /** The VMs' memfds with MFD_MF_KEEP_UE_MAPPED. */
    host: (spec) => withVmPolicy(spec, 'keep'),
  },
  hgm: {
    short: 'HGM',
    label: 'HGM (split to 4 KiB)',
    backing: 'hugetlb',
    summary: 'every mapping is split to 4 KiB around the poisoned page, which alone is unmapped',
    /** Plain memfds on a host that splits HugeTLB mappings (HGM). */
    host: (spec) => ({ ...withVmPolicy(spec, 'default'), hgm: true }),
  },
  thp: {
    short: 'THP',
    label: 'THP (split to 4 KiB)',
    backing: 'thp',
    summary: 'guest memory is anonymous 2 MiB THP; the folio is split and only the poisoned 4 KiB page unmapped, unless the split fails',
    /** The VMs' memory as anonymous THP. */
    host: (spec) => withThpBacking(spec),
  },
} satisfies Record<string, StudyPolicy>;

/** The policy whose error-free run is the baseline of a backing (no UE, so no policy acts). */
export const BASELINE_POLICY: Record<Backing, keyof typeof POLICIES> = { hugetlb: 'default', thp: 'thp' };

/** A policy's name in scenarios and on the command line. */
export type PolicyName = keyof typeof POLICIES;

/** Every policy name, in the report's default column order. */
export const POLICY_NAMES = Object.keys(POLICIES) as [PolicyName, ...PolicyName[]];
