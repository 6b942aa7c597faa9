// A process's page table, modelled only as far as the API can observe it: per hugepage-sized
// slot, the leaf entry (NONE = no entry, PRESENT or HWPOISON) and, for HGM
// (docs/semantics.md, "HGM"), which parts of a present leaf are split into lower tables and
// which 4 KiB PTEs are HWPOISON entries. A split THP folio (docs/semantics.md, "THP") has the
// same shape as a split 2 MiB HGM leaf: one PTE table.
import type { HugepageSize, PageTableLeaf } from '../../src/host/types.js';
import { PAGE_SIZE } from './layout.js';
import type { Hugepage } from './pool.js';

/** Raw 4 KiB pages per 2 MiB region (the entries of one PTE table). */
export const RAW_PER_2M = 512;

/**
 * HGM splits below a present leaf. For a 2 MiB leaf the only region is 0 and its entry here
 * is the PTE table that replaced the PMD leaf. For a 1 GiB leaf the existence of this object
 * is the PMD table that replaced the PUD leaf; each entry is a 2 MiB region of it split
 * further into a PTE table. The sets hold the raw pages (indices in the hugepage) whose PTE
 * is a HWPOISON entry.
 */
export type Split = Map<number, Set<number>>;

/** A leaf entry of the page table (a missing entry is NONE). */
export type Leaf = PresentLeaf | { kind: 'hwpoison' };
export interface PresentLeaf {
  kind: 'present';
  page: Hugepage;
  /** null: the hugepage-sized leaf itself (never split). */
  split: Split | null;
}

export function presentLeaf(page: Hugepage): PresentLeaf {
  return { kind: 'present', page, split: null };
}

/**
 * HGM: splits `leaf` down to the 4 KiB PTE of raw page `raw` (a 1 GiB leaf: PUD -> PMD
 * table, then the 2 MiB region -> PTE table; a 2 MiB leaf: PMD -> PTE table), reusing
 * tables a previous split made, and makes that PTE a HWPOISON entry.
 */
export function splitToRaw(leaf: PresentLeaf, raw: number): void {
  const region = Math.floor(raw / RAW_PER_2M);
  leaf.split ??= new Map();
  let ptes = leaf.split.get(region);
  if (!ptes) {
    ptes = new Set();
    leaf.split.set(region, ptes);
  }
  ptes.add(raw);
}

/**
 * THP: the PMD leaf of a folio becomes a PTE table of 512 PTEs, and the PTEs of the raw
 * pages `raws` become HWPOISON entries.
 */
export function splitPmd(leaf: PresentLeaf, raws: Iterable<number>): void {
  leaf.split = new Map([[0, new Set(raws)]]);
}

/** Whether `leaf` was split into lower tables (by HGM, or a THP split). */
export function isSplit(leaf: Leaf | undefined): boolean {
  return leaf?.kind === 'present' && leaf.split !== null;
}

/** Whether the PTE of raw page `raw` under `leaf` is a HWPOISON entry. */
export function isHwpoisonPte(leaf: PresentLeaf, raw: number): boolean {
  return leaf.split?.get(Math.floor(raw / RAW_PER_2M))?.has(raw) ?? false;
}

/** The lowest raw page in [first, last] whose PTE is a HWPOISON entry, or -1. */
export function firstHwpoisonPte(leaf: PresentLeaf, first: number, last: number): number {
  let hit = -1;
  for (const ptes of leaf.split?.values() ?? []) {
    for (const raw of ptes) if (raw >= first && raw <= last && (hit < 0 || raw < hit)) hit = raw;
  }
  return hit;
}

/** Page-table pages the HGM splits below `leaf` hold (freed when the leaf goes). */
export function tablePages(leaf: Leaf): number {
  if (leaf.kind !== 'present' || !leaf.split) return 0;
  return leaf.split.size + (leaf.page.size === '1G' ? 1 : 0);
}

/** What the MMU ends at for byte `offset` of the hugepage-sized slot holding `leaf`. */
export function leafAt(leaf: Leaf, hsize: HugepageSize, offset: number): PageTableLeaf {
  const huge = hsize === '1G' ? 'pud' : 'pmd';
  if (leaf.kind === 'hwpoison') return { level: huge, hwpoison: true };
  if (!leaf.split) return { level: huge, hwpoison: false };
  const raw = Math.floor(offset / PAGE_SIZE);
  if (leaf.split.has(Math.floor(raw / RAW_PER_2M))) return { level: 'pte', hwpoison: isHwpoisonPte(leaf, raw) };
  // A 2 MiB region of a split 1 GiB leaf that was not split further.
  return { level: 'pmd', hwpoison: false };
}
