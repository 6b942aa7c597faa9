// Which kernel behaviour a run simulates, for reports to state next to their figures: the
// MFD_MF_KEEP_UE_MAPPED version and the generation of the kernel's log lines and counters.

/**
 * 'intended': the behaviour the series' author stated in the v3 review thread ("handle new
 * error as a first-time poisoned in-use hugetlb page ... report MF_MSG_HUGE +
 * MF_RECOVERED"); no code with it has been posted. 'v3': the code as posted (Feb 2026),
 * defects included.
 */
export type KeepVersion = 'intended' | 'v3';
/** What callers may pass: 'v4' is accepted as an alias of 'intended' (no v4 was posted). */
export type KeepVersionOption = KeepVersion | 'v4';

/** Every KEEP version option Host.create accepts. */
export const KEEP_VERSIONS: readonly KeepVersionOption[] = ['intended', 'v3', 'v4'];

const KEEP_VERSION_TEXT: Record<KeepVersion, string> = {
  intended: 'intended behaviour (not posted code)',
  v3: 'v3 as posted (Feb 2026), defects included',
};

/** The log-line and counter generation the kernel model follows. */
export const LOG_LINES = {
  generation: 'upstream 2026',
  text:
    'an already-poisoned page logs "recovery action for already poisoned page: Failed" and is not counted ' +
    '(Aug 2025 fix; older kernels logged "already hardware poisoned"); a new raw page of an already-poisoned ' +
    'hugepage is "huge page: Failed", counted (Jan 2026 hugetlb mf_stats fix); x86 do_sigbus logs ' +
    '"MCE: Killing <comm>:<pid> due to hardware memory corruption fault at <addr>"',
} as const;

/** The kernel behaviour a run simulated, as reports state it. */
export interface KernelBehaviour {
  keepVersion: KeepVersion;
  /** The KEEP version in words ("intended behaviour (not posted code)" for the default). */
  keepVersionText: string;
  logLines: typeof LOG_LINES;
}

/** The KEEP version an option names ('v4' is 'intended'); undefined is the default, 'intended'. */
export function keepVersionOf(option: KeepVersionOption | undefined): KeepVersion {
  return option === 'v3' ? 'v3' : 'intended';
}

/** The kernel behaviour a KEEP version option selects, with its description for reports. */
export function kernelBehaviour(option?: KeepVersionOption): KernelBehaviour {
  const keepVersion = keepVersionOf(option);
  return { keepVersion, keepVersionText: KEEP_VERSION_TEXT[keepVersion], logLines: LOG_LINES };
}
