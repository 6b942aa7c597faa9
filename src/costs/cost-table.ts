// The unit costs of the recovery cost model, each with where it comes from: a published
// measurement (patch cover letter or paper, with the figure), a value derived from
// published measurements, or an estimate with its reasoning where nothing is published.
// Two settings of the host change them: the hugetlb vmemmap optimisation (HVO, which makes
// a dissolve re-allocate the hugepage's vmemmap first) and whether the kernel runs on bare
// metal or in a VM (where broadcast TLB-flush IPIs trap to the hypervisor).

import { formatTable } from '../format/table.js';
import { formatDuration, formatNumber } from '../format/units.js';

/** Where the host kernel runs: on bare metal, or in a VM (IPIs for TLB flushes trap to the hypervisor). */
export type Environment = 'bare-metal' | 'vm';

/** The host settings the unit costs depend on. */
export interface CostSettings {
  /** vm.hugetlb_optimize_vmemmap (HVO) on the hosts. */
  hvo: boolean;
  environment: Environment;
}

/** HVO on (cloud hosts enable it for the memory it saves: 16 MiB per 1 GiB hugepage), bare metal. */
export const DEFAULT_COST_SETTINGS: CostSettings = { hvo: true, environment: 'bare-metal' };

/** Nanoseconds per unit of kernel work. */
export interface UnitCosts {
  /** Entering memory_failure(): the mutex, page lookup and flags, counters, the log line. */
  entry: number;
  /** collect_procs walking one task. */
  perTask: number;
  /** One VMA found mapping the page (a victim queued). */
  perVma: number;
  /** One SIGBUS queued and delivered. */
  perSignal: number;
  /** One leaf unmapped or changed, with its TLB shootdown to the mapper's CPUs. */
  perLeaf: number;
  /** KVM zapping the guest's stage-2 mapping of a changed leaf and flushing its vCPUs' TLBs. */
  perStage2Zap: number;
  /** Allocating and filling one page-table page for a split (HGM, THP). */
  perSplitTable: number;
  /** Dissolving a 2 MiB hugepage (vmemmap restored first under HVO) and freeing it to the buddy allocator. */
  dissolve2M: number;
  /** The same for a 1 GiB hugepage. */
  dissolve1G: number;
}

/** The name of one unit cost. */
export type UnitCostKey = keyof UnitCosts;

/** One row of the cost table: a unit cost, its value under the settings, and its source. */
export interface CostEntry {
  key: UnitCostKey;
  /** The kernel work, in words. */
  work: string;
  /** Nanoseconds under the settings, whole. */
  ns: number;
  /** measured: a published figure; derived: computed from published figures; estimate: nothing published. */
  basis: 'measured' | 'derived' | 'estimate';
  /** The publication and its figure, or the estimate's reasoning. */
  source: string;
}

const US = 1e3;

// "[PATCH v7 0/8] Batch hugetlb vmemmap modification operations", Mike Kravetz, linux-mm,
// 6 Oct 2023: `echo 0 > nr_hugepages` freeing all 2 MiB hugepages one by one (unbatched
// kernel next-20230824), HVO off and on. A single dissolve gets no batching gain.
const KRAVETZ = 'Kravetz, "[PATCH v7 0/8] Batch hugetlb vmemmap modification operations", linux-mm, Oct 2023';
const FREE_2M = {
  'bare-metal': { off: (4.477 / 500_000) * 1e9, on: (36.748 / 500_000) * 1e9 },
  vm: { off: (2.931 / 524_288) * 1e9, on: (149.924 / 524_288) * 1e9 },
} as const;
const FREE_2M_FIGURE = {
  'bare-metal': {
    off: 'freeing 500,000 2 MiB hugepages took 4.477 s with HVO off (8-socket Xeon E7-8895, bare metal): 8.95 us each',
    on: 'freeing 500,000 2 MiB hugepages took 36.748 s with HVO on (8-socket Xeon E7-8895, bare metal): 73.5 us each',
  },
  vm: {
    off: 'freeing 524,288 2 MiB hugepages took 2.931 s with HVO off (252-vCPU VM on EPYC 7J13): 5.59 us each',
    on: 'freeing 524,288 2 MiB hugepages took 2 min 29.924 s with HVO on (252-vCPU VM on EPYC 7J13): 286 us each',
  },
} as const;

// "[PATCH v1 0/6] mm/arm64: re-enable HVO", Yu Zhao, linux-mm, 21 Oct 2024: freeing 600
// 1 GiB hugepages with HVO took 0.940 s with the series (0.880 s before it).
const ZHAO = 'Zhao, "[PATCH v1 0/6] mm/arm64: re-enable HVO", linux-mm, Oct 2024';
const FREE_1G_HVO = (0.94 / 600) * 1e9;

/**
 * How much dearer IPI-bound work is in a VM than on bare metal: the HVO surcharge of a
 * 2 MiB free (the cover letter traces it to the broadcast TLB flushes) in the VM over the
 * same on bare metal: (286 - 5.59) / (73.5 - 8.95) = 4.3.
 */
const VM_IPI_FACTOR = (FREE_2M.vm.on - FREE_2M.vm.off) / (FREE_2M['bare-metal'].on - FREE_2M['bare-metal'].off);

const AMIT = 'Amit, "Optimizing the TLB Shootdown Algorithm with Page Access Tracking", USENIX ATC 2017';


