// Sizes and fixed addresses of the simulated x86-64 host (docs/semantics.md, "Host and
// physical layout" and "mmap").
import type { HugepageSize } from '../../src/host/types.js';

export const PAGE_SIZE = 4096;
export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

export const HUGE_SIZES: readonly HugepageSize[] = ['1G', '2M'];

/** log2 of the hugepage size: the si_addr_lsb reported under DEFAULT. */
export const HUGE_SHIFT: Readonly<Record<HugepageSize, number>> = { '2M': 21, '1G': 30 };

export const HUGE_BYTES: Readonly<Record<HugepageSize, number>> = { '2M': 2 * MiB, '1G': GiB };

/** The 1 GiB pool starts at 4 GiB; the 2 MiB pool follows it. */
export const PHYS_BASE = 4 * GiB;

/** Where top-down mmap placement starts in every new process. */
export const MMAP_BASE = 0x7f00_0000_0000;

/** The highest user address + 1 (x86-64, 4-level paging: TASK_SIZE_MAX). */
export const TASK_SIZE = 0x7fff_ffff_f000;

export function sizeOfShift(shift: number): HugepageSize | undefined {
  if (shift === 21) return '2M';
  if (shift === 30) return '1G';
  return undefined;
}

export function alignDown(x: number, align: number): number {
  return x - (x % align);
}

export function alignUp(x: number, align: number): number {
  const rem = x % align;
  return rem === 0 ? x : x + (align - rem);
}

export function hex(x: number): string {
  return x.toString(16);
}
