// Sizes, shifts, flag values and the bit layouts of the kernel's words.

export const PAGE_SHIFT: u32 = 12;
export const PAGE_SIZE: u64 = 4096;
export const HPAGE_2M_SHIFT: u32 = 21;
export const HPAGE_1G_SHIFT: u32 = 30;
/**
 * Frame classes index per-class arrays: 0 = 2 MiB HugeTLB, 1 = 1 GiB HugeTLB, 2 = 2 MiB
 * folios of ordinary memory for anonymous THP.
 */
export const SC_2M: u32 = 0;
export const SC_1G: u32 = 1;
export const SC_THP: u32 = 2;
/** Physical memory of every host starts at 4 GiB (the pools; below is not modelled). */
export const PHYS_BASE: u64 = 0x1_0000_0000;

// uapi
export const MFD_HUGETLB: u32 = 0x4;
export const MFD_NOEXEC_SEAL: u32 = 0x8;
export const MFD_EXEC: u32 = 0x10;
export const MFD_MF_KEEP_UE_MAPPED: u32 = 0x20;
export const MFD_HUGE_SHIFT: u32 = 26;
export const PROT_READ: u32 = 1;
export const PROT_WRITE: u32 = 2;
export const MAP_SHARED: u32 = 0x01;
export const MAP_PRIVATE: u32 = 0x02;
export const MAP_FIXED: u32 = 0x10;
export const MAP_ANONYMOUS: u32 = 0x20;
export const MAP_HUGETLB: u32 = 0x40000;
export const MAP_HUGE_SHIFT: u32 = 26;
export const MADV_HWPOISON: u32 = 100;
export const MADV_SOFT_OFFLINE: u32 = 101;
export const FALLOC_FL_KEEP_SIZE: u32 = 0x1;
export const FALLOC_FL_PUNCH_HOLE: u32 = 0x2;

export const BUS_ADRERR: u32 = 2;
export const BUS_MCEERR_AR: u32 = 4;
export const BUS_MCEERR_AO: u32 = 5;
export const SI_KERNEL: u32 = 0x80;

export const EPERM: i32 = 1;
export const ESRCH: i32 = 3;
export const EIO: i32 = 5;
export const EBADF: i32 = 9;
export const ENOMEM: i32 = 12;
export const EFAULT: i32 = 14;
export const EBUSY: i32 = 16;
export const EEXIST: i32 = 17;
export const ENODEV: i32 = 19;
export const EINVAL: i32 = 22;
export const ENOSPC: i32 = 28;
export const EOPNOTSUPP: i32 = 95;
export const EHWPOISON: i32 = 133;

// x86-64 page-table entry bits. HWPOISON entries are non-present entries carrying a
// software marker (the kernel encodes them as a swap entry of type SWP_HWPOISON).
export const _PAGE_PRESENT: u64 = 1 << 0;
export const _PAGE_RW: u64 = 1 << 1;
export const _PAGE_USER: u64 = 1 << 2;
export const _PAGE_PSE: u64 = 1 << 7;
export const _PAGE_SWP_HWPOISON: u64 = 1 << 9;
/**
 * A software-available bit (ignored by the MMU) that marks a present leaf whose folio has
 * poisoned raw pages (KEEP), so the access path checks the poison bitmap only there.
 */
export const _PAGE_SIM_POISONED: u64 = 1 << 10;
export const PTE_ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;

// Folio state word: low 3 bits the state, bit 3 HWPOISON (some raw page poisoned).
export const F_STATE_MASK: u32 = 7;
export const F_FREE: u32 = 1;
export const F_FILE: u32 = 2;
export const F_ANON: u32 = 3;
export const F_LEAKED: u32 = 4;
export const F_DISSOLVED: u32 = 5;
export const F_HWPOISON: u32 = 8;
/** A THP folio whose mapping was split to 4 KiB PTEs. */
export const F_THP_SPLIT: u32 = 16;

// Page-cache slot values (index -> folio): a folio is stored as local frame + 1.
export const SLOT_EMPTY: u32 = 0;
export const SLOT_RESERVED: u32 = 0xffff_ffff;

// Log record types in the outbox (formatted into kernel log lines by the host).
export const OUT_SIGNAL: u32 = 1;
export const OUT_KILLED: u32 = 2;
export const LOG_MCE_USER: u32 = 10;
export const LOG_INJECT: u32 = 11;
export const LOG_PANIC: u32 = 12;
export const LOG_SENDING: u32 = 14;
export const LOG_RECOVERY: u32 = 15;
export const LOG_NOT_RECOVERED: u32 = 16;
/** x86 do_sigbus: a fault on a HWPOISON entry kills (signals) the task. */
export const LOG_KILLING: u32 = 17;
/** KEEP v3: the release of a kept hugepage drops more references than it holds. */
export const LOG_REFCOUNT_UNDERFLOW: u32 = 18;
export const OUT_WORK: u32 = 20;

// action_page_types and action results, as in mm/memory-failure.c
export const MF_MSG_HUGE: u32 = 0;
export const MF_MSG_FREE_HUGE: u32 = 1;
export const MF_MSG_BUDDY: u32 = 2;
export const MF_MSG_DIRTY_LRU: u32 = 3;
export const MF_MSG_UNSPLIT_THP: u32 = 4;
export const MF_MSG_GET_HWPOISON: u32 = 5;
/** Logged but never counted (the Aug 2025 "redundant updates for already poisoned pages" fix). */
export const MF_MSG_ALREADY_POISONED: u32 = 6;
export const MF_IGNORED: u32 = 0;
export const MF_FAILED: u32 = 1;
export const MF_DELAYED: u32 = 2;
export const MF_RECOVERED: u32 = 3;
