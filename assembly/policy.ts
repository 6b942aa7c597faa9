// Which recovery policy a folio follows: the memfd's MFD_MF_KEEP_UE_MAPPED bit first, then
// the host's HGM option for HugeTLB files; private (anonymous) hugetlb folios are always
// DEFAULT; THP folios have their own path (POLICY_THP).

import { fileHost, fileKeep } from './files';
import { HF_HGM, hostFlags } from './pool';

export const POLICY_DEFAULT: u32 = 0;
export const POLICY_KEEP: u32 = 1;
export const POLICY_HGM: u32 = 2;
/** A recovery event on memory no process maps (a free or dissolved hugepage). */
export const POLICY_NONE: u32 = 3;
/** An anonymous THP folio (split to 4 KiB on a memory failure). */
export const POLICY_THP: u32 = 4;

export function file_policy(f: u32): u32 {
  if (fileKeep(f)) return POLICY_KEEP;
  return (hostFlags(fileHost(f)) & HF_HGM) != 0 ? POLICY_HGM : POLICY_DEFAULT;
}
