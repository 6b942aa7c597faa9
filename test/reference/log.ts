// The kernel log lines of docs/semantics.md, "Kernel log lines". pfn = raw 4 KiB frame.
import { hex } from './layout.js';

export type RecoveryTarget = 'huge page' | 'free huge page' | 'free buddy page' | 'dirty LRU page' | 'unsplit thp';
export type RecoveryResult = 'Recovered' | 'Failed' | 'Ignored';

export const logLine = {
  userAccessMce: (phys: number) => `mce: Uncorrected hardware memory error in user-access at ${hex(phys)}`,
  injecting: (pfn: number, vaddr: number) =>
    `Injecting memory failure for pfn 0x${hex(pfn)} at process virtual address 0x${hex(vaddr)}`,
  panic: (pfn: number) => `Kernel panic - not syncing: Memory failure on page ${hex(pfn)}`,
  alreadyPoisoned: (pfn: number) => `Memory failure: 0x${hex(pfn)}: already hardware poisoned`,
  sendingSigbus: (pfn: number, comm: string, pid: number) =>
    `Memory failure: 0x${hex(pfn)}: Sending SIGBUS to ${comm}:${pid} due to hardware memory corruption`,
  recoveryAction: (pfn: number, target: RecoveryTarget, result: RecoveryResult) =>
    `Memory failure: 0x${hex(pfn)}: recovery action for ${target}: ${result}`,
  notRecovered: () => 'mce: Memory error not recovered',
};