/** The cost table under the settings, in the order the model adds it up. */
export function costTable(s: CostSettings): CostEntry[] {
  const vm = s.environment === 'vm';
  const ipi = (ns: number) => (vm ? ns * VM_IPI_FACTOR : ns);
  const inVm = (what: string) => (vm ? `${what}; x${formatNumber(VM_IPI_FACTOR, 2)} in a VM, where IPIs trap to the hypervisor (the HVO surcharge ratio of ${KRAVETZ})` : what);
  const hvo = s.hvo ? 'on' : 'off';
  const free1G: Omit<CostEntry, 'key' | 'work'> = s.hvo
    ? vm
      ? {
          ns: FREE_1G_HVO + (FREE_2M.vm.on - FREE_2M['bare-metal'].on),
          basis: 'derived',
          source: `${ZHAO}: freeing 600 1 GiB hugepages took 0.940 s with HVO (arm64): 1.57 ms each; plus the VM surcharge of the broadcast TLB flushes, ` +
            `one or two per hugepage whatever its size (${KRAVETZ}: 286 - 73.5 us for a 2 MiB free)`,
        }
      : { ns: FREE_1G_HVO, basis: 'measured', source: `${ZHAO}: freeing 600 1 GiB hugepages took 0.940 s with HVO (arm64; no x86 figure found): 1.57 ms each` }
    : {
        ns: FREE_1G_HVO / 2,
        basis: 'estimate',
        source: `no published figure; half the HVO figure (${ZHAO}: 1.57 ms), since restoring the 4,095 vmemmap pages copies as much memory (16 MiB) as ` +
          'tearing down the 262,144 struct pages, which is all that remains without HVO',
      };
  const entries: CostEntry[] = [
    {
      key: 'entry',
      work: 'memory_failure() entry: mf_mutex, get_hwpoison_page, the HWPoison flag and counters, the action_result log line',
      ns: 5 * US,
      basis: 'estimate',
      source: 'no published figure; a few thousand cycles of bookkeeping and one printk to the ring buffer (a slow console is not counted)',
    },
    {
      key: 'perTask',
      work: 'collect_procs: walking one task (for_each_process, task_early_kill)',
      ns: 0.1 * US,
      basis: 'estimate',
      source: 'no published figure; about one cache miss on the task_struct',
    },
    {
      key: 'perVma',
      work: 'collect_procs: one VMA mapping the page (vma_interval_tree, add_to_kill allocating the victim)',
      ns: 0.2 * US,
      basis: 'estimate',
      source: 'no published figure; two cache misses and a GFP_ATOMIC slab allocation',
    },
    {
      key: 'perSignal',
      work: 'kill_proc: one SIGBUS (force_sig_mceerr / send_sig_mceerr) queued and the task woken',
      ns: 2 * US,
      basis: 'estimate',
      source: 'no published figure; a siginfo allocation, the queue and a wake-up IPI',
    },
    {
      key: 'perLeaf',
      work: 'one leaf unmapped or changed (try_to_unmap, a split PTE) with its TLB shootdown',
      ns: ipi(3 * US),
      basis: vm ? 'derived' : 'estimate',
      source: inVm(`no published figure per leaf; ${AMIT}: "TLB shootdown can take microseconds": 3 us for the IPIs to a VMM's vCPU threads`),
    },
    {
      key: 'perStage2Zap',
      work: 'KVM zapping the guest\'s stage-2 entry of a changed leaf (mmu notifier) and kicking every vCPU to flush its TLB',
      ns: ipi(10 * US),
      basis: vm ? 'derived' : 'estimate',
      source: inVm('no published figure; kvm_flush_remote_tlbs sends one IPI and forces one VM exit per vCPU, a few shootdowns\' worth'),
    },
    {
      key: 'perSplitTable',
      work: 'one page-table page for a split (HGM, THP): allocated, zeroed, 512 entries written',
      ns: 1.5 * US,
      basis: 'estimate',
      source: 'no published figure; a page allocation and 8 KiB of writes',
    },
    {
      key: 'dissolve2M',
      work: `dissolving a 2 MiB hugepage (HVO ${hvo}: ${s.hvo ? '7 vmemmap pages re-allocated first, ' : ''}freed to the buddy allocator)`,
      ns: FREE_2M[s.environment][hvo],
      basis: 'measured',
      source: `${KRAVETZ}: ${FREE_2M_FIGURE[s.environment][hvo]}`,
    },
    { key: 'dissolve1G', work: `dissolving a 1 GiB hugepage (HVO ${hvo}${s.hvo ? ': 4,095 vmemmap pages re-allocated first' : ''})`, ...free1G },
  ];
  // Whole nanoseconds: sums of integers do not depend on the order shards are merged in.
  return entries.map((e) => ({ ...e, ns: Math.round(e.ns) }));
}

/** The unit costs under the settings, by name. */
export function unitCosts(s: CostSettings): UnitCosts {
  return Object.fromEntries(costTable(s).map((e) => [e.key, e.ns])) as unknown as UnitCosts;
}

/** vmemmap pages a dissolve re-allocates under HVO (Documentation/admin-guide/sysctl/vm.rst): 7 per 2 MiB, 4,095 per 1 GiB. */
export function vmemmapPages(hugepageShift: number, hvo: boolean): number {
  if (!hvo) return 0;
  // struct page is 64 bytes: a hugepage's vmemmap is 2^(shift - 12) * 64 bytes, all but one page freed.
  return (2 ** (hugepageShift - 12) * 64) / 4096 - 1;
}

/** The table for people: one entry per unit cost with its source. */
export function formatCostTable(s: CostSettings): string {
  const rows = costTable(s).map((e) => [formatDuration(e.ns), `${e.work} [${e.basis}]\n${e.source}`]);
  return [
    `recovery cost table (HVO ${s.hvo ? 'on' : 'off'}, ${s.environment === 'vm' ? 'in a VM' : 'bare metal'})`,
    formatTable([{ header: 'cost', align: 'right' }, { header: 'kernel work [basis], and the source of the figure', wrap: true }], rows, { indent: 2, rule: true }),
  ].join('\n');
}
