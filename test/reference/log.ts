// The kernel log lines of docs/semantics.md, "Kernel log lines". pfn = raw 4 KiB frame.
import { hex } from './layout.js';

export type RecoveryTarget =
  | 'huge page'
  | 'free huge page'
  | 'free buddy page'
  | 'dirty LRU page'
  | 'unsplit thp'
  | 'get hwpoison page'
  | 'already poisoned page';
export type RecoveryResult = 'Recovered' | 'Failed' | 'Ignored';

export const logLine = {
  userAccessMce: (phys: number) => `mce: Uncorrected hardware memory error in user-access at ${hex(phys)}`,
  injecting: (pfn: number, vaddr: number) =>
    `Injecting memory failure for pfn 0x${hex(pfn)} at process virtual address 0x${hex(vaddr)}`,
  panic: (pfn: number) => `Kernel panic - not syncing: Memory failure on page ${hex(pfn)}`,
  sendingSigbus: (pfn: number, comm: string, pid: number) =>
    `Memory failure: 0x${hex(pfn)}: Sending SIGBUS to ${comm}:${pid} due to hardware memory corruption`,
  recoveryAction: (pfn: number, target: RecoveryTarget, result: RecoveryResult) =>
    `Memory failure: 0x${hex(pfn)}: recovery action for ${target}: ${result}`,
  notRecovered: () => 'mce: Memory error not recovered',
  killing: (comm: string, pid: number, vaddr: number) =>
    `MCE: Killing ${comm}:${pid} due to hardware memory corruption fault at ${hex(vaddr)}`,
  badPageState: (comm: string, pfn: number) => `BUG: Bad page state in process ${comm}  pfn:${hex(pfn).padStart(5, '0')}`,
};
