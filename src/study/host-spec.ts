// The host every fleet host boots as in a study: its HugeTLB pools and one VM per
// workload instance, each VM with its access model. Policy-neutral: the policy is laid on
// by src/study/policies.ts.
import type { HostSpec, VmSpec } from '../fleet/shard.js';
import type { AccessModel, Scenario } from './scenario.js';

const GiB = 2 ** 30;

export interface StudyHost {
  host: HostSpec;
  /** The access model of each VM, in host.vms order. */
  access: AccessModel[];
}

export function studyHost(s: Scenario): StudyHost {
  const vms: VmSpec[] = [];
  const access: AccessModel[] = [];
  for (const w of s.workloads) {
    for (let i = 0; i < w.vmsPerHost; i++) {
      // Every VM runs a KVM guest: its sampled accesses come from the guest.
      vms.push({ memory: w.memoryGiB * GiB, hugepage: w.hugepage, policy: 'default', handlesSigbus: w.handlesSigbus, mceKill: w.mceKill, kvmGuest: true });
      access.push(w.access);
    }
  }
  return {
    host: {
      hugepages: { ...s.fleet.pools }, vms, keepVersion: s.fleet.keepVersion, earlyKill: s.fleet.earlyKill,
      thpSplitFailure: s.fleet.thpSplitFailure, hvo: s.fleet.hvo, environment: s.fleet.environment,
    },
    access,
  };
}
