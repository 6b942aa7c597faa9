// ECC: decides whether the errors of a fault, or of two faults that meet in one codeword,
// are corrected (CE) or not (UE). Codewords are taken at the granularity of one column beat
// (64 data bits across the rank).
//  - chipkill (x4, single-device correction): any one device's fault is corrected; two faults
//    in different devices that meet in a codeword are not.
//  - SECDED (x8): one wrong bit per word is corrected; a fault with several DQ pins, a
//    multi-rank fault, or two faults adding a second wrong bit to a word are not.
//  - weakened chipkill: some platforms' ECC cannot correct every error-bit pattern of one
//    chip (Li et al., "From correctable memory errors to uncorrectable memory errors: what
//    error bits tell", SC 2022, ByteDance fleet on Intel platforms); a share of the
//    single-device faults spanning several DQ pins is taken as uncorrectable.
import { CAUSE_OVERLAP, makeFault, type Fault } from './faults.js';
import { MODE_MULTI_RANK } from './fit.js';
import { intersectFootprints } from './footprint.js';
import { childSeed, popcount, streamRng, uniform, type Rng } from './rng.js';
import type { Topology } from './topology.js';

/** Random stream 2 of a fault decides whether weakened ECC corrects it. */
const WEAK_ECC_STREAM = 2;

export function singleFaultUncorrectable(f: Fault, t: Topology): boolean {
  if (t.ecc === 'chipkill') return false;
  return popcount(f.dqMask) > 1 || f.cause === MODE_MULTI_RANK;
}

/** Under weakened chipkill: is this correctable single-device fault one the ECC cannot correct? */
export function weakenedEccUncorrectable(f: Fault, t: Topology, share: number): boolean {
  if (t.ecc !== 'chipkill' || share === 0 || popcount(f.dqMask) < 2) return false;
  return uniform(streamRng(f.seed, WEAK_ECC_STREAM)) < share;
}

function pairUncorrectable(a: Fault, b: Fault, t: Topology): boolean {
  if (a.device !== b.device) return true;
  return t.ecc === 'secded' && popcount(a.dqMask | b.dqMask) > 1;
}

/**
 * The UE "faults" born where two faults of one DIMM meet: the shared locations, from the later
 * onset. Both permanent: permanent, failing when both fail (q = qa qb). A transient landing on
 * a permanent fault's locations: one UE per shared line. Two transients never meet in time.
 * `faults` are one DIMM's, sorted by onset; ids are left to the caller.
 */
export function overlapFaults(rng: Rng, faults: readonly Fault[], t: Topology): Fault[] {
  const born: Fault[] = [];
  for (let j = 1; j < faults.length; j++) {
    const later = faults[j];
    for (let i = 0; i < j; i++) {
      const earlier = faults[i];
      if (later.kind === 'transient' && earlier.kind === 'transient') continue;
      if (earlier.kind === 'transient') continue; // corrected or rewritten before `later` arrived
      if (!pairUncorrectable(earlier, later, t)) continue;
      const shared = intersectFootprints(earlier, later);
      if (!shared) continue;
      const q = later.kind === 'transient' ? 1 : earlier.q * later.q;
      born.push(makeFault(shared, {
        id: -1,
        dimm: later.dimm,
        device: -1,
        cause: CAUSE_OVERLAP,
        kind: later.kind === 'transient' ? 'transient' : q < 1 ? 'intermittent' : 'active',
        q,
        onset: later.onset,
        uncorrectable: true,
        seed: childSeed(rng),
      }));
    }
  }
  return born;
}
